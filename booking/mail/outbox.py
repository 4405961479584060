"""Writing emails into the outbox, inside the caller's transaction."""

from flask import current_app, render_template

from booking.extensions import db
from booking.models import OutboxMessage


def absolute_url(path: str) -> str:
    """A link for emails and feeds, built from BASE_URL."""
    return current_app.config["BASE_URL"] + path


SUBJECT_MAX = 300


def clean_subject(subject: str) -> str:
    """One line (no header injection), and short enough for the outbox column."""
    subject = " ".join(str(subject).split())
    if len(subject) > SUBJECT_MAX:
        subject = subject[: SUBJECT_MAX - 1].rstrip() + "\u2026"
    return subject


def queue_email(
    recipient: str,
    template: str,
    subject: str,
    *,
    ics: str | None = None,
    ics_method: str | None = None,
    dedupe_key: str | None = None,
    **context,
) -> OutboxMessage:
    """Render `email/<template>.txt` and `.html` and add an outbox row to the session.

    Nothing is sent and nothing is committed here: the row is part of the caller's
    transaction, so the email exists if and only if the change that caused it does.
    """
    subject = clean_subject(subject)
    context.setdefault("base_url", current_app.config["BASE_URL"])
    context["subject"] = subject
    message = OutboxMessage(
        recipient=recipient.strip(),
        subject=subject,
        body_text=render_template(f"email/{template}.txt", **context),
        body_html=render_template(f"email/{template}.html", **context),
        ics=ics,
        ics_method=ics_method,
        dedupe_key=dedupe_key,
    )
    db.session.add(message)
    return message
