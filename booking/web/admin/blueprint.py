"""The `admin` blueprint object, which the view modules of booking.web.admin register
their routes on (kept apart from the package so they need not import it back)."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
