"""Private feed tokens, through the service directly."""

import pytest

from booking.extensions import db
from booking.models import User
from booking.models.base import utcnow
from booking.models.token import hash_secret
from booking.services.accounts import feed_tokens
from booking.services.errors import NotFound


def test_issue_stores_only_the_hash(ctx, make_user):
    """A token is long and random, and only its SHA-256 hash is stored."""
    user = make_user()
    assert not feed_tokens.has_feed_token(user.id)
    token = feed_tokens.issue_feed_token(user.id)
    assert len(token) >= 43  # 256 bits in URL-safe base64
    stored = db.session.get(User, user.id).feed_token_hash
    assert stored == hash_secret(token) and token not in stored
    assert feed_tokens.has_feed_token(user.id)
    assert feed_tokens.user_for_feed_token(token).id == user.id


def test_reissue_and_revoke_stop_the_old_token(ctx, make_user):
    """A new token replaces the old one; revoking leaves none."""
    user = make_user()
    old = feed_tokens.issue_feed_token(user.id)
    new = feed_tokens.issue_feed_token(user.id)
    assert old != new
    assert feed_tokens.user_for_feed_token(old) is None
    assert feed_tokens.user_for_feed_token(new).id == user.id
    feed_tokens.revoke_feed_token(user.id)
    assert feed_tokens.user_for_feed_token(new) is None
    assert not feed_tokens.has_feed_token(user.id)


@pytest.mark.parametrize("token", ["", "short", "x" * 200, "bad/chars" * 5, "é" * 43, None])
def test_malformed_tokens_find_nobody(ctx, make_user, token):
    """Tokens of the wrong shape are refused before any lookup."""
    user = make_user()
    feed_tokens.issue_feed_token(user.id)
    assert feed_tokens.user_for_feed_token(token) is None


def test_deleted_accounts_have_no_feed(ctx, make_user):
    """A deleted account's link stops working, and unknown users cannot get one."""
    user = make_user()
    token = feed_tokens.issue_feed_token(user.id)
    db.session.get(User, user.id).deleted_at = utcnow()
    db.session.commit()
    assert feed_tokens.user_for_feed_token(token) is None
    with pytest.raises(NotFound):
        feed_tokens.issue_feed_token(user.id)
    with pytest.raises(NotFound):
        feed_tokens.issue_feed_token(987654)
