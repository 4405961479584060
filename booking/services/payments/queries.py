"""What staff see of a workshop's and a centre's money, read from the database.

For each place (a registration): its payments with their refunds summed by how far
they got, a held place's amount and deadline, and the fee owed at the centre (see
`figures`). Each page is read in a fixed number of queries, however many places it
shows.
"""

from dataclasses import dataclass

import sqlalchemy as sa

from booking.extensions import db
from booking.models import Baby, Centre, Payment, Refund, Registration, User, Workshop
from booking.models.payment import (
    AWAITING_CHOICE,
    OPEN,
    REFUND_FAILED,
    REFUND_PENDING,
    REFUND_SUCCEEDED,
    SUCCEEDED,
)
from booking.models.registration import HOLDS_PLACE, PENDING_PAYMENT
from booking.services.payments import ledger
from booking.services.payments.figures import (
    MoneyTotals,
    PaymentLine,
    PlaceMoney,
    fee_terms,
    place_fee,
    price_of,
    totals_of,
)

# Refunds that will still give money back: on their way, or waiting for a choice.
_OUTSTANDING = (REFUND_PENDING, AWAITING_CHOICE)


def _registrations(workshop_ids) -> list:
    """Registrations with something to say about money: holding a place, marked paid
    at the centre, or with a payment that took money."""
    took_money = sa.select(Payment.registration_id).where(
        Payment.status == SUCCEEDED, Payment.registration_id.is_not(None)
    )
    return db.session.execute(
        sa.select(Registration, Baby.name, User.name, User.email)
        .outerjoin(Baby, Baby.id == Registration.baby_id)
        .outerjoin(User, User.id == Registration.parent_id)
        .where(
            Registration.workshop_id.in_(workshop_ids),
            sa.or_(
                Registration.status.in_(HOLDS_PLACE),
                Registration.paid_at_centre_at.is_not(None),
                Registration.id.in_(took_money),
            ),
        )
        .order_by(Registration.created_at, Registration.id)
    ).all()


def _payments(workshop_ids) -> tuple[dict[int, list[PaymentLine]], list[tuple[int, PaymentLine]]]:
    """({registration id: payment lines}, [(workshop id, line)] of payments whose
    booking is gone), with their refunds, in one query."""
    rows = db.session.execute(
        sa.select(Payment, Refund)
        .outerjoin(Registration, Registration.id == Payment.registration_id)
        .outerjoin(Refund, Refund.payment_id == Payment.id)
        .where(
            Payment.status.in_((OPEN, SUCCEEDED)),
            sa.or_(
                Registration.workshop_id.in_(workshop_ids),
                sa.and_(
                    Payment.registration_id.is_(None),
                    Payment.status == SUCCEEDED,
                    Payment.workshop_id.in_(workshop_ids),
                ),
            ),
        )
        .order_by(Payment.id, Refund.id)
    ).all()
    lines: dict[int, PaymentLine] = {}
    by_registration: dict[int, list[PaymentLine]] = {}
    orphans: list[tuple[int, PaymentLine]] = []
    for payment, refund in rows:
        line = lines.get(payment.id)
        if line is None:
            line = lines[payment.id] = PaymentLine(
                id=payment.id,
                reference=payment.reference,
                purpose=payment.purpose,
                status=payment.status,
                amount=payment.amount,
                refunded=payment.refunded,
                paid_at=payment.paid_at,
            )
            if payment.registration_id is None:
                orphans.append((payment.workshop_id, line))
            else:
                by_registration.setdefault(payment.registration_id, []).append(line)
        if refund is not None:
            _count_refund(line, refund)
    return by_registration, orphans


def _count_refund(line: PaymentLine, refund: Refund) -> None:
    """Add one refund to its payment's line. A failed refund counts until a later
    refund of the same payment is made or sent on its way (staff refunded again)."""
    if refund.status == REFUND_FAILED:
        line.failed += refund.amount
        line.failure = refund.last_error
        return
    if refund.status in _OUTSTANDING:
        line.refunding += refund.amount
    elif refund.status == REFUND_SUCCEEDED:
        line.refunded_at = refund.done_at or line.refunded_at
    else:
        return  # withdrawn: the parent chose a make-up credit instead
    line.failed, line.failure = 0, ""


def _places(workshops: dict[int, Workshop], workshop_ids) -> list[PlaceMoney]:
    by_registration, orphans = _payments(workshop_ids)
    places = []
    for registration, baby_name, parent_name, parent_email in _registrations(workshop_ids):
        workshop = workshops[registration.workshop_id]
        lines = by_registration.get(registration.id, [])
        paid_online = sum(p.amount for p in lines if p.succeeded)
        place = PlaceMoney(
            registration_id=registration.id,
            workshop_id=registration.workshop_id,
            baby_name=baby_name or "(details removed)",
            parent_name=parent_name or "(details removed)",
            parent_email=parent_email or "",
            status=registration.status,
            booked_at=registration.created_at,
            payments=lines,
            at_centre_fee=place_fee(workshop, registration, paid_online),
            paid_at_centre_at=registration.paid_at_centre_at,
            paid_at_centre_minor=registration.paid_at_centre_minor,
            price=price_of(workshop),
        )
        if registration.status == PENDING_PAYMENT:
            open_lines = [p.amount for p in lines if p.status == OPEN]
            place.due = open_lines[-1] if open_lines else workshop.online_amount
            place.pay_by = registration.hold_expires_at
            place.offered = registration.offered_at is not None
        places.append(place)
    for workshop_id, line in orphans:
        places.append(
            PlaceMoney(
                registration_id=None,
                workshop_id=workshop_id,
                baby_name="(details removed)",
                parent_name="(details removed)",
                parent_email="",
                status="",
                booked_at=line.paid_at,
                payments=[line],
            )
        )
    return places


@dataclass
class WorkshopMoney:
    """A workshop's places with their money, and the totals."""

    workshop: Workshop
    centre: Centre
    places: list[PlaceMoney]
    totals: MoneyTotals

    @property
    def terms(self) -> str:
        """How the workshop's fee is paid, in words."""
        return fee_terms(self.workshop, self.centre.currency)


def workshop_money(workshop: Workshop, centre: Centre) -> WorkshopMoney:
    """The money of every place of a workshop (three queries)."""
    places = _places({workshop.id: workshop}, [workshop.id])
    return WorkshopMoney(workshop, centre, places, totals_of(places))


def money_by_registration(workshop: Workshop, centre: Centre) -> dict[int, PlaceMoney]:
    """{registration id: its money} for a workshop's places (the bookings list)."""
    places = _places({workshop.id: workshop}, [workshop.id])
    return {p.registration_id: p for p in places if p.registration_id is not None}


@dataclass
class WorkshopTotals:
    """One workshop's line on the centre's page."""

    workshop: Workshop
    totals: MoneyTotals
    places: list[PlaceMoney]


@dataclass
class CentreMoney:
    """A centre's workshops with money to show, newest first, and the centre's totals."""

    centre: Centre
    workshops: list[WorkshopTotals]
    totals: MoneyTotals

    @property
    def places(self) -> list[tuple[Workshop, PlaceMoney]]:
        """Every place, workshop by workshop."""
        return [(line.workshop, place) for line in self.workshops for place in line.places]


def centre_money(centre: Centre) -> CentreMoney:
    """The money of every workshop of a centre that has any (four queries)."""
    workshops = list(
        db.session.scalars(
            sa.select(Workshop)
            .where(Workshop.centre_id == centre.id)
            .order_by(
                Workshop.first_starts_at.is_(None),
                Workshop.first_starts_at.desc(),
                Workshop.id.desc(),
            )
        )
    )
    ids = sa.select(Workshop.id).where(Workshop.centre_id == centre.id)
    places = _places({w.id: w for w in workshops}, ids)
    by_workshop: dict[int, list[PlaceMoney]] = {}
    for place in places:
        by_workshop.setdefault(place.workshop_id, []).append(place)
    lines = [
        WorkshopTotals(w, totals_of(by_workshop[w.id]), by_workshop[w.id])
        for w in workshops
        if by_workshop.get(w.id)
    ]
    return CentreMoney(centre, lines, totals_of(places))


def workshops_totals(workshops: list[Workshop]) -> dict[int, MoneyTotals]:
    """{workshop id: the totals of its places} for the workshops that have any money to
    show (two queries, however many workshops)."""
    if not workshops:
        return {}
    places = _places({w.id: w for w in workshops}, [w.id for w in workshops])
    by_workshop: dict[int, list[PlaceMoney]] = {}
    for place in places:
        by_workshop.setdefault(place.workshop_id, []).append(place)
    return {workshop_id: totals_of(lines) for workshop_id, lines in by_workshop.items()}


@dataclass
class RefundTerms:
    """What the refund page shows about one payment: its place, the refunds so far
    (newest first) and what can still be refunded."""

    payment: Payment
    place: PlaceMoney | None
    refunds: list[Refund]
    refundable: int

    @property
    def on_its_way(self) -> int:
        """Refunds not made yet: on their way, or waiting for the parent's choice."""
        return sum(r.amount for r in self.refunds if r.status in _OUTSTANDING)

    @property
    def beyond_price(self) -> int:
        """What the place paid online beyond its class's price (moved to a cheaper
        class) that this payment can give back: the refund the page offers then."""
        if self.place is None:
            return 0
        return min(self.place.over_paid, self.refundable)

    @property
    def offered(self) -> int:
        """The amount the refund form starts with: the difference beyond the price for
        a place that paid more than it, else all that can still be refunded."""
        return self.beyond_price or self.refundable


def refund_terms(payment: Payment, workshop: Workshop | None, centre: Centre) -> RefundTerms:
    """A payment with its place, its refunds and what can still be refunded on it."""
    place = None
    if workshop is not None:
        place = money_by_registration(workshop, centre).get(payment.registration_id)
    refunds = list(
        db.session.scalars(
            sa.select(Refund).where(Refund.payment_id == payment.id).order_by(Refund.id.desc())
        )
    )
    return RefundTerms(payment, place, refunds, ledger.refundable(payment))
