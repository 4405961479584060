"""The pay page of a held place: its PaymentIntent, the card, and the way back.

Card details never reach this server: Stripe.js turns the card into a token in the
browser, and only that token's card id comes here. Each provider call is made with
no transaction open; what it answered is recorded in a transaction of its own.
"""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app

from booking.db import write_transaction
from booking.extensions import db
from booking.models import Baby, Centre, Payment, Registration, Workshop
from booking.models.payment import OPEN, SUCCEEDED
from booking.models.registration import CONFIRMED, PENDING_PAYMENT
from booking.services.booking.places import require_int, utc_now
from booking.services.errors import Conflict, Invalid, NotFound
from booking.services.payments import gateway, ledger
from booking.services.payments.money import format_money
from booking.services.payments.settle import ALREADY, REFUNDED, settle_intent
from booking.timefmt import format_local

# What the pay page shows.
TO_PAY = "pay"
PAID = "paid"
GONE = "gone"  # the hold ended (expired, cancelled) before payment
NOTHING = "nothing"  # a booking with nothing to pay online (free, or paid at the centre)


@dataclass
class PayPage:
    """A parent's held place and the payment that keeps it."""

    registration_id: int
    state: str
    workshop_title: str
    workshop_id: int
    centre_name: str
    baby_name: str
    amount: str
    what: str
    deadline: str = ""
    offered: bool = False
    client_secret: str = ""
    reference: str = ""


def _own(registration_id, parent_id: int) -> tuple[Registration, Workshop, Centre]:
    registration = db.session.get(Registration, require_int(registration_id, "The booking"))
    if registration is None or registration.parent_id != parent_id:
        raise NotFound("We could not find that booking on your account.")
    workshop = db.session.get(Workshop, registration.workshop_id)
    return registration, workshop, db.session.get(Centre, workshop.centre_id)


def _latest_payment(registration_id: int) -> Payment | None:
    return db.session.scalar(
        sa.select(Payment)
        .where(Payment.registration_id == registration_id)
        .order_by(Payment.id.desc())
        .limit(1)
    )


def _page(registration, workshop, centre, payment: Payment | None) -> PayPage:
    baby = db.session.get(Baby, registration.baby_id) if registration.baby_id else None
    if registration.status == PENDING_PAYMENT:
        state = TO_PAY
    elif payment is None:
        state = NOTHING
    elif registration.status == CONFIRMED and payment.status == SUCCEEDED:
        state = PAID
    else:
        state = GONE
    amount = payment.amount if payment is not None else workshop.online_amount
    deadline: datetime | None = registration.hold_expires_at
    return PayPage(
        registration_id=registration.id,
        state=state,
        workshop_title=workshop.title,
        workshop_id=workshop.id,
        centre_name=centre.name,
        baby_name=baby.name if baby is not None else "your baby",
        amount=format_money(amount, centre.currency),
        what="deposit" if payment is not None and payment.purpose == "deposit" else "fee",
        deadline=format_local(deadline, centre.timezone) if deadline else "",
        offered=registration.offered_at is not None,
        client_secret=(payment.stripe_client_secret or "") if payment is not None else "",
        reference=payment.reference if payment is not None else "",
    )


def pay_page_without_intent(registration_id, parent_id: int) -> PayPage:
    """What the pay page shows, without asking the provider for anything."""
    registration, workshop, centre = _own(registration_id, parent_id)
    return _page(registration, workshop, centre, _latest_payment(registration.id))


def pay_page(registration_id, parent_id: int) -> PayPage:
    """What the pay page shows; creates the PaymentIntent the first time it is needed."""
    registration, workshop, centre = _own(registration_id, parent_id)
    payment = _latest_payment(registration.id)
    page = _page(registration, workshop, centre, payment)
    if page.state != TO_PAY or payment is None or payment.status != OPEN:
        return page
    if not payment.stripe_payment_intent_id:
        page.client_secret = _create_intent(payment)
    return page


def _create_intent(payment: Payment) -> str:
    payment_id, amount, currency = payment.id, payment.amount, payment.currency
    reference, key = payment.reference, payment.provider_key
    intent = gateway.create_intent(
        payment_id=payment_id, payment_key=key, amount=amount, currency=currency,
        reference=reference,
    )
    with write_transaction():
        db.session.execute(
            sa.update(Payment)
            .where(Payment.id == payment_id, Payment.stripe_payment_intent_id.is_(None))
            .values(stripe_payment_intent_id=intent.id, stripe_client_secret=intent.client_secret)
        )
    payment = db.session.get(Payment, payment_id)
    return payment.stripe_client_secret or ""


@dataclass
class CardResult:
    """What became of a card: paid, asks for authentication, or refused (`message`)."""

    state: str  # 'paid', 'refunded' (paid after the place had gone), 'authenticate', 'refused'
    client_secret: str = ""
    message: str = ""


def _paid(intent, registration_id: int) -> CardResult:
    """A succeeded intent, settled: the place is paid, or refunded when it had gone."""
    outcome = settle_intent(intent)
    if outcome == ALREADY:
        # Settled meanwhile (the webhook, or another tab, came first): say what it
        # decided, which is a refund when the place had gone.
        db.session.rollback()
        settled = db.session.get(Registration, registration_id, populate_existing=True)
        outcome = REFUNDED if settled.status != CONFIRMED else outcome
    if outcome == REFUNDED:
        return CardResult("refunded")
    return CardResult("paid")


def pay_with_card(registration_id, parent_id: int, card_id: str) -> CardResult:
    """Confirm the held place's PaymentIntent with the card Stripe.js tokenised."""
    card_id = (card_id or "").strip()
    if not card_id or len(card_id) > 255 or not card_id.replace("_", "").isalnum():
        raise Invalid("The card details did not come through. Please enter them again.")
    registration, workshop, centre = _own(registration_id, parent_id)
    if registration.status != PENDING_PAYMENT:
        raise Conflict("This place is no longer waiting for payment.")
    payment = ledger.open_payment_of(registration.id)
    if payment is None:
        raise Conflict("This place is no longer waiting for payment.")
    if not payment.stripe_payment_intent_id:
        _create_intent(payment)
        payment = db.session.get(Payment, payment.id)
    intent_id = payment.stripe_payment_intent_id
    try:
        intent = gateway.confirm_with_card(intent_id, card_id)
    except gateway.GatewayError as exc:
        # Refused, but perhaps because it was paid meanwhile (the same place paid from
        # another tab): then say so rather than ask for the money again.
        try:
            intent = gateway.retrieve_intent(intent_id)
        except gateway.GatewayError:
            return CardResult("refused", message=exc.message)
        if not intent.succeeded:
            return CardResult("refused", message=exc.message)
    if intent.succeeded:
        return _paid(intent, registration.id)
    if intent.status == gateway.REQUIRES_ACTION:
        return CardResult("authenticate", client_secret=intent.client_secret)
    return CardResult(
        "refused", message=intent.error or "The payment did not go through. Please try again."
    )


def check_payment(registration_id, parent_id: int) -> str:
    """After the browser comes back (from authentication, or reloading): read the
    PaymentIntent from the provider and settle it, so a lost webhook never leaves a
    paid parent unconfirmed. Returns the settle outcome, or '' with nothing to check."""
    registration, _workshop, _centre = _own(registration_id, parent_id)
    payment = _latest_payment(registration.id)
    if payment is None or not payment.stripe_payment_intent_id or payment.status == SUCCEEDED:
        return ""
    payment_id, intent_id = payment.id, payment.stripe_payment_intent_id
    try:
        intent = gateway.retrieve_intent(intent_id)
    except gateway.GatewayError:
        return ""
    outcome = settle_intent(intent)
    with write_transaction():
        db.session.execute(
            sa.update(Payment).where(Payment.id == payment_id).values(checked_at=utc_now())
        )
    return outcome


def publishable_key() -> str:
    """The key Stripe.js is started with."""
    return current_app.config.get("STRIPE_PUBLISHABLE_KEY") or ""
