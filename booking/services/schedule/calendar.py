"""The staff term calendar: the sessions of a week, a month or a day at the centres a
person manages, each with its fill (booked, held, free, waiting) and its clashes.

Reads only, in the same few queries however many sessions a page shows: the sessions
(joined to their workshops, centres and instructors, with each workshop's number of
sessions and waiting list as subqueries), the rooms and instructors for the filters,
`busy_between` for the clashes, and the waiting babies of the classes with anyone
waiting (a waiting list counts those who fit the class's ages, as parents are told
their place in it: `waiting.waiting_counts`).

A session's "booked" is who that meeting expects: the workshop's confirmed places (a
place held while its parent pays included), less the absences told for that session,
plus the make-ups taken in it; "free" is the capacity less those and the unclaimed held
places (rule 11), as booking.services.courses.absences counts one session's seats.
Each session falls on its local day in its own centre's time zone. Cancelled sessions
and drafts are shown too; clashes are those of scheduled sessions only.
"""

from calendar import monthrange
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from babel.dates import format_date
from sqlalchemy.orm import aliased

from booking.extensions import db
from booking.models import (
    Centre,
    Membership,
    Registration,
    User,
    Workshop,
    WorkshopSession,
    utcnow,
)
from booking.models.people import ROLE_INSTRUCTOR
from booking.models.registration import WAITLISTED
from booking.models.workshop import CANCELLED, DRAFT, KIND_COURSE
from booking.services.booking.waiting import NOBODY_WAITING, waiting_counts
from booking.services.catalogue.params import InvalidQuery
from booking.services.errors import NotFound
from booking.services.schedule.calendar_params import CalendarParams, in_range
from booking.services.schedule.clashes import busy_between, clashes_among
from booking.timefmt import LOCALE, format_local_time, format_time_range, to_local, zone_abbrev

# Any zone's local day lies within a day either side of the same UTC day.
ZONE_MARGIN = timedelta(days=1)


def room_key(room: str) -> str:
    """A room's name as compared: spaces collapsed, case ignored (as clashes compare)."""
    return " ".join(room.split()).casefold()


def _long(day: date) -> str:
    return format_date(day, "EEEE d MMMM y", locale=LOCALE)


@dataclass(frozen=True)
class Person:
    """An instructor the filters offer."""

    id: int
    name: str


@dataclass(frozen=True)
class FilterChoices:
    """What the filters offer: the staff's centres, the rooms named at their sessions
    and the instructors who teach there."""

    centres: list[Centre]
    rooms: list[str]
    instructors: list[Person]


def filter_choices(centres: Sequence[Centre]) -> FilterChoices:
    """The rooms in use at these centres and their instructors (members, or teaching a
    workshop there), by name."""
    ids = [c.id for c in centres]
    if not ids:
        return FilterChoices([], [], [])
    rooms: dict[str, str] = {}
    for room in db.session.scalars(
        sa.select(WorkshopSession.room)
        .join(Workshop, Workshop.id == WorkshopSession.workshop_id)
        .where(Workshop.centre_id.in_(ids), WorkshopSession.room != "")
        .distinct()
    ):
        rooms.setdefault(room_key(room), " ".join(room.split()))
    teaching = sa.select(Workshop.instructor_id).where(Workshop.centre_id.in_(ids))
    members = sa.select(Membership.user_id).where(
        Membership.centre_id.in_(ids), Membership.role == ROLE_INSTRUCTOR
    )
    people = db.session.execute(
        sa.select(User.id, User.name)
        .where(sa.or_(User.id.in_(teaching), User.id.in_(members)))
        .order_by(User.name, User.id)
    )
    return FilterChoices(
        list(centres),
        sorted(rooms.values(), key=str.casefold),
        [Person(pid, name or f"Instructor {pid}") for pid, name in people],
    )


@dataclass
class CalendarSession:
    """One session as the calendar shows it."""

    session_id: int
    number: int
    starts_at: datetime
    ends_at: datetime
    room: str
    session_status: str
    absences: int
    makeups: int
    workshop_id: int
    title: str
    kind: str
    workshop_status: str
    capacity: int
    confirmed: int
    held_places: int
    held_claimed: int
    centre_id: int
    centre_name: str
    timezone: str
    instructor_name: str
    sessions_total: int
    # Waiting babies who fit the class's ages: the line as parents are told it
    # (`waiting.waiting_counts`).
    waiting: int
    clashes: list[str] = field(default_factory=list)
    # Waiting too, but the baby no longer fits the ages: skipped when a place comes free.
    waiting_outside: int = 0

    @property
    def local_day(self) -> date:
        return to_local(self.starts_at, self.timezone).date()

    @property
    def is_course(self) -> bool:
        return self.kind == KIND_COURSE

    @property
    def is_cancelled(self) -> bool:
        """The session, or its whole workshop, is cancelled."""
        return CANCELLED in (self.session_status, self.workshop_status)

    @property
    def is_draft(self) -> bool:
        return self.workshop_status == DRAFT

    @property
    def booked(self) -> int:
        return max(0, self.confirmed - self.absences + self.makeups)

    @property
    def held(self) -> int:
        return max(0, self.held_places - self.held_claimed)

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.held - self.booked)

    def starts(self, with_zone: bool) -> str:
        """'10:00', or '10:00 GMT' with the zone named."""
        text = format_local_time(self.starts_at, self.timezone)
        return f"{text} {zone_abbrev(self.starts_at, self.timezone)}" if with_zone else text

    def times(self, with_zone: bool) -> str:
        """'10:00–11:00', or '10:00–11:00 GMT' with the zone named; always with each
        end's zone when the clocks change between them ('01:30 EDT–01:30 EST')."""
        if with_zone or zone_abbrev(self.starts_at, self.timezone) != zone_abbrev(
            self.ends_at, self.timezone
        ):
            return format_time_range(self.starts_at, self.ends_at, self.timezone)
        return f"{self.starts(False)}\u2013{format_local_time(self.ends_at, self.timezone)}"

    def fill_text(self) -> str:
        """'5 booked · 2 held · 1 free · 3 waiting' (held and waiting only when any)."""
        parts = [f"{self.booked} booked"]
        if self.held:
            parts.append(f"{self.held} held")
        parts.append(f"{self.free} free")
        if self.waiting:
            parts.append(f"{self.waiting} waiting")
        return " \u00b7 ".join(parts)

    def bar(self) -> list[tuple[str, float, float]]:
        """The stacked fill bar as (part, x, width) in hundredths of its length: booked,
        held and free places, then the waiting list beyond them."""
        counts = (
            ("booked", self.booked),
            ("held", self.held),
            ("free", self.free),
            ("waiting", self.waiting),
        )
        total = sum(n for _, n in counts) or 1
        parts, x = [], 0.0
        for name, n in counts:
            if n:
                width = round(100 * n / total, 2)
                parts.append((name, round(x, 2), width))
                x += width
        return parts


@dataclass
class CalendarDay:
    """A day of the calendar with its sessions in time order; `shown` False for the
    days of a month's grid outside the month."""

    day: date
    sessions: list[CalendarSession]
    shown: bool = True

    @property
    def short(self) -> str:
        """'Mon 4 Jan'."""
        return format_date(self.day, "EEE d MMM", locale=LOCALE)

    @property
    def long(self) -> str:
        """'Monday 4 January 2027'."""
        return _long(self.day)

    @property
    def weekday(self) -> str:
        """'Monday'."""
        return format_date(self.day, "EEEE", locale=LOCALE)


@dataclass
class RoomGrid:
    """A day with rooms across: the columns' names and, for each start time, the
    sessions starting then in each column."""

    columns: list[str]
    rows: list[tuple[str, list[list[CalendarSession]]]]


@dataclass
class Calendar:
    """What the calendar page shows: the days of its view and where to go next."""

    params: CalendarParams
    title: str
    days: list[CalendarDay]
    zones: list[str]
    many_centres: bool
    today: date
    previous: date | None
    next: date | None

    @property
    def multi_zone(self) -> bool:
        """The centres shown keep more than one time zone: each time names its zone."""
        return len(self.zones) > 1

    @property
    def selected(self) -> CalendarDay:
        """The day `date`, which a phone shows on its own."""
        return next(d for d in self.days if d.day == self.params.day)

    @property
    def weeks(self) -> list[tuple[int, list[CalendarDay]]]:
        """The month's grid: (ISO week number, its seven days) from Monday."""
        return [
            (self.days[i].day.isocalendar()[1], self.days[i : i + 7])
            for i in range(0, len(self.days), 7)
        ]

    def step(self, days: int) -> date | None:
        """The day `days` after the selected one (None beyond the calendar's range)."""
        return in_range(self.params.day + timedelta(days=days))

    def room_grid(self) -> RoomGrid:
        """The selected day with a column per room named that day ("No room" for
        blank rooms; the centre named too when the day has more than one)."""
        sessions = self.selected.sessions
        many = len({s.centre_id for s in sessions}) > 1

        def column(s: CalendarSession) -> tuple:
            return (s.centre_name if many else "", not s.room, room_key(s.room))

        names: dict[tuple, str] = {}
        for s in sorted(sessions, key=column):
            name = " ".join(s.room.split()) or "No room"
            names.setdefault(column(s), f"{name}, {s.centre_name}" if many else name)
        keys = list(names)
        rows: dict[str, list[list[CalendarSession]]] = {}
        for s in sessions:
            cells = rows.setdefault(s.starts(self.multi_zone), [[] for _ in keys])
            cells[keys.index(column(s))].append(s)
        return RoomGrid(list(names.values()), list(rows.items()))


def _month_shift(day: date, months: int) -> date:
    """The same day of another month (its last day where that month is shorter)."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


def _span(view: str, day: date) -> tuple[date, date, date, date, str, date, date]:
    """A view of `day`: (its first and last day, the first and last day of its grid,
    its title, the `date` of the view before and of the view after)."""
    if view == "day":
        return day, day, day, day, _long(day), day - timedelta(1), day + timedelta(1)
    if view == "week":
        first = day - timedelta(days=day.weekday())
        last = first + timedelta(days=6)
        title = f"Week {day.isocalendar()[1]}: {_long(first)} to {_long(last)}"
        return first, last, first, last, title, day - timedelta(7), day + timedelta(7)
    first = day.replace(day=1)
    last = first.replace(day=monthrange(first.year, first.month)[1])
    return (
        first,
        last,
        first - timedelta(days=first.weekday()),
        last + timedelta(days=6 - last.weekday()),
        format_date(first, "MMMM y", locale=LOCALE),
        _month_shift(day, -1),
        _month_shift(day, 1),
    )


# Every session of a listed session's workshop, counted. Made once: an alias is dear to
# build.
_OTHERS = aliased(WorkshopSession, name="others")


def _sessions(
    params: CalendarParams, centre_ids: list[int], first: date, last: date
) -> list[CalendarSession]:
    """The sessions at those centres on the local days first..last, in time order."""
    if not centre_ids:
        return []
    others = _OTHERS
    sessions_total = (
        sa.select(sa.func.count()).where(others.workshop_id == Workshop.id).scalar_subquery()
    )
    waiting = (
        sa.select(sa.func.count())
        .where(Registration.workshop_id == Workshop.id, Registration.status == WAITLISTED)
        .scalar_subquery()
    )
    s = WorkshopSession
    query = (
        sa.select(
            s.id, s.number, s.starts_at, s.ends_at, s.room, s.status, s.absences,
            s.makeups_taken, Workshop.id, Workshop.title, Workshop.kind, Workshop.status,
            Workshop.capacity, Workshop.confirmed_count, Workshop.held_places,
            Workshop.held_claimed, Centre.id, Centre.name, Centre.timezone,
            sa.func.coalesce(User.name, ""), sessions_total, waiting, Workshop,
        )
        .join(Workshop, Workshop.id == s.workshop_id)
        .join(Centre, Centre.id == Workshop.centre_id)
        .outerjoin(User, User.id == Workshop.instructor_id)
        .where(
            Workshop.centre_id.in_(centre_ids),
            s.starts_at >= datetime.combine(first, time(), UTC) - ZONE_MARGIN,
            s.starts_at < datetime.combine(last, time(), UTC) + timedelta(1) + ZONE_MARGIN,
        )
        .order_by(s.starts_at, Workshop.title, s.id)
    )
    if params.instructor is not None:
        query = query.where(Workshop.instructor_id == params.instructor)
    found, workshops = [], {}
    for *columns, workshop in db.session.execute(query):
        item = CalendarSession(*columns)
        if not first <= item.local_day <= last:
            continue
        if params.room is not None and room_key(item.room) != room_key(params.room):
            continue
        found.append(item)
        workshops[workshop.id] = workshop
    _count_who_fits(found, workshops)
    return found


def _count_who_fits(sessions: list[CalendarSession], workshops: dict[int, Workshop]) -> None:
    """Split each session's waiting registrations (the SQL count) into babies who fit its
    class's ages and those who no longer do: one query for every class shown with
    someone waiting, none when nobody waits. The centres are the caller's, already in
    the session, so the classes' ages are measured without loading them again."""
    counts = waiting_counts(
        workshops.values(), upper={s.workshop_id: s.waiting for s in sessions}
    )
    for s in sessions:
        count = counts.get(s.workshop_id, NOBODY_WAITING)
        s.waiting, s.waiting_outside = count.fit, count.outside


def _mark_clashes(sessions: list[CalendarSession]) -> None:
    """Name each session's clashes with every scheduled session of any centre, shown or
    not: an instructor may also teach where this person does not manage."""
    live = [s for s in sessions if not s.is_cancelled]
    if not live:
        return
    busy = busy_between(min(s.starts_at for s in live), max(s.ends_at for s in live))
    found = clashes_among(busy)
    for s in live:
        messages = [f"Clash: {f.message()}" for f in found.get(s.session_id, [])]
        s.clashes = list(dict.fromkeys(messages))


def load_calendar(
    params: CalendarParams, choices: FilterChoices, now: datetime | None = None
) -> Calendar:
    """The calendar of a view at the centres of `choices` (or the one of them named by
    `centre`: NotFound for any other). Without a `date`, today in the first centre's
    zone; an instructor not among the choices is an InvalidQuery."""
    scope = choices.centres
    if params.centre is not None:
        scope = [c for c in scope if c.id == params.centre]
        if not scope:
            raise NotFound("That centre is not one of yours.")
    if params.instructor is not None and params.instructor not in {
        p.id for p in choices.instructors
    }:
        message = "Instructor (instructor) must be one who teaches at your centres."
        raise InvalidQuery(message, fields={"instructor": message})
    now = now or utcnow()
    today = to_local(now, scope[0].timezone).date() if scope else now.date()
    params = replace(params, day=params.day or today)
    first, last, grid_first, grid_last, title, previous, following = _span(
        params.view, params.day
    )
    sessions = _sessions(params, [c.id for c in scope], first, last)
    _mark_clashes(sessions)
    by_day: dict[date, list[CalendarSession]] = {}
    for s in sessions:
        by_day.setdefault(s.local_day, []).append(s)
    grid = (grid_first + timedelta(days=n) for n in range((grid_last - grid_first).days + 1))
    return Calendar(
        params=params,
        title=title,
        days=[CalendarDay(day, by_day.get(day, []), first <= day <= last) for day in grid],
        zones=sorted({c.timezone for c in scope}),
        many_centres=len(scope) > 1,
        today=today,
        previous=in_range(previous),
        next=in_range(following),
    )
