"""Each role lands on its own home after logging in (parents their bookings, instructors
"Today", staff the term calendar, admins /admin; the highest role wins), a safe `next`
still wins, and the header offers the role's home."""

from urllib.parse import urlsplit

import pytest

from booking.extensions import db
from booking.models import User
from booking.services.accounts.roles import grant_role
from tests.conftest import PASSWORD


@pytest.fixture
def people(app, make_centre, make_user):
    """One account per role, and people with several."""
    centre = make_centre(slug="hub")
    made = {
        "parent": make_user("parent@example.org"),
        "instructor": make_user("instructor@example.org", role="instructor", centre=centre),
        "staff": make_user("staff@example.org", role="staff", centre=centre),
        "admin": make_user("admin@example.org", role="admin"),
        "staff_instructor": make_user("both@example.org", role="instructor", centre=centre),
        "admin_staff": make_user("boss@example.org", role="staff", centre=centre),
    }
    with app.app_context():
        grant_role(made["staff_instructor"].id, centre.id, "staff")
        db.session.get(User, made["admin_staff"].id).is_admin = True
        db.session.commit()
    return made


def _login(client, email, next_url=None):
    url = "/login" if next_url is None else f"/login?next={next_url}"
    response = client.post(url, data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, email
    return urlsplit(response.headers["Location"])


HOMES = [
    ("parent@example.org", "/account/bookings"),
    ("instructor@example.org", "/teach"),
    ("staff@example.org", "/manage/calendar"),
    ("admin@example.org", "/admin"),
    ("both@example.org", "/manage/calendar"),  # staff above instructor
    ("boss@example.org", "/admin"),  # admin above staff
]


@pytest.mark.parametrize(("email", "home"), HOMES)
def test_each_role_lands_on_its_own_home(client, people, email, home):
    location = _login(client, email)
    assert location.path == home
    assert not location.netloc and not location.query


@pytest.mark.parametrize(
    ("email", "path"),
    [
        ("parent@example.org", "/account/bookings"),
        ("instructor@example.org", "/teach"),
        ("admin@example.org", "/admin"),
    ],
)
def test_the_home_page_opens_and_the_header_offers_it(client, people, email, path):
    _login(client, email)
    response = client.get(path)
    assert response.status_code == 200
    header = response.get_data(as_text=True).split("</header>")[0]
    assert f'href="{path}"' in header


def test_the_header_offers_staff_their_calendar(client, people):
    _login(client, "staff@example.org")
    header = client.get("/classes").get_data(as_text=True).split("</header>")[0]
    assert 'href="/manage/calendar"' in header
    _login(client, "parent@example.org")
    header = client.get("/classes").get_data(as_text=True).split("</header>")[0]
    assert 'href="/manage/calendar"' not in header and 'href="/teach"' not in header


def test_a_safe_next_still_wins(client, people):
    location = _login(client, "staff@example.org", "/classes%3Fage_weeks%3D10")
    assert (location.path, location.query) == ("/classes", "age_weeks=10")


@pytest.mark.parametrize(
    "next_url", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:x"]
)
def test_an_unsafe_next_lands_on_the_role_home_instead(client, people, next_url):
    location = _login(client, "instructor@example.org", next_url)
    assert not location.netloc
    assert location.path == "/teach"
