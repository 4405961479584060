"""The page cache: anonymous public pages kept for a few seconds, never anyone's own."""

import pytest
import sqlalchemy as sa

from booking import create_app, page_cache
from booking.extensions import db
from booking.models import Workshop


@pytest.fixture
def cached_app(app, database_url, tmp_path):
    """A second app on the same (emptied) database, with the page cache on."""
    cached = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "MAIL_SERVER": None,
            "MAIL_DIR": str(tmp_path / "mail-cached"),
            "BASE_URL": "https://classes.example.org",
            "PAGE_CACHE_SECONDS": 5,
        }
    )
    yield cached
    with cached.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def clock(monkeypatch):
    """The cache's clock, moved by hand."""
    now = {"t": 1000.0}
    monkeypatch.setattr(page_cache.time, "monotonic", lambda: now["t"])
    return now


def rename(app, workshop_id: int, title: str) -> None:
    with app.app_context():
        db.session.execute(
            sa.update(Workshop).where(Workshop.id == workshop_id).values(title=title)
        )
        db.session.commit()


def test_anonymous_class_page_is_kept_for_a_few_seconds(cached_app, make_workshop, clock):
    workshop = make_workshop(title="Calm baby")
    client = cached_app.test_client(use_cookies=False)
    url = f"/classes/{workshop.id}"
    first = client.get(url)
    assert first.status_code == 200 and "Calm baby" in first.get_data(as_text=True)
    assert first.headers["Cache-Control"] == "public, max-age=5"
    assert "Cookie" in first.headers["Vary"]
    assert "Set-Cookie" not in first.headers
    rename(cached_app, workshop.id, "Sleepy baby")
    clock["t"] += 4
    assert "Calm baby" in client.get(url).get_data(as_text=True)
    clock["t"] += 2  # expired: the next request renders the page again
    assert "Sleepy baby" in client.get(url).get_data(as_text=True)


def test_a_cookie_or_token_bypasses_the_cache(cached_app, make_workshop, clock):
    workshop = make_workshop(title="Calm baby")
    client = cached_app.test_client(use_cookies=False)
    url = f"/classes/{workshop.id}"
    client.get(url)
    rename(cached_app, workshop.id, "Sleepy baby")
    with_session = client.get(url, headers={"Cookie": "session=anything"})
    assert "Sleepy baby" in with_session.get_data(as_text=True)
    assert with_session.headers.get("Cache-Control") != "public, max-age=5"
    api = client.get(f"/api/v1/workshops/{workshop.id}", headers={"Authorization": "Bearer x"})
    assert api.status_code in (200, 401)
    assert "Calm baby" in client.get(url).get_data(as_text=True)  # still the kept copy


def test_a_logged_in_parent_always_gets_a_fresh_page_with_the_form(
    cached_app, make_workshop, make_user, clock
):
    workshop = make_workshop(title="Calm baby")
    make_user(email="mum@example.org")
    anonymous = cached_app.test_client(use_cookies=False)
    url = f"/classes/{workshop.id}"
    assert "Log in to book" in anonymous.get(url).get_data(as_text=True)
    parent = cached_app.test_client()
    from tests.conftest import PASSWORD

    parent.post("/login", data={"email": "mum@example.org", "password": PASSWORD})
    page = parent.get(url)
    html = page.get_data(as_text=True)
    assert 'name="baby_id"' in html and "Log in to book" not in html
    assert "public" not in page.headers.get("Cache-Control", "")


def test_if_none_match_gets_304_from_the_cache_and_from_the_app(
    app, cached_app, make_workshop, clock
):
    workshop = make_workshop()
    for application in (app, cached_app):
        client = application.test_client(use_cookies=False)
        for url in (f"/classes/{workshop.id}", "/classes", "/api/v1/workshops",
                    f"/feeds/centres/{workshop_centre_slug(application, workshop)}.ics"):
            first = client.get(url)
            etag = first.headers["ETag"]
            again = client.get(url, headers={"If-None-Match": etag})
            assert again.status_code == 304, url
            assert again.get_data() == b""
            assert again.headers["ETag"] == etag
            other = client.get(url, headers={"If-None-Match": '"something-else"'})
            assert other.status_code == 200 and other.get_data() == first.get_data()


def test_a_304_from_the_app_keeps_the_copy_for_another_interval(
    cached_app, make_workshop, clock
):
    """Calendar apps only ever revalidate: when the copy has expired and the app
    answers such a request with 304 for the same ETag, the copy is current again
    instead of every later request going to the app."""
    workshop = make_workshop(title="Calm baby")
    client = cached_app.test_client(use_cookies=False)
    for url in (f"/feeds/centres/{workshop_centre_slug(cached_app, workshop)}.ics",
                f"/classes/{workshop.id}"):
        cached_app.extensions["page_cache"].clear()
        first = client.get(url)
        etag = first.headers["ETag"]
        clock["t"] += 6  # expired, within the grace period
        again = client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304, url
        rename(cached_app, workshop.id, f"Renamed at {clock['t']}")
        clock["t"] += 4
        kept = client.get(url)  # within the renewed interval: the copy, not the app
        assert kept.headers["ETag"] == etag and kept.get_data() == first.get_data(), url
        clock["t"] += 2
        fresh = client.get(url)
        assert fresh.headers["ETag"] != etag and b"Renamed at" in fresh.get_data(), url


def workshop_centre_slug(app, workshop) -> str:
    with app.app_context():
        return db.session.scalar(
            sa.text("SELECT slug FROM centre WHERE id = :c"), {"c": workshop.centre_id}
        )


def test_errors_posts_and_private_pages_are_not_kept(cached_app, make_workshop, clock):
    client = cached_app.test_client(use_cookies=False)
    cache = cached_app.extensions["page_cache"]
    cache.clear()
    assert client.get("/classes/999999").status_code == 404
    assert client.get("/classes?age_weeks=banana").status_code == 400
    assert client.get("/account/bookings").status_code == 302
    assert client.post("/classes/1/book", data={}).status_code in (302, 404)
    assert len(cache) == 0
    make_workshop()
    client.get("/classes")
    assert len(cache) == 1


def test_the_cache_keeps_at_most_max_bytes_of_pages(
    cached_app, make_workshop, clock, monkeypatch
):
    """Many addresses (a crawler walking the filters) push the least recently used
    pages out once their bodies weigh more than MAX_BYTES."""
    make_workshop()
    client = cached_app.test_client(use_cookies=False)
    cache = cached_app.extensions["page_cache"]
    cache.clear()
    size = len(client.get("/classes?page=1").data)
    monkeypatch.setattr(page_cache, "MAX_BYTES", 3 * size + size // 2)
    for page in range(2, 8):
        assert client.get(f"/classes?page={page}").status_code == 200
        assert cache.size <= page_cache.MAX_BYTES
    assert len(cache) == 3
    assert cache.size == sum(len(e.body) for e in cache._entries.values())
    # The newest are kept: page 7 again is a copy (the app is not asked).
    app_itself, cache.wsgi_app = cache.wsgi_app, None
    assert client.get("/classes?page=7").status_code == 200
    cache.wsgi_app = app_itself
    clock["t"] += 60  # all expired: dropped as they are looked up, then kept afresh
    for page in (5, 6, 7):
        client.get(f"/classes?page={page}")
    assert cache.size == sum(len(e.body) for e in cache._entries.values())
    cache.clear()
    assert cache.size == 0 and len(cache) == 0


def test_the_cache_is_off_in_tests_unless_asked(app, client, make_workshop):
    workshop = make_workshop(title="Calm baby")
    url = f"/classes/{workshop.id}"
    assert app.config["PAGE_CACHE_SECONDS"] == 0
    client.get(url)
    rename(app, workshop.id, "Sleepy baby")
    assert "Sleepy baby" in client.get(url).get_data(as_text=True)


def test_bad_setting_is_refused(monkeypatch):
    monkeypatch.setenv("PAGE_CACHE_SECONDS", "soon")
    with pytest.raises(RuntimeError, match="PAGE_CACHE_SECONDS"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
