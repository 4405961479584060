"""Absences from one session of a course (PRODUCT.md "Absence and make-up").

A parent tells us before a session of their confirmed course that their baby will
miss it: that seat is free for that session only and they earn a make-up credit
for that week number at that centre (booking.services.courses.makeups spends it).
They may take the absence back while their seat is still free.

Seats for one session = capacity - unclaimed held places - confirmed + absences
- make-ups taken. Every change locks the workshop's row first (as the booking
engine does, so bookings, absences and make-ups on one workshop are serialised),
then moves the session counter with a conditional UPDATE. When a place, a session
or a workshop ends, its absences from sessions still to come stop counting.
"""

from datetime import datetime, timedelta

import sqlalchemy as sa

from booking.db import require_transaction, write_transaction
from booking.extensions import db
from booking.mail import deferred
from booking.models import Absence, MakeupCredit, Registration, User, Workshop, WorkshopSession
from booking.models.registration import CONFIRMED
from booking.models.workshop import KIND_COURSE, PUBLISHED, SCHEDULED
from booking.services.booking.places import lock_workshop, require_int, utc_now
from booking.services.errors import Conflict, Invalid, NotFound

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


def _booking_session(registration_id, parent_id: int, session_id):
    """Inside a write transaction: a parent's booking, its workshop (locked) and one of
    its sessions, each read afresh; NotFound when any is not theirs."""
    registration = _own_confirmed(registration_id, parent_id)
    workshop = lock_workshop(registration.workshop_id)
    db.session.refresh(registration)
    session = db.session.get(
        WorkshopSession, require_int(session_id, "The session"), populate_existing=True
    )
    if session is None or session.workshop_id != workshop.id:
        raise NotFound("That session is not part of this booking's class.")
    return registration, workshop, session


def report_absence(*, parent_id: int, registration_id: int, session_id: int) -> MakeupCredit:
    """Tell the centre that a booking's baby will miss one future session of its course.

    Frees that seat for that session only and returns the make-up credit earned.
    Saying it twice returns the same credit.
    """
    with write_transaction():
        registration, workshop, session = _booking_session(
            registration_id, parent_id, session_id
        )
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
        registration.invite_sequence += 1  # the calendars' SEQUENCE only ever goes up
        db.session.flush()
        db.session.execute(
            sa.update(_session_table)
            .where(_session_table.c.id == session.id)
            .values(absences=_session_table.c.absences + 1, updated_at=now)
        )
        credit = earn_credit(absence, registration, workshop, session)
        # The family's calendar loses that week; the email says what the credit is for.
        _note_absence(registration, session.id, back=False)
    return credit


def earn_credit(
    absence: Absence, registration: Registration, workshop: Workshop, session: WorkshopSession
) -> MakeupCredit:
    """Inside the caller's transaction: the make-up credit an absence earns, for the
    session's week number at the workshop's centre, expiring by `credit_expiry`."""
    credit = MakeupCredit(
        absence_id=absence.id,
        parent_id=absence.parent_id,
        baby_id=registration.baby_id,
        centre_id=workshop.centre_id,
        week_number=session.number,
        expires_at=credit_expiry(workshop),
    )
    db.session.add(credit)
    db.session.flush()
    return credit


def credit_for_cancelled_session(
    registration: Registration, workshop: Workshop, session: WorkshopSession
) -> MakeupCredit:
    """Inside the caller's transaction, on the locked workshop: the make-up credit a
    family takes instead of the refund of a session the centre cancelled.

    A credit is always earned by an absence, so one is recorded for the booking and
    that session, but it frees no seat: the session's absences counter is left alone.
    Nobody comes to a cancelled session, so there is no seat in it to free, and the
    booking's place in every other week stands. Nothing counts such an absence later
    either: `end_session_absences` has already run for the session, no absence can be
    reported or taken back in a cancelled one, and when the place itself ends before
    the session's time (`end_registration_absences`) the unused credit is withdrawn
    like any other (a cancelled session's counter has no seats to change).
    """
    require_transaction("Granting a make-up credit")
    if session.status == SCHEDULED or session.workshop_id != workshop.id:
        raise Conflict("A make-up credit instead of a refund is for a cancelled session.")
    taken = db.session.scalar(
        sa.select(Absence.id).where(
            Absence.registration_id == registration.id, Absence.session_id == session.id
        )
    )
    if taken is not None:
        raise Conflict(f"You already have a make-up credit for week {session.number}.")
    absence = Absence(
        registration_id=registration.id, session_id=session.id, parent_id=registration.parent_id
    )
    db.session.add(absence)
    db.session.flush()
    return earn_credit(absence, registration, workshop, session)


def take_back_absence(*, parent_id: int, registration_id: int, session_id: int) -> None:
    """A parent who said "we can't come" to a session still to come can come after all.

    Only while their seat is still free in that session (no make-up has taken it
    so that the session would be over capacity); the make-up credit the absence
    earned is withdrawn, so this is refused once the credit has been used.
    """
    with write_transaction():
        registration, workshop, session = _booking_session(
            registration_id, parent_id, session_id
        )
        if registration.status != CONFIRMED:
            raise Conflict("This booking is no longer confirmed, so there is nothing to change.")
        absence = db.session.scalar(
            sa.select(Absence).where(
                Absence.registration_id == registration.id, Absence.session_id == session.id
            )
        )
        if absence is None:
            raise Conflict(f"You have not told us you will miss week {session.number}.")
        if session.status != SCHEDULED or workshop.status != PUBLISHED:
            raise Invalid("That session is cancelled, so there is nothing to come to.")
        if session.starts_at <= utc_now():
            raise Invalid("That session has already started, so the absence stands.")
        c = _credit_table.c
        credit = db.session.execute(
            sa.select(c.id, c.used_at).where(c.absence_id == absence.id)
        ).first()
        if credit is not None and credit.used_at is not None:
            raise Conflict(
                f"The make-up credit for week {session.number} has already been used for a "
                "make-up session, so this absence cannot be taken back."
            )
        s = _session_table.c
        back = db.session.execute(
            sa.update(_session_table)
            .where(s.id == session.id, s.absences > 0, session_seats_expression() > 0)
            .values(absences=s.absences - 1, updated_at=utc_now())
        )
        if back.rowcount != 1:
            raise Conflict(
                f"Your seat in week {session.number} has been given to a family making up "
                "a missed week, so the absence stands. Your make-up credit is still yours."
            )
        if credit is not None:
            gone = db.session.execute(
                sa.delete(_credit_table).where(c.id == credit.id, c.used_at.is_(None))
            )
            if gone.rowcount != 1:
                raise Conflict(
                    f"The make-up credit for week {session.number} has just been used, so "
                    "this absence cannot be taken back."
                )
        db.session.delete(absence)
        registration.invite_sequence += 1  # the calendars' SEQUENCE only ever goes up
        db.session.flush()
        _note_absence(registration, session.id, back=True)  # the week back in the calendar


def _note_absence(registration: Registration, session_id: int, *, back: bool) -> None:
    """In the caller's transaction: a note that the parent is emailed, once it has
    committed, that the week is out of (or, `back`, back in) their calendar
    (rendered by `notices.emails`, as booking confirmations are)."""
    parent = db.session.get(User, registration.parent_id)
    if parent is None or parent.deleted_at is not None or not parent.email:
        return
    deferred.queue_note(parent.email, "absence", registration.id,
                        {"session_id": session_id, "back": back, "at": utc_now().isoformat()})


def move_session_counter(session_id: int, column: str, step: int) -> None:
    """Move one session's absences or make-ups counter by `step`, never below 0."""
    s = _session_table.c
    counter = s[column]
    query = sa.update(_session_table).where(s.id == session_id)
    if step < 0:
        query = query.where(counter >= -step)
    db.session.execute(query.values({column: counter + step}))


def _remove_absence(absence_id: int, session_id: int) -> None:
    """The absence no longer frees its seat; it and its (unused) credit are removed."""
    move_session_counter(session_id, "absences", -1)
    db.session.execute(sa.delete(_credit_table).where(_credit_table.c.absence_id == absence_id))
    db.session.execute(sa.delete(Absence.__table__).where(Absence.__table__.c.id == absence_id))


def end_registration_absences(registration_id: int, now: datetime | None = None) -> int:
    """Inside the caller's transaction, when a confirmed place ends (cancelled, moved,
    erased, or the workshop cancelled): its absences from sessions still to come stop
    freeing a seat, since the whole place is free now and counting the absence too
    would count that seat twice.

    An unused credit such an absence earned is withdrawn with it. A credit already
    spent on a make-up keeps its absence row (for the make-up's history); only the
    session's absence counter goes down. Absences from sessions that have started
    are history and stay, and so do those of sessions the centre cancelled: such an
    absence holds no seat, and its credit is what the family chose instead of that
    week's money back, so it stays theirs. Returns how many absences stopped counting.
    """
    now = now or utc_now()
    rows = db.session.execute(
        sa.select(Absence.id, Absence.session_id, MakeupCredit.used_at)
        .join(WorkshopSession, WorkshopSession.id == Absence.session_id)
        .outerjoin(MakeupCredit, MakeupCredit.absence_id == Absence.id)
        .where(
            Absence.registration_id == registration_id,
            WorkshopSession.starts_at > now,
            WorkshopSession.status == SCHEDULED,
        )
    ).all()
    return _end_absences(rows)


def end_session_absences(session_id: int) -> int:
    """Inside the caller's transaction, when the centre cancels one session: nobody
    comes to it, so its absences stop counting and the unused credits they earned are
    withdrawn, as when a whole workshop is cancelled (a credit already spent on a
    make-up stands). Returns how many absences stopped counting."""
    rows = db.session.execute(
        sa.select(Absence.id, Absence.session_id, MakeupCredit.used_at)
        .outerjoin(MakeupCredit, MakeupCredit.absence_id == Absence.id)
        .where(Absence.session_id == session_id)
    ).all()
    return _end_absences(rows)


def _end_absences(rows) -> int:
    """(absence id, session id, credit used_at) rows: each absence stops freeing its
    seat; one whose credit is unused goes, with the credit."""
    for absence_id, session_id, used_at in rows:
        if used_at is None:
            _remove_absence(absence_id, session_id)
        else:
            move_session_counter(session_id, "absences", -1)
    return len(rows)


def withdraw_future_absences(registration: Registration, now: datetime | None = None) -> int:
    """Inside the caller's transaction: see end_registration_absences."""
    return end_registration_absences(registration.id, now)
