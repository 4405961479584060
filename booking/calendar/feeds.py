"""Subscription feeds: a centre's or an instructor's public schedule, and a private feed.

A feed is described by a `FeedSource` (what to select and what to call it). Its
version (strong ETag and Last-Modified) comes from one aggregate query, so a
calendar app polling with If-None-Match is answered without rendering anything.
Events use the session's stable UID, SEQUENCE = revision and DTSTAMP = the
session's updated_at, so the same data always renders to the same bytes. A session's
plan title opens its description; writing a plan moves the session's updated_at (never
its revision), so the version changes with it.

Unlike invites and emails, feeds keep their read queries here, beside the rendering:
they change nothing, run outside any use case's transaction, and the version query
must cover exactly the rows and columns `render_feed` shows, or a calendar app would
be told "not modified" about a feed that did change. Keeping both in one module keeps
that pairing visible; sessions come with their workshop and centre in one query, as
plain rows.
"""

import functools
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import sqlalchemy as sa
from icalendar import Timezone
from sqlalchemy.orm import aliased

from booking.calendar.build import (
    base_url,
    calendar_host,
    class_url,
    event_text,
    new_calendar,
    session_summary,
    session_uid,
    to_text,
)
from booking.calendar.data import SessionData
from booking.extensions import db
from booking.models import (
    Absence,
    Baby,
    Centre,
    InstructorProfile,
    MakeupBooking,
    Membership,
    Registration,
    User,
    Workshop,
)
from booking.models import WorkshopSession as Session
from booking.models.centre import one_line_address
from booking.models.people import ROLE_INSTRUCTOR
from booking.models.registration import CANCELLED as BOOKING_CANCELLED
from booking.models.registration import CONFIRMED
from booking.models.workshop import KIND_COURSE, SCHEDULED

PAST_DAYS = 30
FORMAT_VERSION = "2"
END_CALENDAR = "END:VCALENDAR\r\n"


@dataclass(frozen=True)
class FeedSource:
    """What one feed contains and what it is called."""

    kind: str  # "centre", "instructor" or "private"
    key: int
    name: str
    description: str
    filename: str
    timezone: str | None = None
    teacher_id: int | None = None
    parent_id: int | None = None
    # The values of the feed's conditions (`_where`): its key, or a private feed's ids.
    params: dict = field(default_factory=dict, compare=False)
    # A private feed's own rows (`_personal_rows`), as read to choose its sessions.
    personal: tuple | None = field(default=None, compare=False)

    @property
    def is_private(self) -> bool:
        """Private feeds hold personal data and are never cached by shared caches."""
        return self.kind == "private"


@dataclass(frozen=True)
class FeedVersion:
    """A feed's validators, computed without rendering it."""

    etag: str
    # Informative only: a class that leaves a feed (unpublished, given to another
    # instructor) changes the ETag but no date of the rows still in it, and two changes
    # can fall in one second. So only the ETag answers 304.
    last_modified: datetime | None


def _since() -> datetime:
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(
        days=PAST_DAYS
    )


def centre_feed(slug: str) -> FeedSource | None:
    """The public feed of a published centre, or None."""
    centre = db.session.scalar(
        sa.select(Centre).where(Centre.slug == slug, Centre.published.is_(True))
    )
    if centre is None:
        return None
    return FeedSource(
        kind="centre",
        key=centre.id,
        name=f"Baby massage classes at {centre.name}",
        description=f"Every class at {centre.name}, {centre.town}. From {base_url()}",
        filename=f"{centre.slug}.ics",
        timezone=centre.timezone,
        params={"feed_key": centre.id},
    )


def instructor_feed(instructor_id: int) -> FeedSource | None:
    """The public teaching schedule of an instructor (a user with a profile), or None."""
    profile = db.session.scalar(
        sa.select(InstructorProfile).where(InstructorProfile.user_id == instructor_id)
    )
    if profile is None:
        return None
    return FeedSource(
        kind="instructor",
        key=instructor_id,
        name=f"Baby massage classes with {profile.display_name}",
        description=f"Classes taught by {profile.display_name}. From {base_url()}",
        filename=f"instructor-{instructor_id}.ics",
        params={"feed_key": instructor_id},
    )


def private_feed(user: User) -> FeedSource:
    """A person's own feed: the sessions they have booked and, for instructors, teach.

    The person's own rows (`_personal_rows`: bookings, babies, absences, make-ups and,
    for an instructor, the classes they teach) are read first, a few indexed rows in one
    query; the feed then selects sessions by two id lists the session indexes serve,
    rather than testing every session against subqueries.
    """
    personal = _personal_rows(user.id)
    booked = {row[2] for row in personal if row[0] == "r" and row[4] == CONFIRMED}
    taught = {row[1] for row in personal if row[0] == "t"}
    teaching = any(row[0] == "i" for row in personal)
    made_up = {row[2] for row in personal if row[0] == "m"}
    kept = {row[1] for row in personal if row[0] == "k"}
    return FeedSource(
        kind="private",
        key=user.id,
        name="My baby massage classes",
        description="Your booked baby massage classes"
        + (" and the classes you teach" if teaching else "")
        + f". Manage them at {base_url()}/account/bookings",
        filename="my-classes.ics",
        teacher_id=user.id if teaching else None,
        parent_id=user.id,
        params={
            "workshop_ids": sorted(booked | taught), "session_ids": sorted(made_up | kept),
        },
        personal=personal,
    )


def _where(kind: str) -> tuple:
    """A feed's conditions, with its values as bound parameters (`FeedSource.params`,
    and `since`), so each kind's statements are built once."""
    if kind == "private":
        mine = (sa.or_(
            Session.workshop_id.in_(sa.bindparam("workshop_ids", expanding=True)),
            Session.id.in_(sa.bindparam("session_ids", expanding=True)),
        ),)
    else:
        owner = Workshop.centre_id if kind == "centre" else Workshop.instructor_id
        mine = (owner == sa.bindparam("feed_key"), Centre.published.is_(True))
    return (*mine, Workshop.has_public_page_sql(), Session.ends_at >= sa.bindparam("since"))


def _params(source: FeedSource) -> dict:
    """The values of `_where`'s parameters for this feed, now."""
    return {**source.params, "since": _since(), "parent_id": source.parent_id}


@functools.cache
def _version_statement(kind: str) -> sa.Select:
    """The aggregate query behind a feed's version (see `feed_version`)."""
    columns = [
        sa.func.count(Session.id),
        sa.func.max(Session.updated_at),
        sa.func.sum(Session.revision),
        sa.func.count(sa.distinct(Workshop.id)),
        sa.func.max(Workshop.updated_at),
        sa.func.sum(Workshop.confirmed_count),
        sa.func.max(Centre.updated_at),
    ]
    if kind == "private":
        # For Last-Modified only; the ETag hashes the parent's rows themselves.
        parent = sa.bindparam("parent_id")
        for column in (Registration.created_at, Registration.confirmed_at,
                       Registration.cancelled_at):
            columns.append(
                sa.select(sa.func.max(column))
                .where(Registration.parent_id == parent)
                .scalar_subquery()
            )
        for model in (Absence, MakeupBooking):
            columns.append(
                sa.select(sa.func.max(model.created_at))
                .where(model.parent_id == parent)
                .scalar_subquery()
            )
    return (
        sa.select(*columns)
        .select_from(Session)
        .join(Workshop, Session.workshop_id == Workshop.id)
        .join(Centre, Workshop.centre_id == Centre.id)
        .where(*_where(kind))
    )


@functools.cache
def _personal_statement() -> sa.Select:
    """Every row of a parent's own that a private feed shows (`_personal_rows`)."""
    parent = sa.bindparam("parent_id")
    zero = sa.literal(0)
    blank = sa.literal("")
    instructor = sa.and_(Membership.user_id == parent, Membership.role == ROLE_INSTRUCTOR)
    parts = [
        sa.select(sa.literal("r"), Registration.id, Registration.workshop_id,
                  sa.func.coalesce(Registration.baby_id, zero), Registration.status)
        .where(Registration.parent_id == parent),
        sa.select(sa.literal("b"), Baby.id, zero, zero, Baby.name)
        .where(Baby.parent_id == parent),
        sa.select(sa.literal("a"), Absence.id, Absence.session_id, Absence.registration_id,
                  blank)
        .where(Absence.parent_id == parent),
        sa.select(sa.literal("m"), MakeupBooking.id, MakeupBooking.session_id,
                  sa.func.coalesce(MakeupBooking.baby_id, zero), blank)
        .where(MakeupBooking.parent_id == parent),
        # The sessions of a booking cancelled part-way that had begun by then: the
        # family came to them, so they stay in the calendar.
        sa.select(sa.literal("k"), Session.id, Session.workshop_id, Registration.id, blank)
        .join(Registration, Registration.workshop_id == Session.workshop_id)
        .where(Registration.parent_id == parent, Registration.status == BOOKING_CANCELLED,
               Registration.confirmed_at.is_not(None),
               Session.starts_at < Registration.cancelled_at, Session.status == SCHEDULED),
        # An instructor's memberships as one, and the classes they teach.
        sa.select(sa.literal("i"), Membership.id, Membership.centre_id, zero, blank)
        .where(instructor),
        # Those of a centre where they are still an instructor (one whose role there
        # was taken away no longer sees its classes' bookings).
        sa.select(sa.literal("t"), Workshop.id, zero, zero, blank)
        .where(Workshop.instructor_id == parent, Workshop.has_public_page_sql(),
               sa.select(Membership.id)
               .where(instructor, Membership.centre_id == Workshop.centre_id).exists()),
    ]
    union = sa.union_all(*parts).subquery()
    columns = list(union.c)
    return sa.select(*columns).order_by(columns[0], columns[1])


def _personal_rows(parent_id: int) -> tuple[tuple, ...]:
    """Every row of a parent's own that a private feed shows, in a fixed order.

    Which workshops are booked and for which baby, the babies' names, absences and
    make-up bookings, and for an instructor the classes they teach: a handful of rows
    per parent, read with one indexed query, so the feed's validator changes exactly
    when any of them does (a baby renamed to a name of the same length included).
    """
    rows = db.session.execute(_personal_statement(), {"parent_id": parent_id})
    return tuple(tuple(row) for row in rows)


def feed_version(source: FeedSource, *, fresh: bool = False) -> FeedVersion:
    """The feed's strong ETag and Last-Modified, without rendering it.

    One aggregate query covers the sessions, workshops and centres in the feed; a
    private feed adds a hash of the parent's own rows (`_personal_rows`), those the
    source was chosen by unless `fresh` (read again: has anything changed since?).
    """
    row = db.session.execute(_version_statement(source.kind), _params(source)).one()
    # Everything the feed's own header says, then everything its events show.
    parts = [FORMAT_VERSION, base_url(), source.kind, str(source.key), source.name,
             source.description, source.timezone or "", str(source.teacher_id or "")]
    parts.extend(_fingerprint(value) for value in row)
    if source.parent_id is not None:
        personal = source.personal
        if fresh or personal is None:
            personal = _personal_rows(source.parent_id)
        parts.extend("/".join(_fingerprint(v) for v in r) for r in personal)
    digest = hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()[:40]
    moments = [value for value in row if isinstance(value, datetime)]
    last_modified = max(_aware(m) for m in moments) if moments else None
    return FeedVersion(etag=f"{source.kind}-{digest}", last_modified=last_modified)


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _fingerprint(value) -> str:
    if isinstance(value, datetime):
        return _aware(value).isoformat()
    return "" if value is None else str(value)


class FeedWorkshop(NamedTuple):
    """What a feed's events show of a workshop (read by attribute, as a Workshop is)."""

    id: int
    instructor_id: int | None
    title: str
    status: str
    is_course: bool
    what_to_bring: str
    confirmed_count: int
    capacity: int
    sessions: int  # how many sessions it has in all, past ones included ("week 2 of 5")


class FeedCentre(NamedTuple):
    """What a feed's events show of a centre."""

    name: str
    full_address: str


class FeedEvent(NamedTuple):
    """One session of a feed with its workshop and centre (shared by its sessions)."""

    session: SessionData
    workshop: FeedWorkshop
    centre: FeedCentre


@functools.cache
def _sessions_statement(kind: str) -> sa.Select:
    """A feed's sessions in order, with exactly the columns its events are written from,
    and how many sessions each one's workshop has in all."""
    every = aliased(Session)
    sessions_in_all = (
        sa.select(sa.func.count(every.id))
        .where(every.workshop_id == Session.workshop_id)
        .scalar_subquery()
    )
    return (
        sa.select(
            Session.id, Session.workshop_id, Session.number, Session.starts_at,
            Session.ends_at, Session.room, Session.status, Session.revision,
            Session.updated_at, Session.plan_title,
            Workshop.instructor_id, Workshop.title, Workshop.status, Workshop.kind,
            Workshop.what_to_bring, Workshop.confirmed_count, Workshop.capacity,
            sessions_in_all,
            Centre.id, Centre.name, Centre.address, Centre.town, Centre.postcode,
        )
        .select_from(Session)
        .join(Workshop, Session.workshop_id == Workshop.id)
        .join(Centre, Workshop.centre_id == Centre.id)
        .where(*_where(kind))
        .order_by(Session.starts_at, Session.id)
    )


def _sessions(source: FeedSource) -> list[FeedEvent]:
    """The feed's sessions in order, as plain rows, without building ORM objects (a
    feed has hundreds of sessions); a workshop and a centre are shared by their rows."""
    # Core rows: a statement of columns needs nothing of the ORM's result layer.
    rows = db.session.connection().execute(_sessions_statement(source.kind), _params(source))
    workshops: dict[int, FeedWorkshop] = {}
    centres: dict[int, FeedCentre] = {}
    events = []
    for row in rows:
        workshop_id, centre_id = row[1], row[18]
        workshop = workshops.get(workshop_id)
        if workshop is None:
            workshop = workshops[workshop_id] = FeedWorkshop(
                workshop_id, row[10], row[11], row[12], row[13] == KIND_COURSE, row[14],
                row[15], row[16], row[17],
            )
        centre = centres.get(centre_id)
        if centre is None:
            centre = centres[centre_id] = FeedCentre(row[19], one_line_address(*row[20:23]))
        events.append(FeedEvent(SessionData(*row[:10]), workshop, centre))
    return events


@dataclass
class _Booked:
    """A parent's bookings in a feed's workshops, by workshop: the confirmed babies'
    names; the babies of bookings cancelled part-way, with when (their sessions begun
    by then stay theirs); and the highest invite sequence of any of their bookings
    there, which every change raises (an absence said or taken back, a cancellation),
    so an event's SEQUENCE never goes down."""

    names: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))
    left: dict[int, list[tuple[datetime, str]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    steps: dict[int, int] = field(default_factory=dict)

    def babies_at(self, workshop_id: int, session: SessionData) -> list[str]:
        """The babies booked on one session: the confirmed ones, and those whose
        booking ended after it began."""
        names = list(self.names.get(workshop_id, ()))
        return names + [name for ended, name in self.left.get(workshop_id, ())
                        if session.starts_at < ended and name not in names]


def _booked(parent_id: int, workshop_ids: set[int]) -> _Booked:
    """The parent's bookings in these workshops (`_Booked`), in one query."""
    booked = _Booked()
    if not workshop_ids:
        return booked
    rows = db.session.execute(
        sa.select(Registration.workshop_id, Registration.status, Registration.cancelled_at,
                  Registration.confirmed_at, Registration.invite_sequence, Baby.name)
        .outerjoin(Baby, Registration.baby_id == Baby.id)
        .where(Registration.parent_id == parent_id, Registration.workshop_id.in_(workshop_ids))
        .order_by(Baby.name, Baby.id)
    )
    for workshop_id, status, cancelled_at, confirmed_at, sequence, name in rows:
        booked.steps[workshop_id] = max(booked.steps.get(workshop_id, 0), sequence)
        if name is None:
            continue
        if status == CONFIRMED:
            booked.names[workshop_id].append(name)
        elif status == BOOKING_CANCELLED and confirmed_at is not None and cancelled_at:
            booked.left[workshop_id].append((cancelled_at, name))
    return booked


def render_feed(source: FeedSource) -> str:
    """The feed as iCalendar text: one VEVENT per session, cancelled ones included."""
    sessions = _sessions(source)
    workshop_ids = {event.workshop.id for event in sessions}
    booked = _Booked()
    absent: set[int] = set()
    made_up: dict[int, list[str]] = {}
    if source.parent_id is not None:
        booked = _booked(source.parent_id, workshop_ids)
        absent, made_up = _absences_and_makeups(source.parent_id)
    host = calendar_host()
    base = base_url()
    events = []
    for session, workshop, centre in sessions:
        total = workshop.sessions
        summary = None
        extra: list[str] = []
        if source.teacher_id is not None and workshop.instructor_id == source.teacher_id:
            extra.append(f"{workshop.confirmed_count} booked of {workshop.capacity} places.")
            summary = _teaching_summary(workshop, session, total)
        elif session.id in made_up:
            summary = _booked_summary(workshop, session, total, made_up[session.id])
            summary = f"Make-up: {summary}"
        elif babies := booked.babies_at(workshop.id, session):
            summary = _booked_summary(workshop, session, total, babies)
        # A session the parent said they will miss is cancelled for them. Saying so (or
        # taking it back) raises the booking's invite sequence, so SEQUENCE only ever
        # goes up and calendar apps take each change.
        missed = session.id in absent and summary is not None and not extra
        own = summary is not None and not extra and session.id not in made_up
        events.append(
            event_text(
                session,
                workshop,
                centre,
                total=total,
                uid=session_uid(session.id, host),
                sequence=session.revision + (booked.steps.get(workshop.id, 0) if own else 0),
                stamp=session.updated_at,
                summary=summary,
                extra=extra,
                cancelled=missed,
                page=class_url(workshop.id, base),
            )
        )
    head, end = _calendar_text(source.name, source.description, source.timezone)
    return head + ("".join(events) or _no_events()) + end


@functools.cache
def _no_events() -> str:
    """What an empty feed holds: RFC 5545 wants at least one component in a calendar
    (strict clients refuse one without), so the UTC zone its events' times are in."""
    return Timezone.from_tzid("UTC").to_ical().decode()


@functools.lru_cache(maxsize=1024)
def _calendar_text(name: str, description: str, timezone: str | None) -> tuple[str, str]:
    """A feed's calendar lines, from the library, around where its events go: after its
    properties, before its end. The events are written the same way (`event_text`)."""
    cal = new_calendar(name, description, feed=True)
    if timezone:
        cal.add("x-wr-timezone", timezone)
    head, end = to_text(cal).rsplit(END_CALENDAR, 1)
    return head, END_CALENDAR + end


def _absences_and_makeups(parent_id: int) -> tuple[set[int], dict[int, list[str]]]:
    """Sessions every one of the parent's booked babies will miss, and make-up sessions
    with the babies' names."""
    absent_rows = db.session.execute(
        sa.select(Absence.session_id, Registration.id)
        .join(Registration, Registration.id == Absence.registration_id)
        .where(Absence.parent_id == parent_id, Registration.status == CONFIRMED)
    ).all()
    absent_by_session: dict[int, set[int]] = defaultdict(set)
    for session_id, registration_id in absent_rows:
        absent_by_session[session_id].add(registration_id)
    # How many of the parent's confirmed bookings each of those sessions has, at once.
    booked = dict(
        db.session.execute(
            sa.select(Session.id, sa.func.count(Registration.id))
            .join(Registration, Session.workshop_id == Registration.workshop_id)
            .where(
                Session.id.in_(list(absent_by_session)),
                Registration.parent_id == parent_id,
                Registration.status == CONFIRMED,
            )
            .group_by(Session.id)
        ).all()
    ) if absent_by_session else {}
    absent = {
        session_id
        for session_id, registration_ids in absent_by_session.items()
        if booked.get(session_id, 0) <= len(registration_ids)
    }
    made_up: dict[int, list[str]] = defaultdict(list)
    rows = db.session.execute(
        sa.select(MakeupBooking.session_id, Baby.name)
        .outerjoin(Baby, Baby.id == MakeupBooking.baby_id)
        .where(MakeupBooking.parent_id == parent_id)
        .order_by(Baby.name)
    )
    for session_id, name in rows:
        made_up[session_id].append(name or "make-up")
    return absent, made_up


def _teaching_summary(workshop: FeedWorkshop, session: SessionData, total: int) -> str:
    return f"Teaching: {session_summary(workshop, session, total)}"


def _booked_summary(
    workshop: FeedWorkshop, session: SessionData, total: int, names: list[str]
) -> str:
    return f"{session_summary(workshop, session, total)} ({' and '.join(names)})"
