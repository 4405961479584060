"""Layout in a real browser on the demo data: no word split across lines in the tables of
/manage and the roster or on the bookings page, at 360 and 1280 pixels; wide tables
scroll in a focusable, named wrapper; cancel is well apart from "Add to calendar"; the
printed register has a real tick box, phone numbers and notes; centre pages show their
calendar links without list bullets."""

import pytest
import sqlalchemy as sa

from booking.demo.data import DEMO_PASSWORD
from booking.extensions import db
from booking.models import Baby, Registration, User, Workshop, WorkshopSession
from tests.e2e.conftest import DESKTOP, PHONE

# Every word (between spaces and dashes) of the visible text under the selector whose
# DOM Range lies on more than one line.
SPLIT_WORDS = """(selector) => {
  const split = [];
  for (const root of document.querySelectorAll(selector)) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    let node;
    while ((node = walker.nextNode())) {
      if (node.parentElement.closest('.visually-hidden')) continue;
      const words = /[^\\s\\-\\u2010-\\u2014]+/g;
      let m;
      while ((m = words.exec(node.textContent))) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const rects = [...range.getClientRects()].filter(r => r.width > 0 && r.height > 0);
        if (rects.length < 2) continue;
        const tops = rects.map(r => r.top);
        if (Math.max(...tops) - Math.min(...tops) > rects[0].height / 2) {
          split.push(m[0]);
        }
      }
    }
  }
  return split;
}"""

SCROLL_WRAPPERS = """() => [...document.querySelectorAll('.table-scroll')].map(w => {
  const by = w.getAttribute('aria-labelledby');
  const name = w.getAttribute('aria-label')
    || (by && document.getElementById(by) ? document.getElementById(by).textContent : '');
  return {tabindex: w.getAttribute('tabindex'), role: w.getAttribute('role'),
          name: name.trim(), overflow: getComputedStyle(w).overflowX};
})"""


@pytest.fixture
def js():
    """Layout does not depend on JavaScript: these run once, with it on (and axe)."""
    return True


@pytest.fixture
def demo(app, runner):
    """The demo data, with a phone number and notes on the demo parent's booking."""
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        parent = db.session.scalar(sa.select(User).where(User.email == "parent@example.com"))
        parent.phone = "07700 900123"
        booking = db.session.scalar(
            sa.select(Registration)
            .join(Baby, Baby.id == Registration.baby_id)
            .where(Registration.parent_id == parent.id, Baby.name == "Leo")
        )
        booking.notes = "Leo has reflux; feeds just before class."
        db.session.get(Baby, booking.baby_id).notes = "Hip check due at 12 weeks."
        session = db.session.scalar(
            sa.select(WorkshopSession)
            .where(WorkshopSession.workshop_id == booking.workshop_id)
            .order_by(WorkshopSession.number)
        )
        centre_id = db.session.get(Workshop, booking.workshop_id).centre_id
        db.session.commit()
        return {"workshop": booking.workshop_id, "session": session.id, "centre": centre_id}


def _no_split_words(visitor, selector: str):
    page = visitor.page
    for size in (PHONE, DESKTOP):
        page.set_viewport_size(size)
        split = page.evaluate(SPLIT_WORDS, selector)
        assert split == [], f"words split across lines on {page.url} at {size['width']}px"
    page.set_viewport_size(PHONE)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width}px wide at 360px"
    page.set_viewport_size(DESKTOP)


def _scroll_wrappers_are_focusable_and_named(visitor):
    wrappers = visitor.page.evaluate(SCROLL_WRAPPERS)
    assert wrappers, f"no table on {visitor.page.url}"
    for wrapper in wrappers:
        assert wrapper["tabindex"] == "0" and wrapper["role"] == "region", wrapper
        assert wrapper["name"] and wrapper["overflow"] == "auto", wrapper


def test_no_word_is_split_in_tables_or_booking_cards(app, demo, visitor):
    staff = visitor()
    staff.login("staff@example.com", DEMO_PASSWORD)
    staff.goto("/manage")
    _no_split_words(staff, "td, th")
    _scroll_wrappers_are_focusable_and_named(staff)

    instructor = visitor()
    instructor.login("instructor@example.com", DEMO_PASSWORD)
    instructor.goto(f"/teach/workshops/{demo['workshop']}")
    _no_split_words(instructor, "td, th")
    _scroll_wrappers_are_focusable_and_named(instructor)

    parent = visitor()
    parent.login("parent@example.com", DEMO_PASSWORD)
    parent.goto("/account/bookings")
    _no_split_words(parent, "td, th, .card")


def test_cancel_sits_well_apart_from_add_to_calendar(app, demo, visitor):
    parent = visitor()
    parent.login("parent@example.com", DEMO_PASSWORD)
    parent.goto("/account/bookings")
    page = parent.page
    for size in (PHONE, DESKTOP):
        page.set_viewport_size(size)
        card = page.locator(
            ".card", has=page.get_by_role("link", name="Cancel booking")
        ).first
        add = card.locator("summary", has_text="Add to calendar").bounding_box()
        cancel = card.get_by_role("link", name="Cancel booking").bounding_box()
        for box in (add, cancel):
            assert box["width"] >= 24 and box["height"] >= 24, box
        top, bottom = max(add["y"], cancel["y"]), min(
            add["y"] + add["height"], cancel["y"] + cancel["height"]
        )
        if top < bottom:  # side by side
            gap = cancel["x"] - (add["x"] + add["width"])
        else:  # one above the other
            gap = cancel["y"] - (add["y"] + add["height"])
        assert gap >= 24, f"{gap}px between the buttons at {size['width']}px"


def test_the_printed_register_has_tick_boxes_phones_and_notes(app, demo, visitor):
    instructor = visitor()
    instructor.login("instructor@example.com", DEMO_PASSWORD)
    instructor.goto(f"/teach/sessions/{demo['session']}/register")
    page = instructor.page
    page.emulate_media(media="print")
    boxes = page.locator("table.register .tick-box")
    assert boxes.count() >= 1
    for i in range(boxes.count()):
        box = boxes.nth(i).bounding_box()
        # 14pt is 18.7 CSS pixels.
        assert 17 <= box["width"] <= 20 and 17 <= box["height"] <= 20, box
    row = page.locator("table.register tr", has_text="Leo")
    for words in ("07700 900123", "Leo has reflux", "Hip check due at 12 weeks"):
        assert row.get_by_text(words).is_visible(), words
    assert not page.get_by_role("button", name="Save attendance").is_visible()
    page.emulate_media(media="screen")
    assert not boxes.first.is_visible()


WIDE_TABLES = """[...document.querySelectorAll('.table-scroll')]
  .filter(w => w.scrollWidth > w.clientWidth).map(w => w.getAttribute('aria-labelledby'))"""


def _on_phone(visitor, email: str, path: str):
    """A demo account's visitor on `path` at a phone's width, where no table scrolls
    sideways."""
    person = visitor()
    person.login(email, DEMO_PASSWORD)
    person.goto(path)
    person.page.set_viewport_size(PHONE)
    assert person.page.evaluate(WIDE_TABLES) == []
    return person


def _on_screen(*locators):
    for locator in locators:
        box = locator.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box


def test_the_register_on_a_phone_shows_attended_and_health_without_scrolling(
    app, demo, visitor
):
    """At 360 pixels the register is a card per baby, each value under its column's
    name: the Present / Absent choice and the health flags are on the screen, not in a
    table scrolled sideways (Health was its fifth column). Paper keeps the table."""
    instructor = _on_phone(visitor, "instructor@example.com",
                           f"/teach/sessions/{demo['session']}/register")
    page = instructor.page
    row = page.locator("table.register tbody tr", has_text="Leo")
    health = row.locator("td.health")
    _on_screen(health, row.get_by_label("Present"))
    label = health.evaluate("td => getComputedStyle(td, '::before').content")
    assert label == '"Health: "'
    instructor.fits_phone()  # and back to a desktop's width, where a table is a table
    assert row.evaluate("tr => getComputedStyle(tr).display") == "table-row"
    page.set_viewport_size(PHONE)
    page.emulate_media(media="print")
    assert row.evaluate("tr => getComputedStyle(tr).display") == "table-row"
    assert health.evaluate("td => getComputedStyle(td, '::before').content") == "none"


def test_the_roster_on_a_phone_shows_each_register_link_and_phone(app, demo, visitor):
    """At 360 pixels the roster's sessions and babies are cards too: each session's
    Register link, and a baby's health, ages, parent's phone and notes, are on the
    screen (the link and the phone were off it, past the table's edge)."""
    instructor = _on_phone(visitor, "instructor@example.com",
                           f"/teach/workshops/{demo['workshop']}")
    page = instructor.page
    links = page.get_by_role("link", name="Register for session")
    assert links.count() >= 2
    _on_screen(*(links.nth(i) for i in range(links.count())))
    leo = page.locator("table.roster tbody tr", has_text="Leo")
    _on_screen(leo.locator("td.health"), leo.get_by_text("07700 900123"),
               leo.get_by_text("Leo has reflux"))
    assert leo.get_by_text("Age at week 1:").count() == 0  # a label, not text
    labels = leo.locator("td").evaluate_all(
        "tds => tds.map(td => getComputedStyle(td, '::before').content)")
    assert '"Age at week 1: "' in labels and '"Phone: "' in labels
    instructor.fits_phone()  # and back to a desktop's width, where a table is a table
    assert leo.evaluate("tr => getComputedStyle(tr).display") == "table-row"
    assert page.locator("table.roster").evaluate("t => getComputedStyle(t).display") == "table"


def test_the_staff_workshops_and_sessions_on_a_phone_show_every_column(app, demo, visitor):
    """The staff's lists of workshops (/manage) and of a class's sessions are cards at
    360 pixels: the places, the waiting list and each session's Move and Cancel
    buttons are on the screen."""
    staff = _on_phone(visitor, "staff@example.com", "/manage")
    page = staff.page
    first = page.locator("table.card-rows tbody tr").first
    _on_screen(first.locator("td[data-label=Places]"),
               first.locator("td[data-label=Waiting]"))
    staff.goto(f"/manage/workshops/{demo['workshop']}")
    assert page.evaluate(WIDE_TABLES) == []
    moves = page.get_by_role("link", name="Move or change room")
    cancels = page.get_by_role("link", name="Cancel session")
    assert moves.count() >= 2 and cancels.count() == moves.count()
    _on_screen(*(b.nth(i) for b in (moves, cancels) for i in range(moves.count())))
    move, cancel = moves.first.bounding_box(), cancels.first.bounding_box()
    assert cancel["y"] - (move["y"] + move["height"]) >= 8  # apart, as on a desktop
    staff.fits_phone()
    assert moves.first.evaluate("a => getComputedStyle(a.closest('tr')).display") == (
        "table-row")


@pytest.mark.parametrize(("email", "path", "row", "cells"), [
    ("staff@example.com", "/manage/centres/{centre}/payments", "#workshops-caption",
     ["Paid online", "Owed at the centre", "Paid at the centre"]),
    ("staff@example.com", "/manage/centres/{centre}/health-questions", "#current-caption",
     ["What a yes means", "Label on the roster"]),
    ("admin@example.com", "/admin", "#centres-caption", ["Town", "Time zone", "Shown"]),
])
def test_the_staff_money_questions_and_centres_on_a_phone_are_cards(
    app, demo, visitor, email, path, row, cells
):
    """A centre's payments by workshop, its health questions and the admin's centres are
    cards at 360 pixels too: each value after its column's name, on the screen."""
    person = _on_phone(visitor, email, path.format(centre=demo["centre"]))
    table = person.page.locator(f"table.card-rows:has({row})")
    first = table.locator("tbody tr").first
    _on_screen(first, *(first.locator(f"td[data-label='{name}']") for name in cells))
    label = first.locator(f"td[data-label='{cells[0]}']").evaluate(
        "td => getComputedStyle(td, '::before').content")
    assert label == f'"{cells[0]}: "'
    person.fits_phone()
    assert first.evaluate("tr => getComputedStyle(tr).display") == "table-row"


def test_centre_calendar_links_have_no_list_bullets(app, demo, visitor):
    anyone = visitor()
    anyone.goto("/centres/riverside-family-hub")
    markers = anyone.page.evaluate(
        """() => [...document.querySelectorAll('section ul.actions > li')]
             .map(li => getComputedStyle(li).listStyleType)"""
    )
    assert markers and set(markers) == {"none"}, markers


def test_a_long_unspaced_baby_name_keeps_the_class_page_on_a_phone(app, demo, visitor):
    """A baby's name of 80 letters without a space (the field takes 80) wraps in the
    booking form's choice of baby: it pushed the page to 1,000 pixels wide, and "Book
    a place" off a phone's screen."""
    with app.app_context():
        leo = db.session.scalar(sa.select(Baby).where(Baby.name == "Leo"))
        leo.name = "Maximilian" * 8
        db.session.commit()
    parent = visitor()
    parent.login("parent@example.com", DEMO_PASSWORD)
    parent.goto(f"/classes/{demo['workshop']}")
    assert parent.page.get_by_text("Maximilian" * 8).count() >= 1
    parent.fits_phone()
