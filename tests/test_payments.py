"""Online payment: a held place, paying with a card at localstripe, the webhook, refunds
carried out once by `payments run`, and what a cancelled workshop gives back."""

import json
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from booking.db import write_transaction
from booking.extensions import db
from booking.models import OutboxMessage, Payment, Refund, Registration, StripeEvent, Workshop
from booking.models.payment import ABANDONED, OPEN, REFUND_PENDING, REFUND_SUCCEEDED, SUCCEEDED
from booking.models.registration import CANCELLED, CONFIRMED, PENDING_PAYMENT, WAITLISTED
from booking.services.booking.book import book_place, cancel_registration
from booking.services.payments import checkout, gateway
from booking.services.payments.settle import settle_intent
from booking.services.payments.worker import (
    PaymentsReport,
    carry_out_refunds,
    claim_refunds,
    run_payments,
)
from booking.services.schedule.edit import cancel_workshop
from tests.payment_helpers import (
    CARD_3DS,
    authenticate,
    card_token,
    refunds_at,
    signature_for,
    signed_event,
)


@pytest.fixture
def paid_class(stripe, make_workshop, make_centre):
    """A published £60 course paid online in full, with 2 places."""

    def make(**fields):
        values = {"payment_mode": "online", "capacity": 2}
        values.update(fields)
        return make_workshop(centre=make_centre(), **values)

    return make


def _book(parent, baby, workshop):
    return book_place(
        parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id, consent=True
    )


def _pay(app, stripe, registration_id, parent_id, number="4242424242424242"):
    page = checkout.pay_page(registration_id, parent_id)
    assert page.state == checkout.TO_PAY
    return checkout.pay_with_card(registration_id, parent_id, card_token(stripe, number))


def _subjects(to=None):
    query = sa.select(OutboxMessage.subject).order_by(OutboxMessage.id)
    if to:
        query = query.where(OutboxMessage.recipient == to)
    return list(db.session.scalars(query))


def test_booking_a_paid_class_holds_a_place_until_paid(app, stripe, paid_class, make_user,
                                                       make_baby):
    workshop = paid_class(price="60.00")
    parent = make_user(role="parent")
    baby = make_baby(parent)
    with app.app_context():
        result = _book(parent, baby, workshop)
        assert result.awaiting_payment and result.created
        registration = db.session.get(Registration, result.registration_id)
        assert registration.status == PENDING_PAYMENT
        assert registration.hold_expires_at > datetime.now(UTC) + timedelta(minutes=29)
        assert db.session.get(Workshop, workshop.id).confirmed_count == 1  # the hold counts
        payment = db.session.scalar(sa.select(Payment))
        assert (payment.amount, payment.currency, payment.status) == (6000, "GBP", OPEN)
        assert _subjects() == []  # nothing confirmed yet

        outcome = _pay(app, stripe, registration.id, parent.id)
        assert outcome.state == "paid"
        db.session.expire_all()
        registration = db.session.get(Registration, registration.id)
        assert registration.status == CONFIRMED and registration.hold_expires_at is None
        payment = db.session.get(Payment, payment.id)
        assert payment.status == SUCCEEDED and payment.paid_at is not None
        subjects = _subjects()
        assert any(s.startswith("Booking confirmed") for s in subjects)
        assert any(s.startswith(f"Receipt {payment.reference}: £60.00") for s in subjects)


def test_three_d_secure_then_the_return_confirms(app, stripe, paid_class, make_user, make_baby):
    workshop = paid_class()
    parent = make_user(role="parent")
    with app.app_context():
        result = _book(parent, make_baby(parent), workshop)
        outcome = _pay(app, stripe, result.registration_id, parent.id, CARD_3DS)
        assert outcome.state == "authenticate" and outcome.client_secret
        intent_id = outcome.client_secret.split("_secret_")[0]
        authenticate(stripe, intent_id, outcome.client_secret)
        assert checkout.check_payment(result.registration_id, parent.id) == "confirmed"
        assert db.session.get(Registration, result.registration_id).status == CONFIRMED
        # Coming back again changes nothing.
        assert checkout.check_payment(result.registration_id, parent.id) == ""


def test_webhook_forged_replayed_and_out_of_order(app, client, stripe, paid_class, make_user,
                                                  make_baby):
    workshop = paid_class()
    parent = make_user(role="parent")
    with app.app_context():
        result = _book(parent, make_baby(parent), workshop)
        checkout.pay_page(result.registration_id, parent.id)
        payment = db.session.scalar(sa.select(Payment))
        intent_id = payment.stripe_payment_intent_id
        # The card is confirmed at the provider, but our page never heard back.
        gateway.confirm_with_card(intent_id, card_token(stripe))
        db.session.rollback()

    forged, signature = signed_event("payment_intent.succeeded", intent_id, secret="whsec_wrong")
    answer = client.post("/payments/stripe/webhook", data=forged,
                         headers={"Stripe-Signature": signature},
                         content_type="application/json")
    assert answer.status_code == 400
    answer = client.post("/payments/stripe/webhook", data=forged,
                         content_type="application/json")
    assert answer.status_code == 400
    with app.app_context():
        assert db.session.get(Registration, result.registration_id).status == PENDING_PAYMENT

    # An old "payment failed" event arriving late: the intent is read again, and it has
    # succeeded, so the place is confirmed (never un-confirmed by stale news).
    failed, signature = signed_event("payment_intent.payment_failed", intent_id, event_id="evt_1")
    answer = client.post("/payments/stripe/webhook", data=failed,
                         headers={"Stripe-Signature": signature},
                         content_type="application/json")
    assert answer.status_code == 200 and answer.get_json()["outcome"] == "confirmed"
    succeeded, signature = signed_event("payment_intent.succeeded", intent_id, event_id="evt_2")
    for _ in range(2):
        answer = client.post("/payments/stripe/webhook", data=succeeded,
                             headers={"Stripe-Signature": signature},
                             content_type="application/json")
        assert answer.status_code == 200
    assert answer.get_json()["outcome"] == "duplicate"
    with app.app_context():
        assert db.session.get(Registration, result.registration_id).status == CONFIRMED
        receipts = [s for s in _subjects() if s.startswith("Receipt")]
        assert len(receipts) == 1


def test_two_parents_race_for_the_last_paid_place(app, stripe, paid_class, make_user, make_baby):
    workshop = paid_class(capacity=1)
    parents = [make_user(role="parent") for _ in range(2)]
    babies = [make_baby(p) for p in parents]
    results = {}

    def book(i):
        with app.app_context():
            results[i] = _book(parents[i], babies[i], workshop).status
            db.session.remove()

    threads = [threading.Thread(target=book, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.values()) == [PENDING_PAYMENT, WAITLISTED]
    with app.app_context():
        assert db.session.get(Workshop, workshop.id).confirmed_count == 1


def test_a_hold_expiring_passes_the_place_on_as_an_offer(app, stripe, paid_class, make_user,
                                                       make_baby):
    workshop = paid_class(capacity=1)
    first, second = make_user(role="parent"), make_user(role="parent")
    with app.app_context():
        held = _book(first, make_baby(first), workshop)
        waiting = _book(second, make_baby(second), workshop)
        assert waiting.status == WAITLISTED
        checkout.pay_page(held.registration_id, first.id)  # the intent exists, unpaid
        later = datetime.now(UTC) + timedelta(minutes=31)
        report = run_payments(now=later)
        assert report.expired == 1
        db.session.expire_all()
        gone = db.session.get(Registration, held.registration_id)
        assert gone.status == CANCELLED and gone.cancel_reason == "Not paid in time"
        offered = db.session.get(Registration, waiting.registration_id)
        assert offered.status == PENDING_PAYMENT and offered.offered_at is not None
        assert db.session.get(Workshop, workshop.id).confirmed_count == 1
        statuses = list(db.session.scalars(sa.select(Payment.status).order_by(Payment.id)))
        assert statuses == [ABANDONED, OPEN]
        subjects = _subjects()
        assert any(s.startswith("Payment time ran out") for s in subjects)
        assert any(s.startswith("A place came up - pay by") for s in subjects)
        # Running again changes nothing more.
        assert run_payments(now=later).expired == 0


def test_a_hold_whose_intent_the_provider_does_not_know_still_ends(
    app, stripe, paid_class, make_user, make_baby, monkeypatch
):
    """A database restored from a backup, or other keys: the provider answers "no such
    intent", so nobody can have paid it. The hold ends on time and the place is offered
    on, rather than being kept for ever; an unreachable provider still defers it."""
    workshop = paid_class(capacity=1)
    first, second = make_user(role="parent"), make_user(role="parent")
    with app.app_context():
        held = _book(first, make_baby(first), workshop)
        waiting = _book(second, make_baby(second), workshop)
        checkout.pay_page(held.registration_id, first.id)
        db.session.rollback()
        with write_transaction():
            db.session.execute(
                sa.update(Payment).where(Payment.registration_id == held.registration_id)
                .values(stripe_payment_intent_id="pi_unknownToTheProvider")
            )
        later = datetime.now(UTC) + timedelta(minutes=31)

        def unreachable(intent_id):
            raise gateway.GatewayError("The payment service did not answer.")

        with monkeypatch.context() as patch:
            patch.setattr(gateway, "retrieve_intent", unreachable)
            assert run_payments(now=later).expired == 0  # the parent may have paid
        db.session.expire_all()
        assert db.session.get(Registration, held.registration_id).status == PENDING_PAYMENT
        report = run_payments(now=later)
        assert report.expired == 1
        assert any("pi_unknownToTheProvider" in error for error in report.errors)
        db.session.expire_all()
        assert db.session.get(Registration, held.registration_id).status == CANCELLED
        assert db.session.get(Registration, waiting.registration_id).status == PENDING_PAYMENT


def test_a_card_settled_first_by_the_webhook_as_a_refund_is_not_called_paid(
    app, stripe, paid_class, make_user, make_baby, monkeypatch
):
    """The hold ends while the card is being confirmed, and the webhook settles the
    payment (a refund: the place had gone) before the confirmation returns. The parent
    is told of the refund, not "your place is confirmed"."""
    from booking.services.payments.worker import expire_hold

    workshop = paid_class(capacity=1)
    first, second = make_user(role="parent"), make_user(role="parent")
    with app.app_context():
        held = _book(first, make_baby(first), workshop)
        _book(second, make_baby(second), workshop)
        checkout.pay_page(held.registration_id, first.id)
        db.session.rollback()
        confirm = gateway.confirm_with_card

        def the_webhook_comes_first(intent_id, card):
            expire_hold(held.registration_id, now=datetime.now(UTC) + timedelta(hours=1))
            intent = confirm(intent_id, card)
            settle_intent(intent)
            db.session.rollback()
            return intent

        monkeypatch.setattr(gateway, "confirm_with_card", the_webhook_comes_first)
        result = checkout.pay_with_card(held.registration_id, first.id, card_token(stripe))
        assert result.state == "refunded"
        db.session.rollback()
        assert db.session.get(Registration, held.registration_id).status == CANCELLED


def test_a_late_payment_is_confirmed_if_a_place_is_free_else_refunded(
    app, stripe, paid_class, make_user, make_baby
):
    workshop = paid_class(capacity=1)
    first, second = make_user(role="parent"), make_user(role="parent")
    with app.app_context():
        held = _book(first, make_baby(first), workshop)
        checkout.pay_page(held.registration_id, first.id)
        intent_id = db.session.scalar(sa.select(Payment.stripe_payment_intent_id))
        # The hold ends, then the parent's payment (begun in time) goes through.
        with write_transaction():
            db.session.get(Registration, held.registration_id).hold_expires_at = (
                datetime.now(UTC) - timedelta(minutes=1)
            )
        from booking.services.payments.worker import expire_hold

        assert expire_hold(held.registration_id)
        intent = gateway.confirm_with_card(intent_id, card_token(stripe))
        assert settle_intent(intent) == "confirmed_late"
        assert db.session.get(Registration, held.registration_id).status == CONFIRMED

    # Now the same with the place gone to someone else in between.
    workshop = paid_class(capacity=1)
    with app.app_context():
        held = _book(first, make_baby(first, name="Bo"), workshop)
        checkout.pay_page(held.registration_id, first.id)
        intent_id = db.session.scalar(
            sa.select(Payment.stripe_payment_intent_id).where(
                Payment.registration_id == held.registration_id
            )
        )
        with write_transaction():
            db.session.get(Registration, held.registration_id).hold_expires_at = (
                datetime.now(UTC) - timedelta(minutes=1)
            )
        assert expire_hold(held.registration_id)
        other = _book(second, make_baby(second), workshop)
        assert other.status == PENDING_PAYMENT
        intent = gateway.confirm_with_card(intent_id, card_token(stripe))
        assert settle_intent(intent) == "refunded"
        assert db.session.get(Registration, held.registration_id).status == CANCELLED
        refund = db.session.scalar(sa.select(Refund))
        assert refund.amount == 4500 and refund.status == REFUND_PENDING
        assert any(s.startswith("No place left") for s in _subjects())
        run_payments()
        assert [r["amount"] for r in refunds_at(stripe, intent_id)] == [4500]


def _paid_registration(app, stripe, workshop, parent, baby):
    result = _book(parent, baby, workshop)
    assert _pay(app, stripe, result.registration_id, parent.id).state == "paid"
    return result.registration_id


def test_cancelling_before_the_cut_off_refunds_less_the_fee(app, stripe, paid_class, make_user,
                                                          make_baby):
    workshop = paid_class(price="60.00", refund_fee=500)
    parent = make_user(role="parent")
    with app.app_context():
        registration_id = _paid_registration(app, stripe, workshop, parent, make_baby(parent))
        cancel_registration(registration_id, actor_id=parent.id)
        refund = db.session.scalar(sa.select(Refund))
        assert (refund.amount, refund.initiated_by) == (5500, "parent")
        report = run_payments()
        assert report.refunded == 1
        intent_id = db.session.scalar(sa.select(Payment.stripe_payment_intent_id))
        assert [r["amount"] for r in refunds_at(stripe, intent_id)] == [5500]
        db.session.expire_all()
        assert db.session.get(Refund, refund.id).status == REFUND_SUCCEEDED
        assert db.session.get(Payment, refund.payment_id).refunded == 5500
        assert any(s.startswith("Refund of £55.00") for s in _subjects())
        assert run_payments().refunded == 0


def test_a_refund_claimed_by_two_workers_is_made_once(app, stripe, paid_class, make_user,
                                                    make_baby):
    workshop = paid_class()
    parent = make_user(role="parent")
    with app.app_context():
        registration_id = _paid_registration(app, stripe, workshop, parent, make_baby(parent))
        cancel_registration(registration_id, actor_id=parent.id)
        intent_id = db.session.scalar(sa.select(Payment.stripe_payment_intent_id))
    reports = [PaymentsReport(), PaymentsReport()]
    barrier = threading.Barrier(2)

    def work(i):
        with app.app_context():
            barrier.wait()
            carry_out_refunds(f"worker-{i}", reports[i])
            db.session.remove()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.refunded for r in reports) == 1
    assert len(refunds_at(stripe, intent_id)) == 1


def test_a_crash_after_the_provider_refunded_is_not_refunded_twice(
    app, stripe, paid_class, make_user, make_baby
):
    workshop = paid_class()
    parent = make_user(role="parent")
    with app.app_context():
        registration_id = _paid_registration(app, stripe, workshop, parent, make_baby(parent))
        cancel_registration(registration_id, actor_id=parent.id)
        intent_id = db.session.scalar(sa.select(Payment.stripe_payment_intent_id))
        [claim] = claim_refunds("crashing-worker")
        db.session.rollback()
        gateway.refund(intent_id=claim.intent_id, amount=claim.amount, refund_key=claim.key)
        # ...the worker dies before recording it; its claim runs out.
        later = datetime.now(UTC) + timedelta(minutes=10)
        assert len(claim_refunds("next-worker", now=later)) == 1
        db.session.rollback()
        with write_transaction():
            db.session.execute(sa.update(Refund).values(claimed_until=None))
        run_payments()
        assert len(refunds_at(stripe, intent_id)) == 1
        assert db.session.scalar(sa.select(Refund.status)) == REFUND_SUCCEEDED


def test_the_centre_cancelling_refunds_everyone_in_full(app, stripe, paid_class, make_user,
                                                      make_baby):
    workshop = paid_class(payment_mode="deposit", deposit=1500, capacity=3, refund_fee=500)
    parents = [make_user(role="parent") for _ in range(2)]
    with app.app_context():
        for parent in parents:
            _paid_registration(app, stripe, workshop, parent, make_baby(parent))
        pending = make_user(role="parent")
        held = _book(pending, make_baby(pending), workshop)
        cancel_workshop(workshop.id, "Instructor unwell")
        refunds = list(db.session.scalars(sa.select(Refund)))
        assert sorted(r.amount for r in refunds) == [1500, 1500]
        assert {r.initiated_by for r in refunds} == {"centre"}
        assert db.session.get(Registration, held.registration_id).status == CANCELLED
        # The family paying for a held place is told it is released, not that their baby
        # "is no longer on its waiting list" (they were never waiting).
        told = db.session.scalar(sa.select(OutboxMessage.body_text).where(
            OutboxMessage.recipient == pending.email,
            OutboxMessage.subject.startswith("Class cancelled")))
        assert "The place held for" in told and "is released, and nothing is due" in told
        assert "waiting list" not in told.split("Refund")[0].split("Classes that")[0]
        assert run_payments().refunded == 2
        for intent_id in db.session.scalars(
            sa.select(Payment.stripe_payment_intent_id).where(Payment.status == SUCCEEDED)
        ):
            assert [r["amount"] for r in refunds_at(stripe, intent_id)] == [1500]


def test_run_decisions_refunds_a_class_below_its_minimum(app, stripe, paid_class, make_user,
                                                        make_baby):
    from booking.services.schedule.decisions import run_decisions

    workshop = paid_class(min_places=3, capacity=4)
    parent = make_user(role="parent")
    with app.app_context():
        _paid_registration(app, stripe, workshop, parent, make_baby(parent))
        with write_transaction():
            db.session.get(Workshop, workshop.id).decision_at = datetime.now(UTC) - timedelta(
                minutes=1
            )
        report = run_decisions()
        assert report.cancelled == [workshop.id]
        assert db.session.scalar(sa.select(Refund.amount)) == 4500
        assert run_payments().refunded == 1


def test_without_a_secret_key_nothing_is_asked_of_the_provider(app, make_workshop, make_user,
                                                              make_baby):
    with app.app_context():
        assert not gateway.enabled()
        assert run_payments().refunded == 0


def test_trying_card_after_card_is_limited(app, stripe, paid_class, make_user, make_baby):
    """Someone testing stolen card numbers on a held place is stopped after ten tries an
    hour; the refused request changes nothing."""
    from tests.conftest import PASSWORD, rate_limited_app
    from tests.payment_helpers import stripe_settings

    workshop = paid_class()
    parent = make_user(role="parent")
    with app.app_context():
        held = _book(parent, make_baby(parent), workshop)
    with rate_limited_app(app, **stripe_settings(stripe)) as limited:
        client = limited.test_client()
        client.post("/login", data={"email": parent.email, "password": PASSWORD})
        url = f"/account/bookings/{held.registration_id}/pay"
        statuses = [
            client.post(url, data={"payment_method": "card_doesnotexist"}).status_code
            for _ in range(11)
        ]
        assert statuses[:10] == [402] * 10 and statuses[10] == 429
        # The refusal says what the limit is and when to try again (it said only
        # "10 per 1 hour"), and Retry-After says it to a script.
        refused = client.post(url, data={"payment_method": "card_doesnotexist"})
        text = " ".join(refused.get_data(as_text=True).split())
        assert "Too many attempts from here: this allows 10 per 1 hour. Please try again " \
            "in about 60 minutes." in text, text[-600:]
        assert 3500 <= int(refused.headers["Retry-After"]) <= 3600
    with app.app_context():
        assert db.session.get(Registration, held.registration_id).status == PENDING_PAYMENT


def test_without_a_provider_a_class_paid_online_cannot_be_booked(app, make_workshop, make_user,
                                                                make_baby):
    """A class set to be paid online before the provider's key was removed holds no place
    nobody could pay for: booking is refused with a clear message, and nothing changes."""
    from booking.services.errors import Invalid

    workshop = make_workshop(payment_mode="online")
    parent = make_user(role="parent")
    baby = make_baby(parent)
    with app.app_context():
        with pytest.raises(Invalid, match="online payment is not available"):
            _book(parent, baby, workshop)
        assert db.session.scalar(sa.select(sa.func.count(Registration.id))) == 0
        assert db.session.get(Workshop, workshop.id).confirmed_count == 0


def test_an_intent_that_is_not_the_payment_asked_for_changes_nothing(
    app, stripe, paid_class, make_user, make_baby
):
    """An intent naming our payment id but made for another row (a database restored
    from a backup, a second site on the same account), or for another amount, is not
    ours: the place stays held."""
    from booking.services.payments.gateway import Intent

    workshop = paid_class()
    parent = make_user(role="parent")
    with app.app_context():
        held = _book(parent, make_baby(parent), workshop)
        payment = ledger_open(held.registration_id)
        for intent in (
            Intent(id="pi_elsewhere", status="succeeded", amount=payment.amount,
                   currency="GBP", client_secret="", payment_id=payment.id,
                   payment_key=f"{payment.id}-1"),
            Intent(id="pi_elsewhere", status="succeeded", amount=1, currency="GBP",
                   client_secret="", payment_id=payment.id, payment_key=payment.provider_key),
        ):
            assert settle_intent(intent) == "unknown"
        assert db.session.get(Registration, held.registration_id).status == PENDING_PAYMENT


@pytest.mark.parametrize("foreign_id", [2**31, 2**63, -5])
def test_an_intent_whose_metadata_is_not_one_of_our_ids_is_answered_unknown(
    app, client, stripe, foreign_id
):
    """Another integration on the same provider account may put any number in
    `payment_id`: its events are answered "unknown" (so the provider stops sending
    them), never an error from a database asked for an id its column cannot hold."""
    with app.app_context():
        intent = gateway.create_intent(
            payment_id=foreign_id, payment_key=f"elsewhere-{foreign_id}", amount=1000,
            currency="GBP", reference="Order 77",
        )
        assert intent.payment_id is None
        assert gateway.confirm_with_card(intent.id, card_token(stripe)).succeeded
        db.session.rollback()
    payload, signature = signed_event("payment_intent.succeeded", intent.id)
    answer = client.post("/payments/stripe/webhook", data=payload,
                         headers={"Stripe-Signature": signature},
                         content_type="application/json")
    assert answer.status_code == 200 and answer.get_json()["outcome"] == "unknown"


def _event(obj=None, **fields) -> bytes:
    event = {"id": "evt_probe", "object": "event", "type": "payment_intent.succeeded",
             "data": {"object": obj if obj is not None else {"object": "payment_intent",
                                                             "id": "pi_probe"}}}
    event.update(fields)
    return json.dumps(event).encode()


NOT_EVENTS = {
    "a list": b"[]",
    "null": b"null",
    "a string": b'"x"',
    "a number": b"5",
    "true": b"true",
    "data a string": _event(data="x"),
    "data a list": _event(data=[1]),
    "data a number": _event(data=5),
    "object a list": _event(data={"object": []}),
    "no id": json.dumps({"type": "x", "data": {"object": {}}}).encode(),
    "id a number": _event(id=5),
    "id a list": _event(id=["evt_1"]),
    "type a dict": _event(type={"a": 1}),
    "intent id a number": _event({"object": "payment_intent", "id": 123}),
    "intent id a float": _event({"object": "payment_intent", "id": 1.5}),
    "intent id true": _event({"object": "payment_intent", "id": True}),
    "intent id a list": _event({"object": "payment_intent", "id": ["pi_1"]}),
    "charge's intent a dict": _event({"object": "charge", "payment_intent": {"id": "pi_1"}},
                                     type="charge.succeeded"),
    "surrogate in id": b'{"id": "evt_\\ud800", "type": "x", "data": {"object": {}}}',
    "surrogate in type": b'{"id": "evt_1", "type": "x\\ud800", "data": {"object": {}}}',
    "surrogate in intent": _event({"object": "payment_intent", "id": "pi_\ud800"}),
    "NUL in id": b'{"id": "evt_\\u0000", "type": "x", "data": {"object": {}}}',
    "NUL in type": b'{"id": "evt_1", "type": "x\\u0000", "data": {"object": {}}}',
    "a space in the intent": _event({"object": "payment_intent", "id": "pi 1"}),
    "an intent id of 100,000 characters": _event({"object": "payment_intent",
                                                  "id": "pi_" + "a" * 100_000}),
    "an event id of 256 characters": _event(id="evt_" + "e" * 252),
    "5,000 lists deep": b"[" * 5000 + b"]" * 5000,
    "5,000 objects deep": b'{"a":' * 5000 + b"1" + b"}" * 5000,
    "not UTF-8": b'{"id": "evt_\xff"}',
    "not JSON": b"{",
}


@pytest.mark.parametrize("body", NOT_EVENTS.values(), ids=NOT_EVENTS.keys())
def test_a_signed_body_that_is_not_an_event_is_refused(app, client, stripe, body):
    """Correctly signed, but not an event the provider sends: a 400 naming the body,
    nothing recorded and the provider never asked (each of these was a 500, or an
    address the provider refused, telling it to send the event again for days)."""
    answer = client.post("/payments/stripe/webhook", data=body,
                         headers={"Stripe-Signature": signature_for(body)},
                         content_type="application/json")
    assert answer.status_code == 400
    error = answer.get_json()["error"]
    assert error["code"] == "bad_event" and error["message"], error
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(StripeEvent.id))) == 0


def test_an_event_signed_too_long_ago_is_refused(app, client, stripe):
    """Only events signed in the last five minutes are taken (replays of old ones, and
    times ahead of the clock, are refused before anything is read)."""
    body = _event()
    # Too old, or ahead of the clock (the SDK checks only the past): a year, 10**25.
    for age in (301, 3600, -301, -365 * 86400, -(10**25)):
        signature = signature_for(body, timestamp=int(time.time()) - age)
        answer = client.post("/payments/stripe/webhook", data=body,
                             headers={"Stripe-Signature": signature},
                             content_type="application/json")
        assert answer.status_code == 400
        error = answer.get_json()["error"]
        assert error["code"] == "bad_signature"
        # The signature is right, its time is not: the refusal says so, not "forged".
        assert "more than 5 minutes from this server's time" in error["message"], age
    forged = signature_for(body).replace("v1=", "v1=0")
    answer = client.post("/payments/stripe/webhook", data=body,
                         headers={"Stripe-Signature": forged},
                         content_type="application/json")
    assert answer.status_code == 400
    assert answer.get_json()["error"]["message"] == "The event's signature does not match."
    answer = client.post("/payments/stripe/webhook", data=_event(type="customer.created"),
                         headers={"Stripe-Signature": signature_for(_event(
                             type="customer.created"))},
                         content_type="application/json")
    assert answer.status_code == 200 and answer.get_json()["outcome"] == "ignored"


def test_a_lost_webhook_is_found_by_the_worker_before_the_hold_ends(
    app, stripe, paid_class, make_user, make_baby
):
    """The parent paid in time but neither the return nor the event reached us: at the
    deadline the worker asks the provider and confirms the place instead of ending it."""
    workshop = paid_class(capacity=1)
    parent = make_user(role="parent")
    with app.app_context():
        held = _book(parent, make_baby(parent), workshop)
        checkout.pay_page(held.registration_id, parent.id)
        intent_id = db.session.scalar(sa.select(Payment.stripe_payment_intent_id))
        gateway.confirm_with_card(intent_id, card_token(stripe))
        report = run_payments(now=datetime.now(UTC) + timedelta(minutes=31))
        assert (report.settled, report.expired) == (1, 0)
        assert db.session.get(Registration, held.registration_id).status == CONFIRMED


def test_reconciling_finds_a_payment_whose_news_never_came(
    app, stripe, paid_class, make_user, make_baby
):
    """Well before any deadline, an open payment older than a couple of minutes is asked
    about, and a success is settled once."""
    workshop = paid_class()
    parent = make_user(role="parent")
    with app.app_context():
        held = _book(parent, make_baby(parent), workshop)
        checkout.pay_page(held.registration_id, parent.id)
        intent_id = db.session.scalar(sa.select(Payment.stripe_payment_intent_id))
        gateway.confirm_with_card(intent_id, card_token(stripe))
        soon = datetime.now(UTC) + timedelta(minutes=3)
        assert run_payments(now=soon).settled == 1
        assert db.session.get(Registration, held.registration_id).status == CONFIRMED
        assert run_payments(now=soon + timedelta(minutes=10)).settled == 0


def ledger_open(registration_id):
    from booking.services.payments import ledger

    return ledger.open_payment_of(registration_id)


def test_an_event_about_an_intent_the_provider_does_not_know_is_answered_once(
    app, client, stripe
):
    """The provider says the intent is not in this account: the event is recorded and
    answered 200, so it is not sent again for days; a replay changes nothing."""
    payload, signature = signed_event("payment_intent.succeeded", "pi_not_ours", event_id="evt_x")
    for expected in ("not_ours", "duplicate"):
        answer = client.post("/payments/stripe/webhook", data=payload,
                             headers={"Stripe-Signature": signature},
                             content_type="application/json")
        assert answer.status_code == 200 and answer.get_json()["outcome"] == expected


@pytest.mark.parametrize("intent_id", [".", "..", "pi_1/..", "pi_%2e", "pi_1?x=1"])
def test_an_intent_id_that_cannot_be_the_providers_is_not_asked_about(
    app, client, stripe, intent_id
):
    """"." and ".." pass as printable text, but the HTTP client would turn
    /payment_intents/. into another address (a 503, sent again for days): not ours,
    without a request."""
    payload, signature = signed_event("payment_intent.succeeded", intent_id)
    answer = client.post("/payments/stripe/webhook", data=payload,
                         headers={"Stripe-Signature": signature},
                         content_type="application/json")
    assert answer.status_code == 200 and answer.get_json()["outcome"] == "not_ours"


def test_without_a_provider_nobody_is_offered_a_place_they_cannot_pay(
    app, stripe, paid_class, make_user, make_baby
):
    """With online payment gone, a freed place in a class paid online is not offered to
    the waiting list (nobody could pay for it): they keep waiting."""
    workshop = paid_class(capacity=1)
    first, second = make_user(role="parent"), make_user(role="parent")
    with app.app_context():
        held = _book(first, make_baby(first), workshop)
        waiting = _book(second, make_baby(second), workshop)
        app.config["STRIPE_SECRET_KEY"] = None
        cancel_registration(held.registration_id, actor_id=first.id)
        assert db.session.get(Registration, waiting.registration_id).status == WAITLISTED


def test_the_payments_command_says_what_it_did(app, runner, stripe, paid_class, make_user,
                                               make_baby):
    workshop = paid_class()
    parent = make_user(role="parent")
    with app.app_context():
        registration_id = _paid_registration(app, stripe, workshop, parent, make_baby(parent))
        cancel_registration(registration_id, actor_id=parent.id)
    result = runner.invoke(args=["payments", "run"])
    assert result.exit_code == 0, result.output
    assert "refunds made 1" in result.output
    assert "refunds made 0" in runner.invoke(args=["payments", "run"]).output


def test_the_payments_loop_works_until_stopped(app, runner, stripe, paid_class, make_user,
                                               make_baby):
    import os
    import signal
    import time

    workshop = paid_class()
    parent = make_user(role="parent")
    with app.app_context():
        registration_id = _paid_registration(app, stripe, workshop, parent, make_baby(parent))
        cancel_registration(registration_id, actor_id=parent.id)

    def stop_when_refunded():
        deadline = time.monotonic() + 30
        with app.app_context():
            while time.monotonic() < deadline:
                db.session.rollback()
                if db.session.scalar(sa.select(Refund.status)) == REFUND_SUCCEEDED:
                    break
                time.sleep(0.05)
            db.session.remove()
        os.kill(os.getpid(), signal.SIGTERM)

    killer = threading.Thread(target=stop_when_refunded)
    killer.start()
    result = runner.invoke(args=["payments", "run", "--loop", "--interval", "0.1"])
    killer.join()
    assert result.exit_code == 0, result.output
    assert "refunds made 1" in result.output and "stopped" in result.output


def test_only_an_intent_the_provider_lacks_counts_as_never_paid(app, stripe, monkeypatch):
    """A 404 ("no such payment_intent") is permanent: nobody paid it. Any other refusal
    (a parameter, the API version) says nothing about the payment: asked again later."""
    import stripe as sdk

    class Refusing:
        def __init__(self, error):
            self.v1 = type("V1", (), {"payment_intents": self})()
            self.error = error

        def retrieve(self, intent_id):
            raise self.error

    cases = (
        (sdk.InvalidRequestError("No such payment_intent", "id", code="resource_missing",
                                 http_status=404), True),
        (sdk.InvalidRequestError("Invalid API version", None, code="parameter_invalid",
                                 http_status=400), False),
    )
    with app.app_context():
        for error, permanent in cases:
            monkeypatch.setattr(gateway, "_client", lambda error=error: Refusing(error))
            with pytest.raises(gateway.GatewayError) as raised:
                gateway.retrieve_intent("pi_123")
            assert raised.value.permanent is permanent
