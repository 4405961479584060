"""A make-up session reaches the parent's calendar as a booking does: an email with an
invite when it is booked, an update when its session moves, and a CANCEL when the parent
cancels it or the centre cancels its session, all under one UID with a rising SEQUENCE,
each passing libical's iTIP restrictions."""

import threading
from datetime import UTC, datetime, timedelta

import icalendar
import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import MakeupBooking, OutboxMessage, User, Workshop, WorkshopSession
from booking.services.courses import absences, makeups
from booking.services.errors import Invalid
from booking.services.schedule import edit, sessions
from booking.timefmt import to_local
from tests.itip_checker import itip_errors, require_libical
from tests.makeup_helpers import book


@pytest.fixture(autouse=True)
def _libical():
    require_libical()


def _session(workshop, number) -> WorkshopSession:
    db.session.expire_all()
    return db.session.scalar(
        sa.select(WorkshopSession).where(
            WorkshopSession.workshop_id == workshop.id, WorkshopSession.number == number
        )
    )


def _makeup_emails(recipient: str) -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(
        sa.select(OutboxMessage)
        .where(OutboxMessage.recipient == recipient, OutboxMessage.subject.like("%ake-up%"))
        .order_by(OutboxMessage.id)
    ))


def _event(message: OutboxMessage):
    assert message.ics, f"no invite with {message.subject!r}"
    assert itip_errors(message.ics) == []
    cal = icalendar.Calendar.from_ical(message.ics)
    assert str(cal["METHOD"]) == message.ics_method
    (event,) = cal.walk("VEVENT")
    return event


@pytest.fixture
def visit(ctx, make_centre, make_workshop, make_user, make_baby):
    """Ada misses week 2 of her course and makes it up in week 2 of another."""
    centre = make_centre(name="Riverside Family Hub", contact_email="hello@riverside.example")
    home = make_workshop(centre=centre, capacity=4, starts_in_days=7)
    other = make_workshop(centre=centre, capacity=2, starts_in_days=8, title="Thursday class")
    parent = make_user(email="pat@example.org")
    baby = make_baby(parent, name="Ada")
    registration_id = book(parent, baby, home)
    credit = absences.report_absence(parent_id=parent.id, registration_id=registration_id,
                                     session_id=_session(home, 2).id)
    target = _session(other, 2)
    makeup = makeups.book_makeup(parent_id=parent.id, credit_id=credit.id,
                                 session_id=target.id)
    return centre, other, parent, makeup.id, target.id


def test_a_booked_make_up_is_emailed_with_its_invite(visit):
    centre, other, parent, makeup_id, session_id = visit
    (booked,) = _makeup_emails(parent.email)
    assert booked.subject.startswith("Make-up booked: Thursday class at Riverside Family Hub")
    assert "Ada's make-up session is booked: Thursday class, week 2" in booked.body_text
    assert booked.ics_method == "REQUEST"
    event = _event(booked)
    assert str(event["UID"]).startswith(f"makeup-{makeup_id}-")
    assert str(event["SUMMARY"]) == "Make-up: Thursday class - week 2 of 4 (Ada)"
    assert str(event["ATTENDEE"]) == "mailto:pat@example.org"
    assert str(event["ORGANIZER"]) == "mailto:hello@riverside.example"
    session = db.session.get(WorkshopSession, session_id)
    assert event.decoded("DTSTART") == session.starts_at


def test_the_parent_cancelling_takes_it_out_of_the_calendar(visit):
    centre, other, parent, makeup_id, session_id = visit
    makeups.cancel_makeup(parent_id=parent.id, makeup_id=makeup_id)
    booked, cancelled = _makeup_emails(parent.email)
    assert "As you asked, Ada's make-up session" in cancelled.body_text
    assert "We are sorry" not in cancelled.body_text
    assert cancelled.ics_method == "CANCEL"
    first, last = _event(booked), _event(cancelled)
    assert last["UID"] == first["UID"]
    assert int(last["SEQUENCE"]) > int(first["SEQUENCE"])
    assert str(last["STATUS"]) == "CANCELLED"


def test_a_moved_session_updates_the_invite_and_a_cancelled_one_withdraws_it(visit):
    centre, other, parent, makeup_id, session_id = visit
    session = db.session.get(WorkshopSession, session_id)
    later = to_local(session.starts_at + timedelta(hours=2), centre.timezone)
    sessions.move_session(session_id, later.replace(tzinfo=None))
    sessions.cancel_session(session_id)
    booked, moved, cancelled = _makeup_emails(parent.email)
    assert moved.subject.startswith("Time changed for your make-up")
    assert "We are sorry: Ada's make-up session" in cancelled.body_text
    first, second, third = _event(booked), _event(moved), _event(cancelled)
    assert first["UID"] == second["UID"] == third["UID"]
    assert int(first["SEQUENCE"]) < int(second["SEQUENCE"]) < int(third["SEQUENCE"])
    assert (moved.ics_method, cancelled.ics_method) == ("REQUEST", "CANCEL")
    assert second.decoded("DTSTART") == db.session.get(WorkshopSession, session_id).starts_at


def test_a_make_up_session_is_reminded_of_once_and_again_when_it_moves(visit):
    from booking.services.booking.reminders import send_reminders

    centre, other, parent, makeup_id, session_id = visit

    def reminders():
        return [m for m in _makeup_emails(parent.email) if m.subject.startswith("Reminder:")]

    session = db.session.get(WorkshopSession, session_id)
    day_before = session.starts_at - timedelta(hours=24)
    send_reminders(session.starts_at - timedelta(hours=72))  # too early
    assert reminders() == []
    send_reminders(day_before)
    (first,) = reminders()
    assert first.subject.startswith("Reminder: make-up session, Thursday class at Riverside")
    assert "A reminder: Ada's make-up session - Thursday class, week 2" in first.body_text
    send_reminders(day_before)  # a second run queues nothing more
    assert len(reminders()) == 1
    later = to_local(session.starts_at + timedelta(hours=1), centre.timezone)
    sessions.move_session(session_id, later.replace(tzinfo=None))
    send_reminders(day_before)
    assert len(reminders()) == 2  # the new time is reminded of
    makeups.cancel_makeup(parent_id=parent.id, makeup_id=makeup_id)
    sessions.move_session(session_id, (later + timedelta(hours=1)).replace(tzinfo=None))
    send_reminders(day_before)
    assert len(reminders()) == 2  # nothing for a make-up cancelled


def test_a_make_up_booked_again_has_a_new_uid_and_its_own_reminder(visit):
    """SQLite gives a cancelled make-up's id to the next: its invite reused the UID
    under a lower SEQUENCE than the CANCEL (calendars ignored it), and its reminder
    was taken as sent."""
    from booking.models import MakeupBooking
    from booking.services.booking.reminders import send_reminders

    centre, other, parent, makeup_id, session_id = visit
    credit_id = db.session.get(MakeupBooking, makeup_id).credit_id
    session = db.session.get(WorkshopSession, session_id)
    send_reminders(session.starts_at - timedelta(hours=24))
    makeups.cancel_makeup(parent_id=parent.id, makeup_id=makeup_id)
    again = makeups.book_makeup(parent_id=parent.id, credit_id=credit_id,
                                session_id=session_id)
    booked = [m for m in _makeup_emails(parent.email) if m.subject.startswith("Make-up booked")]
    uids = [str(_event(m)["UID"]) for m in booked]
    assert len(uids) == 2 and uids[0] != uids[1]
    send_reminders(session.starts_at - timedelta(hours=24))
    reminders = [m for m in _makeup_emails(parent.email) if m.subject.startswith("Reminder:")]
    assert len(reminders) == 2, f"make-up {again.id} was not reminded"


def _local(centre, moment):
    """A UTC moment as the centre's wall-clock time, as staff give a session's start."""
    return to_local(moment, centre.timezone).replace(tzinfo=None)


def test_a_session_added_to_the_class_updates_the_visitors_week(visit):
    """Week 2 of 4 becomes week 2 of 5: the visitor gets one REQUEST under the same UID
    with a higher SEQUENCE, and later updates and the CANCEL still outrank it."""
    centre, other, parent, makeup_id, session_id = visit
    sessions.add_session(other.id, _local(centre, _session(other, 4).starts_at
                                          + timedelta(weeks=1)), 60)
    booked, added = _makeup_emails(parent.email)
    assert added.subject == (
        "Session added to the course of your make-up: Thursday class at Riverside "
        "Family Hub, week 2 of 5"
    )
    assert "Thursday class has a new session, so Ada's make-up session is now week 2 of 5" \
        in added.body_text
    assert "now <strong>week 2 of 5</strong>" in added.body_html
    assert added.ics_method == "REQUEST"
    first, second = _event(booked), _event(added)
    assert second["UID"] == first["UID"]
    assert int(second["SEQUENCE"]) == int(first["SEQUENCE"]) + 1
    assert str(second["SUMMARY"]) == "Make-up: Thursday class - week 2 of 5 (Ada)"
    assert second.decoded("DTSTART") == first.decoded("DTSTART")
    assert db.session.get(MakeupBooking, makeup_id).invite_sequence == 1

    session = db.session.get(WorkshopSession, session_id)
    sessions.move_session(session_id, _local(centre, session.starts_at + timedelta(hours=2)))
    makeups.cancel_makeup(parent_id=parent.id, makeup_id=makeup_id)
    *_, moved, cancelled = _makeup_emails(parent.email)
    third, fourth = _event(moved), _event(cancelled)
    assert str(third["SUMMARY"]) == "Make-up: Thursday class - week 2 of 5 (Ada)"
    assert int(second["SEQUENCE"]) < int(third["SEQUENCE"]) < int(fourth["SEQUENCE"])
    assert cancelled.ics_method == "CANCEL"


def test_a_visitor_whose_make_up_is_over_is_not_sent_the_new_weeks(visit):
    centre, other, parent, makeup_id, session_id = visit
    # A week on: the visit (week 2) was yesterday, weeks 3 and 4 are still to come.
    delta = _session(other, 2).starts_at - (datetime.now(UTC) - timedelta(days=1))
    for session in db.session.scalars(
        sa.select(WorkshopSession).where(WorkshopSession.workshop_id == other.id)
    ):
        session.starts_at, session.ends_at = session.starts_at - delta, session.ends_at - delta
    workshop = db.session.get(Workshop, other.id)
    workshop.first_starts_at -= delta
    workshop.last_ends_at -= delta
    db.session.commit()
    sessions.add_session(other.id, _local(centre, _session(other, 4).starts_at
                                          + timedelta(weeks=1)), 60)
    assert _session(other, 5) is not None
    (booked,) = _makeup_emails(parent.email)
    assert booked.subject.startswith("Make-up booked")
    assert db.session.get(MakeupBooking, makeup_id).invite_sequence == 0


def test_nothing_is_sent_when_adding_a_session_is_refused(visit):
    """A published course's new session goes after its last one: one before the visit
    is refused, and neither the visitor nor anyone else is written to."""
    centre, other, parent, makeup_id, session_id = visit
    before = db.session.scalar(sa.select(sa.func.count(OutboxMessage.id)))
    with pytest.raises(Invalid):
        sessions.add_session(other.id, _local(centre, _session(other, 1).starts_at
                                              + timedelta(days=2)), 60)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == before
    assert db.session.get(MakeupBooking, makeup_id).invite_sequence == 0
    assert _session(other, 5) is None


def test_a_cancelled_session_elsewhere_in_the_class_leaves_the_visitors_week_alone(visit):
    """A cancelled session keeps its place in the count ("week 2 of 4" stays), so the
    visitor of another week is not sent an update."""
    centre, other, parent, makeup_id, session_id = visit
    sessions.cancel_session(_session(other, 3).id)
    (booked,) = _makeup_emails(parent.email)
    assert db.session.get(MakeupBooking, makeup_id).invite_sequence == 0


def test_a_cancel_waiting_for_the_class_while_a_session_is_added_outranks_its_update(
    visit, app, monkeypatch
):
    """The make-up was read before the class's lock; a session added meanwhile sent the
    visitor an update one SEQUENCE higher, and the CANCEL carried that same SEQUENCE, so
    calendars could keep the visit (PostgreSQL: SQLite runs one write at a time)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("two write transactions at once: PostgreSQL")
    centre, other, parent, makeup_id, session_id = visit
    other_id = other.id
    when = to_local(_session(other, 4).starts_at + timedelta(weeks=1),
                    centre.timezone).replace(tzinfo=None)
    real_lock = makeups.lock_workshop
    added = []

    def lock_after_an_add(workshop_id):
        if not added:
            def add():
                with app.app_context():
                    sessions.add_session(other_id, when, 60)
                    db.session.remove()
            thread = threading.Thread(target=add)
            thread.start()
            thread.join()
            added.append(True)
        return real_lock(workshop_id)

    monkeypatch.setattr(makeups, "lock_workshop", lock_after_an_add)
    makeups.cancel_makeup(parent_id=parent.id, makeup_id=makeup_id)
    *_, update, cancel = _makeup_emails(parent.email)
    assert update.subject.startswith("Session added")
    assert int(_event(cancel)["SEQUENCE"]) > int(_event(update)["SEQUENCE"])


def _instructor_emails(workshop_id) -> list[OutboxMessage]:
    db.session.expire_all()
    email = db.session.get(User, db.session.get(Workshop, workshop_id).instructor_id).email
    return list(db.session.scalars(sa.select(OutboxMessage).where(
        OutboxMessage.recipient == email).order_by(OutboxMessage.id)))


def test_the_instructor_is_told_of_the_visitors_emailed_when_a_session_goes(visit):
    """The visitors were taken out before the count: "No family is booked on this class
    yet, so no one else has been emailed", though the make-up family was."""
    centre, other, parent, makeup_id, session_id = visit
    sessions.cancel_session(session_id)
    told = _instructor_emails(other.id)[-1]
    assert "cancelled" in told.subject.lower()
    assert "the 1 family making up a missed week in it" in told.body_text
    assert "No family is booked" not in told.body_text


def test_the_instructor_is_told_of_the_visitors_emailed_when_the_class_goes(visit):
    centre, other, parent, makeup_id, session_id = visit
    edit.cancel_workshop(other.id)
    told = _instructor_emails(other.id)[-1]
    assert told.subject.startswith("Your class - Class cancelled")
    assert ("We have emailed 0 families who were booked or waiting, and the 1 family "
            "making up a missed week in it.") in told.body_text
    assert "and the 1 family making up a missed week in it" in told.body_html
