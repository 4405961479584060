"""The term calendar's query string (`view`, `date`, `centre`, `room`, `instructor`):
read, checked and written back into links. Bad values are refused with InvalidQuery
(400) naming each parameter, with the catalogue's rules for dates and ids."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from booking.services.catalogue.params import DATE_RE, FIRST_DATE, LAST_DATE, MAX_ID, InvalidQuery

VIEWS = ("week", "month", "day")
PARAMETERS = ("view", "date", "centre", "room", "instructor")
MAX_ROOM_LENGTH = 120


@dataclass(frozen=True)
class CalendarParams:
    """A checked calendar request; `day` (the `date` parameter) None means today."""

    view: str = "week"
    day: date | None = None
    centre: int | None = None
    room: str | None = None
    instructor: int | None = None

    def query_args(self, **overrides) -> dict:
        """The request as a query string carries it (for links); an override of None
        drops the parameter."""
        args = {
            "view": self.view,
            "date": self.day,
            "centre": self.centre,
            "room": self.room,
            "instructor": self.instructor,
        }
        args.update(overrides)
        if isinstance(args["date"], date):
            args["date"] = args["date"].isoformat()
        return {name: args[name] for name in PARAMETERS if args.get(name) is not None}


def in_range(day: date) -> date | None:
    """The day, if the calendar can show it (the catalogue's range of dates)."""
    return day if FIRST_DATE <= day <= LAST_DATE else None


def _record_id(raw: str) -> int | None:
    if raw.isascii() and raw.isdigit() and len(raw) <= len(str(MAX_ID)):
        value = int(raw)
        if 1 <= value <= MAX_ID:
            return value
    return None


def _day(raw: str, errors: dict) -> date | None:
    try:
        if not DATE_RE.match(raw):
            raise ValueError
        value = date.fromisoformat(raw)
    except ValueError:
        errors["date"] = (
            "Date (date) must be a real date written as YYYY-MM-DD, such as 2027-01-04."
        )
        return None
    if in_range(value) is None:
        errors["date"] = (
            f"Date (date) must be between {FIRST_DATE.isoformat()} and {LAST_DATE.isoformat()}."
        )
        return None
    return value


def parse_calendar_args(args: Mapping) -> CalendarParams:
    """Check the calendar's query string (unknown parameters are ignored, empty ones
    are left out); InvalidQuery names every bad parameter."""
    raw = {name: " ".join(str(args.get(name) or "").split()) for name in PARAMETERS}
    errors: dict[str, str] = {}
    values: dict = {}
    if raw["view"]:
        if raw["view"] in VIEWS:
            values["view"] = raw["view"]
        else:
            errors["view"] = "View (view) must be week, month or day."
    if raw["date"]:
        values["day"] = _day(raw["date"], errors)
    for name, label in (("centre", "Centre (centre)"), ("instructor", "Instructor (instructor)")):
        if raw[name]:
            values[name] = _record_id(raw[name])
            if values[name] is None:
                errors[name] = f"{label} must be one from the list."
    if raw["room"]:
        if len(raw["room"]) > MAX_ROOM_LENGTH:
            errors["room"] = f"Room (room) must be at most {MAX_ROOM_LENGTH} characters."
        values["room"] = raw["room"]
    if errors:
        raise InvalidQuery(" ".join(errors.values()), fields=errors)
    return CalendarParams(**values)
