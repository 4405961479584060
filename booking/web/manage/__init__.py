"""Centre staff: their centres' profiles, workshops, sessions, registrations and imports."""

from flask import Blueprint

bp = Blueprint("manage", __name__, url_prefix="/manage")

from booking.web.manage import (  # noqa: E402,F401
    decision_views,
    import_views,
    referral_views,
    registration_views,
    views,
    workshop_views,
)
