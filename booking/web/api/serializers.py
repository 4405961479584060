"""The API's answers built from the services' results, as the declared response models
(booking.web.api.schemas.responses) give them."""

from decimal import Decimal

from flask import Response, current_app, jsonify

from booking.models import Centre, Workshop, WorkshopSession
from booking.models.workshop import PAY_DEPOSIT
from booking.services.booking.payment_terms import payment_mode
from booking.services.booking.places import is_booking_open, public_places_left
from booking.services.catalogue.search import Listing, instructor_name
from booking.services.payments.figures import PlaceMoney
from booking.services.teaching.roster import RosterEntry
from booking.timefmt import iso_local
from booking.web.api.schemas import responses


def absolute_url(endpoint: str, **values) -> str:
    """An absolute link built from BASE_URL; works outside a request (CLI, outbox)."""
    adapter = current_app.url_map.bind("localhost")
    return current_app.config["BASE_URL"].rstrip("/") + adapter.build(endpoint, values)


def price_text(amount: Decimal | None) -> str:
    """A price as a string with two decimals, such as "45.00"."""
    return f"{Decimal(amount or 0):.2f}"


def _centre_summary(centre: Centre) -> dict:
    return {
        "slug": centre.slug,
        "name": centre.name,
        "town": centre.town,
        "timezone": centre.timezone,
    }


def centre_reply(centre: Centre) -> responses.Centre:
    """A centre's public profile."""
    return responses.Centre(
        **_centre_summary(centre),
        address=centre.address,
        postcode=centre.postcode,
        country=centre.country,
        latitude=centre.latitude,
        longitude=centre.longitude,
        contact_email=centre.contact_email,
        contact_phone=centre.contact_phone,
        description=centre.description,
        accessibility_notes=centre.accessibility_notes,
        url=absolute_url("public.centre_detail", slug=centre.slug),
    )


def payment_reply(workshop: Workshop) -> dict:
    """How the workshop is paid, in minor units of its centre's currency."""
    mode = payment_mode(workshop)
    return {
        "mode": mode,
        "amount": workshop.price_minor,
        "deposit": workshop.online_amount if mode == PAY_DEPOSIT else None,
        "refund_fee": workshop.refund_fee or 0,
        "currency": workshop.centre.currency,
    }


def workshop_reply(workshop: Workshop, waitlist_count: int, topics=()) -> responses.Workshop:
    """A workshop as PRODUCT.md gives it; times in ISO 8601 with the centre's offset.

    Also its topic slugs (`topics`), the places held for referred families
    (`held_places`) and how many of them are not yet claimed (`held_unclaimed`).
    The workshop needs its centre, instructor and sessions loaded
    (catalogue.listing_options() does that in a fixed number of queries).
    """
    tz = workshop.centre.timezone
    instructor = workshop.instructor
    # As the class page judges it: a class cancelled, or under way and no longer taking
    # late joiners, has no place to offer.
    booking_open = is_booking_open(workshop)
    return responses.Workshop(
        id=workshop.id,
        title=workshop.title,
        kind=workshop.kind,
        status=workshop.status,
        centre=_centre_summary(workshop.centre),
        instructor=(
            {"id": instructor.id, "name": instructor_name(instructor)} if instructor else None
        ),
        capacity=workshop.capacity,
        places_left=public_places_left(workshop) if booking_open else 0,
        booking_open=booking_open,
        waitlist_count=waitlist_count,
        held_places=workshop.held_places,
        held_unclaimed=workshop.held_unclaimed,
        topics=list(topics),
        min_age_weeks=workshop.min_age_weeks,
        max_age_weeks=workshop.max_age_weeks,
        price=price_text(workshop.price),
        payment=payment_reply(workshop),
        min_places=workshop.min_places,
        decision_at=iso_local(workshop.decision_at, tz) if workshop.decision_at else None,
        run_confirmed=workshop.run_confirmed,
        late_join_until=workshop.late_join_until,
        sessions=[
            {
                "id": s.id,
                "number": s.number,
                "starts_at": iso_local(s.starts_at, tz),
                "ends_at": iso_local(s.ends_at, tz),
                "status": s.status,
                "room": s.room or "",
                "title": s.plan_title,
            }
            for s in workshop.sessions
        ],
        plan=workshop.plan_template or None,
        description=workshop.description or "",
        what_to_bring=workshop.what_to_bring or "",
        cancellation_cutoff_hours=workshop.cancellation_cutoff_hours,
        url=absolute_url("public.workshop_detail", workshop_id=workshop.id),
    )


def centre_to_json(centre: Centre) -> dict:
    """A centre's public profile as JSON data."""
    return centre_reply(centre).model_dump(mode="json")


def workshop_to_json(workshop: Workshop, waitlist_count: int, topics=()) -> dict:
    """A workshop as JSON data (see workshop_reply)."""
    return workshop_reply(workshop, waitlist_count, topics).model_dump(mode="json")


def workshop_response(listing: Listing) -> Response:
    """A workshop's representation, byte for byte what GET /workshops/<id> answers (its
    ETag is the hash of these bytes): the read, a write's answer and If-Match all use it."""
    return jsonify(workshop_to_json(listing.workshop, listing.waitlist_count, listing.topics))


def session_reply(session: WorkshopSession, tz_name: str) -> responses.Session:
    """A session as the staff endpoints give it, in the centre's time zone."""
    return responses.Session(
        id=session.id,
        workshop_id=session.workshop_id,
        number=session.number,
        starts_at=iso_local(session.starts_at, tz_name),
        ends_at=iso_local(session.ends_at, tz_name),
        room=session.room,
        status=session.status,
        revision=session.revision,
    )


def registration_payment(money: PlaceMoney | None, currency: str) -> dict:
    """A place's money (nothing to say for a place without any)."""
    if money is None:
        return {"state": "nothing", "paid": 0, "refunded": 0, "refunding": 0, "due": 0,
                "owed_at_centre": 0, "to_give_back_at_centre": 0, "paid_beyond_price": 0,
                "currency": currency}
    return {
        "state": money.state,
        "paid": money.paid,
        "refunded": money.refunded,
        "refunding": money.refunding,
        "due": money.due if money.held else 0,
        "owed_at_centre": money.owed,
        "to_give_back_at_centre": money.to_give_back,
        "paid_beyond_price": money.over_paid,
        "currency": currency,
    }


def registration_reply(
    entry: RosterEntry, tz_name: str, money: PlaceMoney | None, currency: str
) -> responses.Registration:
    """One place on a workshop's roster, with the baby's age at the first session and
    the place's money."""
    reg, baby, parent = entry.registration, entry.baby, entry.parent
    return responses.Registration(
        id=reg.id,
        status=reg.status,
        position=entry.position,
        baby={
            "name": baby.name if baby is not None else None,
            "date_of_birth": baby.date_of_birth.isoformat() if baby is not None else None,
            "age_weeks_at_first_session": entry.age_at_first,
            "corrected_age_weeks_at_first_session": entry.corrected_at_first,
        },
        parent={
            "name": parent.name if parent is not None else None,
            "email": parent.email if parent is not None else None,
        },
        payment=registration_payment(money, currency),
        created_at=iso_local(reg.created_at, tz_name),
    )
