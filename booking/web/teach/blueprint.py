"""The `teach` blueprint object, which the view modules of booking.web.teach register
their routes on (kept apart from the package so they need not import it back)."""

from flask import Blueprint

bp = Blueprint("teach", __name__, url_prefix="/teach")
