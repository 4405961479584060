"""Creating workshops (courses and single classes) with their weekly sessions.

`validate_workshop_fields` checks raw values (from a form, a CSV row or JSON) without
touching the database; `check_workshop` adds the checks that need it (the centre, the
instructor, a first session in the future, no duplicate); `create_workshop` adds the
workshop to the caller's transaction. The staff pages, the API and the schedule import
all go through these, so a workshop is judged by the same rules wherever it comes from.
"""

from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from booking.extensions import db
from booking.models import Centre, Membership, User, Workshop, WorkshopSession, utcnow
from booking.models import workshop_topic as workshop_topic_table
from booking.models.people import ROLE_INSTRUCTOR
from booking.models.workshop import CANCELLED, DRAFT, PUBLISHED
from booking.services.accounts.users import find_user_by_email
from booking.services.errors import Invalid
from booking.services.schedule import fields as rules
from booking.services.schedule.fields import (  # noqa: F401 - the limits, named where they were
    MAX_AGE_WEEKS,
    MAX_CAPACITY,
    MAX_COURSE_SESSIONS,
    MAX_CUTOFF_HOURS,
    MAX_DESCRIPTION,
    MAX_DURATION,
    MAX_PRICE,
    MAX_ROOM,
    MAX_TITLE,
    MAX_WHAT_TO_BRING,
    MIN_DURATION,
    NOT_AN_INSTRUCTOR,
)
from booking.timefmt import local_to_utc, to_local
from booking.topics import TOPICS

DECISION_HOURS_BEFORE = 48
HELD_RELEASE_HOURS_BEFORE = 48
# The instructor id given for an email that has no account: refused like any other
# person who is not an instructor of the centre, so the answer says nothing about it.
NO_ACCOUNT = 0
_LARGEST_ID = 2**31 - 1

# Every field create_workshop takes, with its default (None: required).
FIELDS: dict[str, object] = {
    "centre_id": None,
    "instructor_id": None,
    "kind": None,
    "title": None,
    "first_session_local": None,
    "sessions": None,
    "duration_minutes": None,
    "capacity": None,
    "min_age_weeks": None,
    "max_age_weeks": None,
    "price": None,
    "description": "",
    "what_to_bring": "",
    "publish": False,
    "topics": (),
    "min_places": None,
    "held_places": 0,
    "late_join_until": 1,
    "cancellation_cutoff_hours": 24,
    "room": "",
}
REQUIRED = tuple(name for name, default in FIELDS.items() if default is None)
_REQUIRED_LABELS = {
    "duration_minutes": "duration in minutes",
    "capacity": "capacity",
    "min_age_weeks": "minimum age in weeks",
    "max_age_weeks": "maximum age in weeks",
}


def parse_local_datetime(value) -> datetime:
    """A first-session time from text ('YYYY-MM-DD HH:MM') or a datetime.

    Raises ValueError (a field_rules.FieldError) with a readable message otherwise.
    """
    return rules.session_start(value)


def validate_workshop_fields(data: dict) -> tuple[dict, dict]:
    """Check a workshop's raw values without the database, by the rules of field_rules.

    `data` holds the create_workshop keywords, as typed values or as text (from a form
    or CSV). Returns (clean, errors): clean values for the fields that passed, and
    {field name: message} for those that did not. Missing optional fields take their
    defaults; `sessions` may be left out for a single class.
    """
    errors: dict[str, str] = {}
    clean: dict = {}
    values = {name: data.get(name, default) for name, default in FIELDS.items()}

    def check(name, rule, *args):
        try:
            clean[name] = rule(values[name], *args)
        except rules.FieldError as exc:
            errors[name] = str(exc)

    value = values["centre_id"]
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        clean["centre_id"] = value
    else:
        errors["centre_id"] = "Choose the centre."
    # Any whole number is judged by check_workshop, with one answer for everyone
    # who is not an instructor of the centre.
    value = values["instructor_id"]
    if isinstance(value, int) and not isinstance(value, bool):
        clean["instructor_id"] = value
    else:
        errors["instructor_id"] = "Choose the instructor."

    check("kind", rules.kind)
    check("title", rules.title)
    check("description", rules.description)
    check("what_to_bring", rules.what_to_bring)
    check("room", rules.room)
    check("first_session_local", rules.session_start)
    check("sessions", rules.session_count, clean.get("kind"))
    for name, label in _REQUIRED_LABELS.items():
        if rules.blank(values[name]):
            errors[name] = f"Give the {label}."
    for name, rule in (
        ("duration_minutes", rules.duration_minutes),
        ("capacity", rules.capacity),
        ("min_age_weeks", rules.min_age_weeks),
    ):
        if name not in errors:
            check(name, rule)
    if "max_age_weeks" not in errors:
        check("max_age_weeks", rules.max_age_weeks, clean.get("min_age_weeks"))
    check("held_places", rules.held_places, clean.get("capacity"))
    check("min_places", rules.min_places, clean.get("capacity"))
    check("late_join_until", rules.late_join_until, clean.get("sessions"))
    check("cancellation_cutoff_hours", rules.cancellation_cutoff_hours)
    check("price", rules.price)
    check("publish", rules.publish)
    check("topics", rules.topics)
    clean = {name: value for name, value in clean.items() if name not in errors}
    return clean, errors


def session_times(
    first_local: datetime, count: int, duration_minutes: int, tz_name: str
) -> list[tuple[datetime, datetime]]:
    """(start, end) in UTC of `count` weekly sessions at the same local wall-clock time."""
    times = []
    for week in range(count):
        start = local_to_utc(first_local + timedelta(weeks=week), tz_name)
        times.append((start, start + timedelta(minutes=duration_minutes)))
    return times


def check_workshop(data: dict) -> tuple[dict, dict]:
    """Validate like validate_workshop_fields, then check against the database.

    Reads only. The centre must exist; the instructor must be an active instructor at
    that centre; the first session must be in the future (and, with minimum numbers,
    far enough ahead to decide); the same class must not already exist. On success the
    clean values also hold `centre`, `instructor` and `times` (UTC start/end pairs).
    """
    clean, errors = validate_workshop_fields(data)
    centre = db.session.get(Centre, clean["centre_id"]) if "centre_id" in clean else None
    if "centre_id" in clean and centre is None:
        errors["centre_id"] = "There is no such centre."
    instructor = None
    if "instructor_id" in clean and centre is not None:
        instructor = instructor_at(clean["instructor_id"], centre.id)
        if instructor is None:
            errors["instructor_id"] = NOT_AN_INSTRUCTOR

    first = clean.get("first_session_local")
    if centre is not None and first is not None:
        if first.tzinfo is not None:
            first = to_local(first, centre.timezone).replace(tzinfo=None)
            clean["first_session_local"] = first
        count = clean.get("sessions") or 1
        duration = clean.get("duration_minutes") or MIN_DURATION
        times = session_times(first, count, duration, centre.timezone)
        now = utcnow()
        if times[0][0] <= now:
            errors["first_session_local"] = "The first session must be in the future."
        elif clean.get("min_places") and times[0][0] - timedelta(
            hours=DECISION_HOURS_BEFORE
        ) <= now:
            errors["min_places"] = (
                f"Minimum numbers need the first session more than {DECISION_HOURS_BEFORE}"
                " hours away, so there is time to decide."
            )
        clean["times"] = times

    if not errors and find_duplicate(
        centre.id, clean["title"], clean["times"][0][0], instructor.id
    ):
        errors["title"] = (
            f"{clean['title']!r} with this instructor already starts at this time at "
            f"{centre.name}."
        )
    if errors:
        clean = {name: value for name, value in clean.items() if name not in errors}
        return clean, errors
    clean["centre"] = centre
    clean["instructor"] = instructor
    return clean, errors


def instructor_at(user_id, centre_id: int) -> User | None:
    """The active account with that id if it is an instructor of the centre, else None.

    Callers answer every None the same way (NOT_AN_INSTRUCTOR), whoever the id or email
    belongs to, so the answer never tells whether an account exists or what it is.
    """
    if isinstance(user_id, str) and user_id.strip().isdigit():
        user_id = int(user_id.strip())
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        return None
    if not 1 <= user_id <= _LARGEST_ID:
        return None
    return db.session.scalar(
        sa.select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(
            User.id == user_id,
            User.deleted_at.is_(None),
            Membership.centre_id == centre_id,
            Membership.role == ROLE_INSTRUCTOR,
        )
    )


def instructor_id_for_email(email: str) -> int:
    """The id of the account with that email, or NO_ACCOUNT; check_workshop then judges
    both alike, so an unknown address is refused exactly like any non-instructor's."""
    user = find_user_by_email(email) if isinstance(email, str) and email.strip() else None
    return user.id if user is not None else NO_ACCOUNT


def find_duplicate(
    centre_id: int, title: str, first_starts_at: datetime, instructor_id: int
) -> Workshop | None:
    """A live workshop with the same title, instructor and first start at the centre."""
    return db.session.scalar(
        sa.select(Workshop).where(
            Workshop.centre_id == centre_id,
            Workshop.instructor_id == instructor_id,
            Workshop.first_starts_at == first_starts_at,
            sa.func.lower(Workshop.title) == title.lower(),
            Workshop.status != CANCELLED,
        )
    )


def create_workshop(
    *,
    centre_id: int,
    instructor_id: int,
    kind: str,
    title: str,
    first_session_local: datetime,
    sessions: int | None = None,
    duration_minutes: int,
    capacity: int,
    min_age_weeks: int,
    max_age_weeks: int,
    price: Decimal,
    description: str = "",
    what_to_bring: str = "",
    publish: bool = False,
    topics=(),
    min_places: int | None = None,
    held_places: int = 0,
    late_join_until: int = 1,
    cancellation_cutoff_hours: int = 24,
    room: str = "",
) -> Workshop:
    """Add a workshop and its weekly sessions to the current transaction.

    `first_session_local` is the centre's wall-clock time (naive); every session keeps
    that local time, also across a daylight-saving change; `sessions` may be left out
    for a single class (it has one). Raises Invalid with
    {field: message} for every bad field. Adds and flushes, never commits: wrap calls
    in write_transaction() (one import is then all or nothing).
    """
    if isinstance(centre_id, int) and not isinstance(centre_id, bool):
        # One creation per centre at a time (PostgreSQL row lock; SQLite's write
        # transaction already serialises), so the duplicate check below holds.
        db.session.execute(sa.select(Centre.id).where(Centre.id == centre_id).with_for_update())
    clean, errors = check_workshop(
        {
            "centre_id": centre_id,
            "instructor_id": instructor_id,
            "kind": kind,
            "title": title,
            "first_session_local": first_session_local,
            "sessions": sessions,
            "duration_minutes": duration_minutes,
            "capacity": capacity,
            "min_age_weeks": min_age_weeks,
            "max_age_weeks": max_age_weeks,
            "price": price,
            "description": description,
            "what_to_bring": what_to_bring,
            "publish": publish,
            "topics": topics,
            "min_places": min_places,
            "held_places": held_places,
            "late_join_until": late_join_until,
            "cancellation_cutoff_hours": cancellation_cutoff_hours,
            "room": room,
        }
    )
    if errors:
        raise Invalid("Some details of the workshop need correcting.", errors)
    return _build(clean)


def _build(clean: dict) -> Workshop:
    times = clean["times"]
    first_start = times[0][0]
    workshop = Workshop(
        centre_id=clean["centre_id"],
        instructor_id=clean["instructor_id"],
        kind=clean["kind"],
        title=clean["title"],
        description=clean["description"],
        what_to_bring=clean["what_to_bring"],
        capacity=clean["capacity"],
        confirmed_count=0,
        min_age_weeks=clean["min_age_weeks"],
        max_age_weeks=clean["max_age_weeks"],
        price=clean["price"],
        cancellation_cutoff_hours=clean["cancellation_cutoff_hours"],
        status=PUBLISHED if clean["publish"] else DRAFT,
        min_places=clean["min_places"],
        decision_at=(
            first_start - timedelta(hours=DECISION_HOURS_BEFORE)
            if clean["min_places"]
            else None
        ),
        held_places=clean["held_places"],
        held_claimed=0,
        held_until=(
            first_start - timedelta(hours=HELD_RELEASE_HOURS_BEFORE)
            if clean["held_places"]
            else None
        ),
        late_join_until=clean["late_join_until"],
        first_starts_at=first_start,
        last_ends_at=times[-1][1],
    )
    db.session.add(workshop)
    db.session.flush()
    for number, (start, end) in enumerate(times, start=1):
        db.session.add(
            WorkshopSession(
                workshop_id=workshop.id,
                number=number,
                starts_at=start,
                ends_at=end,
                room=clean["room"],
            )
        )
    if clean["topics"]:
        db.session.execute(
            workshop_topic_table.insert(),
            [{"workshop_id": workshop.id, "topic": slug} for slug in clean["topics"]],
        )
    db.session.flush()
    return workshop


def workshop_topics(workshop_id: int) -> list[str]:
    """The topic slugs of a workshop, in list order."""
    slugs = set(
        db.session.scalars(
            sa.select(workshop_topic_table.c.topic).where(
                workshop_topic_table.c.workshop_id == workshop_id
            )
        )
    )
    return [t.slug for t in TOPICS if t.slug in slugs]

