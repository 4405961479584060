"""The public catalogue: home, class search, class, centre and instructor pages."""

# The view modules register their routes on `bp` when imported; add new ones here.
from booking.web.public import views  # noqa: F401
from booking.web.public.blueprint import bp

__all__ = ["bp"]
