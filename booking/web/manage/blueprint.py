"""The `manage` blueprint object, which the view modules of booking.web.manage register
their routes on (kept apart from the package so they need not import it back)."""

from flask import Blueprint

bp = Blueprint("manage", __name__, url_prefix="/manage")
