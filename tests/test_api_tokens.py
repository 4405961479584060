"""Personal API tokens: the service, the staff pages and the command."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import ApiToken, utcnow
from booking.models.token import hash_secret
from booking.services.accounts import api_tokens
from booking.services.errors import Invalid, NotFound


def _tokens(app):
    with app.app_context():
        rows = db.session.scalars(sa.select(ApiToken).order_by(ApiToken.id)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


# --- service ------------------------------------------------------------------------------


def test_create_stores_only_the_hash(app, make_user):
    user = make_user(email="s@example.org")
    with app.app_context():
        token, raw = api_tokens.create_token(user.id, "  Term   upload ")
        assert token.name == "Term upload"
    assert len(raw) >= 43  # 32 random bytes, URL-safe base64
    [row] = _tokens(app)
    assert row.token_hash == hash_secret(raw)
    assert raw not in row.token_hash
    with app.app_context():
        for table in db.metadata.sorted_tables:
            for values in db.session.execute(sa.select(table)).all():
                assert raw not in [str(v) for v in values]


def test_two_tokens_differ_and_default_name(app, make_user):
    user = make_user()
    with app.app_context():
        first, raw1 = api_tokens.create_token(user.id, "")
        _, raw2 = api_tokens.create_token(user.id, "second")
        assert first.name == api_tokens.DEFAULT_NAME
    assert raw1 != raw2


def test_name_too_long_is_refused(app, make_user):
    user = make_user()
    with app.app_context(), pytest.raises(Invalid) as info:
        api_tokens.create_token(user.id, "x" * 121)
    assert "name" in info.value.fields
    assert _tokens(app) == []


def test_user_for_token(app, make_user):
    user = make_user(email="s@example.org")
    with app.app_context():
        _, raw = api_tokens.create_token(user.id, "t")
        assert api_tokens.user_for_token(raw).email == "s@example.org"
        assert api_tokens.user_for_token("nope") is None
        assert api_tokens.user_for_token("") is None
        assert api_tokens.user_for_token(None) is None
        assert api_tokens.user_for_token(raw + "x") is None


def test_last_used_is_written_at_most_once_a_minute(app, make_user):
    user = make_user()
    with app.app_context():
        token, raw = api_tokens.create_token(user.id, "t")
        token_id = token.id
        api_tokens.user_for_token(raw)
        first = db.session.get(ApiToken, token_id).last_used_at
        assert first is not None
        api_tokens.user_for_token(raw)
        db.session.expire_all()
        assert db.session.get(ApiToken, token_id).last_used_at == first
        db.session.get(ApiToken, token_id).last_used_at = utcnow() - timedelta(minutes=2)
        db.session.commit()
        api_tokens.user_for_token(raw)
        db.session.expire_all()
        assert db.session.get(ApiToken, token_id).last_used_at > first


def test_revoke(app, make_user):
    owner = make_user()
    stranger = make_user()
    with app.app_context():
        token, raw = api_tokens.create_token(owner.id, "t")
        with pytest.raises(NotFound):
            api_tokens.revoke_token(token.id, stranger.id)
        assert api_tokens.user_for_token(raw) is not None
        api_tokens.revoke_token(token.id, owner.id)
        assert api_tokens.user_for_token(raw) is None
        revoked_at = db.session.get(ApiToken, token.id).revoked_at
        api_tokens.revoke_token(token.id, owner.id)  # twice changes nothing
        assert db.session.get(ApiToken, token.id).revoked_at == revoked_at
        with pytest.raises(NotFound):
            api_tokens.revoke_token(999999, owner.id)


def test_deleted_user_token_stops_working(app, make_user):
    user = make_user()
    with app.app_context():
        _, raw = api_tokens.create_token(user.id, "t")
        from booking.models import User

        db.session.get(User, user.id).deleted_at = utcnow()
        db.session.commit()
        assert api_tokens.user_for_token(raw) is None


# --- pages --------------------------------------------------------------------------------


@pytest.fixture
def staff(make_centre, make_user):
    centre = make_centre()
    return make_user(email="staff@example.org", role="staff", centre=centre)


def test_pages_are_for_staff_and_admins(client, auth, make_user, staff):
    assert client.get("/manage/api-tokens").status_code == 302
    make_user(email="parent@example.org")
    auth.login("parent@example.org")
    assert client.get("/manage/api-tokens").status_code == 403
    assert client.post("/manage/api-tokens", data={"name": "x"}).status_code == 403
    auth.logout()
    make_user(email="admin@example.org", role="admin")
    auth.login("admin@example.org")
    assert client.get("/manage/api-tokens").status_code == 200


def test_create_shows_token_once_then_list_and_revoke(client, auth, app, staff):
    auth.login("staff@example.org")
    page = client.get("/manage/api-tokens")
    assert page.status_code == 200
    assert "You have no API tokens yet." in page.get_data(as_text=True)

    response = client.post("/manage/api-tokens", data={"name": "Timetable sync"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    raw = re.search(r'id="token-secret" value="([^"]+)"', html).group(1)
    [row] = _tokens(app)
    assert row.token_hash == hash_secret(raw)
    assert row.name == "Timetable sync"

    listing = client.get("/manage/api-tokens").get_data(as_text=True)
    assert "Timetable sync" in listing
    assert raw not in listing
    assert "Active" in listing and "Never" in listing

    response = client.post(f"/manage/api-tokens/{row.id}/revoke")
    assert response.status_code == 302
    listing = client.get("/manage/api-tokens").get_data(as_text=True)
    assert "Revoked" in listing
    with app.app_context():
        assert api_tokens.user_for_token(raw) is None


def test_create_with_too_long_name_shows_error(client, auth, app, staff):
    auth.login("staff@example.org")
    response = client.post("/manage/api-tokens", data={"name": "n" * 200})
    assert response.status_code == 422
    assert "Use at most 120 characters." in response.get_data(as_text=True)
    assert _tokens(app) == []


def test_cannot_revoke_someone_elses_token(client, auth, app, staff, make_user):
    other = make_user(email="other-staff@example.org")
    with app.app_context():
        token, raw = api_tokens.create_token(other.id, "theirs")
        token_id = token.id
    auth.login("staff@example.org")
    assert client.post(f"/manage/api-tokens/{token_id}/revoke").status_code == 404
    assert client.post("/manage/api-tokens/999/revoke").status_code == 404
    assert client.get(f"/manage/api-tokens/{token_id}/revoke").status_code == 405
    with app.app_context():
        assert api_tokens.user_for_token(raw) is not None


# --- command ------------------------------------------------------------------------------


def test_command_creates_and_prints_token_once(runner, app, staff):
    result = runner.invoke(args=["api-token", "create", "Staff@Example.org", "--name", "cron"])
    assert result.exit_code == 0, result.output
    raw = result.stdout.strip().splitlines()[-1]
    [row] = _tokens(app)
    assert row.name == "cron"
    assert row.token_hash == hash_secret(raw)
    with app.app_context():
        assert api_tokens.user_for_token(raw).email == "staff@example.org"


def test_command_unknown_email_fails(runner, app):
    result = runner.invoke(args=["api-token", "create", "nobody@example.org"])
    assert result.exit_code != 0
    assert "No account" in result.output
    assert _tokens(app) == []


def test_command_refuses_bytes_that_are_not_text_and_odd_names(runner, app, staff):
    """An email or a name given as bytes that are not UTF-8 (a lone surrogate to
    Python), a NUL or a text-direction override: a message, no traceback, no token."""
    for args, message in (
        (["api-token", "create", "st\udcffaff@example.org"], "No account"),
        (["api-token", "create", "staff@example.org", "--name", "caf\udce9"],
         "must be readable text: it has U+DCE9"),
        (["api-token", "create", "staff@example.org", "--name", "\x00"], "control characters"),
    ):
        result = runner.invoke(args=args)
        assert result.exit_code == 1, result.output
        assert message in result.output
    assert _tokens(app) == []


def test_form_refuses_a_name_with_a_direction_override(client, auth, app, staff):
    auth.login("staff@example.org")
    response = client.post("/manage/api-tokens", data={"name": "cron\u202e"})
    assert response.status_code == 422
    assert "text-direction overrides" in response.get_data(as_text=True)
    assert _tokens(app) == []
