"""The money of a place as staff see it: what was paid online, a place held (or
offered from the waiting list) while the parent pays, refunds made, on their way or
failed, the fee owed at the centre, and how several places add up.

Plain values built by `booking.services.payments.queries`; the rule of what is owed
at the centre lives here, and marking it paid (`staff`) uses the same.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from booking.models import Workshop
from booking.models.payment import (
    AWAITING_CHOICE,
    BY_CENTRE,
    BY_PARENT,
    BY_STAFF,
    BY_SYSTEM,
    DEPOSIT,
    REFUND_FAILED,
    REFUND_PENDING,
    REFUND_SUCCEEDED,
    SUCCEEDED,
    WITHDRAWN,
)
from booking.models.registration import CANCELLED, CONFIRMED, PENDING_PAYMENT, WAITLISTED
from booking.models.workshop import PAY_AT_CENTRE, PAY_DEPOSIT, PAY_FREE, PAY_ONLINE
from booking.services.payments.money import format_money

# A place's money in a word, the most pressing first.
HELD = "held"  # a place held while the parent pays
OFFERED = "offered"  # offered from the waiting list, not yet paid
REFUND_NOT_MADE = "refund_failed"  # the provider refused a refund: staff must act
GIVE_BACK = "give_back"  # paid at the centre, then cancelled: the centre settles it
OVERPAID = "overpaid"  # paid online more than the class costs (moved to a cheaper one)
REFUNDING = "refunding"  # a refund on its way (or waiting for the parent's choice)
REFUNDED = "refunded"
PART_REFUNDED = "part_refunded"
OWED = "owed"  # the fee (or the rest after a deposit) is still owed at the centre
PAID_AT_CENTRE = "paid_at_centre"
PAID = "paid"
NOTHING = "nothing"  # nothing to pay (a free workshop)

LABELS = {
    HELD: "Held while paying",
    OFFERED: "Offered, unpaid",
    REFUND_NOT_MADE: "Refund failed",
    GIVE_BACK: "To give back at the centre",
    OVERPAID: "Paid more than the price",
    REFUNDING: "Refund in progress",
    REFUNDED: "Refunded",
    PART_REFUNDED: "Part refunded",
    OWED: "Owed at the centre",
    PAID_AT_CENTRE: "Paid at the centre",
    PAID: "Paid",
    NOTHING: "Nothing to pay",
}

BOOKING_STATUS = {
    CONFIRMED: "Confirmed",
    PENDING_PAYMENT: "Awaiting payment",
    WAITLISTED: "Waiting list",
    CANCELLED: "Cancelled",
}


def toward_price(paid_online: int, moved_online: int | None) -> int:
    """What paid online counts towards a place's price: what it had kept when it moved
    to this class (`Registration.paid_online_moved_minor`: a refund made before the move
    did not come with it), else all it paid."""
    return paid_online if moved_online is None else moved_online


def place_fee(workshop: Workshop, registration, paid_online: int) -> int:
    """A place's fee at the centre (`at_centre_fee`), from what it paid online counted as
    `toward_price` says (a place moved here brought what it had kept)."""
    return at_centre_fee(
        workshop, toward_price(paid_online, registration.paid_online_moved_minor)
    )


def price_of(workshop: Workshop) -> int:
    """What a class costs in all, in minor units (nothing for a free class)."""
    return 0 if workshop.payment_mode == PAY_FREE else workshop.price_minor


def at_centre_fee(workshop: Workshop, paid_online: int) -> int:
    """What a place costs at the centre, in minor units: the price, less what was paid
    online for it (a deposit, or the whole fee); nothing in a free workshop."""
    if workshop.payment_mode == PAY_FREE:
        return 0
    return max(0, workshop.price_minor - paid_online)


def paid_at_centre_amount(
    fee: int, paid_at_centre_at: datetime | None, paid_minor: int | None = None
) -> int:
    """What was marked paid at the centre, in minor units: the amount recorded with the
    mark (the fee of the class it was paid for, kept when the place moved), or `fee` for
    a mark made before amounts were recorded; nothing without a mark."""
    if paid_at_centre_at is None:
        return 0
    return fee if paid_minor is None else paid_minor


def owed_at_centre(
    fee: int, status: str, paid_at_centre_at: datetime | None, paid_minor: int | None = None
) -> int:
    """The part of `fee` still owed at the centre by a confirmed place: all of it when
    nothing is marked paid there, the difference when less was (a place moved to a
    dearer class); nothing for any other place."""
    if status != CONFIRMED:
        return 0
    return max(0, fee - paid_at_centre_amount(fee, paid_at_centre_at, paid_minor))


def to_give_back_at_centre(
    fee: int, status: str, paid_at_centre_at: datetime | None, paid_minor: int | None = None
) -> int:
    """Paid at the centre and due back there: all of it for a booking since cancelled
    (no card to refund it to: the class's policy says how much goes back), what was paid
    beyond `fee` for a confirmed place (moved to a cheaper class)."""
    paid = paid_at_centre_amount(fee, paid_at_centre_at, paid_minor)
    if status == CANCELLED:
        return paid
    if status == CONFIRMED:
        return max(0, paid - fee)
    return 0


def over_paid_online(price: int, status: str, kept_online: int) -> int:
    """What a confirmed place paid online, and keeps, beyond its class's price (a place
    moved to a cheaper class takes its payment with it): for staff to refund by hand."""
    return max(0, kept_online - price) if status == CONFIRMED else 0


def fee_terms(workshop: Workshop, currency: str) -> str:
    """How the workshop's fee is paid, in words."""
    price = format_money(workshop.price_minor, currency)
    if workshop.payment_mode == PAY_FREE or workshop.price_minor == 0:
        return "Free"
    if workshop.payment_mode == PAY_ONLINE:
        return f"{price}, paid online when booking"
    if workshop.payment_mode == PAY_DEPOSIT:
        deposit = workshop.online_amount
        rest = format_money(workshop.price_minor - deposit, currency)
        return f"{price}: {format_money(deposit, currency)} deposit online, {rest} at the centre"
    if workshop.payment_mode == PAY_AT_CENTRE:
        return f"{price}, paid at the centre"
    return price


@dataclass
class PaymentLine:
    """One payment of a place, with its refunds summed by how far they got."""

    id: int
    reference: str
    purpose: str
    status: str
    amount: int
    refunded: int = 0
    refunding: int = 0
    failed: int = 0
    paid_at: datetime | None = None
    refunded_at: datetime | None = None  # when the last refund was made
    failure: str = ""  # why the last failed refund was refused

    @property
    def succeeded(self) -> bool:
        """Whether the payment took money."""
        return self.status == SUCCEEDED

    @property
    def is_deposit(self) -> bool:
        """Whether it was the deposit of a deposit workshop (not the whole fee)."""
        return self.purpose == DEPOSIT

    @property
    def has_more_to_refund(self) -> bool:
        """Money taken that no refund made or on its way gives back yet (the refund
        page asks the ledger for the exact amount)."""
        return self.succeeded and self.amount > self.refunded + self.refunding


@dataclass
class PlaceMoney:
    """One place (a registration) and its money; or a payment whose booking is gone."""

    registration_id: int | None
    workshop_id: int | None
    baby_name: str
    parent_name: str
    parent_email: str
    status: str  # the registration's status; '' when the booking is gone
    booked_at: datetime | None = None
    payments: list[PaymentLine] = field(default_factory=list)
    due: int = 0  # asked online while the place is held
    pay_by: datetime | None = None
    offered: bool = False
    at_centre_fee: int = 0
    paid_at_centre_at: datetime | None = None
    paid_at_centre_minor: int | None = None
    price: int = 0  # the class's price now (nothing for a free class)

    @property
    def paid_lines(self) -> list[PaymentLine]:
        """The payments that took money."""
        return [p for p in self.payments if p.succeeded]

    @property
    def paid(self) -> int:
        """Paid online, before refunds."""
        return sum(p.amount for p in self.paid_lines)

    @property
    def refunded(self) -> int:
        """Refunds made."""
        return sum(p.refunded for p in self.payments)

    @property
    def refunding(self) -> int:
        """Refunds on their way, or waiting for the parent's choice."""
        return sum(p.refunding for p in self.payments)

    @property
    def refund_failed(self) -> int:
        """Refunds the provider refused: staff must act."""
        return sum(p.failed for p in self.payments)

    @property
    def owed(self) -> int:
        """Still owed at the centre."""
        return owed_at_centre(self.at_centre_fee, self.status, self.paid_at_centre_at,
                              self.paid_at_centre_minor)

    @property
    def paid_at_centre(self) -> int:
        """Marked paid at the centre (the fee there, or the rest after a deposit; for a
        place moved, what was paid for the class it came from)."""
        return paid_at_centre_amount(self.at_centre_fee, self.paid_at_centre_at,
                                     self.paid_at_centre_minor)

    @property
    def to_give_back(self) -> int:
        """Paid at the centre and due back there (`to_give_back_at_centre`): staff give
        it back (as the class's policy says, for a booking cancelled) and mark it so."""
        return to_give_back_at_centre(self.at_centre_fee, self.status,
                                      self.paid_at_centre_at, self.paid_at_centre_minor)

    @property
    def over_paid(self) -> int:
        """Paid online and kept beyond the class's price (`over_paid_online`)."""
        return over_paid_online(self.price, self.status,
                                self.paid - self.refunded - self.refunding)

    @property
    def held(self) -> bool:
        """A place held while the parent pays (booked, or offered from the waiting list)."""
        return self.status == PENDING_PAYMENT

    @property
    def can_mark_paid(self) -> bool:
        """Whether staff may mark the fee paid at the centre now."""
        return self.owed > 0

    @property
    def can_undo_paid(self) -> bool:
        """Whether a mark "paid at the centre" may be undone (or, for a booking since
        cancelled, marked given back)."""
        return self.registration_id is not None and self.paid_at_centre > 0

    @property
    def can_give_back_difference(self) -> bool:
        """Whether a confirmed place paid more at the centre than its fee (moved to a
        cheaper class), for staff to mark the difference given back."""
        return self.registration_id is not None and self.status == CONFIRMED and (
            self.to_give_back > 0)

    @property
    def reference(self) -> str:
        """The payment references of the place (usually one), or ''."""
        return " ".join(p.reference for p in self.payments)

    @property
    def state(self) -> str:
        """The place's money in a word, the most pressing first."""
        if self.held:
            return OFFERED if self.offered else HELD
        if self.refund_failed:
            return REFUND_NOT_MADE
        if self.to_give_back:
            return GIVE_BACK
        if self.over_paid:
            return OVERPAID
        if self.refunding:
            return REFUNDING
        if self.refunded:
            return REFUNDED if self.refunded >= self.paid else PART_REFUNDED
        if self.owed:
            return OWED
        if self.paid_at_centre:
            return PAID_AT_CENTRE
        if self.paid:
            return PAID
        return NOTHING

    @property
    def label(self) -> str:
        """The state in words."""
        return LABELS[self.state]

    @property
    def status_label(self) -> str:
        """The booking's status in words."""
        return BOOKING_STATUS.get(self.status, "Details removed")


@dataclass
class MoneyTotals:
    """The money of several places added up: amounts in minor units, and how many
    places each concerns."""

    paid: int = 0
    paid_count: int = 0
    held: int = 0
    held_count: int = 0
    offered: int = 0
    offered_count: int = 0
    refunded: int = 0
    refunded_count: int = 0
    refunding: int = 0
    refunding_count: int = 0
    refund_failed: int = 0
    refund_failed_count: int = 0
    owed: int = 0
    owed_count: int = 0
    paid_at_centre: int = 0
    paid_at_centre_count: int = 0
    to_give_back: int = 0
    to_give_back_count: int = 0

    def add(self, place: PlaceMoney) -> None:
        """Count one place in."""
        pending = place.due if place.held else 0
        for name, amount in (
            ("paid", place.paid),
            ("offered" if place.offered else "held", pending),
            ("refunded", place.refunded),
            ("refunding", place.refunding),
            ("refund_failed", place.refund_failed),
            ("owed", place.owed),
            ("paid_at_centre", place.paid_at_centre),
            ("to_give_back", place.to_give_back),
        ):
            if amount > 0:
                setattr(self, name, getattr(self, name) + amount)
                setattr(self, f"{name}_count", getattr(self, f"{name}_count") + 1)

    @property
    def kept(self) -> int:
        """Paid online, less refunds made or on their way."""
        return self.paid - self.refunded - self.refunding

    def lines(self) -> list[tuple[str, int, int]]:
        """(what, places, amount) for the totals table, in reading order."""
        return [
            ("Paid online", self.paid_count, self.paid),
            (LABELS[HELD], self.held_count, self.held),
            (LABELS[OFFERED], self.offered_count, self.offered),
            (LABELS[REFUNDED], self.refunded_count, self.refunded),
            (LABELS[REFUNDING], self.refunding_count, self.refunding),
            (LABELS[REFUND_NOT_MADE], self.refund_failed_count, self.refund_failed),
            (LABELS[OWED], self.owed_count, self.owed),
            (LABELS[PAID_AT_CENTRE], self.paid_at_centre_count, self.paid_at_centre),
            (LABELS[GIVE_BACK], self.to_give_back_count, self.to_give_back),
        ]


def totals_of(places: list[PlaceMoney]) -> MoneyTotals:
    """The totals of some places."""
    totals = MoneyTotals()
    for place in places:
        totals.add(place)
    return totals


def major_units(minor: int) -> str:
    """An amount in minor units as typed in major units: 1250 -> '12.50'."""
    return f"{Decimal(minor) / 100:.2f}"


# A refund's progress and cause, in words.
REFUND_STATUS = {
    REFUND_PENDING: "On its way",
    REFUND_SUCCEEDED: "Made",
    REFUND_FAILED: "Failed",
    AWAITING_CHOICE: "Waiting for the parent's choice of a make-up",
    WITHDRAWN: "Make-up chosen instead",
}
REFUND_CAUSE = {
    BY_PARENT: "Parent cancelled",
    BY_CENTRE: "Centre cancelled",
    BY_STAFF: "Refund by hand",
    BY_SYSTEM: "Automatic",
}
