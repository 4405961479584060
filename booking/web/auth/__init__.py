"""Accounts: register, log in, log out, reset a password, accept an invitation."""

# The view modules register their routes on `bp` when imported; add new ones here.
from booking.web.auth import invite, password, views  # noqa: F401
from booking.web.auth.blueprint import bp

__all__ = ["bp"]
