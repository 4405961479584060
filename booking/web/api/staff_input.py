"""Reading the staff API's requests: bearer tokens and strictly typed JSON bodies.

Every problem becomes an `ApiInputError` carrying the HTTP status, a code, a message
and {field: problem}, which the staff endpoints turn into the API's JSON error.
"""

import json
import re
from datetime import datetime
from decimal import Decimal

from flask import request

from booking.services.schedule import fields as field_rules
from booking.web.input_guard import CONTROL, printable, problem_message, text_problem

MAX_BODY_BYTES = 64 * 1024
# No body the API understands nests more than a few levels; 32 leaves ample room.
MAX_JSON_DEPTH = 32
# Whole numbers are stored as 32-bit integers; anything larger is refused as input.
MIN_WHOLE, MAX_WHOLE = -(2**31), 2**31 - 1
_BEARER_RE = re.compile(r"^Bearer +([A-Za-z0-9._~+/=-]+) *$")
_LOCAL_RE = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?$")
_OFFSET_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")
TIME_FORMATS = '"YYYY-MM-DD HH:MM" in the centre\'s local time, or ISO 8601 with an offset'


class ApiInputError(Exception):
    """A request the API cannot act on, with the status and fields to report."""

    def __init__(self, status: int, code: str, message: str, fields: dict | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or {}


def bearer_token() -> str:
    """The token of an `Authorization: Bearer <token>` header; 401 when missing or malformed."""
    header = request.headers.get("Authorization", "")
    if not header.strip():
        raise ApiInputError(
            401, "unauthorized", "Send an API token: Authorization: Bearer <token>."
        )
    match = _BEARER_RE.match(header.strip())
    if match is None or len(match.group(1)) > 200:
        raise ApiInputError(
            401,
            "unauthorized",
            "The Authorization header must read 'Bearer <token>'.",
        )
    return match.group(1)


# Field kinds: what JSON type each field must have.
TEXT, WHOLE, FLAG, MONEY, TEXT_LIST, WHOLE_OR_NULL = (
    "text", "whole", "flag", "money", "text_list", "whole_or_null",
)
_KIND_WORDS = {
    TEXT: "a string",
    WHOLE: f"a whole number from {MIN_WHOLE} to {MAX_WHOLE}",
    FLAG: "true or false",
    MONEY: 'a number or a string such as "45.00"',
    TEXT_LIST: "a list of strings",
    WHOLE_OR_NULL: f"a whole number from {MIN_WHOLE} to {MAX_WHOLE}, or null",
}


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and (
        MIN_WHOLE <= value <= MAX_WHOLE
    )


def _fits(kind: str, value) -> bool:
    if kind == TEXT:
        return isinstance(value, str)
    if kind == WHOLE:
        return _whole(value)
    if kind == WHOLE_OR_NULL:
        return value is None or _whole(value)
    if kind == FLAG:
        return isinstance(value, bool)
    if kind == MONEY:
        return isinstance(value, int | float | str | Decimal) and not isinstance(value, bool)
    if kind == TEXT_LIST:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    raise ValueError(kind)


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def json_object(schema: dict[str, str], required: tuple[str, ...] = ()) -> dict:
    """The request's JSON object, checked against {field: kind}.

    Oversized bodies are 413; a body that is not JSON (or not an object), nests more
    than MAX_JSON_DEPTH levels or holds a NUL or an unpaired surrogate in any string is
    400; unknown fields, missing required fields, values of the wrong type and control
    characters in strings are all reported together as 422, naming each field.
    """
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise ApiInputError(
            413, "too_large", f"The request body must be at most {MAX_BODY_BYTES} bytes."
        )
    if not request.is_json:
        raise ApiInputError(
            400, "bad_request", "Send a JSON object with Content-Type: application/json."
        )
    raw = request.get_data(cache=True)
    if len(raw) > MAX_BODY_BYTES:
        raise ApiInputError(
            413, "too_large", f"The request body must be at most {MAX_BODY_BYTES} bytes."
        )
    data = _load_json(raw)
    if not isinstance(data, dict):
        raise ApiInputError(400, "bad_json", "The request body must be a JSON object.")
    errors = _text_errors(data)
    for name, value in data.items():
        kind = schema.get(name)
        if printable(name) in errors:
            continue
        if kind is None:
            errors[name] = "Unknown field."
        elif not _fits(kind, value):
            errors[name] = f"Must be {_KIND_WORDS[kind]}."
    for name in required:
        if name not in data:
            errors[name] = "Required."
    if errors:
        raise ApiInputError(422, "invalid", "Some fields are missing or wrong.", errors)
    return data


def _too_deep() -> ApiInputError:
    return ApiInputError(
        400, "bad_json", f"The request body nests more than {MAX_JSON_DEPTH} levels deep."
    )


def _load_json(raw: bytes):
    """Parse the body as UTF-8 JSON; 400 if it is not, or nests too deeply."""
    try:
        return _check_depth(json.loads(raw.decode("utf-8"), parse_constant=_reject_constant))
    except UnicodeDecodeError as exc:
        raise ApiInputError(400, "bad_json", "The request body must be UTF-8 JSON.") from exc
    except RecursionError as exc:
        raise _too_deep() from exc
    except ValueError as exc:
        raise ApiInputError(400, "bad_json", f"The request body is not valid JSON: {exc}") from exc


def _check_depth(data):
    """`data`, if no list or object in it lies more than MAX_JSON_DEPTH levels down."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value
        if isinstance(value, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise _too_deep()
            stack.extend((child, depth + 1) for child in children)
    return data


def _strings(value):
    """Every string in a parsed JSON value, keys included, without recursion."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _text_errors(data: dict) -> dict[str, str]:
    """{field: problem} for control characters in the object's strings (422 later);
    a NUL or an unpaired surrogate anywhere is a 400 now: no field can hold them."""
    errors = {}
    for name, value in data.items():
        problems = {text_problem(text) for text in _strings([name, value])} - {None}
        if not problems:
            continue
        worst = (problems - {CONTROL} or {CONTROL}).pop()
        shown = printable(name)
        message = problem_message(f"The field '{shown}'", worst)
        if worst != CONTROL:
            raise ApiInputError(400, "bad_json", message, {shown: message})
        errors[shown] = message
    return errors


def parse_time(value: str, name: str) -> datetime:
    """A time as given to the API: naive local ("YYYY-MM-DD HH:MM") or aware (ISO 8601
    with an offset or Z), within the years every entry point accepts (field_rules).
    Raises ApiInputError(422) naming the field otherwise."""
    text = value.strip()
    if not (_LOCAL_RE.match(text) or _OFFSET_RE.match(text)):
        raise ApiInputError(
            422, "invalid", f"{name} must be {TIME_FORMATS}.", {name: f"Use {TIME_FORMATS}."}
        )
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ApiInputError(
            422, "invalid", f"{name} is not a real date and time.", {name: "Not a real time."}
        ) from exc
    try:
        return field_rules.in_date_window(parsed, name)
    except field_rules.FieldError as exc:
        raise ApiInputError(422, "invalid", str(exc), {name: str(exc)}) from exc


def parse_offset_time(value: str, name: str) -> datetime:
    """An instant given to the API as ISO 8601 with an offset or Z; 422 naming the field
    for anything else (a time without an offset could be read in more than one zone)."""
    if not _OFFSET_RE.match(value.strip()):
        message = 'Use ISO 8601 with an offset, such as "2026-03-02T10:00:00+00:00".'
        raise ApiInputError(422, "invalid", f"{name}: {message}", {name: message})
    return parse_time(value, name)
