"""What a parent's bookings say about money: paid online, a place held while paying,
what is left to pay at the centre, and refunds made, on their way or failed.

Read for all of a parent's bookings at once (one query), so the bookings page costs
the same with five bookings as with fifty.
"""

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

import sqlalchemy as sa

from booking.extensions import db
from booking.models import Payment, Refund, Registration, Workshop
from booking.models.payment import (
    AWAITING_CHOICE,
    DEPOSIT,
    OPEN,
    REFUND_FAILED,
    REFUND_PENDING,
    REFUND_SUCCEEDED,
    SUCCEEDED,
)
from booking.models.registration import CANCELLED, CONFIRMED, PENDING_PAYMENT
from booking.models.workshop import CANCELLED as WORKSHOP_CANCELLED
from booking.services.payments.figures import (
    over_paid_online,
    owed_at_centre,
    paid_at_centre_amount,
    place_fee,
    price_of,
    to_give_back_at_centre,
)
from booking.services.payments.money import format_money

# What a refund line says to the parent.
REFUNDED = "refunded"
REFUND_ON_ITS_WAY = "on_its_way"
REFUND_NOT_MADE = "failed"
REFUND_OR_MAKEUP = "choice"  # a cancelled session: refunded unless a make-up is chosen

_REFUND_STATES = {
    REFUND_SUCCEEDED: REFUNDED,
    REFUND_PENDING: REFUND_ON_ITS_WAY,
    REFUND_FAILED: REFUND_NOT_MADE,
    AWAITING_CHOICE: REFUND_OR_MAKEUP,
}


@dataclass(frozen=True)
class PaidLine:
    """A payment that took money online."""

    reference: str
    amount: str
    is_deposit: bool
    paid_at: datetime | None


@dataclass(frozen=True)
class RefundLine:
    """Money given back, or on its way back, on one of the booking's payments."""

    state: str
    amount: str
    # Made (refunded), or due (a cancelled session's refund waiting for a choice).
    when: datetime | None = None
    # The cancelled session a refund waiting for a choice is for.
    session_id: int | None = None


@dataclass
class BookingMoney:
    """Everything the bookings page shows about one booking's money."""

    paid: list[PaidLine] = field(default_factory=list)
    refunds: list[RefundLine] = field(default_factory=list)
    # A place held while the parent pays: how much, until when, and whether it was
    # offered from the waiting list (rather than booked).
    to_pay: str = ""
    pay_by: datetime | None = None
    offered: bool = False
    # Left to pay at the centre (the fee, or the rest after a deposit), or settled there.
    at_centre: str = ""
    at_centre_is_rest: bool = False
    paid_at_centre: bool = False
    # Paid at the centre for a booking since cancelled: the centre gives it back there,
    # in full when it cancelled the class.
    give_back: str = ""
    give_back_in_full: bool = False
    # Paid at the centre beyond the fee of a confirmed place (moved to a cheaper class).
    over_paid: str = ""
    # Paid online, and kept, beyond the class's price (moved to a cheaper class).
    over_paid_online: str = ""

    @property
    def awaiting_payment(self) -> bool:
        """The place is held until `pay_by` while the parent pays `to_pay` online."""
        return bool(self.to_pay)

    @property
    def empty(self) -> bool:
        """Nothing to say about money (a free class, or a waiting-list place)."""
        return not (
            self.paid or self.refunds or self.to_pay or self.at_centre or self.paid_at_centre
            or self.give_back or self.over_paid or self.over_paid_online
        )

    def as_past(self) -> None:
        """A class that is over asks for nothing more: no payment online, and nothing
        said of the centre's fee (settled there or not, that is between the family and
        the centre)."""
        self.to_pay = ""
        self.pay_by = None
        self.offered = False
        self.at_centre = ""
        self.at_centre_is_rest = False
        self.paid_at_centre = False


@cache
def _payments_statement():
    """Payments with their refunds, oldest first: built once, the registrations' ids an
    expanding parameter."""
    return (
        sa.select(Payment, Refund)
        .outerjoin(Refund, Refund.payment_id == Payment.id)
        .where(Payment.registration_id.in_(sa.bindparam("ids", expanding=True)))
        .order_by(Payment.id, Refund.id)
    )


def _payments_with_refunds(registration_ids: list[int]) -> dict[int, list]:
    """{registration id: [(payment, [refunds])]} in one query, oldest first."""
    rows = db.session.execute(_payments_statement(), {"ids": list(registration_ids)}).all()
    by_registration: dict[int, list] = {}
    seen: dict[int, list] = {}
    for payment, refund in rows:
        if payment.id not in seen:
            seen[payment.id] = []
            by_registration.setdefault(payment.registration_id, []).append(
                (payment, seen[payment.id])
            )
        if refund is not None:
            seen[payment.id].append(refund)
    return by_registration


def _money(registration: Registration, workshop: Workshop, currency: str,
           payments: list) -> BookingMoney:
    money = BookingMoney()
    paid_online = returned = 0
    open_amount = None
    for payment, refunds in payments:
        if payment.status == SUCCEEDED:
            paid_online += payment.amount
            money.paid.append(
                PaidLine(
                    reference=payment.reference,
                    amount=format_money(payment.amount, payment.currency),
                    is_deposit=payment.purpose == DEPOSIT,
                    paid_at=payment.paid_at,
                )
            )
        elif payment.status == OPEN:
            open_amount = payment.amount
        for refund in refunds:
            if refund.status in (REFUND_SUCCEEDED, REFUND_PENDING, AWAITING_CHOICE):
                returned += refund.amount
            state = _REFUND_STATES.get(refund.status)
            if state is None:  # withdrawn: a make-up credit was chosen instead
                continue
            when = refund.done_at if state == REFUNDED else refund.due_at
            money.refunds.append(
                RefundLine(
                    state,
                    format_money(refund.amount, payment.currency),
                    when,
                    refund.session_id if state == REFUND_OR_MAKEUP else None,
                )
            )
    if registration.status == PENDING_PAYMENT:
        amount = open_amount if open_amount is not None else workshop.online_amount
        if amount:
            money.to_pay = format_money(amount, currency)
            money.pay_by = registration.hold_expires_at
            money.offered = registration.offered_at is not None
    elif registration.status == CONFIRMED:
        fee = place_fee(workshop, registration, paid_online)
        marked = (registration.paid_at_centre_at, registration.paid_at_centre_minor)
        paid_there = paid_at_centre_amount(fee, *marked)
        owed = owed_at_centre(fee, registration.status, *marked)
        over = to_give_back_at_centre(fee, registration.status, *marked)
        if owed:
            money.at_centre = format_money(owed, currency)
            money.at_centre_is_rest = paid_online > 0 or paid_there > 0
        elif paid_there:
            money.paid_at_centre = True
        if over:
            money.over_paid = format_money(over, currency)
        beyond = over_paid_online(price_of(workshop), registration.status,
                                  paid_online - returned)
        if beyond:
            money.over_paid_online = format_money(beyond, currency)
    elif registration.status == CANCELLED and registration.paid_at_centre_at is not None:
        paid_there = paid_at_centre_amount(
            place_fee(workshop, registration, paid_online),
            registration.paid_at_centre_at,
            registration.paid_at_centre_minor,
        )
        if paid_there:
            money.give_back = format_money(paid_there, currency)
            money.give_back_in_full = workshop.status == WORKSHOP_CANCELLED
    return money


def booking_money(
    registrations: list[Registration], paid: set[int] | None = None
) -> dict[int, BookingMoney]:
    """{registration id: BookingMoney} for registrations whose workshop and centre are
    loaded; one query for all of them, or none when `paid` (the ids of those with any
    payment, when the caller knows them) is empty."""
    if not registrations:
        return {}
    ids = [r.id for r in registrations] if paid is None else sorted(paid)
    payments = _payments_with_refunds(ids) if ids else {}
    return {
        registration.id: _money(
            registration,
            registration.workshop,
            registration.workshop.centre.currency,
            payments.get(registration.id, []),
        )
        for registration in registrations
    }


def cancelled_what(registration: Registration) -> str:
    """What a just-cancelled registration was: 'place' (confirmed), 'held' (a place held
    while paying, or offered from the waiting list) or 'waiting' (a waiting-list entry)."""
    if registration.confirmed_at is not None:
        return "place"
    if registration.hold_expires_at is not None:
        return "held"
    return "waiting"
