"""iCalendar HTTP responses with validators, caching and privacy headers."""

import re
from collections.abc import Callable

from flask import Response, request

from booking.calendar.feeds import FeedVersion

ICS_TYPE = "text/calendar; charset=utf-8"
PUBLIC_CACHE = "public, max-age=300"
# A private feed: only the subscriber's own client may keep it, and it asks again
# (with If-None-Match) every time; shared caches never store it.
PRIVATE_CACHE = "private, max-age=0"
# A one-off file for the person who asked: kept by nobody.
DOWNLOAD_CACHE = "no-store"


def _not_modified(version: FeedVersion) -> bool:
    """The ETag alone decides (RFC 9110 lets a server ignore If-Modified-Since): a feed's
    dates do not move when a class leaves it, nor for a second change in one second."""
    if request.if_none_match:
        return request.if_none_match.contains_weak(version.etag) or (
            request.if_none_match.star_tag
        )
    return False


def _safe_filename(filename: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", filename).strip("-.") or "calendar.ics"


def _headers(response: Response, filename: str, private: bool) -> Response:
    response.headers["Content-Disposition"] = f'inline; filename="{_safe_filename(filename)}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    if private:
        response.headers["Cache-Control"] = PRIVATE_CACHE
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
    else:
        response.headers["Cache-Control"] = PUBLIC_CACHE
    return response


def feed_response(
    version: FeedVersion, render: Callable[[], str], filename: str, private: bool
) -> Response:
    """A 304 when the client's copy is current (nothing rendered), else the feed."""
    if _not_modified(version):
        response = Response(status=304)
    else:
        response = Response(render(), mimetype="text/calendar")
        response.headers["Content-Type"] = ICS_TYPE
    response.set_etag(version.etag)
    if version.last_modified is not None:
        response.last_modified = version.last_modified
    return _headers(response, filename, private)


def download_response(text: str, filename: str) -> Response:
    """A one-off calendar file (an invite) for the person who asked for it."""
    response = Response(text, mimetype="text/calendar")
    response.headers["Content-Type"] = ICS_TYPE
    response = _headers(response, filename, private=True)
    response.headers["Cache-Control"] = DOWNLOAD_CACHE
    return response
