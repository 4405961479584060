"""The public catalogue: home, class search, class, centre and instructor pages."""

from flask import Blueprint

bp = Blueprint("public", __name__)

from booking.web.public import views  # noqa: E402,F401
