"""Admins: centres and people's roles."""

# The view modules register their routes on `bp` when imported; add new ones here.
from booking.web.admin import views  # noqa: F401
from booking.web.admin.blueprint import bp

__all__ = ["bp"]
