"""Make-ups: a credit earned by an absence (booking.services.courses.absences) books
the same-numbered session of another course at the same centre that has a free seat
for that session (PRODUCT.md "Absence and make-up").

Every change locks the workshop's row first, then moves the session's make-up
counter with a conditional UPDATE; a credit is spent with a conditional UPDATE on
its row, so it is used once even under simultaneous requests. Make-ups into a
cancelled session or workshop, or of an erased account, are removed here.
"""

from datetime import datetime

import sqlalchemy as sa

from booking.db import write_transaction
from booking.extensions import db
from booking.models import (
    Absence,
    Attendance,
    MakeupBooking,
    MakeupCredit,
    SessionReadiness,
    Workshop,
    WorkshopSession,
)
from booking.models.workshop import PUBLISHED, SCHEDULED
from booking.services.booking.places import (
    centre_timezone,
    fitting_baby,
    has_active_place,
    lock_workshop,
    require_int,
    utc_now,
)
from booking.services.booking.waitlist import promote_waitlist
from booking.services.courses.absences import move_session_counter, session_seats_expression
from booking.services.courses.absences import report_absence as _report_absence
from booking.services.errors import Conflict, Invalid, NotFound
from booking.services.notices.emails import notify_makeup_booked, notify_makeup_cancelled
from booking.timefmt import format_local

_session_table = WorkshopSession.__table__
_credit_table = MakeupCredit.__table__


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
    baby = fitting_baby(credit.baby_id, workshop)
    if has_active_place(credit.baby_id, workshop.id):
        raise Conflict(f"{baby.name} is already booked on that course.")
    visiting = sa.select(MakeupBooking.id).where(
        MakeupBooking.baby_id == credit.baby_id, MakeupBooking.session_id == session.id
    )
    if db.session.scalar(visiting.limit(1)) is not None:
        raise Conflict(f"{baby.name} already has a make-up in that session.")


def report_absence(*, parent_id: int, registration_id: int, session_id: int) -> MakeupCredit:
    """`absences.report_absence`, then `offer_seat_freed_by_absence` in the same
    transaction."""
    with write_transaction():
        credit = _report_absence(
            parent_id=parent_id, registration_id=registration_id, session_id=session_id
        )
        offer_seat_freed_by_absence(session_id)
    return credit


def offer_seat_freed_by_absence(session_id: int) -> None:
    """After a family said they will miss a session that make-up visitors come to: the
    seat may have been all that kept the visitors from filling the class for new
    families, so a family waiting gets the place now, as when a place is cancelled (it
    went to the next newcomer). Nothing to do for a session no visitor comes to."""
    with write_transaction():
        session = db.session.get(WorkshopSession, int(session_id), populate_existing=True)
        if session is not None and session.makeups_taken:
            promote_waitlist(session.workshop_id)


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
        notify_makeup_booked(makeup)  # with its invite, in this transaction
    return makeup


def makeup_title(makeup: MakeupBooking) -> str:
    """'Thursday class, week 2, Thu 14 Jan 2027, 10:00 GMT': the make-up as its parent
    knows it (its id is no number of theirs)."""
    session = db.session.get(WorkshopSession, makeup.session_id)
    workshop = db.session.get(Workshop, session.workshop_id)
    when = format_local(session.starts_at, centre_timezone(workshop))
    return f"{workshop.title}, week {session.number}, {when}"


def _origin_place(credit_id) -> sa.ScalarSelect:
    """SQL: the place (registration id) whose absence earned a make-up credit
    (`credit_id`: a value, or a column such as MakeupBooking.credit_id)."""
    return (
        sa.select(Absence.registration_id)
        .join(MakeupCredit, MakeupCredit.absence_id == Absence.id)
        .where(MakeupCredit.id == credit_id)
        .scalar_subquery()
    )


def visitor_places(session_id: int) -> set[int]:
    """The places (on other courses) the make-ups booked into a session were made from:
    what the visitors' attendance there is recorded against (teaching.attendance). The
    make-up is what lets the baby come, whatever became of that place since (moved,
    cancelled: a make-up already booked keeps its seat)."""
    return set(
        db.session.scalars(
            sa.select(_origin_place(MakeupBooking.credit_id)).where(
                MakeupBooking.session_id == session_id
            )
        )
    )


def drop_makeup(makeup_id: int, *, restore_credit: bool, now: datetime | None = None) -> bool:
    """Inside the caller's transaction: remove a make-up booking.

    Its seat in a session still to come is freed (the session's make-up counter
    goes down), and a mark the instructor made for the visitor there (attendance
    opens an hour before a session) and the parent's "Ready" answer for it go with
    it; with `restore_credit` the credit can be used again. Returns whether a
    make-up was removed.
    """
    now = now or utc_now()
    row = db.session.execute(
        sa.select(MakeupBooking.credit_id, MakeupBooking.session_id, WorkshopSession.starts_at)
        .join(WorkshopSession, WorkshopSession.id == MakeupBooking.session_id)
        .where(MakeupBooking.id == makeup_id)
    ).first()
    if row is None:
        return False
    credit_id, session_id, starts_at = row
    gone = db.session.execute(
        sa.delete(MakeupBooking.__table__).where(MakeupBooking.__table__.c.id == makeup_id)
    )
    if gone.rowcount != 1:
        return False
    if starts_at > now:
        move_session_counter(session_id, "makeups_taken", -1)
        # The visitor's mark is kept against their own place (`visitor_places`); a
        # place has one credit a week, so at most one make-up into this session.
        # So is the parent's "Ready for <day>?" answer for the visit.
        for table in (Attendance.__table__, SessionReadiness.__table__):
            db.session.execute(
                sa.delete(table).where(
                    table.c.session_id == session_id,
                    table.c.registration_id == _origin_place(credit_id),
                )
            )
    if restore_credit:
        db.session.execute(
            sa.update(_credit_table).where(_credit_table.c.id == credit_id).values(used_at=None)
        )
    return True


def drop_makeups_into(
    *, workshop_id: int | None = None, session_id: int | None = None, now=None
) -> list[MakeupBooking]:
    """Inside the caller's transaction, when a workshop or one session is cancelled:
    make-ups booked into its sessions still to come are removed and their credits can
    be used again. Returns the removed make-ups (detached rows, for the emails)."""
    now = now or utc_now()
    query = (
        sa.select(MakeupBooking)
        .join(WorkshopSession, WorkshopSession.id == MakeupBooking.session_id)
        .where(WorkshopSession.starts_at > now)
        .order_by(MakeupBooking.id)
    )
    if workshop_id is not None:
        query = query.where(WorkshopSession.workshop_id == workshop_id)
    if session_id is not None:
        query = query.where(MakeupBooking.session_id == session_id)
    found = list(db.session.scalars(query))
    for makeup in found:
        db.session.expunge(makeup)
    return [m for m in found if drop_makeup(m.id, restore_credit=True, now=now)]


def drop_parent_makeups(parent_id: int, now: datetime | None = None) -> int:
    """Inside the caller's transaction, when an account is erased: its make-ups in
    sessions still to come are removed (their seats freed) and its credits not
    tied to a past make-up withdrawn, since nobody can use them any more."""
    now = now or utc_now()
    ids = db.session.scalars(
        sa.select(MakeupBooking.id)
        .join(WorkshopSession, WorkshopSession.id == MakeupBooking.session_id)
        .where(MakeupBooking.parent_id == parent_id, WorkshopSession.starts_at > now)
        .order_by(MakeupBooking.id)
    ).all()
    dropped = sum(drop_makeup(i, restore_credit=False, now=now) for i in ids)
    c, m = _credit_table.c, MakeupBooking.__table__.c
    db.session.execute(
        sa.delete(_credit_table).where(
            c.parent_id == parent_id, ~sa.select(m.id).where(m.credit_id == c.id).exists()
        )
    )
    return dropped


def cancel_makeup(*, parent_id: int, makeup_id: int) -> MakeupCredit:
    """A parent cancels a make-up session still to come: the seat is free again and the
    credit can be used for another session. Returns the credit."""
    with write_transaction():
        makeup = db.session.get(
            MakeupBooking, require_int(makeup_id, "The make-up"), populate_existing=True
        )
        if makeup is None or makeup.parent_id != parent_id:
            raise NotFound("We could not find that make-up session on your account.")
        session = db.session.get(WorkshopSession, makeup.session_id)
        lock_workshop(session.workshop_id)
        db.session.refresh(session)
        # Read again under the lock: an update sent meanwhile (a session added to the
        # class) raised its invite_sequence, which the CANCEL must outrank.
        makeup = db.session.get(MakeupBooking, makeup.id, populate_existing=True)
        if makeup is None:
            raise NotFound("That make-up session has already been cancelled.")
        now = utc_now()
        if session.starts_at <= now:
            raise Invalid("That make-up session has already started, so it cannot be cancelled.")
        credit_id = makeup.credit_id
        if not drop_makeup(makeup.id, restore_credit=True, now=now):
            raise NotFound("That make-up session has already been cancelled.")
        db.session.expunge(makeup)
        # The email's invite takes the session out of the parent's calendar.
        notify_makeup_cancelled(makeup, by_parent=True)
        promote_waitlist(session.workshop_id)
        credit = db.session.get(MakeupCredit, credit_id, populate_existing=True)
    return credit
