"""Session plans an instructor writes for their own workshops."""

from booking.web.teach.blueprint import bp  # noqa: F401
