"""Whole-workshop checks: a new workshop's values, and changes to an existing one.

`validate_workshop_fields` checks raw values (from a form, a CSV row or JSON) without
touching the database; `check_workshop` adds the checks that need it (the centre, the
instructor, a first session in the future, no duplicate). `clean_workshop_changes`
checks the details staff change on an existing workshop. The staff pages, the API and
the schedule import all go through these (and each field through
booking.services.schedule.fields), so a workshop is judged by the same rules wherever
it comes from.
"""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from booking.extensions import db
from booking.models import Centre, Workshop, WorkshopSession, utcnow
from booking.models.workshop import CANCELLED
from booking.services.accounts.roles import instructor_at
from booking.services.accounts.users import find_user_by_email
from booking.services.errors import Invalid
from booking.services.plans.templates import get_template, plan_fits, plan_slug
from booking.services.schedule import fields as rules
from booking.services.schedule.fields import MIN_DURATION, NOT_AN_INSTRUCTOR
from booking.services.schedule.payment_fields import PAYMENT_FIELDS, check_payment, major
from booking.services.schedule.payment_input import (
    clean_payment_changes,
    refuse_an_earlier_cutoff,
)
from booking.timefmt import local_to_utc, to_local

DECISION_HOURS_BEFORE = 48
HELD_RELEASE_HOURS_BEFORE = 48  # unclaimed held places go public this long before
# The instructor id given for an email that has no account: refused like any other
# person who is not an instructor of the centre, so the answer says nothing about it.
NO_ACCOUNT = 0

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
    # How it is paid (booking.services.schedule.payment_fields); blank: the defaults.
    "payment": "",
    "deposit": "",
    "refund_fee": "",
    # A plan template's slug (booking.services.plans.templates); blank: no plan.
    "plan": "",
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

    Raises ValueError (a fields.FieldError) with a readable message otherwise.
    """
    return rules.session_start(value)


def validate_workshop_fields(data: dict, currency: str | None) -> tuple[dict, dict]:
    """Check a workshop's raw values without the database, by the rules of fields.py.

    `data` holds the create_workshop keywords, as typed values or as text (from a form
    or CSV); `currency` is the centre's, the only one whose sign the amounts may be
    typed with (None when the centre is unknown, and the workshop refused for it).
    Returns (clean, errors): clean values for the fields that passed, and {field name:
    message} for those that did not. Missing optional fields take their defaults;
    `sessions` may be left out for a single class.
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
    check("price", rules.price, currency)
    check("publish", rules.publish)
    check("topics", rules.topics)
    check("plan", plan_slug)
    if clean.get("plan") and clean.get("kind"):
        misfit = plan_fits(get_template(clean["plan"]), clean["kind"])
        if misfit:
            errors["plan"] = misfit
    terms, payment_errors = check_payment(
        {name: values[name] for name in PAYMENT_FIELDS},
        None if "price" in errors else clean.get("price"),
        currency=currency,
    )
    for name, message in payment_errors.items():
        errors.setdefault(name, message)
    if terms is not None:
        clean.update(
            payment=terms.mode, deposit=major(terms.deposit), refund_fee=major(terms.refund_fee)
        )
    clean = {name: value for name, value in clean.items() if name not in errors}
    return clean, errors


def session_times(
    first_local: datetime, count: int, duration_minutes: int, tz_name: str
) -> list[tuple[datetime, datetime]]:
    """(start, end) in UTC of `count` weekly sessions at the same local wall-clock time.
    The first is `first_local` itself, which keeps its `fold` (the second of a repeated
    hour's two times, when it was read from an instant given with its offset)."""
    times = []
    for week in range(count):
        local = first_local + timedelta(weeks=week) if week else first_local
        start = local_to_utc(local, tz_name)
        times.append((start, start + timedelta(minutes=duration_minutes)))
    return times


def check_workshop(data: dict) -> tuple[dict, dict]:
    """Validate like validate_workshop_fields, then check against the database.

    Reads only. The centre must exist; the instructor must be an active instructor at
    that centre; the first session must be in the future (and, with minimum numbers,
    far enough ahead to decide); the same class must not already exist. On success the
    clean values also hold `centre`, `instructor` and `times` (UTC start/end pairs).
    """
    centre_id = data.get("centre_id")
    centre = (
        db.session.get(Centre, centre_id)
        if isinstance(centre_id, int) and not isinstance(centre_id, bool) and centre_id > 0
        else None
    )
    clean, errors = validate_workshop_fields(data, centre.currency if centre else None)
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
        last_field = "sessions" if count > 1 else "first_session_local"
        try:
            rules.in_date_window(times[-1][1], "The last session" if count > 1 else "The session")
        except rules.FieldError as exc:
            errors[last_field] = str(exc)
        if times[0][0] <= now:
            errors["first_session_local"] = "The first session must be in the future."
        elif clean.get("min_places") and times[0][0] - timedelta(
            hours=DECISION_HOURS_BEFORE
        ) <= now:
            errors["min_places"] = (
                f"Minimum numbers need the first session more than {DECISION_HOURS_BEFORE}"
                " hours away, so there is time to decide."
            )
        if clean.get("held_places") and times[0][0] - timedelta(
            hours=HELD_RELEASE_HOURS_BEFORE
        ) <= now:
            errors["held_places"] = held_too_late_message()
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




# --- changes to an existing workshop ---------------------------------------------------

# The details clean_workshop_changes accepts (capacity and status change by their own
# rules, in booking.services.schedule.edit; the kind never changes).
EDITABLE_FIELDS = (
    "title",
    "description",
    "what_to_bring",
    "min_age_weeks",
    "max_age_weeks",
    "price",
    "cancellation_cutoff_hours",
    "instructor_id",
    "min_places",
    "decision_at",
    "run_confirmed",
    "late_join_until",
    "payment",
    "deposit",
    "refund_fee",
)


def _apply(rule, fields: dict, errors: dict, name: str, *args):
    """The rule's clean value of fields[name], or None with the refusal recorded."""
    try:
        return rule(fields[name], *args)
    except rules.FieldError as exc:
        errors[name] = str(exc)
        return None


def held_too_late_message() -> str:
    """Why places cannot be held for a class starting too soon."""
    return (
        f"Places can be held for referrals only when the first session is more than "
        f"{HELD_RELEASE_HOURS_BEFORE} hours away: unclaimed ones go public "
        f"{HELD_RELEASE_HOURS_BEFORE} hours before it."
    )


def _session_count(workshop: Workshop) -> int:
    return db.session.scalar(
        sa.select(sa.func.max(WorkshopSession.number)).where(
            WorkshopSession.workshop_id == workshop.id
        )
    ) or 1


def _clean_decision_fields(
    workshop: Workshop, fields: dict, clean: dict, errors: dict, capacity
) -> None:
    """Minimum numbers (min_places, decision_at, run_confirmed) and late joining.

    The same rules as creating a workshop: a minimum from 1 to the capacity,
    decided at `decision_at` (an aware time, in the future and before the first
    session; 48 hours before it by default), and late joining until one of the
    workshop's sessions. run_confirmed needs a minimum, and cannot be taken back
    once the decision time has passed.
    """
    now = utcnow()
    first = workshop.first_starts_at
    if "late_join_until" in fields:
        clean["late_join_until"] = _apply(
            rules.late_join_until, fields, errors, "late_join_until", _session_count(workshop)
        )
    minimum = workshop.min_places
    if "min_places" in fields:
        places = capacity if isinstance(capacity, int) else workshop.capacity
        minimum = _apply(rules.min_places, fields, errors, "min_places", places)
        clean["min_places"] = minimum
    decision = workshop.decision_at
    if "decision_at" in fields:
        value = fields["decision_at"]
        if not isinstance(value, datetime) or value.tzinfo is None:
            errors["decision_at"] = "Give the decision time as a date and time with its offset."
        elif minimum is None:
            errors["decision_at"] = "A decision time goes with a minimum number (min_places)."
        else:
            try:
                decision = value.astimezone(UTC)
            except (OverflowError, ValueError):
                decision = None
            if decision is None:
                errors["decision_at"] = "That decision time is out of range."
            elif decision <= now:
                errors["decision_at"] = "The decision time must be in the future."
            elif first is not None and decision >= first:
                errors["decision_at"] = "The decision time must be before the first session."
            clean["decision_at"] = decision
    elif "min_places" in fields and minimum is not None and workshop.min_places is None:
        decision = first - timedelta(hours=DECISION_HOURS_BEFORE) if first else None
        if decision is None or decision <= now:
            errors.setdefault("min_places", (
                f"Minimum numbers need the first session more than {DECISION_HOURS_BEFORE}"
                " hours away, so there is time to decide (or give a decision_at)."
            ))
        clean["decision_at"] = decision
    if "min_places" in fields and minimum is None:
        clean["decision_at"] = None
        clean["run_confirmed"] = False
    if "run_confirmed" in fields:
        value = fields["run_confirmed"]
        if not isinstance(value, bool):
            errors["run_confirmed"] = "run_confirmed must be true or false."
        elif value and minimum is None:
            errors["run_confirmed"] = "This class has no minimum number, so it always runs."
        elif not value and workshop.run_confirmed and (decision is None or decision <= now):
            errors["run_confirmed"] = (
                "The decision time has passed, so the class stays confirmed to run."
            )
        else:
            clean["run_confirmed"] = value


def clean_workshop_changes(workshop: Workshop, fields: dict, capacity=None) -> dict:
    """The clean values of changes to a workshop's EDITABLE_FIELDS, or Invalid naming
    every refused field. Reads only; `capacity` is the new capacity when it changes in
    the same request (the minimum is checked against it). How it is paid comes back as
    the stored attributes that change (payment_mode, deposit and refund_fee in minor
    units); a change the bookings forbid is a Conflict (see payment_input)."""
    unknown = sorted(set(fields) - set(EDITABLE_FIELDS))
    if unknown:
        errors = {name: "This cannot be changed here." for name in unknown}
        if "capacity" in unknown:
            errors["capacity"] = "Capacity is changed on its own, so waiting parents move up."
        if "kind" in unknown:
            errors["kind"] = "A workshop's kind cannot change once created."
        raise Invalid("Some details cannot be changed this way.", errors)
    errors: dict[str, str] = {}
    clean: dict = {}
    for name, rule in (
        ("title", rules.title),
        ("description", rules.description),
        ("what_to_bring", rules.what_to_bring),
        ("min_age_weeks", rules.min_age_weeks),
        ("cancellation_cutoff_hours", rules.cancellation_cutoff_hours),
    ):
        if name in fields:
            clean[name] = _apply(rule, fields, errors, name)
    currency = db.session.get(Centre, workshop.centre_id).currency
    if "price" in fields:
        clean["price"] = _apply(rules.price, fields, errors, "price", currency)
    if "max_age_weeks" in fields or "min_age_weeks" in fields:
        low = clean.get("min_age_weeks", workshop.min_age_weeks)
        oldest = {"max_age_weeks": fields.get("max_age_weeks", workshop.max_age_weeks)}
        if "min_age_weeks" not in errors:
            clean["max_age_weeks"] = _apply(
                rules.max_age_weeks, oldest, errors, "max_age_weeks", low
            )
    if "instructor_id" in fields:
        instructor = instructor_at(fields["instructor_id"], workshop.centre_id)
        if instructor is None:
            errors["instructor_id"] = NOT_AN_INSTRUCTOR
        else:
            clean["instructor_id"] = instructor.id
    _clean_decision_fields(workshop, fields, clean, errors, capacity)
    clean.update(clean_payment_changes(workshop, fields, clean, errors, currency))
    if errors:
        raise Invalid("Some details need correcting.", errors)
    if "cancellation_cutoff_hours" in clean:
        refuse_an_earlier_cutoff(workshop, clean["cancellation_cutoff_hours"])
    return clean
