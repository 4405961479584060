"""Places in a workshop: locking, taking and freeing them, and who is eligible.

Everything here runs inside the caller's write transaction and never commits.
Capacity is enforced by the database with a conditional UPDATE, never by
counting first and inserting afterwards.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache, lru_cache

import sqlalchemy as sa
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import instance_dict, set_committed_value

from booking.db import require_transaction
from booking.extensions import db
from booking.models import Baby, Centre, MakeupBooking, Registration, Workshop, WorkshopSession
from booking.models.registration import ACTIVE, HOLDS_PLACE
from booking.models.workshop import CANCELLED, PUBLISHED, SCHEDULED
from booking.services.errors import Conflict, Invalid, NotFound
from booking.timefmt import format_local, to_local

_workshop_table = Workshop.__table__


def utc_now() -> datetime:
    """The current instant (one place to read the clock)."""
    return datetime.now(UTC)


def _lock_statement(where=(), options=(), columns=()):
    """SELECT ... FOR UPDATE of one workshop (the id a parameter), read fresh, with the
    values of `columns` (expressions over Workshop)."""
    return (
        sa.select(Workshop, *columns)
        .where(Workshop.id == sa.bindparam("workshop_id"), *where)
        .options(*options)
        .with_for_update(of=Workshop)
        .execution_options(populate_existing=True)
    )


@cache
def _plain_lock():
    """The lock of any workshop (cancellations, promotions, schedule changes): built
    once."""
    return _lock_statement()


@lru_cache(maxsize=4)
def _bookable_lock(columns: tuple):
    """The lock of a workshop the public may see, with its centre joined in."""
    return _lock_statement(
        (visible_to_public(),), (joinedload(Workshop.centre, innerjoin=True),), columns
    )


def _locked(statement, workshop_id: int, missing: str) -> Workshop:
    workshop = db.session.scalar(statement, {"workshop_id": workshop_id})
    if workshop is None:
        raise NotFound(missing)
    return workshop


def _live(workshop_id, owner: str) -> tuple:
    """The conditions of a live registration in one workshop of one baby (`owner`
    "baby_id") or parent ("parent_id"), the owner a parameter of that name."""
    return (
        Registration.workshop_id == workshop_id,
        getattr(Registration, owner) == sa.bindparam(owner),
        Registration.status.in_(ACTIVE),
    )


def baby_live_in(workshop) -> sa.ScalarSelect:
    """SQL: the id of the baby's (parameter `baby_id`) live registration in the
    workshop whose row `workshop` (the Workshop entity, or an alias) stands for, or
    NULL; there is at most one (a unique index)."""
    return sa.select(Registration.id).where(*_live(workshop.id, "baby_id")).scalar_subquery()


def baby_visiting(workshop) -> sa.ScalarSelect:
    """SQL: the first week still to come (parameter `now`) of the workshop whose row
    `workshop` (the Workshop entity, or an alias) stands for that the baby (parameter
    `baby_id`) is booked to visit with a make-up from another course, or NULL. A baby
    booked on a course does not also visit it (nor the other way round:
    courses.makeups), or its sessions would count the baby twice."""
    return (
        sa.select(sa.func.min(WorkshopSession.number))
        .join(MakeupBooking, MakeupBooking.session_id == WorkshopSession.id)
        .where(
            WorkshopSession.workshop_id == workshop.id,
            MakeupBooking.baby_id == sa.bindparam("baby_id"),
            WorkshopSession.starts_at > sa.bindparam("now", type_=WorkshopSession.starts_at.type),
        )
        .scalar_subquery()
    )


def visiting_week(baby_id: int, workshop_id: int, now: datetime) -> int | None:
    """`baby_visiting` for one workshop: the week the baby is booked to visit, or None."""
    return db.session.scalar(
        sa.select(baby_visiting(Workshop)).where(Workshop.id == workshop_id),
        {"baby_id": baby_id, "now": now},
    )


def visiting_text(baby_name: str, week: int) -> str:
    """Why a baby visiting a course cannot also have a place on it."""
    return f"{baby_name} is coming to week {week} of this course as a make-up."


@lru_cache(maxsize=2)
def live_in_workshop(owner: str):
    """The live registrations in one workshop of one baby (`owner` "baby_id") or of one
    parent ("parent_id"): built once each, the workshop and the owner parameters named
    `workshop_id` and as `owner` says."""
    return sa.select(Registration).where(*_live(sa.bindparam("workshop_id"), owner))


def lock_workshop(workshop_id: int, missing: str = "We could not find that class.") -> Workshop:
    """Load a workshop, fresh from the database, locking its row until commit;
    NotFound (with the `missing` message) when there is no such workshop.

    On PostgreSQL this is SELECT ... FOR UPDATE, so every change to one
    workshop's places is serialised; on SQLite the write transaction already
    holds the database's write lock (BEGIN IMMEDIATE). Every use case that
    changes a workshop, its sessions or its places locks the workshop first.
    """
    return _locked(_plain_lock(), workshop_id, missing)


def centre_of(workshop: Workshop) -> Centre:
    """The workshop's centre, loaded once and then kept on the workshop.

    The session's identity map holds objects weakly, so a centre looked up by id and
    not referenced would be loaded again by the next look-up in the same transaction;
    attached as `workshop.centre` it lives as long as the workshop.
    """
    # Loaded (or set) means in the instance's dict: asked of its state, `unloaded`
    # would build the set of every attribute not loaded, each of the many times a page
    # asks for the centre.
    if "centre" in instance_dict(workshop):
        centre = workshop.centre
        if centre is not None and centre.id == workshop.centre_id:
            return centre
    centre = db.session.get(Centre, workshop.centre_id)
    set_committed_value(workshop, "centre", centre)
    return centre


def visible_to_public():
    """SQL for a workshop the public may see and book: published, at a published centre.

    The one definition behind the class search and listings, the class page, the
    booking panel, booking itself and the suggestions of other classes.
    """
    return sa.and_(Workshop.status == PUBLISHED, Workshop.centre.has(Centre.published.is_(True)))


def bookable_workshop(workshop_id: int, *columns, **values) -> tuple:
    """The locked workshop, with its centre, if the public may see it, and the values of
    `columns` (expressions over Workshop, the same objects each time; `values` those of
    their parameters) read with it, as (workshop, *values), in one statement (only the
    workshop's row is locked, as `lock_workshop` locks it)."""
    row = db.session.execute(
        _bookable_lock(columns), {**values, "workshop_id": workshop_id}
    ).one_or_none()
    if row is None:
        raise NotFound("We could not find that class. It may have been withdrawn.")
    return tuple(row)


def free_places_expression():
    """SQL for the places the public may still take (rule 11)."""
    t = _workshop_table.c
    return t.capacity - (t.held_places - t.held_claimed) - t.confirmed_count


def take_place(workshop: Workshop) -> bool:
    """Take one public place with a conditional UPDATE; False when the workshop is full."""
    require_transaction("Taking a place")
    # A Core UPDATE on the session's connection: the same transaction, without the
    # session's work for a statement that loads no objects.
    result = db.session.connection().execute(
        _take_place_statement(), {"workshop_id": workshop.id, "now": utc_now()}
    )
    db.session.expire(workshop, ["confirmed_count"])
    return result.rowcount == 1


@cache
def _take_place_statement():
    """The conditional UPDATE of `take_place`, built once (the workshop and the time are
    parameters)."""
    t = _workshop_table.c
    return (
        sa.update(_workshop_table)
        .where(t.id == sa.bindparam("workshop_id"))
        .where(t.confirmed_count < t.capacity - (t.held_places - t.held_claimed))
        .where(~_makeups_fill_a_session(t, sa.bindparam("now")))
        .values(confirmed_count=t.confirmed_count + 1)
    )


def makeup_excess(workshop_id, now) -> sa.ScalarSelect:
    """SQL: the seats make-up visitors take beyond the absences in the busiest session
    of the workshop (an id or a column) still to come after `now` (a time or a bound
    parameter); NULL when none is to come."""
    s = WorkshopSession
    return (
        sa.select(sa.func.max(s.makeups_taken - s.absences))
        .where(s.workshop_id == workshop_id, s.starts_at > now)
        .scalar_subquery()
    )


def makeup_seats(workshop: Workshop, now: datetime | None = None) -> int:
    """The seats make-up visitors take beyond the absences in the workshop's busiest
    session still to come (a visitor in a course's last free seat fills it for a new
    family): from its sessions when they are loaded (a listing), else by one small
    query (`makeup_excess`)."""
    now = now or utc_now()
    if "sessions" in sa.inspect(workshop).unloaded:
        excess = db.session.scalar(sa.select(makeup_excess(workshop.id, now)))
    else:
        excess = max(
            (s.makeups_taken - s.absences for s in workshop.sessions if s.starts_at > now),
            default=0,
        )
    return max(0, excess or 0)


def public_places_left(
    workshop: Workshop, now: datetime | None = None, *, excess: int | None = None
) -> int:
    """Places the public can book now, as `take_place` judges them: capacity less the
    confirmed and unclaimed held places (rule 11), less the seats make-up visitors take
    (`makeup_seats`; `excess` when the caller read it with `makeup_excess`)."""
    if excess is None:
        excess = makeup_seats(workshop, now)
    return max(0, workshop.places_left - max(0, excess or 0))


def _makeups_fill_a_session(t, now):
    """SQL: some session starting after `now` has make-ups already using the seat a new
    place would take (make-ups fill seats freed by absences; see
    booking.services.courses.makeups)."""
    s = WorkshopSession.__table__.c
    return (
        sa.select(s.id)
        .where(
            s.workshop_id == t.id,
            s.starts_at > now,
            s.makeups_taken - s.absences
            >= t.capacity - (t.held_places - t.held_claimed) - t.confirmed_count,
        )
        .exists()
    )


def held_release_due(workshop: Workshop, now: datetime) -> bool:
    """Whether the workshop still holds unclaimed places whose release time has come
    (PRODUCT.md: Held places): they are the public's and the waiting list's now."""
    return (
        workshop.held_until is not None
        and workshop.held_until <= now
        and workshop.held_places > workshop.held_claimed
    )


def release_due_held_places(workshop: Workshop, now: datetime) -> bool:
    """On the locked workshop, inside the caller's write transaction: stop holding the
    unclaimed places whose release time has come (`held_release_due`), so they count as
    free; True when there were any. The caller gives them to the waiting list first
    (`promote_waitlist` does this itself), as `run-decisions` does."""
    require_transaction("Releasing held places")
    if not held_release_due(workshop, now):
        return False
    workshop.held_places = workshop.held_claimed
    db.session.flush()
    return True


def release_place(workshop: Workshop, *, held_place: bool = False) -> None:
    """Give one confirmed place back.

    A place taken with a referral code (`held_place`) goes back to the held
    places while they are not yet released (`held_until` still ahead, or none set),
    so another referred family can claim it; after the release it is held no longer
    (one held and claimed place fewer) and goes to the public and the waiting list
    like any other place.
    """
    require_transaction("Giving a place back")
    t = _workshop_table.c
    if held_place:
        back = db.session.execute(
            sa.update(_workshop_table)
            .where(
                t.id == workshop.id,
                t.confirmed_count > 0,
                t.held_claimed > 0,
                sa.or_(t.held_until.is_(None), t.held_until > utc_now()),
            )
            .values(confirmed_count=t.confirmed_count - 1, held_claimed=t.held_claimed - 1)
        )
        if back.rowcount == 1:
            db.session.expire(workshop, ["confirmed_count", "held_claimed"])
            return
        # Released already: the place is no longer held for anyone (staff's counts
        # showed it held and claimed for good, and refused setting fewer held places).
        gone = db.session.execute(
            sa.update(_workshop_table)
            .where(t.id == workshop.id, t.confirmed_count > 0, t.held_claimed > 0,
                   t.held_places > 0)
            .values(confirmed_count=t.confirmed_count - 1, held_claimed=t.held_claimed - 1,
                    held_places=t.held_places - 1)
        )
        if gone.rowcount == 1:
            db.session.expire(workshop, ["confirmed_count", "held_claimed", "held_places"])
            return
    db.session.execute(
        sa.update(_workshop_table)
        .where(t.id == workshop.id)
        .where(t.confirmed_count > 0)
        .values(confirmed_count=t.confirmed_count - 1)
    )
    db.session.expire(workshop, ["confirmed_count"])


def first_session_start(workshop: Workshop) -> datetime | None:
    """When the first session starts (cached on the workshop row)."""
    return workshop.first_starts_at


def booking_closes_at(workshop: Workshop) -> datetime | None:
    """When joining (and promotion from the waiting list) stops.

    The start of session number `late_join_until` (1 by default: the first session
    that will run). When that session is cancelled, the next one that will run; when
    none after it will, the last one that will (a course is never joined once its last
    session has begun).
    """
    late = workshop.late_join_until or 1
    if late > 1 and "sessions" not in sa.inspect(workshop).unloaded:
        # The sessions are loaded (a listing, the read API): no query.
        running = [s for s in workshop.sessions if s.status == SCHEDULED]
        from_late = [s.starts_at for s in running if s.number >= late]
        start = min(from_late) if from_late else max(
            (s.starts_at for s in running), default=None
        )
        if start is not None:
            return start
    elif late > 1:
        scheduled = (
            WorkshopSession.workshop_id == workshop.id,
            WorkshopSession.status == SCHEDULED,
        )
        start = db.session.scalar(
            sa.select(sa.func.min(WorkshopSession.starts_at)).where(
                *scheduled, WorkshopSession.number >= late
            )
        ) or db.session.scalar(sa.select(sa.func.max(WorkshopSession.starts_at)).where(*scheduled))
        if start is not None:
            return start
    return workshop.first_starts_at


RELEASE_HOURS_BEFORE_CLOSE = 48  # when a release time too late is brought forward to


def release_before_close(workshop: Workshop, now: datetime | None = None) -> None:
    """Keep the release of unclaimed held places before bookings close, after a change
    that closes them sooner (late joining shortened, the late-join week moved earlier):
    a release time at or after the close is brought forward to 48 hours before it, or
    to now once that has passed. Joins the caller's transaction."""
    if workshop.held_until is None or workshop.held_places <= workshop.held_claimed:
        return
    closes = booking_closes_at(workshop)
    if closes is None or workshop.held_until < closes:
        return
    now = now or utc_now()
    workshop.held_until = max(
        closes - timedelta(hours=RELEASE_HOURS_BEFORE_CLOSE), min(now, closes)
    )


def has_started(workshop: Workshop, now: datetime | None = None) -> bool:
    """Whether the workshop's first session has begun (its families have had some of it)."""
    return workshop.first_starts_at is not None and workshop.first_starts_at <= (now or utc_now())


def has_run(workshop: Workshop, now: datetime | None = None) -> bool:
    """Whether the workshop's last session is over (nothing of it is left to cancel)."""
    return workshop.last_ends_at is not None and workshop.last_ends_at <= (now or utc_now())


def booking_closed_reason(workshop: Workshop, now: datetime | None = None) -> str | None:
    """Why a workshop cannot be joined now, in words; None while it is open."""
    now = now or utc_now()
    if workshop.status == CANCELLED:
        return "This class has been cancelled, so it cannot be booked."
    if workshop.status != PUBLISHED:
        return "This class is not taking bookings."
    closes = booking_closes_at(workshop)
    if closes is None:
        return "This class has no sessions yet, so it cannot be booked."
    if now >= closes:
        tz = _centre_tz(workshop)
        return f"Booking for this class closed at {format_local(closes, tz)}."
    return None


def is_booking_open(workshop: Workshop, now: datetime | None = None) -> bool:
    """Whether the workshop can be joined (or its waiting list promoted) now."""
    return booking_closed_reason(workshop, now) is None


def late_join_week(workshop: Workshop, closes_at: datetime | None) -> int:
    """The number of the week whose start ends joining (`booking_closes_at`): the
    workshop's `late_join_until`, or, that week cancelled, the week that runs instead;
    1 when joining ends when the class starts."""
    late = workshop.late_join_until or 1
    if late <= 1 or closes_at is None:
        return late
    if "sessions" not in sa.inspect(workshop).unloaded:
        found = next((s.number for s in workshop.sessions
                      if s.status == SCHEDULED and s.starts_at == closes_at), None)
    else:
        found = db.session.scalar(
            sa.select(WorkshopSession.number).where(
                WorkshopSession.workshop_id == workshop.id,
                WorkshopSession.status == SCHEDULED,
                WorkshopSession.starts_at == closes_at,
            ).limit(1)
        )
    return found or late


def first_session_day(workshop: Workshop) -> date | None:
    """The local date of the first session, on which babies' ages are measured."""
    if workshop.first_starts_at is None:
        return None
    return to_local(workshop.first_starts_at, _centre_tz(workshop)).date()


SUGGESTIONS = 3  # classes offered instead of one that is closed or cancelled


@dataclass(frozen=True)
class Eligibility:
    """Whether a baby fits a workshop's age range, and why not."""

    eligible: bool
    age_weeks: int | None
    reason: str = ""


def weeks_label(weeks: int) -> str:
    """'1 week' or '4 weeks'."""
    return f"{weeks} week" if weeks == 1 else f"{weeks} weeks"


def age_text(baby: Baby | None, day: date) -> str:
    """A baby's age on a day as instructors and parents read it: "12 weeks", or for a
    baby born 3 or more weeks early "12 weeks, 8 weeks corrected"; "" when unknown."""
    if baby is None:
        return ""
    age = weeks_label(max(0, baby.age_weeks_on(day)))
    corrected = baby.corrected_age_weeks_on(day)
    if corrected is None:
        return age
    if corrected < 0:
        return f"{age}, {weeks_label(-corrected)} before the due date"
    return f"{age}, {weeks_label(corrected)} corrected"


def in_age_range(age_weeks: int, workshop: Workshop) -> bool:
    """Whether an age in whole weeks (`Baby.eligible_age_weeks_on` the first session's
    day) is within the workshop's ages (rule 2)."""
    return workshop.min_age_weeks <= age_weeks <= workshop.max_age_weeks


def eligibility(baby: Baby | None, workshop: Workshop) -> Eligibility:
    """Whether the baby's age in whole weeks at the first session is in the range
    (rule 2): the corrected age for a baby born 3 or more weeks early."""
    return eligibility_on(baby, workshop, first_session_day(workshop))


def eligibility_on(baby: Baby | None, workshop: Workshop, day: date | None) -> Eligibility:
    """`eligibility`, with the workshop's `first_session_day` given: a page weighing
    several babies for one workshop finds that day once."""
    if baby is None:
        return Eligibility(False, None, "This booking no longer has a baby on it.")
    if day is None:
        return Eligibility(False, None, "This class has no sessions yet.")
    age = baby.eligible_age_weeks_on(day)
    low, high = workshop.min_age_weeks, workshop.max_age_weeks
    if in_age_range(age, workshop):
        return Eligibility(True, age)
    corrected = baby.is_premature
    if age < 0 and corrected:
        when = (
            f"will be {weeks_label(-age)} short of the due date at the first session "
            "(ages are counted from the due date for a baby born early)"
        )
    elif age < 0:
        when = f"will not yet be born at the first session ({weeks_label(-age)} before)"
    elif corrected:
        when = (
            f"will be {weeks_label(age)} old, corrected for being born early, at the "
            "first session"
        )
    else:
        when = f"will be {weeks_label(age)} old at the first session"
    reason = (
        f"{baby.name} {when}; this class is for babies from {low} to {high} weeks."
    )
    return Eligibility(False, age, reason)


def booked_babies_outside(workshop: Workshop) -> dict[int, str]:
    """The babies holding places whose age does not fit the workshop as it is now (rule
    2), by baby id, with the reason in words."""
    babies = db.session.scalars(
        sa.select(Baby)
        .join(Registration, Registration.baby_id == Baby.id)
        .where(Registration.workshop_id == workshop.id, Registration.status.in_(HOLDS_PLACE))
        .order_by(Baby.name, Baby.id)
    ).all()
    fits = {baby.id: eligibility(baby, workshop) for baby in babies}
    return {baby_id: fit.reason for baby_id, fit in fits.items() if not fit.eligible}


def refuse_leaving_booked_babies_out(
    workshop: Workshop, before: dict[int, str], fields: list[str] | tuple = ()
) -> None:
    """After a change to a workshop's age range, inside its write transaction: Conflict
    naming the babies holding places who fitted `before` (`booked_babies_outside`) and
    would not now, so the whole change is rolled back; the refusal is given under each
    of `fields` (the age fields changed), so a form or a script can point at them."""
    require_transaction("Checking the booked babies' ages")
    outside = [
        reason for baby_id, reason in booked_babies_outside(workshop).items()
        if baby_id not in before
    ]
    if outside:
        message = (
            " ".join(outside[:3])
            + (f" And {len(outside) - 3} more." if len(outside) > 3 else "")
            + " They are booked: keep the class right for them, or move or cancel their "
            "bookings first."
        )
        raise Conflict(message, dict.fromkeys(fields, message))


def fitting_baby(baby_id: int | None, workshop: Workshop) -> Baby:
    """The baby, when its age fits the workshop (rule 2); Invalid with the reason if not."""
    baby = db.session.get(Baby, baby_id) if baby_id else None
    fit = eligibility(baby, workshop)
    if not fit.eligible:
        raise Invalid(fit.reason)
    return baby


def has_active_place(baby_id: int | None, workshop_id: int) -> bool:
    """Whether the baby is already booked or waiting in the workshop (rule 4)."""
    return db.session.scalar(
        sa.select(Registration.id).where(
            Registration.workshop_id == workshop_id,
            Registration.baby_id == baby_id,
            Registration.status.in_(ACTIVE),
        )
    ) is not None


def suggest_classes(
    baby: Baby | None, centre: Centre, exclude_id: int, now: datetime, limit: int = SUGGESTIONS
) -> list[Workshop]:
    """Published classes starting later with a place the public can book (make-up
    visitors' seats counted, as `public_places_left`) that fit the baby's age and that
    the baby is not already booked or waiting on: the same centre first, then the same
    town, then anywhere else."""
    query = (
        sa.select(Workshop, makeup_excess(Workshop.id, now))
        .join(Centre, Centre.id == Workshop.centre_id)
        .where(
            Workshop.id != exclude_id,
            visible_to_public(),
            Workshop.first_starts_at > now,
            Workshop.capacity
            > Workshop.confirmed_count + Workshop.held_places - Workshop.held_claimed,
        )
        .order_by(
            sa.case((Workshop.centre_id == centre.id, 0), (Centre.town == centre.town, 1), else_=2),
            Workshop.first_starts_at,
            Workshop.id,
        )
        .limit(50)
    )
    if baby is not None:
        query = query.where(
            ~sa.select(Registration.id)
            .where(
                Registration.workshop_id == Workshop.id,
                Registration.baby_id == baby.id,
                Registration.status.in_(ACTIVE),
            )
            .exists()
        )
    found = []
    for workshop, excess in db.session.execute(query):
        if public_places_left(workshop, now, excess=excess or 0) <= 0:
            continue
        if baby is not None and not eligibility(baby, workshop).eligible:
            continue
        found.append(workshop)
        if len(found) >= limit:
            break
    return found


def age_weeks_now(
    baby: Baby, today: date | None = None, *, at: Workshop | None = None
) -> int | None:
    """The baby's age in whole weeks today (for 'classes that would fit'): corrected
    for a baby born 3 or more weeks early, as the catalogue's age filter reads it; None
    for a baby not yet at their due date, whom no age in weeks describes (the filter
    would take them for a newborn, and list classes they do not fit). Today is the date
    at the centre of `at` (the class being booked): the filter counts each class's
    today in its own zone, and Sydney's is a day ahead of UTC for 11 hours a day."""
    if today is None:
        today = centre_today(at) if at is not None else utc_now().date()
    age = baby.eligible_age_weeks_on(today)
    return age if age >= 0 else None


def centre_today(workshop: Workshop) -> date:
    """Today's date at the workshop's centre."""
    return to_local(utc_now(), _centre_tz(workshop)).date()


def cancellation_cutoff(workshop: Workshop) -> datetime | None:
    """Until when a parent may cancel a confirmed place themselves."""
    if workshop.first_starts_at is None:
        return None
    return workshop.first_starts_at - timedelta(hours=workshop.cancellation_cutoff_hours)


def centre_timezone(workshop: Workshop) -> str:
    """The IANA zone of the workshop's centre."""
    return _centre_tz(workshop)


def _centre_tz(workshop: Workshop) -> str:
    return centre_of(workshop).timezone


def require_int(value, what: str) -> int:
    """A whole number from a caller, or Invalid."""
    if isinstance(value, bool):
        raise Invalid(f"{what} must be a whole number.")
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise Invalid(f"{what} must be a whole number.") from exc
