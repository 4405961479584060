"""On a 360 x 740 phone, with JavaScript on and off, on the demo data: the demo parent goes
from the home page to a class and to a confirmed booking in three taps after choosing the
class (the baby, the consent, the button); the first result shows without scrolling, the
class page shows its price, places and Book on the first screen, and the new baby's
fields appear only when "A new baby" is chosen. With JavaScript, "Use my location" finds
the classes near the browser's position; without it the button is not offered."""

import re

import pytest
import sqlalchemy as sa

from booking.demo.data import DEMO_PASSWORD
from booking.extensions import db
from booking.models import Registration, User, Workshop
from tests.e2e.conftest import PHONE

CLASS = "Baby massage: weekend course"  # Camden, paid at the centre, places free
NEAR_CAMDEN = {"latitude": 51.539, "longitude": -0.142}


@pytest.fixture
def demo(app, runner):
    """The demo data; the class to book and the demo parent's id."""
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        workshop = db.session.scalar(sa.select(Workshop).where(Workshop.title == CLASS))
        parent = db.session.scalar(sa.select(User).where(User.email == "parent@example.com"))
        return {"workshop": workshop.id, "parent": parent.id}


def on_first_screen(locator) -> bool:
    """The element is shown wholly inside the phone's first screen, without scrolling."""
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"]


def test_demo_parent_books_a_class_in_three_taps_on_a_phone(app, demo, visitor):
    parent = visitor()
    page = parent.page
    page.set_viewport_size(PHONE)
    parent.login("parent@example.com", DEMO_PASSWORD)

    # The home page: the search box and the first class on the first screen, the
    # filters folded away.
    parent.goto("/")
    search = page.locator("#q")
    assert on_first_screen(search)
    assert on_first_screen(page.locator("li.card.listing").first.get_by_role("link"))
    assert not page.locator("#age_weeks").is_visible()
    assert page.get_by_role("button", name="Use my location").is_visible() == parent.js
    search.fill("Camden")
    parent.submit("Search")

    # The results: the first one on the first screen; its card says what matters.
    assert "/classes" in page.url
    first = page.locator("li.card.listing").first
    assert on_first_screen(first.get_by_role("link"))
    assert not page.locator("#age_weeks").is_visible()
    card = page.locator("li.card.listing", has=page.get_by_role("link", name=CLASS))
    text = card.inner_text()
    assert re.search(r"\d{2}:\d{2} (GMT|BST)", text) and "Camden" in text
    assert "£55.00" in text and re.search(r"\d+ places? left", text)
    parent.fits_phone()
    page.set_viewport_size(PHONE)

    # Choosing the class; its page shows price, places and Book on the first screen.
    with page.expect_navigation():
        card.get_by_role("link", name=CLASS).click()
    parent.check()
    bar = page.locator(".book-bar")
    assert on_first_screen(bar.get_by_role("link", name="Book a place"))
    assert "£55.00" in bar.inner_text() and "left" in bar.inner_text()
    assert not page.locator("#baby_name").is_visible()
    # Scrolled to the end, the last line of the page is above the fixed bar, not under it.
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    gap = page.evaluate(
        """() => {
            const bar = document.querySelector('.book-bar').getBoundingClientRect();
            const last = document.querySelector('footer').getBoundingClientRect();
            return bar.top - last.bottom;
        }"""
    )
    assert gap >= 0, f"the fixed bar covers the page's last {-gap:.0f} px"
    page.evaluate("window.scrollTo(0, 0)")
    parent.fits_phone()
    page.set_viewport_size(PHONE)

    # Three taps: the baby, the consent, the button.
    taps = 0
    page.locator("input[name=baby_id]:checked").click()  # the first saved baby who fits
    taps += 1
    page.get_by_label("I have read the health and safety note", exact=False).click()
    taps += 1
    with page.expect_navigation():
        page.get_by_role("button", name="Book a place").click()
    taps += 1
    parent.check()
    assert taps == 3
    with app.app_context():
        statuses = db.session.scalars(
            sa.select(Registration.status).where(
                Registration.workshop_id == demo["workshop"],
                Registration.parent_id == demo["parent"],
            )
        ).all()
    assert statuses == ["confirmed"]

    # Back on the class: the next saved baby is chosen, and "A new baby" shows its fields.
    parent.goto(f"/classes/{demo['workshop']}")
    assert not page.locator("#baby_name").is_visible()
    page.get_by_label("A new baby", exact=False).check()
    assert page.locator("#baby_name").is_visible()
    assert page.locator("#baby_dob").get_attribute("type") == "date"

    # Sent without the new baby's details: refused, and with JavaScript the list of
    # what to put right is focused, on the screen (the form is at the page's foot).
    with page.expect_navigation():
        page.get_by_role("button", name="Book a place").click()
    summary = page.locator(".error-summary")
    assert summary.is_visible()
    if parent.js:
        assert page.evaluate("document.activeElement.classList.contains('error-summary')")
        assert on_first_screen(summary)


def test_use_my_location_lists_the_nearest_classes(app, demo, visitor, browser, js):
    if not js:
        pytest.skip("the button needs JavaScript; without it, it is not shown (tested above)")
    person = visitor()
    person.context.grant_permissions(["geolocation"], origin=person.base_url)
    person.context.set_geolocation(NEAR_CAMDEN)
    page = person.page
    page.set_viewport_size(PHONE)
    person.goto("/classes")
    with page.expect_navigation():
        page.get_by_role("button", name="Use my location").click()
    person.check()
    assert re.search(r"lat=51\.539&lon=-0\.142", page.url), page.url
    first = page.locator("li.card.listing").first
    assert "km away" in first.inner_text()
    assert on_first_screen(first.get_by_role("link"))
    assert page.get_by_label("Within").input_value() == "25"

    # A postcode typed afterwards is searched instead of the position.
    page.get_by_label("Postcode, town or class", exact=False).fill("E1 8AA")
    with page.expect_navigation():
        page.get_by_role("button", name="Search").click()
    assert "lat=" not in page.url and "q=E1+8AA" in page.url, page.url
