"""Clashes: a room or an instructor booked twice at the same time.

Two scheduled sessions (of workshops not cancelled, drafts included) clash when
- they are in the same named room of the same centre and overlap ("room"),
- the same instructor teaches both and they overlap ("instructor"), or
- the same instructor teaches both at different centres with less than TRAVEL between
  them ("travel").
A session without a room never clashes by room. Creating, moving, importing and copying
sessions, and giving a workshop another instructor (its sessions to come, by instructor
only), call `refuse_clashes`, which raises Clash (409, code "clash") naming the other
session unless staff said "I know, keep both"; the term calendar marks clashes that exist
with `clashes_among`.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from booking.extensions import db
from booking.models import Centre, User, Workshop, WorkshopSession
from booking.models.workshop import CANCELLED, PUBLISHED, SCHEDULED
from booking.services.errors import Conflict
from booking.timefmt import format_time_range

TRAVEL = timedelta(minutes=30)
# PostgreSQL advisory lock key: one schedule change that checks clashes at a time, so two
# moves into the same room cannot both pass the check. Taken after a workshop's row lock
# and before a centre's (create_workshop, copies and imports take it first).
SCHEDULE_LOCK_KEY = 7_310_042
REASONS = ("room", "instructor", "travel")


@dataclass(frozen=True)
class Busy:
    """A session that keeps a room and an instructor busy (or one about to be written:
    session_id None)."""

    session_id: int | None
    workshop_id: int | None
    number: int
    title: str
    centre_id: int
    centre_name: str
    timezone: str
    room: str
    instructor_id: int | None
    instructor_name: str
    starts_at: datetime
    ends_at: datetime
    # Whether its workshop is published: one that is not is named only at its own
    # centre (its title and room are that centre's business until it is published).
    published: bool = True

    @property
    def room_key(self) -> str:
        return " ".join(self.room.split()).casefold()

    def label(self) -> str:
        """'"Baby massage" week 2 (Tue 12 Jan 2027, 10:00-11:00 GMT, Room 1)'."""
        when = format_time_range(self.starts_at, self.ends_at, self.timezone, with_day=True)
        where = f", {self.room}" if self.room else ""
        week = f" week {self.number}" if self.number else ""
        return f"\u201c{self.title}\u201d{week} ({when}{where})"

    def unnamed_label(self) -> str:
        """'a class not yet published (Tue 12 Jan 2027, 10:00-11:00 GMT)'."""
        when = format_time_range(self.starts_at, self.ends_at, self.timezone, with_day=True)
        return f"a class not yet published ({when})"


@dataclass(frozen=True)
class ClashFound:
    """Why `busy` cannot also have `other`."""

    reason: str
    busy: Busy
    other: Busy

    @property
    def other_unnamed(self) -> bool:
        """The other session is of a class not yet published at another centre: said to
        be one, at its time, without its title, week, room or ids."""
        return not self.other.published and self.other.centre_id != self.busy.centre_id

    def message(self) -> str:
        other = self.other
        label = other.unnamed_label() if self.other_unnamed else other.label()
        if self.reason == "room":
            return f"{other.room} at {other.centre_name} is already taken by {label}."
        who = other.instructor_name or "The instructor"
        if self.reason == "instructor":
            return f"{who} is already teaching {label}."
        return (
            f"{who} teaches {label} at {other.centre_name}: there must be at least "
            f"{int(TRAVEL.total_seconds() // 60)} minutes to travel between centres."
        )

    def as_json(self) -> dict:
        """What the staff API says about the other session (ids, title, week and room
        null for a class not yet published at another centre)."""
        other = self.other
        unnamed = self.other_unnamed
        return {
            "reason": self.reason,
            "session_id": None if unnamed else other.session_id,
            "workshop_id": None if unnamed else other.workshop_id,
            "title": None if unnamed else other.title,
            "number": None if unnamed else other.number,
            "centre": other.centre_name,
            "room": None if unnamed else other.room,
            "starts_at": other.starts_at.isoformat(),
            "ends_at": other.ends_at.isoformat(),
        }


class Clash(Conflict):
    """A room or instructor already busy then (409); staff may keep both."""

    code = "clash"

    def __init__(self, found: Sequence[ClashFound], field: str = "starts_local"):
        messages = summarise(found)
        message = " ".join(messages)
        if len(messages) > 1:
            message = f"{len(messages)} clashes: {message}"
        super().__init__(message, {field: messages[0]})
        self.found = list(found)
        self.details = {"clashes": [f.as_json() for f in self.found]}


def summarise(found: Sequence[ClashFound]) -> list[str]:
    """One line per other workshop and reason: its first clashing session named, and how
    many more of its sessions clash ("... and 3 more of its sessions")."""
    groups: dict[tuple, list[ClashFound]] = {}
    for f in found:
        key = (f.reason, f.other.workshop_id or f.other.session_id)
        groups.setdefault(key, []).append(f)
    lines = []
    for group in groups.values():
        first = min(group, key=lambda f: f.other.starts_at)
        more = len({f.other.session_id for f in group}) - 1
        line = first.message()
        if more:
            line = f"{line[:-1]}, and {more} more of its sessions{line[-1]}"
        lines.append(line)
    return lines


def reason_between(a: Busy, b: Busy) -> str | None:
    """Why two sessions cannot both happen, or None."""
    overlap = a.starts_at < b.ends_at and b.starts_at < a.ends_at
    if overlap and a.centre_id == b.centre_id and a.room_key and a.room_key == b.room_key:
        return "room"
    if a.instructor_id is None or a.instructor_id != b.instructor_id:
        return None
    if overlap:
        return "instructor"
    if a.centre_id != b.centre_id and (
        a.starts_at < b.ends_at + TRAVEL and b.starts_at < a.ends_at + TRAVEL
    ):
        return "travel"
    return None


def _busy_query():
    """Scheduled sessions of workshops not cancelled, as `Busy` columns."""
    return (
        sa.select(
            WorkshopSession.id,
            WorkshopSession.workshop_id,
            WorkshopSession.number,
            Workshop.title,
            Workshop.centre_id,
            Centre.name,
            Centre.timezone,
            WorkshopSession.room,
            Workshop.instructor_id,
            User.name,
            WorkshopSession.starts_at,
            WorkshopSession.ends_at,
            Workshop.status == PUBLISHED,
        )
        .join(Workshop, Workshop.id == WorkshopSession.workshop_id)
        .join(Centre, Centre.id == Workshop.centre_id)
        .outerjoin(User, User.id == Workshop.instructor_id)
        .where(WorkshopSession.status == SCHEDULED, Workshop.status != CANCELLED)
    )


def busy_between(
    starts: datetime,
    ends: datetime,
    *,
    centre_ids: Iterable[int] | None = None,
    instructor_ids: Iterable[int] | None = None,
) -> list[Busy]:
    """Scheduled sessions of workshops not cancelled that touch [starts - TRAVEL,
    ends + TRAVEL], at those centres or taught by those instructors (None: any)."""
    query = (
        _busy_query()
        .where(
            WorkshopSession.starts_at < ends + TRAVEL,
            WorkshopSession.ends_at > starts - TRAVEL,
        )
        .order_by(WorkshopSession.starts_at, WorkshopSession.id)
    )
    scopes = []
    if centre_ids is not None:
        scopes.append(Workshop.centre_id.in_(list(centre_ids)))
    if instructor_ids is not None:
        scopes.append(Workshop.instructor_id.in_([i for i in instructor_ids if i is not None]))
    if scopes:
        query = query.where(sa.or_(*scopes))
    return [Busy(*row) for row in db.session.execute(query)]


def busy_sessions(session_ids: Iterable[int]) -> list[Busy]:
    """These sessions as they are written now (flushed changes included), those that
    keep a room or an instructor busy (scheduled, of workshops not cancelled)."""
    ids = list(session_ids)
    if not ids:
        return []
    query = _busy_query().where(WorkshopSession.id.in_(ids)).order_by(
        WorkshopSession.starts_at, WorkshopSession.id
    )
    return [Busy(*row) for row in db.session.execute(query)]


def find_clashes(planned: Sequence[Busy], ignore_ids: Iterable[int] = ()) -> list[ClashFound]:
    """Every clash of the planned sessions with what is already written (flushed rows of
    the current transaction included), other than the sessions in ignore_ids."""
    if not planned:
        return []
    ignore = set(ignore_ids) | {p.session_id for p in planned if p.session_id is not None}
    existing = busy_between(
        min(p.starts_at for p in planned),
        max(p.ends_at for p in planned),
        centre_ids={p.centre_id for p in planned},
        instructor_ids={p.instructor_id for p in planned},
    )
    found = []
    for p in planned:
        for other in existing:
            if other.session_id in ignore:
                continue
            reason = reason_between(p, other)
            if reason:
                found.append(ClashFound(reason, p, other))
    return found


def lock_schedule() -> None:
    """Inside a write transaction: wait for any other schedule change that checks clashes
    (PostgreSQL; SQLite's writer already goes one at a time). Released at commit."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(SCHEDULE_LOCK_KEY)))


def refuse_clashes(
    planned: Sequence[Busy],
    *,
    allow_clash: bool = False,
    ignore_ids: Iterable[int] = (),
    field: str = "starts_local",
) -> None:
    """Raise Clash naming what the planned sessions clash with, unless allow_clash."""
    if allow_clash:
        return
    lock_schedule()
    found = find_clashes(planned, ignore_ids)
    if found:
        raise Clash(found, field)


def clashes_in_order(planned: Sequence[Sequence[Busy]]) -> list[list[ClashFound]]:
    """For each group of planned sessions (a file's rows, in order): its clashes with what
    is already written and with the groups before it. One query for all of them."""
    every = [b for group in planned for b in group]
    if not every:
        return [[] for _ in planned]
    existing = busy_between(
        min(b.starts_at for b in every),
        max(b.ends_at for b in every),
        centre_ids={b.centre_id for b in every},
        instructor_ids={b.instructor_id for b in every},
    )
    by_instructor: dict[int, list[Busy]] = {}
    by_room: dict[tuple[int, str], list[Busy]] = {}

    def remember(busy: Busy) -> None:
        if busy.instructor_id is not None:
            by_instructor.setdefault(busy.instructor_id, []).append(busy)
        if busy.room_key:
            by_room.setdefault((busy.centre_id, busy.room_key), []).append(busy)

    for busy in existing:
        remember(busy)
    answers = []
    for group in planned:
        found = []
        for p in group:
            candidates = by_instructor.get(p.instructor_id, []) + by_room.get(
                (p.centre_id, p.room_key), []
            )
            seen = set()
            for other in candidates:
                if id(other) in seen:
                    continue
                seen.add(id(other))
                reason = reason_between(p, other)
                if reason:
                    found.append(ClashFound(reason, p, other))
        answers.append(found)
        for p in group:
            remember(p)
    return answers


def planned_sessions(
    workshop: Workshop,
    times: Iterable[tuple[datetime, datetime]],
    room: str,
    session_ids: Iterable[int | None] | None = None,
    numbers: Iterable[int] | None = None,
) -> list[Busy]:
    """Busy entries for a workshop's sessions about to be written."""
    centre_name, tz = db.session.execute(
        sa.select(Centre.name, Centre.timezone).where(Centre.id == workshop.centre_id)
    ).one()
    instructor_name = (
        db.session.scalar(sa.select(User.name).where(User.id == workshop.instructor_id))
        if workshop.instructor_id
        else ""
    ) or ""
    times = list(times)
    ids = list(session_ids) if session_ids is not None else [None] * len(times)
    nums = list(numbers) if numbers is not None else list(range(1, len(times) + 1))
    return [
        Busy(
            session_id=sid,
            workshop_id=workshop.id,
            number=number,
            title=workshop.title,
            centre_id=workshop.centre_id,
            centre_name=centre_name,
            timezone=tz,
            room=room or "",
            instructor_id=workshop.instructor_id,
            instructor_name=instructor_name,
            starts_at=start,
            ends_at=end,
        )
        for sid, number, (start, end) in zip(ids, nums, times, strict=True)
    ]


def clashes_among(items: Sequence[Busy]) -> dict[int, list[ClashFound]]:
    """For the term calendar: each session's clashes with the others given (by id).

    Sorted by start, so each session is compared only with those starting before it
    ends (plus TRAVEL), not with every other."""
    ordered = sorted(items, key=lambda b: (b.starts_at, b.session_id or 0))
    found: dict[int, list[ClashFound]] = {}
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            if b.starts_at >= a.ends_at + TRAVEL:
                break
            reason = reason_between(a, b)
            if reason and a.session_id is not None and b.session_id is not None:
                found.setdefault(a.session_id, []).append(ClashFound(reason, a, b))
                found.setdefault(b.session_id, []).append(ClashFound(reason, b, a))
    return found

