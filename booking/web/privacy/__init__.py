"""Privacy: what we hold about a family, a copy of it, and erasure."""

# The view modules register their routes on `bp` when imported; add new ones here.
from booking.web.privacy import views  # noqa: F401
from booking.web.privacy.blueprint import bp

__all__ = ["bp"]
