"""Creating workshops (courses and single classes) with their weekly sessions.

`validate_workshop_fields` checks raw values (from a form, a CSV row or JSON) without
touching the database; `check_workshop` adds the checks that need it (the centre, the
instructor, a first session in the future, no duplicate); `create_workshop` adds the
workshop to the caller's transaction. The staff pages, the API and the schedule import
all go through these, so a workshop is judged by the same rules wherever it comes from.
"""

import re
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa

from booking.extensions import db
from booking.models import Centre, Membership, User, Workshop, WorkshopSession, utcnow
from booking.models import workshop_topic as workshop_topic_table
from booking.models.people import ROLE_INSTRUCTOR
from booking.models.workshop import (
    CANCELLED,
    DRAFT,
    KIND_SINGLE,
    KINDS,
    PUBLISHED,
)
from booking.services.errors import Invalid
from booking.timefmt import local_to_utc, to_local
from booking.topics import TOPICS, TOPICS_BY_SLUG

MAX_TITLE = 200
MAX_DESCRIPTION = 5000
MAX_WHAT_TO_BRING = 2000
MAX_ROOM = 120
MAX_COURSE_SESSIONS = 26
MIN_DURATION, MAX_DURATION = 15, 480
MAX_CAPACITY = 100
MAX_AGE_WEEKS = 156
MAX_PRICE = Decimal("9999.99")
MAX_CUTOFF_HOURS = 14 * 24
DECISION_HOURS_BEFORE = 48
HELD_RELEASE_HOURS_BEFORE = 48

FIRST_SESSION_FORMAT = "YYYY-MM-DD HH:MM"
_DATETIME_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:?\d{2})?$"
)
_TRUE = {"yes", "y", "true", "1", "on"}
_FALSE = {"no", "n", "false", "0", "off"}

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


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _whole(value, name, errors, *, low, high, label):
    """A whole number within [low, high], or None with an error recorded."""
    if isinstance(value, bool):
        errors[name] = f"{label} must be a whole number."
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and re.fullmatch(r"[+-]?\d{1,9}", value.strip()):
        number = int(value.strip())
    else:
        errors[name] = f"{label} must be a whole number, such as {max(low, 1)}."
        return None
    if number < low or number > high:
        errors[name] = f"{label} must be between {low} and {high}."
        return None
    return number


def _text(value, name, errors, *, limit, label, required=False, one_line=False):
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[name] = f"{label} must be text."
        return None
    text = " ".join(value.split()) if one_line else value.strip().replace("\r\n", "\n")
    if required and not text:
        errors[name] = f"Give the {label.lower()}."
        return None
    if len(text) > limit:
        errors[name] = f"{label} must be at most {limit} characters (it has {len(text)})."
        return None
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in text):
        errors[name] = f"{label} contains control characters."
        return None
    return text


def parse_local_datetime(value) -> datetime:
    """A first-session time from text ('YYYY-MM-DD HH:MM') or a datetime.

    Raises ValueError with a readable message when the text is not such a time.
    """
    if isinstance(value, datetime):
        return value.replace(second=0, microsecond=0)
    if not isinstance(value, str) or not _DATETIME_RE.match(value.strip()):
        raise ValueError(f"Use {FIRST_SESSION_FORMAT}, such as 2026-03-02 10:00.")
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"{value.strip()!r} is not a real date and time.") from exc
    return parsed.replace(second=0, microsecond=0)


def _price(value, errors):
    if isinstance(value, bool) or _blank(value):
        errors["price"] = "Give the price, such as 45.00 (0 for free)."
        return None
    if isinstance(value, float):
        value = str(value)
    if isinstance(value, str):
        value = value.strip().lstrip("£$€").strip()
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        errors["price"] = "The price must be a number, such as 45.00."
        return None
    if not amount.is_finite():
        errors["price"] = "The price must be a number, such as 45.00."
        return None
    if amount < 0:
        errors["price"] = "The price must be 0 or more."
        return None
    if amount > MAX_PRICE:
        errors["price"] = f"The price must be at most {MAX_PRICE}."
        return None
    if amount != amount.quantize(Decimal("0.01")):
        errors["price"] = "The price can have at most two decimal places."
        return None
    return amount.quantize(Decimal("0.01"))


def _flag(value, name, errors, label):
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE:
        return True
    if isinstance(value, str) and value.strip().lower() in _FALSE:
        return False
    if value is None:
        return False
    errors[name] = f"{label} must be yes or no."
    return None


def _topics(value, errors):
    if _blank(value):
        return ()
    if isinstance(value, str):
        items = re.split(r"[;,]", value)
    elif isinstance(value, list | tuple | set | frozenset):
        items = list(value)
    else:
        errors["topics"] = "Topics must be a list of topic names."
        return None
    slugs: list[str] = []
    unknown: list[str] = []
    for item in items:
        if not isinstance(item, str):
            unknown.append(repr(item))
            continue
        slug = item.strip().lower()
        if not slug:
            continue
        if slug not in TOPICS_BY_SLUG:
            unknown.append(item.strip())
        elif slug not in slugs:
            slugs.append(slug)
    if unknown:
        known = ", ".join(t.slug for t in TOPICS)
        errors["topics"] = f"Unknown topic {', '.join(unknown)}; use some of: {known}."
        return None
    return tuple(slugs)


def validate_workshop_fields(data: dict) -> tuple[dict, dict]:
    """Check a workshop's raw values without the database.

    `data` holds the create_workshop keywords, as typed values or as text (from a form
    or CSV). Returns (clean, errors): clean values for the fields that passed, and
    {field name: message} for those that did not. Missing optional fields take their
    defaults; `sessions` may be left out for a single class.
    """
    errors: dict[str, str] = {}
    clean: dict = {}
    values = {name: data.get(name, default) for name, default in FIELDS.items()}

    for name in ("centre_id", "instructor_id"):
        value = values[name]
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            clean[name] = value
        else:
            label = "centre" if name == "centre_id" else "instructor"
            errors[name] = f"Choose the {label}."

    kind = values["kind"]
    kind = kind.strip().lower() if isinstance(kind, str) else kind
    if kind in KINDS:
        clean["kind"] = kind
    else:
        errors["kind"] = "The kind must be course or single."

    clean["title"] = _text(
        values["title"], "title", errors, limit=MAX_TITLE, label="Title", required=True,
        one_line=True,
    )
    clean["description"] = _text(
        values["description"], "description", errors, limit=MAX_DESCRIPTION, label="Description"
    )
    clean["what_to_bring"] = _text(
        values["what_to_bring"], "what_to_bring", errors, limit=MAX_WHAT_TO_BRING,
        label="What to bring",
    )
    clean["room"] = _text(
        values["room"], "room", errors, limit=MAX_ROOM, label="Room", one_line=True
    )

    first = values["first_session_local"]
    if _blank(first):
        errors["first_session_local"] = (
            f"Give the first session's date and time ({FIRST_SESSION_FORMAT})."
        )
    else:
        try:
            clean["first_session_local"] = parse_local_datetime(first)
        except ValueError as exc:
            errors["first_session_local"] = str(exc)

    sessions = values["sessions"]
    if kind == KIND_SINGLE:
        if _blank(sessions):
            clean["sessions"] = 1
        else:
            count = _whole(sessions, "sessions", errors, low=1, high=1, label="Sessions")
            if count is None:
                errors["sessions"] = "A single class has exactly one session."
            clean["sessions"] = count
    elif _blank(sessions):
        errors["sessions"] = "Give the number of weekly sessions."
    else:
        clean["sessions"] = _whole(
            sessions, "sessions", errors, low=2, high=MAX_COURSE_SESSIONS,
            label="A course's number of sessions",
        )

    for name, low, high, label in (
        ("duration_minutes", MIN_DURATION, MAX_DURATION, "Duration in minutes"),
        ("capacity", 1, MAX_CAPACITY, "Capacity"),
        ("min_age_weeks", 0, MAX_AGE_WEEKS, "Minimum age in weeks"),
        ("max_age_weeks", 0, MAX_AGE_WEEKS, "Maximum age in weeks"),
        ("held_places", 0, MAX_CAPACITY, "Held places"),
        ("late_join_until", 1, MAX_COURSE_SESSIONS, "Late join until session"),
        ("cancellation_cutoff_hours", 0, MAX_CUTOFF_HOURS, "Cancellation cut-off in hours"),
    ):
        value = values[name]
        if _blank(value):
            if FIELDS[name] is None:
                errors[name] = f"Give the {label[0].lower() + label[1:]}."
                continue
            value = FIELDS[name]
        clean[name] = _whole(value, name, errors, low=low, high=high, label=label)

    if _blank(values["min_places"]):
        clean["min_places"] = None
    else:
        clean["min_places"] = _whole(
            values["min_places"], "min_places", errors, low=1, high=MAX_CAPACITY,
            label="Minimum places",
        )

    clean["price"] = _price(values["price"], errors)
    clean["publish"] = _flag(values["publish"], "publish", errors, "Publish")
    clean["topics"] = _topics(values["topics"], errors)

    _cross_checks(clean, errors)
    clean = {name: value for name, value in clean.items() if name not in errors}
    return clean, errors


def _cross_checks(clean: dict, errors: dict) -> None:
    """Rules between fields, checked only where both fields are valid."""
    low, high = clean.get("min_age_weeks"), clean.get("max_age_weeks")
    if low is not None and high is not None and low > high:
        errors["max_age_weeks"] = "The maximum age must not be below the minimum age."
    capacity = clean.get("capacity")
    held = clean.get("held_places")
    if capacity is not None and held is not None and held > capacity:
        errors["held_places"] = f"Held places cannot exceed the capacity ({capacity})."
    minimum = clean.get("min_places")
    if capacity is not None and minimum is not None and minimum > capacity:
        errors["min_places"] = f"The minimum cannot exceed the capacity ({capacity})."
    sessions = clean.get("sessions")
    late = clean.get("late_join_until")
    if sessions is not None and late is not None and late > sessions:
        errors["late_join_until"] = (
            f"Late joining must end by one of the {sessions} session(s) (1 to {sessions})."
        )


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
    if "instructor_id" in clean:
        instructor = db.session.get(User, clean["instructor_id"])
        if instructor is None or instructor.deleted_at is not None:
            errors["instructor_id"] = "There is no such instructor."
            instructor = None
        elif centre is not None and not _teaches_at(instructor.id, centre.id):
            errors["instructor_id"] = f"{instructor.email} is not an instructor at {centre.name}."

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


def _teaches_at(user_id: int, centre_id: int) -> bool:
    return (
        db.session.scalar(
            sa.select(Membership.id).where(
                Membership.user_id == user_id,
                Membership.centre_id == centre_id,
                Membership.role == ROLE_INSTRUCTOR,
            )
        )
        is not None
    )


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
    sessions: int,
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
    that local time, also across a daylight-saving change. Raises Invalid with
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

