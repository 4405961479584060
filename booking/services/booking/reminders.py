"""Reminders before a class's first session, sent once per booking.

Safe to run from cron every few minutes and concurrently: each booking's reminder is
claimed with a conditional UPDATE of `registration.reminder_sent_at` in the same
transaction that writes the outbox row, whose `dedupe_key` ("reminder:<id>") is
unique, so a second run (or a second process) can never queue it again.
"""

from datetime import datetime, timedelta

import sqlalchemy as sa

from booking.db import write_transaction
from booking.extensions import db
from booking.models import OutboxMessage, Registration, Workshop, WorkshopSession, utcnow
from booking.models.registration import CONFIRMED
from booking.models.workshop import PUBLISHED, SCHEDULED
from booking.services.notices.emails import notify_reminder

REMIND_WITHIN = timedelta(hours=48)


def reminder_key(registration_id: int) -> str:
    """The outbox dedupe key of a booking's reminder."""
    return f"reminder:{registration_id}"


def _first_session_start():
    return (
        sa.select(sa.func.min(WorkshopSession.starts_at))
        .where(
            WorkshopSession.workshop_id == Registration.workshop_id,
            WorkshopSession.status == SCHEDULED,
        )
        .correlate(Registration)
        .scalar_subquery()
    )


def due_reminders(now: datetime | None = None) -> list[int]:
    """Ids of confirmed bookings whose class's first session starts within 48 hours,
    has not started, and whose reminder has not been sent."""
    now = now or utcnow()
    first_start = _first_session_start()
    return list(
        db.session.scalars(
            sa.select(Registration.id)
            .join(Workshop, Workshop.id == Registration.workshop_id)
            .where(
                Registration.status == CONFIRMED,
                Registration.reminder_sent_at.is_(None),
                Workshop.status == PUBLISHED,
                first_start > sa.bindparam("now", now, type_=WorkshopSession.starts_at.type),
                first_start
                <= sa.bindparam("until", now + REMIND_WITHIN, type_=WorkshopSession.starts_at.type),
            )
            .order_by(Registration.id)
        )
    )


def remind_one(registration_id: int, now: datetime | None = None) -> bool:
    """Queue one booking's reminder unless it already has one; True if queued."""
    now = now or utcnow()
    try:
        with write_transaction():
            claimed = db.session.execute(
                sa.update(Registration)
                .where(
                    Registration.id == registration_id,
                    Registration.status == CONFIRMED,
                    Registration.reminder_sent_at.is_(None),
                )
                .values(reminder_sent_at=now)
                .execution_options(synchronize_session=False)
            )
            if claimed.rowcount != 1:
                return False
            key = reminder_key(registration_id)
            already = sa.select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)
            if db.session.scalar(already) is not None:
                return False
            registration = db.session.scalars(
                sa.select(Registration)
                .where(Registration.id == registration_id)
                .execution_options(populate_existing=True)
            ).one()
            message = notify_reminder(registration, dedupe_key=key)
            db.session.flush()
            return message is not None
    except sa.exc.IntegrityError:
        # Another run queued this reminder between our check and our insert.
        return False


def send_reminders(now: datetime | None = None) -> int:
    """Queue every due reminder, each in its own short transaction; returns how many."""
    now = now or utcnow()
    ids = due_reminders(now)
    return sum(1 for registration_id in ids if remind_one(registration_id, now))
