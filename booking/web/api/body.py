"""Reading a staff request's JSON body into its declared model.

In front of the model's validation, the body loader turns away what no field could
hold: a body over MAX_BODY_BYTES (413), one that is not a UTF-8 JSON object, nests more
than MAX_JSON_DEPTH levels or holds a NUL or an unpaired surrogate in any string (400).
Control characters in a field's strings are reported with the model's own refusals
(422, naming each field). `invalid_fields` is the one place a pydantic ValidationError
becomes the API's `{field: problem}`.
"""

import json
from typing import TypeVar

from flask import request
from pydantic import BaseModel, ValidationError

from booking.services.errors import DomainError, Invalid
from booking.web.api.schemas.types import RULE_ERROR
from booking.web.input_guard import CONTROL, printable, problem_message, text_problem

MAX_BODY_BYTES = 64 * 1024
# No body the API understands nests more than a few levels; 32 leaves ample room.
MAX_JSON_DEPTH = 32
INVALID_MESSAGE = "Some fields are missing or wrong."
M = TypeVar("M", bound=BaseModel)


class BadRequest(DomainError):
    """A request the API cannot read at all (400)."""

    status = 400
    code = "bad_request"


class BadJson(BadRequest):
    """A body that is not a JSON object the API can use (400)."""

    code = "bad_json"


class TooLarge(DomainError):
    """A body larger than MAX_BODY_BYTES (413)."""

    status = 413
    code = "too_large"


def read_body(model: type[M]) -> M:
    """The request's JSON object, validated by `model`; a DomainError (400, 413 or 422
    naming every refused field together) when it cannot be used."""
    data = _json_object()
    errors = _text_errors(data)
    try:
        body = model.model_validate(data)
    except ValidationError as exc:
        errors = invalid_fields(exc) | errors
    if errors:
        raise Invalid(INVALID_MESSAGE, errors)
    return body


def _json_object() -> dict:
    too_large = TooLarge(f"The request body must be at most {MAX_BODY_BYTES} bytes.")
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise too_large
    if not request.is_json:
        raise BadRequest("Send a JSON object with Content-Type: application/json.")
    raw = request.get_data(cache=True)
    if len(raw) > MAX_BODY_BYTES:
        raise too_large
    data = _load_json(raw)
    if not isinstance(data, dict):
        raise BadJson("The request body must be a JSON object.")
    return data


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _too_deep() -> BadJson:
    return BadJson(f"The request body nests more than {MAX_JSON_DEPTH} levels deep.")


def _load_json(raw: bytes):
    """Parse the body as UTF-8 JSON; 400 if it is not, or nests too deeply."""
    try:
        return _check_depth(json.loads(raw.decode("utf-8"), parse_constant=_reject_constant))
    except UnicodeDecodeError as exc:
        raise BadJson("The request body must be UTF-8 JSON.") from exc
    except RecursionError as exc:
        raise _too_deep() from exc
    except ValueError as exc:
        raise BadJson(f"The request body is not valid JSON: {exc}") from exc


def _check_depth(data):
    """`data`, if no list or object in it lies more than MAX_JSON_DEPTH levels down."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise _too_deep()
            children = value.values() if isinstance(value, dict) else value
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
    """{field: problem} for control characters in the object's strings (422 with the
    model's refusals); a NUL or an unpaired surrogate anywhere is a 400 now: no field
    can hold them."""
    errors = {}
    for name, value in data.items():
        problems = {text_problem(text) for text in _strings([name, value])} - {None}
        if not problems:
            continue
        worst = (problems - {CONTROL} or {CONTROL}).pop()
        shown = printable(name)
        message = problem_message(f"The field '{shown}'", worst)
        if worst != CONTROL:
            raise BadJson(message, {shown: message})
        errors[shown] = message
    return errors


# Refusals pydantic words for programmers, worded for people.
_MESSAGES = {
    "missing": "Required.",
    "extra_forbidden": "Unknown field.",
    "int_type": "Must be a whole number.",
    "string_type": "Must be a string.",
    "bool_type": "Must be true or false.",
    "list_type": "Must be a list of strings.",
    "greater_than_equal": "Must be a whole number of at least {ge}.",
    "less_than_equal": "Must be a whole number of at most {le}.",
    "literal_error": "Use {expected}.",
}


def _message(error: dict) -> str:
    if error["type"] == RULE_ERROR:
        return error["msg"]
    if error["type"] == "string_type" and len(error["loc"]) > 1:
        return "Must be a list of strings."
    template = _MESSAGES.get(error["type"])
    return template.format(**error.get("ctx", {})) if template else error["msg"]


def invalid_fields(exc: ValidationError) -> dict[str, str]:
    """{field: problem} for every refusal in a body's ValidationError, named by the
    body's own field names; the first problem of each field is the one reported."""
    fields: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        named = (error.get("ctx") or {}).get("fields")
        if named:
            for name, problem in named.items():
                fields.setdefault(name, problem)
        elif error["loc"]:
            fields.setdefault(printable(str(error["loc"][0])), _message(error))
        else:
            fields.setdefault("body", _message(error))
    return fields
