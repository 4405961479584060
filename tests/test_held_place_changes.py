"""A family holding a place while they pay (booked in a class paid online, or offered a
place from the waiting list) is told when a session of the class moves, is cancelled,
changes room or is added, or the centre's address changes: what changed, that the place
is still held until its deadline, and the pay link, with no calendar invite (they have
none yet: the confirmation brings it, with the sessions as they are then)."""

import re
from datetime import timedelta

import icalendar
import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import OutboxMessage, Registration, WorkshopSession
from booking.models.registration import CONFIRMED, PENDING_PAYMENT
from booking.services.booking.book import book_place
from booking.services.catalogue import centres
from booking.services.payments import checkout
from booking.services.schedule.sessions import add_session, cancel_session, move_session
from booking.timefmt import format_local, to_local
from tests.payment_helpers import card_token

BASE = "https://classes.example.org"


def _session(workshop_id: int, number: int) -> WorkshopSession:
    db.session.rollback()
    return db.session.scalar(
        sa.select(WorkshopSession).where(
            WorkshopSession.workshop_id == workshop_id, WorkshopSession.number == number
        )
    )


def _mail_to(email: str) -> list[OutboxMessage]:
    db.session.rollback()
    return list(db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.recipient == email)
        .order_by(OutboxMessage.id)
    ))


@pytest.fixture
def held(app, stripe, make_centre, make_workshop, make_user, make_baby):
    """A published course of 4 sessions, £60 paid online: Ada's family paid for their
    place, Cleo's holds one while they pay."""
    centre = make_centre(name="Riverside Hub", address="1 Quay")
    teacher = make_user("teacher@example.org", role="instructor", centre=centre)
    workshop = make_workshop(centre=centre, instructor=teacher, payment_mode="online",
                             price="60.00", capacity=4, title="Baby massage")
    paid = make_user("paid@example.org")
    holder = make_user("holder@example.org")
    with app.app_context():
        ada = book_place(parent_id=paid.id, workshop_id=workshop.id,
                         baby_id=make_baby(paid, "Ada").id, consent=True).registration_id
        outcome = checkout.pay_with_card(ada, paid.id, card_token(stripe))
        assert outcome.state == "paid"
        cleo = book_place(parent_id=holder.id, workshop_id=workshop.id,
                          baby_id=make_baby(holder, "Cleo").id, consent=True).registration_id
        db.session.rollback()
        registration = db.session.get(Registration, cleo)
        assert registration.status == PENDING_PAYMENT
        deadline = format_local(registration.hold_expires_at, "Europe/London")
    return {"workshop": workshop, "centre": centre, "holder": holder, "cleo": cleo,
            "deadline": deadline}


def _words(body: str) -> str:
    """An email body as read: tags out, spaces as one."""
    return " ".join(re.sub(r"<[^>]+>", "", body).split())


def _held_email(held) -> OutboxMessage:
    """The one email the holder got about the change, checked for what every such
    email says: still held until when, the pay link, no invite."""
    (message,) = _mail_to("holder@example.org")
    assert message.subject.endswith(f" - your place is held until {held['deadline']}")
    assert message.ics is None and message.ics_method is None
    pay = f"{BASE}/account/bookings/{held['cleo']}/pay"
    for body in (message.body_text, message.body_html):
        said = _words(body)
        assert f"is still held for you until {held['deadline']}" in said
        assert pay in body
        assert f"{BASE}/account/bookings/{held['cleo']}/cancel" in body
        assert "£60.00" in said
        assert "calendar invite for every session as it is then" in said
        assert "attached" not in said  # nothing is attached
    return message


def _start_local(session: WorkshopSession, **shift):
    return (to_local(session.starts_at, "Europe/London") + timedelta(**shift)).replace(
        tzinfo=None
    )


def test_a_session_moved_tells_the_family_holding_a_place(app, held):
    with app.app_context():
        week_2 = _session(held["workshop"].id, 2)
        move_session(week_2.id, _start_local(week_2, days=1))
        message = _held_email(held)
        assert message.subject.startswith("Time changed: Baby massage at Riverside Hub, week 2")
        assert "has moved. It is now on" in message.body_text
        assert "The amount to pay has not changed" not in message.body_text


def test_a_room_change_tells_the_family_holding_a_place(app, held):
    with app.app_context():
        move_session(_session(held["workshop"].id, 3).id, None, room="Garden Room")
        message = _held_email(held)
        assert message.subject.startswith("Room changed: ")
        assert "is now in Garden Room" in message.body_text


def test_a_session_added_tells_the_family_holding_a_place(app, held):
    with app.app_context():
        last = _session(held["workshop"].id, 4)
        add_session(held["workshop"].id, _start_local(last, days=7), 60)
        message = _held_email(held)
        assert message.subject.startswith("Session added: ")
        assert "has a new session: week 5 of 5" in message.body_text
        assert "The amount to pay has not changed." in message.body_text


def test_a_session_cancelled_tells_the_family_holding_a_place_what_paying_brings(
    app, held
):
    with app.app_context():
        cancel_session(_session(held["workshop"].id, 2).id)
        message = _held_email(held)
        assert message.subject.startswith("Session cancelled: ")
        assert "make-up or refund" not in message.subject
        for body in (message.body_text, message.body_html):
            said = _words(body)
            assert "is cancelled" in said
            # Nothing was paid yet, so there is nothing to choose now: what they pay to
            # keep the place is what it was, and paying brings the choice the families
            # who paid have (tests/test_held_session_refund.py).
            assert (
                "The amount to pay has not changed: once you have paid, you choose a "
                "make-up credit for that week or a refund of its share of what you paid, "
                "as the families who have paid already do. Your confirmation brings the "
                "two links."
            ) in said
            assert "/choice" not in body


def test_a_new_address_tells_the_family_holding_a_place(app, held):
    with app.app_context():
        centres.update_centre(held["centre"].id, address="5 Harbour Walk")
        message = _held_email(held)
        assert message.subject.startswith("Where it meets has changed: ")
        assert "now meets at Riverside Hub, 5 Harbour Walk" in message.body_text


def test_the_instructor_counts_the_family_holding_a_place(app, held):
    with app.app_context():
        cancel_session(_session(held["workshop"].id, 2).id)
        (told,) = [m for m in _mail_to("teacher@example.org")
                   if m.subject.startswith("Your class - Session cancelled")]
        for body in (told.body_text, told.body_html):
            assert ("We have emailed the 1 confirmed family and the 1 family holding a "
                    "place while they pay") in _words(body)


def test_a_hold_past_its_deadline_is_not_told_it_is_held(app, held):
    """A hold whose time ran out waits for the payments run to let it go (and say so):
    an email saying it is held until a time gone by would be wrong."""
    with app.app_context():
        registration = db.session.get(Registration, held["cleo"])
        registration.hold_expires_at = registration.created_at - timedelta(minutes=1)
        db.session.commit()
        move_session(_session(held["workshop"].id, 3).id, None, room="Garden Room")
        assert _mail_to("holder@example.org") == []
        (told,) = [m for m in _mail_to("teacher@example.org") if "Room changed" in m.subject]
        assert "holding a place" not in told.body_text


def test_the_invite_on_paying_carries_the_sessions_as_they_are_now(app, stripe, held):
    """The family was sent no invite while they held the place; the one that comes with
    their confirmation has the moved week at its new time and no cancelled week, each
    event's SEQUENCE its session's revision (above anything sent, as nothing was)."""
    with app.app_context():
        workshop_id = held["workshop"].id
        week_2 = _session(workshop_id, 2)
        moved_to = _start_local(week_2, days=1)
        move_session(week_2.id, moved_to)
        cancel_session(_session(workshop_id, 3).id)
        before = _mail_to("holder@example.org")
        assert len(before) == 2 and all(m.ics is None for m in before)
        outcome = checkout.pay_with_card(held["cleo"], held["holder"].id, card_token(stripe))
        assert outcome.state == "paid"
        assert db.session.get(Registration, held["cleo"]).status == CONFIRMED
        confirmed = next(m for m in _mail_to("holder@example.org")[2:]
                         if m.subject.startswith("Booking confirmed: "))
        assert confirmed.ics_method == "REQUEST"
        events = icalendar.Calendar.from_ical(confirmed.ics).walk("VEVENT")
        sessions = {s.id: s for s in db.session.scalars(
            sa.select(WorkshopSession).where(WorkshopSession.workshop_id == workshop_id))}
        by_uid = {str(e["UID"]).split("-")[1]: e for e in events}
        cancelled = _session(workshop_id, 3)
        assert str(cancelled.id) not in by_uid  # the cancelled week is not in it
        assert len(events) == 3
        week_2 = _session(workshop_id, 2)
        event = by_uid[str(week_2.id)]
        assert event.decoded("DTSTART") == week_2.starts_at
        assert to_local(week_2.starts_at, "Europe/London").replace(tzinfo=None) == moved_to
        assert int(event["SEQUENCE"]) == week_2.revision == 1
        for session_id, e in by_uid.items():
            assert int(e["SEQUENCE"]) == sessions[int(session_id)].revision

