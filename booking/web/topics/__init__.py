"""Topic pages (/topics/<slug>): what a class for a particular need is like, and its classes."""

# The view modules register their routes on `bp` when imported; add new ones here.
from booking.web.topics import views  # noqa: F401
from booking.web.topics.blueprint import bp

__all__ = ["bp"]
