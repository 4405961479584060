"""An instructor's message to everyone booked on a class, sent through the outbox."""

from booking.db import write_transaction
from booking.models.registration import CONFIRMED, WAITLISTED
from booking.models.workshop import CANCELLED as WORKSHOP_CANCELLED
from booking.services.errors import Conflict, Invalid
from booking.services.notices.emails import notify_instructor_message
from booking.services.schedule import fields as rules
from booking.services.teaching.roster import own_workshop, workshop_registrations

SUBJECT_MAX = 150
BODY_MAX = 5000


def _clean_message(subject: str | None, body: str | None) -> tuple[str, str]:
    errors = {}
    for name, value, label in (("subject", subject, "The subject"), ("body", body, "The message")):
        try:
            rules.readable(value or "", label=label)
        except rules.FieldError as exc:
            errors[name] = str(exc)
    if errors:
        raise Invalid("The message needs a change.", errors)
    subject = " ".join((subject or "").split())
    body = (body or "").replace("\r\n", "\n").strip()
    errors = {}
    if not subject:
        errors["subject"] = "Enter a subject."
    elif len(subject) > SUBJECT_MAX:
        errors["subject"] = f"Use at most {SUBJECT_MAX} characters."
    if not body:
        errors["body"] = "Enter a message."
    elif len(body) > BODY_MAX:
        errors["body"] = f"Use at most {BODY_MAX} characters."
    if errors:
        raise Invalid("The message needs a subject and a text.", errors)
    return subject, body


def message_workshop(
    workshop_id: int,
    instructor_id: int,
    subject: str,
    body: str,
    include_waiting: bool = False,
) -> int:
    """Email everyone booked on one of the instructor's workshops (and, if asked, those
    waiting) through the outbox: one email per parent, however many babies they
    booked. Returns the number of emails queued."""
    subject, body = _clean_message(subject, body)
    statuses = (CONFIRMED, WAITLISTED) if include_waiting else (CONFIRMED,)
    with write_transaction():
        workshop = own_workshop(workshop_id, instructor_id)
        if workshop.status == WORKSHOP_CANCELLED:
            raise Conflict("This workshop was cancelled; its parents have already been told.")
        registrations = workshop_registrations(workshop.id, statuses)
        queued = notify_instructor_message(workshop, subject, body, registrations)
    return len(queued)
