"""The main pages of every audience, on the demo data, are valid HTML by the Nu HTML
checker: checked together in one run of the checker (see tests/html_checker.py)."""

import re

import pytest
import sqlalchemy as sa

from booking.demo.data import DEMO_PASSWORD
from booking.extensions import db
from booking.models import Baby, Centre, Registration, User, Workshop, WorkshopSession
from booking.models.referral import ReferralCode
from tests.html_checker import html_errors

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
# A page the checker must fault, so that a checker that reports nothing cannot pass.
BROKEN = (
    '<!DOCTYPE html><html lang="en"><head><title>x</title></head>'
    '<body><p id="twice">a</p><p id="twice">b</p></body></html>'
)


def _ids(app) -> dict:
    """The demo records the pages are about."""
    with app.app_context():
        staff = db.session.scalar(sa.select(User).where(User.email == "staff@example.com"))
        instructor = db.session.scalar(
            sa.select(User).where(User.email == "instructor@example.com")
        )
        parent = db.session.scalar(sa.select(User).where(User.email == "parent@example.com"))
        held = db.session.scalar(sa.select(Workshop).where(Workshop.held_places > 0)
                                 .where(Workshop.instructor_id == instructor.id))
        booking = db.session.scalar(
            sa.select(Registration).where(Registration.parent_id == parent.id)
        )
        session = db.session.scalar(
            sa.select(WorkshopSession)
            .where(WorkshopSession.workshop_id == booking.workshop_id)
            .order_by(WorkshopSession.number)
        )
        centre = db.session.get(Centre, held.centre_id)
        return {
            "staff": staff.id,
            "instructor": instructor.id,
            "parent": parent.id,
            "held": held.id,
            "booked": booking.workshop_id,
            "registration": booking.id,
            "session": session.id,
            "centre": centre.id,
            "slug": centre.slug,
            "baby": db.session.scalar(sa.select(Baby.id).where(Baby.parent_id == parent.id)),
            "codes": db.session.scalar(sa.select(sa.func.count(ReferralCode.id))),
        }


def _logged_in(app, email: str):
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": DEMO_PASSWORD})
    assert response.status_code == 302, f"{email} could not log in"
    return client


def _pages(app, client, paths: list[str]) -> dict[str, str]:
    pages = {}
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, f"{path} answered {response.status_code}"
        assert response.mimetype == "text/html", path
        pages[path] = response.get_data(as_text=True)
    return pages


@pytest.fixture
def demo(app, runner):
    """The demo data, as `make run` shows it."""
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    return _ids(app)


def test_main_pages_are_valid_html(app, demo):
    d = demo
    assert d["codes"], "the demo has a referral code to list"
    # Logged in while CSRF is off (the fixture's default); the pages are then rendered
    # with it on, as in production, so every form carries its hidden token.
    clients = {
        role: _logged_in(app, f"{role}@example.com")
        for role in ("parent", "instructor", "staff", "admin")
    }
    app.config["WTF_CSRF_ENABLED"] = True
    topic = "premature"
    public = [
        "/",
        "/classes",
        "/classes?q=London",
        f"/classes/{d['booked']}",
        f"/classes/{d['held']}",
        "/centres",
        f"/centres/{d['slug']}",
        f"/instructors/{d['instructor']}",
        "/topics",
        f"/topics/{topic}",
        "/login",
        "/register",
        "/password/forgot",
        f"/embed/centres/{d['slug']}",
    ]
    parent = [
        "/account/bookings",
        f"/account/bookings/{d['registration']}/cancel",
        "/account/calendar",
        "/account/babies",
        f"/account/babies/{d['baby']}/edit",
        f"/account/babies/{d['baby']}/immunisation",
        "/account/privacy",
        f"/classes/{d['booked']}",
    ]
    instructor = [
        "/teach",
        f"/teach/workshops/{d['booked']}",
        f"/teach/workshops/{d['held']}",
        f"/teach/sessions/{d['session']}/register",
        f"/teach/workshops/{d['booked']}/message",
        "/teach/specialisms",
        "/teach/profile",
    ]
    staff = [
        "/manage",
        f"/manage/centres/{d['centre']}",
        f"/manage/centres/{d['centre']}/workshops/new",
        "/manage/import",
        "/manage/api-tokens",
        f"/manage/workshops/{d['booked']}",
        f"/manage/workshops/{d['held']}",
        f"/manage/workshops/{d['booked']}/edit",
        f"/manage/workshops/{d['booked']}/registrations",
        f"/manage/workshops/{d['held']}/referrals",
        f"/manage/workshops/{d['booked']}/topics",
        f"/manage/workshops/{d['booked']}/sessions/new",
        f"/manage/workshops/{d['booked']}/cancel",
        f"/manage/sessions/{d['session']}/move",
        f"/manage/sessions/{d['session']}/cancel",
    ]
    admin = ["/admin", "/admin/users", f"/admin/users/{d['staff']}", "/admin/centres/new"]
    pages = {}
    pages.update({f"public {p}": h for p, h in _pages(app, app.test_client(), public).items()})
    for role, paths in (
        ("parent", parent),
        ("instructor", instructor),
        ("staff", staff),
        ("admin", admin),
    ):
        for path, html in _pages(app, clients[role], paths).items():
            pages[f"{role} {path}"] = html
    # A form sent back with its errors shown beside the fields.
    anonymous = app.test_client()
    token = CSRF_RE.search(anonymous.get("/register").get_data(as_text=True)).group(1)
    answer = anonymous.post("/register", data={"email": "not-an-email", "csrf_token": token})
    assert answer.status_code in (400, 422)
    pages["public POST /register with errors"] = answer.get_data(as_text=True)
    pages["a broken page"] = BROKEN

    errors = html_errors(pages)

    assert errors.pop("a broken page"), "the checker did not fault a duplicate id"
    assert set(errors) == set(pages) - {"a broken page"}
    invalid = {label: problems for label, problems in errors.items() if problems}
    assert not invalid, "\n".join(
        f"{label}:\n  " + "\n  ".join(problems) for label, problems in invalid.items()
    )


def test_a_page_of_several_forms_repeats_no_id(app, demo):
    """Each form's hidden CSRF field is posted by name and carries no id."""
    client = _logged_in(app, "staff@example.com")
    app.config["WTF_CSRF_ENABLED"] = True
    html = client.get(f"/manage/workshops/{demo['held']}/referrals").get_data(as_text=True)
    assert html.count('name="csrf_token"') >= 2
    assert 'id="csrf_token"' not in html


def test_every_form_is_a_site_form(app):
    """Forms derive from booking.web.forms.Form, which keeps their HTML valid."""
    from flask_wtf import FlaskForm

    from booking.web.forms import Form

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    ours = [c for c in subclasses(FlaskForm) if c.__module__.startswith("booking.")]
    assert len(ours) > 20
    assert [c.__qualname__ for c in ours if not issubclass(c, Form)] == []
