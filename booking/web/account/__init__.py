"""A parent's account: babies, bookings, and booking a place in a class."""

# The view modules register their routes on `bp` when imported; add new ones here.
from booking.web.account import (  # noqa: F401
    babies,
    book,
    booked,
    details,
    evaluate,
    health,
    makeups,
    panel,
    pay,
    practice,
    ready,
    session_choice,
    views,
)
from booking.web.account.blueprint import bp

__all__ = ["bp"]
