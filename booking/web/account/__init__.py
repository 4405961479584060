"""A parent's account: babies, bookings, and booking a place in a class."""

# The view modules register their routes on `bp` when imported; add new ones here.
from booking.web.account import babies, book, makeups, panel, pay, views  # noqa: F401
from booking.web.account.blueprint import bp

__all__ = ["bp"]
