"""How centres and workshops read in the JSON API (PRODUCT.md's shapes)."""

from decimal import Decimal

from flask import current_app

from booking.models import Centre, Workshop
from booking.services.catalogue.search import instructor_name
from booking.timefmt import iso_local


def absolute_url(endpoint: str, **values) -> str:
    """An absolute link built from BASE_URL; works outside a request (CLI, outbox)."""
    adapter = current_app.url_map.bind("localhost")
    return current_app.config["BASE_URL"].rstrip("/") + adapter.build(endpoint, values)


def price_text(amount: Decimal | None) -> str:
    """A price as a string with two decimals, such as "45.00"."""
    return f"{Decimal(amount or 0):.2f}"


def centre_summary(centre: Centre) -> dict:
    """The short form of a centre embedded in a workshop."""
    return {
        "slug": centre.slug,
        "name": centre.name,
        "town": centre.town,
        "timezone": centre.timezone,
    }


def centre_to_json(centre: Centre) -> dict:
    """A centre's public profile."""
    return {
        **centre_summary(centre),
        "address": centre.address,
        "postcode": centre.postcode,
        "country": centre.country,
        "latitude": centre.latitude,
        "longitude": centre.longitude,
        "contact_email": centre.contact_email,
        "contact_phone": centre.contact_phone,
        "description": centre.description,
        "accessibility_notes": centre.accessibility_notes,
        "url": absolute_url("public.centre_detail", slug=centre.slug),
    }


def workshop_to_json(workshop: Workshop, waitlist_count: int, topics=()) -> dict:
    """A workshop as PRODUCT.md gives it; times in ISO 8601 with the centre's offset.

    Also its topic slugs (`topics`), the places held for referred families
    (`held_places`) and how many of them are not yet claimed (`held_unclaimed`).

    The workshop needs its centre, instructor and sessions loaded
    (catalogue.listing_options() does that in a fixed number of queries).
    """
    tz = workshop.centre.timezone
    instructor = workshop.instructor
    return {
        "id": workshop.id,
        "title": workshop.title,
        "kind": workshop.kind,
        "status": workshop.status,
        "centre": centre_summary(workshop.centre),
        "instructor": (
            {"id": instructor.id, "name": instructor_name(instructor)} if instructor else None
        ),
        "capacity": workshop.capacity,
        "places_left": workshop.places_left,
        "waitlist_count": waitlist_count,
        "held_places": workshop.held_places,
        "held_unclaimed": workshop.held_unclaimed,
        "topics": list(topics),
        "min_age_weeks": workshop.min_age_weeks,
        "max_age_weeks": workshop.max_age_weeks,
        "price": price_text(workshop.price),
        "min_places": workshop.min_places,
        "decision_at": iso_local(workshop.decision_at, tz) if workshop.decision_at else None,
        "run_confirmed": workshop.run_confirmed,
        "late_join_until": workshop.late_join_until,
        "sessions": [
            {
                "id": s.id,
                "number": s.number,
                "starts_at": iso_local(s.starts_at, tz),
                "ends_at": iso_local(s.ends_at, tz),
                "status": s.status,
            }
            for s in workshop.sessions
        ],
        "url": absolute_url("public.workshop_detail", workshop_id=workshop.id),
    }
