"""Straight after booking, in a real browser with JavaScript on and off: the confirmation
offers Google, Apple and Outlook for that booking, with tap-sized buttons on a phone; the
bookings page folds the same buttons into "Add to calendar"; the private calendar link is
there again on the next visit."""

import re

from tests.conftest import PASSWORD
from tests.e2e.conftest import PHONE


def test_add_a_new_booking_to_a_calendar_at_once(app, visitor, make_user, make_baby,
                                                  make_workshop):
    parent_user = make_user(email="pat@example.org", name="Pat Parent")
    make_baby(parent_user, name="Ada")
    course = make_workshop(title="Tiny strokes", sessions=3)
    parent = visitor()
    page = parent.page
    parent.login("pat@example.org", PASSWORD)
    parent.goto(f"/classes/{course.id}")
    page.get_by_label("Ada, born", exact=False).check()
    page.get_by_label("I have read the health and safety note", exact=False).check()
    parent.submit("Book a place")
    for legend in page.locator("fieldset legend").all_inner_texts():
        page.get_by_role("group", name=legend).get_by_label("No", exact=True).check()
    page.locator("#consent").check()
    parent.submit("Save the answers")

    assert page.url.endswith("/booked")
    assert "Ada has a place in Tiny strokes" in page.content()
    parent.fits_phone()
    page.set_viewport_size(PHONE)
    google = page.get_by_role("link", name="Add to Google Calendar (week 1 of 3)")
    apple = page.get_by_role("link", name="Add to Apple Calendar (every week)")
    outlook = page.get_by_role("link", name="Add to Outlook (week 1 of 3)")
    for button in (google, apple, outlook):
        box = button.bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44, box
    assert google.get_attribute("href").startswith(
        "https://calendar.google.com/calendar/render?action=TEMPLATE&text=Tiny%20strokes"
    )
    assert outlook.get_attribute("href").startswith(
        "https://outlook.live.com/calendar/0/action/compose?"
    )
    assert apple.get_attribute("href").endswith("/invite.ics")
    invite = parent.context.request.get(parent.base_url + apple.get_attribute("href"))
    assert invite.headers["content-type"].startswith("text/calendar")
    assert invite.text().count("BEGIN:VEVENT") == 3
    page.locator("summary", has_text="The other weeks").click()
    week3 = page.get_by_role("link", name=re.compile(r"^Google Calendar\W+week 3$"))
    assert week3.is_visible() and "week%203%20of%203" in week3.get_attribute("href")

    parent.goto("/account/bookings")
    parent.fits_phone()
    card = page.locator(".card", has_text="Tiny strokes")
    card.locator("summary", has_text="Add to calendar").click()
    assert card.get_by_role("link", name="Add to Google Calendar (week 1 of 3)").is_visible()
    parent.check()  # axe with the buttons unfolded

    parent.goto("/account/calendar")
    parent.submit("Create my calendar link")
    link = page.locator("#feed-https").input_value()
    parent.goto("/account/calendar")
    assert page.locator("#feed-https").input_value() == link
    parent.fits_phone()
