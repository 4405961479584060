"""schema.org JSON-LD for class and topic pages: an Event, or a Course with its instance.

Pages put the result in `<script type="application/ld+json">{{ data|tojson }}</script>`:
a data block that browsers never run (so the CSP's script-src 'self' is untouched),
with `<`, `>` and `&` escaped by `tojson`.
"""

from booking.models.workshop import CANCELLED, SCHEDULED
from booking.services.booking.places import is_booking_open, public_places_left
from booking.services.catalogue.search import Listing, instructor_name
from booking.timefmt import iso_local
from booking.topics import TOPICS_BY_SLUG
from booking.web.api.serializers import absolute_url

SCHEMA = "https://schema.org"
PUBLIC_PLACES = f"{SCHEMA}/InStock"


def _place(centre) -> dict:
    return {
        "@type": "Place",
        "name": centre.name,
        "address": {
            "@type": "PostalAddress",
            "streetAddress": centre.address,
            "addressLocality": centre.town,
            "postalCode": centre.postcode,
            "addressCountry": centre.country,
        },
    }


def _topics(slugs: list[str]) -> dict:
    topics = [TOPICS_BY_SLUG[s] for s in slugs if s in TOPICS_BY_SLUG]
    if not topics:
        return {}
    return {
        "about": [{"@type": "Thing", "name": t.name} for t in topics],
        "audience": [
            {"@type": "Audience", "audienceType": t.name, "description": f"Classes {t.plain}"}
            for t in topics
        ],
    }


def _offer(workshop, url: str) -> dict:
    if workshop.status == CANCELLED:
        availability = "Discontinued"
    elif not is_booking_open(workshop):  # under way and no longer taking joiners
        availability = "OutOfStock"
    elif public_places_left(workshop) > 0:
        availability = "InStock"
    else:
        availability = "SoldOut"
    return {
        "@type": "Offer",
        "price": f"{workshop.price or 0:.2f}",
        "priceCurrency": workshop.centre.currency,
        "availability": f"{SCHEMA}/{availability}",
        "url": url,
    }


def workshop_jsonld(listing: Listing) -> dict:
    """A listed workshop as schema.org data: Course (with hasCourseInstance) or Event.

    Needs the workshop's centre, instructor and sessions loaded (catalogue listings).
    """
    workshop = listing.workshop
    centre = workshop.centre
    tz = centre.timezone
    url = absolute_url("public.workshop_detail", workshop_id=workshop.id)
    sessions = [s for s in workshop.sessions if s.status == SCHEDULED] or list(workshop.sessions)
    start = iso_local(sessions[0].starts_at, tz) if sessions else None
    end = iso_local(sessions[-1].ends_at, tz) if sessions else None
    instructor = (
        {"@type": "Person", "name": instructor_name(workshop.instructor)}
        if workshop.instructor
        else None
    )
    status = "EventCancelled" if workshop.status == CANCELLED else "EventScheduled"
    common = {
        "name": workshop.title,
        "description": workshop.description or workshop.title,
        "url": url,
        **_topics(listing.topics),
    }
    event = {
        "startDate": start,
        "endDate": end,
        "eventStatus": f"{SCHEMA}/{status}",
        "eventAttendanceMode": f"{SCHEMA}/OfflineEventAttendanceMode",
        "location": _place(centre),
        "organizer": {"@type": "Organization", "name": centre.name},
        "offers": _offer(workshop, url),
        # In years, as schema.org reads it: 6 to 104 weeks is "0-2".
        "typicalAgeRange": f"{workshop.min_age_weeks // 52}-"
                           f"{max(1, -(-workshop.max_age_weeks // 52))}",
    }
    if instructor:
        event["performer"] = instructor
    if workshop.is_course:
        instance = {"@type": "CourseInstance", "courseMode": "onsite", **event}
        if instructor:
            instance["instructor"] = instructor
        return {
            "@context": SCHEMA,
            "@type": "Course",
            **common,
            "provider": {"@type": "Organization", "name": centre.name},
            "hasCourseInstance": instance,
        }
    return {"@context": SCHEMA, "@type": "Event", **common, **event}


def topic_jsonld(topic, listings: list[Listing]) -> dict:
    """A topic page as a schema.org ItemList of its classes, about the topic."""
    return {
        "@context": SCHEMA,
        "@type": "ItemList",
        "name": f"Baby massage classes {topic.plain}",
        "about": {"@type": "Thing", "name": topic.name},
        "itemListElement": [
            {"@type": "ListItem", "position": i, "item": workshop_jsonld(listing)}
            for i, listing in enumerate(listings, start=1)
        ],
    }
