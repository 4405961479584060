"""schema.org JSON-LD for the instructor and centre pages: the instructor (a Person) or
the centre (an Organization), and a `Review` for each quote its families agreed to
show, with no name (the author is "A parent").

Pages put the result in `<script type="application/ld+json">{{ jsonld|tojson }}</script>`
(see `booking.web.topics.jsonld`): a data block browsers never run.
"""

from booking.services.plans.evaluation_results import Quote
from booking.web.api.serializers import absolute_url

SCHEMA = "https://schema.org"
AUTHOR = {"@type": "Person", "name": "A parent"}


def _reviews(item: dict, quotes: list[Quote]) -> list[dict]:
    """One Review per quote, about `item` (a reference to the page's own node)."""
    return [
        {
            "@type": "Review",
            "reviewBody": quote.text,
            "datePublished": quote.said_on.isoformat(),
            "name": f"A parent, {quote.course}, {quote.month}",
            "author": AUTHOR,
            "itemReviewed": item,
        }
        for quote in quotes
    ]


def instructor_jsonld(instructor, quotes: list[Quote]) -> dict:
    """An instructor's public profile (`InstructorPage`) as a Person, with the quotes
    about their courses as Reviews of them."""
    url = absolute_url("public.instructor_detail", user_id=instructor.user.id)
    person = {"@type": "Person", "@id": url, "name": instructor.name, "url": url}
    if instructor.profile and instructor.profile.qualification:
        person["hasCredential"] = {
            "@type": "EducationalOccupationalCredential",
            "name": instructor.profile.qualification,
        }
    item = {"@type": "Person", "@id": url, "name": instructor.name}
    return {"@context": SCHEMA, "@graph": [person, *_reviews(item, quotes)]}


def centre_jsonld(centre, quotes: list[Quote]) -> dict:
    """A centre as an Organization with its address, with the quotes about its courses
    as Reviews of it."""
    url = absolute_url("public.centre_detail", slug=centre.slug)
    organization = {
        "@type": "Organization",
        "@id": url,
        "name": centre.name,
        "url": url,
        "address": {
            "@type": "PostalAddress",
            "streetAddress": centre.address,
            "addressLocality": centre.town,
            "postalCode": centre.postcode,
            "addressCountry": centre.country,
        },
    }
    item = {"@type": "Organization", "@id": url, "name": centre.name}
    return {"@context": SCHEMA, "@graph": [organization, *_reviews(item, quotes)]}
