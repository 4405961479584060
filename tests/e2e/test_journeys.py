"""The main journeys in a real browser, with JavaScript on and off: a parent registers,
searches by age, books, cancels and subscribes; staff publish a workshop and move a
session; an instructor prints a register. Every page visited is checked for server
errors, CSP and console errors and (with JavaScript) by axe-core; the main pages must
fit a 360-pixel-wide phone."""

import re
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from booking.extensions import db
from booking.models import Registration, WorkshopSession
from booking.services.booking.book import book_place
from tests.conftest import PASSWORD

LABELLESS = """() => [...document.querySelectorAll(
    'input:not([type=hidden]), select, textarea')]
  .filter(e => !e.labels.length && !e.getAttribute('aria-label')
               && !e.getAttribute('aria-labelledby'))
  .map(e => e.outerHTML)"""


def _all_fields_labelled(page):
    assert page.evaluate(LABELLESS) == [], f"fields without a label on {page.url}"


def test_parent_registers_searches_books_cancels_and_subscribes(
    app, visitor, make_workshop, make_centre
):
    centre = make_centre(name="Riverside Family Hub", town="Bristol")
    make_workshop(centre=centre, title="Tiny strokes", min_age_weeks=6, max_age_weeks=20)
    make_workshop(centre=centre, title="Crawlers club", min_age_weeks=30, max_age_weeks=52)
    parent = visitor()
    page = parent.page

    parent.goto("/")
    parent.fits_phone()

    # Sign up: a wrong form first, with its errors next to their fields.
    parent.goto("/register")
    _all_fields_labelled(page)
    page.get_by_label("Email").fill("not-an-email")
    parent.submit("Create account")
    email = page.locator("#email")
    described = email.get_attribute("aria-describedby") or ""
    assert "email-error" in described.split()
    assert email.get_attribute("aria-invalid") == "true"
    error = page.locator("#email-error")
    assert error.is_visible() and error.inner_text().strip()
    # The error sits in the same field group as its input.
    assert page.locator(".field:has(#email) #email-error").count() == 1
    parent.fits_phone()

    page.get_by_label("Name").fill("Pat Parent")
    page.get_by_label("Email").fill("pat@example.org")
    page.locator("#password").fill(PASSWORD)
    page.locator("#password_confirm").fill(PASSWORD)
    parent.submit("Create account")
    assert "Welcome" in page.content()

    # Search by age: only the class that fits a 10-week-old.
    parent.goto("/classes")
    _all_fields_labelled(page)
    page.locator("details.filters > summary").click()
    page.locator("#age_weeks").fill("10")
    parent.submit("Search")
    assert "age_weeks=10" in page.url
    assert page.get_by_role("link", name="Tiny strokes").count() == 1
    assert page.get_by_role("link", name="Crawlers club").count() == 0
    parent.fits_phone()

    # Book a place for a new baby.
    with page.expect_navigation():
        page.get_by_role("link", name="Tiny strokes").first.click()
    parent.check()
    parent.fits_phone()
    _all_fields_labelled(page)
    page.locator("#baby_name").fill("Ada")
    page.locator("#baby_dob").fill((date.today() - timedelta(weeks=10)).isoformat())
    page.locator("#consent").check()
    with page.expect_navigation():
        page.locator("form:has(#consent) button[type=submit]").click()
    parent.check()
    assert "Booked" in page.content()
    with app.app_context():
        assert db.session.scalar(sa.select(Registration.status)) == "confirmed"

    # The bookings page, then cancel: a page asks first, and "Keep my booking" leads back.
    parent.goto("/account/bookings")
    assert "Tiny strokes" in page.content()
    parent.fits_phone()
    parent.follow(re.compile("Cancel booking"))
    assert "What happens if you cancel" in page.content()
    parent.fits_phone()
    parent.follow("Keep my booking")
    with app.app_context():
        assert db.session.scalar(sa.select(Registration.status)) == "confirmed"
    parent.follow(re.compile("Cancel booking"))
    parent.submit("Yes, cancel this booking")
    with app.app_context():
        assert db.session.scalar(sa.select(Registration.status)) == "cancelled"

    # Subscribe: make the private calendar link, and the feed answers at it.
    parent.goto("/account/calendar")
    parent.fits_phone()
    parent.submit("Create my calendar link")
    link = page.locator("#feed-https").input_value()
    assert "/feeds/private/" in link
    parent.fits_phone()
    path = link.split("/feeds/", 1)[1]
    feed = parent.context.request.get(f"{parent.base_url}/feeds/{path}")
    assert feed.status == 200
    assert feed.headers["content-type"].startswith("text/calendar")
    assert feed.headers["referrer-policy"] == "no-referrer"


def test_staff_publish_a_workshop_and_move_a_session(
    app, visitor, make_centre, make_user, make_workshop
):
    centre = make_centre(name="Harbour Clinic")
    make_user(email="staff@example.org", role="staff", centre=centre)
    workshop = make_workshop(centre=centre, status="draft", title="Autumn course", sessions=2)
    staff = visitor()
    page = staff.page
    staff.login("staff@example.org", PASSWORD)

    staff.goto("/manage")
    staff.fits_phone()
    staff.goto(f"/manage/workshops/{workshop.id}")
    staff.fits_phone()
    staff.submit("Publish")
    assert page.get_by_role("button", name="Back to draft").count() == 1

    # Move session 1 to a new day, time and room.
    with page.expect_navigation():
        page.get_by_role("link", name=re.compile("Move or change room")).first.click()
    staff.check()
    _all_fields_labelled(page)
    staff.fits_phone()
    new_day = date.today() + timedelta(days=10)
    page.locator("#date").fill(new_day.isoformat())
    page.locator("#time").fill("10:30")
    page.locator("#room").fill("Garden room")
    staff.submit("Save and tell everyone")
    errors = page.locator(".error").all_inner_texts()
    assert not errors, errors
    with app.app_context():
        moved = db.session.scalars(
            sa.select(WorkshopSession).where(WorkshopSession.workshop_id == workshop.id)
        ).all()
        (garden,) = [s for s in moved if s.room == "Garden room"]
        assert garden.revision >= 1
        assert garden.starts_at.date() == new_day
    assert "Garden room" in page.content()


def test_instructor_prints_a_register(app, visitor, make_centre, make_user, make_workshop):
    centre = make_centre()
    teacher = make_user(email="teacher@example.org", role="instructor", centre=centre)
    parent = make_user(email="pat@example.org", name="Pat Parent")
    # Starting within the hour: attendance can be marked.
    soon = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=30)
    workshop = make_workshop(centre=centre, instructor=teacher, title="Gentle start",
                             starts_at=soon)
    with app.app_context():
        book_place(
            parent_id=parent.id,
            workshop_id=workshop.id,
            baby_name="Ada",
            baby_dob=date.today() - timedelta(weeks=10),
            consent=True,
        )
    instructor = visitor()
    page = instructor.page
    instructor.login("teacher@example.org", PASSWORD)

    instructor.goto("/teach")
    instructor.fits_phone()
    with page.expect_navigation():
        page.get_by_role("link", name="Gentle start", exact=True).first.click()
    instructor.check()
    instructor.fits_phone()
    with page.expect_navigation():
        page.get_by_role("link", name=re.compile("^Register")).first.click()
    instructor.check()
    instructor.fits_phone()
    assert "Ada" in page.content()

    # Mark attendance, then print: buttons and navigation stay off the printout.
    page.get_by_label("Present").first.check()
    instructor.submit("Save attendance")
    page.emulate_media(media="print")
    assert not page.get_by_role("button", name="Save attendance").is_visible()
    assert not page.locator("header.site-header").is_visible()
    assert page.get_by_role("rowheader", name=re.compile("Ada")).first.is_visible()
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 1000
    page.emulate_media(media="screen")


def test_keyboard_skip_link_comes_first_and_shows_focus(visitor):
    person = visitor()
    page = person.page
    person.goto("/classes")
    page.keyboard.press("Tab")
    focused = page.evaluate(
        """() => {
          const e = document.activeElement, s = getComputedStyle(e), r = e.getBoundingClientRect();
          return {cls: e.className, text: e.textContent.trim(), outline: s.outlineStyle,
                  width: parseFloat(s.outlineWidth), shadow: s.boxShadow,
                  top: r.top, height: r.height};
        }"""
    )
    assert focused["cls"] == "skip-link" and focused["text"] == "Skip to content"
    # Visible: on screen, with an outline or a focus ring.
    assert focused["top"] >= 0 and focused["height"] > 0
    assert (focused["outline"] != "none" and focused["width"] > 0) or focused["shadow"] != "none"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    # The next Tab stops are the site's own links, each with a visible focus style.
    for _ in range(3):
        page.keyboard.press("Tab")
        style = page.evaluate(
            """() => { const s = getComputedStyle(document.activeElement);
                       return [s.outlineStyle, s.boxShadow]; }"""
        )
        assert style[0] != "none" or style[1] != "none"
