"""Password reset by email: a single-use, expiring link whose token is stored only as a hash."""

import re
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from booking.db import write_transaction
from booking.extensions import db
from booking.mail.outbox import absolute_url, queue_email
from booking.models import PasswordResetToken, User, utcnow
from booking.models.token import hash_secret, new_secret
from booking.passwords import MIN_PASSWORD_LENGTH
from booking.services.accounts import users as accounts
from booking.services.errors import DomainError, Invalid, NotFound

# new_secret() gives 43 URL-safe characters; anything else cannot be one of ours.
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{20,100}$")

# At most one reset email per account in this many minutes.
RESET_EMAIL_INTERVAL_MINUTES = 10


class ResetLinkExpired(DomainError):
    """The link was real but has been used or has run out of time."""

    status = 400
    code = "reset_link_expired"


def reset_hours() -> int:
    """How long a reset link works (PASSWORD_RESET_HOURS)."""
    return int(current_app.config.get("PASSWORD_RESET_HOURS", 2))


def request_password_reset(email: str) -> None:
    """Email a reset link if an account has that address; otherwise do nothing.

    The caller answers the same either way, so nobody can learn who has an account.
    At most one link is emailed per account every RESET_EMAIL_INTERVAL_MINUTES: a
    request while a link sent within that time is still unused sends nothing, and
    that link keeps working. So asking again and again for someone else's account
    neither floods their inbox nor stops them getting a link.
    """
    user = accounts.find_user_by_email(email or "")
    if user is None or user.deleted_at is not None:
        return
    hours = reset_hours()
    with write_transaction():
        # The account's row lock makes two requests at the same moment take turns.
        db.session.scalar(sa.select(User.id).where(User.id == user.id).with_for_update())
        now = utcnow()
        recent = db.session.scalar(
            sa.select(PasswordResetToken.id).where(
                PasswordResetToken.user_id == user.id,
                PasswordResetToken.used_at.is_(None),
                PasswordResetToken.expires_at > now,
                PasswordResetToken.created_at
                > now - timedelta(minutes=RESET_EMAIL_INTERVAL_MINUTES),
            )
        )
        if recent is not None:
            return
        token = new_secret()
        db.session.add(
            PasswordResetToken(
                user_id=user.id,
                token_hash=hash_secret(token),
                created_at=now,
                expires_at=now + timedelta(hours=hours),
            )
        )
        queue_email(
            user.email,
            "password_reset",
            "Reset your Baby Massage Classes password",
            name=user.name,
            hours=hours,
            reset_url=absolute_url(f"/password/reset/{token}"),
        )


def _find(token: str, lock: bool = False) -> PasswordResetToken:
    if not token or not _TOKEN_SHAPE.match(token):
        raise NotFound("That reset link is not valid. Please ask for a new one.")
    query = sa.select(PasswordResetToken).where(PasswordResetToken.token_hash == hash_secret(token))
    if lock:
        query = query.with_for_update()
    row = db.session.scalars(query.execution_options(populate_existing=True)).first()
    if row is None:
        raise NotFound("That reset link is not valid. Please ask for a new one.")
    if row.used_at is not None:
        raise ResetLinkExpired("That reset link has already been used. Please ask for a new one.")
    if row.expires_at <= utcnow():
        raise ResetLinkExpired("That reset link has expired. Please ask for a new one.")
    user = db.session.get(User, row.user_id)
    if user is None or user.deleted_at is not None:
        raise NotFound("That reset link is not valid. Please ask for a new one.")
    return row


def check_reset_token(token: str) -> User:
    """The account a reset link belongs to; NotFound or ResetLinkExpired otherwise."""
    row = _find(token)
    return db.session.get(User, row.user_id)


def reset_password(token: str, password: str) -> User:
    """Set a new password with a reset link, once.

    The token row is locked and re-checked, marked used (with every other open link
    of the account), and the password is set through accounts.set_password, which
    ends the account's other sessions - all in one transaction.
    """
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise Invalid(
            f"Use at least {MIN_PASSWORD_LENGTH} characters.",
            {"password": "too_short"},
        )
    with write_transaction():
        row = _find(token, lock=True)
        others = db.session.scalars(
            sa.select(PasswordResetToken).where(
                PasswordResetToken.user_id == row.user_id,
                PasswordResetToken.used_at.is_(None),
                PasswordResetToken.id != row.id,
            )
        ).all()
        now = utcnow()
        for used in (row, *others):
            used.used_at = now
        # The session now holds changes, so set_password joins this transaction
        # (begin_write leaves it open) instead of starting its own.
        user = accounts.set_password(row.user_id, password)
    return user


def purge_reset_tokens() -> int:
    """Delete used and expired reset tokens (for purge jobs); returns how many."""
    with write_transaction():
        result = db.session.execute(
            sa.delete(PasswordResetToken).where(
                sa.or_(
                    PasswordResetToken.used_at.is_not(None),
                    PasswordResetToken.expires_at <= utcnow(),
                )
            )
        )
    return result.rowcount
