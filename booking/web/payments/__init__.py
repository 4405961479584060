"""The payment provider's calls to us: `POST /payments/stripe/webhook`."""

from booking.web.payments import views  # noqa: F401
from booking.web.payments.blueprint import bp

__all__ = ["bp"]
