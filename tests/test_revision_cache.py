"""Rendered feeds kept by their ETag (booking.revision_cache): rendered once per change
of the data, whoever asks, never served after the data changed."""

import pytest

from booking.calendar import feeds
from booking.revision_cache import RevisionCache, feed_cache
from tests.test_feeds import _move_session, _private_token


@pytest.fixture
def renders(monkeypatch):
    """How many times a feed is really rendered."""
    calls = []
    real = feeds.render_feed

    def counted(source):
        calls.append(source.kind)
        return real(source)

    monkeypatch.setattr(feeds, "render_feed", counted)
    return calls


def test_a_feed_is_rendered_once_per_change_whoever_asks(
    app, client, make_centre, make_workshop, renders
):
    centre = make_centre(slug="hub")
    workshop = make_workshop(centre=centre, sessions=3)
    first = client.get("/feeds/centres/hub.ics")
    again = client.get("/feeds/centres/hub.ics")
    elsewhere = app.test_client().get("/feeds/centres/hub.ics")
    assert first.data == again.data == elsewhere.data
    assert renders == ["centre"]
    _move_session(app, workshop.id, 2, hours=1)
    moved = client.get("/feeds/centres/hub.ics")
    assert moved.headers["ETag"] != first.headers["ETag"] and moved.data != first.data
    assert renders == ["centre", "centre"]
    # A 304 renders nothing at all.
    assert client.get("/feeds/centres/hub.ics",
                      headers={"If-None-Match": moved.headers["ETag"]}).status_code == 304
    assert renders == ["centre", "centre"]


def test_private_feeds_are_kept_apart(app, client, auth, make_user, make_workshop, renders):
    make_user("one@example.org")
    make_user("two@example.org")
    one = _private_token(client, auth, "one@example.org")
    client.post("/logout")
    two = _private_token(client, auth, "two@example.org")
    a = app.test_client().get(f"/feeds/private/{one}.ics")
    b = app.test_client().get(f"/feeds/private/{two}.ics")
    assert a.headers["ETag"] != b.headers["ETag"]
    assert renders == ["private", "private"]
    assert app.test_client().get(f"/feeds/private/{one}.ics").data == a.data
    assert renders == ["private", "private"]
    with app.app_context():
        assert feed_cache().hits == 1


def test_each_app_has_its_own_cache(app, make_centre, make_workshop):
    from booking import create_app

    other = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": app.config[
        "SQLALCHEMY_DATABASE_URI"]})
    with app.app_context():
        mine = feed_cache()
    with other.app_context():
        assert feed_cache() is not mine


def test_the_cache_is_bounded_and_forgets_the_least_recently_used():
    cache = RevisionCache(max_bytes=100)
    cache.get_or_render("a", lambda: "x" * 20)
    cache.get_or_render("b", lambda: "y" * 20)
    cache.get_or_render("a", lambda: "not rendered")  # a is now the most recent
    cache.get_or_render("c", lambda: "z" * 20)
    cache.get_or_render("d", lambda: "w" * 20)
    cache.get_or_render("e", lambda: "v" * 20)  # 100 chars: still fits
    cache.get_or_render("f", lambda: "u" * 20)  # over: b goes first, not a
    assert cache.size <= 100
    assert cache.get_or_render("a", lambda: "again") == "x" * 20
    assert cache.get_or_render("b", lambda: "rendered again") == "rendered again"
    # Text read while the data changed is served but not kept under the older key.
    assert cache.get_or_render("g", lambda: "read mid-change", still_current=lambda: False) == (
        "read mid-change"
    )
    assert cache.get_or_render("g", lambda: "current") == "current"
    # Text over a quarter of the budget is served but not kept.
    big = "q" * 30
    assert cache.get_or_render("big", lambda: big) == big
    assert cache.get_or_render("big", lambda: "fresh") == "fresh"
