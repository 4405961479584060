"""Emails written as a note of what happened, rendered after the change committed.

A booking must not hold its locks while an email and its calendar invite are rendered:
the use case writes a compact outbox row instead (`queue_note`: the recipient, a
`kind` such as "booking_confirmed", the id of what it is about and any `params` that
could change later), in its own transaction, so the email still exists if and only if
the booking committed. `render_notes` (run by the sender before it claims anything)
turns each note into the whole email from the data as it is then, in a short write of
its own; the sender never claims a row that is not rendered yet.

The renderers are registered by the services that know the data (`@renderer(kind)`),
so this layer reads nothing itself. A renderer answering None means there is nothing
to send any more (the booking or the account is gone): the note is deleted.
"""

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import timedelta

import sqlalchemy as sa

from booking.db import in_write_transaction, write_transaction
from booking.extensions import db
from booking.models import OutboxMessage, utcnow
from booking.models.outbox import FAILED, PENDING

log = logging.getLogger(__name__)


@dataclass
class Rendered:
    """A note's email, rendered: what `fill_email` writes into an outbox row."""

    subject: str = ""
    body_text: str = ""
    body_html: str = ""
    ics: str | None = None
    ics_method: str | None = None
    reply_to: str | None = None

    def columns(self) -> dict:
        """The outbox row's columns this fills, by name."""
        return asdict(self)


RENDER_RETRY = timedelta(minutes=5)  # times the attempts made: 5, 10, 15 ... minutes
MAX_RENDER_ATTEMPTS = 8

Renderer = Callable[[int, dict], Rendered | None]
_RENDERERS: dict[str, Renderer] = {}


def renderer(kind: str) -> Callable[[Renderer], Renderer]:
    """Register `render(ref_id, params)` for the notes of one kind."""

    def register(render: Renderer) -> Renderer:
        _RENDERERS[kind] = render
        return render

    return register


def _note_columns(recipient: str, kind: str, ref_id: int, params: dict | None) -> dict:
    """The columns of a note's outbox row (the others take their defaults)."""
    if kind not in _RENDERERS:
        raise LookupError(f"no renderer for {kind!r} emails")
    return {
        "recipient": recipient.strip(),
        "subject": "",
        "body_text": None,
        "body_html": "",
        "kind": kind,
        "ref_id": ref_id,
        "params": params or None,
    }


def queue_note(recipient: str, kind: str, ref_id: int, params: dict | None = None):
    """Add a note to the caller's transaction: an email of `kind` about `ref_id`, to be
    rendered once the transaction has committed. Nothing is rendered here."""
    message = OutboxMessage(**_note_columns(recipient, kind, ref_id, params))
    db.session.add(message)
    return message


_INSERT_NOTE = OutboxMessage.__table__.insert()


def write_note(recipient: str, kind: str, ref_id: int, params: dict | None = None) -> None:
    """`queue_note` for a caller that needs no object back: the row is written at once
    by a plain INSERT in the caller's transaction (so it exists if and only if that
    commits), without the session's flush of one more object (a booking's lock is held
    meanwhile)."""
    db.session.connection().execute(
        _INSERT_NOTE, _note_columns(recipient, kind, ref_id, params)
    )


def _unrendered(batch: int) -> list:
    """The notes due to be rendered, oldest first (one that failed waits its turn): id,
    kind, ref_id and params of each, in one query."""
    return list(
        db.session.execute(
            sa.select(OutboxMessage.id, OutboxMessage.kind, OutboxMessage.ref_id,
                      OutboxMessage.params)
            .where(
                OutboxMessage.status == PENDING,
                OutboxMessage.body_text.is_(None),
                OutboxMessage.kind.is_not(None),
                OutboxMessage.next_attempt_at <= utcnow(),
            )
            .order_by(OutboxMessage.id)
            .limit(batch)
        )
    )


def _render_failed(message_id: int, error: str) -> None:
    """Count a failed render: the note waits RENDER_RETRY times its attempts before the
    next, and after MAX_RENDER_ATTEMPTS it is failed (and counted among the failed
    emails in /metrics); each failure is logged with the note's id and kind."""
    with write_transaction():
        unrendered = sa.and_(OutboxMessage.id == message_id, OutboxMessage.body_text.is_(None))
        attempts = db.session.scalar(sa.select(OutboxMessage.attempts).where(unrendered))
        if attempts is None:
            return  # rendered (or dropped) by another sender meanwhile
        attempts += 1
        db.session.execute(
            sa.update(OutboxMessage)
            .where(unrendered)
            .values(
                attempts=attempts,
                next_attempt_at=utcnow() + RENDER_RETRY * attempts,
                status=FAILED if attempts >= MAX_RENDER_ATTEMPTS else PENDING,
                last_error=error[:2000],
            )
            .execution_options(synchronize_session=False)
        )


def render_notes(batch: int = 200) -> int:
    """Render the notes waiting (up to `batch`), oldest first; how many were rendered
    (or deleted, having nothing left to say). Each is read outside any write
    transaction and stored by a conditional UPDATE, so two senders rendering the same
    note at once store it once. A renderer that fails leaves its note to be tried again
    later (see `_render_failed`), and the others go on."""
    if in_write_transaction():
        raise RuntimeError("notes are rendered after the change that wrote them commits")
    done = 0
    for note in _unrendered(batch):
        message_id = note.id
        render = _RENDERERS.get(note.kind)
        if render is None:
            log.error("outbox: no renderer for %s (message %s)", note.kind, message_id)
            _render_failed(message_id, f"no renderer for {note.kind!r}")
            continue
        try:
            rendered = render(note.ref_id, dict(note.params or {}))
        except Exception as exc:  # one bad note must not stop the others, nor the sender
            log.exception("outbox: message %s (%s) could not be rendered", message_id, note.kind)
            db.session.rollback()
            _render_failed(message_id, f"rendering failed: {type(exc).__name__}: {exc}")
            continue
        unrendered = sa.and_(OutboxMessage.id == message_id, OutboxMessage.body_text.is_(None))
        with write_transaction():
            if rendered is None:
                db.session.execute(
                    sa.delete(OutboxMessage)
                    .where(unrendered)
                    .execution_options(synchronize_session=False)
                )
            else:
                db.session.execute(
                    sa.update(OutboxMessage)
                    .where(unrendered)
                    .values(**rendered.columns())
                    .execution_options(synchronize_session=False)
                )
        done += 1
    return done
