"""Accounts: register, log in, log out, roles."""

import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import OutboxMessage, User
from booking.services.accounts.users import find_user_by_email
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


def test_an_address_with_an_accent_sent_either_way_is_one_account(app):
    """"josé@" sent as e plus a combining accent on one device and as é on another is
    one address: one account, and its password works from both."""
    import unicodedata

    composed = "jos\u00e9@example.org"
    decomposed = unicodedata.normalize("NFD", composed)
    first = app.test_client()
    first.post("/register", data={"name": "Jos\u00e9", "email": decomposed,
                                  "password": PASSWORD, "password_confirm": PASSWORD})
    other = app.test_client()
    assert other.post("/login", data={"email": composed, "password": PASSWORD}).status_code == 302
    app.test_client().post("/register", data={"name": "Jos\u00e9", "email": composed,
                                              "password": PASSWORD, "password_confirm": PASSWORD})
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1


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


def _sign_up(client, email, name="Sam", password="long-enough-pw", path="/register"):
    return client.post(
        path,
        data={"name": name, "email": email, "password": password, "password_confirm": password},
    )


def _outbox(app):
    with app.app_context():
        rows = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
        db.session.expunge_all()
        return rows


def test_register_answers_a_taken_address_as_a_new_one_and_tells_the_owner(app, make_user):
    make_user(email="taken@example.org", name="Owner Name")
    taken_client, new_client = app.test_client(), app.test_client()
    taken = _sign_up(taken_client, "Taken@Example.org", name="Mallory", path="/register?next=/x")
    new = _sign_up(new_client, "new@example.org", path="/register?next=/x")
    assert taken.status_code == new.status_code == 302
    assert taken.headers["Location"] == new.headers["Location"] == "/x"
    assert taken.get_data() == new.get_data()
    for signed_up in (taken_client, new_client):
        page = signed_up.get("/classes").get_data(as_text=True)
        assert "Welcome! We have sent you an email; it says what to do next." in page
    assert _sign_up(app.test_client(), "taken@example.org").status_code == 302

    messages = _outbox(app)
    to_owner = [m for m in messages if m.recipient == "taken@example.org"]
    (notice,) = to_owner  # the second try within minutes sends nothing new
    assert notice.subject == "Someone tried to sign up with your email address"
    assert "Hello Owner Name" in notice.body_text and "Mallory" not in notice.body_text
    assert "https://classes.example.org/password/forgot" in notice.body_text
    assert "https://classes.example.org/login" in notice.body_html
    welcome = [m for m in messages if m.recipient == "new@example.org"]
    assert [m.subject for m in welcome] == ["Your Baby Massage Classes account is ready"]
    with app.app_context():
        owner = db.session.scalar(sa.select(User).where(User.email == "taken@example.org"))
        assert owner.name == "Owner Name"
        assert db.session.scalars(sa.select(User.email)).all().count("taken@example.org") == 1
    # Nothing about the account changed: its own password still works, the other does not.
    def login(password):
        form = {"email": "taken@example.org", "password": password}
        return app.test_client().post("/login", data=form).status_code

    assert login(PASSWORD) == 302
    assert login("long-enough-pw") == 401


def test_register_for_a_taken_address_does_not_log_in(client, make_user):
    make_user(email="taken@example.org")
    _sign_up(client, "taken@example.org")
    assert b"Log out" not in client.get("/").data


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
    assert response.headers["Location"] == "/account/bookings"  # a parent lands on their bookings


@pytest.mark.parametrize("target", ["/a%0D%0AX-Evil:%201", "/a%0Ab", "/a%0Db", "/a%09b"])
def test_login_next_with_a_control_character_lands_at_home(client, make_user, target):
    """urlsplit drops tabs and line breaks before judging a path; a Location header
    cannot carry a line break (a server error after the login had happened)."""
    make_user(email="p@example.org")
    response = client.post(
        f"/login?next={target}", data={"email": "p@example.org", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/bookings"


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


@pytest.mark.parametrize("slug", ["nowhere", "hub\udcff"])
def test_create_user_unknown_centre_fails(runner, slug):
    result = runner.invoke(
        args=["create-user", "x@example.org", "--name", "X", "--role", "staff",
              "--centre", slug, "--password", "long-enough-pw"]
    )
    assert result.exit_code == 1
    assert "No centre" in result.output


@pytest.mark.parametrize("role", ["admin", "parent"])
def test_create_user_refuses_a_centre_for_a_role_without_one(runner, app, role):
    """--centre with a role that belongs to no centre was quietly ignored."""
    result = runner.invoke(
        args=["create-user", "x@example.org", "--name", "X", "--role", role,
              "--centre", "hub", "--password", "long-enough-pw"]
    )
    assert result.exit_code == 1
    assert "Only instructors and staff belong to a centre" in result.output
    with app.app_context():
        assert find_user_by_email("x@example.org") is None


@pytest.mark.parametrize(
    ("email", "name", "password", "message"),
    [
        ("", "", "long-enough-pw", "Enter an email address"),
        ("not-an-email", "N", "long-enough-pw", "Enter an email address"),
        ("\x00@b.c", "N", "long-enough-pw", "Enter an email address"),
        ("v@example.com\nBcc: spy@example.net", "V", "long-enough-pw",
         "Enter an email address"),
        ("a" * 250 + "@example.com", "N", "long-enough-pw", "Enter an email address"),
        ("\udcff@example.com", "N", "long-enough-pw", "Enter an email address"),
        ("n@example.org", "", "long-enough-pw", "Give the name"),
        ("n@example.org", "\x00", "long-enough-pw", "control characters"),
        ("n@example.org", "Ann\u202e", "long-enough-pw", "control characters"),
        ("n@example.org", "Zo\udceb", "long-enough-pw", "must be readable text"),
        ("n@example.org", "N", "\udcff" * 12, "cannot be read"),
        ("n@example.org", "N", "x" * 201, "at most 200 characters"),
    ],
)
def test_create_user_command_refuses_what_sign_up_refuses(
    runner, app, email, name, password, message
):
    """Arguments that are not an address, a name or a password (bytes that are not
    UTF-8 included) are refused with a message, and nothing is saved."""
    result = runner.invoke(
        args=["create-user", email, "--name", name, "--password", password]
    )
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert not isinstance(result.exception, UnicodeError)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("\u200b", "Give the name"),
        ("\ufeff\u2060 \u200b", "Give the name"),
        ("Sam\u202e", "text-direction overrides"),
    ],
)
def test_register_refuses_a_name_that_shows_as_nothing_or_runs_backwards(
    client, app, name, message
):
    response = client.post(
        "/register",
        data={"name": name, "email": "sam@example.org", "password": "long-enough-pw",
              "password_confirm": "long-enough-pw"},
    )
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0


def test_the_way_between_log_in_and_sign_up_keeps_where_the_parent_was_going(client):
    """From "Log in to book" on a class, "Create an account" leads back to the class
    once signed up (it led to the home page), and the other way round; an address of
    another site is never carried."""
    login = client.get("/login?next=/classes/6").get_data(as_text=True)
    assert 'href="/register?next=/classes/6"' in login
    register = client.get("/register?next=/classes/6").get_data(as_text=True)
    assert 'href="/login?next=/classes/6"' in register
    signed_up = client.post("/register?next=/classes/6", data={
        "name": "Tired Parent", "email": "tired@example.org",
        "password": "a-long-password-1", "password_confirm": "a-long-password-1",
    })
    assert signed_up.status_code == 302 and signed_up.headers["Location"] == "/classes/6"
    client.get("/logout")
    elsewhere = client.get("/login?next=https://evil.example/x").get_data(as_text=True)
    assert 'href="/register"' in elsewhere and "evil" not in elsewhere.split("New here?")[1]


def test_a_session_naming_no_user_in_plain_digits_loads_nobody(app, make_user):
    """The session's "id:version" is read in ASCII digits only: "²" is a digit to
    str.isdigit() but not to int() (a session signed with the key, so rare, never a 500)."""
    from booking.auth_setup import load_user

    user = make_user()
    with app.app_context():
        version = db.session.get(User, user.id).session_version
        assert load_user(f"{user.id}:{version}").id == user.id
        for identity in (f"\u00b2:{version}", f"{user.id}:\u00b2", f"\u0661:{version}", ":"):
            assert load_user(identity) is None, identity


@pytest.mark.parametrize("identity", [
    6, ["6:1"], {"6": 1}, True, 1.5, None,
    "9223372036854775808:1", "2147483648:1", "6:" + "9" * 4301, "9" * 4301 + ":1",
])
def test_a_signed_session_of_another_shape_is_nobody_not_a_500(client, make_user, identity):
    """A session signed with the key but not written by this site (a leaked or shared
    key): a user id that is not text, too large for the database, or a number too long
    to read is nobody, and the page asks them to log in; it failed every page, the error
    page too."""
    make_user()
    with client.session_transaction() as session:
        session["_user_id"] = identity
        session["_fresh"] = True
    response = client.get("/account/bookings")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get("/").status_code == 200


@pytest.mark.parametrize("flashes", [
    "x", 123, [1], {"a": 1}, [["error"]], [("error",)], [("error", "m", "x")], [(1, "m")],
])
def test_flashed_messages_of_another_shape_are_dropped_not_a_500(client, flashes):
    """Every page's layout reads the flashed messages; a signed session holding them in
    another shape than `flash` writes is read as holding none (a page that then flashes
    one, the log-in prompt, adds it as usual)."""
    with client.session_transaction() as session:
        session["_flashes"] = flashes
    page = client.get("/")
    assert page.status_code == 200
    with client.session_transaction() as session:
        assert "_flashes" not in session
        session["_flashes"] = flashes
    assert client.get("/account/bookings").status_code == 302
    assert "Please log in to continue." in client.get("/login").get_data(as_text=True)
    with client.session_transaction() as session:
        session["_flashes"] = [("info", "Saved.")]
    assert "Saved." in client.get("/").get_data(as_text=True)
