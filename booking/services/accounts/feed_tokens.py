"""Private calendar-feed tokens: 256 bits of randomness, kept only as a SHA-256 hash.

The raw token exists only in the link handed to the person when it is made; it
cannot be recovered afterwards, so losing the link means making a new one, and
making a new one stops the old link at once.
"""

import re

import sqlalchemy as sa

from booking.db import write_transaction
from booking.extensions import db
from booking.models import User
from booking.models.token import hash_secret, new_secret
from booking.services.errors import NotFound

# new_secret() gives 43 URL-safe base64 characters; allow a little room either way.
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{32,64}")


def issue_feed_token(user_id: int) -> str:
    """Make a new private feed token for the user and return it (shown once).

    Any earlier token stops working in the same transaction.
    """
    token = new_secret()
    with write_transaction():
        user = db.session.get(User, user_id)
        if user is None or user.deleted_at is not None:
            raise NotFound("That account does not exist.")
        user.feed_token_hash = hash_secret(token)
    return token


def revoke_feed_token(user_id: int) -> None:
    """Stop the user's private feed link without making a new one."""
    with write_transaction():
        user = db.session.get(User, user_id)
        if user is None:
            raise NotFound("That account does not exist.")
        user.feed_token_hash = None


def has_feed_token(user_id: int) -> bool:
    """Whether the user has a working private feed link."""
    return (
        db.session.scalar(
            sa.select(User.feed_token_hash).where(User.id == user_id)
        )
        is not None
    )


def user_for_feed_token(token: str) -> User | None:
    """The active user whose private feed this token opens, or None."""
    if not token or not _TOKEN_SHAPE.fullmatch(token):
        return None
    return db.session.scalar(
        sa.select(User).where(
            User.feed_token_hash == hash_secret(token), User.deleted_at.is_(None)
        )
    )
