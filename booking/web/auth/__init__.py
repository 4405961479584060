"""Accounts: register, log in, log out."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from booking.web.auth import password, views  # noqa: E402,F401
