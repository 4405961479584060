"""Admins: centres and people's roles."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from booking.web.admin import views  # noqa: E402,F401
