""""Ready for <day>?": the parent's one-tap answer before each session."""

from booking.web.account.blueprint import bp  # noqa: F401
