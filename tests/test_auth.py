"""Accounts: register, log in, log out, roles."""

import sqlalchemy as sa

from booking.extensions import db
from booking.models import User
from tests.conftest import PASSWORD


def test_register_creates_parent_and_logs_in(client, app):
    response = client.post(
        "/register",
        data={
            "name": "Sam Parent",
            "email": "Sam@Example.org ",
            "password": "long-enough-pw",
            "password_confirm": "long-enough-pw",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "sam@example.org"))
        assert user is not None
        assert user.password_hash.startswith("$argon2id$")
    assert b"Log out" in client.get("/").data


def test_register_rejects_mismatched_passwords(client):
    response = client.post(
        "/register",
        data={
            "name": "Sam",
            "email": "sam@example.org",
            "password": "long-enough-pw",
            "password_confirm": "different-pw-1",
        },
    )
    assert response.status_code == 422
    assert b"The passwords do not match." in response.data


def test_register_duplicate_email_is_refused(client, make_user):
    make_user(email="taken@example.org")
    response = client.post(
        "/register",
        data={
            "name": "Sam",
            "email": "taken@example.org",
            "password": "long-enough-pw",
            "password_confirm": "long-enough-pw",
        },
    )
    assert response.status_code == 409


def test_login_and_logout(client, auth, make_user):
    make_user(email="p@example.org")
    assert auth.login("p@example.org").status_code == 302
    assert b"Log out" in client.get("/").data
    assert auth.logout().status_code == 302
    assert b"Log out" not in client.get("/").data


def test_wrong_password_does_not_say_whether_email_exists(client, auth, make_user):
    make_user(email="p@example.org")
    wrong_pw = auth.login("p@example.org", "not-the-password")
    no_user = auth.login("nobody@example.org", "not-the-password")
    assert wrong_pw.status_code == no_user.status_code == 401
    assert b"do not match an account" in wrong_pw.data
    assert b"do not match an account" in no_user.data


def test_login_next_never_leaves_the_site(client, make_user):
    make_user(email="p@example.org")
    response = client.post(
        "/login?next=//evil.example/x", data={"email": "p@example.org", "password": PASSWORD}
    )
    assert response.headers["Location"] == "/"


def test_logout_needs_post(client):
    assert client.get("/logout").status_code == 405


def test_create_user_command(runner, app, make_centre):
    make_centre(slug="hub")
    result = runner.invoke(
        args=[
            "create-user",
            "staff@example.org",
            "--name",
            "Staff",
            "--role",
            "staff",
            "--centre",
            "hub",
            "--password",
            "long-enough-pw",
        ]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "staff@example.org"))
        assert user.is_staff and not user.is_admin


def test_create_user_unknown_centre_fails(runner):
    result = runner.invoke(
        args=["create-user", "x@example.org", "--name", "X", "--role", "staff",
              "--centre", "nowhere", "--password", "long-enough-pw"]
    )
    assert result.exit_code != 0
    assert "No centre" in result.output
