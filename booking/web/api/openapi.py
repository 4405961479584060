"""The API's OpenAPI 3.1 document (/api/v1/openapi.json), assembled from the declared
operations (booking.web.api.operations) and the JSON Schemas of their pydantic models;
its reference page for people (/api/v1/docs) and the API root (/api/v1/)."""

from copy import deepcopy
from functools import cache

from flask import jsonify, render_template
from pydantic.json_schema import GenerateJsonSchema, models_json_schema

from booking.services.booking.idempotency import HEADER as IDEMPOTENCY_HEADER
from booking.services.booking.idempotency import KEY_MAX_LENGTH
from booking.services.catalogue.params import MAX_ID, SLUG_RE
from booking.services.catalogue.search import COUNT_LIMIT
from booking.web.api.body import MAX_BODY_BYTES
from booking.web.api.openapi_docs import blocks, inline, reference
from booking.web.api.operations import OPERATIONS, PUBLIC, STAFF, Answer, Operation, operation
from booking.web.api.preconditions import HEADER as IF_MATCH_HEADER
from booking.web.api.schemas import responses
from booking.web.api.serializers import absolute_url

API_VERSION = "1.0.0"
REF_TEMPLATE = "#/components/schemas/{model}"
# Objects with a name of their own in the document; the smaller ones inside them
# (a workshop's centre, an error's details) are written out where they are used.
NAMED = (responses.Error, responses.Centre, responses.WorkshopSession, responses.Registration)

ERROR_TEXT = {
    400: "The request or a parameter cannot be understood; `fields` names each one.",
    401: "No API token, or an unknown or revoked one.",
    403: "The token's user is not staff of this centre.",
    404: "There is no such thing (or it is not public).",
    409: "It clashes with the current state (for example capacity below confirmed places).",
    412: "If-Match names no current ETag: it was changed since it was read (or If-Match "
    "is malformed, or lists only weak ETags). Nothing was changed; read it again.",
    413: f"The body is larger than {MAX_BODY_BYTES} bytes.",
    422: "Fields are missing, unknown, of the wrong type or break a booking rule; "
    "`fields` names each one.",
    429: "Too many requests from this address were refused for a missing or wrong token; "
    "try again after `Retry-After` seconds.",
    503: "The database cannot be used just now (it does not answer, or the site is being "
    "updated): try again after `Retry-After` seconds.",
}
RESPONSE_HEADERS = {
    "ETag": {
        "description": "A strong validator of this representation: send it back in "
        "If-None-Match to get a 304, or in If-Match to change it only if it is unchanged.",
        "schema": {"type": "string"},
    },
    "Location": {
        "description": "The new workshop's URL in this API.",
        "schema": {"type": "string", "format": "uri"},
    },
    "Idempotent-Replayed": {
        "description": "`true` when this is a stored first response.",
        "schema": {"type": "string", "enum": ["true"]},
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "string"},
    },
    "Link": {
        "description": 'The next and previous pages (RFC 8288), as `next` and `prev` in the '
        'body: `<URL>; rel="next", <URL>; rel="prev"`, either left out where the body has '
        "null, and no header when both are.",
        "schema": {"type": "string"},
    },
}
HEADER_PARAMETERS = {
    "If-None-Match": {
        "description": "An ETag from an earlier response; unchanged data gives 304.",
        "schema": {"type": "string"},
    },
    IF_MATCH_HEADER: {
        "description": 'Change it only if it is unchanged since it was read: the ETag of '
        'that read, in double quotes as given (several may be listed, separated by commas), '
        'or "*" for any. Compared strongly: a weak ETag (W/"...") never matches. No match, '
        "or a malformed value: 412, and nothing changed, before the body is read (a stale "
        "change with a faulty body is 412, not 422). Without it the change is made "
        "whatever happened since.",
        "schema": {"type": "string"},
    },
    IDEMPOTENCY_HEADER: {
        "description": "A unique value per intended creation, such as a UUID.",
        "schema": {"type": "string", "minLength": 1, "maxLength": KEY_MAX_LENGTH,
                   "pattern": "^[!-~]+$"},
    },
}
PATH_PARAMETERS = {
    "workshop_id": "The workshop's id.",
    "session_id": "The session's id.",
    "slug": "The centre's slug.",
}
PATH_SCHEMAS = {
    "int": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
    "string": {"type": "string", "pattern": SLUG_RE.pattern},
}
NOT_MODIFIED = {"description": "Not modified since the ETag given in If-None-Match."}
SECURITY = {PUBLIC: [], STAFF: [{"bearerAuth": []}]}

# Formatted with count_limit: literal braces in the text must be doubled.
DESCRIPTION = """\
Read the published schedule of every centre, and, with a staff member's API token,
create and change workshops and sessions and read registrations.

* **Tokens**: create one on your account's API tokens page or with
  `flask --app wsgi api-token create EMAIL`; send `Authorization: Bearer <token>`.
  Staff of a centre (and admins) may write its schedule; other tokens get 403, none 401.
* **Errors** are JSON: `{{"error": {{"code", "message", "fields"}}}}` with 400 (bad request or
  parameter), 401, 403, 404, 409 (clashes with the current state), 412 (changed since
  it was read: `If-Match`), 413 (body too large), 422 (fields missing, unknown, of the
  wrong type or breaking a booking rule), 429 (too many refused tokens from one
  address) or 503 (the database cannot be used just now: try again after
  `Retry-After` seconds). Nothing is changed by a refused request.
* **Times** are ISO 8601 with the centre's UTC offset. Times sent may also be the
  centre's local wall-clock time, `YYYY-MM-DD HH:MM`.
* **Pages**: `page` and `per_page`, with `next` and `prev` links. A search's `total` is
  exact up to {count_limit} matches; beyond that `total_exact` is false and `total` is a
  lower bound.
* **Caching**: every GET has a strong `ETag`; send it in `If-None-Match` for a 304.
* **Changes from a stale read**: send a workshop's `ETag` in `If-Match` with
  `PATCH /workshops/{{id}}` (or `PATCH /sessions/{{id}}` of one of its sessions) and the
  change is made only if the workshop is still as read; else 412, nothing changed.
* **Browsers**: the public reads allow any origin (CORS); the staff endpoints allow none.
* **Retries**: `POST /workshops` takes an `Idempotency-Key`.
"""


class ApiJsonSchema(GenerateJsonSchema):
    """Pydantic's JSON Schema without a title on every field and without `"default":
    null` on fields that are simply optional."""

    def field_title_should_be_set(self, schema) -> bool:
        """Fields are named by their keys; no titles."""
        return False

    def default_schema(self, schema):
        """A field's schema, with its default unless that is None (left out)."""
        json_schema = super().default_schema(schema)
        if json_schema.get("default", ...) is None:
            del json_schema["default"]
        return json_schema


def ref(name: str) -> dict:
    """A reference to a schema in components."""
    return {"$ref": REF_TEMPLATE.format(model=name)}


def _inline(schema, defs: dict, named: set[str]):
    """`schema` with references to unnamed objects replaced by the objects themselves."""
    if isinstance(schema, list):
        return [_inline(item, defs, named) for item in schema]
    if not isinstance(schema, dict):
        return schema
    target = schema.get("$ref", "").rsplit("/", 1)[-1]
    if target and target not in named:
        extra = {k: v for k, v in schema.items() if k != "$ref"}
        return _inline({**deepcopy(defs[target]), **extra}, defs, named)
    return {key: _inline(value, defs, named) for key, value in schema.items()}


def _components(operations: list[Operation]) -> dict:
    models = [(model, "serialization") for model in NAMED]
    for op in operations:
        if op.body is not None:
            models.append((op.body, "validation"))
        if op.answer.model is not None:
            models.append((op.answer.model, "serialization"))
    unique = list(dict.fromkeys(models))
    _, top = models_json_schema(unique, ref_template=REF_TEMPLATE,
                                schema_generator=ApiJsonSchema)
    defs = top["$defs"]
    named = {model.__name__ for model, _ in unique}
    return {name: _inline(defs[name], defs, named) for name in defs if name in named}


def _json(description: str, schema: dict, headers=()) -> dict:
    response = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        response["headers"] = {name: RESPONSE_HEADERS[name] for name in headers}
    return response


def _parameters(op: Operation) -> list[dict]:
    found = [
        {"name": name, "in": "path", "required": True, "description": PATH_PARAMETERS[name],
         "schema": PATH_SCHEMAS[converter]}
        for name, converter in op.path_params
    ]
    if op.query is not None:
        properties = op.query.model_json_schema(schema_generator=ApiJsonSchema)["properties"]
        for name, schema in properties.items():
            schema = dict(schema)
            # As on the /classes form, an empty value counts as not given.
            found.append({"name": name, "in": "query", "required": False,
                          "description": schema.pop("description", ""),
                          "allowEmptyValue": True, "schema": schema})
    headers = (*op.headers, "If-None-Match") if op.method == "get" else op.headers
    for name in headers:
        found.append({"name": name, "in": "header", "required": False,
                      **HEADER_PARAMETERS[name]})
    return found


# The headers an error answer carries, by status.
ERROR_HEADERS = {429: ("Retry-After",), 503: ("Retry-After",)}
# The operations that read nothing from the database (so never answer 503).
WITHOUT_DATABASE = frozenset({"apiIndex", "getOpenApi", "getDocs"})


def _error_statuses(op: Operation) -> set[int]:
    statuses = {429, *op.errors}
    if op.operation_id not in WITHOUT_DATABASE:
        statuses.add(503)
    if op.tag == STAFF:
        statuses |= {401, 403}
    if op.body is not None:
        statuses |= {400, 413, 422}
    if op.query is not None or IDEMPOTENCY_HEADER in op.headers:
        statuses.add(400)
    if op.path_params:
        statuses.add(404)
    return statuses


def _responses(op: Operation) -> dict:
    answer = op.answer
    headers = (*answer.headers, "ETag") if op.method == "get" else answer.headers
    if answer.model is not None:
        success = _json(answer.description, ref(answer.model.__name__), headers)
    else:
        success = {"description": answer.description, "content": answer.content or {}}
        if headers:
            success["headers"] = {name: RESPONSE_HEADERS[name] for name in headers}
    found = {str(answer.status): success}
    if op.method == "get":
        found["304"] = NOT_MODIFIED
    for status in sorted(_error_statuses(op)):
        found[str(status)] = {
            "description": ERROR_TEXT[status],
            "content": {"application/json": {"schema": ref("Error")}},
        }
        if status in ERROR_HEADERS:
            found[str(status)]["headers"] = {
                name: RESPONSE_HEADERS[name] for name in ERROR_HEADERS[status]
            }
    return found


def _operation(op: Operation) -> dict:
    document = {
        "tags": [op.tag],
        "summary": op.summary,
        "description": op.description,
        "operationId": op.operation_id,
        "security": SECURITY[op.tag],
        "parameters": _parameters(op),
    }
    if op.body is not None:
        document["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": ref(op.body.__name__)}},
        }
    document["responses"] = _responses(op)
    return document


@cache
def _document_template() -> dict:
    paths: dict[str, dict] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Infant-massage class booking API",
            "version": API_VERSION,
            "description": DESCRIPTION.format(count_limit=f"{COUNT_LIMIT:,}"),
        },
        "servers": [{"url": "/api/v1"}],
        "tags": [
            {"name": PUBLIC, "description": "Anyone may read these; no token."},
            {"name": STAFF, "description": "A token of staff of the centre concerned."},
        ],
        "paths": paths,
        "components": {
            "schemas": _components(OPERATIONS),
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A personal API token.",
                }
            },
        },
    }


def openapi_document() -> dict:
    """The OpenAPI 3.1 document describing every /api/v1 endpoint (a fresh copy)."""
    return deepcopy(_document_template())


@operation(
    "get", "/", operation_id="apiIndex", summary="The API root",
    description="Links to this document, the reference page and the lists.",
    answer=Answer(200, "OK", responses.ApiIndex),
)
def index():
    """The API root: where the document, the reference and the lists are."""
    return jsonify(responses.ApiIndex(
        name=_document_template()["info"]["title"],
        version=API_VERSION,
        openapi=absolute_url("api.openapi"),
        docs=absolute_url("api.docs"),
        centres=absolute_url("api.centres"),
        workshops=absolute_url("api.workshops"),
    ).model_dump(mode="json"))


@operation(
    "get", "/openapi.json", operation_id="getOpenApi", summary="This document",
    answer=Answer(200, "OpenAPI 3.1", content={"application/json": {"schema": {"type": "object"}}}),
)
def openapi():
    """The OpenAPI 3.1 document."""
    return jsonify(openapi_document())


@operation(
    "get", "/docs", operation_id="getDocs", summary="The reference page",
    description="This document as a page for people to read.",
    answer=Answer(200, "HTML", content={"text/html": {"schema": {"type": "string"}}}),
)
def docs():
    """The API reference for people, rendered from the OpenAPI document."""
    return render_template(
        "api/docs.html", api=reference(openapi_document()), blocks=blocks, inline=inline
    )
