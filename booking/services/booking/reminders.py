"""Reminders before each session, each sent once (a make-up session too).

The first reminder (when and where, what to bring, the doll days) is sent once per
booking, about the first session the family will come to: the class's first, unless
they have said they will miss it. Each later session gets a short reminder of its own
within 48 hours of its start, unless the family has said they will miss it; so does a
session moved (or given another room) after its reminder went, as its revision names
it afresh (the first reminder keeps the session it named and that session's revision
on the booking, so the first session moved after it is reminded of too). Every
reminder carries that session's "Ready for <day>?" link, a make-up's its own
(`booking.services.health.readiness`).

Safe to run from cron every few minutes and concurrently: the first reminder is
claimed with a conditional UPDATE of `registration.reminder_sent_at` in the same
transaction that writes the outbox row, whose `dedupe_key` ("reminder:<id>") is
unique; a later session's reminder has the unique key "reminder:<id>:<session id>"
(and ":<revision>" once the session has changed), a make-up's
"reminder:makeup:<id>-<when made>" (the same).
So a second run (or a second process) can never queue either again: the loser of a
race gets an IntegrityError on that key and moves on.
"""

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from booking.calendar.data import MakeupData
from booking.db import write_transaction
from booking.extensions import db
from booking.models import (
    Absence,
    MakeupBooking,
    OutboxMessage,
    Registration,
    Workshop,
    WorkshopSession,
    utcnow,
)
from booking.models.registration import CONFIRMED
from booking.models.workshop import PUBLISHED, SCHEDULED
from booking.services.notices.emails import (
    notify_makeup_reminder,
    notify_reminder,
    notify_session_reminder,
)

REMIND_WITHIN = timedelta(hours=48)


def reminder_key(registration_id: int) -> str:
    """The outbox dedupe key of a booking's reminder."""
    return f"reminder:{registration_id}"


def session_reminder_key(registration_id: int, session_id: int, revision: int = 0) -> str:
    """The outbox dedupe key of a booking's reminder before one session, as it is at
    `revision`: a session moved after its reminder is reminded of again."""
    key = f"reminder:{registration_id}:{session_id}"
    return f"{key}:{revision}" if revision else key


def _comes_to(session=WorkshopSession):
    """The booking (Registration in the query) will come to `session`: one of its
    workshop's that will run, and not one the family has said they will miss."""
    return sa.and_(
        session.workshop_id == Registration.workshop_id,
        session.status == SCHEDULED,
        ~sa.exists().where(
            Absence.registration_id == Registration.id, Absence.session_id == session.id
        ),
    )


def _first_session_start(first=WorkshopSession):
    """The start of the first session the booking (Registration in the query) will
    come to."""
    return (
        sa.select(sa.func.min(first.starts_at))
        .where(_comes_to(first))
        .correlate(Registration)
        .scalar_subquery()
    )


def _first_session(registration_id: int) -> WorkshopSession | None:
    """The first session one booking will come to (the first reminder's session)."""
    return db.session.scalars(
        sa.select(WorkshopSession)
        .join(Registration, Registration.id == registration_id)
        .where(_comes_to())
        .order_by(WorkshopSession.starts_at, WorkshopSession.number)
        .limit(1)
    ).first()


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
            first = _first_session(registration_id)
            if first is None:
                return False
            registration.reminder_session_id = first.id
            registration.reminder_revision = first.revision
            message = notify_reminder(registration, first, dedupe_key=key)
            db.session.flush()
            return message is not None
    except sa.exc.IntegrityError:
        # Another run queued this reminder between our check and our insert.
        return False


def _covered_by_first(
    session_id, revision, starts_at, first_start, reminder_sent_at, named_id, named_revision
) -> bool:
    """Whether the booking's first reminder is (or was) about this session as it is now.
    Not sent yet, it will be about the first session the family will come to. Sent, it
    named a session at a revision: that one, unless it has moved or changed room since.
    Sent before reminders named their session: the first session, unless the reminder
    went out before this session's 48 hours began."""
    if reminder_sent_at is not None and named_id is not None:
        return named_id == session_id and named_revision == revision
    if first_start is None or starts_at != first_start:
        return False
    return reminder_sent_at is None or reminder_sent_at >= starts_at - REMIND_WITHIN


def due_session_reminders(now: datetime | None = None) -> list[tuple[int, int]]:
    """(registration id, session id) of each session of a confirmed booking that starts
    within 48 hours and has not started, that the family has not said they will miss,
    that the first reminder does not cover, and whose reminder (at the session's
    revision) has not been queued."""
    now = now or utcnow()
    starts = WorkshopSession.starts_at.type
    first_start = _first_session_start(aliased(WorkshopSession))
    missed = sa.exists().where(
        Absence.registration_id == Registration.id, Absence.session_id == WorkshopSession.id
    )
    rows = db.session.execute(
        sa.select(
            Registration.id,
            WorkshopSession.id,
            WorkshopSession.starts_at,
            first_start,
            Registration.reminder_sent_at,
            Registration.reminder_session_id,
            Registration.reminder_revision,
            WorkshopSession.revision,
        )
        .join(Workshop, Workshop.id == Registration.workshop_id)
        .join(WorkshopSession, WorkshopSession.workshop_id == Workshop.id)
        .where(
            Registration.status == CONFIRMED,
            Workshop.status == PUBLISHED,
            WorkshopSession.status == SCHEDULED,
            WorkshopSession.starts_at > sa.bindparam("now", now, type_=starts),
            WorkshopSession.starts_at
            <= sa.bindparam("until", now + REMIND_WITHIN, type_=starts),
            ~missed,
        )
        .order_by(WorkshopSession.starts_at, Registration.id)
    ).all()
    due = {
        session_reminder_key(registration_id, session_id, revision): (registration_id, session_id)
        for (
            registration_id, session_id, starts_at, first_starts, sent_at, named_id,
            named_revision, revision,
        ) in rows
        if not _covered_by_first(
            session_id, revision, starts_at, first_starts, sent_at, named_id, named_revision
        )
    }
    if not due:
        return []
    queued = set(
        db.session.scalars(
            sa.select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(list(due)))
        )
    )
    return [pair for key, pair in due.items() if key not in queued]


def remind_session(registration_id: int, session_id: int, now: datetime | None = None) -> bool:
    """Queue one booking's reminder before one session (at its revision) unless it
    already has one, checking afresh that it is still due; True if queued."""
    now = now or utcnow()
    try:
        with write_transaction():
            registration = db.session.get(Registration, registration_id, populate_existing=True)
            session = db.session.get(WorkshopSession, session_id, populate_existing=True)
            if registration is None or session is None:
                return False
            key = session_reminder_key(registration_id, session_id, session.revision)
            already = sa.select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)
            if db.session.scalar(already) is not None:
                return False
            workshop = db.session.get(Workshop, session.workshop_id, populate_existing=True)
            missed = db.session.scalar(
                sa.select(Absence.id).where(
                    Absence.registration_id == registration_id, Absence.session_id == session_id
                )
            )
            if (
                registration.status != CONFIRMED
                or registration.workshop_id != session.workshop_id
                or workshop.status != PUBLISHED
                or session.status != SCHEDULED
                or not now < session.starts_at <= now + REMIND_WITHIN
                or missed is not None
            ):
                return False
            message = notify_session_reminder(registration, session, dedupe_key=key)
            db.session.flush()
            return message is not None
    except sa.exc.IntegrityError:
        # Another run queued this reminder between our check and our insert.
        return False


def makeup_reminder_key(makeup_id: int, made_at: datetime | None, revision: int = 0) -> str:
    """The outbox dedupe key of a make-up's reminder, as its session is at `revision`:
    a session moved after the reminder is reminded of again. The make-up is named by
    its key (id and when it was made), as SQLite may give a new one a cancelled one's id."""
    key = f"reminder:makeup:{MakeupData(None, None, makeup_id, made_at).key}"
    return f"{key}:{revision}" if revision else key


def _makeup_due(now: datetime):
    """SQL: the make-up's session (WorkshopSession in the query) takes place, in a
    published class, and starts within REMIND_WITHIN of `now`."""
    starts = WorkshopSession.starts_at.type
    return sa.and_(
        Workshop.status == PUBLISHED,
        WorkshopSession.status == SCHEDULED,
        WorkshopSession.starts_at > sa.bindparam("now", now, type_=starts),
        WorkshopSession.starts_at <= sa.bindparam("until", now + REMIND_WITHIN, type_=starts),
    )


def due_makeup_reminders(now: datetime | None = None) -> list[int]:
    """The make-ups whose session starts within 48 hours and has not started, and whose
    reminder (at the session's revision) has not been queued."""
    now = now or utcnow()
    rows = db.session.execute(
        sa.select(MakeupBooking.id, MakeupBooking.created_at, WorkshopSession.revision)
        .join(WorkshopSession, WorkshopSession.id == MakeupBooking.session_id)
        .join(Workshop, Workshop.id == WorkshopSession.workshop_id)
        .where(_makeup_due(now))
        .order_by(WorkshopSession.starts_at, MakeupBooking.id)
    ).all()
    due = {
        makeup_reminder_key(makeup_id, made_at, revision): makeup_id
        for makeup_id, made_at, revision in rows
    }
    if not due:
        return []
    queued = set(
        db.session.scalars(
            sa.select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(list(due)))
        )
    )
    return [makeup_id for key, makeup_id in due.items() if key not in queued]


def remind_makeup(makeup_id: int, now: datetime | None = None) -> bool:
    """Queue one make-up's reminder unless it has one, checking afresh that it is still
    due (the make-up stands, its session still takes place soon); True if queued."""
    now = now or utcnow()
    try:
        with write_transaction():
            row = db.session.execute(
                sa.select(MakeupBooking, WorkshopSession.revision)
                .join(WorkshopSession, WorkshopSession.id == MakeupBooking.session_id)
                .join(Workshop, Workshop.id == WorkshopSession.workshop_id)
                .where(MakeupBooking.id == makeup_id, _makeup_due(now))
            ).first()
            if row is None:
                return False
            makeup, revision = row
            key = makeup_reminder_key(makeup_id, makeup.created_at, revision)
            already = sa.select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)
            if db.session.scalar(already) is not None:
                return False
            message = notify_makeup_reminder(makeup, dedupe_key=key)
            db.session.flush()
            return message is not None
    except sa.exc.IntegrityError:
        # Another run queued this reminder between our check and our insert.
        return False


def send_reminders(now: datetime | None = None) -> int:
    """Queue every due reminder (first sessions, then later ones, then make-up
    sessions), each in its own short transaction; returns how many."""
    now = now or utcnow()
    count = sum(1 for registration_id in due_reminders(now) if remind_one(registration_id, now))
    count += sum(1 for pair in due_session_reminders(now) if remind_session(*pair, now=now))
    return count + sum(
        1 for makeup_id in due_makeup_reminders(now) if remind_makeup(makeup_id, now)
    )
