"""A family's home-practice sheets, every week of every course."""

from booking.web.account.blueprint import bp  # noqa: F401
