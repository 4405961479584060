"""The `api` blueprint object, which the view modules of booking.web.api register
their routes on (kept apart from the package so they need not import it back)."""

from flask import Blueprint

from booking.extensions import csrf, limiter
from booking.security import TOKEN_GUESS_LIMIT, is_unauthorized

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # token-authenticated or read-only: no cookie-based forms here
# Per address, only requests refused for a missing or wrong token count (token guessing),
# one count for every endpoint of the API (a limit per endpoint gave 30 guesses on each).
limiter.shared_limit(
    TOKEN_GUESS_LIMIT,
    scope="api-token-guesses",
    deduct_when=is_unauthorized,
    override_defaults=False,
    error_message="Too many requests from this address came with a missing or wrong "
    "token: wait an hour, then send a valid token.",
)(bp)
