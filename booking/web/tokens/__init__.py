"""Personal API tokens for staff and admins, under /manage/api-tokens."""

# The view modules register their routes on `bp` when imported; add new ones here.
from booking.web.tokens import views  # noqa: F401
from booking.web.tokens.blueprint import bp

__all__ = ["bp"]
