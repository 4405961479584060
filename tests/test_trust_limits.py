"""Trust: rate limits on password reset and token guessing, and referrer policies on
pages that carry secrets (without breaking CSRF checks over HTTPS)."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from limits import parse_many

from booking.extensions import db, limiter
from booking.mail.deferred import render_notes
from booking.models import OutboxMessage, PasswordResetToken, utcnow
from booking.models.token import hash_secret, new_secret
from booking.web.auth import login_limits
from tests.conftest import PASSWORD, rate_limited_app

HTTPS = "https://localhost"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture
def limited_client(app):
    """A client of an app made with its rate limits on (as in production), on the test
    database, starting from empty counters. Flask-Limiter installs its after-request hook
    (which counts failed attempts) only in apps created with limits enabled."""
    with rate_limited_app(app) as limited:
        yield limited.test_client()


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


def _from(address: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": address}}


def test_others_asking_for_a_reset_never_lock_the_owner_out(app, limited_client, make_user):
    make_user(email="p@example.org")
    # Many requests for the account from many addresses, and the most one address may send.
    for i in range(12):
        answer = limited_client.post(
            "/password/forgot", data={"email": "p@example.org"}, **_from(f"203.0.113.{i}")
        )
        assert answer.status_code == 302
    answers = [
        limited_client.post("/password/forgot", data={"email": "p@example.org"}).status_code
        for _ in range(10)
    ]
    assert answers == [302] * 10
    # The owner asks from home: the same neutral answer, never 429.
    owner = limited_client.post(
        "/password/forgot", data={"email": "p@example.org"}, **_from("198.51.100.7")
    )
    assert owner.status_code == 302
    assert owner.headers["Location"] == "/password/forgot?sent=1"
    # One email was sent, and its link works for the owner.
    with app.app_context():
        render_notes()  # as the sender does first
        (message,) = db.session.scalars(sa.select(OutboxMessage)).all()
        link = re.search(r"/password/reset/[A-Za-z0-9_-]+", message.body_text).group(0)
    assert limited_client.get(link, **_from("198.51.100.7")).status_code == 200
    # The answer for an unknown address is the same.
    unknown = limited_client.post(
        "/password/forgot", data={"email": "nobody@example.org"}, **_from("198.51.100.8")
    )
    assert unknown.status_code == 302
    assert unknown.headers["Location"] == owner.headers["Location"]


def _login(client, address, password):
    return client.post(
        "/login", data={"email": "p@example.org", "password": password}, **_from(address)
    )


def test_wrong_passwords_from_many_addresses_do_not_lock_the_owner_out(limited_client, make_user):
    make_user(email="p@example.org")
    for i in range(12):
        assert _login(limited_client, f"203.0.113.{i}", "wrong-password").status_code == 401
    assert _login(limited_client, "198.51.100.7", PASSWORD).status_code == 302


def test_failures_are_limited_per_account_and_address(limited_client, make_user):
    make_user(email="p@example.org")
    statuses = [_login(limited_client, "203.0.113.1", "wrong").status_code for _ in range(11)]
    assert statuses == [401] * 10 + [429]
    refused = _login(limited_client, "203.0.113.1", PASSWORD)
    assert refused.status_code == 429
    assert "Forgotten your password?" in refused.get_data(as_text=True)
    assert 1 <= int(refused.headers["Retry-After"]) <= 60  # the per-minute limit met
    # Another address (the owner's) is not held back by that one's failures,
    assert _login(limited_client, "198.51.100.7", PASSWORD).status_code == 302
    # nor is another account at the same address.
    make_user(email="q@example.org")
    other = limited_client.post(
        "/login", data={"email": "q@example.org", "password": PASSWORD}, **_from("203.0.113.1")
    )
    assert other.status_code == 302


def test_an_account_under_attack_still_lets_a_right_password_in(limited_client, make_user):
    make_user(email="p@example.org")
    # The account has had one failure fewer than it may, from all addresses together...
    item = parse_many(login_limits.LOGIN_FAILURES_PER_ACCOUNT)[0]
    limiter.limiter.hit(
        item, "account:p@example.org", login_limits.ACCOUNT_SCOPE, cost=item.amount - 1
    )
    # ...and the last one comes from an address trying it for the first time.
    assert _login(limited_client, "203.0.113.1", "wrong").status_code == 401
    # Now an address that has been failing for this account is refused before any check...
    refused = _login(limited_client, "203.0.113.1", PASSWORD)
    assert refused.status_code == 429
    assert "Forgotten your password?" in refused.get_data(as_text=True)
    # ...while one that has not is let in with the right password,
    assert _login(limited_client, "198.51.100.7", PASSWORD).status_code == 302
    # and a guesser gets one wrong try per new address before it is refused too.
    assert _login(limited_client, "203.0.113.2", "wrong").status_code == 401
    assert _login(limited_client, "203.0.113.2", "wrong").status_code == 429


def test_logins_are_limited_per_address_whatever_the_account(limited_client):
    statuses = [
        limited_client.post(
            "/login", data={"email": f"person{i}@example.org", "password": "wrong"}
        ).status_code
        for i in range(21)
    ]
    assert statuses == [401] * 20 + [429]


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
    assert "missing or wrong token" in limited.get_json()["error"]["message"]
    # One count for the whole API: another endpoint is no fresh set of 30 guesses.
    for method, path in (("PATCH", "/api/v1/workshops/1"), ("POST", "/api/v1/workshops"),
                         ("PATCH", "/api/v1/sessions/1")):
        other = limited_client.open(path, method=method, headers=headers, json={})
        assert other.status_code == 429, (method, path)


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
