"""Writing emails into the outbox, inside the caller's transaction."""

from email.utils import parseaddr

from flask import current_app, render_template

from booking.extensions import db
from booking.models import Centre, OutboxMessage


def absolute_url(path: str) -> str:
    """A link for emails and feeds, built from BASE_URL."""
    return current_app.config["BASE_URL"] + path


SUBJECT_MAX = 300
NO_REPLY_NOTE = "Please do not reply to this email: replies to it are not read."


def clean_subject(subject: str) -> str:
    """One line (no header injection), and short enough for the outbox column."""
    subject = " ".join(str(subject).split())
    if len(subject) > SUBJECT_MAX:
        subject = subject[: SUBJECT_MAX - 1].rstrip() + "\u2026"
    return subject


def reply_address(centre: Centre | None) -> str | None:
    """The centre's contact email as a Reply-To address: one plain address, or None
    when the centre has none (its emails then ask people not to reply)."""
    address = (centre.contact_email or "").strip() if centre is not None else ""
    if not address or len(address) > 254 or any(c.isspace() or c in ",;<>" for c in address):
        return None
    return address if parseaddr(address)[1] == address and "@" in address else None


def reply_note(centre: Centre | None) -> str:
    """The footer line saying where a reply goes; agrees with the Reply-To header."""
    if centre is None:
        return NO_REPLY_NOTE
    if reply_address(centre):
        return f"Reply to this email to reach {centre.name}."
    phone = (centre.contact_phone or "").strip()
    contact = f"call {centre.name} on {phone}" if phone else f"contact {centre.name}"
    return f"{NO_REPLY_NOTE} To ask something, {contact}."


def queue_email(
    recipient: str,
    template: str,
    subject: str,
    *,
    centre: Centre | None = None,
    ics: str | None = None,
    ics_method: str | None = None,
    dedupe_key: str | None = None,
    **context,
) -> OutboxMessage:
    """Render `email/<template>.txt` and `.html` and add an outbox row to the session.

    `centre` is the centre of the class the email is about: replies go to its contact
    email (Reply-To, stored on the row) and the footer says so. Account emails pass
    none and say that replies are not read.

    Nothing is sent and nothing is committed here: the row is part of the caller's
    transaction, so the email exists if and only if the change that caused it does.
    """
    message = OutboxMessage(recipient=recipient.strip(), dedupe_key=dedupe_key)
    fill_email(message, template, subject, centre=centre, ics=ics, ics_method=ics_method,
               **context)
    db.session.add(message)
    return message


def queue_rendered(person, rendered) -> OutboxMessage | None:
    """Add an email already rendered (`fill_email` into a `deferred.Rendered`) to the
    caller's transaction, addressed to `person`; None stays None (nothing to send)."""
    if rendered is None:
        return None
    message = OutboxMessage(recipient=person.email.strip(), **rendered.columns())
    db.session.add(message)
    return message


def fill_email(
    message,
    template: str,
    subject: str,
    *,
    centre: Centre | None = None,
    ics: str | None = None,
    ics_method: str | None = None,
    **context,
):
    """Render `email/<template>.txt` and `.html` into an outbox row, or into a note's
    `deferred.Rendered`: subject, bodies, Reply-To and invite."""
    subject = clean_subject(subject)
    context.setdefault("base_url", current_app.config["BASE_URL"])
    context["subject"] = subject
    context["reply_to"] = reply_address(centre)
    context["reply_note"] = reply_note(centre)
    message.reply_to = context["reply_to"]
    message.subject = subject
    message.body_text = render_template(f"email/{template}.txt", **context)
    message.body_html = render_template(f"email/{template}.html", **context)
    message.ics = ics
    message.ics_method = ics_method
    return message
