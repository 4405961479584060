"""A course evaluation, answered from the emailed link without logging in."""

from booking.web.account.blueprint import bp  # noqa: F401
