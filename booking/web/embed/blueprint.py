"""The `embed` blueprint object, which the view modules of booking.web.embed register
their routes on (kept apart from the package so they need not import it back)."""

from flask import Blueprint

bp = Blueprint("embed", __name__, url_prefix="/embed")
