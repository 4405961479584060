"""A parent's money: the bookings page (held while paying, paid, owed at the centre,
refunds), the data export and erasure, with real payments made at localstripe."""

import json
import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from booking.db import write_transaction
from booking.extensions import db
from booking.models import (
    Baby,
    OutboxMessage,
    Payment,
    Refund,
    Registration,
    User,
    Workshop,
)
from booking.models.payment import BY_STAFF, REFUND_FAILED, REFUND_SUCCEEDED, SUCCEEDED
from booking.models.registration import CANCELLED, CONFIRMED, PENDING_PAYMENT, WAITLISTED
from booking.services.booking.book import book_place, cancel_registration
from booking.services.payments import checkout, ledger
from booking.services.payments.worker import run_payments
from booking.services.privacy.erase import erase_user, erased_email
from booking.timefmt import format_local
from tests.payment_helpers import card_token, refunds_at


@pytest.fixture
def paid_class(stripe, make_workshop, make_centre):
    """A published £60 course paid online in full (or as asked), with 2 places."""

    def make(**fields):
        values = {"payment_mode": "online", "capacity": 2, "price": "60.00"}
        values.update(fields)
        return make_workshop(
            centre=make_centre(contact_phone="020 7946 0999"), **values
        )

    return make


def _book(parent, baby, workshop):
    return book_place(
        parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id, consent=True
    )


def _pay(stripe, registration_id, parent_id):
    page = checkout.pay_page(registration_id, parent_id)
    assert page.state == checkout.TO_PAY
    outcome = checkout.pay_with_card(registration_id, parent_id, card_token(stripe))
    assert outcome.state == "paid"


def _section(page: str, name: str) -> str:
    """The HTML of one section of the bookings page ('' when it is not shown)."""
    match = re.search(rf'id="{name}-heading".*?</section>', page, re.S)
    return match.group(0) if match else ""


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _bookings(client) -> str:
    response = client.get("/account/bookings")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_held_place_shows_among_upcoming_with_its_pay_link(
    app, client, auth, paid_class, make_user, make_baby
):
    workshop = paid_class()
    parent = make_user(email="held@example.org")
    with app.app_context():
        result = _book(parent, make_baby(parent), workshop)
        assert result.status == PENDING_PAYMENT
        deadline = db.session.get(Registration, result.registration_id).hold_expires_at
    auth.login("held@example.org")
    page = _bookings(client)
    upcoming = _section(page, "upcoming")
    assert f'href="/account/bookings/{result.registration_id}/pay"' in upcoming
    text = _text(upcoming)
    assert "Waiting for payment" in text
    assert "Pay £60.00 by" in text
    assert f"Pay £60.00 by {format_local(deadline, 'Europe/London')}" in text
    assert "Let the place go" in text  # a booked hold is let go from the usual button
    assert "No longer needed?" not in text  # that is for offers
    assert "Add to calendar" not in text  # not confirmed yet
    assert "Baby massage" not in _text(_section(page, "past"))


def test_an_offer_shows_pay_by_and_let_it_go(app, client, auth, paid_class, make_user,
                                             make_baby):
    workshop = paid_class(capacity=1)
    first = make_user(email="first@example.org")
    second = make_user(email="second@example.org")
    with app.app_context():
        held = _book(first, make_baby(first), workshop)
        waiting = _book(second, make_baby(second, name="Bea"), workshop)
        assert waiting.status == WAITLISTED

    # The first parent lets the held place go through the web.
    auth.login("first@example.org")
    response = client.post(f"/account/bookings/{held.registration_id}/cancel",
                           follow_redirects=True)
    assert response.status_code == 200
    assert "The place held for you is let go" in _text(response.get_data(as_text=True))
    auth.logout()

    with app.app_context():
        offered = db.session.get(Registration, waiting.registration_id)
        assert offered.status == PENDING_PAYMENT and offered.offered_at is not None
    auth.login("second@example.org")
    upcoming = _section(_bookings(client), "upcoming")
    text = _text(upcoming)
    assert "A place came up for Bea" in text
    assert "Pay £60.00 by" in text
    assert f'href="/account/bookings/{waiting.registration_id}/pay"' in upcoming
    assert "No longer needed? Let it go" in text
    assert f'href="/account/bookings/{waiting.registration_id}/cancel"' in upcoming
    assert "Let the place go" not in text  # one way to let it go, not two


def test_a_paid_place_shows_the_amount_and_receipt(app, client, auth, paid_class, make_user,
                                                   make_baby):
    workshop = paid_class()
    parent = make_user(email="paid@example.org")
    with app.app_context():
        result = _book(parent, make_baby(parent), workshop)
        _pay(_stripe_base(app), result.registration_id, parent.id)
        payment = db.session.scalar(sa.select(Payment))
        assert payment.status == SUCCEEDED
        reference = payment.reference
    auth.login("paid@example.org")
    upcoming = _section(_bookings(client), "upcoming")
    text = _text(upcoming)
    assert "Paid £60.00 online on" in text
    assert f"Receipt {reference}." in text
    assert "/pay" not in upcoming
    assert "to pay at the centre" not in text
    assert "Add to calendar" in text and "Cancel booking" in text


def _stripe_base(app) -> str:
    return app.config["STRIPE_API_BASE"]


def test_a_deposit_leaves_the_rest_to_pay_at_the_centre(
    app, client, auth, paid_class, make_user, make_baby
):
    workshop = paid_class(payment_mode="deposit", deposit=1500)
    parent = make_user(email="deposit@example.org")
    with app.app_context():
        result = _book(parent, make_baby(parent), workshop)
        _pay(_stripe_base(app), result.registration_id, parent.id)
    auth.login("deposit@example.org")
    text = _text(_section(_bookings(client), "upcoming"))
    assert "Deposit of £15.00 paid online on" in text
    assert "The rest, £45.00, to pay at the centre." in text

    with app.app_context(), write_transaction():
        db.session.get(Registration, result.registration_id).paid_at_centre_at = (
            datetime.now(UTC)
        )
    text = _text(_section(_bookings(client), "upcoming"))
    assert "The rest is paid at the centre." in text
    assert "£45.00" not in text


def test_at_the_centre_and_free_classes(app, client, auth, make_workshop, make_user,
                                        make_baby):
    parent = make_user(email="centre@example.org")
    at_centre = make_workshop(title="Pay on the day", price="45.00")
    free = make_workshop(title="Free taster", price="0.00", kind="single")
    with app.app_context():
        _book(parent, make_baby(parent), at_centre)
        _book(parent, make_baby(parent, name="Bo"), free)
    auth.login("centre@example.org")
    page = _bookings(client)
    text = _text(_section(page, "upcoming"))
    assert text.count("to pay at the centre") == 1
    assert "£45.00 to pay at the centre." in text
    assert "online" not in text
    assert 'class="money"' in page  # only the paid class has a money block
    assert page.count('class="money"') == 1


def test_cancelling_shows_the_refund_in_progress_then_refunded(
    app, client, auth, paid_class, make_user, make_baby
):
    workshop = paid_class(refund_fee=500)
    parent = make_user(email="refund@example.org")
    base = None
    with app.app_context():
        base = _stripe_base(app)
        result = _book(parent, make_baby(parent), workshop)
        _pay(base, result.registration_id, parent.id)
    auth.login("refund@example.org")
    response = client.post(f"/account/bookings/{result.registration_id}/cancel",
                           follow_redirects=True)
    assert "Your place is cancelled." in _text(response.get_data(as_text=True))
    cancelled = _text(_section(_bookings(client), "cancelled"))
    assert "Paid £60.00 online on" in cancelled
    assert "Refund of £55.00 in progress" in cancelled
    assert "Refunded" not in cancelled

    with app.app_context():
        assert run_payments().refunded == 1
        intent_id = db.session.scalar(sa.select(Payment.stripe_payment_intent_id))
        assert [r["amount"] for r in refunds_at(base, intent_id)] == [5500]
    cancelled = _text(_section(_bookings(client), "cancelled"))
    assert "Refunded £55.00 to your card on" in cancelled
    assert "in progress" not in cancelled


def test_a_refund_that_failed_says_to_contact_the_centre(
    app, client, auth, paid_class, make_user, make_baby
):
    workshop = paid_class()
    parent = make_user(email="failed@example.org")
    with app.app_context():
        result = _book(parent, make_baby(parent), workshop)
        _pay(_stripe_base(app), result.registration_id, parent.id)
        cancel_registration(result.registration_id, actor_id=parent.id)
        with write_transaction():
            db.session.execute(sa.update(Refund).values(status=REFUND_FAILED))
    auth.login("failed@example.org")
    text = _text(_section(_bookings(client), "cancelled"))
    assert "We could not refund £60.00 to your card. Please contact the centre" in text
    assert "020 7946 0999" in text


def test_the_export_lists_payments_and_refunds(app, client, auth, paid_class, make_user,
                                               make_baby):
    workshop = paid_class(refund_fee=500)
    parent = make_user(email="export@example.org")
    other = make_user(email="other@example.org")
    with app.app_context():
        base = _stripe_base(app)
        mine = _book(parent, make_baby(parent), workshop)
        _pay(base, mine.registration_id, parent.id)
        theirs = _book(other, make_baby(other, name="Zed"), workshop)
        _pay(base, theirs.registration_id, other.id)
        cancel_registration(mine.registration_id, actor_id=parent.id)
        run_payments()
        payment = db.session.scalar(
            sa.select(Payment).where(Payment.registration_id == mine.registration_id)
        )
        reference, intent_id = payment.reference, payment.stripe_payment_intent_id

    auth.login("export@example.org")
    data = json.loads(client.get("/account/export.json").get_data(as_text=True))
    [exported] = data["payments"]
    assert exported["reference"] == reference
    assert exported["registration_id"] == mine.registration_id
    assert (exported["amount"], exported["currency"], exported["amount_text"]) == (
        6000, "GBP", "£60.00"
    )
    assert exported["status"] == "succeeded" and exported["purpose"] == "full"
    assert exported["paid_at"].endswith("+00:00") and exported["created_at"]
    assert exported["provider_reference"] == intent_id
    assert exported["refunded"] == 5500
    [refund] = exported["refunds"]
    assert (refund["amount"], refund["status"], refund["amount_text"]) == (
        5500, "succeeded", "£55.00"
    )
    assert refund["done_at"] and refund["provider_reference"]
    assert refund["reason"] == "Cancelled before the cut-off"
    [booking] = data["registrations"]
    assert booking["status"] == "cancelled" and "hold_expires_at" in booking
    assert "Zed" not in json.dumps(data)

    with app.app_context():
        privacy = client.get("/account/privacy").get_data(as_text=True)
        assert "Payments</strong> (1)" in privacy


def test_erasure_keeps_payments_for_the_accounts_without_personal_data(
    app, paid_class, make_user, make_baby
):
    workshop = paid_class(price="60.00")
    parent = make_user(email="leaving@example.org", name="Lena Marsh")
    baby = make_baby(parent, name="Ottilie")
    with app.app_context():
        base = _stripe_base(app)
        result = _book(parent, baby, workshop)
        _pay(base, result.registration_id, parent.id)
        # Staff gave part back by hand, and typed the family's names in the reason.
        with write_transaction():
            payment = db.session.scalar(sa.select(Payment))
            ledger.queue_refund(
                payment, 1000, reason="Ottilie's gran (Mrs Marsh) paid £10 in cash",
                initiated_by=BY_STAFF,
            )
        run_payments()
        with write_transaction():
            registration = db.session.get(Registration, result.registration_id)
            registration.notes = "Lena asked for a seat by the door"

        erase_user(parent.id)

        db.session.expire_all()
        registration = db.session.get(Registration, result.registration_id)
        assert registration.status == CANCELLED and registration.notes == ""
        assert registration.cancel_reason == "Account deleted"
        # What the registration still points at names nobody.
        user = db.session.get(User, registration.parent_id)
        assert user.name == "Erased account" and user.email == erased_email(parent.id)
        assert db.session.get(Baby, registration.baby_id).name == "Erased"

        # The payment stays, with what the accounts need; the rest is refunded by policy.
        payment = db.session.scalar(sa.select(Payment))
        assert (payment.amount, payment.currency, payment.status) == (6000, "GBP", SUCCEEDED)
        assert payment.paid_at is not None and payment.stripe_payment_intent_id
        refunds = list(db.session.scalars(sa.select(Refund).order_by(Refund.id)))
        assert [r.amount for r in refunds] == [1000, 5000]
        assert refunds[0].status == REFUND_SUCCEEDED
        assert refunds[1].reason == "Account deleted before the cut-off"

        personal = ("Lena", "Marsh", "Ottilie", "leaving@example.org")
        for row in [payment, *refunds, registration]:
            values = " ".join(
                str(getattr(row, column.key)) for column in sa.inspect(type(row)).columns
            )
            for word in personal:
                assert word.lower() not in values.lower(), (type(row).__name__, word)

        assert run_payments().refunded == 1
        assert sorted(r["amount"] for r in refunds_at(base, payment.stripe_payment_intent_id)) \
            == [1000, 5000]
        # Nobody is emailed at the erased address.
        recipients = set(db.session.scalars(sa.select(OutboxMessage.recipient)))
        assert "leaving@example.org" not in recipients
        assert not any(
            m.status != "sent"
            for m in db.session.scalars(
                sa.select(OutboxMessage).where(
                    OutboxMessage.recipient == erased_email(parent.id)
                )
            )
        )


def test_erasure_takes_names_out_of_other_refund_reasons(app, paid_class, make_user,
                                                        make_baby):
    workshop = paid_class()
    parent = make_user(email="names@example.org", name="Noor Haddad")
    with app.app_context():
        result = _book(parent, make_baby(parent, name="Sami"), workshop)
        _pay(_stripe_base(app), result.registration_id, parent.id)
        with write_transaction():
            payment = db.session.scalar(sa.select(Payment))
            ledger.queue_refund(payment, 500, reason="Week 2 cancelled for Sami and Noor",
                                initiated_by="centre")
        erase_user(parent.id)
        reasons = list(db.session.scalars(sa.select(Refund.reason).order_by(Refund.id)))
        assert reasons[0] == "Week 2 cancelled for (name removed) and (name removed)"


def test_the_demo_parent_books_and_pays_the_paid_course(app, client, auth, runner, stripe):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    with app.app_context():
        workshop = db.session.scalar(
            sa.select(Workshop).where(Workshop.payment_mode == "online")
        )
        parent = db.session.scalar(sa.select(User).where(User.email == "parent@example.com"))
        leo = db.session.scalar(
            sa.select(Baby).where(Baby.parent_id == parent.id, Baby.name == "Leo")
        )
        workshop_id, parent_id, leo_id = workshop.id, parent.id, leo.id
    assert client.post(
        "/login", data={"email": "parent@example.com", "password": "demo-pass-1234"}
    ).status_code == 302
    response = client.post(
        f"/classes/{workshop_id}/book", data={"baby_id": str(leo_id), "consent": "y"}
    )
    assert response.status_code == 302
    match = re.search(r"/account/bookings/(\d+)/pay$", response.headers["Location"])
    assert match, response.headers["Location"]
    registration_id = int(match.group(1))
    assert "Pay £60.00 by" in _text(_section(_bookings(client), "upcoming"))
    with app.app_context():
        _pay(stripe, registration_id, parent_id)
        assert db.session.get(Registration, registration_id).status == CONFIRMED
    assert "Paid £60.00 online on" in _text(_section(_bookings(client), "upcoming"))


def test_every_money_state_is_valid_html(app, client, auth, paid_class, make_user,
                                         make_baby):
    from tests.html_checker import html_errors

    online = paid_class(capacity=1)
    deposit = paid_class(payment_mode="deposit", deposit=1500, capacity=3)
    parent = make_user(email="states@example.org")
    other = make_user(email="other@example.org")
    with app.app_context():
        base = _stripe_base(app)
        held = _book(other, make_baby(other), online)  # takes the one place
        _book(parent, make_baby(parent, name="Ava"), online)  # waits
        paid = _book(parent, make_baby(parent, name="Bo"), deposit)
        _pay(base, paid.registration_id, parent.id)
        refunded = _book(parent, make_baby(parent, name="Cy"), deposit)
        _pay(base, refunded.registration_id, parent.id)
        cancel_registration(refunded.registration_id, actor_id=parent.id)
        failed = _book(parent, make_baby(parent, name="Di"), deposit)
        _pay(base, failed.registration_id, parent.id)
        cancel_registration(failed.registration_id, actor_id=parent.id)
        run_payments()
        with write_transaction():
            db.session.execute(
                sa.update(Refund)
                .where(Refund.payment_id.in_(
                    sa.select(Payment.id).where(
                        Payment.registration_id == failed.registration_id
                    )
                ))
                .values(status=REFUND_FAILED)
            )
        cancel_registration(held.registration_id, actor_id=other.id)  # Ava is offered
    auth.login("states@example.org")
    page = _bookings(client)
    text = _text(page)
    for phrase in ("No longer needed? Let it go", "Deposit of £15.00 paid online",
                   "The rest, £45.00, to pay at the centre.", "Refunded £15.00",
                   "We could not refund £15.00"):
        assert phrase in text, phrase
    errors = html_errors({"bookings": page})
    assert errors["bookings"] == [], "\n".join(errors["bookings"])


def test_a_place_paid_from_another_tab_is_reported_paid_not_refused(
    app, ctx, stripe, paid_class, make_user, make_baby
):
    """Two tabs pay the same held place: the provider refuses the second confirmation
    (the intent has succeeded). That tab is told the place is paid, not shown the
    provider's "Bad request" and asked for the money again."""
    from booking.services.payments import gateway

    workshop = paid_class()
    parent = make_user()
    registration_id = _book(parent, make_baby(parent), workshop).registration_id
    assert checkout.pay_page(registration_id, parent.id).state == checkout.TO_PAY
    intent_id = ledger.open_payment_of(registration_id).stripe_payment_intent_id
    db.session.rollback()
    assert gateway.confirm_with_card(intent_id, card_token(stripe)).succeeded  # the other tab

    outcome = checkout.pay_with_card(registration_id, parent.id, card_token(stripe))

    assert outcome.state == "paid", outcome
    assert db.session.get(Registration, registration_id, populate_existing=True).status == (
        CONFIRMED
    )
