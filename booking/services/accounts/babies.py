"""Babies on a parent's account: add, correct, remove."""

from datetime import UTC, date, datetime, timedelta
from functools import cache

import sqlalchemy as sa

from booking.db import write_transaction
from booking.extensions import db
from booking.models import Baby, MakeupBooking, Registration, Workshop, WorkshopSession
from booking.models.registration import ACTIVE, HOLDS_PLACE, WAITLISTED
from booking.services.booking.places import eligibility
from booking.services.booking.waitlist import promote_waitlist
from booking.services.errors import Conflict, Invalid, NotFound
from booking.services.schedule import fields as rules

NAME_MAX = 80
OLDEST_YEARS = 3


def latest_possible_today() -> date:
    """Today's date somewhere on Earth (UTC+14), so no real birth date is 'in the future'."""
    return (datetime.now(UTC) + timedelta(hours=14)).date()


def check_date_of_birth(value, field: str = "date_of_birth") -> date:
    """A plausible date of birth for a baby, or Invalid with the reason next to `field`."""
    if not isinstance(value, date) or isinstance(value, datetime):
        raise Invalid("Enter the date of birth as YYYY-MM-DD.", {field: "Enter a date."})
    today = latest_possible_today()
    if value > today:
        message = "The date of birth cannot be in the future."
        raise Invalid(message, {field: message})
    oldest = today - timedelta(days=OLDEST_YEARS * 366)
    if value < oldest:
        message = (
            f"The date of birth is more than {OLDEST_YEARS} years ago; "
            "these classes are for babies. Please check the year."
        )
        raise Invalid(message, {field: message})
    return value


DUE_BEFORE_BIRTH_MAX = timedelta(weeks=6)
DUE_AFTER_BIRTH_MAX = timedelta(weeks=20)


def check_due_date(value, date_of_birth: date, field: str = "due_date") -> date | None:
    """An optional due date, plausible for a baby born on `date_of_birth`: at most 20
    weeks after the birth (a baby born very early) and 6 weeks before it (born late)."""
    if value is None or value == "":
        return None
    if not isinstance(value, date) or isinstance(value, datetime):
        message = "Enter the due date as YYYY-MM-DD, or leave it empty."
        raise Invalid(message, {field: message})
    if value > date_of_birth + DUE_AFTER_BIRTH_MAX:
        message = (
            "The due date is more than 20 weeks after the date of birth. Please check "
            "both dates."
        )
        raise Invalid(message, {field: message})
    if value < date_of_birth - DUE_BEFORE_BIRTH_MAX:
        message = (
            "The due date is more than 6 weeks before the date of birth. Please check "
            "both dates."
        )
        raise Invalid(message, {field: message})
    return value


def check_name(value, field: str = "name") -> str:
    """A baby's first name or nickname: one to 80 characters, with something to see and
    no control characters or text-direction overrides (the rule of people's names)."""
    name = " ".join(str(value or "").split())
    if not rules.shows_something(name):
        message = "Enter your baby's first name or a nickname."
        raise Invalid(message, {field: message})
    try:
        rules.readable(name, label="Your baby's name", multiline=False)
    except rules.FieldError as exc:
        raise Invalid(str(exc), {field: str(exc)}) from None
    # The form the same baby is recognised by (`Baby.key_for`) can be longer than the
    # name itself ("ß" compares as "ss"), and is kept in as many characters.
    if len(name) > NAME_MAX:
        message = f"Use at most {NAME_MAX} characters."
        raise Invalid(message, {field: message})
    if len(Baby.key_for(name)) > NAME_MAX:
        message = (
            f"Use a shorter name: at most {NAME_MAX} characters, where letters such as "
            "\u00df count as two."
        )
        raise Invalid(message, {field: message})
    return name


def babies_select(*columns) -> sa.Select:
    """A parent's babies, youngest first, as `columns` (the parent a parameter,
    `parent_id`). Not one anonymised after the retention time (kept for counts by age
    only: no name, its birth date moved to the 1st)."""
    return (
        sa.select(*columns)
        .where(
            Baby.parent_id == sa.bindparam("parent_id"),
            Baby.name_key != Baby.anonymised_key_sql(),
        )
        .order_by(Baby.date_of_birth.desc(), Baby.id)
    )


@cache
def _babies_statement():
    """`babies_select` of whole babies, built once."""
    return babies_select(Baby)


def list_babies(parent_id: int) -> list[Baby]:
    """The parent's babies, youngest first."""
    return list(db.session.scalars(_babies_statement(), {"parent_id": parent_id}))


def get_baby(parent_id: int, baby_id) -> Baby:
    """One of the parent's babies; NotFound for anyone else's (nothing is revealed)."""
    try:
        baby_id = int(baby_id)
    except (TypeError, ValueError):
        baby_id = None
    baby = db.session.get(Baby, baby_id) if baby_id is not None else None
    if baby is None or baby.parent_id != parent_id or baby.is_anonymised:
        message = "We could not find that baby on your account."
        raise NotFound(message, {"baby_id": message})
    return baby


def find_same_baby(parent_id: int, name: str, date_of_birth: date) -> Baby | None:
    """The parent's baby with that name (ignoring case and spaces) and date of birth."""
    return db.session.scalar(
        sa.select(Baby).where(
            Baby.parent_id == parent_id,
            Baby.name_key == Baby.key_for(name),
            Baby.date_of_birth == date_of_birth,
        )
    )


def _with_due_date(baby: Baby, due_date: date | None) -> Baby:
    """A due date given with a baby already on the account fills in a missing one
    (it never overwrites one the parent saved), unless the corrected age would put the
    baby outside a class it holds a place in: refused, as correcting it on the baby's
    own page is."""
    if due_date is not None and baby.due_date is None:
        baby.due_date = due_date
        db.session.flush()
        _refuse_leaving_a_class(baby)
    return baby


def find_or_add_baby(
    parent_id: int, name: str, date_of_birth: date, due_date: date | None = None
) -> Baby:
    """Inside an open transaction: the same baby if already there, else a new one.

    Two requests adding the same baby at once meet the unique constraint; the
    loser's insert is rolled back to a savepoint and the existing baby is used.
    """
    name = check_name(name, "baby_name")
    date_of_birth = check_date_of_birth(date_of_birth, "baby_dob")
    due_date = check_due_date(due_date, date_of_birth, "baby_due_date")
    existing = find_same_baby(parent_id, name, date_of_birth)
    if existing is not None:
        return _with_due_date(existing, due_date)
    baby = Baby(
        parent_id=parent_id,
        name=name,
        name_key=Baby.key_for(name),
        date_of_birth=date_of_birth,
        due_date=due_date,
    )
    try:
        with db.session.begin_nested():
            db.session.add(baby)
    except sa.exc.IntegrityError:
        existing = find_same_baby(parent_id, name, date_of_birth)
        if existing is None:
            raise
        return _with_due_date(existing, due_date)
    return baby


def add_baby(
    parent_id: int, name: str, date_of_birth: date, due_date: date | None = None
) -> Baby:
    """Add a baby to the parent's account; the same name and date of birth twice is refused."""
    name = check_name(name)
    date_of_birth = check_date_of_birth(date_of_birth)
    due_date = check_due_date(due_date, date_of_birth)
    with write_transaction():
        if find_same_baby(parent_id, name, date_of_birth) is not None:
            message = f"{name}, born on that day, is already on your account."
            raise Conflict(message, {"name": message})
        baby = Baby(
            parent_id=parent_id,
            name=name,
            name_key=Baby.key_for(name),
            date_of_birth=date_of_birth,
            due_date=due_date,
        )
        db.session.add(baby)
    return baby


def update_baby(
    parent_id: int,
    baby_id: int,
    *,
    name: str,
    date_of_birth: date,
    due_date: date | None = None,
) -> Baby:
    """Correct a baby's name, date of birth or due date (None clears the due date)."""
    name = check_name(name)
    date_of_birth = check_date_of_birth(date_of_birth)
    due_date = check_due_date(due_date, date_of_birth)
    with write_transaction():
        baby = get_baby(parent_id, baby_id)
        twin = find_same_baby(parent_id, name, date_of_birth)
        if twin is not None and twin.id != baby.id:
            message = f"{name}, born on that day, is already on your account."
            raise Conflict(message, {"name": message})
        ages_change = (baby.date_of_birth, baby.due_date) != (date_of_birth, due_date)
        baby.name = name
        baby.name_key = Baby.key_for(name)
        baby.date_of_birth = date_of_birth
        baby.due_date = due_date
        db.session.flush()
        if ages_change:
            _refuse_leaving_a_class(baby)
        # A corrected date of birth (or due date) can make a waiting baby fit a class with a
        # free place: that place is theirs at once (rule 6).
        waiting_in = db.session.scalars(
            sa.select(Registration.workshop_id).where(
                Registration.baby_id == baby.id, Registration.status == WAITLISTED
            )
        ).all()
        for workshop_id in sorted(set(waiting_in)):
            promote_waitlist(workshop_id)
    return baby


def _refuse_leaving_a_class(baby: Baby) -> None:
    """A corrected date of birth (or due date) that puts the baby outside the age range
    of a class it holds a place in, not yet begun, is refused (rule 2), naming the
    class: the centre can move or cancel that booking first."""
    held = db.session.scalars(
        sa.select(Workshop)
        .join(Registration, Registration.workshop_id == Workshop.id)
        .where(
            Registration.baby_id == baby.id,
            Registration.status.in_(HOLDS_PLACE),
            Workshop.first_starts_at > datetime.now(UTC),
        )
        .order_by(Workshop.first_starts_at, Workshop.id)
    ).all()
    for workshop in held:
        fit = eligibility(baby, workshop)
        if not fit.eligible:
            message = (
                f"With these dates, {fit.reason} {baby.name} has a place in "
                f"“{workshop.title}”: please check the dates, or ask the centre "
                "to move or cancel that booking first."
            )
            raise Conflict(message, {"date_of_birth": message})


def active_booking_count(baby_id: int) -> int:
    """The baby's confirmed or waiting registrations for workshops not yet over."""
    now = datetime.now(UTC)
    return db.session.scalar(
        sa.select(sa.func.count(Registration.id))
        .join(Workshop, Workshop.id == Registration.workshop_id)
        .where(
            Registration.baby_id == baby_id,
            Registration.status.in_(ACTIVE),
            sa.or_(Workshop.last_ends_at.is_(None), Workshop.last_ends_at > now),
        )
    )


def remove_baby(parent_id: int, baby_id: int) -> str:
    """Remove a baby with no upcoming bookings; returns the baby's name."""
    with write_transaction():
        baby = get_baby(parent_id, baby_id)
        count = active_booking_count(baby.id)
        if count:
            places = "booking" if count == 1 else "bookings"
            raise Conflict(
                f"{baby.name} has {count} upcoming {places}. Cancel "
                f"{'it' if count == 1 else 'them'} first, then remove {baby.name}."
            )
        makeups = db.session.scalar(
            sa.select(sa.func.count(MakeupBooking.id))
            .join(WorkshopSession, WorkshopSession.id == MakeupBooking.session_id)
            .where(
                MakeupBooking.baby_id == baby.id,
                WorkshopSession.starts_at > datetime.now(UTC),
            )
        )
        if makeups:
            raise Conflict(
                f"{baby.name} has a make-up session to come. Cancel it on your bookings "
                f"page first, then remove {baby.name}."
            )
        name = baby.name
        db.session.delete(baby)
    return name
