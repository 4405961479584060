"""Public read endpoints: centres and workshops, with the same filters as /classes."""

from flask import jsonify, request

from booking.services.catalogue import search as catalogue
from booking.services.catalogue.params import parse_search
from booking.web.api.blueprint import bp
from booking.web.api.serializers import absolute_url, centre_to_json, workshop_to_json


@bp.get("/centres")
def centres():
    """Every published centre."""
    return jsonify(items=[centre_to_json(c) for c in catalogue.list_centres()])


@bp.get("/centres/<slug>")
def centre(slug: str):
    """One published centre."""
    return jsonify(centre_to_json(catalogue.get_centre(slug)))


@bp.get("/workshops")
def workshops():
    """Listed workshops matching the /classes filters, paginated with page and per_page.

    `total` is exact up to catalogue.COUNT_LIMIT matches (or the end of the page asked
    for); beyond that counting stops and `total_exact` is false."""
    params = parse_search(request.args, allow_per_page=True)
    result = catalogue.search_workshops(params)

    def page_url(page: int) -> str:
        return absolute_url("api.workshops", **params.query_args(page=page))

    return jsonify(
        items=[workshop_to_json(x.workshop, x.waitlist_count, x.topics) for x in result.listings],
        page=result.page,
        per_page=result.per_page,
        total=result.total,
        total_exact=result.total_exact,
        next=page_url(result.page + 1) if result.has_next else None,
        prev=page_url(result.page - 1) if result.has_prev else None,
    )


@bp.get("/workshops/<int:workshop_id>")
def workshop(workshop_id: int):
    """One workshop (published or cancelled; drafts are not found)."""
    listing = catalogue.get_workshop(workshop_id)
    return jsonify(workshop_to_json(listing.workshop, listing.waitlist_count, listing.topics))
