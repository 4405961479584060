"""Rate limits on logging in, shaped so that nobody can lock a parent out of their account.

Three counts, kept in the rate-limit storage that every worker shares:

1. Per address: every login attempt from one address, whatever the account
   (LOGIN_LIMIT_PER_ADDRESS). Stops one address trying many accounts.
2. Per account and address: failed logins for one account from one address
   (LOGIN_FAILURES_PER_PAIR). Stops one address guessing one password; failures from
   other addresses never use up the owner's allowance at their own address.
3. Per account: failed logins for one account from every address
   (LOGIN_FAILURES_PER_ACCOUNT), generous. Once an account is over it, an address that
   has itself failed for that account within the hour is refused before the password
   is checked, so guessing spread over many addresses slows to one try per address per
   hour. An address that has not been failing is still let through to have its
   password checked.

Why not simply lock the account after N failures: anyone could then lock any parent
out by typing wrong passwords at their email. Here a correct password is never answered
429 because of other people's failures; the only way to be refused with the right
password is to share an address that has itself been failing for this account (or to
have failed too often oneself), and then the refusal points to /password/forgot, which
is not limited per account and always leaves the owner a working reset link.
"""

import logging

from flask import g
from flask_limiter.util import get_remote_address
from limits import parse_many

from booking.extensions import limiter
from booking.security import form_email_address_key, form_email_key, is_unauthorized

log = logging.getLogger(__name__)

LOGIN_LIMIT_PER_ADDRESS = "20 per minute; 100 per hour"
LOGIN_FAILURES_PER_PAIR = "10 per minute; 50 per hour"
LOGIN_FAILURES_PER_ACCOUNT = "100 per hour"
PAIR_SCOPE = "login-failures-pair"
ACCOUNT_SCOPE = "login-failures-account"

TOO_MANY_FROM_HERE = (
    "Too many failed attempts to log in to this account from here. Wait a while and try "
    "again, or choose a new password with a link by email: use \u201cForgotten your "
    "password?\u201d on the login page."
)


def _identifiers(key: str, scope: str) -> list[str]:
    """The identifiers Flask-Limiter counts a shared limit under, for reading them here."""
    prefix = getattr(limiter, "_key_prefix", None)
    return [prefix, key, scope] if prefix else [key, scope]


def address_has_not_failed() -> bool:
    """True (exempt from the per-account limit) when this address has not failed for
    the account in the last hour, read from the per-pair count."""
    item = parse_many(LOGIN_FAILURES_PER_PAIR)[-1]
    identifiers = _identifiers(form_email_address_key(), PAIR_SCOPE)
    try:
        stats = limiter.limiter.get_window_stats(item, *identifiers)
    except Exception:  # storage trouble: apply the account limit (it falls back to memory)
        return False
    return stats.remaining >= item.amount


def counts_as_failed_login(response) -> bool:
    """True for a refused password, which the per-pair limit then counts.

    It is also added here to the account's own count, from every address: the
    per-account limit only reads that count (it is skipped for addresses that have not
    been failing, and a skipped limit counts nothing).
    """
    if not is_unauthorized(response):
        return False
    if g.get("login_failure_counted"):  # asked once for each of the pair's windows
        return True
    g.login_failure_counted = True
    identifiers = _identifiers(form_email_key(), ACCOUNT_SCOPE)
    for item in parse_many(LOGIN_FAILURES_PER_ACCOUNT):
        try:
            limiter.limiter.hit(item, *identifiers)
        except Exception:
            log.warning("could not count a failed login for the account", exc_info=True)
    return True


def _never(response) -> bool:
    return False


def limit_login(view):
    """Apply the three login limits (see the module's docstring) to a view's POSTs."""
    view = limiter.shared_limit(
        LOGIN_FAILURES_PER_ACCOUNT,
        scope=ACCOUNT_SCOPE,
        key_func=form_email_key,
        methods=["POST"],
        deduct_when=_never,  # counted by counts_as_failed_login, from every address
        exempt_when=address_has_not_failed,
        error_message=TOO_MANY_FROM_HERE,
    )(view)
    view = limiter.shared_limit(
        LOGIN_FAILURES_PER_PAIR,
        scope=PAIR_SCOPE,
        key_func=form_email_address_key,
        methods=["POST"],
        deduct_when=counts_as_failed_login,
        error_message=TOO_MANY_FROM_HERE,
    )(view)
    return limiter.limit(LOGIN_LIMIT_PER_ADDRESS, key_func=get_remote_address, methods=["POST"])(
        view
    )
