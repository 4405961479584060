"""Security headers, rate limits and sessions."""

import pytest

from booking import create_app
from tests.conftest import PASSWORD


def test_security_headers_on_pages(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in response.headers


def test_security_headers_on_errors(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_production_sets_hsts_and_host_cookie(monkeypatch, database_url):
    monkeypatch.setenv("BOOKING_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-long-production-secret-for-tests")
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url})
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-session"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["DEMO_PASSWORD_ALLOWED"] is False
    response = app.test_client().get("/login")
    assert "max-age=" in response.headers["Strict-Transport-Security"]


def test_production_requires_secret_key(monkeypatch):
    monkeypatch.setenv("BOOKING_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app()


def test_logout_ends_other_sessions(app, make_user):
    make_user(email="p@example.org")
    phone, laptop = app.test_client(), app.test_client()
    for c in (phone, laptop):
        c.post("/login", data={"email": "p@example.org", "password": PASSWORD})
        assert b"Log out" in c.get("/").data
    phone.post("/logout")
    assert b"Log out" not in laptop.get("/").data


def test_csrf_is_enforced(app, make_user):
    app.config["WTF_CSRF_ENABLED"] = True
    make_user(email="p@example.org")
    client = app.test_client()
    response = client.post("/login", data={"email": "p@example.org", "password": PASSWORD})
    assert response.status_code == 400
    assert b"expired or was sent from elsewhere" in response.data
