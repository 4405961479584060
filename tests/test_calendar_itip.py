"""Every invite the site produces passes libical's iTIP restrictions for its METHOD.

RFC 5546 says, per METHOD, which properties an event must have exactly once (such as
ORGANIZER in PUBLISH, REQUEST and CANCEL), may have, or must not have (ATTENDEE in
PUBLISH), and which STATUS values it may carry (only TENTATIVE or CONFIRMED in a
REQUEST). Calendar apps that follow it drop invites that do not.
"""

from datetime import timedelta
from email import message_from_bytes
from email.policy import default

import icalendar
import pytest
import sqlalchemy as sa

from booking.calendar.invite import PUBLISH
from booking.extensions import db
from booking.mail.message import Outgoing, build_message
from booking.models import OutboxMessage, Registration, WorkshopSession
from booking.services.booking import book as booking
from booking.services.notices.invites import invite_for_registration, invite_for_session_cancel
from booking.services.schedule import edit, sessions
from booking.timefmt import to_local
from tests.itip_checker import itip_errors, require_libical


@pytest.fixture(autouse=True)
def _libical():
    require_libical()


def assert_itip_valid(text: str, method: str) -> None:
    cal = icalendar.Calendar.from_ical(text)
    assert cal["METHOD"] == method
    assert cal.walk("VEVENT"), "an invite without any event"
    assert itip_errors(text) == []


def _sessions(workshop_id) -> list[WorkshopSession]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(WorkshopSession)
            .where(WorkshopSession.workshop_id == workshop_id)
            .order_by(WorkshopSession.number)
        )
    )


def _emailed_calendars() -> list[tuple[str, str]]:
    """(METHOD, text) of every calendar part of every queued email, as it is sent."""
    found = []
    for row in db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)):
        if not row.ics:
            continue
        item = Outgoing(
            id=row.id, recipient=row.recipient, subject=row.subject, body_text=row.body_text,
            body_html=row.body_html, ics=row.ics, ics_method=row.ics_method,
            created_at=row.created_at, reply_to=row.reply_to,
        )
        raw = build_message(item, "Classes <bookings@example.org>").as_bytes()
        parsed = message_from_bytes(raw, policy=default)
        for part in parsed.walk():
            if part.get_content_type() in ("text/calendar", "application/ics"):
                found.append((row.ics_method, part.get_payload(decode=True).decode("utf-8")))
    return found


def test_the_itip_checker_catches_a_missing_organizer():
    """The checker itself: a PUBLISH event without ORGANIZER is refused."""
    text = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\nMETHOD:PUBLISH\r\n"
        "BEGIN:VEVENT\r\nUID:a@example.org\r\nDTSTAMP:20270101T000000Z\r\n"
        "DTSTART:20270102T100000Z\r\nSUMMARY:Class\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    errors = itip_errors(text)
    assert errors and "ORGANIZER" in errors[0]


def test_every_emailed_invite_passes_the_itip_restrictions(
    ctx, make_centre, make_workshop, make_user, make_baby
):
    """Booking, promotion, moved, cancelled session, cancelled booking, cancelled class."""
    centre = make_centre(name="Riverside Family Hub", contact_email="hello@riverside.example")
    workshop = make_workshop(centre=centre, sessions=4, capacity=1)
    first, second = make_user(email="first@example.org"), make_user(email="second@example.org")
    places = [
        booking.book_place(
            parent_id=parent.id, workshop_id=workshop.id, baby_id=make_baby(parent).id,
            consent=True,
        ).registration.id
        for parent in (first, second)
    ]
    rows = _sessions(workshop.id)
    sessions.cancel_session(rows[1].id)
    later = to_local(rows[2].starts_at + timedelta(hours=2), centre.timezone)
    sessions.move_session(rows[2].id, later.replace(tzinfo=None))
    booking.cancel_registration(places[0], actor_id=first.id)  # promotes the second
    other = make_workshop(centre=centre, sessions=2)
    booking.book_place(
        parent_id=first.id, workshop_id=other.id, baby_id=make_baby(first, name="Bo").id,
        consent=True,
    )
    edit.cancel_workshop(other.id, "The room flooded.")

    calendars = _emailed_calendars()
    assert {method for method, _ in calendars} == {"REQUEST", "CANCEL"}
    for method, text in calendars:
        assert_itip_valid(text, method)
        for event in icalendar.Calendar.from_ical(text).walk("VEVENT"):
            assert str(event["ORGANIZER"]) == "mailto:hello@riverside.example"
            assert event["ORGANIZER"].params["CN"] == "Riverside Family Hub"


def test_the_downloaded_invite_passes_as_publish(
    app, client, auth, make_centre, make_workshop, make_user, make_baby
):
    """/account/bookings/<id>/invite.ics, also with a cancelled session in the course."""
    centre = make_centre(name="Riverside Family Hub", contact_email="hello@riverside.example")
    workshop = make_workshop(centre=centre, sessions=3)
    parent = make_user(email="pat@example.org")
    with app.app_context():
        registration_id = booking.book_place(
            parent_id=parent.id, workshop_id=workshop.id, baby_id=make_baby(parent).id,
            consent=True,
        ).registration.id
        sessions.cancel_session(_sessions(workshop.id)[0].id)
    auth.login("pat@example.org")
    response = client.get(f"/account/bookings/{registration_id}/invite.ics")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert_itip_valid(text, PUBLISH)
    events = icalendar.Calendar.from_ical(text).walk("VEVENT")
    assert [str(e["STATUS"]) for e in events] == ["CANCELLED", "CONFIRMED", "CONFIRMED"]
    for event in events:
        assert str(event["ORGANIZER"]) == "mailto:hello@riverside.example"
        assert event["ORGANIZER"].params["CN"] == "Riverside Family Hub"
        assert "ATTENDEE" not in event


@pytest.mark.parametrize("state", ["confirmed", "session-cancelled", "booking-cancelled",
                                   "class-cancelled", "all-sessions-cancelled"])
@pytest.mark.parametrize("method", ["PUBLISH", "REQUEST", "CANCEL"])
def test_every_method_in_every_state_passes(
    ctx, make_centre, make_workshop, make_user, make_baby, state, method
):
    """The builders directly, for each METHOD and each state a booking can be in."""
    centre = make_centre(contact_email="")  # no contact email: the site's sender address
    workshop = make_workshop(centre=centre, sessions=3)
    parent = make_user(email="pat@example.org", name="Pat")
    registration = Registration(
        workshop_id=workshop.id, baby_id=make_baby(parent).id, parent_id=parent.id,
        status="confirmed",
    )
    db.session.add(registration)
    db.session.flush()
    rows = _sessions(workshop.id)
    if state == "session-cancelled":
        rows[1].status = "cancelled"
    elif state == "all-sessions-cancelled":
        for row in rows:
            row.status = "cancelled"
    elif state == "booking-cancelled":
        registration.status = "cancelled"
    elif state == "class-cancelled":
        db.session.get(type(workshop), workshop.id).status = "cancelled"
    db.session.commit()
    text = invite_for_registration(registration.id, method)
    sent_as = method
    if method == "REQUEST" and state in ("booking-cancelled", "class-cancelled",
                                         "all-sessions-cancelled"):
        sent_as = "CANCEL"  # a calendar must never re-add what was withdrawn
    assert_itip_valid(text, sent_as)
    events = icalendar.Calendar.from_ical(text).walk("VEVENT")
    assert all(str(e["ORGANIZER"]).startswith("mailto:") for e in events)
    if sent_as == "REQUEST":
        assert all(str(e["STATUS"]) == "CONFIRMED" for e in events)
        assert len(events) == (2 if state == "session-cancelled" else 3)
    assert itip_errors(invite_for_session_cancel(rows[0].id, registration.id)) == []


def test_a_booking_cancelled_part_way_keeps_the_weeks_the_family_came_to(
    app, client, ctx, make_centre, make_workshop, make_user, make_baby
):
    """Staff cancel a booking after week 1: the CANCEL withdraws weeks 2 to 4 only, and
    the parent's private feed still shows week 1 as it was."""
    from booking.services.accounts.feed_tokens import issue_feed_token

    workshop = make_workshop(centre=make_centre(), sessions=4)
    parent = make_user(email="leaving@example.org")
    place = booking.book_place(parent_id=parent.id, workshop_id=workshop.id, consent=True,
                               baby_id=make_baby(parent).id).registration.id
    rows = _sessions(workshop.id)
    first = db.session.get(WorkshopSession, rows[0].id)
    first.starts_at -= timedelta(days=8)  # week 1 has run
    first.ends_at -= timedelta(days=8)
    db.session.commit()
    token = issue_feed_token(parent.id)

    def week_1():
        feed = icalendar.Calendar.from_ical(client.get(f"/feeds/private/{token}.ics").data)
        return {str(e["UID"]).split("@")[0]: e for e in feed.walk("VEVENT")}

    before = week_1()[f"session-{rows[0].id}"]
    booking.cancel_registration(place, actor_id=parent.id, on_behalf=True)
    cancel = invite_for_registration(place, "CANCEL")
    assert_itip_valid(cancel, "CANCEL")
    withdrawn = {str(e["UID"]) for e in icalendar.Calendar.from_ical(cancel).walk("VEVENT")}
    assert len(withdrawn) == 3 and not any(f"session-{rows[0].id}-" in u for u in withdrawn)
    emailed = [text for method, text in _emailed_calendars() if method == "CANCEL"]
    assert emailed and all(text.count("BEGIN:VEVENT") == 3 for text in emailed)
    events = week_1()
    assert list(events) == [f"session-{rows[0].id}"]
    kept = events[f"session-{rows[0].id}"]
    assert str(kept["STATUS"]) == "CONFIRMED"
    # The same event as before, never with a lower SEQUENCE: still the baby's week.
    assert str(kept["SUMMARY"]) == str(before["SUMMARY"])
    assert int(kept["SEQUENCE"]) >= int(before["SEQUENCE"])
