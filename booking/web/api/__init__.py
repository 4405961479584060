"""The JSON API under /api/v1: the public read endpoints and the staff write endpoints."""

from flask import Blueprint

from booking.errors import error_response
from booking.extensions import csrf, limiter
from booking.security import TOKEN_GUESS_LIMIT, is_unauthorized
from booking.services.errors import DomainError

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # token-authenticated or read-only: no cookie-based forms here
# Per address, only requests refused for a missing or wrong token count (token guessing).
limiter.limit(TOKEN_GUESS_LIMIT, deduct_when=is_unauthorized, override_defaults=False)(bp)


@bp.errorhandler(DomainError)
def domain_error(exc: DomainError):
    """A refused request as `{"error": {"code", "message", "fields"}}` with its status."""
    return error_response(exc.status, exc.message, exc.code, exc.fields)


# The endpoint modules. Each registers its routes on `bp`; add new ones here.
from booking.web.api import conventions, openapi, staff, views  # noqa: E402,F401
