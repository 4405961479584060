"""Staff requests carry `Authorization: Bearer <token>`; the token's user is `g.api_user`."""

import re
from functools import wraps

from flask import g, request

from booking.errors import error_response
from booking.services.accounts import api_tokens
from booking.services.errors import DomainError
from booking.web.api.blueprint import bp

# The scheme is case-insensitive (RFC 9110 11.1): "bearer" and "BEARER" name it too.
_BEARER_RE = re.compile(r"^Bearer +([A-Za-z0-9._~+/=-]+) *$", re.IGNORECASE)
MAX_TOKEN_LENGTH = 200


class Unauthenticated(DomainError):
    """No usable API token (401); `code` says whether one was sent at all."""

    status = 401
    code = "unauthorized"


class InvalidToken(Unauthenticated):
    """A well-formed token that is unknown or revoked (401)."""

    code = "invalid_token"


@bp.errorhandler(Unauthenticated)
def unauthenticated(exc: Unauthenticated):
    """The API's JSON error with the challenge saying how to authenticate."""
    response, status = error_response(exc.status, exc.message, exc.code, exc.fields)
    challenge = 'Bearer realm="api"'
    if isinstance(exc, InvalidToken):
        challenge += ', error="invalid_token"'
    response.headers["WWW-Authenticate"] = challenge
    return response, status


def bearer_token() -> str:
    """The token of an `Authorization: Bearer <token>` header; 401 when missing or malformed."""
    header = request.headers.get("Authorization", "").strip()
    if not header:
        raise Unauthenticated("Send an API token: Authorization: Bearer <token>.")
    match = _BEARER_RE.match(header)
    if match is None or len(match.group(1)) > MAX_TOKEN_LENGTH:
        raise Unauthenticated("The Authorization header must read 'Bearer <token>'.")
    return match.group(1)


def token_required(view):
    """Only requests with a valid, unrevoked API token; the user is `g.api_user`."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        user = api_tokens.user_for_token(bearer_token())
        if user is None:
            raise InvalidToken("That API token is unknown or has been revoked.")
        g.api_user = user
        return view(*args, **kwargs)

    return wrapped
