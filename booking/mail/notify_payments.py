"""Emails about money: places offered or held for payment, receipts, refunds.

Queued in the caller's write transaction like every other email (see
`booking.mail.notify`), from plain data the use case loaded and the amounts it
decided, already written out ("£60.00").
"""

from dataclasses import dataclass

from booking.calendar.data import BookingData
from booking.mail.context import booking_info
from booking.mail.notify import _class, _for, _queue_for_parent, pay_links
from booking.models import OutboxMessage


@dataclass(frozen=True)
class PaymentLine:
    """One payment as a receipt or a refund notice shows it."""

    reference: str
    amount: str  # '£60.00'
    what: str  # 'Course fee' or 'Deposit'
    when: str  # local date and time the money moved
    rest_at_centre: str = ""  # '£40.00' still to pay at the centre after a deposit


def queue_place_offered(
    data: BookingData, *, amount: str, deadline: str, offered: bool
) -> OutboxMessage | None:
    """A place is held for the parent until `deadline`: pay to keep it (a pay link),
    or say it is no longer needed (it goes to the next family at once)."""
    booking = booking_info(data)
    if offered:
        subject = f"A place came up - pay by {deadline} to keep it: {_class(booking.info)}"
    else:
        subject = f"Your place is held until {deadline}: {_class(booking.info)}"
    return _queue_for_parent(
        booking,
        "place_offered",
        subject + _for(booking),
        amount=amount,
        deadline=deadline,
        offered=offered,
        **pay_links(data.id),
    )


def queue_hold_released(
    data: BookingData, *, reason: str, centre_reason: str = ""
) -> OutboxMessage | None:
    """The held or offered place was not paid for in time (`expired`), the parent gave
    it up (`cancelled`) or the centre let it go (`by_centre`, with the reason staff gave
    the family, `centre_reason`): it is free again for another family."""
    booking = booking_info(data)
    what = "Payment time ran out" if reason == "expired" else "Place released"
    return _queue_for_parent(
        booking,
        "hold_released",
        f"{what}: {_class(booking.info)}{_for(booking)}",
        reason=reason,
        centre_reason=centre_reason,
    )


def queue_receipt(data: BookingData, payment: PaymentLine) -> OutboxMessage | None:
    """The receipt of a payment: amount, date, centre and reference."""
    booking = booking_info(data)
    return _queue_for_parent(
        booking,
        "receipt",
        f"Receipt {payment.reference}: {payment.amount} for {_class(booking.info)}",
        payment=payment,
    )


def queue_late_payment(
    data: BookingData, payment: PaymentLine, *, confirmed: bool
) -> OutboxMessage | None:
    """A payment that came after its hold ended: the place was still free and is
    confirmed, or it was not and the money is being refunded in full."""
    booking = booking_info(data)
    if confirmed:
        subject = f"Payment received, place confirmed: {_class(booking.info)}{_for(booking)}"
    else:
        subject = f"No place left - full refund on its way: {_class(booking.info)}"
    return _queue_for_parent(
        booking, "late_payment", subject, payment=payment, confirmed=confirmed
    )


def queue_refund_sent(
    data: BookingData, payment: PaymentLine, *, refunded: str, reason: str
) -> OutboxMessage | None:
    """A refund has been made to the parent's card."""
    booking = booking_info(data)
    return _queue_for_parent(
        booking,
        "refund_sent",
        f"Refund of {refunded} on its way: {_class(booking.info)}",
        payment=payment,
        refunded=refunded,
        reason=reason,
    )
