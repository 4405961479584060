"""What integrators expect of every API response: CORS on the public reads only, strong
ETags with 304 on GETs, and replayable POSTs with an Idempotency-Key."""

from functools import wraps

from flask import current_app, g, request
from werkzeug.exceptions import HTTPException

from booking.services.booking import idempotency
from booking.web.api.blueprint import bp
from booking.web.api.body import MAX_BODY_BYTES

# Endpoints anyone may read from any website (no token, no personal data).
PUBLIC_READS = frozenset(
    {"api.index", "api.centres", "api.centre", "api.workshops", "api.workshop", "api.openapi"}
)
READ_METHODS = frozenset({"GET", "HEAD"})
PREFLIGHT_MAX_AGE = "600"


def _public_read_endpoint() -> str | None:
    """The public GET endpoint at this request's path, whatever its method."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    try:
        endpoint, _ = adapter.match(request.path, method="GET")
    except HTTPException:
        return None
    return endpoint if endpoint in PUBLIC_READS else None


def _add_cors(response) -> None:
    if "Authorization" in request.headers:
        return  # a request carrying a token is never shared with other sites
    if request.method == "OPTIONS":
        asked = request.headers.get("Access-Control-Request-Method", "GET").upper()
        if asked not in READ_METHODS or _public_read_endpoint() is None:
            return
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Accept, If-None-Match"
        response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
        return
    if request.method in READ_METHODS and request.endpoint in PUBLIC_READS:
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Expose-Headers"] = "ETag, Link"


def _add_etag(response):
    if request.method not in READ_METHODS or response.status_code != 200:
        return response
    if response.is_streamed or response.direct_passthrough:
        return response
    # Staff reads carry personal data: nothing may store them, though a client that kept
    # the body itself may still revalidate it with its ETag.
    response.headers.setdefault(
        "Cache-Control",
        "public, no-cache" if request.endpoint in PUBLIC_READS else "private, no-store",
    )
    response.add_etag()
    return response.make_conditional(request)


@bp.after_request
def api_conventions(response):
    """CORS for public reads, ETag and 304 for every GET."""
    response = _add_etag(response)
    _add_cors(response)
    return response


def _replay(stored: idempotency.StoredResponse):
    response = current_app.response_class(
        stored.body, status=stored.status_code, mimetype="application/json"
    )
    if stored.location:
        response.headers["Location"] = stored.location
    response.headers["Idempotent-Replayed"] = "true"
    return response


def idempotent(view):
    """Honour an `Idempotency-Key` header on a token-authenticated POST.

    The first successful response under a key is stored for the user and replayed for
    the same request; another request under that key is refused (422). Without the
    header the view runs as usual.
    """

    @wraps(view)
    def wrapped(*args, **kwargs):
        raw_key = request.headers.get(idempotency.HEADER)
        if raw_key is None:
            return view(*args, **kwargs)
        key = idempotency.check_key(raw_key)
        length = request.content_length
        if length is not None and length > MAX_BODY_BYTES:
            return view(*args, **kwargs)  # refused as too large; nothing to remember
        body = request.get_data(cache=True)
        if len(body) > MAX_BODY_BYTES:
            return view(*args, **kwargs)
        printed = idempotency.fingerprint(request.method, request.path, body)
        record_id, stored = idempotency.claim_key(
            g.api_user.id, key, request.method, request.path, printed
        )
        if stored is not None:
            return _replay(stored)
        try:
            response = current_app.make_response(view(*args, **kwargs))
        except BaseException:
            idempotency.release_key(record_id)
            raise
        if 200 <= response.status_code < 300:
            idempotency.complete_key(
                record_id,
                response.status_code,
                response.get_data(as_text=True),
                response.headers.get("Location"),
            )
        else:
            idempotency.release_key(record_id)
        return response

    return wrapped
