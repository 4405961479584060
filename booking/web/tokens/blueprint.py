"""The `tokens` blueprint object, which the view modules of booking.web.tokens register
their routes on (kept apart from the package so they need not import it back)."""

from flask import Blueprint

bp = Blueprint("tokens", __name__, url_prefix="/manage/api-tokens")
