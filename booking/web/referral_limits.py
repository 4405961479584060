"""Rate limits on referral-code attempts: per IP address and per account.

Applied to the booking POST; only requests that carry a `referral_code` count, so
ordinary bookings are never limited by them. With about 79 bits per code, these limits
make guessing hopeless as well as visible.
"""

from flask import request
from flask_limiter.util import get_remote_address
from flask_login import current_user

REFERRAL_LIMIT_PER_IP = "20 per hour; 50 per day"
REFERRAL_LIMIT_PER_USER = "10 per hour; 20 per day"


def without_referral_code() -> bool:
    """True (exempt) when the booking does not try a referral code."""
    return not (request.form.get("referral_code") or "").strip()


def referral_user_key() -> str:
    """The account trying codes (the IP address for a request without a login)."""
    if current_user.is_authenticated:
        return f"referral-user:{current_user.id}"
    return f"referral-ip:{get_remote_address()}"
