"""Error pages for people and JSON errors for the API, for HTTP errors and for the
services' domain errors alike."""

import logging
import time

import sqlalchemy as sa
from flask import Response, jsonify, render_template, request, url_for
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import (
    BadHost,
    HTTPException,
    InternalServerError,
    RequestEntityTooLarge,
)

from booking.db import UNAVAILABLE, driver_words, not_migrated, unusable
from booking.extensions import db, limiter
from booking.services.errors import DomainError
from booking.templating import render_shared

log = logging.getLogger(__name__)

TITLES = {
    400: "That request did not make sense",
    401: "Please log in",
    403: "That is not yours to see",
    404: "We could not find that page",
    405: "That is not allowed here",
    409: "That clashes with something already saved",
    413: "That upload is too large",
    415: "That kind of request is not accepted here",
    422: "Some details need correcting",
    429: "Too many attempts",
    500: "Something went wrong on our side",
    503: "Back in a minute",
}

# A database that cannot be used answers 503 with a time to try again, not 500: the
# request was fine, the site cannot serve it just now.
RETRY_AFTER_SECONDS = 60
UPDATING = (
    "The site is being updated and will be back in a few minutes. Please try again then."
)
UNREACHABLE = (
    "The site cannot reach its records just now. Please try again in a minute. If you "
    "were booking or paying, My bookings will show whether it went through."
)


def wants_json() -> bool:
    """API requests get JSON errors."""
    return request.path.startswith("/api/")


def _seconds_until_allowed() -> int | None:
    """After a rate limit refused the request: the seconds until the limit it met lets
    another through, or None when its store cannot say."""
    try:
        limit = limiter.current_limit
        return None if limit is None else max(1, int(limit.reset_at - time.time()))
    except Exception:  # noqa: BLE001 - the store's trouble must not turn a 429 into a 500
        return None


def _in_about(seconds: int | None) -> str:
    """'in about 12 minutes', or 'later' when the time is not known."""
    if seconds is None:
        return "later"
    if seconds < 90:
        return "in a minute or so"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"in about {minutes} minutes"
    hours = round(minutes / 60)
    return f"in about {hours} hour{'' if hours == 1 else 's'}"


def error_response(
    status: int, message: str, code: str | None = None, fields=None, details=None
):
    """An error as JSON for the API or as a friendly page for people (in plain text when
    the request's Host names no address a page could link to): (body, status)."""
    if wants_json():
        body = {
            "error": {
                "code": code or TITLES.get(status, "error").lower().replace(" ", "_"),
                "message": message,
                "fields": fields or {},
                **(details or {}),
            }
        }
        return jsonify(body), status
    if isinstance(request.routing_exception, BadHost):
        # The request named no address of this site (a Host header such as "a..b", or a
        # label over 63 characters): no link of a page can be built, so it is told in
        # plain words.
        text = f"{TITLES.get(status, 'Error')}\n\n{message}\n"
        return Response(text, mimetype="text/plain"), status
    return (
        render_template(
            "error.html", status=status, title=TITLES.get(status, "Error"), message=message
        ),
        status,
    )


# A body refused as too large is read to its end (up to this much) before the answer
# goes, so that the connection can carry the client's next request: the server closed
# a kept-alive connection with a refused body left unread in it, and the client's next
# request on it failed. A larger body still ends its connection.
DISCARD_AT_MOST = 16 * 1024 * 1024


def discard_unread_body() -> None:
    """Read and drop what is left of the request's body, if it is not too large."""
    length = request.content_length or 0
    stream = request.environ.get("wsgi.input")
    if not length or length > DISCARD_AT_MOST or stream is None:
        return
    left = length
    try:
        while left > 0:
            chunk = stream.read(min(65536, left))
            if not chunk:
                break
            left -= len(chunk)
    except (OSError, ValueError):
        return  # the client went away: nothing to keep the connection for


def init_app(app) -> None:
    """Register the handlers."""

    @app.after_request
    def _discard_refused_body(response):
        if response.status_code == 413:
            discard_unread_body()
        return response

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return error_response(
            400,
            "This form had expired or was sent from elsewhere. Please go back, reload "
            "the page and try again.",
            code="csrf_failed",
        )

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        """A refusal no view turned into a form message: its own status (NotFound 404,
        Forbidden 403, Conflict 409, Invalid 422), as the API's JSON error or a page."""
        return error_response(exc.status, exc.message, exc.code, exc.fields, exc.details)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code is None or exc.code < 400:
            return exc
        message = exc.description or TITLES.get(exc.code, "Error")
        if exc.code == 413 and message == RequestEntityTooLarge.description:
            # Werkzeug's own words, for a body past MAX_CONTENT_LENGTH: say the limit.
            limit = app.config.get("MAX_CONTENT_LENGTH") or 0
            message = (f"That is more than the {limit / 1_048_576:g} MB this site takes in "
                       "one go. A schedule file may be at most 1 MB: split the term into "
                       "several files.")
        wait = None
        if isinstance(exc, RateLimitExceeded):
            wait = _seconds_until_allowed()
            if not exc.limit.error_message:  # Flask-Limiter's bare "10 per 1 hour"
                message = (f"Too many attempts from here: this allows {exc.description}. "
                           f"Please try again {_in_about(wait)}.")
        if wants_json():
            code = {
                400: "bad_request",
                401: "unauthorized",
                403: "forbidden",
                404: "not_found",
                405: "method_not_allowed",
                409: "conflict",
                413: "too_large",
                422: "invalid",
                429: "rate_limited",
            }.get(exc.code, "error")
            resp = app.make_response(error_response(exc.code, message, code=code))
        else:
            resp = app.make_response(error_response(exc.code, message))
        if exc.code == 405 and exc.valid_methods:
            resp.headers["Allow"] = ", ".join(exc.valid_methods)
        if wait is not None:
            resp.headers["Retry-After"] = str(wait)
        return resp

    @app.errorhandler(sa.exc.ProgrammingError)
    @app.errorhandler(UNAVAILABLE[0])
    @app.errorhandler(UNAVAILABLE[1])
    def database_unusable(exc: sa.exc.DBAPIError):
        """A database that does not answer, is locked, or lacks this version's tables
        (a release whose migrations have not run yet): 503 with Retry-After, on a page
        that reads nothing from it. Any other SQL error is the code's: raised again, for
        the 500 below."""
        if not unusable(exc):
            raise exc
        updating = not_migrated(exc)
        log.error("database cannot be used on %s %s: %s%s", request.method,
                  request.endpoint or "?", driver_words(exc),
                  " (its tables are not this version's)" if updating else "")
        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001 - the connection is gone: closed next either way
            log.debug("rollback after an unusable database failed", exc_info=True)
        message = UPDATING if updating else UNREACHABLE
        if wants_json():
            body, status = error_response(503, message, code="unavailable")
        else:
            # Only what is given (`render_shared`): the template context would read the
            # logged-in user from the database, and fail again.
            again = request.url if request.method == "GET" else url_for("public.index")
            body = render_shared(
                "unavailable.html", title=TITLES[503], message=message, again=again
            )
        response = app.make_response((body, 503))
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    @app.errorhandler(InternalServerError)
    def server_error(exc):
        # The route, not the path: a path can hold a reset or feed token.
        log.exception("unhandled error on %s %s", request.method, request.endpoint or "?")
        return error_response(
            500, "Sorry, something went wrong. Nothing you entered has been lost; please try again."
        )
