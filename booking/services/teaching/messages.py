"""An instructor's message to everyone booked on a class, sent through the outbox."""

import hashlib
import re
import secrets

import sqlalchemy as sa

from booking.db import write_transaction
from booking.extensions import db
from booking.models import OutboxMessage
from booking.models.registration import CONFIRMED, PENDING_PAYMENT, WAITLISTED
from booking.models.workshop import CANCELLED as WORKSHOP_CANCELLED
from booking.services.errors import Conflict, Invalid
from booking.services.notices.emails import notify_instructor_message
from booking.services.schedule import fields as rules
from booking.services.teaching.roster import own_workshop, workshop_registrations

SUBJECT_MAX = 150
BODY_MAX = 5000
# The one-time token of a message form (`new_form_token`): letters, digits, - and _.
_FORM_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


class AlreadySent(Conflict):
    """This very form was sent before (a double tap): nothing is queued again."""


def new_form_token() -> str:
    """A token for one message form, sent back with it, so sending it twice is once."""
    return secrets.token_urlsafe(18)


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
    form_token: str | None = None,
) -> int:
    """Email everyone booked on one of the instructor's workshops, or holding a place
    there while they pay (and, if asked, those waiting) through the outbox: one email
    per parent, however many babies they booked. Returns the number of emails queued.

    `form_token` (`new_form_token`, from the form) makes sending the same form twice
    send once: AlreadySent the second time. A token that is not one is ignored."""
    subject, body = _clean_message(subject, body)
    statuses = (CONFIRMED, PENDING_PAYMENT) + ((WAITLISTED,) if include_waiting else ())
    prefix = None
    if form_token and _FORM_TOKEN.fullmatch(form_token):
        # The words are part of the key: a form sent back with other words (after the
        # browser's Back button) is a new message, not a repeat.
        words = hashlib.sha256(f"{subject}\n{body}\n{include_waiting}".encode()).hexdigest()
        prefix = f"message:{workshop_id}:{form_token}:{words[:16]}"
    try:
        with write_transaction():
            workshop = own_workshop(workshop_id, instructor_id)
            if workshop.status == WORKSHOP_CANCELLED:
                raise Conflict(
                    "This workshop was cancelled; its parents have already been told."
                )
            if prefix and db.session.scalar(
                sa.select(OutboxMessage.id)
                .where(OutboxMessage.dedupe_key.startswith(f"{prefix}:", autoescape=True))
                .limit(1)
            ):
                raise AlreadySent("This message was already sent.")
            registrations = workshop_registrations(workshop.id, statuses)
            queued = notify_instructor_message(workshop, subject, body, registrations, prefix)
    except sa.exc.IntegrityError:
        # The same form, sent at the same moment, queued it first.
        raise AlreadySent("This message was already sent.") from None
    return len(queued)
