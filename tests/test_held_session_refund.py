"""A family holding a place while they pay when the centre cancels a week of the course
pays the price they were asked (for every week); once their payment succeeds they get
the choice the families who had paid got for that week: a make-up credit, or a refund
of its share. Once, whichever of the pay page, the webhook or the payments run settles
the payment, and however often. Payments are real ones at localstripe."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from booking.db import write_transaction
from booking.extensions import db
from booking.models import (
    MakeupCredit,
    OutboxMessage,
    Payment,
    Refund,
    Registration,
    WorkshopSession,
)
from booking.models.payment import AWAITING_CHOICE, REFUND_SUCCEEDED, WITHDRAWN
from booking.models.registration import CONFIRMED, PENDING_PAYMENT
from booking.services.booking.book import book_place
from booking.services.payments import checkout, gateway, worker
from booking.services.payments.session_refunds import choose_for_session
from booking.services.payments.settle import settle_intent
from booking.services.schedule.sessions import cancel_session
from tests.payment_helpers import card_token, refunds_at, signed_event

LINK_RE = re.compile(r"https://classes\.example\.org(/account/bookings/\d+/sessions/\d+/choice)"
                     r"\?choice=(makeup|refund)")


def _session(workshop_id: int, number: int) -> WorkshopSession:
    db.session.rollback()
    return db.session.scalar(
        sa.select(WorkshopSession).where(
            WorkshopSession.workshop_id == workshop_id, WorkshopSession.number == number
        )
    )


def _refunds_of(registration_id: int) -> list[Refund]:
    db.session.rollback()
    return list(db.session.scalars(
        sa.select(Refund).join(Payment, Payment.id == Refund.payment_id)
        .where(Payment.registration_id == registration_id).order_by(Refund.id)
    ))


def _mail_to(email: str) -> list[OutboxMessage]:
    db.session.rollback()
    return list(db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.recipient == email)
        .order_by(OutboxMessage.id)
    ))


def _words(body: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", "", body).split())


def _webhook(client, intent_id: str) -> str:
    """A signed `payment_intent.succeeded` event, each time a new one; the outcome."""
    payload, signature = signed_event("payment_intent.succeeded", intent_id)
    answer = client.post("/payments/stripe/webhook", data=payload,
                         headers={"Stripe-Signature": signature},
                         content_type="application/json")
    assert answer.status_code == 200
    return answer.get_json()["outcome"]


@pytest.fixture
def course(stripe, make_centre, make_workshop, make_user):
    """A published course of 4 sessions at a centre, paid online (£60) unless told."""
    centre = make_centre(name="Riverside Hub")
    teacher = make_user("teacher@example.org", role="instructor", centre=centre)

    def make(**fields):
        values = {"payment_mode": "online", "price": "60.00", "capacity": 4,
                  "title": "Baby massage"}
        values.update(fields)
        return make_workshop(centre=centre, instructor=teacher, **values)

    return make


def _hold(app, stripe, workshop, parent, baby) -> tuple[int, str]:
    """Book a place (held while the parent pays) and open the pay page, which asks the
    provider for the PaymentIntent: the registration id and the intent's id."""
    with app.app_context():
        registration_id = book_place(parent_id=parent.id, workshop_id=workshop.id,
                                     baby_id=baby.id, consent=True).registration_id
        assert checkout.pay_page(registration_id, parent.id).state == checkout.TO_PAY
        db.session.rollback()
        assert db.session.get(Registration, registration_id).status == PENDING_PAYMENT
        intent_id = db.session.scalar(sa.select(Payment.stripe_payment_intent_id).where(
            Payment.registration_id == registration_id))
    assert intent_id
    return registration_id, intent_id


def test_a_week_cancelled_while_held_is_offered_once_paid_and_refunded_once(
    app, client, auth, stripe, course, make_user, make_baby
):
    workshop = course()
    holder = make_user("holder@example.org")
    cleo, intent_id = _hold(app, stripe, workshop, holder, make_baby(holder, "Cleo"))
    with app.app_context():
        week_2 = _session(workshop.id, 2).id
        cancel_session(week_2)
        # Nothing paid yet: nothing to choose, and the held email says what paying brings.
        assert _refunds_of(cleo) == []
        (held_email,) = _mail_to("holder@example.org")[-1:]
        for body in (held_email.body_text, held_email.body_html):
            said = _words(body)
            assert "The amount to pay has not changed: once you have paid, you choose a " \
                   "make-up credit for that week or a refund of its share" in said
        # The card goes through at the provider; the webhook is the first to hear of it.
        gateway.confirm_with_card(intent_id, card_token(stripe))
        db.session.rollback()
    assert _webhook(client, intent_id) == "confirmed"
    # The same news again, by webhook, by the pay page's check and by the payments run.
    assert _webhook(client, intent_id) == "already_settled"
    with app.app_context():
        assert checkout.check_payment(cleo, holder.id) == ""
        settle_intent(gateway.retrieve_intent(intent_id))
        worker.run_payments()
        (refund,) = _refunds_of(cleo)
        assert refund.status == AWAITING_CHOICE
        assert (refund.amount, refund.session_id) == (1500, week_2)  # £60 over 4 weeks
        assert refund.reason == "Week 2 cancelled by the centre"
        soon = datetime.now(UTC) + timedelta(days=7)
        assert soon - timedelta(minutes=5) < refund.due_at <= soon
        assert db.session.get(Registration, cleo).status == CONFIRMED
        confirmations = [m for m in _mail_to("holder@example.org")
                         if m.subject.startswith("Booking confirmed")]
        assert len(confirmations) == 1
        (confirmation,) = confirmations
        assert confirmation.subject.endswith(" - make-up or refund?")
        assert confirmation.ics_method == "REQUEST"
        path = f"/account/bookings/{cleo}/sessions/{week_2}/choice"
        for body in (confirmation.body_text, confirmation.body_html):
            assert set(LINK_RE.findall(body)) == {(path, "makeup"), (path, "refund")}
            said = _words(body)
            assert "The centre cancelled week 2 while your place was held" in said
            assert "A refund of £15.00" in said
    auth.login("holder@example.org")
    assert "Choose a make-up or the refund" in client.get("/account/bookings").get_data(
        as_text=True)
    assert client.post(path, data={"choice": "refund"}).status_code == 302
    with app.app_context():
        assert worker.run_payments().refunded == 1
        assert worker.run_payments().refunded == 0
        assert [r["amount"] for r in refunds_at(stripe, intent_id)] == [1500]
        (refund,) = _refunds_of(cleo)
        assert refund.status == REFUND_SUCCEEDED
        assert db.session.scalar(
            sa.select(Payment.refunded).where(Payment.registration_id == cleo)) == 1500
        assert db.session.get(Registration, cleo).status == CONFIRMED
    # A second choice is refused.
    assert client.post(path, data={"choice": "makeup"}).status_code == 409


def test_a_week_cancelled_before_the_hold_began_gives_nothing_more(
    app, stripe, course, make_user, make_baby
):
    """The price asked does not leave out a week already cancelled: the family booked
    the class as it was then, at that price, and nothing more is offered."""
    workshop = course()
    with app.app_context():
        cancel_session(_session(workshop.id, 2).id)
    parent = make_user("later@example.org")
    registration_id, _intent = _hold(app, stripe, workshop, parent, make_baby(parent))
    with app.app_context(), write_transaction():
        # Its plan written during the hold is no new cancellation (`cancelled_at`).
        _session(workshop.id, 2).plan_title = "Moved to the spring term"
    with app.app_context():
        assert db.session.scalar(sa.select(Payment.amount).where(
            Payment.registration_id == registration_id)) == 6000
        outcome = checkout.pay_with_card(registration_id, parent.id, card_token(stripe))
        assert outcome.state == "paid"
        assert _refunds_of(registration_id) == []
        (confirmation,) = [m for m in _mail_to("later@example.org")
                           if m.subject.startswith("Booking confirmed")]
        assert "refund" not in confirmation.subject
        assert "/choice" not in confirmation.body_text


def test_two_weeks_cancelled_while_held_each_get_the_choice(
    app, stripe, course, make_user, make_baby
):
    workshop = course()
    with app.app_context():
        cancel_session(_session(workshop.id, 4).id)  # before the hold: nothing for it
    parent = make_user("two@example.org")
    registration_id, _intent = _hold(app, stripe, workshop, parent, make_baby(parent))
    with app.app_context():
        weeks = [_session(workshop.id, n).id for n in (2, 3)]
        for session_id in weeks:
            cancel_session(session_id)
        assert checkout.pay_with_card(
            registration_id, parent.id, card_token(stripe)).state == "paid"
        refunds = _refunds_of(registration_id)
        assert [(r.session_id, r.amount) for r in refunds] == [(weeks[0], 1500),
                                                                (weeks[1], 1500)]
        (confirmation,) = [m for m in _mail_to("two@example.org")
                           if m.subject.startswith("Booking confirmed")]
        links = {p for p, _kind in LINK_RE.findall(confirmation.body_text)}
        assert links == {f"/account/bookings/{registration_id}/sessions/{s}/choice"
                         for s in weeks}


def test_a_deposit_class_offers_the_weeks_share_of_the_deposit(
    app, stripe, course, make_user, make_baby
):
    """As for families who had paid: the share is of what was paid online (the deposit),
    and a make-up credit may be taken instead."""
    workshop = course(payment_mode="deposit", deposit=1000)
    parent = make_user("deposit@example.org")
    registration_id, _intent = _hold(app, stripe, workshop, parent, make_baby(parent))
    with app.app_context():
        week_3 = _session(workshop.id, 3).id
        cancel_session(week_3)
        assert checkout.pay_with_card(
            registration_id, parent.id, card_token(stripe)).state == "paid"
        (refund,) = _refunds_of(registration_id)
        assert (refund.amount, refund.status) == (250, AWAITING_CHOICE)  # £10 over 4
        (confirmation,) = [m for m in _mail_to("deposit@example.org")
                           if m.subject.startswith("Booking confirmed")]
        assert "A refund of £2.50" in _words(confirmation.body_text)
        choose_for_session(parent_id=parent.id, registration_id=registration_id,
                           session_id=week_3, choice="makeup")
        (refund,) = _refunds_of(registration_id)
        assert refund.status == WITHDRAWN
        credit = db.session.scalar(
            sa.select(MakeupCredit).where(MakeupCredit.parent_id == parent.id))
        assert credit.week_number == 3
        assert worker.run_payments().refunded == 0


def test_a_late_payment_confirmed_is_offered_the_weeks_cancelled_since_it_was_asked(
    app, stripe, course, make_user, make_baby
):
    workshop = course()
    parent = make_user("late@example.org")
    registration_id, intent_id = _hold(app, stripe, workshop, parent, make_baby(parent))
    with app.app_context():
        cancel_session(_session(workshop.id, 2).id)
        with write_transaction():
            db.session.get(Registration, registration_id).hold_expires_at = (
                datetime.now(UTC) - timedelta(minutes=1))
        assert worker.expire_hold(registration_id)
        intent = gateway.confirm_with_card(intent_id, card_token(stripe))
        assert settle_intent(intent) == "confirmed_late"
        assert [r.amount for r in _refunds_of(registration_id)] == [1500]
