"""The staff half of the JSON API: create and change workshops and sessions, and read
a workshop's registrations, with `Authorization: Bearer <token>`.

Every change goes through the same use cases as the staff pages, so the same rules
apply and the same people are told. Only staff of the workshop's centre (or admins)
may act; the views check the token, the permission and the declared body, then call
one use case.
"""

from datetime import timedelta

import sqlalchemy as sa
from flask import g, jsonify

from booking.extensions import db
from booking.models import Centre, Workshop, WorkshopSession
from booking.services.accounts.access import is_centre_staff, require_centre_staff
from booking.services.booking.idempotency import HEADER as IDEMPOTENCY_HEADER
from booking.services.catalogue import search as catalogue
from booking.services.catalogue.params import MAX_ID
from booking.services.errors import CapacityRefused, Conflict, DomainError, Invalid, NotFound
from booking.services.payments.queries import money_by_registration
from booking.services.plans.apply import edit_workshop_with_plan
from booking.services.schedule import create, sessions
from booking.services.schedule.workshop_input import instructor_id_for_email
from booking.services.teaching import roster
from booking.timefmt import local_to_utc, to_local
from booking.web.api.auth import token_required
from booking.web.api.conventions import idempotent
from booking.web.api.operations import Answer, operation, request_body
from booking.web.api.preconditions import HEADER as IF_MATCH_HEADER
from booking.web.api.preconditions import unchanged_since_read
from booking.web.api.schemas import requests, responses
from booking.web.api.serializers import (
    absolute_url,
    registration_reply,
    session_reply,
    workshop_response,
)


def _workshop_for_staff(workshop_id: int) -> Workshop:
    """The workshop, for its centre's staff; one the public cannot see (a draft, or at a
    hidden centre) is not found for anyone else, as by GET, so nothing says it exists."""
    workshop = db.session.get(Workshop, workshop_id) if 1 <= workshop_id <= MAX_ID else None
    if workshop is None or not (
        is_centre_staff(g.api_user, workshop.centre_id)
        or (workshop.has_public_page and db.session.get(Centre, workshop.centre_id).published)
    ):
        raise NotFound("There is no such workshop.")
    require_centre_staff(g.api_user, workshop.centre_id)
    return workshop


def _workshop_response(workshop_id: int, status: int = 200):
    return workshop_response(catalogue.load_listings([workshop_id])[0]), status


def _unchanged_since_read(workshop_id: int, thing: str = "workshop"):
    """The If-Match check of a write to the workshop (or one of its sessions): its
    representation as GET /workshops/<id> would answer it now, inside the write's
    lock. None when the request has no If-Match."""
    return unchanged_since_read(
        thing, lambda: workshop_response(catalogue.get_any_workshop(workshop_id)).get_data()
    )


def _stale_read_first(precondition) -> None:
    """A stale If-Match is told so before the body is read (RFC 9110 13.2.1: a request
    with a precondition that fails is 412, whatever its content would have been
    answered), from the workshop as it is now; the write checks it again once it holds
    its lock, where a change made meanwhile is seen."""
    if precondition is not None:
        precondition()


def _given(body) -> dict:
    """The fields the request sent, with their checked values."""
    return {name: getattr(body, name) for name in body.model_fields_set}


def _renamed(exc: DomainError, names: dict[str, str]) -> DomainError:
    """The same error with the services' field names given as the API's."""
    exc.fields = {names.get(k, k): v for k, v in exc.fields.items()}
    return exc


# --- POST /workshops ----------------------------------------------------------------------


def _instructor_id(data: dict) -> tuple[int, str]:
    has_email, has_id = "instructor_email" in data, "instructor_id" in data
    if has_email == has_id:
        message = "Give exactly one of instructor_email and instructor_id."
        raise Invalid(message, {"instructor_email": message, "instructor_id": message})
    if has_id:
        return data.pop("instructor_id"), "instructor_id"
    # An address without an account is judged with every other non-instructor, so the
    # answer is the same whoever it belongs to.
    return instructor_id_for_email(data.pop("instructor_email")), "instructor_email"


@operation(
    "post", "/workshops", operation_id="createWorkshop", summary="Create a workshop",
    description="A course of weekly sessions or a single class, as a draft or published. "
    "Send an `Idempotency-Key` to retry safely: the same key with the same body replays "
    "the first response (with `Idempotent-Replayed: true`) instead of creating a second "
    "workshop; the same key with another body is a 422. Keys belong to the token's user "
    "and are kept for 24 hours; a request that fails releases its key.",
    staff=True, body=requests.CreateWorkshop, headers=(IDEMPOTENCY_HEADER,), errors=(409,),
    answer=Answer(201, "Created", responses.Workshop,
                  headers=("Location", "Idempotent-Replayed")),
)
@token_required
@idempotent
def create_workshop():
    """Create a workshop (a course of weekly sessions or a single class) at a centre."""
    data = _given(request_body())
    slug = data.pop("centre")
    centre = db.session.scalar(sa.select(Centre).where(Centre.slug == slug.strip()))
    if centre is None:
        raise Invalid("There is no centre with that slug.", {"centre": "Unknown centre."})
    require_centre_staff(g.api_user, centre.id)
    instructor_id, instructor_key = _instructor_id(data)
    data["centre_id"] = centre.id
    data["instructor_id"] = instructor_id
    data["first_session_local"] = data.pop("first_session")
    try:
        workshop = create.add_workshop(**data)
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


@operation(
    "patch", "/workshops/<int:workshop_id>", operation_id="updateWorkshop",
    summary="Change a workshop",
    description="Change details, minimum numbers (min_places, decision_at, run_confirmed), "
    "late joining (late_join_until) and how it is paid (payment, deposit, refund_fee; while "
    "families are booked or waiting, a workshop paid online keeps its payment and deposit, "
    "and the fee is never raised while anyone holds a place: 409); change capacity "
    "(waiting parents move up at once; never below confirmed or held places, nor below the "
    "people expected at any session still to come: 409); give it another instructor_id "
    "(refused as a 409 `clash` when that instructor is busy during one of its sessions "
    "still to come, unless allow_clash); publish, return to draft (only "
    "with nobody booked) or cancel (on its own, with an optional cancel_reason; everyone "
    "booked is told); copy a plan template into the sessions (plan). All in one "
    "transaction, so a refused field changes nothing. Send the ETag of your last read in "
    "`If-Match` to change it only if nobody changed it since (else 412, nothing "
    "changed); the answer's `ETag` is the new one.",
    staff=True, body=requests.UpdateWorkshop, headers=(IF_MATCH_HEADER,), errors=(409, 412),
    answer=Answer(200, "The workshop as it now is", responses.Workshop, headers=("ETag",)),
)
@token_required
def update_workshop(workshop_id: int):
    """Change a workshop's details, capacity (waiting parents promoted) and status at
    once; with If-Match, only if it is still as the client read it."""
    _workshop_for_staff(workshop_id)
    precondition = _unchanged_since_read(workshop_id)
    _stale_read_first(precondition)
    fields = _given(request_body())
    try:
        edit_workshop_with_plan(
            workshop_id,
            fields.pop("plan", None),
            capacity=fields.pop("capacity", None),
            status=fields.pop("status", None),
            cancel_reason=fields.pop("cancel_reason", None),
            allow_clash=fields.pop("allow_clash", False),
            precondition=precondition,
            fields=fields,
        )
    except CapacityRefused as exc:
        # Well formed, but it clashes with the places people hold.
        raise Conflict(exc.message, exc.fields) from exc
    response, status = _workshop_response(workshop_id)
    response.add_etag()  # the body is the workshop's representation, as a GET gives it
    return response, status


# --- PATCH /sessions/<id> -----------------------------------------------------------------


def _as_local(value, tz_name: str):
    """A parsed API time as the centre's naive wall-clock time."""
    if value.tzinfo is not None:
        return to_local(value, tz_name).replace(tzinfo=None, second=0, microsecond=0)
    return value.replace(second=0, microsecond=0)


def _minutes_until(ends, session: WorkshopSession, starts_local, tz_name: str) -> int:
    ends_utc = ends if ends.tzinfo is not None else local_to_utc(ends, tz_name)
    starts_utc = session.starts_at if starts_local is None else local_to_utc(starts_local, tz_name)
    span = ends_utc - starts_utc
    if span <= timedelta(0) or span % timedelta(minutes=1):
        raise Invalid(
            "ends_at must be a whole number of minutes after the start.",
            {"ends_at": "Must be after the start, on a whole minute."},
        )
    return span // timedelta(minutes=1)


@operation(
    "patch", "/sessions/<int:session_id>", operation_id="updateSession",
    summary="Move or cancel a session",
    description="Give a new start (the length is kept unless duration_minutes or ends_at "
    "is given), a room, or status cancelled on its own. The revision goes up, calendars "
    "update and everyone booked and the instructor are emailed. A session is read as "
    "part of its workshop, so `If-Match` takes the ETag of GET /workshops/{id} of its "
    "workshop: the change is made only if the workshop as that read gave it (every "
    "session's times, status and room included) is unchanged, else 412 and nothing "
    "changed.",
    staff=True, body=requests.UpdateSession, headers=(IF_MATCH_HEADER,), errors=(409, 412),
    answer=Answer(200, "The session as it now is", responses.Session),
)
@token_required
def update_session(session_id: int):
    """Move a session (start, duration or end, room) or cancel it; everyone is told."""
    session = db.session.get(WorkshopSession, session_id) if 1 <= session_id <= MAX_ID else None
    if session is None:
        raise NotFound("There is no such session.")
    workshop = _workshop_for_staff(session.workshop_id)
    tz_name = db.session.get(Centre, workshop.centre_id).timezone
    precondition = _unchanged_since_read(workshop.id, "session's workshop")
    _stale_read_first(precondition)
    body = request_body()
    given = body.model_fields_set - {"allow_clash"}
    if "status" in given:
        session = sessions.cancel_session(session_id, precondition)
    elif given:
        starts_local = _as_local(body.starts_at, tz_name) if "starts_at" in given else None
        duration = body.duration_minutes
        if "ends_at" in given:
            duration = _minutes_until(body.ends_at, session, starts_local, tz_name)
        try:
            session = sessions.move_session(
                session_id, starts_local, duration, body.room, allow_clash=body.allow_clash,
                precondition=precondition,
            )
        except DomainError as exc:
            names = {"starts_local": "starts_at"}
            if "ends_at" in given:  # the length was worked out from the end the body gave
                names["duration_minutes"] = "ends_at"
            raise _renamed(exc, names) from exc
    elif precondition is not None:
        precondition()  # nothing to change, but a stale read is still told so
    return jsonify(session_reply(session, tz_name).model_dump(mode="json"))


# --- GET /workshops/<id>/registrations ----------------------------------------------------


@operation(
    "get", "/workshops/<int:workshop_id>/registrations", operation_id="listRegistrations",
    summary="A workshop's registrations",
    description="Confirmed places, then places held while parents pay (`pending_payment`), "
    "then the waiting list in order, with each baby's age at the first session and each "
    "place's payment (paid, refunded, owed at the centre). Staff of the centre only.",
    staff=True, answer=Answer(200, "OK", responses.Registrations),
)
@token_required
def workshop_registrations(workshop_id: int):
    """A workshop's confirmed places, places held while parents pay and its waiting
    list, in order, each with its money."""
    _workshop_for_staff(workshop_id)
    data = roster.staff_roster(workshop_id, g.api_user)
    centre = data.workshop.centre
    money = money_by_registration(data.workshop, centre)
    reply = responses.Registrations(
        workshop_id=data.workshop.id,
        confirmed_count=len(data.confirmed),
        pending_payment_count=len(data.held),
        waitlist_count=sum(1 for e in data.waiting if e.position is not None),
        waitlist_outside_ages_count=sum(1 for e in data.waiting if e.position is None),
        items=[
            registration_reply(
                e, centre.timezone, money.get(e.registration.id), centre.currency
            )
            for e in data.confirmed + data.held + data.waiting
        ],
    )
    return jsonify(reply.model_dump(mode="json"))
