"""Booking emails written as notes and rendered after commit (booking.mail.deferred):
the booking holds its lock only to write a row, the email exists if and only if the
booking committed, and the sender sends each once, whole, with its invite."""

from email import message_from_bytes
from pathlib import Path

import pytest
import sqlalchemy as sa

from booking.db import write_transaction
from booking.extensions import db
from booking.mail import deferred
from booking.mail.sender import claim_due, send_all_due
from booking.models import OutboxMessage, Registration, utcnow
from booking.models.outbox import FAILED, SENT
from booking.services.booking import book as book_module
from booking.services.booking.book import book_place, cancel_registration


def outbox() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


@pytest.fixture
def course(make_centre, make_user, make_workshop):
    centre = make_centre(name="Riverside Family Hub")
    return make_workshop(centre=centre, title="Baby massage", capacity=1, sessions=3)


def book(parent, baby, workshop):
    return book_place(parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id,
                      consent=True)


def test_a_booking_writes_a_note_that_the_sender_renders_and_sends_once(
    app, ctx, course, make_user, make_baby
):
    parent = make_user("pat@example.org")
    ada = make_baby(parent, name="Ada")
    result = book(parent, ada, course)
    (note,) = outbox()
    assert (note.kind, note.ref_id, note.recipient) == (
        "booking_confirmed", result.registration_id, "pat@example.org"
    )
    assert note.body_text is None and note.ics is None and note.subject == ""
    assert claim_due("a-sender") == []  # never claimed before it is rendered

    report = send_all_due()
    assert report.sent == 1
    (message,) = outbox()
    assert message.status == SENT
    assert message.subject == "Booking confirmed: Baby massage at Riverside Family Hub for Ada"
    assert "Week 1 of 3: " in message.body_text and "Riverside Family Hub" in message.body_text
    assert message.ics_method == "REQUEST" and message.ics.count("BEGIN:VEVENT") == 3
    (eml,) = Path(app.config["MAIL_DIR"]).glob("*.eml")
    sent = message_from_bytes(eml.read_bytes())
    assert sent["Subject"] == message.subject
    assert any(part.get_content_type() == "text/calendar" for part in sent.walk())
    assert send_all_due().sent == 0  # once


def test_joining_the_waiting_list_says_the_position_it_was_given(
    ctx, course, make_user, make_baby
):
    first, second = make_user(), make_user("wait@example.org")
    book(first, make_baby(first), course)
    result = book(second, make_baby(second, name="Bo"), course)
    assert result.position == 1
    assert deferred.render_notes() == 2
    waiting = outbox()[-1]
    assert waiting.kind == "waitlisted" and waiting.params == {"position": 1}
    assert waiting.subject.startswith("On the waiting list (number 1): Baby massage")


def test_no_booking_no_email(ctx, course, make_user, make_baby, monkeypatch):
    """A booking that fails after its note was written leaves no note behind."""
    parent = make_user()

    def fail(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(book_module, "_result", fail)
    with pytest.raises(RuntimeError):
        book(parent, make_baby(parent), course)
    assert outbox() == []
    assert db.session.scalar(sa.select(sa.func.count(Registration.id))) == 0


def test_two_renderers_store_a_note_once(ctx, course, make_user, make_baby):
    parent = make_user()
    book(parent, make_baby(parent), course)
    assert deferred.render_notes() == 1
    assert deferred.render_notes() == 0
    (message,) = outbox()
    assert message.body_text and message.subject.startswith("Booking confirmed")


def test_a_note_whose_booking_is_gone_is_dropped(ctx, course, make_user, make_baby):
    parent = make_user()
    result = book(parent, make_baby(parent), course)
    with write_transaction():
        db.session.execute(sa.delete(Registration).where(Registration.id == result.registration_id))
    assert deferred.render_notes() == 1
    assert outbox() == []


def test_a_note_that_cannot_be_rendered_waits_and_the_others_go(
    ctx, course, make_user, make_baby, make_workshop, monkeypatch
):
    parent = make_user()
    book(parent, make_baby(parent), course)
    other = make_workshop(title="Another class")
    book(parent, make_baby(parent, name="Twin"), other)
    original = deferred._RENDERERS["booking_confirmed"]
    first_id = outbox()[0].ref_id

    def broken(ref_id, params):
        if ref_id == first_id:
            raise ValueError("a template error")
        return original(ref_id, params)

    monkeypatch.setitem(deferred._RENDERERS, "booking_confirmed", broken)
    assert deferred.render_notes() == 1
    stuck, done = outbox()
    assert stuck.body_text is None and done.body_text
    assert stuck.attempts == 1 and "ValueError: a template error" in stuck.last_error
    assert stuck.next_attempt_at > utcnow()  # tried again later, not on every pass
    assert deferred.render_notes() == 0
    monkeypatch.setitem(deferred._RENDERERS, "booking_confirmed", original)
    assert send_all_due().sent == 1
    with write_transaction():
        db.session.execute(sa.update(OutboxMessage).values(next_attempt_at=utcnow()))
    assert send_all_due().sent == 1  # its turn came: rendered and sent


def test_a_note_that_never_renders_is_failed_in_the_end(ctx, course, make_user, make_baby,
                                                        monkeypatch):
    parent = make_user()
    book(parent, make_baby(parent), course)

    def broken(ref_id, params):
        raise ValueError("a template error")

    monkeypatch.setitem(deferred._RENDERERS, "booking_confirmed", broken)
    for _ in range(deferred.MAX_RENDER_ATTEMPTS):
        with write_transaction():
            db.session.execute(sa.update(OutboxMessage).values(next_attempt_at=utcnow()))
        deferred.render_notes()
    (note,) = outbox()
    assert note.status == FAILED and note.attempts == deferred.MAX_RENDER_ATTEMPTS


def test_a_note_overtaken_by_events_is_dropped(ctx, course, make_user, make_baby):
    """Cancelled before its confirmation was rendered, promoted before its waiting-list
    email was: the emails about those changes say it all, so the notes go."""
    first, second = make_user("first@example.org"), make_user("second@example.org")
    placed = book(first, make_baby(first), course)
    waiting = book(second, make_baby(second), course)
    cancel_registration(placed.registration_id, actor_id=first.id)  # promotes the second
    kinds = [m.kind for m in outbox()]
    assert kinds[:2] == ["booking_confirmed", "waitlisted"]
    deferred.render_notes()
    left = outbox()
    assert all(m.kind is None for m in left)  # only the emails written whole remain
    assert {m.recipient for m in left} == {"first@example.org", "second@example.org"}
    assert db.session.get(Registration, waiting.registration_id).status == "confirmed"


def test_notes_are_rendered_after_commit_only(ctx):
    with pytest.raises(LookupError):
        with write_transaction():
            deferred.queue_note("a@example.org", "no-such-kind", 1)
    with pytest.raises(RuntimeError), write_transaction():
        deferred.render_notes()
