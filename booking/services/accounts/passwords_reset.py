"""Password reset by email: a single-use, expiring link whose token is stored only as a hash."""

import re
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from booking.db import write_transaction
from booking.extensions import db
from booking.mail.deferred import Rendered, renderer, write_note
from booking.mail.outbox import absolute_url, fill_email
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


RESET_NOTE = "password_reset"


def request_password_reset(email: str) -> None:
    """Note a request for a reset link to `email`, whatever it is: one INSERT, the same
    work whether or not an account has that address, so neither the answer nor the time
    it takes tells anyone. The link is made and emailed by the sender once this has
    committed (`_render_reset`), or the note dropped when no account has the address.

    The caller answers the same either way, so nobody can learn who has an account.
    At most one link is emailed per account every RESET_EMAIL_INTERVAL_MINUTES: a
    request while a link sent within that time is still unused sends nothing, and
    that link keeps working. So asking again and again for someone else's account
    neither floods their inbox nor stops them getting a link.
    """
    address = accounts.normalise_email(email or "")
    if not accounts.is_text(address) or "@" not in address:
        return  # no account can have it (the form refuses it before)
    with write_transaction():
        # The link's secret is chosen now and kept with the note, so that a note
        # rendered twice at once (two senders) makes one link, whichever stores it.
        write_note(address, RESET_NOTE, 0, {"email": address, "token": new_secret()})


@renderer(RESET_NOTE)
def _render_reset(_ref_id: int, params: dict) -> Rendered | None:
    """The reset email of a request, with its link made now: None (the note is dropped)
    when no account has the address, or a link sent within the interval is unused."""
    user = accounts.find_user_by_email(params.get("email") or "")
    token = params.get("token") or ""
    if user is None or user.deleted_at is not None or not _TOKEN_SHAPE.match(token):
        return None
    hours = reset_hours()
    with write_transaction():
        # The account's row lock makes two requests at the same moment take turns.
        db.session.scalar(sa.select(User.id).where(User.id == user.id).with_for_update())
        now = utcnow()
        ours = hash_secret(token)
        recent = db.session.scalar(
            sa.select(PasswordResetToken.token_hash).where(
                PasswordResetToken.user_id == user.id,
                PasswordResetToken.used_at.is_(None),
                PasswordResetToken.expires_at > now,
                sa.or_(
                    PasswordResetToken.token_hash == ours,
                    PasswordResetToken.created_at
                    > now - timedelta(minutes=RESET_EMAIL_INTERVAL_MINUTES),
                ),
            ).order_by((PasswordResetToken.token_hash == ours).desc())
        )
        if recent is not None and recent != ours:
            return None
        if recent is None:
            db.session.add(
                PasswordResetToken(
                    user_id=user.id,
                    token_hash=ours,
                    created_at=now,
                    expires_at=now + timedelta(hours=hours),
                )
            )
    return fill_email(
        Rendered(),
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
