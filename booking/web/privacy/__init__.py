"""Privacy: what we hold about a family, a copy of it, and erasure."""

from flask import Blueprint

bp = Blueprint("privacy", __name__)

from booking.web.privacy import views  # noqa: E402,F401
