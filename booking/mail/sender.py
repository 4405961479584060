"""The outbox sender: claim due messages, send them outside any transaction, record it.

Notes written at booking time (`booking.mail.deferred`) are rendered first, each in a
short write of its own; a row is claimed only once it is a whole email.

Two senders running at once never send one message twice: a message is claimed with
a conditional UPDATE (it must still be pending and unclaimed, or its claim expired)
in a short write transaction, and only the sender whose UPDATE changed the row sends
it. A failed send is retried later with a growing delay; the change that queued the
message is never touched by a send failure.
"""

import logging
import os
import re
import socket
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from booking.db import write_transaction
from booking.extensions import db
from booking.mail.deferred import render_notes
from booking.mail.message import Outgoing, build_message
from booking.mail.transport import ConnectionFailure, PermanentFailure, transport_for
from booking.models import OutboxMessage, utcnow
from booking.models.outbox import FAILED, PENDING, REDACTED_SUBJECT, SENT

log = logging.getLogger(__name__)

CLAIM_FOR = timedelta(minutes=5)
MAX_ATTEMPTS = 8
BACKOFF_MINUTES = (1, 5, 15, 60, 180, 360, 720)
MAX_ERROR_LENGTH = 2000
# The largest id a message can have: ids are 32-bit integers on PostgreSQL.
LARGEST_ID = 2**31 - 1
# Links that work without logging in (a password reset, an invitation) carry their
# secret in the path. The database keeps a reset link's secret only as a hash, so once
# the email has gone its copy in the outbox keeps the link without it (and a note's
# params, which held it, are cleared).
SECRET_LINK = re.compile(r"(/password/reset/|/invite/)[A-Za-z0-9_.\-]+")
SECRET_REMOVED = r"\1removed-once-sent"


@dataclass
class SendReport:
    """What one pass of the sender did."""

    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    # The mail server could not be reached (or dropped the connection): what was left
    # of the batch waits for a later pass.
    unreachable: bool = False


def new_worker_id() -> str:
    """A name for one sender, unique across hosts, processes and threads."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the n-th failed attempt: 1, 5, 15, 60 minutes, ..."""
    index = min(max(attempts, 1), len(BACKOFF_MINUTES)) - 1
    return timedelta(minutes=BACKOFF_MINUTES[index])


def _due_clause(now):
    return sa.and_(
        OutboxMessage.status == PENDING,
        OutboxMessage.body_text.is_not(None),  # a note not rendered yet waits for that
        sa.or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
    )


def claim_due(worker: str, batch: int = 50) -> list[Outgoing]:
    """Claim up to `batch` due messages for `worker` and return their contents.

    Each claim is a conditional UPDATE whose row count says whether this worker won
    it; on PostgreSQL the candidates are also picked with FOR UPDATE SKIP LOCKED so
    concurrent senders take different rows instead of queueing on the same ones.
    """
    with write_transaction():
        now = utcnow()
        query = (
            sa.select(OutboxMessage.id)
            .where(_due_clause(now), OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(batch)
        )
        if db.engine.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        claimed = []
        for message_id in db.session.scalars(query).all():
            result = db.session.execute(
                sa.update(OutboxMessage)
                .where(OutboxMessage.id == message_id, _due_clause(now))
                .values(claimed_by=worker, claimed_until=now + CLAIM_FOR)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount == 1:
                claimed.append(message_id)
        if not claimed:
            return []
        rows = db.session.execute(
            sa.select(
                OutboxMessage.id,
                OutboxMessage.recipient,
                OutboxMessage.subject,
                OutboxMessage.body_text,
                OutboxMessage.body_html,
                OutboxMessage.ics,
                OutboxMessage.ics_method,
                OutboxMessage.created_at,
                OutboxMessage.reply_to,
            )
            .where(OutboxMessage.id.in_(claimed))
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        ).all()
    return [Outgoing(**row._asdict()) for row in rows]


def renew_claim(message_id: int, worker: str) -> bool:
    """Hold one claimed message for another CLAIM_FOR just before it is sent, so a
    slow batch never outlives its claims; False when the claim was lost (it ran out
    and another sender took the message, or sent it)."""
    with write_transaction():
        result = db.session.execute(
            sa.update(OutboxMessage)
            .where(
                OutboxMessage.id == message_id,
                OutboxMessage.status == PENDING,
                OutboxMessage.claimed_by == worker,
            )
            .values(claimed_until=utcnow() + CLAIM_FOR)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1


def record_sent(message_id: int, item: Outgoing | None = None) -> None:
    """Mark a message sent and release its claim. With the message's content (`item`),
    the secret of each link in it that works without logging in is removed from the
    stored copy (`SECRET_LINK`)."""
    with write_transaction():
        db.session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.status == PENDING)
            .values(
                status=SENT,
                sent_at=utcnow(),
                attempts=OutboxMessage.attempts + 1,
                claimed_by=None,
                claimed_until=None,
                last_error="",
                **(_without_secret_links(item) if item is not None else {}),
            )
            .execution_options(synchronize_session=False)
        )


def _without_secret_links(item: Outgoing) -> dict:
    """The columns to change so that a sent message keeps no secret link: none when it
    has none."""
    text = SECRET_LINK.sub(SECRET_REMOVED, item.body_text)
    html = SECRET_LINK.sub(SECRET_REMOVED, item.body_html or "")
    if text == item.body_text and html == (item.body_html or ""):
        return {}
    return {"body_text": text, "body_html": html, "params": sa.null()}


def record_failure(
    message_id: int, error: str, permanent: bool = False, *, worker: str | None = None
) -> str:
    """Count a failed attempt, release the claim and schedule a retry with backoff;
    after MAX_ATTEMPTS (or a permanent refusal) the message is failed. Returns the
    message's new status. With `worker`, only while that sender still holds it (a
    claim that ran out belongs to whoever took the message since)."""
    with write_transaction():
        query = sa.select(OutboxMessage.attempts).where(
            OutboxMessage.id == message_id, OutboxMessage.status == PENDING
        )
        if worker is not None:
            query = query.where(OutboxMessage.claimed_by == worker)
        if db.engine.dialect.name == "postgresql":
            query = query.with_for_update()
        attempts = db.session.scalar(query)
        if attempts is None:
            return SENT
        attempts += 1
        status = FAILED if permanent or attempts >= MAX_ATTEMPTS else PENDING
        db.session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .values(
                attempts=attempts,
                status=status,
                last_error=error[:MAX_ERROR_LENGTH],
                next_attempt_at=utcnow() + retry_delay(attempts),
                claimed_by=None,
                claimed_until=None,
            )
            .execution_options(synchronize_session=False)
        )
    return status


@dataclass
class Failed:
    """A message failed for good, as `outbox retry-failed` lists it (never its recipient)."""

    id: int
    created_at: object
    subject: str
    last_error: str
    queued: bool = False


def requeue_failed(
    ids: tuple[int, ...] = (), since=None, dry_run: bool = False
) -> tuple[list[Failed], list[int]]:
    """Queue failed messages again, each with a fresh set of attempts: those named by
    `ids`, else those created at or after `since`. Returns the failed messages found
    (each marked whether it was queued: not when `dry_run`, nor when a sender or another
    run changed it meanwhile) and the `ids` asked for that are not failed messages
    (one too large to be any message's among them).
    Each is put back with a conditional UPDATE (it must still be failed), so two runs
    at once queue it once."""
    query = sa.select(
        OutboxMessage.id, OutboxMessage.created_at, OutboxMessage.subject,
        OutboxMessage.last_error,
    ).where(
        OutboxMessage.status == FAILED,
        OutboxMessage.subject != REDACTED_SUBJECT,  # its content is gone: nothing to send
    )
    if ids:
        query = query.where(OutboxMessage.id.in_([i for i in ids if 0 < i <= LARGEST_ID]))
    elif since is not None:
        query = query.where(OutboxMessage.created_at >= since)
    found = [Failed(*row) for row in db.session.execute(query.order_by(OutboxMessage.id))]
    missing = sorted(set(ids) - {message.id for message in found})
    if dry_run or not found:
        return found, missing
    with write_transaction():
        now = utcnow()
        for message in found:
            result = db.session.execute(
                sa.update(OutboxMessage)
                .where(OutboxMessage.id == message.id, OutboxMessage.status == FAILED)
                .values(status=PENDING, attempts=0, next_attempt_at=now,
                        claimed_by=None, claimed_until=None)
                .execution_options(synchronize_session=False)
            )
            message.queued = result.rowcount == 1
    return found, missing


def _count(report: SendReport, status: str) -> None:
    if status == FAILED:
        report.failed += 1
    elif status == PENDING:
        report.retrying += 1


def send_pending(batch: int = 50, worker: str | None = None) -> SendReport:
    """Claim one batch of due messages and deliver it (SMTP or .eml files).

    Sending happens outside any database transaction. When the mail server cannot
    be reached, the rest of the batch is put back with a retry delay rather than
    each message waiting for its own connection timeout.
    """
    worker = worker or new_worker_id()
    config = current_app.config
    render_notes()  # the notes written at booking time become whole emails first
    items = claim_due(worker, batch)
    report = SendReport(claimed=len(items))
    if not items:
        return report
    sender = config["MAIL_DEFAULT_SENDER"]
    with transport_for(config) as transport:
        for index, item in enumerate(items):
            if not renew_claim(item.id, worker):
                report.claimed -= 1  # another sender has it now
                continue
            try:
                transport.send(build_message(item, sender), item)
            except ConnectionFailure as exc:
                error = f"could not reach the mail server: {exc}"
                log.warning("outbox: %s", error)
                report.errors.append(error)
                report.unreachable = True
                for rest in items[index:]:
                    _count(report, record_failure(rest.id, error, worker=worker))
                break
            except PermanentFailure as exc:
                log.warning("outbox: message %s refused for good: %s", item.id, exc)
                report.errors.append(str(exc))
                _count(report, record_failure(item.id, str(exc), permanent=True, worker=worker))
            except Exception as exc:  # noqa: BLE001 - any failure is retried later
                error = f"{type(exc).__name__}: {exc}"
                log.warning("outbox: message %s not sent: %s", item.id, error)
                report.errors.append(error)
                _count(report, record_failure(item.id, error, worker=worker))
            else:
                record_sent(item.id, item)
                report.sent += 1
    return report


def send_all_due(batch: int = 50, worker: str | None = None) -> SendReport:
    """Send batches until nothing due is left; return the totals."""
    worker = worker or new_worker_id()
    total = SendReport()
    while True:
        report = send_pending(batch, worker)
        total.claimed += report.claimed
        total.sent += report.sent
        total.retrying += report.retrying
        total.failed += report.failed
        total.errors.extend(report.errors)
        total.unreachable = total.unreachable or report.unreachable
        if report.claimed < batch or report.sent == 0:
            return total
