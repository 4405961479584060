"""Booking invites: iTIP REQUEST/CANCEL, parsed back by three independent parsers."""

import icalendar
import pytest
import sqlalchemy as sa
import vobject
from ical.calendar_stream import IcsCalendarStream

from booking.extensions import db
from booking.models import Registration, WorkshopSession
from booking.services.notices.invites import invite_for_registration, invite_for_session_cancel


@pytest.fixture
def booking(ctx, make_workshop, make_user, make_baby):
    """A confirmed booking for a four-week course; returns the registration id."""
    workshop = make_workshop(sessions=4)
    parent = make_user(email="pat@example.org", name="Pat, Parent")
    baby = make_baby(parent, name="Ada")
    registration = Registration(
        workshop_id=workshop.id, baby_id=baby.id, parent_id=parent.id, status="confirmed"
    )
    db.session.add(registration)
    db.session.commit()
    return registration.id


def _events(text):
    cal = icalendar.Calendar.from_ical(text)
    IcsCalendarStream.calendar_from_ics(text)
    vobject.readOne(text)
    return cal, list(cal.walk("VEVENT"))


def test_request_has_method_organizer_and_attendee(booking):
    """A REQUEST lists every session with ORGANIZER and the parent as ATTENDEE."""
    text = invite_for_registration(db.session.get(Registration, booking))
    cal, events = _events(text)
    assert cal["METHOD"] == "REQUEST"
    assert len(events) == 4
    for event in events:
        assert str(event["ORGANIZER"]) == "mailto:centre1@example.org"  # the centre
        assert event["ORGANIZER"].params["CN"] == "Centre 1"
        assert str(event["ATTENDEE"]) == "mailto:pat@example.org"
        assert event["ATTENDEE"].params["CN"] == "Pat, Parent"
        assert event["ATTENDEE"].params["PARTSTAT"] == "ACCEPTED"
        assert event["STATUS"] == "CONFIRMED"
        assert event["SEQUENCE"] == 0
    assert "week 2 of 4" in str(events[1]["SUMMARY"])


def test_cancel_keeps_uids_and_raises_sequence(booking):
    """Cancelling the booking sends CANCEL for the same UIDs with a higher SEQUENCE."""
    registration = db.session.get(Registration, booking)
    _, before = _events(invite_for_registration(registration))
    registration.status = "cancelled"
    registration.invite_sequence += 1
    db.session.commit()
    cal, after = _events(invite_for_registration(registration, method="CANCEL"))
    assert cal["METHOD"] == "CANCEL"
    assert [e["UID"] for e in after] == [e["UID"] for e in before]
    assert all(e["STATUS"] == "CANCELLED" for e in after)
    assert all(a["SEQUENCE"] > b["SEQUENCE"] for a, b in zip(after, before, strict=True))


def test_session_cancel_is_one_event(booking):
    """A cancelled session gets a CANCEL for that session's UID only."""
    registration = db.session.get(Registration, booking)
    session = db.session.scalar(
        sa.select(WorkshopSession).where(
            WorkshopSession.workshop_id == registration.workshop_id, WorkshopSession.number == 2
        )
    )
    session.status = "cancelled"
    session.revision += 1
    db.session.commit()
    cal, events = _events(invite_for_session_cancel(session, registration))
    assert cal["METHOD"] == "CANCEL"
    assert len(events) == 1
    assert events[0]["UID"].startswith(f"session-{session.id}-")
    assert events[0]["SEQUENCE"] == 1
    assert events[0]["STATUS"] == "CANCELLED"


def test_an_emailed_invite_is_stamped_when_it_is_written(booking):
    """With a METHOD, DTSTAMP is when the invite was made (RFC 5545 3.8.7.2): a session
    added to a course renames the other weeks ("week 1 of 5") without moving their
    SEQUENCE, and an update stamped like the first invite was ignored by calendars. A
    PUBLISH download keeps the data's own time, so the same data gives the same file."""
    from datetime import UTC, datetime, timedelta

    long_ago = datetime.now(UTC).replace(microsecond=0) - timedelta(days=30)
    registration = db.session.get(Registration, booking)
    registration.created_at = registration.confirmed_at = long_ago
    db.session.execute(sa.update(WorkshopSession).values(updated_at=long_ago))
    db.session.commit()
    before = datetime.now(UTC).replace(microsecond=0)
    _, events = _events(invite_for_registration(registration))
    assert all(e["DTSTAMP"].dt >= before for e in events)
    _, published = _events(invite_for_registration(registration, method="PUBLISH"))
    assert all(e["DTSTAMP"].dt == long_ago for e in published)
