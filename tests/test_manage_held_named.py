"""Staff see the same "full" as the public, with the places held for referrals named."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import Workshop
from booking.timefmt import format_local


@pytest.fixture
def world(make_centre, make_user):
    centre = make_centre(name="Riverside Hub", timezone="Europe/London")
    make_user("staff@example.org", role="staff", centre=centre)
    teacher = make_user("teacher@example.org", role="instructor", centre=centre)
    return {"centre": centre, "teacher": teacher}


def set_places(app, workshop_id, *, confirmed, held=0, claimed=0, release_in_days=5):
    """Counters as bookings and referral claims leave them (only the numbers matter here)."""
    held_until = datetime.now(UTC) + timedelta(days=release_in_days) if held else None
    with app.app_context():
        db.session.execute(
            sa.update(Workshop)
            .where(Workshop.id == workshop_id)
            .values(confirmed_count=confirmed, held_places=held, held_claimed=claimed,
                    held_until=held_until)
        )
        db.session.commit()
        return db.session.get(Workshop, workshop_id).held_until


def row_of(html: str, title: str) -> str:
    """The dashboard row of the workshop with that title."""
    for row in re.findall(r"<tr>.*?</tr>", html, flags=re.S):
        if f">{title}</a>" in row:
            return " ".join(row.split())
    raise AssertionError(f"no row for {title}")


def public_is_full(client, workshop_id) -> bool:
    html = client.get(f"/classes/{workshop_id}").get_data(as_text=True)
    assert ("places left" in html or "place left" in html) != ('class="badge full"' in html)
    return '<span class="badge full">Full</span>' in html


@pytest.mark.parametrize(
    ("confirmed", "held", "claimed", "full", "free"),
    [
        (6, 2, 0, True, 0),   # 6 booked and 2 still held: full for the public
        (7, 2, 1, True, 0),   # one held place claimed (and booked), one still held
        (5, 2, 1, False, 2),  # 8 - 5 booked - 1 still held
        (8, 2, 2, True, 0),   # every held place claimed
        (4, 0, 0, False, 4),
    ],
)
def test_staff_see_full_exactly_when_the_public_does(
    app, client, auth, world, make_workshop, confirmed, held, claimed, full, free
):
    w = make_workshop(centre=world["centre"], instructor=world["teacher"], capacity=8,
                      title="Baby massage", starts_in_days=14)
    held_until = set_places(app, w.id, confirmed=confirmed, held=held, claimed=claimed)
    assert public_is_full(client, w.id) is full
    auth.login("staff@example.org")
    row = row_of(client.get("/manage").get_data(as_text=True), "Baby massage")
    page = " ".join(client.get(f"/manage/workshops/{w.id}").get_data(as_text=True).split())
    expected = f"{confirmed} of 8 booked"
    if held:
        when = format_local(held_until, "Europe/London")
        expected += f" · {held} held for referrals until {when}"
        if claimed:
            expected += f" ({claimed} claimed)"
    expected += f" · {free} free"
    for html in (row, page):
        assert expected in html
        assert ('<span class="badge full">Full</span>' in html) is full


def test_dashboard_queries_do_not_grow_with_held_places(app, client, auth, world,
                                                        make_workshop):
    auth.login("staff@example.org")

    def grow(total):
        while len(made) < total:
            w = make_workshop(centre=world["centre"], instructor=world["teacher"],
                              title=f"Class {len(made)}", starts_in_days=10 + len(made))
            set_places(app, w.id, confirmed=3, held=2, claimed=len(made) % 2)
            made.append(w)

    def queries():
        client.get("/manage")
        statements = []

        def count(*args):
            statements.append(args[2])

        with app.app_context():
            engine = db.engine
        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            html = client.get("/manage").get_data(as_text=True)
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
        assert html.count("held for referrals until") == len(made)
        return len(statements)

    made = []
    grow(2)
    few = queries()
    grow(8)
    assert queries() == few
