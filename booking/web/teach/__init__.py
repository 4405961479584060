"""Instructors: their classes, rosters, registers and messages to parents."""

# The view modules register their routes on `bp` when imported; add new ones here.
from booking.web.teach import evaluations, plans, profile, specialisms, views  # noqa: F401
from booking.web.teach.blueprint import bp

__all__ = ["bp"]
