"""Running a workshop again: a copy on new dates, or a whole term's, as drafts.

A copy keeps the workshop's settings (title, texts, kind, places, ages, price and how it
is paid, cut-off, minimum numbers, the places held for referrals as staff set them
(not what is left once unclaimed ones were released), late joining, instructor), its topics,
its plan, and each session's room, length, plan and local wall-clock time. Every
session moves by the same number of days in the centre's calendar, so 10:00 stays
10:00 across a clock change. Registrations, attendance, referral codes, counters and
revisions stay behind, and cancelled sessions are not copied; the decision time and
the release of held places are set from the new first session, as for a new workshop.
An instructor who no longer teaches at the centre is left off the copy.

`copy_workshop` and `copy_term` each run as one write transaction: a bad date refuses
the whole copy, and so does a clash (booking.services.schedule.clashes) unless staff
keep both. `plan_copy`, `plan_term` and `suggested_first_date` answer the same
questions without writing, for the pages' previews.
"""

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from booking.db import write_transaction
from booking.extensions import db
from booking.models import Centre, Workshop, WorkshopSession, utcnow
from booking.models import workshop_topic as workshop_topic_table
from booking.models.workshop import CANCELLED, DRAFT, SCHEDULED
from booking.services.accounts.roles import instructor_at
from booking.services.errors import Invalid, NotFound
from booking.services.schedule import fields as rules
from booking.services.schedule.clashes import (
    Busy,
    Clash,
    ClashFound,
    find_clashes,
    lock_schedule,
    planned_sessions,
)
from booking.services.schedule.workshop_input import (
    DECISION_HOURS_BEFORE,
    HELD_RELEASE_HOURS_BEFORE,
    find_duplicate,
    held_too_late_message,
)
from booking.timefmt import format_local, local_to_utc, to_local

MAX_WEEKS_LATER = 104
MAX_TERM_WORKSHOPS = 200
SUGGESTED_WEEKS_TRIED = 12


def clean_weeks_later(value) -> int:
    """How many weeks later a term is copied: a whole number from 1 to MAX_WEEKS_LATER."""
    return rules.whole(value, label="Weeks later", low=1, high=MAX_WEEKS_LATER)


@dataclass
class PlannedSession:
    """One session of the copy: the session it copies, and its new start and end (UTC)."""

    source: WorkshopSession
    starts_at: datetime
    ends_at: datetime


@dataclass
class PlannedCopy:
    """What copying one workshop would write."""

    source: Workshop
    centre: Centre
    instructor_id: int | None
    sessions: list[PlannedSession]
    topics: list[str] = field(default_factory=list)

    @property
    def first_starts_at(self) -> datetime:
        return self.sessions[0].starts_at

    @property
    def instructor_dropped(self) -> bool:
        """The source's instructor no longer teaches at the centre: the copy has none."""
        return self.source.instructor_id is not None and self.instructor_id is None

    def label(self) -> str:
        """'“Baby massage” from Tue 3 Nov 2026, 10:00 GMT'."""
        when = format_local(self.first_starts_at, self.centre.timezone)
        return f"\u201c{self.source.title}\u201d from {when}"


# --- use cases ----------------------------------------------------------------------------


def copy_workshop(workshop_id: int, new_first_date: date, *, allow_clash: bool = False) -> Workshop:
    """Copy a workshop as a draft whose first session is on `new_first_date` (the
    centre's calendar); see the module's docstring for what is copied. Raises NotFound,
    Invalid (on `first_date`) for a date in the past or out of range, or Clash unless
    `allow_clash`."""
    with write_transaction():
        workshop = db.session.get(Workshop, workshop_id)
        if workshop is None:
            raise NotFound("There is no such workshop.")
        lock_schedule()  # before the centre's row, as create_workshop
        _lock_centre(workshop.centre_id)
        plan = plan_copy(workshop_id, new_first_date)
        copy, found = _write(plan)
        if found and not allow_clash:
            raise Clash(found, "first_date")
    return copy


def copy_term(
    centre_id: int,
    date_from: date,
    date_to: date,
    weeks_later: int,
    *,
    allow_clash: bool = False,
) -> list[Workshop]:
    """Copy, as drafts `weeks_later` weeks on, every workshop of the centre (not
    cancelled) whose first session falls from `date_from` to `date_to` in the centre's
    calendar: all of them or none. Raises NotFound, Invalid (on `date_from`, `date_to`
    or `weeks_later`), or Clash naming every clash unless `allow_clash`."""
    with write_transaction():
        lock_schedule()  # before the centre's row, as create_workshop
        _lock_centre(centre_id)
        plans = plan_term(centre_id, date_from, date_to, weeks_later)
        copies, found = [], []
        for plan in plans:
            copy, clashes = _write(plan)
            copies.append(copy)
            found.extend(clashes)
        if found and not allow_clash:
            raise Clash(found, "weeks_later")
    return copies


# --- previews (read only) -------------------------------------------------------------------


def plan_copy(workshop_id: int, new_first_date: date) -> PlannedCopy:
    """What copy_workshop would write, without writing; Invalid on `first_date` as it
    would be refused."""
    workshop = db.session.get(Workshop, workshop_id)
    if workshop is None:
        raise NotFound("There is no such workshop.")
    centre = db.session.get(Centre, workshop.centre_id)
    date_value = _date(new_first_date, "first_date", "The new first session")
    sessions = _live_sessions([workshop.id]).get(workshop.id, [])
    if not sessions:
        raise Invalid(
            "This workshop has no sessions left to copy.",
            {"first_date": "This workshop has no sessions left to copy (all are cancelled)."},
        )
    first_local = to_local(sessions[0].starts_at, centre.timezone).date()
    plan = _shifted(workshop, centre, sessions, (date_value - first_local).days, "first_date")
    plan.topics = _topics([workshop.id]).get(workshop.id, [])
    problem = _problem(plan)
    if problem:
        raise Invalid(problem, {"first_date": problem})
    return plan


def plan_term(centre_id: int, date_from: date, date_to: date, weeks: int) -> list[PlannedCopy]:
    """What copy_term would write, in the order of the first sessions, without writing;
    Invalid naming every field or workshop it would refuse."""
    centre = db.session.get(Centre, centre_id)
    if centre is None:
        raise NotFound("There is no such centre.")
    errors: dict[str, str] = {}
    start = _date(date_from, "date_from", "The first date", errors)
    end = _date(date_to, "date_to", "The last date", errors)
    try:
        weeks = clean_weeks_later(weeks)
    except rules.FieldError as exc:
        errors["weeks_later"] = str(exc)
    if start and end and end < start:
        errors["date_to"] = "The last date must be on or after the first date."
    if errors:
        raise Invalid("Please check the dates of the term.", errors)
    workshops = list(
        db.session.scalars(
            sa.select(Workshop)
            .where(
                Workshop.centre_id == centre.id,
                Workshop.status != CANCELLED,
                Workshop.first_starts_at >= _local_midnight(start, centre.timezone),
                Workshop.first_starts_at
                < _local_midnight(end + timedelta(days=1), centre.timezone),
            )
            .order_by(Workshop.first_starts_at, Workshop.id)
            .limit(MAX_TERM_WORKSHOPS + 1)
        )
    )
    if len(workshops) > MAX_TERM_WORKSHOPS:
        message = (
            f"At most {MAX_TERM_WORKSHOPS} workshops can be copied at once: "
            "choose fewer dates."
        )
        raise Invalid(message, {"date_to": message})
    ids = [w.id for w in workshops]
    sessions, topics = _live_sessions(ids), _topics(ids)
    plans, problems = [], []
    for workshop in workshops:
        if not sessions.get(workshop.id):
            continue  # every session cancelled: nothing to run again
        plan = _shifted(workshop, centre, sessions[workshop.id], 7 * weeks, "weeks_later")
        plan.topics = topics.get(workshop.id, [])
        problem = _problem(plan)
        if problem:
            problems.append(f"{plan.label()}: {problem}")
        plans.append(plan)
    if problems:
        raise Invalid(" ".join(problems), {"weeks_later": " ".join(problems)})
    return plans


def planned_clashes(plan: PlannedCopy) -> list[ClashFound]:
    """What the copy would clash with among what is already written (a preview)."""
    return find_clashes(_busy(plan, plan.source))


def suggested_first_date(workshop_id: int) -> date | None:
    """The date offered for a copy's first session: the first session's weekday, in the
    first week after its last session (and after today) whose copy could be made and
    clashes with nothing; the first possible one when each of the next
    SUGGESTED_WEEKS_TRIED weeks clashes. None when nothing is left to copy."""
    workshop = db.session.get(Workshop, workshop_id)
    if workshop is None:
        return None
    centre = db.session.get(Centre, workshop.centre_id)
    sessions = _live_sessions([workshop.id]).get(workshop.id, [])
    if not sessions:
        return None
    tz = centre.timezone
    first = to_local(sessions[0].starts_at, tz).date()
    after = max(to_local(sessions[-1].starts_at, tz).date(), to_local(utcnow(), tz).date())
    weeks = (after - first).days // 7 + 1
    possible = None
    for week in range(weeks, weeks + SUGGESTED_WEEKS_TRIED):
        candidate = first + timedelta(weeks=week)
        try:
            plan = _shifted(workshop, centre, sessions, (candidate - first).days, "first_date")
        except Invalid:
            break  # beyond the date window
        if _problem(plan):
            continue
        if possible is None:
            possible = candidate
        if not planned_clashes(plan):
            return candidate
    return possible or first + timedelta(weeks=weeks)


def copies(centre_id: int, workshop_ids: list[int]) -> list[Workshop]:
    """The workshops with those ids at the centre, in the order given (what a copy made)."""
    if not workshop_ids:
        return []
    found = {
        w.id: w
        for w in db.session.scalars(
            sa.select(Workshop).where(
                Workshop.id.in_(workshop_ids), Workshop.centre_id == centre_id
            )
        )
    }
    return [found[i] for i in dict.fromkeys(workshop_ids) if i in found]


# --- the steps --------------------------------------------------------------------------------


def _lock_centre(centre_id: int) -> None:
    """One creation per centre at a time (as create_workshop), so the duplicate check holds."""
    if db.session.execute(
        sa.select(Centre.id).where(Centre.id == centre_id).with_for_update()
    ).first() is None:
        raise NotFound("There is no such centre.")


def _date(value, name: str, label: str, errors: dict | None = None) -> date | None:
    """A date (not a datetime) within the date window; Invalid, or the error noted."""
    try:
        if isinstance(value, datetime) or not isinstance(value, date):
            raise rules.FieldError(f"Give {label.lower()} as a date (YYYY-MM-DD).")
        return rules.in_date_window(value, label)
    except rules.FieldError as exc:
        if errors is None:
            raise Invalid(str(exc), {name: str(exc)}) from None
        errors[name] = str(exc)
        return None


def _local_midnight(day: date, tz: str) -> datetime:
    return local_to_utc(datetime.combine(day, time.min), tz)


def _live_sessions(workshop_ids: list[int]) -> dict[int, list[WorkshopSession]]:
    """The scheduled sessions of each workshop, in time order."""
    found: dict[int, list[WorkshopSession]] = {}
    if not workshop_ids:
        return found
    for session in db.session.scalars(
        sa.select(WorkshopSession)
        .where(
            WorkshopSession.workshop_id.in_(workshop_ids),
            WorkshopSession.status == SCHEDULED,
        )
        .order_by(WorkshopSession.starts_at, WorkshopSession.id)
    ):
        found.setdefault(session.workshop_id, []).append(session)
    return found


def _topics(workshop_ids: list[int]) -> dict[int, list[str]]:
    t = workshop_topic_table.c
    found: dict[int, list[str]] = {}
    if workshop_ids:
        for workshop_id, slug in db.session.execute(
            sa.select(t.workshop_id, t.topic)
            .where(t.workshop_id.in_(workshop_ids))
            .order_by(t.topic)
        ):
            found.setdefault(workshop_id, []).append(slug)
    return found


def _shifted(
    workshop: Workshop, centre: Centre, sessions: list[WorkshopSession], days: int, name: str
) -> PlannedCopy:
    """The sessions moved by `days` in the centre's calendar, each keeping its local
    wall-clock start and its length; Invalid on `name` for a date out of the window."""
    tz = centre.timezone
    planned = []
    for session in sessions:
        local = to_local(session.starts_at, tz).replace(tzinfo=None)
        try:
            moved = rules.in_date_window(local + timedelta(days=days), "A session of the copy")
        except (rules.FieldError, OverflowError):
            message = (
                f"A session of the copy would fall outside the years {rules.FIRST_YEAR} "
                f"to {rules.LAST_YEAR}."
            )
            raise Invalid(message, {name: message}) from None
        starts_at = local_to_utc(moved, tz)
        planned.append(
            PlannedSession(session, starts_at, starts_at + (session.ends_at - session.starts_at))
        )
    kept = instructor_at(workshop.instructor_id, centre.id) if workshop.instructor_id else None
    return PlannedCopy(workshop, centre, kept.id if kept else None, planned)


def _late_join_in_copy(plan: PlannedCopy) -> int:
    """The copy's `late_join_until`: the same session as the source's, numbered among
    the sessions copied (a cancelled week is not copied, so later ones move up)."""
    late = plan.source.late_join_until or 1
    before = sum(1 for s in plan.sessions if s.source.number < late)
    return max(1, min(before + 1, len(plan.sessions)))


def _problem(plan: PlannedCopy) -> str | None:
    """Why the copy cannot be made (as a new workshop could not), or None."""
    first = plan.first_starts_at
    now = utcnow()
    if first <= now:
        return "The first session of the copy must be in the future."
    if plan.source.min_places and first - timedelta(hours=DECISION_HOURS_BEFORE) <= now:
        return (
            f"It has minimum numbers, so its first session must be more than "
            f"{DECISION_HOURS_BEFORE} hours away, to leave time to decide."
        )
    if plan.source.held_set and first - timedelta(hours=HELD_RELEASE_HOURS_BEFORE) <= now:
        return f"It holds places for referrals. {held_too_late_message()}"
    if find_duplicate(plan.centre.id, plan.source.title, first, plan.instructor_id):
        return (
            f"\u201c{plan.source.title}\u201d with this instructor already starts at "
            f"{format_local(first, plan.centre.timezone)}."
        )
    return None


def _write(plan: PlannedCopy) -> tuple[Workshop, list[ClashFound]]:
    """Add the copy, flush it, and find its clashes (with what exists and with the
    copies already written in this transaction)."""
    src = plan.source
    first = plan.first_starts_at
    held = min(src.held_set, src.capacity)
    copy = Workshop(
        centre_id=src.centre_id,
        instructor_id=plan.instructor_id,
        kind=src.kind,
        title=src.title,
        description=src.description,
        what_to_bring=src.what_to_bring,
        capacity=src.capacity,
        confirmed_count=0,
        min_age_weeks=src.min_age_weeks,
        max_age_weeks=src.max_age_weeks,
        price=src.price,
        cancellation_cutoff_hours=src.cancellation_cutoff_hours,
        payment_mode=src.payment_mode,
        deposit=src.deposit,
        refund_fee=src.refund_fee,
        plan_template=src.plan_template,
        status=DRAFT,
        min_places=src.min_places,
        decision_at=first - timedelta(hours=DECISION_HOURS_BEFORE) if src.min_places else None,
        run_confirmed=False,
        # The places staff chose to hold, not what is left of them once released.
        held_places=held,
        held_set=held,
        held_claimed=0,
        held_until=first - timedelta(hours=HELD_RELEASE_HOURS_BEFORE) if held else None,
        late_join_until=_late_join_in_copy(plan),
        first_starts_at=first,
        last_ends_at=max(s.ends_at for s in plan.sessions),
    )
    db.session.add(copy)
    db.session.flush()
    sessions = [
        WorkshopSession(
            workshop_id=copy.id,
            number=number,
            starts_at=s.starts_at,
            ends_at=s.ends_at,
            room=s.source.room,
            plan_title=s.source.plan_title,
            plan_covers=s.source.plan_covers,
            plan_practice=s.source.plan_practice,
        )
        for number, s in enumerate(plan.sessions, start=1)
    ]
    db.session.add_all(sessions)
    if plan.topics:
        db.session.execute(
            workshop_topic_table.insert(),
            [{"workshop_id": copy.id, "topic": slug} for slug in plan.topics],
        )
    db.session.flush()
    return copy, find_clashes(_busy(plan, copy, [s.id for s in sessions]))


def _busy(plan: PlannedCopy, workshop: Workshop, ids: list[int] | None = None) -> list[Busy]:
    """The copy's sessions as Busy rows, each in its own room."""
    rows = planned_sessions(
        workshop,
        [(s.starts_at, s.ends_at) for s in plan.sessions],
        "",
        session_ids=ids,
    )
    if workshop is plan.source and plan.instructor_dropped:
        rows = [replace(b, instructor_id=None, instructor_name="") for b in rows]
    return [replace(b, room=s.source.room or "") for b, s in zip(rows, plan.sessions, strict=True)]
