"""Calendars: public and private iCalendar feeds, the calendar-link page and invites."""

# The view modules register their routes on `bp` when imported; add new ones here.
from booking.web.feeds import views  # noqa: F401
from booking.web.feeds.blueprint import bp

__all__ = ["bp"]
