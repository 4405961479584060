"""Field types of the API's request bodies: strict JSON types, each checked by the
shared field rule (booking.services.schedule.fields) where one exists.

A rule's refusal becomes a validation error whose message is the rule's own text, so
the API names a problem exactly as the staff pages and the schedule import do.
"""

import re
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, Field, PlainValidator, StrictInt, StrictStr, WithJsonSchema
from pydantic_core import PydanticCustomError

from booking.services.schedule import fields as rules

# Whole numbers are stored as 32-bit integers; anything larger is refused as input.
MIN_WHOLE, MAX_WHOLE = -(2**31), 2**31 - 1
LOCAL_TIME = r"[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}(:[0-9]{2})?"
OFFSET_TIME = (
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?"
    r"(Z|[+-][0-9]{2}:[0-5][0-9])"
)
TIME_PATTERN = f"^({LOCAL_TIME}|{OFFSET_TIME})$"
OFFSET_PATTERN = f"^{OFFSET_TIME}$"
TIME_FORMATS = '"YYYY-MM-DD HH:MM" in the centre\'s local time, or ISO 8601 with an offset'
LOCAL_OR_OFFSET = (
    'Either "YYYY-MM-DD HH:MM" in the centre\'s local time, or ISO 8601 with an offset '
    f'(such as "2026-03-02T10:00:00+00:00"), in the years {rules.FIRST_YEAR} to '
    f"{rules.LAST_YEAR}."
)
RULE_ERROR = "field_rule"


def refused(message: str, fields: dict[str, str] | None = None) -> PydanticCustomError:
    """A validation error with a human message; `fields` names the fields it concerns
    when raised by a whole-body check (a field's own check is named by its place)."""
    return PydanticCustomError(RULE_ERROR, message, {"fields": fields} if fields else None)


def rule(check: Callable[[Any], Any]) -> AfterValidator:
    """Run a shared field rule on the already type-checked value; its clean value is kept."""

    def run(value):
        try:
            return check(value)
        except rules.FieldError as exc:
            raise refused(str(exc)) from None

    return AfterValidator(run)


def whole(low: int = MIN_WHOLE, high: int = MAX_WHOLE) -> Any:
    """A JSON integer (not a boolean, not 4.0) from `low` to `high`."""
    return Annotated[StrictInt, Field(ge=low, le=high)]


def ranged(check: Callable[[Any], Any], low: int, high: int) -> Any:
    """A JSON integer judged by a field rule whose bounds are `low` and `high`."""
    return Annotated[StrictInt, rule(check), Field(json_schema_extra={"minimum": low,
                                                                         "maximum": high})]


def amount(check: Callable[[Any, str | None], Any], *, nullable: bool = False) -> Any:
    """An amount of money in major units, as a JSON number or a string such as "45.00",
    judged by a shared field rule; with `nullable`, null is taken as None.

    The value is kept as sent: which currency sign it may carry depends on the centre,
    known only to the use case, which judges it again (so "€45" for a centre in pounds
    is refused there, not read as £45)."""

    def run(value):
        if value is None and nullable:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise refused('Must be a number or a string such as "45.00".')
        try:
            check(value, None)
        except rules.FieldError as exc:
            raise refused(str(exc)) from None
        return value

    types = ["number", "string", "null"] if nullable else ["number", "string"]
    return Annotated[Any, PlainValidator(run), WithJsonSchema({"type": types})]


Money = amount(rules.price)

_TIME_RE = re.compile(TIME_PATTERN, re.ASCII)
_OFFSET_RE = re.compile(OFFSET_PATTERN, re.ASCII)


def parse_time(value: str, offset_only: bool = False) -> datetime:
    """A time as given to the API: naive local ("YYYY-MM-DD HH:MM") or aware (ISO 8601
    with an offset or Z), on a whole minute, within the years every entry point accepts."""
    text = value
    if offset_only and not _OFFSET_RE.fullmatch(text):
        raise refused('Use ISO 8601 with an offset, such as "2026-03-02T10:00:00+00:00".')
    if not _TIME_RE.fullmatch(text):
        raise refused(f"Use {TIME_FORMATS}.")
    try:
        parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        raise refused("Not a real date and time.") from None
    if parsed.second or parsed.microsecond:
        # Sessions start and end on whole minutes: a time with seconds is refused, the
        # same for every time field (one was cut to the minute, another refused).
        raise refused("Give a time on a whole minute, without seconds.")
    try:
        return rules.in_date_window(parsed, "The time")
    except rules.FieldError as exc:
        raise refused(str(exc)) from None


Time = Annotated[
    StrictStr,
    AfterValidator(parse_time),
    Field(json_schema_extra={"pattern": TIME_PATTERN}, description=LOCAL_OR_OFFSET),
]
OffsetTime = Annotated[
    StrictStr,
    AfterValidator(lambda value: parse_time(value, offset_only=True)),
    Field(json_schema_extra={"pattern": OFFSET_PATTERN}),
]
