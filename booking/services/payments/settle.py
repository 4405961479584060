"""A PaymentIntent that succeeded: confirm the place it was for, or refund it in full.

Called with what the provider says now (never with an event's copy), from the
webhook, the return from the pay page and the reconciliation of `payments run`;
whichever comes first acts, the others find the payment settled and change nothing.
"""

import sqlalchemy as sa

from booking.db import write_transaction
from booking.extensions import db
from booking.models import Baby, Payment, Registration, Workshop
from booking.models.payment import BY_SYSTEM, SUCCEEDED
from booking.models.registration import CANCELLED, CONFIRMED, PENDING_PAYMENT
from booking.models.workshop import PUBLISHED
from booking.services.booking.places import (
    eligibility,
    has_active_place,
    is_booking_open,
    lock_workshop,
    take_place,
    utc_now,
)
from booking.services.notices.emails import notify_booking_confirmed
from booking.services.notices.payment_emails import notify_late_payment, notify_receipt
from booking.services.payments import ledger
from booking.services.payments.gateway import Intent
from booking.services.payments.session_refunds import offer_refunds_on_paying

# The reason written on a held place that ended unpaid; only such a place may still be
# confirmed by a payment that comes late (one the parent gave up is refunded instead).
HOLD_EXPIRED_REASON = "Not paid in time"

CONFIRMED_NOW = "confirmed"
CONFIRMED_LATE = "confirmed_late"
REFUNDED = "refunded"
ALREADY = "already_settled"
NOT_PAID = "not_paid"
UNKNOWN = "unknown"


def payment_for_intent(intent: Intent) -> Payment | None:
    """Our payment row for a PaymentIntent: by its id, else by the metadata we set
    (an intent created just before a crash, its id never recorded)."""
    payment = db.session.scalar(
        sa.select(Payment).where(Payment.stripe_payment_intent_id == intent.id)
    )
    if payment is None and intent.payment_id is not None:
        payment = db.session.get(Payment, intent.payment_id)
        if payment is not None and (
            payment.stripe_payment_intent_id not in (None, intent.id)
            or payment.provider_key != intent.payment_key
        ):
            return None
    if payment is None or (intent.amount, intent.currency) != (
        payment.amount,
        payment.currency.upper(),
    ):
        return None  # not the payment we asked for
    return payment


def settle_intent(intent: Intent) -> str:
    """Act on a PaymentIntent as it stands now; returns what happened.

    Succeeded and its place still held: the place is confirmed, with the usual
    email and a receipt. Succeeded after its hold expired: confirmed if a place is
    still free, else refunded in full at once (a refund row); the parent is told
    which. A place confirmed here is offered, in its confirmation, the make-up-or-
    refund choice for each session of the course cancelled since the payment was asked
    for (`session_refunds.offer_refunds_on_paying`): it paid the whole price for them.
    Anything else (not yet paid, already settled, not ours) changes nothing.
    """
    if not intent.succeeded:
        return NOT_PAID
    found = payment_for_intent(intent)
    if found is None:
        return UNKNOWN
    payment_id, registration_id = found.id, found.registration_id
    db.session.rollback()
    with write_transaction():
        registration = (
            db.session.get(Registration, registration_id) if registration_id else None
        )
        workshop = lock_workshop(registration.workshop_id) if registration else None
        payment = db.session.scalar(
            sa.select(Payment)
            .where(Payment.id == payment_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if payment.status == SUCCEEDED:
            return ALREADY
        now = utc_now()
        payment.status = SUCCEEDED
        payment.paid_at = now
        payment.checked_at = now
        payment.stripe_payment_intent_id = intent.id
        db.session.flush()
        if registration is None:
            return _refund_in_full(payment, None)
        db.session.refresh(registration)
        if registration.status == PENDING_PAYMENT:
            _confirm(registration, now)
            choices = offer_refunds_on_paying(payment, workshop, now)
            notify_booking_confirmed(registration, choices)
            notify_receipt(registration, payment)
            return CONFIRMED_NOW
        if _can_confirm_late(registration, workshop):
            _confirm(registration, now)
            registration.cancelled_at = None
            registration.cancel_reason = ""
            choices = offer_refunds_on_paying(payment, workshop, now)
            notify_late_payment(registration, payment, confirmed=True)
            notify_booking_confirmed(registration, choices)
            notify_receipt(registration, payment)
            return CONFIRMED_LATE
        return _refund_in_full(payment, registration)


def _confirm(registration: Registration, now) -> None:
    registration.status = CONFIRMED
    registration.confirmed_at = now
    registration.hold_expires_at = None
    db.session.flush()


def _can_confirm_late(registration: Registration, workshop: Workshop) -> bool:
    """A hold that expired may still become a place, if one is free now (taken here)."""
    if registration.status != CANCELLED or registration.cancel_reason != HOLD_EXPIRED_REASON:
        return False
    if workshop.status != PUBLISHED or not is_booking_open(workshop):
        return False
    if registration.baby_id is None or has_active_place(registration.baby_id, workshop.id):
        return False
    baby = db.session.get(Baby, registration.baby_id)
    if not eligibility(baby, workshop).eligible:
        return False
    return take_place(workshop)


def _refund_in_full(payment: Payment, registration: Registration | None) -> str:
    ledger.queue_refund(
        payment, None, reason="Paid after the place had gone", initiated_by=BY_SYSTEM
    )
    if registration is not None and registration.status != CONFIRMED:
        notify_late_payment(registration, payment, confirmed=False)
    return REFUNDED
