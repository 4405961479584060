"""The JSON API under /api/v1: the public read endpoints and the staff write endpoints."""

# A refused request answers `{"error": {"code", "message", "fields"}}` with its status
# (booking.errors handles DomainError for the whole app).
# The view modules register their routes on `bp` when imported; add new ones here.
from booking.web.api import conventions, openapi, staff, views  # noqa: F401
from booking.web.api.blueprint import bp

__all__ = ["bp"]
