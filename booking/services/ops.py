"""What an operator asks of a running site: is it ready to serve (`/readyz`), and how
long is the email queue (`/metrics`). Every answer is a few tiny indexed queries, so
both can be polled every few seconds; none reads anything about a person."""

import ast
import glob
import os
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import sqlalchemy as sa

from booking.extensions import db
from booking.models import OutboxMessage, Refund, Registration
from booking.models.base import utcnow
from booking.models.outbox import FAILED, PENDING
from booking.models.payment import REFUND_PENDING
from booking.models.registration import PENDING_PAYMENT
from booking.services.payments import gateway

UNREACHABLE = "the database did not answer"


@lru_cache(maxsize=4)
def migration_heads(directory: str) -> frozenset[str]:
    """The head revisions of the migrations in `directory`: those no other migration
    revises (read once per process).

    Read from each script's `revision` and `down_revision` assignments rather than
    through Alembic, so that serving pages never loads it (about 11 MB a worker).
    """
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in glob.glob(os.path.join(directory, "versions", "*.py")):
        with open(path, encoding="utf-8") as fh:
            module = ast.parse(fh.read(), path)
        names = {}
        for node in module.body:
            target = node.targets[0] if isinstance(node, ast.Assign) else getattr(
                node, "target", None
            )
            if isinstance(target, ast.Name) and getattr(node, "value", None) is not None:
                names[target.id] = node.value
        if "revision" not in names:
            continue
        revisions.add(ast.literal_eval(names["revision"]))
        down = ast.literal_eval(names["down_revision"]) if "down_revision" in names else None
        revised.update([down] if isinstance(down, str) else down or ())
    return frozenset(revisions - revised)


def _age(since: datetime | None, now: datetime) -> int:
    return max(0, int((now - since).total_seconds())) if since else 0


def _database() -> dict:
    db.session.execute(sa.text("SELECT 1"))
    return {"ok": True}


def _migrations(directory: str) -> dict:
    expected = migration_heads(directory)
    found = frozenset(db.session.scalars(sa.text("SELECT version_num FROM alembic_version")))
    return {"ok": found == expected, "expected": sorted(expected), "found": sorted(found)}


def _outbox(now: datetime, max_age: int) -> dict:
    """The oldest email due to be sent must have waited less than `max_age` seconds (a
    message waiting to be retried later is not due yet)."""
    oldest = db.session.scalar(
        sa.select(sa.func.min(OutboxMessage.next_attempt_at)).where(
            OutboxMessage.status == PENDING, OutboxMessage.next_attempt_at <= now
        )
    )
    age = _age(oldest, now)
    return {"ok": age < max_age, "oldest_due_seconds": age}


def _payments(now: datetime, max_age: int) -> dict:
    """The payment worker's oldest due job (a hold past its deadline, or a refund to
    carry out while online payment is on) must have waited less than `max_age` seconds."""
    due = [
        db.session.scalar(
            sa.select(sa.func.min(Registration.hold_expires_at)).where(
                Registration.status == PENDING_PAYMENT, Registration.hold_expires_at <= now
            )
        )
    ]
    if gateway.enabled():
        due.append(
            db.session.scalar(
                sa.select(sa.func.min(Refund.due_at)).where(
                    Refund.status == REFUND_PENDING, Refund.due_at <= now
                )
            )
        )
    age = max(_age(when, now) for when in due)
    return {"ok": age < max_age, "oldest_due_seconds": age}


def _run(check, *args) -> dict:
    """A check's answer; a failed query is a failed check, named by its kind of error
    (never its message, which could hold connection details)."""
    try:
        return check(*args)
    except sa.exc.SQLAlchemyError as exc:
        try:
            db.session.rollback()
        except sa.exc.SQLAlchemyError:
            pass
        return {"ok": False, "error": type(exc).__name__}


def readiness(migrations_dir: str, max_age_seconds: int) -> dict[str, dict]:
    """Each readiness check by name, each with `ok` and what it measured: the database
    answers, its schema is at the migrations' head, and neither the email worker nor the
    payment worker has left a due job waiting `max_age_seconds` or longer."""
    now = utcnow()
    checks = {"database": _run(_database)}
    if not checks["database"]["ok"]:
        failed = {"ok": False, "error": UNREACHABLE}
        return checks | {"migrations": failed, "outbox": failed, "payments": failed}
    checks["migrations"] = _run(_migrations, migrations_dir)
    checks["outbox"] = _run(_outbox, now, max_age_seconds)
    checks["payments"] = _run(_payments, now, max_age_seconds)
    db.session.rollback()  # end the read: nothing is kept open between polls
    return checks


@dataclass(frozen=True)
class OutboxBacklog:
    """The email queue at one moment: unsent messages, the oldest one's age in seconds,
    and the messages given up on (failed for good)."""

    pending: int
    oldest_pending_seconds: int
    failed: int


def outbox_backlog() -> OutboxBacklog | None:
    """The email queue now (two indexed queries); None when the database does not answer
    (the metrics page still shows the request figures)."""
    try:
        return _outbox_backlog()
    except sa.exc.SQLAlchemyError:
        try:
            db.session.rollback()
        except sa.exc.SQLAlchemyError:
            pass
        return None


def _outbox_backlog() -> OutboxBacklog:
    now = utcnow()
    pending, oldest = db.session.execute(
        sa.select(sa.func.count(OutboxMessage.id), sa.func.min(OutboxMessage.created_at)).where(
            OutboxMessage.status == PENDING
        )
    ).one()
    failed = db.session.scalar(
        sa.select(sa.func.count(OutboxMessage.id)).where(OutboxMessage.status == FAILED)
    )
    db.session.rollback()
    return OutboxBacklog(pending=pending, oldest_pending_seconds=_age(oldest, now), failed=failed)
