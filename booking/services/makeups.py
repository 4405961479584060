"""Absences from one session of a course and make-ups in another course (PRODUCT.md).

A parent tells us before a session of their confirmed course that their baby will
miss it: that seat is free for that session only and they earn a make-up credit
for that week number at that centre. The credit books the same-numbered session
of another course at the same centre that has a free seat for that session.

Seats for one session = capacity - unclaimed held places - confirmed + absences
- make-ups taken. Every change locks the workshop's row first (as the booking
engine does, so bookings and make-ups on one workshop are serialised), then
moves the session counter with a conditional UPDATE; a credit is spent with a
conditional UPDATE on its row, so it is used once even under simultaneous
requests.
"""

from datetime import datetime, timedelta

import sqlalchemy as sa

from booking.db import write_transaction
from booking.extensions import db
from booking.models import (
    Absence,
    Baby,
    MakeupBooking,
    MakeupCredit,
    Registration,
    Workshop,
    WorkshopSession,
)
from booking.models.registration import CONFIRMED, WAITLISTED
from booking.models.workshop import KIND_COURSE, PUBLISHED, SCHEDULED
from booking.services.errors import Conflict, Invalid, NotFound
from booking.services.places import eligibility, lock_workshop, require_int, utc_now

NO_NEXT_COURSE_GRACE = timedelta(weeks=8)

_session_table = WorkshopSession.__table__
_workshop_table = Workshop.__table__
_credit_table = MakeupCredit.__table__


def session_seats_expression():
    """SQL for the free seats of one session (for a make-up), correlated to the session."""
    w, s = _workshop_table.c, _session_table.c
    public_left = (
        sa.select(w.capacity - (w.held_places - w.held_claimed) - w.confirmed_count)
        .where(w.id == s.workshop_id)
        .scalar_subquery()
    )
    return public_left + s.absences - s.makeups_taken


def session_seats(session: WorkshopSession, workshop: Workshop) -> int:
    """Free seats of a session for a make-up, from loaded rows."""
    return max(0, workshop.places_left + session.absences - session.makeups_taken)


def credit_expiry(workshop: Workshop) -> datetime:
    """When a credit earned in `workshop` expires: the end of the following course.

    The following course is the next course at the same centre (published or
    draft, not cancelled) whose first session starts after this one's; the credit
    lasts until that course's last session ends. When no such course is scheduled
    yet, it lasts 8 weeks after this course's last session, so a credit is never
    worthless just because next term is not published yet.
    """
    following = db.session.scalar(
        sa.select(Workshop.last_ends_at)
        .where(
            Workshop.centre_id == workshop.centre_id,
            Workshop.id != workshop.id,
            Workshop.kind == KIND_COURSE,
            Workshop.status == PUBLISHED,
            Workshop.first_starts_at > workshop.first_starts_at,
            Workshop.last_ends_at.is_not(None),
        )
        .order_by(Workshop.first_starts_at, Workshop.id)
        .limit(1)
    )
    if following is not None:
        return following
    return (workshop.last_ends_at or workshop.first_starts_at) + NO_NEXT_COURSE_GRACE


def _own_confirmed(registration_id, parent_id: int) -> Registration:
    registration = db.session.get(
        Registration, require_int(registration_id, "The booking"), populate_existing=True
    )
    if registration is None or registration.parent_id != parent_id:
        raise NotFound("We could not find that booking on your account.")
    return registration


def report_absence(*, parent_id: int, registration_id: int, session_id: int) -> MakeupCredit:
    """Tell the centre that a booking's baby will miss one future session of its course.

    Frees that seat for that session only and returns the make-up credit earned.
    Saying it twice returns the same credit.
    """
    with write_transaction():
        registration = _own_confirmed(registration_id, parent_id)
        workshop = lock_workshop(registration.workshop_id)
        db.session.refresh(registration)
        session = db.session.get(
            WorkshopSession, require_int(session_id, "The session"), populate_existing=True
        )
        if session is None or session.workshop_id != workshop.id:
            raise NotFound("That session is not part of this booking's class.")
        if registration.status != CONFIRMED:
            raise Conflict("Only a confirmed place can have an absence.")
        if not workshop.is_course:
            raise Invalid("Absences and make-ups are for courses; cancel a single class instead.")
        if session.status != SCHEDULED or workshop.status != PUBLISHED:
            raise Invalid("That session is cancelled, so there is nothing to miss.")
        now = utc_now()
        if session.starts_at <= now:
            raise Invalid("That session has already started; absences are for future sessions.")
        existing = db.session.scalar(
            sa.select(MakeupCredit)
            .join(Absence, Absence.id == MakeupCredit.absence_id)
            .where(Absence.registration_id == registration.id, Absence.session_id == session.id)
        )
        if existing is not None:
            return existing
        absence = Absence(
            registration_id=registration.id, session_id=session.id, parent_id=parent_id
        )
        db.session.add(absence)
        db.session.flush()
        db.session.execute(
            sa.update(_session_table)
            .where(_session_table.c.id == session.id)
            .values(absences=_session_table.c.absences + 1, updated_at=now)
        )
        credit = MakeupCredit(
            absence_id=absence.id,
            parent_id=parent_id,
            baby_id=registration.baby_id,
            centre_id=workshop.centre_id,
            week_number=session.number,
            expires_at=credit_expiry(workshop),
        )
        db.session.add(credit)
        db.session.flush()
    return credit


def _check_target(credit: MakeupCredit, session: WorkshopSession, workshop: Workshop, now):
    if credit.used_at is not None:
        raise Conflict("This make-up credit has already been used.")
    if credit.expires_at <= now:
        raise Invalid("This make-up credit has expired.")
    if workshop.centre_id != credit.centre_id:
        raise Invalid("A make-up must be at the same centre as the missed session.")
    if session.number != credit.week_number:
        raise Invalid(
            f"This credit is for week {credit.week_number}; choose week "
            f"{credit.week_number} of another course."
        )
    if workshop.status != PUBLISHED or not workshop.is_course or session.status != SCHEDULED:
        raise Invalid("That session is not running, so it cannot take a make-up.")
    if session.starts_at <= now:
        raise Invalid("That session has already started.")
    if session.starts_at > credit.expires_at:
        raise Invalid("That session is after this make-up credit expires.")
    absence = db.session.get(Absence, credit.absence_id)
    origin = db.session.get(WorkshopSession, absence.session_id)
    if origin.workshop_id == workshop.id:
        raise Invalid("A make-up is in another course, not the one you are booked on.")
    baby = db.session.get(Baby, credit.baby_id) if credit.baby_id else None
    fit = eligibility(baby, workshop)
    if not fit.eligible:
        raise Invalid(fit.reason)
    booked = db.session.scalar(
        sa.select(Registration.id).where(
            Registration.workshop_id == workshop.id,
            Registration.baby_id == credit.baby_id,
            Registration.status.in_((CONFIRMED, WAITLISTED)),
        )
    )
    if booked is not None:
        raise Conflict(f"{baby.name} is already booked on that course.")


def book_makeup(*, parent_id: int, credit_id: int, session_id: int) -> MakeupBooking:
    """Use a make-up credit for one session of another course at the same centre.

    Needs a free seat in that session; the credit is spent once.
    """
    with write_transaction():
        credit = db.session.get(
            MakeupCredit, require_int(credit_id, "The make-up credit"), populate_existing=True
        )
        if credit is None or credit.parent_id != parent_id:
            raise NotFound("We could not find that make-up credit on your account.")
        session = db.session.get(WorkshopSession, require_int(session_id, "The session"))
        if session is None:
            raise NotFound("We could not find that session.")
        workshop = lock_workshop(session.workshop_id)
        db.session.refresh(session)
        db.session.refresh(credit)
        now = utc_now()
        _check_target(credit, session, workshop, now)
        s = _session_table.c
        taken = db.session.execute(
            sa.update(_session_table)
            .where(s.id == session.id, session_seats_expression() > 0)
            .values(makeups_taken=s.makeups_taken + 1, updated_at=now)
        )
        if taken.rowcount != 1:
            raise Conflict("That session has no free seat for a make-up. Choose another.")
        c = _credit_table.c
        spent = db.session.execute(
            sa.update(_credit_table)
            .where(c.id == credit.id, c.used_at.is_(None))
            .values(used_at=now)
        )
        if spent.rowcount != 1:
            raise Conflict("This make-up credit has already been used.")
        makeup = MakeupBooking(
            credit_id=credit.id,
            session_id=session.id,
            parent_id=parent_id,
            baby_id=credit.baby_id,
        )
        db.session.add(makeup)
        db.session.flush()
    return makeup


def withdraw_future_absences(registration: Registration, now: datetime | None = None) -> int:
    """Inside the caller's transaction: a cancelled booking's future absences stop
    freeing a seat (the whole place is free now). Earned credits are kept."""
    now = now or utc_now()
    session_ids = list(
        db.session.scalars(
            sa.select(Absence.session_id)
            .join(WorkshopSession, WorkshopSession.id == Absence.session_id)
            .where(Absence.registration_id == registration.id, WorkshopSession.starts_at > now)
        )
    )
    s = _session_table.c
    for session_id in session_ids:
        db.session.execute(
            sa.update(_session_table)
            .where(s.id == session_id, s.absences > 0)
            .values(absences=s.absences - 1)
        )
    return len(session_ids)
