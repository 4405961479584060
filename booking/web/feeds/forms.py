"""Forms of the calendar-link page: buttons that carry only the CSRF token."""

from flask_wtf import FlaskForm


class FeedLinkForm(FlaskForm):
    """Create or reset the private calendar link (a POST with csrf_token)."""
