"""Admins invite people by email to a role: the signed link creates the account with the
role (or adds the role to the account it was sent to), works once and for 14 days.
New centres start unpublished: admins publish them, or a published class does."""

import re
import threading
import time
from datetime import date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal

import pytest
import sqlalchemy as sa
from itsdangerous.timed import TimestampSigner

from booking.extensions import db
from booking.models import Centre, InstructorProfile, Invitation, OutboxMessage, User, utcnow
from booking.services.accounts import invites
from booking.services.catalogue.centres import set_published
from booking.services.errors import Conflict, Forbidden, Invalid, NotFound
from booking.services.privacy.erase import erase_user
from booking.services.schedule.create import add_workshop
from booking.services.schedule.edit import edit_workshop, publish_workshop
from tests.conftest import PASSWORD
from tests.html_checker import html_errors

NEW_PASSWORD = "a-long-new-password"
LINK = re.compile(r"https://classes\.example\.org(/invite/[A-Za-z0-9_.\-]+)")


@pytest.fixture
def world(make_centre, make_user):
    centre = make_centre(slug="bristol", name="Bristol Hub")
    return {
        "centre": centre,
        "admin": make_user("admin@example.org", name="Ann Admin", role="admin"),
        "staff": make_user("staff@example.org", role="staff", centre=centre),
        "parent": make_user("pat@example.org", name="Pat Parent"),
    }


def _outbox(app) -> list[OutboxMessage]:
    with app.app_context():
        rows = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def _invite(client, **fields) -> str:
    """Send the admin's invitation form; the emailed link's path."""
    response = client.post("/admin/invite", data=fields)
    assert response.status_code == 302, response.get_data(as_text=True)
    return _link_in_last_email(client.application, fields["email"].strip().lower())


def _link_in_last_email(app, email) -> str:
    message = _outbox(app)[-1]
    assert message.recipient == email
    (path,) = set(LINK.findall(message.body_text))
    assert path in message.body_html
    return path


def _user(app, email) -> User | None:
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        if user is not None:
            user.centre_ids("staff")  # load the memberships
            db.session.expunge(user)
        return user


def test_the_invite_page_is_for_admins_only(client, auth, world):
    assert "/login" in client.get("/admin/invite").location
    auth.login("staff@example.org")
    assert client.get("/admin/invite").status_code == 403
    data = {"email": "x@example.org", "role": "parent"}
    assert client.post("/admin/invite", data=data).status_code == 403
    auth.logout()
    auth.login("admin@example.org")
    page = client.get("/admin/invite")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert html_errors({"invite": body}) == {"invite": []}
    assert "Bristol Hub" in body and "No centre" in body
    assert 'href="/admin/invite"' in client.get("/admin").get_data(as_text=True)


def test_an_invited_instructor_creates_their_account_and_lands_on_today(
    client, auth, app, world
):
    auth.login("admin@example.org")
    path = _invite(client, email=" Ina@Example.org ", name="Ina Instructor",
                   role="instructor", centre_id=str(world["centre"].id))
    message = _outbox(app)[-1]
    assert message.recipient == "ina@example.org"
    assert "Ann Admin invites you" in message.subject
    assert "an instructor at Bristol Hub" in message.body_text
    assert "14 days" in message.body_text and "Hello Ina Instructor" in message.body_text
    assert message.reply_to == "centre1@example.org"
    auth.logout()

    page = client.get(path)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    body = page.get_data(as_text=True)
    assert html_errors({"accept": body}) == {"accept": []}
    assert "ina@example.org" in body and 'value="Ina Instructor"' in body
    short = client.post(path, data={"name": "Ina", "password": "short",
                                    "password_confirm": "short"})
    assert short.status_code == 422 and "at least 10 characters" in short.get_data(as_text=True)
    differ = client.post(path, data={"name": "Ina", "password": NEW_PASSWORD,
                                     "password_confirm": NEW_PASSWORD + "x"})
    assert differ.status_code == 422 and "do not match" in differ.get_data(as_text=True)
    assert _user(app, "ina@example.org") is None

    done = client.post(path, data={"name": "Ina Ives", "password": NEW_PASSWORD,
                                   "password_confirm": NEW_PASSWORD})
    assert done.status_code == 302 and done.location == "/teach"
    today = client.get("/teach")
    assert today.status_code == 200
    assert "you are now an instructor at Bristol Hub" in today.get_data(as_text=True)
    user = _user(app, "ina@example.org")
    assert user.name == "Ina Ives" and not user.is_admin
    assert user.centre_ids("instructor") == {world["centre"].id}
    with app.app_context():
        assert db.session.scalar(
            sa.select(InstructorProfile.id).where(InstructorProfile.user_id == user.id)
        )

    # Used twice: it says so, and nothing more is created.
    client.post("/logout")
    again = client.get(path)
    assert again.status_code == 409
    assert "already been used" in again.get_data(as_text=True)
    assert html_errors({"used": again.get_data(as_text=True)}) == {"used": []}
    post = client.post(path, data={"name": "Someone", "password": NEW_PASSWORD,
                                   "password_confirm": NEW_PASSWORD})
    assert post.status_code == 409
    assert auth.login("ina@example.org", NEW_PASSWORD).location == "/teach"


@pytest.mark.parametrize(
    ("role", "home", "check"),
    [
        ("parent", "/account/bookings", lambda u, c: not u.is_admin and not u.memberships),
        ("staff", "/manage/calendar", lambda u, c: u.centre_ids("staff") == {c}),
        ("admin", "/admin", lambda u, c: u.is_admin and not u.memberships),
    ],
)
def test_each_role_can_be_invited(client, auth, app, world, role, home, check):
    auth.login("admin@example.org")
    centre = str(world["centre"].id) if role == "staff" else ""
    path = _invite(client, email="new@example.org", role=role, centre_id=centre)
    auth.logout()
    done = client.post(path, data={"name": "New Person", "password": NEW_PASSWORD,
                                   "password_confirm": NEW_PASSWORD})
    assert done.status_code == 302 and done.location == home
    assert check(_user(app, "new@example.org"), world["centre"].id)


def test_an_existing_account_gets_the_role_once_its_owner_is_logged_in(
    client, auth, app, world
):
    auth.login("admin@example.org")
    path = _invite(client, email="pat@example.org", role="staff",
                   centre_id=str(world["centre"].id))
    auth.logout()
    # Not logged in: asked to log in to that account, and brought back here.
    page = client.get(path).get_data(as_text=True)
    assert "Log in to accept" in page and "Create account" not in page
    assert html_errors({"login": page}) == {"login": []}
    assert client.post(path).status_code == 403
    back = client.post(f"/login?next={path}", data={"email": "pat@example.org",
                                                   "password": PASSWORD})
    assert back.location == path
    page = client.get(path).get_data(as_text=True)
    assert "Accept: become a member of staff at Bristol Hub" in page
    assert html_errors({"accept": page}) == {"accept": []}
    done = client.post(path)
    assert done.status_code == 302 and done.location == "/manage/calendar"
    assert _user(app, "pat@example.org").centre_ids("staff") == {world["centre"].id}
    again = client.get(path)
    assert again.status_code == 409 and "already been used" in again.get_data(as_text=True)
    assert client.post(path).status_code == 409


def test_another_logged_in_account_cannot_take_someone_elses_invitation(
    client, auth, app, world
):
    auth.login("admin@example.org")
    path = _invite(client, email="pat@example.org", role="admin")
    auth.logout()
    auth.login("staff@example.org")
    page = client.get(path).get_data(as_text=True)
    assert "You are logged in as staff@example.org" in page and "Accept:" not in page
    assert client.post(path).status_code == 403
    assert not _user(app, "pat@example.org").is_admin
    assert not _user(app, "staff@example.org").is_admin


def test_bad_expired_and_withdrawn_links(client, auth, app, world, monkeypatch):
    assert client.get("/invite/not-a-token").status_code == 404
    assert client.post("/invite/not-a-token", data={"name": "X"}).status_code == 404
    auth.login("admin@example.org")
    path = _invite(client, email="new@example.org", role="parent")
    auth.logout()
    tampered = client.get(path[:-3] + ("aaa" if not path.endswith("aaa") else "bbb"))
    assert tampered.status_code == 404
    assert "not valid" in tampered.get_data(as_text=True)
    # A link signed 15 days ago has expired; so has an invitation past its expiry.
    old = int(time.time() - timedelta(days=15).total_seconds())
    with app.test_request_context():
        monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: old)
        invites.invite(world["admin"].id, "late@example.org", "parent")
        monkeypatch.undo()
    late = _link_in_last_email(app, "late@example.org")
    expired = client.get(late)
    assert expired.status_code == 400 and "has expired" in expired.get_data(as_text=True)
    body = client.post(late, data={"name": "Late", "password": NEW_PASSWORD,
                                   "password_confirm": NEW_PASSWORD})
    assert body.status_code == 400 and _user(app, "late@example.org") is None
    with app.app_context():
        db.session.execute(sa.update(Invitation).values(expires_at=utcnow()))
        db.session.commit()
    assert client.get(path).status_code == 400
    with app.app_context():
        db.session.execute(
            sa.update(Invitation).values(expires_at=utcnow() + timedelta(days=1))
        )
        db.session.commit()
    # A signed link naming an invitation that does not exist (or no longer does).
    with app.test_request_context():
        forged = invites.sign_values(invites.SALT, {"i": 999999, "t": "2026-01-01"})
        unsigned_id = invites.sign_values(invites.SALT, {"i": "1"})
    assert client.get(f"/invite/{forged}").status_code == 404
    assert client.get(f"/invite/{unsigned_id}").status_code == 404
    # An admin who is no longer one: their invitations stop working.
    with app.app_context():
        db.session.get(User, world["admin"].id).is_admin = False
        db.session.commit()
    assert client.get(path).status_code == 404


def test_the_invite_form_says_what_is_wrong(client, auth, app, world):
    auth.login("admin@example.org")
    centre = str(world["centre"].id)
    cases = [
        ({"email": "not-an-email", "role": "parent"}, 422, "like name@example.com"),
        ({"email": "", "role": "parent"}, 422, "Enter their email address"),
        ({"email": "a@example.org", "role": "instructor"}, 422, "Choose the centre"),
        ({"email": "a@example.org", "role": "parent", "centre_id": centre}, 422,
         "Only instructors and staff belong to a centre"),
        ({"email": "a@example.org", "role": "wizard"}, 422, "Not a valid choice"),
        ({"email": "a@example.org", "role": "staff", "centre_id": "999999"}, 422,
         "no such centre"),
        ({"email": "a@example.org", "role": "staff", "centre_id": "abc"}, 422,
         "Choose the centre"),
        ({"email": "staff@example.org", "role": "staff", "centre_id": centre}, 409,
         "already has that role"),
        ({"email": "admin@example.org", "role": "parent"}, 409, "already has that role"),
    ]
    for data, status, words in cases:
        response = client.post("/admin/invite", data=data)
        assert response.status_code == status, data
        assert words in response.get_data(as_text=True), data
    assert _outbox(app) == []


def test_invitation_services_directly(ctx, world):
    with pytest.raises(Forbidden):
        invites.invite(world["staff"].id, "x@example.org", "parent")
    with pytest.raises(Invalid) as err:
        invites.invite(world["admin"].id, "x@example.org", "staff", None, "n" * 121)
    assert set(err.value.fields) == {"centre_id", "name"}
    with pytest.raises(Conflict):
        invites.invite(world["admin"].id, "PAT@example.org", "parent")
    invitation = invites.invite(world["admin"].id, "x@example.org", "admin", name=" X  Y ")
    assert invitation.name == "X Y" and invitation.role_text == "an admin"
    # The name an admin gives follows the rule of the name the person gives themselves:
    # nothing that turns text around, no control characters, something to see.
    for name, words in (("Ann\u202e", "overrides"), ("Bo\x1b[2J", "control characters"),
                        ("\u2060\u200b", "Give the name")):
        with pytest.raises(Invalid) as err:
            invites.invite(world["admin"].id, "y@example.org", "parent", name=name)
        assert words in err.value.fields["name"]
    with pytest.raises(NotFound):
        invites.read_invitation("")
    with pytest.raises(Invalid):
        invites.accept_as_new_account("whatever", "", "short")
    # A name that shows as nothing, or turns the text after it around, is refused.
    for name, words in (("\u2060\u200b", "Give the name"), ("Ann\u202e", "overrides")):
        with pytest.raises(Invalid) as err:
            invites.accept_as_new_account("whatever", name, "long-enough-pw")
        assert words in err.value.fields["name"]


def _accept_new(client, path, name="New Person"):
    return client.post(path, data={"name": name, "password": NEW_PASSWORD,
                                   "password_confirm": NEW_PASSWORD})


def _invitation(app, email) -> Invitation:
    with app.app_context():
        row = db.session.scalar(
            sa.select(Invitation).where(Invitation.email == email).order_by(Invitation.id.desc())
        )
        db.session.expunge(row)
        return row


def test_a_used_link_never_gives_the_role_again_after_it_was_taken_away(
    client, auth, app, world
):
    centre = world["centre"].id
    auth.login("admin@example.org")
    new_path = _invite(client, email="sam@example.org", role="staff", centre_id=str(centre))
    pat_path = _invite(client, email="pat@example.org", role="staff", centre_id=str(centre))
    admin_path = _invite(client, email="ada@example.org", role="admin")
    auth.logout()
    assert _accept_new(client, new_path).status_code == 302
    client.post("/logout")
    assert _accept_new(client, admin_path).status_code == 302
    client.post("/logout")
    auth.login("pat@example.org")
    assert client.post(pat_path).status_code == 302
    auth.logout()
    sam, ada = _user(app, "sam@example.org"), _user(app, "ada@example.org")
    used = _invitation(app, "sam@example.org")
    assert used.used_by_id == sam.id and used.used_at is not None
    # An admin takes the roles away again.
    auth.login("admin@example.org")
    for user in (sam, world["parent"]):
        assert client.post(f"/admin/users/{user.id}/roles/remove",
                           data={"centre_id": str(centre), "role": "staff"}).status_code == 302
    assert client.post(f"/admin/users/{ada.id}/admin/revoke").status_code == 302
    auth.logout()
    # Each link, opened again by its own account, is refused and gives nothing.
    for email, password, path in (("sam@example.org", NEW_PASSWORD, new_path),
                                  ("pat@example.org", PASSWORD, pat_path),
                                  ("ada@example.org", NEW_PASSWORD, admin_path)):
        auth.login(email, password)
        page = client.get(path)
        assert page.status_code == 409, email
        assert "already been used" in page.get_data(as_text=True)
        assert client.post(path).status_code == 409, email
        auth.logout()
        user = _user(app, email)
        assert not user.is_admin and not user.memberships, email


def test_an_admin_withdraws_an_invitation_and_its_link_says_so(client, auth, app, world):
    auth.login("admin@example.org")
    path = _invite(client, email="wrong@example.org", role="staff",
                   centre_id=str(world["centre"].id))
    kept = _invite(client, email="kept@example.org", name="Kim", role="parent")
    page = client.get("/admin/invite").get_data(as_text=True)
    assert html_errors({"invite": page}) == {"invite": []}
    assert "Waiting to be accepted (2)" in page and "wrong@example.org" in page
    assert "Withdraw<span class=\"visually-hidden\"> the invitation to wrong@example.org" in page
    wrong = _invitation(app, "wrong@example.org")
    url = f"/admin/invitations/{wrong.id}/withdraw"
    done = client.post(url)
    assert done.status_code == 302 and done.location == "/admin/invite"
    page = client.get("/admin/invite").get_data(as_text=True)
    assert "The invitation to wrong@example.org is withdrawn" in page
    assert "Waiting to be accepted (1)" in page
    assert client.post(url).status_code == 302  # the same again changes nothing
    assert client.post("/admin/invitations/999999/withdraw").status_code == 404
    auth.logout()

    refused = client.get(path)
    body = refused.get_data(as_text=True)
    assert refused.status_code == 410
    assert "This invitation has been withdrawn" in body and "Create account" not in body
    assert html_errors({"withdrawn": body}) == {"withdrawn": []}
    assert _accept_new(client, path).status_code == 410
    assert _user(app, "wrong@example.org") is None
    # A used invitation cannot be withdrawn: the role is taken away instead.
    assert _accept_new(client, kept).status_code == 302
    client.post("/logout")
    auth.login("admin@example.org")
    used = _invitation(app, "kept@example.org")
    refused = client.post(f"/admin/invitations/{used.id}/withdraw")
    assert refused.status_code == 409
    assert "already been used" in refused.get_data(as_text=True)
    page = client.get("/admin/invite").get_data(as_text=True)
    assert "Used in the last 30 days (1)" in page and "kept@example.org" in page
    assert "Waiting to be accepted (0)" in page
    assert _invitation(app, "kept@example.org").revoked_at is None


def test_inviting_again_replaces_the_waiting_invitation(client, auth, app, world):
    """An admin who sends an invitation again (the first email lost, say) leaves one
    invitation waiting: the earlier link is withdrawn and says so, the new one works.
    Another role or centre for the same address is an invitation of its own."""
    auth.login("admin@example.org")
    centre = str(world["centre"].id)
    first = _invite(client, email="twice@example.org", role="staff", centre_id=centre)
    second = _invite(client, email="Twice@Example.org", role="staff", centre_id=centre)
    page = client.get("/admin/invite").get_data(as_text=True)
    assert "The link of the earlier invitation no longer works." in page
    assert "Waiting to be accepted (1)" in page
    _invite(client, email="twice@example.org", role="instructor", centre_id=centre)
    page = client.get("/admin/invite").get_data(as_text=True)
    assert "Waiting to be accepted (2)" in page
    assert "earlier invitation" not in page
    with app.app_context():
        rows = db.session.scalars(
            sa.select(Invitation).where(Invitation.email == "twice@example.org")
            .order_by(Invitation.id)
        ).all()
        assert [(r.role, r.revoked_at is not None) for r in rows] == [
            ("staff", True), ("staff", False), ("instructor", False)]
    auth.logout()
    assert client.get(first).status_code == 410
    assert _accept_new(client, second).status_code == 302
    assert _user(app, "twice@example.org") is not None


def test_two_invitations_to_one_address_at_once_leave_one_waiting(
    app, world, make_user, monkeypatch
):
    """Two admins who invite the same address to the same role at the same moment: the
    second waits for the first to commit, then withdraws it, so one link stays waiting
    (on PostgreSQL both used to miss the other's uncommitted row and both stayed)."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite's writer goes one at a time already")
    admin_id = world["admin"].id
    other_id = make_user("other.admin@example.org", role="admin").id
    both_withdrew = threading.Barrier(2, timeout=3)
    real_withdraw = invites.withdraw_waiting_invitations

    def withdraw_then_wait(*which, **kwargs):
        replaced = real_withdraw(*which, **kwargs)
        try:  # without a lock both get here before either inserts its row
            both_withdrew.wait()
        except threading.BrokenBarrierError:  # the other waits for this one's commit
            pass
        return replaced

    monkeypatch.setattr(invites, "withdraw_waiting_invitations", withdraw_then_wait)
    errors = []

    def send(inviter_id):
        with app.app_context():
            try:
                invites.invite(inviter_id, "same@example.org", "parent")
            except Exception as exc:
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=send, args=(i,)) for i in (admin_id, other_id)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    with app.app_context():
        rows = db.session.scalars(
            sa.select(Invitation).where(Invitation.email == "same@example.org")
        ).all()
        assert len(rows) == 2
        assert sum(r.revoked_at is None for r in rows) == 1


def test_an_admin_who_leaves_takes_their_waiting_invitations_with_them(
    client, auth, app, world
):
    """An invitation's link works only while the admin who sent it is one: when that
    ends (the role taken, or the account erased), the invitations still waiting are
    withdrawn, so the admins' list never shows one whose link is dead."""
    auth.login("admin@example.org")
    second = _invite(client, email="second.admin@example.org", role="admin")
    auth.logout()
    assert _accept_new(client, second, name="Second Admin").status_code == 302
    path = _invite(client, email="victim@example.org", role="parent")
    other = _invite(client, email="other@example.org", role="parent")
    client.post("/logout")
    auth.login("admin@example.org")
    assert "Waiting to be accepted (2)" in client.get("/admin/invite").get_data(as_text=True)
    second_admin = _user(app, "second.admin@example.org")
    taken = client.post(f"/admin/users/{second_admin.id}/admin/revoke", follow_redirects=True)
    assert "The 2 invitations they sent that were still waiting are withdrawn" in (
        taken.get_data(as_text=True))
    assert "Waiting to be accepted (0)" in client.get("/admin/invite").get_data(as_text=True)
    auth.logout()
    for link in (path, other):
        refused = client.get(link)
        assert refused.status_code == 404
        assert "no longer valid. Ask an admin for a new one" in refused.get_data(as_text=True)
    # Erasing an admin's account withdraws theirs too.
    auth.login("admin@example.org")
    client.post(f"/admin/users/{second_admin.id}/admin/grant")
    auth.logout()
    auth.login("second.admin@example.org", NEW_PASSWORD)
    _invite(client, email="third@example.org", role="parent")
    client.post("/logout")
    with app.app_context():
        erase_user(second_admin.id)
        waiting = invites.pending_invitations()
        assert [i.email for i in waiting] == []
        assert _invitation(app, "third@example.org").revoked_at is not None


def test_an_invitation_is_accepted_once_when_two_tries_meet(client, auth, app, world):
    auth.login("admin@example.org")
    path = _invite(client, email="twice@example.org", role="staff",
                   centre_id=str(world["centre"].id))
    auth.logout()
    other = app.test_client()
    assert _accept_new(client, path, "First").status_code == 302
    second = _accept_new(other, path, "Second")
    assert second.status_code == 409
    assert "already been used" in second.get_data(as_text=True)
    assert _user(app, "twice@example.org").name == "First"


def test_the_conditional_update_refuses_a_second_accept_that_read_too_early(
    ctx, world, monkeypatch
):
    """Two accepts that both read the invitation as unused before either wrote: the
    UPDATE ... WHERE used_at IS NULL lets one through."""
    centre = world["centre"].id
    invites.invite(world["admin"].id, "pat@example.org", "staff", centre)
    token = _link_in_last_email(ctx, "pat@example.org").rsplit("/", 1)[1]
    invites.accept_as_account(token, world["parent"].id)
    monkeypatch.setattr(invites, "refusal", lambda invitation: None)
    with pytest.raises(invites.InvitationUsed):
        invites.accept_as_account(token, world["parent"].id)
    monkeypatch.undo()
    assert db.session.scalar(sa.select(sa.func.count(Invitation.id))) == 1
    invites.invite(world["admin"].id, "new@example.org", "parent")
    fresh = _link_in_last_email(ctx, "new@example.org").rsplit("/", 1)[1]
    pending = db.session.scalar(sa.select(Invitation).where(Invitation.email == "new@example.org"))
    invites.withdraw_invitation(world["admin"].id, pending.id)
    with pytest.raises(invites.InvitationWithdrawn):
        invites.accept_as_new_account(fresh, "New", NEW_PASSWORD)
    assert db.session.scalar(sa.select(User).where(User.email == "new@example.org")) is None
    with pytest.raises(Forbidden):
        invites.withdraw_invitation(world["staff"].id, pending.id)


def test_erasure_export_and_purge_of_invitations(app, client, auth, runner, world):
    centre = world["centre"].id
    with app.app_context():
        invites.invite(world["admin"].id, "pat@example.org", "staff", centre)
        invites.invite(world["admin"].id, "other@example.org", "parent")
        # One Pat used when their account had another address.
        db.session.add(Invitation(email="old-pat@example.org", role="parent",
                                  expires_at=utcnow(), used_at=utcnow(),
                                  used_by_id=world["parent"].id))
        db.session.commit()
    auth.login("pat@example.org")
    exported = client.get("/account/export.json").get_json()
    assert [(i["role"], i["centre"], i["used_at"]) for i in exported["invitations"]] == [
        ("staff", "Bristol Hub", None)
    ]
    auth.logout()
    with app.app_context():
        from booking.services.privacy.erase import erase_user

        erase_user(world["parent"].id)
        assert set(db.session.execute(sa.select(Invitation.email, Invitation.used_by_id))) == {
            ("other@example.org", None), ("old-pat@example.org", None)
        }
        # The admin who sent it is erased: it stays, no longer naming them.
        second_admin = User(email="boss@example.org", name="Boss", is_admin=True)
        db.session.add(second_admin)
        db.session.commit()
        erase_user(world["admin"].id)
        assert db.session.scalar(
            sa.select(Invitation.invited_by_id).where(Invitation.email == "other@example.org")
        ) is None

        now = utcnow()
        old = now - timedelta(days=31)
        rows = [
            Invitation(email=f"{n}@example.org", role="parent", created_at=old,
                       expires_at=expires, used_at=used, revoked_at=revoked)
            for n, expires, used, revoked in (
                ("pending", now + timedelta(days=3), None, None),
                ("used-lately", now + timedelta(days=3), now - timedelta(days=2), None),
                ("used-long-ago", now + timedelta(days=3), old, None),
                ("withdrawn-long-ago", now + timedelta(days=3), None, old),
                ("expired-long-ago", old, None, None),
                ("expired-lately", now - timedelta(days=1), None, None),
            )
        ]
        db.session.add_all(rows)
        db.session.commit()
    result = runner.invoke(args=["purge-expired"])
    assert result.exit_code == 0, result.output
    assert "Deleted 3 invitations used, withdrawn or expired more than 30 days ago." in (
        result.output
    )
    with app.app_context():
        left = set(db.session.scalars(sa.select(Invitation.email)))
    assert left == {"other@example.org", "old-pat@example.org", "pending@example.org",
                    "used-lately@example.org", "expired-lately@example.org"}
    assert "Deleted 0 invitations" in runner.invoke(args=["purge-expired"]).output


# --- centres: unpublished until published -------------------------------------------------


def test_a_new_centre_starts_unpublished_and_admins_publish_it(client, auth, app, world):
    auth.login("admin@example.org")
    form = {"name": "Harbour Hub", "slug": "harbour-hub", "country": "GB",
            "timezone": "Europe/London", "published": "y"}
    assert client.post("/admin/centres/new", data=form).status_code == 302
    with app.app_context():
        centre = db.session.scalar(sa.select(Centre).where(Centre.slug == "harbour-hub"))
        assert centre.published is False
        centre_id = centre.id
    assert client.get("/centres/harbour-hub").status_code == 404
    listing = client.get("/admin").get_data(as_text=True)
    assert html_errors({"admin": listing}) == {"admin": []}
    assert "Publish<span class=\"visually-hidden\"> Harbour Hub</span>" in listing
    url = f"/admin/centres/{centre_id}/publish"
    done = client.post(url, data={"published": "1"})
    assert done.status_code == 302
    assert "is now shown to the public" in client.get("/admin").get_data(as_text=True)
    assert client.get("/centres/harbour-hub").status_code == 200
    assert client.post(url, data={"published": "0"}).status_code == 302
    assert client.get("/centres/harbour-hub").status_code == 404
    assert client.post(url, data={"published": "maybe"}).status_code == 422
    assert client.post("/admin/centres/999999/publish",
                       data={"published": "1"}).status_code == 404
    auth.logout()
    auth.login("staff@example.org")
    assert client.post(url, data={"published": "1"}).status_code == 403
    with app.app_context():
        assert db.session.get(Centre, centre_id).published is False


def test_publishing_a_class_publishes_its_centre(app, make_centre, make_user, make_workshop):
    hidden = make_centre(slug="hidden", published=False)
    teacher = make_user(role="instructor", centre=hidden)
    draft = make_workshop(centre=hidden, instructor=teacher, status="draft")
    other = make_workshop(centre=make_centre(slug="quiet", published=False),
                          instructor=make_user(role="instructor", centre=hidden),
                          status="draft")
    with app.app_context():
        assert db.session.get(Centre, hidden.id).published is False
        publish_workshop(draft.id)
        shown = db.session.get(Centre, hidden.id)
        assert shown.published is True and shown.first_published_at is not None
        edit_workshop(other.id, status="published")
        assert db.session.scalar(
            sa.select(Centre.published).where(Centre.slug == "quiet")
        ) is True


def test_a_class_created_published_publishes_its_centre(app, make_centre, make_user):
    hidden = make_centre(slug="hidden", published=False)
    teacher = make_user(role="instructor", centre=hidden)
    fields = dict(
        centre_id=hidden.id, instructor_id=teacher.id, kind="single", title="Taster",
        duration_minutes=60, capacity=8, min_age_weeks=6, max_age_weeks=52,
        price=Decimal("0"),
    )
    day = date.today() + timedelta(days=20)
    with app.app_context():
        add_workshop(**fields, first_session_local=datetime.combine(day, clock(10)))
        assert db.session.get(Centre, hidden.id).published is False  # a draft: still hidden
        add_workshop(**fields, first_session_local=datetime.combine(day, clock(14)),
                     publish=True)
        assert db.session.get(Centre, hidden.id).published is True



def _centre(app, slug) -> Centre:
    with app.app_context():
        centre = db.session.scalar(sa.select(Centre).where(Centre.slug == slug))
        db.session.expunge(centre)
        return centre


def test_a_centre_an_admin_hid_stays_hidden_when_staff_publish_a_class(
    client, auth, app, world, make_user, make_workshop
):
    auth.login("admin@example.org")
    form = {"name": "Quay Hub", "slug": "quay-hub", "country": "GB",
            "timezone": "Europe/London"}
    assert client.post("/admin/centres/new", data=form).status_code == 302
    quay = _centre(app, "quay-hub")
    assert not quay.published and quay.first_published_at is None
    teacher = make_user(role="instructor", centre=quay)
    first, second = (make_workshop(centre=quay, instructor=teacher, status="draft",
                                   starts_in_days=days) for days in (10, 20))
    with app.app_context():
        publish_workshop(first.id)  # its first class: the new centre appears with it
    quay = _centre(app, "quay-hub")
    assert quay.published and quay.first_published_at is not None
    shown_at = quay.first_published_at
    assert client.get("/centres/quay-hub").status_code == 200
    assert client.post(f"/admin/centres/{quay.id}/publish",
                       data={"published": "0"}).status_code == 302
    auth.logout()
    with app.app_context():
        publish_workshop(second.id)
    quay = _centre(app, "quay-hub")
    assert not quay.published and quay.first_published_at == shown_at
    assert client.get("/centres/quay-hub").status_code == 404
    auth.login("admin@example.org")  # shown again only by an admin
    client.post(f"/admin/centres/{quay.id}/publish", data={"published": "1"})
    assert client.get("/centres/quay-hub").status_code == 200
    assert _centre(app, "quay-hub").first_published_at == shown_at


def test_a_centre_public_before_it_was_remembered_stays_hidden_once_hidden(
    app, world, make_user, make_workshop
):
    """A centre shown from the start (as the demo's and older ones) that an admin hides
    has been published: a class published afterwards does not show it again."""
    centre = world["centre"]
    assert centre.published and centre.first_published_at is None
    draft = make_workshop(centre=centre, status="draft")
    with app.app_context():
        set_published(centre.id, False)
        publish_workshop(draft.id)
        hidden = db.session.get(Centre, centre.id)
        assert hidden.published is False and hidden.first_published_at is not None
