"""Operations: `/healthz`, `/readyz` and `/metrics`."""

# The view modules register their routes on `bp` when imported; add new ones here.
from booking.web.ops import views  # noqa: F401
from booking.web.ops.blueprint import bp

__all__ = ["bp"]
