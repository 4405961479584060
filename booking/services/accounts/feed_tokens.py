"""Private calendar-feed links: derived from a server key, kept only as a SHA-256 hash.

A person's link token is HMAC-SHA256(feed key, "feed-link:<user id>:<link version>")
in URL-safe base64 (43 characters, 256 bits), the feed key itself an HMAC of the
app's SECRET_KEY. The database keeps only the token's hash (`feed_token_hash`, one
indexed lookup per feed request) and the version; so the link can be shown again
whenever its owner asks, yet nobody holding a copy of the database alone can make
it. Making a new link or stopping it bumps the version, and the old link stops at
once. A hash that matches no derived token is of a random token made before links
were derived: it keeps working, but it cannot be shown, so its owner is offered a
new link instead. Changing SECRET_KEY stops every derived link in the same way.
"""

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from functools import cache

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import lazyload

from booking.db import write_transaction
from booking.extensions import db
from booking.models import User
from booking.models.token import hash_secret
from booking.services.errors import NotFound

# A derived token has 43 URL-safe base64 characters; older random ones had as many.
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{32,64}")
_KEY_PURPOSE = b"private-feed-links"


@dataclass(frozen=True)
class FeedLink:
    """What the calendar page can show: the link's token when there is a working link
    it can derive, and whether any working link exists at all."""

    token: str | None
    exists: bool

    @property
    def hidden(self) -> bool:
        """A working link made before links were derived: it cannot be shown again."""
        return self.exists and self.token is None


def _feed_key() -> bytes:
    secret = current_app.secret_key
    secret = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
    return hmac.new(secret, _KEY_PURPOSE, hashlib.sha256).digest()


def derive_feed_token(user_id: int, version: int) -> str:
    """The feed token of this account at this link version (43 URL-safe characters)."""
    message = f"feed-link:{user_id}:{version}".encode()
    digest = hmac.new(_feed_key(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _live_user(user_id: int) -> User:
    """The account, its row locked for the change; NotFound for none or a deleted one."""
    user = db.session.get(User, user_id, with_for_update=True, populate_existing=True)
    if user is None or user.deleted_at is not None:
        raise NotFound("That account does not exist.")
    return user


def issue_feed_token(user_id: int) -> str:
    """Make a new private feed link for the user and return its token.

    The link version goes up, so any earlier link stops working in the same
    transaction; the new token can be derived again on every later visit.
    """
    with write_transaction():
        user = _live_user(user_id)
        user.feed_link_version += 1
        token = derive_feed_token(user.id, user.feed_link_version)
        user.feed_token_hash = hash_secret(token)
    return token


def revoke_feed_token(user_id: int) -> None:
    """Stop the user's private feed link without making a new one."""
    with write_transaction():
        user = db.session.get(User, user_id)
        if user is None:
            raise NotFound("That account does not exist.")
        user.feed_token_hash = None
        user.feed_link_version += 1


def feed_link(user_id: int) -> FeedLink:
    """The user's current private feed link, derived again (one query)."""
    row = db.session.execute(
        sa.select(User.feed_token_hash, User.feed_link_version).where(User.id == user_id)
    ).first()
    if row is None or row.feed_token_hash is None:
        return FeedLink(token=None, exists=False)
    token = derive_feed_token(user_id, row.feed_link_version)
    same = hmac.compare_digest(hash_secret(token), row.feed_token_hash)
    return FeedLink(token=token if same else None, exists=True)


def has_feed_token(user_id: int) -> bool:
    """Whether the user has a working private feed link."""
    return feed_link(user_id).exists


@cache
def _token_user_statement():
    """The active user with a token's hash: built once (every calendar app's refresh
    asks), the hash a parameter."""
    return (
        sa.select(User)
        .where(User.feed_token_hash == sa.bindparam("token_hash"), User.deleted_at.is_(None))
        .options(lazyload(User.memberships))  # a feed reads its own rows, not the roles
    )


def user_for_feed_token(token: str) -> User | None:
    """The active user whose private feed this token opens, or None."""
    if not token or not _TOKEN_SHAPE.fullmatch(token):
        return None
    user = db.session.scalar(_token_user_statement(), {"token_hash": hash_secret(token)})
    if user is None:
        return None
    # Version 0: a random token from before links were derived, found by its hash alone.
    # Otherwise the token must still derive from the current key, so that changing
    # SECRET_KEY (after a leak, say) really stops every link.
    if user.feed_link_version and not hmac.compare_digest(
        derive_feed_token(user.id, user.feed_link_version), token
    ):
        return None
    return user
