"""Calendars: public and private iCalendar feeds, the calendar-link page and invites."""

from flask import Blueprint

bp = Blueprint("feeds", __name__)

from booking.web.feeds import views  # noqa: E402,F401
