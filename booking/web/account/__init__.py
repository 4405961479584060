"""A parent's account: babies, bookings, and booking a place in a class."""

from flask import Blueprint

bp = Blueprint("account", __name__)

from booking.web.account import babies, book, makeups, panel, views  # noqa: E402,F401
