"""Where each role lands after logging in: admins on /admin, staff on the term
calendar, instructors on "Today" (/teach), parents on their bookings. A person with
several roles lands on the highest: admin, then staff, then instructor, then parent."""

from flask import current_app, url_for

from booking.models import User
from booking.models.people import ROLE_STAFF

# The staff's home, and where staff land while it is not there.
STAFF_HOME, STAFF_FALLBACK = "manage.calendar", "manage.index"


def home_endpoint(user: User) -> str:
    """The endpoint of the user's own home page."""
    if user.is_admin:
        return "admin.index"
    if user.centre_ids(ROLE_STAFF):
        if STAFF_HOME in current_app.view_functions:
            return STAFF_HOME
        return STAFF_FALLBACK
    if user.is_instructor:
        return "teach.index"
    return "account.bookings"


def home_url(user: User) -> str:
    """The path of the user's own home page."""
    return url_for(home_endpoint(user))
