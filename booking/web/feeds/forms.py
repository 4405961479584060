"""Forms of the calendar-link page: buttons that carry only the CSRF token."""

from booking.web.forms import Form


class FeedLinkForm(Form):
    """Create or reset the private calendar link (a POST with csrf_token)."""
