"""A baby's health questions: answered once with consent, confirmed before each course."""

from booking.web.account.blueprint import bp  # noqa: F401
