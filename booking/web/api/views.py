"""Public read endpoints: centres and workshops, with the same filters as /classes."""

from flask import current_app, jsonify, request

from booking.revision_cache import cached_listing
from booking.services.accounts import api_tokens
from booking.services.accounts.access import is_centre_staff
from booking.services.catalogue import search as catalogue
from booking.services.catalogue.params import parse_search
from booking.services.errors import NotFound
from booking.web.api.auth import InvalidToken, bearer_token
from booking.web.api.operations import Answer, operation
from booking.web.api.schemas import requests, responses
from booking.web.api.serializers import (
    absolute_url,
    centre_reply,
    workshop_reply,
    workshop_response,
)
from booking.web.place_limits import may_look_up_place


@operation(
    "get", "/centres", operation_id="listCentres", summary="List centres",
    description="Every published centre, by name.",
    answer=Answer(200, "OK", responses.CentreList),
)
def centres():
    """Every published centre."""
    reply = responses.CentreList(items=[centre_reply(c) for c in catalogue.list_centres()])
    return jsonify(reply.model_dump(mode="json"))


@operation(
    "get", "/centres/<slug>", operation_id="getCentre", summary="Read a centre",
    description="A published centre's profile.",
    answer=Answer(200, "OK", responses.Centre),
)
def centre(slug: str):
    """One published centre."""
    return jsonify(centre_reply(catalogue.get_centre(slug)).model_dump(mode="json"))


@operation(
    "get", "/workshops", operation_id="listWorkshops", summary="Search workshops",
    description="Published workshops that are still bookable or running, soonest first "
    "(nearest first with lat/lon, or a postcode or place name in q), with the same filters "
    "as the /classes page. Pages link to each other with `next` and `prev`, in the body "
    "and in the Link header (RFC 8288); a page past the last one is empty, and its `prev` "
    "leads to the last page with results (none when nothing matched).",
    query=requests.WorkshopSearch,
    answer=Answer(200, "OK", responses.WorkshopPage, headers=("Link",)),
)
def workshops():
    """Listed workshops matching the /classes filters, paginated with page and per_page.

    `total` is exact up to catalogue.COUNT_LIMIT matches (or the end of the page asked
    for); beyond that counting stops and `total_exact` is false."""
    params = parse_search(request.args, allow_per_page=True)
    scope = catalogue.scope_for(
        params, [tag for tag, _ in request.accept_languages], may_ask=may_look_up_place
    )
    text = cached_listing(
        "api.workshops",
        (repr(params), repr(scope)),
        lambda: _workshop_page(params, scope),
        by_local_date=params.counts_days,
    )
    link, _, body = text.partition("\n")
    response = current_app.response_class(body, mimetype=current_app.json.mimetype)
    if link:
        response.headers["Link"] = link
    return response


def _page_links(**urls: str | None) -> str:
    """A Link header's value (RFC 8288) for the pages named, by relation."""
    return ", ".join(f'<{url}>; rel="{rel}"' for rel, url in urls.items() if url)


def _workshop_page(params, scope) -> str:
    """One page of the search: its Link header's value, a newline, then the JSON text
    (kept together by the listing cache)."""
    result = catalogue.search_workshops(params, scope=scope)

    def page_url(page: int) -> str:
        return absolute_url("api.workshops", **params.query_args(page=page))

    reply = responses.WorkshopPage(
        items=[
            responses.WorkshopHit(
                **dict(workshop_reply(x.workshop, x.waitlist_count, x.topics)),
                distance_km=None if x.distance_km is None else round(x.distance_km, 2),
            )
            for x in result.listings
        ],
        place=responses.SearchPlace(**vars(scope.place)) if scope.place else None,
        radius_km=scope.radius_km,
        country=scope.country,
        message=scope.message,
        page=result.page,
        per_page=result.per_page,
        total=result.total,
        total_exact=result.total_exact,
        next=page_url(result.page + 1) if result.has_next else None,
        prev=page_url(result.prev_page) if result.prev_page is not None else None,
    )
    body = jsonify(reply.model_dump(mode="json")).get_data(as_text=True)
    return _page_links(next=reply.next, prev=reply.prev) + "\n" + body


@operation(
    "get", "/workshops/<int:workshop_id>", operation_id="getWorkshop",
    summary="Read a workshop",
    description="A published or cancelled workshop; drafts (and classes at a hidden "
    "centre) are not found, except by the staff of its centre with their API token "
    "(as the Location of a workshop created as a draft), and then not stored by caches. "
    "A token sent that is unknown or revoked is 401 for a workshop the public cannot see "
    "(and for one that does not exist, so a refusal says nothing of drafts).",
    answer=Answer(200, "OK", responses.Workshop),
    errors=(401,),
)
def workshop(workshop_id: int):
    """One workshop (published or cancelled; drafts only for its centre's staff)."""
    try:
        listing, private = catalogue.get_workshop(workshop_id), False
    except NotFound:
        listing, private = _for_its_staff(workshop_id), True
    response = workshop_response(listing)
    if private:
        response.headers["Cache-Control"] = "private, no-store"
    return response


def _for_its_staff(workshop_id: int):
    """A workshop the public may not see, for a request with the API token of its
    centre's staff (or an admin's); NotFound for anyone else, so nothing says it exists."""
    if not request.headers.get("Authorization", "").strip().lower().startswith("bearer"):
        raise NotFound("There is no class with that number.")  # no token: the public's 404
    user = api_tokens.user_for_token(bearer_token())
    if user is None:
        raise InvalidToken("That API token is unknown or has been revoked.")
    listing = catalogue.get_any_workshop(workshop_id)
    if not is_centre_staff(user, listing.workshop.centre_id):
        raise NotFound("There is no class with that number.")
    return listing
