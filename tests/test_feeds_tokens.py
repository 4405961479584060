"""Private feed tokens, through the service directly: derived from the server key and
a link version, stored only as a hash, shown again on demand, stopped by a new version."""

import re

import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import User
from booking.models.base import utcnow
from booking.models.token import hash_secret, new_secret
from booking.services.accounts import feed_tokens
from booking.services.errors import NotFound


def test_issue_stores_only_the_hash(ctx, make_user):
    """A token is 256 bits in URL-safe base64, and only its SHA-256 hash is stored."""
    user = make_user()
    assert not feed_tokens.has_feed_token(user.id)
    token = feed_tokens.issue_feed_token(user.id)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)
    stored = db.session.get(User, user.id)
    assert stored.feed_token_hash == hash_secret(token) and token not in stored.feed_token_hash
    assert stored.feed_link_version == 1
    assert token == feed_tokens.derive_feed_token(user.id, 1)
    assert feed_tokens.has_feed_token(user.id)
    assert feed_tokens.user_for_feed_token(token).id == user.id


def test_the_link_can_be_shown_again_and_again(ctx, make_user):
    """The same link comes back on every ask; another account's is different."""
    user, other = make_user(), make_user()
    assert feed_tokens.feed_link(user.id) == feed_tokens.FeedLink(token=None, exists=False)
    token = feed_tokens.issue_feed_token(user.id)
    assert feed_tokens.feed_link(user.id).token == token
    assert feed_tokens.feed_link(user.id).token == token
    assert not feed_tokens.feed_link(user.id).hidden
    assert feed_tokens.issue_feed_token(other.id) != token
    assert feed_tokens.feed_link(987654).exists is False


def test_the_database_alone_cannot_make_the_link(app, ctx, make_user):
    """No column of any table holds the token, and the same rows under another
    SECRET_KEY derive a different one, which opens nothing."""
    user = make_user()
    token = feed_tokens.issue_feed_token(user.id)
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            for row in conn.execute(sa.select(table)):
                assert not any(token in str(value) for value in row), table.name
    secret = app.secret_key
    try:
        app.secret_key = "a-different-server-key-of-some-length"
        guessed = feed_tokens.derive_feed_token(user.id, 1)
        assert guessed != token
        assert feed_tokens.feed_link(user.id).hidden  # shown as "make a link"
        # A new SECRET_KEY (after a leak, say) stops the links derived under the old one.
        assert feed_tokens.user_for_feed_token(token) is None
    finally:
        app.secret_key = secret
    assert feed_tokens.user_for_feed_token(guessed) is None
    assert feed_tokens.user_for_feed_token(token).id == user.id


def test_a_random_token_from_before_keeps_working_but_is_not_shown(ctx, make_user):
    """A link made before links were derived still opens the feed; the page cannot show
    it (`hidden`), and making a new link stops it."""
    user = make_user()
    legacy = new_secret()
    db.session.get(User, user.id).feed_token_hash = hash_secret(legacy)
    db.session.commit()
    link = feed_tokens.feed_link(user.id)
    assert link.exists and link.hidden and link.token is None
    assert feed_tokens.user_for_feed_token(legacy).id == user.id
    token = feed_tokens.issue_feed_token(user.id)
    assert feed_tokens.user_for_feed_token(legacy) is None
    assert feed_tokens.feed_link(user.id).token == token


def test_reissue_and_revoke_stop_the_old_token(ctx, make_user):
    """A new token replaces the old one; revoking leaves none and moves the version on,
    so the next link is new too and no earlier one comes back."""
    user = make_user()
    old = feed_tokens.issue_feed_token(user.id)
    new = feed_tokens.issue_feed_token(user.id)
    assert old != new
    assert feed_tokens.user_for_feed_token(old) is None
    assert feed_tokens.user_for_feed_token(new).id == user.id
    feed_tokens.revoke_feed_token(user.id)
    assert feed_tokens.user_for_feed_token(new) is None
    assert not feed_tokens.has_feed_token(user.id)
    stored = db.session.get(User, user.id)
    assert stored.feed_token_hash is None and stored.feed_link_version == 3
    again = feed_tokens.issue_feed_token(user.id)
    assert again not in (old, new)
    assert feed_tokens.user_for_feed_token(again).id == user.id
    assert feed_tokens.user_for_feed_token(new) is None


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
