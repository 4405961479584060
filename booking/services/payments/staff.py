"""What staff do about money by hand: mark a fee paid at the centre (and undo it), and
refund a payment in full or in part, with a reason.

Each is one write transaction that locks the workshop first, as every change to a
workshop's places does, and checks that the user is staff of its centre. A refund by
hand is a refund row, carried out after the commit by `flask payments run` like every
other refund: it may be made for any payment that took money, after the cancellation
cut-off too, and the parent is emailed when it is made.
"""

import re

import sqlalchemy as sa

from booking.db import write_transaction
from booking.extensions import db
from booking.models import Payment, Refund, Registration, User, Workshop
from booking.models.payment import BY_STAFF, SUCCEEDED
from booking.models.registration import CANCELLED, CONFIRMED
from booking.services.accounts.access import require_centre_staff
from booking.services.booking.places import centre_of, lock_workshop, require_int, utc_now
from booking.services.errors import Conflict, Invalid, NotFound
from booking.services.payments import ledger
from booking.services.payments.figures import owed_at_centre
from booking.services.payments.money import format_money
from booking.services.schedule import fields as field_rules

MAX_REASON = 200
_NUMBER_RE = re.compile(r"^-?(\d+\.?\d*|\.\d+)$", re.ASCII)


def refund_amount(value, currency: str | None) -> int:
    """An amount typed in major units ('12.50', '£12.50', 'A$12.50', '12') as minor
    units (1250).

    Raises Invalid, naming the `amount` field, for anything that is not an amount above
    0 with at most two decimal places, bare or with a sign of `currency` (the shared
    money rule of every price; None lets any sign through, for a first look before the
    payment, and so its currency, is known)."""
    text = str(value if value is not None else "").strip()
    try:
        text = field_rules.without_sign(text, "amount", currency)
    except field_rules.FieldError as exc:
        raise _bad_amount(str(exc)) from None
    if not text:
        raise _bad_amount("Enter the amount to refund, such as 12.50.")
    if not _NUMBER_RE.match(text):
        raise _bad_amount("The amount must be a number, such as 12.50.")
    if text.startswith("-"):
        raise _bad_amount("The amount must be more than 0.")
    try:
        amount = field_rules.money(text, "amount", "12.50", currency=currency)
    except field_rules.FieldError as exc:
        raise _bad_amount(str(exc)) from None
    if amount <= 0:
        raise _bad_amount("The amount must be more than 0.")
    return int(amount * 100)


def _bad_amount(message: str) -> Invalid:
    return Invalid(message, {"amount": message})


def refund_reason(value) -> str:
    """The reason given for a refund by hand (sent to the parent): one line, required."""
    try:
        reason = field_rules.text(value, label="Reason", limit=MAX_REASON, multiline=True)
    except field_rules.FieldError as exc:
        raise Invalid(str(exc), {"reason": str(exc)}) from None
    reason = " ".join(reason.split())
    if not reason:
        message = "Give the reason for the refund; the parent sees it."
        raise Invalid(message, {"reason": message})
    return reason


def _registration_for_staff(registration_id, actor: User) -> tuple[Registration, Workshop]:
    """The registration, its workshop locked, once the actor is known to be its staff."""
    registration = db.session.get(Registration, require_int(registration_id, "The booking"))
    if registration is None:
        raise NotFound("We could not find that booking.")
    workshop = db.session.get(Workshop, registration.workshop_id)
    require_centre_staff(actor, workshop.centre_id)
    workshop = lock_workshop(workshop.id)
    db.session.refresh(registration)
    return registration, workshop


def mark_paid_at_centre(registration_id, actor: User) -> Registration:
    """Record that a confirmed place's fee (or the rest after its deposit, or the
    difference a place moved to a dearer class still owes) was paid at the centre: the
    place's whole fee there is then marked paid. Marking one with nothing owed changes
    nothing when it is marked already; otherwise it is refused (Conflict)."""
    with write_transaction():
        registration, workshop = _registration_for_staff(registration_id, actor)
        fee, _paid = ledger.fee_and_paid_at_centre(registration, workshop)
        owed = owed_at_centre(fee, registration.status, registration.paid_at_centre_at,
                              registration.paid_at_centre_minor)
        if owed <= 0:
            if registration.paid_at_centre_at is not None:
                return registration
            if registration.status != CONFIRMED:
                raise Conflict("Only a confirmed place can be marked paid at the centre.")
            raise Conflict("Nothing is owed at the centre for this place.")
        registration.paid_at_centre_at = utc_now()
        registration.paid_at_centre_minor = fee
        db.session.flush()
    return registration


GIVEN_BACK = "given_back"  # a cancelled booking's money given back: no mark any more
DIFFERENCE_GIVEN_BACK = "difference_given_back"  # paid beyond the fee, given back
NOTHING_TO_GIVE_BACK = (
    "Nothing is left to give back for this place: it may have been marked given back "
    "already."
)
UNMARKED = "unmarked"  # a mark made by mistake taken back: the fee is owed again
REST_UNMARKED = "rest_unmarked"  # the rest marked here taken back: it is owed again
NOT_MARKED = "not_marked"  # nothing was marked (or it was undone already): no change


def _clear_mark(registration: Registration) -> None:
    registration.paid_at_centre_at = None
    registration.paid_at_centre_minor = None
    registration.paid_at_centre_moved_minor = None


def undo_paid_at_centre(registration_id, actor: User) -> str:
    """Take back a mark "paid at the centre", and say what that meant: for a booking
    since cancelled, its money was given back (GIVEN_BACK); otherwise the mark was a
    mistake and the fee is owed again (UNMARKED), or, for a place that moved here with
    part of it paid for the class it left, the rest marked here is owed again and that
    part stands (REST_UNMARKED). Money paid beyond a fee is given back with
    `give_back_difference`, not here. Where there is no mark (never marked, or undone
    already: a second press) nothing changes (NOT_MARKED)."""
    with write_transaction():
        registration, _workshop = _registration_for_staff(registration_id, actor)
        cancelled = registration.status == CANCELLED
        if registration.paid_at_centre_at is None:
            return NOT_MARKED
        moved = registration.paid_at_centre_moved_minor or 0
        marked = registration.paid_at_centre_minor
        if not cancelled and moved and marked is not None and marked > moved:
            registration.paid_at_centre_minor = moved
            db.session.flush()
            return REST_UNMARKED
        _clear_mark(registration)
        db.session.flush()
        return GIVEN_BACK if cancelled else UNMARKED


def give_back_difference(registration_id, actor: User, shown) -> str:
    """Record that what a confirmed place paid at the centre beyond its fee (a place
    moved to a cheaper class) was given back: the fee stays paid (nothing stays marked
    when the fee is nothing). `shown` is the amount the page showed to give back, in
    minor units: a different one now is refused (Conflict), so staff give back what they
    read; so is a place with nothing left to give back (a second press), which changes
    nothing."""
    with write_transaction():
        registration, workshop = _registration_for_staff(registration_id, actor)
        fee, paid = ledger.fee_and_paid_at_centre(registration, workshop)
        over = paid - fee if registration.status == CONFIRMED else 0
        if over <= 0:
            raise Conflict(NOTHING_TO_GIVE_BACK)
        if str(shown) != str(over):
            raise Conflict(
                f"The amount to give back has changed since the page showed it: it is "
                f"{format_money(over, centre_of(workshop).currency)} now. Please check it "
                "again."
            )
        if fee == 0:
            _clear_mark(registration)
        else:
            registration.paid_at_centre_minor = fee
            registration.paid_at_centre_moved_minor = min(
                registration.paid_at_centre_moved_minor or fee, fee
            )
        db.session.flush()
        return DIFFERENCE_GIVEN_BACK


class RefundsChanged(Conflict):
    """A refund by hand sent from a page showing fewer refunds than the payment has."""


def refund_by_hand(payment_id, actor: User, *, amount, reason,
                   seen_refunds: int | None = None) -> Refund:
    """Refund `amount` (typed in major units) of a payment that took money, with the
    reason the parent is told: written as a refund row, made after the commit.

    `seen_refunds`, how many refunds the sender's page listed: a refund made since (the
    same form sent twice, or by someone else) refuses this one (RefundsChanged), so one
    press meant once is never a second refund to the card. None (a script): not checked.
    Raises Invalid (with `amount` and `reason` field messages) for a bad amount or
    reason, or an amount above what is left to refund; Conflict for a payment that
    took no money or has nothing left; NotFound and Forbidden as usual."""
    payment_id = require_int(payment_id, "The payment")
    minor, clean_reason, errors = _checked(amount, reason)
    with write_transaction():
        payment = db.session.get(Payment, payment_id)
        if payment is None:
            raise NotFound("We could not find that payment.")
        require_centre_staff(actor, payment.centre_id)
        _lock_workshop_of(payment)
        payment = db.session.scalar(
            sa.select(Payment)
            .where(Payment.id == payment_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if payment.status != SUCCEEDED:
            raise Conflict("Only a payment that went through can be refunded.")
        if seen_refunds is not None:  # a script may leave it out
            _check_refunds_seen(payment, seen_refunds)
        left = ledger.refundable(payment)
        if left <= 0:
            raise Conflict(
                f"Nothing is left to refund on {payment.reference}: it has all been "
                "refunded or is on its way back."
            )
        if field_rules.foreign_sign(str(amount if amount is not None else ""),
                                    payment.currency):
            errors["amount"] = (
                f"{payment.reference} was paid in {payment.currency}: type the amount "
                f"without a sign, or with {field_rules.own_signs(payment.currency)}."
            )
        elif minor is not None and minor > left:
            errors["amount"] = (
                f"At most {format_money(left, payment.currency)} can still be refunded on "
                f"{payment.reference}."
            )
        if errors:
            raise Invalid(" ".join(errors.values()), errors)
        refund = ledger.queue_refund(
            payment, minor, reason=clean_reason, initiated_by=BY_STAFF
        )
    return refund


def _check_refunds_seen(payment: Payment, seen: int) -> None:
    """Refuse (RefundsChanged) a refund sent from a page that listed `seen` refunds of
    the payment, unless that is how many it has."""
    made = db.session.scalar(
        sa.select(sa.func.count(Refund.id)).where(Refund.payment_id == payment.id)
    )
    if seen != made:
        # Fewer than now: one was made since the page was shown. Otherwise the form
        # did not come from the page as shown (altered, or unreadable: -1).
        happened = (
            f"A refund was made on {payment.reference} since this page was opened (the "
            "form sent twice, or by someone else)"
            if 0 <= seen < made
            else f"This form does not match the refunds made on {payment.reference}"
        )
        raise RefundsChanged(
            f"{happened}, so this one was not made. Here is what is refunded now: "
            "send it again only if another refund is needed."
        )


def _checked(amount, reason) -> tuple[int | None, str, dict[str, str]]:
    """The amount in minor units and the reason, and the messages of both at once."""
    minor, clean_reason, errors = None, "", {}
    try:
        # Its sign is judged against the payment's currency once the payment is read.
        minor = refund_amount(amount, None)
    except Invalid as exc:
        errors.update(exc.fields)
    try:
        clean_reason = refund_reason(reason)
    except Invalid as exc:
        errors.update(exc.fields)
    return minor, clean_reason, errors


def place_workshop_id(payment: Payment) -> int | None:
    """The workshop of the payment's place (it may have moved since it was paid), or
    the payment's own workshop when its booking is gone."""
    if payment.registration_id is not None:
        registration = db.session.get(Registration, payment.registration_id)
        if registration is not None:
            return registration.workshop_id
    return payment.workshop_id


def _lock_workshop_of(payment: Payment) -> None:
    """Lock the workshop of the payment's place, where a parent's cancellation or the
    centre's would also write refunds."""
    workshop_id = place_workshop_id(payment)
    if workshop_id is not None:
        lock_workshop(workshop_id)
