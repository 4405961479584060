"""Trust: rate limits on password reset and token guessing, and referrer policies on
pages that carry secrets (without breaking CSRF checks over HTTPS)."""

import re
from datetime import timedelta

import pytest

from booking import create_app
from booking.extensions import db, limiter
from booking.models import PasswordResetToken, utcnow
from booking.models.token import hash_secret, new_secret
from tests.conftest import PASSWORD

HTTPS = "https://localhost"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture
def limited_client(app):
    """A client of an app made with its rate limits on (as in production), on the test
    database, starting from empty counters. Flask-Limiter installs its after-request hook
    (which counts failed attempts) only in apps created with limits enabled."""
    config = {
        key: app.config[key]
        for key in ("TESTING", "SQLALCHEMY_DATABASE_URI", "WTF_CSRF_ENABLED", "MAIL_SERVER",
                    "MAIL_DIR", "BASE_URL")
    }
    limited = create_app({**config, "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"})
    limiter.reset()
    yield limited.test_client()
    limiter.reset()
    limiter.enabled = False
    with limited.app_context():
        db.session.remove()
        db.engine.dispose()


def _reset_link(app, user) -> str:
    token = new_secret()
    with app.app_context():
        db.session.add(
            PasswordResetToken(
                user_id=user.id,
                token_hash=hash_secret(token),
                expires_at=utcnow() + timedelta(hours=2),
            )
        )
        db.session.commit()
    return f"/password/reset/{token}"


def test_forgot_password_is_limited_per_account(limited_client, make_user):
    make_user(email="p@example.org")
    statuses = [
        limited_client.post("/password/forgot", data={"email": "p@example.org"}).status_code
        for _ in range(6)
    ]
    assert statuses == [302] * 5 + [429]
    # The answer for an unknown address is the same, and is limited the same way.
    statuses = [
        limited_client.post("/password/forgot", data={"email": "nobody@example.org"}).status_code
        for _ in range(3)
    ]
    assert statuses == [302] * 3


def test_forgot_password_is_limited_per_address(limited_client):
    statuses = [
        limited_client.post(
            "/password/forgot", data={"email": f"person{i}@example.org"}
        ).status_code
        for i in range(11)
    ]
    assert statuses == [302] * 10 + [429]
    page = limited_client.post("/password/forgot", data={"email": "late@example.org"})
    assert b"Too many attempts" in page.data


def test_reset_password_is_limited_per_account(app, limited_client, make_user):
    user = make_user(email="p@example.org")
    first, second = _reset_link(app, user), _reset_link(app, user)
    bad = {"password": "short", "password_confirm": "short"}
    statuses = [limited_client.post(first, data=bad).status_code for _ in range(6)]
    statuses += [limited_client.post(second, data=bad).status_code for _ in range(5)]
    # Both links belong to one account: ten tries in all, then no more.
    assert statuses == [422] * 10 + [429]
    good = {"password": "a-new-long-password", "password_confirm": "a-new-long-password"}
    assert limited_client.post(second, data=good).status_code == 429


def test_guessing_reset_links_is_limited_per_address(limited_client):
    statuses = [
        limited_client.get(f"/password/reset/{new_secret()}").status_code for _ in range(31)
    ]
    assert statuses == [404] * 30 + [429]


def test_a_real_reset_link_is_not_counted_as_a_guess(app, limited_client, make_user):
    link = _reset_link(app, make_user(email="p@example.org"))
    assert all(limited_client.get(link).status_code == 200 for _ in range(35))


def test_guessing_api_tokens_is_limited_per_address(limited_client, make_centre):
    make_centre(slug="bristol")
    headers = {"Authorization": "Bearer " + "x" * 43}
    statuses = [
        limited_client.get("/api/v1/workshops/1/registrations", headers=headers).status_code
        for _ in range(31)
    ]
    assert statuses == [401] * 30 + [429]
    limited = limited_client.get("/api/v1/workshops/1/registrations", headers=headers)
    assert limited.status_code == 429
    assert limited.get_json()["error"]["code"] == "rate_limited"


def test_public_api_reads_do_not_count_as_guesses(limited_client, make_centre):
    make_centre(slug="bristol")
    assert all(limited_client.get("/api/v1/centres").status_code == 200 for _ in range(35))


@pytest.mark.parametrize(
    "path, policy",
    [
        ("/feeds/private/not-a-real-token.ics", "no-referrer"),
        ("/account/calendar", "same-origin"),
        ("/manage/api-tokens", "same-origin"),
        ("/password/reset/not-a-real-token", "same-origin"),
        ("/classes", "strict-origin-when-cross-origin"),
    ],
)
def test_pages_with_secrets_send_no_referrer_to_other_sites(
    client, auth, make_user, make_centre, path, policy
):
    make_user(email="staff@example.org", role="staff", centre=make_centre())
    auth.login("staff@example.org")
    response = client.get(path)
    assert response.headers["Referrer-Policy"] == policy


def test_private_feed_sends_no_referrer(client, auth, make_user):
    make_user(email="p@example.org")
    auth.login("p@example.org")
    client.post("/account/calendar")
    page = client.get("/account/calendar").get_data(as_text=True)
    token = re.search(r"/feeds/private/([A-Za-z0-9_-]+)\.ics", page).group(1)
    response = client.get(f"/feeds/private/{token}.ics")
    assert response.status_code == 200
    assert response.headers["Referrer-Policy"] == "no-referrer"


def _https_login(client, email):
    page = client.get("/login", base_url=HTTPS)
    token = CSRF_RE.search(page.get_data(as_text=True)).group(1)
    response = client.post(
        "/login",
        base_url=HTTPS,
        data={"email": email, "password": PASSWORD, "csrf_token": token},
        headers={"Referer": f"{HTTPS}/login"},
    )
    assert response.status_code == 302


def test_calendar_form_passes_csrf_over_https(app, make_user):
    """Over HTTPS Flask-WTF wants a same-site Referer: the page's policy must let the
    browser send it with our own form posts (it would not under no-referrer)."""
    app.config["WTF_CSRF_ENABLED"] = True
    make_user(email="p@example.org")
    client = app.test_client()
    _https_login(client, "p@example.org")
    page = client.get("/account/calendar", base_url=HTTPS)
    assert page.headers["Referrer-Policy"] == "same-origin"
    token = CSRF_RE.search(page.get_data(as_text=True)).group(1)
    # What a browser sends under "same-origin": the page's own address.
    made = client.post(
        "/account/calendar",
        base_url=HTTPS,
        data={"csrf_token": token},
        headers={"Referer": f"{HTTPS}/account/calendar"},
    )
    assert made.status_code == 302
    assert "/feeds/private/" in client.get("/account/calendar", base_url=HTTPS).get_data(
        as_text=True
    )
    # What it would send under "no-referrer": nothing, and the post is refused.
    refused = client.post("/account/calendar", base_url=HTTPS, data={"csrf_token": token})
    assert refused.status_code == 400


def test_reset_form_passes_csrf_over_https(app, make_user):
    app.config["WTF_CSRF_ENABLED"] = True
    link = _reset_link(app, make_user(email="p@example.org"))
    client = app.test_client()
    page = client.get(link, base_url=HTTPS)
    assert page.headers["Referrer-Policy"] == "same-origin"
    token = CSRF_RE.search(page.get_data(as_text=True)).group(1)
    response = client.post(
        link,
        base_url=HTTPS,
        data={
            "csrf_token": token,
            "password": "a-new-long-password",
            "password_confirm": "a-new-long-password",
        },
        headers={"Referer": HTTPS + link},
    )
    assert response.status_code == 302
