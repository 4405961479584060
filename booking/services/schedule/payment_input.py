"""Changing how an existing workshop is paid, judged by the payment rules and then
against the families already booked.

Families booked on the terms the class page showed them, so while anyone holds a
place or waits, a workshop keeps its price, one paid online (or a deposit) keeps its
payment mode and deposit, and no workshop becomes paid online; its cancellation fee
may be lowered but not raised, and its cancellation cut-off brought nearer the class
but not moved earlier (a waiting family pays on the terms shown when they joined).
Such a change is refused as a Conflict naming the field. A workshop nobody has booked
changes freely (within the rules).
"""

import sqlalchemy as sa

from booking.extensions import db
from booking.models import Registration, Workshop
from booking.models.registration import ACTIVE
from booking.models.workshop import ONLINE_MODES
from booking.services.errors import Conflict
from booking.services.schedule.payment_fields import (
    PAYMENT_FIELDS,
    PaymentTerms,
    check_payment,
)

# The stored attribute of each term.
_ATTRIBUTES = (("payment_mode", "mode"), ("deposit", "deposit"), ("refund_fee", "refund_fee"))


def _families(workshop_id: int, statuses) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(Registration.id)).where(
            Registration.workshop_id == workshop_id, Registration.status.in_(statuses)
        )
    )


def clean_payment_changes(
    workshop: Workshop, fields: dict, clean: dict, errors: dict, currency: str
) -> dict:
    """The stored attributes (payment_mode, deposit, refund_fee) that `fields` change,
    judged with the new price (`clean`) or the stored one, amounts typed in the centre's
    `currency`. Refusals of the rules go into
    `errors`; when there are none (from any field), a change the bookings forbid raises
    Conflict. Reads only."""
    given = {name: fields[name] for name in PAYMENT_FIELDS if name in fields}
    if not given and "price" not in fields:
        return {}
    price = None if "price" in errors else clean.get("price", workshop.price)
    now = PaymentTerms.of(workshop)
    terms, problems = check_payment(given, price, currency=currency, now=now)
    for name, message in problems.items():
        errors.setdefault(name, message)
    if terms is None or errors:
        return {}
    _refuse_against_bookings(workshop, now, terms, price)
    return {
        attribute: getattr(terms, term)
        for attribute, term in _ATTRIBUTES
        if getattr(workshop, attribute) != getattr(terms, term)
    }


def _refuse_against_bookings(
    workshop: Workshop, now: PaymentTerms, terms: PaymentTerms, price
) -> None:
    online = now.mode in ONLINE_MODES or terms.mode in ONLINE_MODES
    if price is not None and price != workshop.price:
        families = _families(workshop.id, ACTIVE)
        if families and now.mode in ONLINE_MODES:
            message = (
                "The price of a class paid online cannot change once families have booked "
                "or are waiting: they pay, and are refunded, on the price shown to them."
            )
            raise Conflict(message, {"price": message})
        if families:
            # What each family owes at the centre, and what was marked paid there, is
            # worked out from the price: changed, it would rewrite both.
            message = (
                "The price of this class cannot change once families have booked or are "
                "waiting: they pay on the price shown to them, and what was paid at the "
                "centre is recorded at it."
            )
            raise Conflict(message, {"price": message})
    mode_changes = terms.mode != now.mode
    deposit_changes = terms.deposit != now.deposit
    if online and (mode_changes or deposit_changes):
        families = _families(workshop.id, ACTIVE)
        if families:
            field = "payment" if mode_changes else "deposit"
            message = (
                f"How this class is paid cannot change while {families} "
                f"{'family is' if families == 1 else 'families are'} booked or waiting: they "
                "booked on the terms shown to them. Cancel the class instead (everyone who "
                "paid online is refunded in full), or change it before anyone books."
            )
            raise Conflict(message, {field: message})
    if terms.refund_fee > now.refund_fee:
        families = _families(workshop.id, ACTIVE)
        if families:
            message = (
                "The cancellation fee can be lowered, but not raised while families are "
                "booked or waiting: they booked on the terms shown to them."
            )
            raise Conflict(message, {"refund_fee": message})


def refuse_an_earlier_cutoff(workshop: Workshop, hours: int) -> None:
    """A cut-off further before the class takes away cancelling (and its refund) from
    families who booked on the one shown to them: refused while anyone holds a place
    or waits (a waiting family pays on the terms shown when they joined)."""
    if hours > workshop.cancellation_cutoff_hours and _families(workshop.id, ACTIVE):
        message = (
            "The cancellation cut-off can be brought nearer the class, but not moved "
            "earlier while families are booked or waiting: they booked on the terms shown "
            "to them."
        )
        raise Conflict(message, {"cancellation_cutoff_hours": message})
