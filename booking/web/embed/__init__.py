"""Embeddable pages: a centre's schedule for its own website to show in an iframe."""

# The view modules register their routes on `bp` when imported; add new ones here.
from booking.web.embed import views  # noqa: F401
from booking.web.embed.blueprint import bp

__all__ = ["bp"]
