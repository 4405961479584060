"""Password reset: the same answer for every address, a single-use expiring link kept
only as a hash, and a new password that ends other sessions."""

import email
import os
import re
from datetime import timedelta
from email.policy import default

import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.mail.deferred import render_notes
from booking.mail.sender import send_all_due
from booking.models import OutboxMessage, PasswordResetToken, User, utcnow
from booking.models.token import hash_secret
from booking.services.accounts import invites, passwords_reset
from booking.services.errors import NotFound
from tests.conftest import PASSWORD

NEW_PASSWORD = "a-brand-new-password"
LINK = re.compile(r"https://classes\.example\.org/password/reset/([A-Za-z0-9_-]+)")


@pytest.fixture
def user(make_user):
    return make_user("pat@example.org", name="Pat Parent")


def outbox(app) -> list[OutboxMessage]:
    """The emails, once the sender has rendered the requests noted (as it does first)."""
    with app.app_context():
        render_notes()
        rows = list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))
        db.session.expunge_all()
        return rows


def ask(client, address: str):
    return client.post("/password/forgot", data={"email": address})


def ask_later(app, client, address: str):
    """Ask again once the links already sent are older than the one-email interval."""
    interval = timedelta(minutes=passwords_reset.RESET_EMAIL_INTERVAL_MINUTES + 1)
    with app.app_context():
        render_notes()  # the links asked for so far are made when the sender renders them
        for row in db.session.scalars(sa.select(PasswordResetToken)):
            row.created_at -= interval
        db.session.commit()
    return ask(client, address)


def token_from_outbox(app) -> str:
    (message,) = outbox(app)
    return LINK.search(message.body_text).group(1)


def test_forgot_page_has_a_labelled_field_and_csrf(app, client):
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.get("/password/forgot")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'name="email"' in html and '<label for="email"' in html
    assert 'name="csrf_token"' in html
    assert ask(client, "pat@example.org").status_code == 400


def test_same_answer_for_known_and_unknown_addresses(app, client, user):
    known = ask(client, "pat@example.org")
    unknown = ask(client, "nobody@example.org")
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"]
    page_known = client.get(known.headers["Location"])
    page_unknown = client.get(unknown.headers["Location"])
    assert page_known.get_data() == page_unknown.get_data()
    assert b"If an account exists for that address, we have sent a link" in page_known.data
    # Only the real account got an email.
    messages = outbox(app)
    assert [m.recipient for m in messages] == ["pat@example.org"]
    assert messages[0].subject == "Reset your Baby Massage Classes password"


def test_bad_address_is_explained_next_to_the_field(app, client):
    response = ask(client, "not an address")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="email-error"' in html and "Enter an email address" in html
    assert outbox(app) == []


def test_token_is_kept_only_as_a_hash_and_expires(app, client, user):
    ask(client, "PAT@example.org ")
    token = token_from_outbox(app)
    assert len(token) >= 43
    with app.app_context():
        (row,) = db.session.scalars(sa.select(PasswordResetToken))
        assert row.token_hash == hash_secret(token) and token not in row.token_hash
        remaining = row.expires_at - utcnow()
        assert timedelta(hours=1, minutes=59) < remaining <= timedelta(hours=2)


def test_reset_end_to_end_from_the_eml_file(app, client, user):
    ask(client, "pat@example.org")
    with app.app_context():
        assert send_all_due().sent == 1
    (name,) = os.listdir(app.config["MAIL_DIR"])
    with open(os.path.join(app.config["MAIL_DIR"], name), "rb") as handle:
        message = email.message_from_bytes(handle.read(), policy=default)
    assert message["To"] == "pat@example.org"
    token = LINK.search(message.get_body(("plain",)).get_content()).group(1)

    page = client.get(f"/password/reset/{token}")
    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "same-origin"  # never sent to other sites
    assert b'name="password_confirm"' in page.data

    done = client.post(
        f"/password/reset/{token}",
        data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    )
    assert done.status_code == 302
    home = client.get(done.headers["Location"])
    assert b"Your password has been changed" in home.data
    assert b"Log out" in home.data

    client.post("/logout")
    assert (
        client.post("/login", data={"email": "pat@example.org", "password": PASSWORD}).status_code
        == 401
    )
    assert (
        client.post("/login", data={"email": "pat@example.org", "password": NEW_PASSWORD})
    ).status_code == 302

    # The link works once.
    again = client.get(f"/password/reset/{token}")
    assert again.status_code == 400
    assert b"already been used" in again.data
    assert b'href="/password/forgot"' in again.data


def test_once_sent_the_outbox_keeps_no_working_link(app, client, user, make_user):
    """The secret of a reset link is kept only as a hash: the outbox's copy of the
    email (and the note it came from) loses it once the email has gone; an
    invitation's link too. A failed send keeps it, to try again."""
    ask(client, "pat@example.org")
    (note,) = outbox(app)
    token = LINK.search(note.body_text).group(1)
    assert note.params["token"] == token
    with app.app_context():
        invites.invite(make_user("ada@example.org", role="admin").id,
                       "ina@example.org", "admin", name="Ina")
        (invited,) = db.session.scalars(sa.select(OutboxMessage.body_text).where(
            OutboxMessage.recipient == "ina@example.org"))
        link = re.search(r"/invite/\S+", invited).group(0)
        assert send_all_due().sent == 2
    sent = {m.recipient: m for m in outbox(app)}
    reset, invite = sent["pat@example.org"], sent["ina@example.org"]
    for message in (reset, invite):
        assert message.status == "sent"
        assert token not in message.body_text + message.body_html
        assert link not in message.body_text + message.body_html
    assert "/password/reset/removed-once-sent" in reset.body_text
    assert 'href="https://classes.example.org/password/reset/removed-once-sent"' in (
        reset.body_html)
    assert reset.params is None
    assert "/invite/removed-once-sent" in invite.body_text
    # The links as sent still work.
    assert client.get(f"/password/reset/{token}").status_code == 200
    assert client.get(link).status_code == 200


def test_reset_ends_other_sessions(app, client, auth, user):
    other = app.test_client()
    other.post("/login", data={"email": "pat@example.org", "password": PASSWORD})
    assert b"Log out" in other.get("/").data
    ask(client, "pat@example.org")
    token = token_from_outbox(app)
    client.post(
        f"/password/reset/{token}",
        data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    )
    assert b"Log out" not in other.get("/").data


@pytest.mark.parametrize(
    ("password", "confirm", "message"),
    [
        ("short", "short", b"Use at least 10 characters."),
        (NEW_PASSWORD, "something-else-entirely", b"The passwords do not match."),
        ("", "", b"Choose a new password."),
    ],
)
def test_bad_new_password_is_explained_and_keeps_the_link(
    app, client, user, password, confirm, message
):
    ask(client, "pat@example.org")
    token = token_from_outbox(app)
    response = client.post(
        f"/password/reset/{token}", data={"password": password, "password_confirm": confirm}
    )
    assert response.status_code == 422
    assert message in response.data
    with app.app_context():
        row = db.session.scalar(sa.select(PasswordResetToken))
        assert row.used_at is None
    assert client.get(f"/password/reset/{token}").status_code == 200


@pytest.mark.parametrize("token", ["nope", "x" * 43, "a" * 300, "bad token!"])
def test_unknown_or_malformed_token_is_refused(client, token, user):
    response = client.get(f"/password/reset/{token}")
    assert response.status_code == 404
    assert b"This reset link does not work" in response.data
    assert b'href="/password/forgot"' in response.data
    posted = client.post(
        f"/password/reset/{token}",
        data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    )
    assert posted.status_code == 404


def test_expired_token_is_refused(app, client, user):
    ask(client, "pat@example.org")
    token = token_from_outbox(app)
    with app.app_context():
        db.session.execute(
            sa.update(PasswordResetToken).values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    response = client.post(
        f"/password/reset/{token}",
        data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    )
    assert response.status_code == 400
    assert b"expired" in response.data
    assert (
        client.post("/login", data={"email": "pat@example.org", "password": PASSWORD}).status_code
        == 302
    )


def test_purge_expired_deletes_used_and_expired_links_only(app, client, user, runner):
    for _ in range(3):
        ask_later(app, client, "pat@example.org")
    with app.app_context():
        render_notes()
        first, second, third = db.session.scalars(
            sa.select(PasswordResetToken).order_by(PasswordResetToken.id)
        ).all()
        first.used_at = utcnow()
        second.expires_at = utcnow() - timedelta(seconds=1)
        keep = third.id
        db.session.commit()
    result = runner.invoke(args=["purge-expired"])
    assert result.exit_code == 0, result.output
    assert "Deleted 2 used or expired password-reset links." in result.output
    with app.app_context():
        assert db.session.scalars(sa.select(PasswordResetToken.id)).all() == [keep]
    again = runner.invoke(args=["purge-expired"])
    assert "Deleted 0 used or expired password-reset links." in again.output


def test_using_one_link_retires_the_others(app, client, user):
    ask(client, "pat@example.org")
    ask_later(app, client, "pat@example.org")
    first, second = (LINK.search(m.body_text).group(1) for m in outbox(app))
    client.post(
        f"/password/reset/{second}",
        data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    )
    assert client.get(f"/password/reset/{first}").status_code == 400


def test_nothing_half_written_when_setting_the_password_fails(app, ctx, user, monkeypatch):
    passwords_reset.request_password_reset("pat@example.org")
    token = token_from_outbox(app)

    def broken(password):
        raise RuntimeError("hashing failed")

    monkeypatch.setattr("booking.services.accounts.users.hash_password", broken)
    with pytest.raises(RuntimeError):
        passwords_reset.reset_password(token, NEW_PASSWORD)
    db.session.expire_all()
    assert db.session.scalar(sa.select(PasswordResetToken.used_at)) is None
    assert db.session.get(User, user.id).session_version == 1


def test_deleted_accounts_get_no_link(app, ctx, user):
    db.session.get(User, user.id).deleted_at = utcnow()
    db.session.commit()
    passwords_reset.request_password_reset("pat@example.org")
    assert outbox(app) == []
    with pytest.raises(NotFound):
        passwords_reset.check_reset_token("x" * 43)


def test_asking_again_soon_sends_nothing_new_and_the_first_link_still_works(app, client, user):
    answers = [ask(client, "pat@example.org") for _ in range(8)]
    # Always the same neutral answer, never "too many": others asking cannot lock the
    # owner out of a reset, and cannot flood their inbox either.
    assert {a.status_code for a in answers} == {302}
    assert {a.headers["Location"] for a in answers} == {"/password/forgot?sent=1"}
    token = token_from_outbox(app)  # exactly one email
    page = client.get("/password/forgot?sent=1")
    assert b"at most one link every 10 minutes" in page.data
    assert client.get(f"/password/reset/{token}").status_code == 200
    # Once the interval has passed, a new request sends a new link.
    ask_later(app, client, "pat@example.org")
    assert len(outbox(app)) == 2


def test_a_used_link_does_not_hold_back_a_new_one(app, client, user):
    ask(client, "pat@example.org")
    token = token_from_outbox(app)
    client.post(
        f"/password/reset/{token}",
        data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    )
    client.post("/logout")
    ask(client, "pat@example.org")
    assert len(outbox(app)) == 2


def test_asking_does_the_same_work_whether_or_not_the_address_has_an_account(app, client, user):
    """The account is looked for by the sender, after the answer: a request writes one
    note, whatever the address, so the time it takes tells nothing either."""
    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(" ".join(statement.split()))

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        work = []
        for address in ("pat@example.org", "nobody@example.org"):
            statements.clear()
            assert ask(client, address).status_code == 302
            work.append(list(statements))
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    assert work[0] == work[1]
    assert [s for s in work[0] if not s.startswith(("BEGIN", "COMMIT"))] == [
        s for s in work[0] if s.startswith("INSERT INTO outbox_message")
    ] != []
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(PasswordResetToken.id))) == 0
        noted = db.session.scalars(sa.select(OutboxMessage.recipient).order_by(OutboxMessage.id))
        assert list(noted) == ["pat@example.org", "nobody@example.org"]
    # The sender emails the account's owner and drops the other note.
    assert [m.recipient for m in outbox(app)] == ["pat@example.org"]


def test_a_request_rendered_by_two_senders_at_once_makes_one_link(app, ctx, user):
    passwords_reset.request_password_reset("pat@example.org")
    (params,) = db.session.scalars(sa.select(OutboxMessage.params)).all()
    first = passwords_reset._render_reset(0, dict(params))
    second = passwords_reset._render_reset(0, dict(params))  # before the first was stored
    assert first is not None and second is not None
    assert first.body_text == second.body_text
    assert db.session.scalar(sa.select(sa.func.count(PasswordResetToken.id))) == 1
    assert LINK.search(first.body_text).group(1) == params["token"]
