"""The API's OpenAPI 3.1 document (/api/v1/openapi.json), its reference page for people
(/api/v1/docs) and the API root (/api/v1/), which links to both."""

from copy import deepcopy
from functools import cache

from flask import jsonify, render_template

from booking.services.booking.idempotency import HEADER as IDEMPOTENCY_HEADER
from booking.services.catalogue.params import (
    DEFAULT_RADIUS_KM,
    FIRST_DATE,
    LAST_DATE,
    MAX_AGE_WEEKS,
    MAX_ID,
    MAX_PAGE,
    MAX_PER_PAGE,
    MAX_Q_LENGTH,
    MAX_RADIUS_KM,
    PER_PAGE,
)
from booking.services.catalogue.search import COUNT_LIMIT
from booking.topics import TOPICS
from booking.web.api.blueprint import bp
from booking.web.api.openapi_docs import blocks, inline, reference
from booking.web.api.openapi_schemas import IDEMPOTENCY_KEY_SCHEMA, SCHEMAS, ref
from booking.web.api.serializers import absolute_url
from booking.web.api.staff_input import MAX_BODY_BYTES

API_VERSION = "1.0.0"
SLUG = {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,79}$"}
ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}

ERROR_TEXT = {
    400: "The request or a parameter cannot be understood; `fields` names each one.",
    401: "No API token, or an unknown or revoked one.",
    403: "The token's user is not staff of this centre.",
    404: "There is no such thing (or it is not public).",
    409: "It clashes with the current state (for example capacity below confirmed places).",
    413: f"The body is larger than {MAX_BODY_BYTES} bytes.",
    422: "Fields are missing, unknown, of the wrong type or break a booking rule; "
    "`fields` names each one.",
}


def _error(status: int) -> dict:
    return {
        "description": ERROR_TEXT[status],
        "content": {"application/json": {"schema": ref("Error")}},
    }


def _json(description: str, schema: dict, headers: dict | None = None) -> dict:
    response = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        response["headers"] = headers
    return response


ETAG_HEADER = {
    "ETag": {
        "description": "A strong validator: send it back in If-None-Match to get a 304.",
        "schema": {"type": "string"},
    }
}
NOT_MODIFIED = {"description": "Not modified since the ETag given in If-None-Match."}
IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "An ETag from an earlier response; unchanged data gives 304.",
    "schema": {"type": "string"},
}


def _query(name: str, description: str, schema: dict) -> dict:
    # As on the /classes form, an empty value counts as not given.
    return {"name": name, "in": "query", "required": False, "description": description,
            "allowEmptyValue": True, "schema": schema}


DATE_RANGE = (
    f", from {FIRST_DATE.isoformat()} to {LAST_DATE.isoformat()}; "
    "a date outside that range is a 400."
)
SEARCH_PARAMETERS = [
    _query("q", "Words in the title, centre, town, or a postcode prefix.",
           {"type": "string", "maxLength": MAX_Q_LENGTH}),
    _query("age_weeks", "The baby's age in weeks today; classes that fit at their start.",
           {"type": "integer", "minimum": 0, "maximum": MAX_AGE_WEEKS}),
    _query("date_from", f"Classes starting on or after this date (YYYY-MM-DD){DATE_RANGE}",
           {"type": "string", "format": "date"}),
    _query("date_to", f"Classes starting on or before this date (YYYY-MM-DD){DATE_RANGE} "
           "Not before date_from.",
           {"type": "string", "format": "date"}),
    _query("lat", "Latitude of a point to search near (with lon).",
           {"type": "number", "minimum": -90, "maximum": 90}),
    _query("lon", "Longitude of a point to search near (with lat).",
           {"type": "number", "minimum": -180, "maximum": 180}),
    _query("radius_km", f"Distance from lat/lon in km (default {DEFAULT_RADIUS_KM:g}).",
           {"type": "number", "minimum": 0.1, "maximum": MAX_RADIUS_KM}),
    _query("centre", "A centre's slug.", SLUG),
    _query("instructor", "An instructor's id.", ID),
    _query("topic", "A topic's slug.",
           {"type": "string", "enum": [t.slug for t in TOPICS]}),
    _query("page", "The page, from 1.", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}),
    _query("per_page", f"Results per page (default {PER_PAGE}).",
           {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE}),
]


def _path_param(name: str, description: str, schema: dict) -> dict:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": schema}


WORKSHOP_ID = _path_param("workshop_id", "The workshop's id.", ID)
SESSION_ID = _path_param("session_id", "The session's id.", ID)
STAFF = [{"bearerAuth": []}]


def _public_get(summary, description, op_id, schema, *, params=(), errors=()):
    responses = {"200": _json("OK", schema, ETAG_HEADER), "304": NOT_MODIFIED}
    responses.update({str(s): _error(s) for s in errors})
    return {
        "get": {
            "tags": ["Public"],
            "summary": summary,
            "description": description,
            "operationId": op_id,
            "security": [],
            "parameters": [*params, IF_NONE_MATCH],
            "responses": responses,
        }
    }


def _staff(op: dict, errors=(400, 401, 403, 404, 409, 413, 422)) -> dict:
    op = {"tags": ["Staff"], "security": STAFF, **op}
    op["responses"].update({str(s): _error(s) for s in errors})
    return op


def _body(schema_name: str) -> dict:
    return {"required": True, "content": {"application/json": {"schema": ref(schema_name)}}}


def _paths() -> dict:
    workshop_list = _public_get(
        "Search workshops",
        "Published workshops that are still bookable or running, soonest first (nearest "
        "first with lat/lon), with the same filters as the /classes page. Pages link to "
        "each other with `next` and `prev`.",
        "listWorkshops",
        ref("WorkshopPage"),
        params=SEARCH_PARAMETERS,
        errors=(400,),
    )
    workshop_list["post"] = _staff(
        {
            "summary": "Create a workshop",
            "description": "A course of weekly sessions or a single class, as a draft or "
            "published. Send an `Idempotency-Key` to retry safely: the same key with the "
            "same body replays the first response (with `Idempotent-Replayed: true`) "
            "instead of creating a second workshop; the same key with another body is a "
            "422. Keys belong to the token's user and are kept for 24 hours; a request "
            "that fails releases its key.",
            "operationId": "createWorkshop",
            "parameters": [
                {
                    "name": IDEMPOTENCY_HEADER,
                    "in": "header",
                    "required": False,
                    "description": "A unique value per intended creation, such as a UUID.",
                    "schema": IDEMPOTENCY_KEY_SCHEMA,
                }
            ],
            "requestBody": _body("CreateWorkshop"),
            "responses": {
                "201": _json(
                    "Created",
                    ref("Workshop"),
                    {
                        "Location": {
                            "description": "The new workshop's URL in this API.",
                            "schema": {"type": "string", "format": "uri"},
                        },
                        "Idempotent-Replayed": {
                            "description": "`true` when this is a stored first response.",
                            "schema": {"type": "string", "enum": ["true"]},
                        },
                    },
                )
            },
        },
        errors=(400, 401, 403, 409, 413, 422),
    )
    workshop_item = _public_get(
        "Read a workshop",
        "A published or cancelled workshop; drafts are not found.",
        "getWorkshop",
        ref("Workshop"),
        params=[WORKSHOP_ID],
        errors=(404,),
    )
    workshop_item["patch"] = _staff(
        {
            "summary": "Change a workshop",
            "description": "Change details, minimum numbers (min_places, decision_at, "
            "run_confirmed) and late joining (late_join_until); change capacity (waiting "
            "parents move up at once; never below confirmed or held places, nor below the "
            "people expected at any session still to come: 409); all in one transaction, so "
            "a refused field changes nothing; publish, return to draft (only with "
            "nobody booked) or cancel (on its own, with an optional cancel_reason; everyone "
            "booked is told).",
            "operationId": "updateWorkshop",
            "parameters": [WORKSHOP_ID],
            "requestBody": _body("UpdateWorkshop"),
            "responses": {"200": _json("The workshop as it now is", ref("Workshop"))},
        }
    )
    return {
        "/": {
            "get": {
                "tags": ["Public"],
                "summary": "The API root",
                "description": "Links to this document, the reference page and the lists.",
                "operationId": "apiIndex",
                "security": [],
                "responses": {
                    "200": _json("OK", {"type": "object"}, ETAG_HEADER),
                    "304": NOT_MODIFIED,
                },
            }
        },
        "/centres": _public_get(
            "List centres",
            "Every published centre, by name.",
            "listCentres",
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["items"],
                "properties": {"items": {"type": "array", "items": ref("Centre")}},
            },
        ),
        "/centres/{slug}": _public_get(
            "Read a centre",
            "A published centre's profile.",
            "getCentre",
            ref("Centre"),
            params=[_path_param("slug", "The centre's slug.", SLUG)],
            errors=(404,),
        ),
        "/workshops": workshop_list,
        "/workshops/{workshop_id}": workshop_item,
        "/workshops/{workshop_id}/registrations": {
            "get": _staff(
                {
                    "summary": "A workshop's registrations",
                    "description": "Confirmed places, then the waiting list in order, with "
                    "each baby's age at the first session. Staff of the centre only.",
                    "operationId": "listRegistrations",
                    "parameters": [WORKSHOP_ID, IF_NONE_MATCH],
                    "responses": {
                        "200": _json("OK", ref("Registrations"), ETAG_HEADER),
                        "304": NOT_MODIFIED,
                    },
                },
                errors=(401, 403, 404),
            )
        },
        "/sessions/{session_id}": {
            "patch": _staff(
                {
                    "summary": "Move or cancel a session",
                    "description": "Give a new start (the length is kept unless "
                    "duration_minutes or ends_at is given), a room, or status cancelled on "
                    "its own. The revision goes up, calendars update and everyone booked "
                    "and the instructor are emailed.",
                    "operationId": "updateSession",
                    "parameters": [SESSION_ID],
                    "requestBody": _body("UpdateSession"),
                    "responses": {"200": _json("The session as it now is", ref("Session"))},
                }
            )
        },
        "/openapi.json": {
            "get": {
                "tags": ["Public"],
                "summary": "This document",
                "operationId": "getOpenApi",
                "security": [],
                "responses": {
                    "200": _json("OpenAPI 3.1", {"type": "object"}, ETAG_HEADER),
                    "304": NOT_MODIFIED,
                },
            }
        },
        "/docs": {
            "get": {
                "tags": ["Public"],
                "summary": "The reference page",
                "description": "This document as a page for people to read.",
                "operationId": "getDocs",
                "security": [],
                "responses": {
                    "200": {
                        "description": "HTML",
                        "content": {"text/html": {"schema": {"type": "string"}}},
                        "headers": ETAG_HEADER,
                    },
                    "304": NOT_MODIFIED,
                },
            }
        },
    }


# Formatted with count_limit: literal braces in the text must be doubled.
DESCRIPTION = """\
Read the published schedule of every centre, and, with a staff member's API token,
create and change workshops and sessions and read registrations.

* **Tokens**: create one on your account's API tokens page or with
  `flask --app wsgi api-token create EMAIL`; send `Authorization: Bearer <token>`.
  Staff of a centre (and admins) may write its schedule; other tokens get 403, none 401.
* **Errors** are JSON: `{{"error": {{"code", "message", "fields"}}}}` with 400 (bad request or
  parameter), 401, 403, 404, 409 (clashes with the current state), 413 (body too large)
  or 422 (fields missing, unknown, of the wrong type or breaking a booking rule). Nothing
  is changed by a refused request.
* **Times** are ISO 8601 with the centre's UTC offset. Times sent may also be the
  centre's local wall-clock time, `YYYY-MM-DD HH:MM`.
* **Pages**: `page` and `per_page`, with `next` and `prev` links. A search's `total` is
  exact up to {count_limit} matches; beyond that `total_exact` is false and `total` is a
  lower bound.
* **Caching**: every GET has a strong `ETag`; send it in `If-None-Match` for a 304.
* **Browsers**: the public reads allow any origin (CORS); the staff endpoints allow none.
* **Retries**: `POST /workshops` takes an `Idempotency-Key`.
"""


@cache
def _document_template() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Infant-massage class booking API",
            "version": API_VERSION,
            "description": DESCRIPTION.format(count_limit=f"{COUNT_LIMIT:,}"),
        },
        "servers": [{"url": "/api/v1"}],
        "tags": [
            {"name": "Public", "description": "Anyone may read these; no token."},
            {"name": "Staff", "description": "A token of staff of the centre concerned."},
        ],
        "paths": _paths(),
        "components": {
            "schemas": SCHEMAS,
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


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 document."""
    return jsonify(openapi_document())


@bp.get("/docs")
def docs():
    """The API reference for people, rendered from the OpenAPI document."""
    document = openapi_document()
    return render_template(
        "api/docs.html", api=reference(document), blocks=blocks, inline=inline
    )


@bp.get("/")
def index():
    """The API root: where the document, the reference and the lists are."""
    return jsonify(
        name=_document_template()["info"]["title"],
        version=API_VERSION,
        openapi=absolute_url("api.openapi"),
        docs=absolute_url("api.docs"),
        centres=absolute_url("api.centres"),
        workshops=absolute_url("api.workshops"),
    )
