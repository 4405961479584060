"""Instructors: their classes, rosters, registers and messages to parents."""

from flask import Blueprint

bp = Blueprint("teach", __name__, url_prefix="/teach")

from booking.web.teach import specialisms, views  # noqa: E402,F401
