"""The `payments` blueprint object (kept apart from the package so the views need not
import it back)."""

from flask import Blueprint

from booking.extensions import csrf

bp = Blueprint("payments", __name__, url_prefix="/payments")
csrf.exempt(bp)  # called by the provider, authenticated by the event's signature
