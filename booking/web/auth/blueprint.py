"""The `auth` blueprint object, which the view modules of booking.web.auth register
their routes on (kept apart from the package so they need not import it back)."""

from flask import Blueprint

bp = Blueprint("auth", __name__)
