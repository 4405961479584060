""""Ready for <day>?" for a make-up visit: the make-up reminder's link, what the page
shows and what each answer does (well and immunised kept for the visited session and
shown on its register; "can't come" cancels the make-up, after asking), and the links
it refuses."""

import html
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import MakeupBooking, MakeupCredit, OutboxMessage, SessionReadiness
from booking.services.booking.reminders import send_reminders
from booking.services.courses import absences, makeups
from booking.services.health.readiness import (
    MAKEUP_SALT,
    made_stamp,
    makeup_readiness_token,
    readiness_of,
    readiness_token,
)
from booking.services.schedule.sessions import cancel_session
from booking.services.signed_links import sign_stamped_ids
from tests.html_checker import html_errors
from tests.makeup_helpers import book, session_of

LONDON = ZoneInfo("Europe/London")
MAKEUP_LINK = re.compile(r"https://classes\.example\.org(/ready/makeups/[A-Za-z0-9_.\-]+)")
BUTTON = '<button type="submit" name="status"'


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def visit(ctx, make_centre, make_workshop, make_user, make_baby):
    """Bob's Bobby misses week 2 of his course (B) and makes it up in week 2 of Ines's
    course A, at the same centre, eight days away."""
    centre = make_centre()
    ines = make_user("ines@example.org", name="Ines Teacher", role="instructor", centre=centre)
    a = make_workshop(centre=centre, instructor=ines, starts_in_days=1, title="Tuesday massage")
    b = make_workshop(centre=centre, starts_in_days=2, title="Wednesday massage")
    bob = make_user("bob@example.org", name="Bob Parent")
    bob_reg = book(bob, make_baby(bob, name="Bobby"), b)
    credit = absences.report_absence(
        parent_id=bob.id, registration_id=bob_reg, session_id=session_of(b, 2).id
    ).id
    week2 = session_of(a, 2)
    makeup = makeups.book_makeup(parent_id=bob.id, credit_id=credit, session_id=week2.id)
    return {
        "centre": centre, "a": a, "b": b, "bob": bob, "bob_reg": bob_reg, "credit": credit,
        "session": week2.id, "starts_at": week2.starts_at, "makeup": makeup.id,
    }


def link_of(app, visit) -> str:
    """The path of the make-up's "Ready" link, as its reminder gives it."""
    makeup = db.session.get(MakeupBooking, visit["makeup"])
    with app.test_request_context():
        return f"/ready/makeups/{makeup_readiness_token(makeup)}"


def test_the_make_up_reminder_carries_a_ready_link_for_the_visited_session(
    app, client, visit
):
    assert send_reminders(now=visit["starts_at"] - timedelta(hours=30)) >= 1
    message = db.session.scalar(
        sa.select(OutboxMessage).where(OutboxMessage.dedupe_key.like("reminder:makeup:%"))
    )
    weekday = visit["starts_at"].astimezone(LONDON).strftime("%A")
    assert f"Ready for {weekday}?" in message.body_text
    assert f"Ready for {weekday}?" in message.body_html
    link = MAKEUP_LINK.search(message.body_text).group(1)
    assert link == link_of(app, visit)
    assert link in message.body_html
    # Followed logged out, as from the inbox: the visited class and day.
    page = client.get(link)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "private, no-store"
    text = text_of(page)
    assert f"Ready for {weekday}?" in text
    assert "Tuesday massage" in text and "Week 2 of 4" in text
    assert "Bobby's make-up session" in text
    assert text.count(BUTTON) == 3
    assert "Your make-up session will be cancelled" in text  # said before the tap


def test_immunised_is_kept_for_the_visit_and_shown_on_the_visited_register(
    app, client, auth, visit
):
    link = link_of(app, visit)
    response = client.post(link, data={"status": "immunised"})
    assert response.status_code == 200
    assert "Bobby comes to watch" in text_of(response)
    place, session = visit["bob_reg"], visit["session"]
    assert readiness_of([place], [session]) == {(place, session): "immunised"}
    auth.login("ines@example.org")
    register = text_of(client.get(f"/teach/sessions/{session}/register"))
    makeup_rows = register.split("Make-up from another course", 1)[1]
    assert "Bobby" in makeup_rows and "Doll today" in makeup_rows
    assert "Immunisations" in makeup_rows
    # The parent changes it to well from the same link, logged in this time.
    auth.logout()
    auth.login("bob@example.org")
    response = client.post(link, data={"status": "well"})
    assert response.status_code == 200
    assert "we have recorded that Bobby is well" in text_of(response)
    db.session.expire_all()
    assert readiness_of([place], [session]) == {(place, session): "well"}
    auth.logout()
    auth.login("ines@example.org")
    register = text_of(client.get(f"/teach/sessions/{session}/register"))
    assert "Doll today" not in register.split("Make-up from another course", 1)[1]


def test_cant_come_asks_then_cancels_the_make_up_and_gives_the_credit_back(
    app, client, visit
):
    link = link_of(app, visit)
    client.post(link, data={"status": "well"})
    asked = client.post(link, data={"status": "unwell"})
    assert asked.status_code == 200
    text = text_of(asked)
    assert "Cancel Bobby's make-up session?" in text
    assert "credit for week 2 can be booked again" in text
    assert "Yes, cancel the make-up" in text
    db.session.expire_all()
    assert db.session.get(MakeupBooking, visit["makeup"]) is not None  # nothing yet
    done = client.post(link, data={"status": "unwell", "confirm": "yes"})
    assert done.status_code == 200
    text = text_of(done)
    assert "Your make-up session is cancelled" in text
    assert "credit for week 2 can be used for another session" in text
    assert BUTTON not in text
    db.session.expire_all()
    assert db.session.get(MakeupBooking, visit["makeup"]) is None
    assert db.session.get(MakeupCredit, visit["credit"]).used_at is None
    assert session_of(visit["a"], 2).makeups_taken == 0
    # The visit's answer went with it; the parent was emailed the cancellation.
    assert db.session.scalar(sa.select(sa.func.count(SessionReadiness.id))) == 0
    assert db.session.scalar(
        sa.select(OutboxMessage.id).where(OutboxMessage.subject.like("Make-up cancelled:%"))
    )
    # The link of a cancelled make-up: a 404 page that says so, and changes nothing.
    for method in (client.get, client.post):
        response = method(link, data={"status": "well"})
        assert response.status_code == 404
        assert "no longer booked" in text_of(response)
    assert db.session.scalar(sa.select(sa.func.count(SessionReadiness.id))) == 0


def test_the_link_answers_for_its_own_make_up_and_session_only(
    app, client, visit, make_workshop
):
    other = session_of(visit["a"], 3).id
    makeup = db.session.get(MakeupBooking, visit["makeup"])
    stamp = made_stamp(makeup)
    with app.test_request_context():
        paths = [
            # Signed for another session of the class visited.
            "/ready/makeups/" + sign_stamped_ids(MAKEUP_SALT, stamp, makeup.id, other),
            # A booking's own link for Bob's place, naming the visited session.
            "/ready/" + readiness_token(visit["bob_reg"], visit["session"]),
            # A booking's token under the make-up door, and an altered one.
            "/ready/makeups/" + readiness_token(makeup.id, visit["session"]),
            link_of(app, visit)[:-2] + "AA",
        ]
    for path in paths:
        for method in (client.get, client.post):
            response = method(path, data={"status": "unwell", "confirm": "yes"})
            assert response.status_code == 404, path
    db.session.expire_all()
    assert db.session.get(MakeupBooking, visit["makeup"]) is not None
    assert db.session.scalar(sa.select(sa.func.count(SessionReadiness.id))) == 0


def test_a_link_for_a_make_up_whose_id_came_again_is_refused(app, client, visit):
    """SQLite can give a cancelled make-up's id to another family's next one: the link
    names when its make-up was booked, so it does not open the newcomer's."""
    link = link_of(app, visit)
    makeup = db.session.get(MakeupBooking, visit["makeup"])
    makeup.created_at = makeup.created_at + timedelta(seconds=5)
    db.session.commit()
    for method in (client.get, client.post):
        response = method(link, data={"status": "well"})
        assert response.status_code == 404
        assert "no longer booked" in text_of(response)
    assert db.session.scalar(sa.select(sa.func.count(SessionReadiness.id))) == 0


def test_the_logged_in_page_is_the_parent_s_own_make_up(app, client, auth, visit, make_user):
    path = f"/account/makeups/{visit['makeup']}/ready"
    assert client.get(path).status_code == 302
    make_user("other@example.org")
    db.session.rollback()  # this test's reads began before the new account was made
    auth.login("other@example.org")
    assert client.get(path).status_code == 404
    assert client.post(path, data={"status": "well"}).status_code == 404
    auth.logout()
    auth.login("bob@example.org")
    bookings = text_of(client.get("/account/bookings"))
    assert f'href="{path}"' in bookings
    page = client.get(path)
    assert page.status_code == 200 and text_of(page).count(BUTTON) == 3
    assert client.post(path, data={"status": "well"}).status_code == 200
    place, session = visit["bob_reg"], visit["session"]
    db.session.expire_all()
    assert readiness_of([place], [session]) == {(place, session): "well"}


def test_a_started_or_cancelled_visit_cannot_be_answered(app, client, visit):
    link = link_of(app, visit)
    week2 = session_of(visit["a"], 2)
    week2.starts_at = datetime.now(UTC) - timedelta(minutes=5)
    week2.ends_at = week2.starts_at + timedelta(hours=1)
    db.session.commit()
    for data in ({"status": "unwell", "confirm": "yes"}, {"status": "unwell"}):
        response = client.post(link, data=data)
        assert response.status_code == 422
        assert "has started" in text_of(response) and BUTTON not in text_of(response)
    page = client.get(link)
    assert page.status_code == 200 and "has started" in text_of(page)
    db.session.expire_all()
    assert db.session.get(MakeupBooking, visit["makeup"]) is not None


def test_a_make_up_into_a_cancelled_session_is_a_404_that_says_so(app, client, visit):
    link = link_of(app, visit)
    cancel_session(visit["session"])
    for method in (client.get, client.post):
        response = method(link, data={"status": "well"})
        assert response.status_code == 404
        assert "no longer booked" in text_of(response)


def test_a_cancelled_session_s_ready_page_says_it_was_cancelled(app, client, visit):
    """A booking's own "Ready" link for a session since cancelled: the page says so,
    not that it "has started or is no longer on"."""
    session = session_of(visit["b"], 3)
    session.status = "cancelled"
    db.session.commit()
    with app.test_request_context():
        path = "/ready/" + readiness_token(visit["bob_reg"], session.id)
    page = client.get(path)
    assert page.status_code == 200
    assert "This session was cancelled, so there is nothing to answer." in text_of(page)
    response = client.post(path, data={"status": "well"})
    assert response.status_code == 422
    assert "This session was cancelled" in text_of(response)
    assert "has started or is no longer on" not in text_of(response)


def test_make_up_ready_pages_are_valid_html(app, client, visit):
    link = link_of(app, visit)
    pages = {
        "question": client.get(link).get_data(as_text=True),
        "well": client.post(link, data={"status": "well"}).get_data(as_text=True),
        "asked": client.post(link, data={"status": "unwell"}).get_data(as_text=True),
        "cancelled": client.post(
            link, data={"status": "unwell", "confirm": "yes"}
        ).get_data(as_text=True),
        "gone": client.get(link).get_data(as_text=True),
    }
    assert html_errors(pages) == {label: [] for label in pages}
