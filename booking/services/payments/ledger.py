"""Payment and refund rows, written inside the caller's write transaction.

Nothing here calls the provider: a refund is a row that `flask payments run` carries
out after the commit, so it exists if and only if the change that caused it does.
Also the two deadlines of a held place: the hold after booking and the offer from
the waiting list.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app

from booking.db import require_transaction
from booking.extensions import db
from booking.models import Centre, Payment, Refund, Registration, Workshop, utcnow
from booking.models.payment import (
    ABANDONED,
    AWAITING_CHOICE,
    DEPOSIT,
    FULL,
    OPEN,
    REFUND_PENDING,
    SUCCEEDED,
    WITHDRAWN,
)
from booking.models.workshop import PAY_DEPOSIT
from booking.services.payments import figures
from booking.timefmt import local_to_utc, to_local

# An offer from the waiting list never ends at night in the centre's zone: one that
# would end between these hours runs on until the morning.
QUIET_FROM = time(21, 0)
QUIET_UNTIL = time(8, 0)

# Refund rows that will still take money back (not yet carried out, or waiting for
# the parent's choice).
OUTSTANDING = (REFUND_PENDING, AWAITING_CHOICE)
# Refund rows that spoke for part of a payment: on their way, or a session's share the
# parent took as a make-up credit instead (that money is settled, not refundable again).
SPOKEN_FOR = (*OUTSTANDING, WITHDRAWN)


def hold_deadline(now: datetime) -> datetime:
    """Until when a place booked in a paid workshop is held while the parent pays."""
    return now + timedelta(minutes=current_app.config["PAYMENT_HOLD_MINUTES"])


def offer_deadline(now: datetime, timezone: str) -> datetime:
    """Until when a place offered from the waiting list waits for payment:
    PAYMENT_OFFER_HOURS, moved to 08:00 when it would end at night (21:00-08:00)
    in the centre's zone, so nobody loses a place while asleep."""
    end = now + timedelta(hours=current_app.config["PAYMENT_OFFER_HOURS"])
    local = to_local(end, timezone)
    if local.time() >= QUIET_FROM:
        morning = (local + timedelta(days=1)).replace(
            hour=QUIET_UNTIL.hour, minute=0, second=0, microsecond=0
        )
    elif local.time() < QUIET_UNTIL:
        morning = local.replace(hour=QUIET_UNTIL.hour, minute=0, second=0, microsecond=0)
    else:
        return end
    return local_to_utc(morning.replace(tzinfo=None), timezone)


def open_payment(registration: Registration, workshop: Workshop, centre: Centre) -> Payment:
    """The payment asked of a parent for a held place: the price, or the deposit."""
    require_transaction("Asking for a payment")
    payment = Payment(
        registration_id=registration.id,
        workshop_id=workshop.id,
        centre_id=centre.id,
        purpose=DEPOSIT if workshop.payment_mode == PAY_DEPOSIT else FULL,
        amount=workshop.online_amount,
        currency=centre.currency,
        status=OPEN,
    )
    db.session.add(payment)
    db.session.flush()
    return payment


def open_payment_of(registration_id: int) -> Payment | None:
    """The registration's payment still waiting to be paid, if any."""
    return db.session.scalar(
        sa.select(Payment)
        .where(Payment.registration_id == registration_id, Payment.status == OPEN)
        .order_by(Payment.id.desc())
        .limit(1)
    )


def abandon_open_payments(registration_id: int) -> None:
    """The hold ended unpaid: its payments are abandoned (a payment that still succeeds
    later is settled on its own: confirmed if a place is free, refunded if not)."""
    require_transaction("Abandoning a payment")
    db.session.execute(
        sa.update(Payment)
        .where(Payment.registration_id == registration_id, Payment.status == OPEN)
        .values(status=ABANDONED)
    )


def registrations_that_paid(workshop_id: int) -> set[int]:
    """Ids of the workshop's registrations with a payment that took money (one query,
    so a cancellation touches refunds only for those)."""
    return set(
        db.session.scalars(
            sa.select(Payment.registration_id)
            .join(Registration, Registration.id == Payment.registration_id)
            .where(Registration.workshop_id == workshop_id, Payment.status == SUCCEEDED)
        )
    )


def paid_payments(registration_id: int) -> list[Payment]:
    """The registration's payments that took money, oldest first."""
    return list(
        db.session.scalars(
            sa.select(Payment)
            .where(Payment.registration_id == registration_id, Payment.status == SUCCEEDED)
            .order_by(Payment.id)
        )
    )


def refundable(payment: Payment) -> int:
    """What can still be refunded on a payment: paid, less refunds made, on their way,
    or taken as a make-up credit instead.

    Reads the payment row afresh under a row lock (after the workshop's, in the usual
    order), so a refund the worker records at this moment is counted once: either as
    made or as on its way, never as neither."""
    payment = db.session.scalar(
        sa.select(Payment)
        .where(Payment.id == payment.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if payment.status != SUCCEEDED:
        return 0
    on_the_way = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Refund.amount), 0)).where(
            Refund.payment_id == payment.id, Refund.status.in_(SPOKEN_FOR)
        )
    )
    return max(0, payment.amount - payment.refunded - int(on_the_way))


def queue_refund(
    payment: Payment,
    amount: int | None,
    *,
    reason: str,
    initiated_by: str,
    status: str = REFUND_PENDING,
    due_at: datetime | None = None,
    session_id: int | None = None,
) -> Refund | None:
    """Write a refund row (the whole refundable amount when `amount` is None), capped at
    what is left to refund; None when nothing is. Carried out after the commit."""
    require_transaction("Queueing a refund")
    left = refundable(payment)
    amount = left if amount is None else min(int(amount), left)
    if amount <= 0:
        return None
    refund = Refund(
        payment_id=payment.id,
        amount=amount,
        reason=(reason or "")[:200],
        initiated_by=initiated_by,
        status=status,
        session_id=session_id,
    )
    if due_at is not None:
        refund.due_at = due_at
    db.session.add(refund)
    db.session.flush()
    return refund


def release_choices(registration_id: int) -> list[Refund]:
    """Refunds of cancelled weeks still waiting for the family's choice of a make-up
    are made now (the place they were for is ending or moving); returns them."""
    require_transaction("Releasing refund choices")
    paid = sa.select(Payment.id).where(
        Payment.registration_id == registration_id, Payment.status == SUCCEEDED
    )
    awaiting = list(
        db.session.scalars(
            sa.select(Refund)
            .where(Refund.payment_id.in_(paid), Refund.status == AWAITING_CHOICE)
            .order_by(Refund.id)
            .with_for_update()
        )
    )
    now = utcnow()
    for refund in awaiting:
        refund.status = REFUND_PENDING
        refund.due_at = now
    db.session.flush()
    return awaiting


def refund_registration(
    registration_id: int, *, reason: str, initiated_by: str, keep: int = 0
) -> list[Refund]:
    """Refund everything paid online for a registration, less `keep` (a cancellation
    fee, taken once across its payments). A cancelled session's share still waiting
    for the parent's choice is made at once too: with the place gone, there is no
    make-up to choose."""
    refunds = release_choices(registration_id)
    for payment in paid_payments(registration_id):
        left = refundable(payment)
        kept = min(keep, left)
        keep -= kept
        refund = queue_refund(
            payment, left - kept, reason=reason, initiated_by=initiated_by
        )
        if refund is not None:
            refunds.append(refund)
    return refunds


@dataclass(frozen=True)
class CancellingRefund:
    """What cancelling a booking now would give back (`refund_registration` with the
    fee `keep`), in minor units: `back` in all, the fee `kept` of what was left, and
    the cancelled weeks' shares taken as make-up credits instead (`credited`)."""

    back: int
    kept: int
    credited: int


def refund_on_cancelling(registration_id: int, keep: int) -> CancellingRefund:
    """`refund_registration`'s sums, read without changing or locking anything (for the
    page that asks whether to cancel)."""
    spoken: dict[int, int] = defaultdict(int)
    awaiting = credited = 0
    payments = paid_payments(registration_id)
    if payments:
        for payment_id, status, amount in db.session.execute(
            sa.select(Refund.payment_id, Refund.status, sa.func.sum(Refund.amount))
            .where(
                Refund.payment_id.in_([p.id for p in payments]),
                Refund.status.in_(SPOKEN_FOR),
            )
            .group_by(Refund.payment_id, Refund.status)
        ):
            spoken[payment_id] += int(amount)
            if status == AWAITING_CHOICE:
                awaiting += int(amount)
            elif status == WITHDRAWN:
                credited += int(amount)
    left = sum(max(0, p.amount - p.refunded - spoken[p.id]) for p in payments)
    kept = min(keep, left)
    return CancellingRefund(back=awaiting + left - kept, kept=kept, credited=credited)


def paid_online(registration_id: int) -> int:
    """What a registration has paid online and not had back (minor units)."""
    return sum(p.amount - p.refunded for p in paid_payments(registration_id))


def kept_online(registration_id: int) -> int:
    """What a registration has paid online and keeps: less refunds made, on their way
    or waiting for the parent's choice (as the staff pages and the bookings page count
    it), in minor units."""
    payments = paid_payments(registration_id)
    if not payments:
        return 0
    outstanding = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Refund.amount), 0)).where(
            Refund.payment_id.in_([p.id for p in payments]), Refund.status.in_(OUTSTANDING)
        )
    )
    return max(0, sum(p.amount - p.refunded for p in payments) - int(outstanding))


def paid_at_centre_of(registration: Registration, workshop: Workshop) -> int:
    """What is marked paid at the centre for a booking, in minor units: the amount
    recorded with the mark, or the class's fee there for a mark made before amounts were
    (`figures.paid_at_centre_amount`); 0 without a mark."""
    if registration.paid_at_centre_at is None:
        return 0
    if registration.paid_at_centre_minor is not None:
        return registration.paid_at_centre_minor
    return fee_and_paid_at_centre(registration, workshop)[1]


def fee_and_paid_at_centre(registration: Registration, workshop: Workshop) -> tuple[int, int]:
    """A booking's fee at the centre and what is marked paid there, in minor units."""
    paid = sum(p.amount for p in paid_payments(registration.id))
    fee = figures.place_fee(workshop, registration, paid)
    return fee, figures.paid_at_centre_amount(
        fee, registration.paid_at_centre_at, registration.paid_at_centre_minor
    )
