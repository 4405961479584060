"""The `ops` blueprint object (kept apart from the package so the views need not
import it back)."""

from flask import Blueprint

from booking.extensions import limiter

bp = Blueprint("ops", __name__)
limiter.exempt(bp)  # polled every few seconds by monitors and load balancers
