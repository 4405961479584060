"""A week the family says they will miss leaves their calendar (a CANCEL for that week
with a higher SEQUENCE), stays out of later updates of the booking, and comes back
(a REQUEST outranking the CANCEL) when they can come after all."""

from datetime import timedelta

import icalendar
import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.mail.deferred import render_notes
from booking.models import OutboxMessage, WorkshopSession
from booking.services.courses import absences
from booking.services.schedule import sessions
from booking.timefmt import to_local
from tests.itip_checker import itip_errors, require_libical
from tests.makeup_helpers import book


@pytest.fixture(autouse=True)
def _libical():
    require_libical()


def _week(workshop, number) -> WorkshopSession:
    db.session.expire_all()
    return db.session.scalar(sa.select(WorkshopSession).where(
        WorkshopSession.workshop_id == workshop.id, WorkshopSession.number == number))


def _sent(recipient: str) -> list[OutboxMessage]:
    render_notes()
    db.session.expire_all()
    return list(db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.recipient == recipient)
        .order_by(OutboxMessage.id)))


def _events(message: OutboxMessage) -> dict[str, icalendar.Event]:
    assert itip_errors(message.ics) == []
    cal = icalendar.Calendar.from_ical(message.ics)
    assert str(cal["METHOD"]) == message.ics_method
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


@pytest.fixture
def course(ctx, make_centre, make_workshop, make_user, make_baby):
    centre = make_centre(name="Riverside Hub")
    home = make_workshop(centre=centre, capacity=4, sessions=4, starts_in_days=7)
    make_workshop(centre=centre, capacity=4, sessions=4, starts_in_days=8, title="Thursday")
    parent = make_user(email="pat@example.org")
    registration_id = book(parent, make_baby(parent, name="Ada"), home)
    return centre, home, parent, registration_id


def test_a_missed_week_leaves_the_calendar_and_comes_back(course):
    centre, home, parent, registration_id = course
    (confirmed,) = _sent(parent.email)
    week2 = _week(home, 2)
    uid = next(u for u in _events(confirmed) if u.startswith(f"session-{week2.id}-"))
    absences.report_absence(parent_id=parent.id, registration_id=registration_id,
                            session_id=week2.id)
    noted = _sent(parent.email)[-1]
    assert noted.subject.startswith("Noted, you will miss week 2")
    assert "You have a make-up credit for that week, good until" in noted.body_text
    assert noted.ics_method == "CANCEL"
    (cancel,) = _events(noted).values()
    assert str(cancel["UID"]) == uid and str(cancel["STATUS"]) == "CANCELLED"
    assert int(cancel["SEQUENCE"]) > int(_events(confirmed)[uid]["SEQUENCE"])

    # A later update of the booking does not put the missed week back.
    week3 = _week(home, 3)
    later = to_local(week3.starts_at + timedelta(hours=1), centre.timezone)
    sessions.move_session(week3.id, later.replace(tzinfo=None))
    moved = _sent(parent.email)[-1]
    assert moved.ics_method == "REQUEST" and uid not in _events(moved)

    absences.take_back_absence(parent_id=parent.id, registration_id=registration_id,
                               session_id=week2.id)
    back = _sent(parent.email)[-1]
    assert back.subject.startswith("Coming after all")
    assert back.ics_method == "REQUEST"
    event = _events(back)[uid]
    assert int(event["SEQUENCE"]) > int(cancel["SEQUENCE"])
    assert str(event.get("STATUS", "CONFIRMED")) == "CONFIRMED"


def test_said_and_taken_back_before_sending_sends_only_what_stands(course):
    centre, home, parent, registration_id = course
    before = len(_sent(parent.email))
    week2 = _week(home, 2)
    absences.report_absence(parent_id=parent.id, registration_id=registration_id,
                            session_id=week2.id)
    absences.take_back_absence(parent_id=parent.id, registration_id=registration_id,
                               session_id=week2.id)
    new = _sent(parent.email)[before:]
    assert [m.subject.split(":")[0] for m in new] == ["Coming after all"]


def test_said_taken_back_and_said_again_sends_one_email(course):
    centre, home, parent, registration_id = course
    before = len(_sent(parent.email))
    week2 = _week(home, 2)
    for step in (absences.report_absence, absences.take_back_absence,
                 absences.report_absence):
        step(parent_id=parent.id, registration_id=registration_id, session_id=week2.id)
    new = _sent(parent.email)[before:]
    assert [m.subject.split(",")[0] for m in new] == ["Noted"]


def test_a_missed_week_that_moves_is_not_said_to_change_in_the_calendar(course):
    centre, home, parent, registration_id = course
    week2 = _week(home, 2)
    uid = f"session-{week2.id}-"
    absences.report_absence(parent_id=parent.id, registration_id=registration_id,
                            session_id=week2.id)
    later = to_local(week2.starts_at + timedelta(hours=2), centre.timezone)
    sessions.move_session(week2.id, later.replace(tzinfo=None))
    moved = _sent(parent.email)[-1]
    assert moved.subject.startswith("Time changed:") and "week 2 of 4" in moved.subject
    for body in (moved.body_text, moved.body_html):
        assert "changes it in your calendar" not in body
        assert "You told us you will miss this session, so it stays off your calendar" in body
        assert "make-up credit for week 2 of 4 stands" in body
    assert not any(u.startswith(uid) for u in _events(moved))

    # Another week moving is still said to change in the calendar.
    week3 = _week(home, 3)
    later = to_local(week3.starts_at + timedelta(hours=1), centre.timezone)
    sessions.move_session(week3.id, later.replace(tzinfo=None))
    other = _sent(parent.email)[-1]
    assert "The attached update changes it in your calendar" in other.body_text
    assert "You told us you will miss" not in other.body_text


def test_a_missed_week_that_changes_room_is_not_said_to_have_a_new_time(course):
    centre, home, parent, registration_id = course
    week2 = _week(home, 2)
    absences.report_absence(parent_id=parent.id, registration_id=registration_id,
                            session_id=week2.id)
    sessions.move_session(week2.id, None, room="Garden room")
    room = _sent(parent.email)[-1]
    assert room.subject.startswith("Room changed:")
    for body in (room.body_text, room.body_html):
        assert "You told us you will miss this session, so it stays off your calendar" in body
        assert "If you can come after all, you can say you are coming" in body
        assert "new time" not in body
