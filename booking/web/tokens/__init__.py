"""Personal API tokens for staff and admins, under /manage/api-tokens."""

from flask import Blueprint

bp = Blueprint("tokens", __name__, url_prefix="/manage/api-tokens")

from booking.web.tokens import views  # noqa: E402,F401
