"""The embedded schedule: /embed/centres/<slug>, framed by the centre's own website.

Framing is allowed only from the origins the centre's staff list (CSP frame-ancestors);
every link opens the main site in the top window, with absolute URLs.
"""

from flask import render_template

from booking.security import allow_framing_from
from booking.services.catalogue import search as catalogue
from booking.services.catalogue.centres import ORIGIN_RE
from booking.services.catalogue.params import MAX_PER_PAGE
from booking.web.api.serializers import absolute_url
from booking.web.embed.blueprint import bp

EMBED_LIMIT = 12


def frame_origins(origins: list[str]) -> list[str]:
    """The centre's embed origins that are safe to put in a CSP header."""
    return [o for o in origins if ORIGIN_RE.match(o)]


@bp.get("/centres/<slug>")
def centre(slug: str):
    """A published centre's upcoming classes, small enough to sit in an iframe."""
    place = catalogue.get_centre(slug)
    result = catalogue.upcoming(min(EMBED_LIMIT, MAX_PER_PAGE), centre=place.slug)
    allow_framing_from(frame_origins(place.allowed_embed_origins))
    return render_template(
        "embed/centre.html",
        centre=place,
        listings=result.listings,
        more=result.has_next,
        centre_url=absolute_url("public.centre_detail", slug=place.slug),
        book_url=lambda workshop_id: absolute_url(
            "public.workshop_detail", workshop_id=workshop_id
        ),
    )
