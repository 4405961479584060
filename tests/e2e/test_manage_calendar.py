"""The term calendar in a real browser on the demo data: staff reach it from /manage and
see the demo term's week with fill bars and their numbers at 1280 pixels, and one day
at a time at 360 pixels; axe finds no serious problem at either size."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from booking.demo.data import DEMO_PASSWORD, LONDON
from booking.extensions import db
from booking.models import Centre, Workshop, WorkshopSession
from booking.services.schedule.calendar import CalendarDay
from booking.timefmt import format_local_date, to_local
from tests.e2e.conftest import PHONE

FILL = re.compile(r"\d+ booked( · \d+ held)? · \d+ free · \d+ waiting")


@pytest.fixture
def js():
    """axe needs JavaScript; the calendar works without it (tests/test_manage_calendar.py)."""
    return True


@pytest.fixture
def full_week(app, runner):
    """The demo data; the local day of the first session of its full class (with families
    waiting), and how many sessions the staff's centre has that day."""
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        centre = db.session.scalar(sa.select(Centre).where(Centre.slug == LONDON))
        starts = db.session.scalars(
            sa.select(WorkshopSession.starts_at)
            .join(Workshop, Workshop.id == WorkshopSession.workshop_id)
            .where(Workshop.centre_id == centre.id)
        ).all()
        first = db.session.scalar(
            sa.select(WorkshopSession.starts_at)
            .join(Workshop, Workshop.id == WorkshopSession.workshop_id)
            .where(Workshop.title == "Small-group massage for premature babies")
            .order_by(WorkshopSession.starts_at)
        )
        day = to_local(first, centre.timezone).date()
        same_day = [s for s in starts if to_local(s, centre.timezone).date() == day]
        return {"day": day, "label": format_local_date(first, centre.timezone),
                "count": len(same_day)}


def _staff(visitor):
    staff = visitor()
    staff.login("staff@example.com", DEMO_PASSWORD)
    staff.goto("/manage")
    staff.follow("Term calendar")
    assert staff.page.get_by_role("heading", level=1).inner_text() == "Term calendar"
    return staff


def test_the_week_on_a_desktop_has_fill_bars_with_their_numbers(app, full_week, visitor):
    staff = _staff(visitor)
    staff.goto(f"/manage/calendar?date={full_week['day'].isoformat()}")
    page = staff.page
    grid = page.locator(".cal-wide table.cal-week")
    assert grid.is_visible() and page.locator(".cal-narrow").is_hidden()
    assert grid.locator("thead th").count() == 7
    block = grid.locator(".cal-block", has_text="Small-group massage for premature babies").first
    assert FILL.search(block.inner_text()), block.inner_text()
    bar = block.locator("svg.cal-bar").bounding_box()
    assert bar["width"] > 60 and bar["height"] >= 6, bar
    booked = block.locator("rect.bar-booked").bounding_box()
    waiting = block.locator("rect.bar-waiting").bounding_box()
    assert 0 < booked["width"] < bar["width"] and waiting["x"] > booked["x"]
    assert grid.locator(".cal-block").count() >= full_week["count"]
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1280


def test_a_phone_shows_one_day_at_a_time(app, full_week, visitor):
    staff = _staff(visitor)
    page = staff.page
    page.set_viewport_size(PHONE)
    staff.goto(f"/manage/calendar?date={full_week['day'].isoformat()}")  # axe at 360 px
    assert page.locator(".cal-wide").is_hidden()
    day = page.locator(".cal-narrow")
    assert day.is_visible()
    assert day.get_by_role("heading", level=3).inner_text().startswith(full_week["label"])
    assert day.locator(".cal-block").count() == full_week["count"]
    block = day.locator(".cal-block", has_text="Small-group massage for premature babies")
    assert FILL.search(block.inner_text()) and block.locator("svg.cal-bar").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    staff.follow("Next day")
    following = CalendarDay(full_week["day"] + timedelta(days=1), []).long
    assert day.get_by_role("heading", level=3).inner_text().startswith(following)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
