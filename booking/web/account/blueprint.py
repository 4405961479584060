"""The `account` blueprint object, which the view modules of booking.web.account register
their routes on (kept apart from the package so they need not import it back)."""

from flask import Blueprint

bp = Blueprint("account", __name__)
