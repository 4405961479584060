"""The staff half of the JSON API: create and change workshops and sessions, and read
a workshop's registrations, with `Authorization: Bearer <token>`.

Every change goes through the same services as the staff pages, so the same rules
apply and the same people are told. Only staff of the workshop's centre (or admins)
may act; the views check the token, the body and the permission, then call services.
"""

from datetime import timedelta
from functools import wraps

import sqlalchemy as sa
from flask import g, jsonify

from booking.errors import error_response
from booking.extensions import db
from booking.models import Centre, Workshop, WorkshopSession
from booking.models.workshop import CANCELLED, DRAFT, PUBLISHED
from booking.services.accounts import api_tokens
from booking.services.accounts.access import require_centre_staff
from booking.services.catalogue import search as catalogue
from booking.services.catalogue.params import MAX_ID
from booking.services.errors import (
    CapacityRefused,
    Conflict,
    DomainError,
    Invalid,
    NotFound,
)
from booking.services.schedule import create, edit, queries, sessions
from booking.services.schedule.workshop_input import EDITABLE_FIELDS, instructor_id_for_email
from booking.services.teaching import roster
from booking.timefmt import iso_local, local_to_utc, to_local
from booking.web.api.blueprint import bp
from booking.web.api.conventions import idempotent
from booking.web.api.serializers import absolute_url, workshop_to_json
from booking.web.api.staff_input import (
    FLAG,
    MONEY,
    TEXT,
    TEXT_LIST,
    WHOLE,
    WHOLE_OR_NULL,
    ApiInputError,
    bearer_token,
    json_object,
    parse_offset_time,
    parse_time,
)

CREATE_FIELDS = {
    "centre": TEXT,
    "title": TEXT,
    "kind": TEXT,
    "instructor_email": TEXT,
    "instructor_id": WHOLE,
    "first_session": TEXT,
    "sessions": WHOLE,
    "duration_minutes": WHOLE,
    "capacity": WHOLE,
    "min_age_weeks": WHOLE,
    "max_age_weeks": WHOLE,
    "price": MONEY,
    "description": TEXT,
    "what_to_bring": TEXT,
    "publish": FLAG,
    "topics": TEXT_LIST,
    "room": TEXT,
    "min_places": WHOLE_OR_NULL,
    "held_places": WHOLE,
    "late_join_until": WHOLE,
    "cancellation_cutoff_hours": WHOLE,
}
CREATE_REQUIRED = (
    "centre", "title", "kind", "first_session", "duration_minutes", "capacity",
    "min_age_weeks", "max_age_weeks", "price",
)
WORKSHOP_PATCH_FIELDS = {
    "title": TEXT,
    "description": TEXT,
    "what_to_bring": TEXT,
    "capacity": WHOLE,
    "min_age_weeks": WHOLE,
    "max_age_weeks": WHOLE,
    "price": MONEY,
    "cancellation_cutoff_hours": WHOLE,
    "instructor_id": WHOLE,
    "status": TEXT,
    "cancel_reason": TEXT,
    "min_places": WHOLE_OR_NULL,
    "decision_at": TEXT,
    "run_confirmed": FLAG,
    "late_join_until": WHOLE,
}
DETAIL_FIELDS = tuple(EDITABLE_FIELDS)
SESSION_PATCH_FIELDS = {
    "starts_at": TEXT,
    "duration_minutes": WHOLE,
    "ends_at": TEXT,
    "room": TEXT,
    "status": TEXT,
}


@bp.errorhandler(ApiInputError)
def api_input_error(exc: ApiInputError):
    """Bad tokens and bad bodies as the API's JSON errors; 401s say how to authenticate."""
    response, status = error_response(exc.status, exc.message, exc.code, exc.fields)
    if status == 401:
        challenge = 'Bearer realm="api"'
        if exc.code == "invalid_token":
            challenge += ', error="invalid_token"'
        response.headers["WWW-Authenticate"] = challenge
    return response, status


def token_required(view):
    """Only requests with a valid, unrevoked API token; the user is `g.api_user`."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        user = api_tokens.user_for_token(bearer_token())
        if user is None:
            raise ApiInputError(
                401, "invalid_token", "That API token is unknown or has been revoked."
            )
        g.api_user = user
        return view(*args, **kwargs)

    return wrapped


def _workshop_for_staff(workshop_id: int) -> Workshop:
    workshop = db.session.get(Workshop, workshop_id) if 1 <= workshop_id <= MAX_ID else None
    if workshop is None:
        raise NotFound("There is no such workshop.")
    require_centre_staff(g.api_user, workshop.centre_id)
    return workshop


def _workshop_response(workshop_id: int, status: int = 200):
    listing = catalogue.load_listings([workshop_id])[0]
    body = workshop_to_json(listing.workshop, listing.waitlist_count, listing.topics)
    return jsonify(body), status


def _renamed(exc: DomainError, names: dict[str, str]) -> DomainError:
    """The same error with the services' field names given as the API's."""
    exc.fields = {names.get(k, k): v for k, v in exc.fields.items()}
    return exc


# --- POST /workshops ----------------------------------------------------------------------


def _instructor_id(data: dict) -> tuple[int, str]:
    has_email, has_id = "instructor_email" in data, "instructor_id" in data
    if has_email == has_id:
        message = "Give exactly one of instructor_email and instructor_id."
        raise ApiInputError(
            422, "invalid", message, {"instructor_email": message, "instructor_id": message}
        )
    if has_id:
        return data["instructor_id"], "instructor_id"
    # An address without an account is judged with every other non-instructor, so the
    # answer is the same whoever it belongs to.
    return instructor_id_for_email(data["instructor_email"]), "instructor_email"


@bp.post("/workshops")
@token_required
@idempotent
def create_workshop():
    """Create a workshop (a course of weekly sessions or a single class) at a centre."""
    data = json_object(CREATE_FIELDS, CREATE_REQUIRED)
    centre = db.session.scalar(sa.select(Centre).where(Centre.slug == data["centre"].strip()))
    if centre is None:
        raise ApiInputError(
            422, "invalid", "There is no centre with that slug.", {"centre": "Unknown centre."}
        )
    require_centre_staff(g.api_user, centre.id)
    instructor_id, instructor_key = _instructor_id(data)
    fields = {k: v for k, v in data.items() if k not in ("centre", "instructor_email")}
    fields["centre_id"] = centre.id
    fields["instructor_id"] = instructor_id
    fields["first_session_local"] = parse_time(fields.pop("first_session"), "first_session")
    try:
        workshop = create.add_workshop(**fields)
    except DomainError as exc:
        raise _renamed(
            exc,
            {
                "centre_id": "centre",
                "instructor_id": instructor_key,
                "first_session_local": "first_session",
            },
        ) from exc
    response, status = _workshop_response(workshop.id, 201)
    response.headers["Location"] = absolute_url("api.workshop", workshop_id=workshop.id)
    return response, status


# --- PATCH /workshops/<id> ----------------------------------------------------------------


def _check_patch(workshop: Workshop, data: dict) -> None:
    """Refuse, before anything is written, what the services would refuse part-way."""
    status = data.get("status")
    if status is not None and status not in (PUBLISHED, DRAFT, CANCELLED):
        raise Invalid(
            "The status must be published, draft or cancelled.",
            {"status": "Use published, draft or cancelled."},
        )
    if "cancel_reason" in data and status != CANCELLED:
        raise Invalid(
            "A cancel_reason goes with status cancelled.",
            {"cancel_reason": "Only with status cancelled."},
        )
    if status == CANCELLED and set(data) - {"status", "cancel_reason"}:
        raise Invalid(
            "Cancel a workshop on its own, without other changes.",
            {"status": "Send cancelled without other fields."},
        )
    if workshop.status == CANCELLED and data:
        raise Conflict("This workshop has been cancelled; it can no longer be changed.")
    if status == PUBLISHED and workshop.status != PUBLISHED:
        live = [s for s in queries.workshop_sessions(workshop.id) if not s.is_cancelled]
        if not live:
            raise Conflict("A workshop needs at least one scheduled session to be published.")
    if status == DRAFT and workshop.status == PUBLISHED:
        confirmed, waiting = queries.active_counts(workshop.id)
        if confirmed or waiting:
            raise Conflict(
                f"It cannot go back to draft: {confirmed} booked and {waiting} waiting. "
                "Cancel the workshop instead, or cancel or move their registrations first.",
                {"status": "People are booked or waiting."},
            )


@bp.patch("/workshops/<int:workshop_id>")
@token_required
def update_workshop(workshop_id: int):
    """Change a workshop's details, capacity (waiting parents promoted) or status."""
    workshop = _workshop_for_staff(workshop_id)
    data = json_object(WORKSHOP_PATCH_FIELDS)
    if "decision_at" in data:
        data["decision_at"] = parse_offset_time(data["decision_at"], "decision_at")
    _check_patch(workshop, data)
    details = {k: v for k, v in data.items() if k in DETAIL_FIELDS}
    try:
        edit.edit_workshop(
            workshop_id,
            fields=details,
            capacity=data.get("capacity"),
            status=data.get("status"),
            cancel_reason=data.get("cancel_reason"),
        )
    except CapacityRefused as exc:
        raise Conflict(exc.message, exc.fields) from exc
    return _workshop_response(workshop_id)


# --- PATCH /sessions/<id> -----------------------------------------------------------------


def _session_json(session: WorkshopSession, tz_name: str) -> dict:
    return {
        "id": session.id,
        "workshop_id": session.workshop_id,
        "number": session.number,
        "starts_at": iso_local(session.starts_at, tz_name),
        "ends_at": iso_local(session.ends_at, tz_name),
        "room": session.room,
        "status": session.status,
        "revision": session.revision,
    }


def _as_local(value, tz_name: str):
    """A parsed API time as the centre's naive wall-clock time."""
    if value.tzinfo is not None:
        return to_local(value, tz_name).replace(tzinfo=None, second=0, microsecond=0)
    return value.replace(second=0, microsecond=0)


def _duration_from_end(data: dict, session: WorkshopSession, starts_local, tz_name: str) -> int:
    ends = parse_time(data["ends_at"], "ends_at")
    ends_utc = ends if ends.tzinfo is not None else local_to_utc(ends, tz_name)
    starts_utc = session.starts_at if starts_local is None else local_to_utc(starts_local, tz_name)
    span = ends_utc - starts_utc
    if span <= timedelta(0) or span % timedelta(minutes=1):
        raise ApiInputError(
            422, "invalid", "ends_at must be a whole number of minutes after the start.",
            {"ends_at": "Must be after the start, on a whole minute."},
        )
    return span // timedelta(minutes=1)


@bp.patch("/sessions/<int:session_id>")
@token_required
def update_session(session_id: int):
    """Move a session (start, duration or end, room) or cancel it; everyone is told."""
    session = db.session.get(WorkshopSession, session_id) if 1 <= session_id <= MAX_ID else None
    if session is None:
        raise NotFound("There is no such session.")
    workshop = _workshop_for_staff(session.workshop_id)
    tz_name = db.session.get(Centre, workshop.centre_id).timezone
    data = json_object(SESSION_PATCH_FIELDS)
    if "status" in data:
        if data["status"] != CANCELLED:
            raise ApiInputError(
                422, "invalid", 'The only status a session can be given is "cancelled".',
                {"status": 'Use "cancelled"; add a new session to replace one.'},
            )
        if len(data) > 1:
            raise ApiInputError(
                422, "invalid", "Cancel a session on its own, without other changes.",
                {"status": "Send cancelled without other fields."},
            )
        session = sessions.cancel_session(session_id)
        return jsonify(_session_json(session, tz_name))
    if "ends_at" in data and "duration_minutes" in data:
        message = "Give duration_minutes or ends_at, not both."
        raise ApiInputError(
            422, "invalid", message, {"ends_at": message, "duration_minutes": message}
        )
    if not data:
        return jsonify(_session_json(session, tz_name))
    starts_local = None
    if "starts_at" in data:
        starts_local = _as_local(parse_time(data["starts_at"], "starts_at"), tz_name)
    duration = data.get("duration_minutes")
    if "ends_at" in data:
        duration = _duration_from_end(data, session, starts_local, tz_name)
    try:
        session = sessions.move_session(session_id, starts_local, duration, data.get("room"))
    except DomainError as exc:
        raise _renamed(exc, {"starts_local": "starts_at"}) from exc
    return jsonify(_session_json(session, tz_name))


# --- GET /workshops/<id>/registrations ----------------------------------------------------


def _registration_json(entry: roster.RosterEntry, tz_name: str) -> dict:
    reg, baby, parent = entry.registration, entry.baby, entry.parent
    return {
        "id": reg.id,
        "status": reg.status,
        "position": entry.position,
        "baby": {
            "name": baby.name if baby is not None else None,
            "date_of_birth": baby.date_of_birth.isoformat() if baby is not None else None,
            "age_weeks_at_first_session": entry.age_at_first,
        },
        "parent": {
            "name": parent.name if parent is not None else None,
            "email": parent.email if parent is not None else None,
        },
        "created_at": iso_local(reg.created_at, tz_name),
    }


@bp.get("/workshops/<int:workshop_id>/registrations")
@token_required
def workshop_registrations(workshop_id: int):
    """A workshop's confirmed places and its waiting list, in order."""
    if not 1 <= workshop_id <= MAX_ID:
        raise NotFound("There is no such workshop.")
    data = roster.staff_roster(workshop_id, g.api_user)
    tz_name = data.workshop.centre.timezone
    items = [_registration_json(e, tz_name) for e in data.confirmed + data.waiting]
    return jsonify(
        workshop_id=data.workshop.id,
        confirmed_count=len(data.confirmed),
        waitlist_count=len(data.waiting),
        items=items,
    )

