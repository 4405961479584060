"""Where replies go: every email about a class has Reply-To the centre's contact email,
stored on its outbox row and sent as a header, and its words agree; account emails
say that replies are not read. Also what the booking emails say about paying."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from booking.db import write_transaction
from booking.extensions import db
from booking.mail.context import (
    AT_CENTRE,
    DEPOSIT,
    FREE,
    ONLINE,
    payment_text,
)
from booking.mail.deferred import render_notes
from booking.mail.sender import send_all_due
from booking.models import MakeupBooking, OutboxMessage, Registration, Workshop, WorkshopSession
from booking.services.accounts import passwords_reset
from booking.services.notices import emails as notify
from booking.services.notices.emails import notify_makeup_cancelled, notify_waitlist_closed
from tests.mailtools import SmtpServer, add_registration

CENTRE_EMAIL = "hello@riverside.example.org"
CENTRE_PHONE = "0117 496 0000"
REPLY_NOTE = "Reply to this email to reach Riverside Family Hub."


def outbox() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


def registration(registration_id: int) -> Registration:
    return db.session.get(Registration, registration_id)


@pytest.fixture
def booked(app, make_centre, make_user, make_baby, make_workshop):
    """A course at a centre with a contact email and phone: one booked, one waiting."""
    centre = make_centre(
        name="Riverside Family Hub",
        slug="riverside",
        contact_email=CENTRE_EMAIL,
        contact_phone=CENTRE_PHONE,
        accessibility_notes="Step-free entrance on Mill Lane.",
    )
    teacher = make_user("teacher@example.org", name="Tess Teacher", role="instructor",
                        centre=centre)
    workshop = make_workshop(
        centre=centre,
        instructor=teacher,
        title="Baby massage for beginners",
        starts_at=datetime(2036, 1, 6, 10, 0, tzinfo=UTC),
        sessions=3,
    )
    parent = make_user("parent@example.org", name="Pat Parent")
    other = make_user("other@example.org", name="Olly Other")
    ada = make_baby(parent, name="Ada", date_of_birth=date(2035, 11, 1))
    bo = make_baby(other, name="Bo", date_of_birth=date(2035, 11, 1))
    return {
        "workshop": workshop,
        "centre": centre,
        "confirmed": add_registration(app, workshop, parent, ada),
        "waiting": add_registration(app, workshop, other, bo, status="waitlisted"),
    }


def _every_class_email(booked) -> None:
    """Queue one of every email about a class."""
    workshop_id = booked["workshop"].id
    with write_transaction():
        confirmed, waiting = registration(booked["confirmed"]), registration(booked["waiting"])
        notify.notify_booking_confirmed(confirmed)
        notify.notify_waitlisted(waiting, 1)
        notify.notify_promoted(confirmed)
        notify.notify_booking_cancelled(confirmed, was_confirmed=True)
        session = db.session.scalars(
            sa.select(WorkshopSession).where(WorkshopSession.workshop_id == workshop_id)
        ).first()
        notify.notify_reminder(confirmed, session)
        notify.notify_session_changed(session, "moved")
        notify.notify_instructor_message(
            db.session.get(Workshop, workshop_id), "Parking", "The car park is shut.",
            [confirmed, waiting],
        )
        notify.notify_workshop_cancelled(
            db.session.get(Workshop, workshop_id), [confirmed, waiting]
        )
        notify_makeup_cancelled(
            MakeupBooking(id=0, parent_id=confirmed.parent_id, baby_id=confirmed.baby_id,
                          session_id=session.id, credit_id=0, created_at=datetime.now(UTC)),
            why="that session was cancelled",
        )
        notify_waitlist_closed(waiting, datetime.now(UTC))


def test_every_email_about_a_class_replies_to_the_centre(ctx, booked):
    _every_class_email(booked)
    messages = outbox()
    assert len(messages) >= 13
    for message in messages:
        where = message.subject
        assert message.reply_to == CENTRE_EMAIL, where
        assert REPLY_NOTE in message.body_text, where
        assert REPLY_NOTE in message.body_html, where
        for body in (message.body_text, message.body_html):
            assert "do not reply" not in body.lower(), where
            assert "Payment is taken at the centre" not in body, where


def test_the_instructor_message_says_replies_reach_the_centre(ctx, booked):
    with write_transaction():
        notify.notify_instructor_message(
            db.session.get(Workshop, booked["workshop"].id),
            "Parking",
            "The car park is shut.",
            [registration(booked["confirmed"])],
        )
    (message,) = outbox()
    assert message.reply_to == CENTRE_EMAIL
    assert (
        "To answer Tess Teacher, reply to this email: your reply goes to Riverside Family Hub."
        in message.body_text
    )
    assert "Please do not reply" not in message.body_text


def test_without_a_centre_email_there_is_no_reply_to_and_the_words_say_so(
    ctx, booked
):
    with write_transaction():
        db.session.get(type(booked["centre"]), booked["centre"].id).contact_email = ""
    with write_transaction():
        notify.notify_booking_confirmed(registration(booked["confirmed"]))
        notify.notify_instructor_message(
            db.session.get(Workshop, booked["workshop"].id), "Parking", "Shut.",
            [registration(booked["confirmed"])],
        )
    for message in outbox():
        assert message.reply_to is None
        assert "Reply to this email" not in message.body_text
        assert "To answer" not in message.body_text
        assert (
            "Please do not reply to this email: replies to it are not read. To ask "
            f"something, call Riverside Family Hub on {CENTRE_PHONE}."
        ) in message.body_text


def test_account_emails_keep_no_reply_wording(ctx, make_user):
    make_user("someone@example.org")
    passwords_reset.request_password_reset("someone@example.org")
    render_notes()  # as the sender does first
    (message,) = outbox()
    assert message.reply_to is None
    for body in (message.body_text, message.body_html):
        assert "Please do not reply to this email: replies to it are not read." in body
        assert "Reply to this email to reach" not in body


def test_reply_to_is_sent_as_a_header_over_smtp_and_in_eml_files(app, ctx, booked, tmp_path):
    with write_transaction():
        notify.notify_booking_confirmed(registration(booked["confirmed"]))
    passwords_reset.request_password_reset("parent@example.org")
    with SmtpServer() as server:
        server.configure(app)
        assert send_all_due().sent == 2
        received = {m["Subject"].strip().split(":")[0]: m for m in server.messages}
    assert received["Booking confirmed"]["Reply-To"] == CENTRE_EMAIL
    assert received["Reset your Baby Massage Classes password"]["Reply-To"] is None
    with write_transaction():
        notify.notify_booking_confirmed(registration(booked["confirmed"]))
    app.config.update(MAIL_SERVER=None, MAIL_DIR=str(tmp_path))
    assert send_all_due().sent == 1
    (eml,) = tmp_path.glob("*.eml")
    assert f"Reply-To: {CENTRE_EMAIL}" in eml.read_text()


def test_confirmation_says_what_to_pay_and_the_centre_phone(ctx, booked):
    with write_transaction():
        notify.notify_booking_confirmed(registration(booked["confirmed"]))
        notify.notify_promoted(registration(booked["confirmed"]))
    for message in outbox():
        assert "To pay: Pay £45.00 at the centre." in message.body_text, message.subject
        assert f"Centre phone: {CENTRE_PHONE}" in message.body_text
        assert "Pay £45.00 at the centre." in message.body_html
        assert CENTRE_PHONE in message.body_html


def test_confirmation_of_a_free_class_in_another_currency(
    app, ctx, make_centre, make_user, make_baby, make_workshop
):
    sydney = make_centre(timezone="Australia/Sydney", country="AU")
    free = make_workshop(centre=sydney, price=Decimal("0"))
    paid = make_workshop(centre=sydney, price=Decimal("30.50"))
    parent = make_user()
    baby = make_baby(parent)
    ids = [add_registration(app, w, parent, baby) for w in (free, paid)]
    with write_transaction():
        for registration_id in ids:
            notify.notify_booking_confirmed(registration(registration_id))
    free_email, paid_email = outbox()
    assert "To pay: Free: there is nothing to pay." in free_email.body_text
    assert "To pay: Pay A$30.50 at the centre." in paid_email.body_text


def test_cancellation_leaves_out_what_to_bring(ctx, booked):
    with write_transaction():
        notify.notify_booking_cancelled(registration(booked["confirmed"]), was_confirmed=True)
        notify.notify_workshop_cancelled(
            db.session.get(Workshop, booked["workshop"].id), [registration(booked["confirmed"])]
        )
    for message in outbox():
        if message.recipient != "parent@example.org":
            continue
        for body in (message.body_text, message.body_html):
            assert "What to bring" not in body, message.subject
            assert "Step-free entrance" not in body, message.subject
        assert "Baby massage for beginners" in message.body_text


def test_payment_text_for_every_mode():
    assert payment_text(FREE, Decimal("45"), "GBP") == "Free: there is nothing to pay."
    assert payment_text(AT_CENTRE, Decimal("0"), "GBP") == "Free: there is nothing to pay."
    assert payment_text(AT_CENTRE, Decimal("45"), "GBP") == "Pay £45.00 at the centre."
    assert payment_text(ONLINE, Decimal("45"), "EUR") == "€45.00, paid online by card when booking."
    assert payment_text(DEPOSIT, Decimal("45"), "GBP", Decimal("10")) == (
        "£45.00: a deposit of £10.00 paid online by card when booking, and £35.00 to pay at "
        "the centre."
    )


def test_message_page_says_where_replies_go(app, client, auth, booked, make_user):
    auth.login("teacher@example.org")
    path = f"/teach/workshops/{booked['workshop'].id}/message"
    page = client.get(path).get_data(as_text=True)
    assert f"Parents who reply to it reach Riverside Family Hub at {CENTRE_EMAIL}" in page
    with app.app_context(), write_transaction():
        db.session.get(type(booked["centre"]), booked["centre"].id).contact_email = ""
    page = client.get(path).get_data(as_text=True)
    assert "has no contact email, so the email asks parents not to reply" in page
    assert f"call {CENTRE_PHONE} instead" in page
    assert "Replies go to the centre" not in page


def test_reminder_still_tells_what_to_bring(ctx, booked):
    with write_transaction():
        confirmed = registration(booked["confirmed"])
        first = db.session.scalars(
            sa.select(WorkshopSession)
            .where(WorkshopSession.workshop_id == confirmed.workshop_id)
            .order_by(WorkshopSession.starts_at)
        ).first()
        notify.notify_reminder(confirmed, first)
    (message,) = outbox()
    assert "What to bring: A towel and some unscented oil." in message.body_text
    assert "Getting there: Step-free entrance on Mill Lane." in message.body_text
