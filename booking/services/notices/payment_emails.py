"""The emails a use case queues about money, inside its own write transaction."""

from datetime import datetime

import sqlalchemy as sa

from booking.extensions import db
from booking.mail import notify_payments
from booking.mail.notify import HeldPlace
from booking.mail.notify_payments import PaymentLine
from booking.models import Centre, OutboxMessage, Payment, Registration, Workshop
from booking.models.payment import DEPOSIT, OPEN
from booking.models.registration import PENDING_PAYMENT
from booking.services.notices.queries import booking_data
from booking.services.payments.money import format_money
from booking.timefmt import format_local


def payment_line(payment: Payment, workshop: Workshop | None, centre: Centre) -> PaymentLine:
    """A payment as receipts and refund notices show it, in the centre's zone."""
    rest = ""
    if payment.purpose == DEPOSIT and workshop is not None:
        left = workshop.price_minor - payment.amount
        if left > 0:
            rest = format_money(left, payment.currency)
    when = payment.paid_at or payment.created_at
    return PaymentLine(
        reference=payment.reference,
        amount=format_money(payment.amount, payment.currency),
        what="Deposit" if payment.purpose == DEPOSIT else "Fee",
        when=format_local(when, centre.timezone),
        rest_at_centre=rest,
    )


def _line(payment: Payment) -> PaymentLine:
    workshop = db.session.get(Workshop, payment.workshop_id) if payment.workshop_id else None
    return payment_line(payment, workshop, db.session.get(Centre, payment.centre_id))


def notify_offered(registration: Registration) -> OutboxMessage | None:
    """Tell a parent a place is held (offered from the waiting list, or just booked)
    until its deadline, with the pay link and the one to let it go."""
    db.session.flush()
    data = booking_data(registration)
    workshop = db.session.get(Workshop, registration.workshop_id)
    centre = db.session.get(Centre, workshop.centre_id)
    return notify_payments.queue_place_offered(
        data,
        amount=format_money(workshop.online_amount, centre.currency),
        deadline=format_local(registration.hold_expires_at, centre.timezone),
        offered=registration.offered_at is not None,
    )


def held_places(workshop: Workshop, now: datetime) -> dict[int, HeldPlace]:
    """The places of `workshop` held while their families pay, by registration id: until
    when each is held, and what its pay page asks (its open payment, as that page
    reads it; the class's online amount should it have none). A hold already past its
    deadline is not one: the payments run lets it go, and says so."""
    centre = db.session.get(Centre, workshop.centre_id)
    holds = dict(db.session.execute(
        sa.select(Registration.id, Registration.hold_expires_at).where(
            Registration.workshop_id == workshop.id,
            Registration.status == PENDING_PAYMENT,
            Registration.hold_expires_at > now,
        )
    ).all())
    if not holds:
        return {}
    asked = dict(db.session.execute(
        sa.select(Payment.registration_id, Payment.amount)
        .where(Payment.registration_id.in_(holds), Payment.status == OPEN)
        .order_by(Payment.id)  # the latest open one wins, as on the pay page
    ).all())
    return {
        registration_id: HeldPlace(
            deadline=format_local(deadline, centre.timezone),
            amount=format_money(asked.get(registration_id, workshop.online_amount),
                                centre.currency),
        )
        for registration_id, deadline in holds.items()
    }


def notify_hold_released(registration: Registration, *, reason: str) -> OutboxMessage | None:
    """Tell a parent their held place has gone: `expired`, `cancelled` by them, or
    `by_centre` (with the reason staff gave them)."""
    db.session.flush()
    return notify_payments.queue_hold_released(
        booking_data(registration), reason=reason,
        centre_reason=registration.cancel_reason if reason == "by_centre" else "",
    )


def notify_receipt(registration: Registration, payment: Payment) -> OutboxMessage | None:
    """Send the receipt of a payment."""
    db.session.flush()
    return notify_payments.queue_receipt(booking_data(registration), _line(payment))


def notify_late_payment(
    registration: Registration, payment: Payment, *, confirmed: bool
) -> OutboxMessage | None:
    """Tell a parent what became of a payment that came after its hold ended."""
    db.session.flush()
    return notify_payments.queue_late_payment(
        booking_data(registration), _line(payment), confirmed=confirmed
    )


def notify_refund_sent(
    registration: Registration, payment: Payment, amount: int, reason: str
) -> OutboxMessage | None:
    """Tell a parent a refund has been made to their card."""
    db.session.flush()
    return notify_payments.queue_refund_sent(
        booking_data(registration),
        _line(payment),
        refunded=format_money(amount, payment.currency),
        reason=reason,
    )
