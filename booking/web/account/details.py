"""The parent's own details: the contact phone number instructors may call."""

from booking.web.account.blueprint import bp  # noqa: F401
