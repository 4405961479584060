"""The instructor's "Today" in a real browser on a 360-pixel phone: logging in lands on
/teach, today's session is there with who is coming, one tap checks a baby in, and
axe-core finds no serious problem (with JavaScript on; the same journey runs with it
off)."""

from datetime import UTC, date, datetime, timedelta

from booking.services.booking.book import book_place
from tests.conftest import PASSWORD
from tests.e2e.conftest import PHONE


def test_instructor_lands_on_today_and_checks_a_baby_in_with_one_tap(
    app, visitor, make_centre, make_user, make_workshop
):
    centre = make_centre(name="Riverside Family Hub")
    teacher = make_user(email="teacher@example.org", role="instructor", centre=centre)
    soon = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=30)
    workshop = make_workshop(centre=centre, instructor=teacher, title="Gentle start",
                             starts_at=soon)
    for email, baby in (("pat@example.org", "Ada"), ("kim@example.org", "Kit")):
        parent = make_user(email=email)
        with app.app_context():
            book_place(parent_id=parent.id, workshop_id=workshop.id, baby_name=baby,
                       baby_dob=date.today() - timedelta(weeks=10), consent=True)

    instructor = visitor()
    page = instructor.page
    page.set_viewport_size(PHONE)
    instructor.login("teacher@example.org", PASSWORD)
    assert page.url.endswith("/teach")
    assert page.get_by_role("heading", name="Today", level=1).is_visible()
    card = page.locator("section.today-session", has_text="Gentle start")
    assert card.get_by_role("heading", level=2).inner_text().endswith("Gentle start, week 1 of 4")
    assert card.get_by_text("2 expected").is_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"/teach is {width}px wide at 360px"

    button = card.get_by_role("button", name="Check in Ada")
    box = button.bounding_box()
    assert box["width"] >= 44 and box["height"] >= 44, box
    with page.expect_navigation():
        button.click()
    instructor.check()
    assert page.url.split("#")[1].startswith("session-")
    card = page.locator("section.today-session", has_text="Gentle start")
    ada = card.locator("li", has_text="Ada")
    assert ada.get_by_text("Checked in").is_visible()
    assert ada.get_by_role("button").count() == 0
    assert card.get_by_role("button", name="Check in Kit").is_visible()
    assert card.get_by_text("1 of 2 booked checked in").is_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"/teach is {width}px wide at 360px"
