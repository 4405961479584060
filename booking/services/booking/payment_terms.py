"""What a parent is told about money before booking and when cancelling.

How a class is paid and its refund policy (the class page and the booking form), what
cancelling a booking now would refund (the cancel confirmation page) and the refund
line of the cancellation email. The refund rule itself is applied by
`booking.services.booking.book.cancel_registration` (everything paid online, less the
workshop's cancellation fee, before the cut-off; nothing after it); these words follow
the same rule.
"""

from dataclasses import dataclass
from datetime import datetime

from flask import current_app

from booking.extensions import db
from booking.models import Payment, Refund, Registration, Workshop
from booking.models.registration import CONFIRMED, PENDING_PAYMENT, WAITLISTED
from booking.models.workshop import PAY_DEPOSIT, PAY_FREE, PAY_ONLINE
from booking.services.booking.places import cancellation_cutoff, centre_of, utc_now
from booking.services.payments import ledger
from booking.services.payments.money import format_money
from booking.timefmt import format_local

AT_CENTRE_REFUND = (
    "Payment for this class is taken at the centre, not online, so nothing was paid "
    "through this site. If you have already paid {centre}, ask them about a refund."
)
FREE_REFUND = "This class is free, so there is nothing to pay or refund."


def payment_mode(workshop: Workshop) -> str:
    """How the workshop is paid: its chosen mode, and always free with a price of 0."""
    return PAY_FREE if workshop.price_minor == 0 else workshop.payment_mode


@dataclass(frozen=True)
class PaymentWords:
    """How a class is paid, in a parent's words."""

    mode: str
    how_paid: str  # '£60.00, paid online when you book (card)'
    refund_policy: str = ""  # '' unless money is taken online
    hold_note: str = ""  # what booking does when the fee is paid online

    @property
    def pays_online(self) -> bool:
        """Whether booking means paying online (the whole price or a deposit)."""
        return bool(self.hold_note)


def _how_paid(workshop: Workshop, mode: str, currency: str) -> str:
    price = format_money(workshop.price_minor, currency)
    if mode == PAY_FREE:
        return "Free"
    if mode == PAY_ONLINE:
        return f"{price}, paid online when you book (card)"
    if mode == PAY_DEPOSIT:
        deposit = workshop.online_amount
        rest = format_money(workshop.price_minor - deposit, currency)
        return (
            f"{price}: {format_money(deposit, currency)} deposit online when you book "
            f"(card), {rest} at the centre"
        )
    return f"{price}, paid at the centre"


def _refund_policy(workshop: Workshop, mode: str, currency: str, timezone: str, now) -> str:
    paid = workshop.online_amount
    what = "the deposit paid" if mode == PAY_DEPOSIT else "the price paid"
    fee = workshop.refund_fee or 0
    cutoff = cancellation_cutoff(workshop)
    if cutoff is not None and now >= cutoff:
        return (
            "No refund if you cancel: the cut-off for refunds "
            f"({format_local(cutoff, timezone)}) has passed."
        )
    if cutoff is None:
        hours = workshop.cancellation_cutoff_hours
        before = f"{hours} hour{'' if hours == 1 else 's'} before the first session"
    else:
        before = format_local(cutoff, timezone)
    if fee >= paid:
        return (
            f"No refund if you cancel: the cancellation fee ({format_money(fee, currency)}) "
            f"is as much as {what} online."
        )
    refund = "Full refund" if mode == PAY_ONLINE else "The deposit is refunded in full"
    less = f", less a {format_money(fee, currency)} fee" if fee else ""
    return f"{refund} if you cancel before {before}{less}; no refund after it."


def payment_words(workshop: Workshop, now: datetime | None = None) -> PaymentWords:
    """How a class is paid, its refund policy and, for a class paid online, what
    booking does (a place held while the parent pays)."""
    centre = centre_of(workshop)
    mode = payment_mode(workshop)
    how_paid = _how_paid(workshop, mode, centre.currency)
    if not workshop.pays_online or mode == PAY_FREE:
        return PaymentWords(mode, how_paid)
    minutes = current_app.config["PAYMENT_HOLD_MINUTES"]
    amount = format_money(workshop.online_amount, centre.currency)
    return PaymentWords(
        mode,
        how_paid,
        _refund_policy(workshop, mode, centre.currency, centre.timezone, now or utc_now()),
        f"Booking holds a place for {minutes} minutes while you pay {amount} by card; "
        "it is yours once paid.",
    )


def _paid_text(registration_id: int, kept: int, currency: str) -> str:
    """What the booking paid online, and what of it came back already ("You paid £60.00
    online; £12.50 of it has been refunded." rather than "You paid £47.50")."""
    paid = sum(p.amount for p in ledger.paid_payments(registration_id))
    if paid == kept:
        return f"You paid {format_money(paid, currency)} online."
    return (f"You paid {format_money(paid, currency)} online; "
            f"{format_money(paid - kept, currency)} of it has been refunded.")


def cancel_refund(registration: Registration, workshop: Workshop, now: datetime) -> str:
    """What cancelling this booking now would refund, by the workshop's policy: what was
    paid online less the cancellation fee before the cut-off, nothing after it."""
    centre = centre_of(workshop)
    mode = payment_mode(workshop)
    currency = centre.currency
    # Marked paid at the centre (for a place moved here, what it paid for the class it
    # came from): the page says so, as the cancellation email does.
    at_centre = (
        ledger.paid_at_centre_of(registration, workshop)
        if registration.status == CONFIRMED else 0
    )
    if mode == PAY_FREE:
        if at_centre:
            return (
                f"This class is free, but you paid {format_money(at_centre, currency)} at "
                f"the centre for the class this place was moved from: {centre.name} gives "
                "it back to you there."
            )
        return FREE_REFUND
    paid = ledger.paid_online(registration.id) if registration.status == CONFIRMED else 0
    if not paid:
        if registration.status == PENDING_PAYMENT:
            return "Nothing has been paid for this place yet, so there is nothing to refund."
        if registration.status == WAITLISTED and workshop.pays_online:
            return "Nothing is paid while you wait for a place, so there is nothing to refund."
        if at_centre:
            return (
                f"You paid {format_money(at_centre, currency)} at the centre, not through "
                f"this site: {centre.name} gives back what is due to you there, as the "
                "class's refund policy says."
            )
        if workshop.pays_online and registration.status == CONFIRMED:
            return "Nothing was paid online for this place, so there is nothing to refund."
        return AT_CENTRE_REFUND.format(centre=centre.name)
    return _with_at_centre(_online_refund(registration, workshop, centre, now, paid), at_centre,
                           currency)


def _with_at_centre(text: str, at_centre: int, currency: str) -> str:
    """The refund words for what was paid online, and what was paid at the centre too."""
    if not at_centre:
        return text
    return (f"{text} You paid {format_money(at_centre, currency)} at the centre too: the "
            "centre gives back what is due of it there, as the class's refund policy says.")


def _online_refund(registration: Registration, workshop: Workshop, centre, now: datetime,
                   paid: int) -> str:
    """What cancelling now refunds of what the booking paid online (`paid`, kept)."""
    currency = centre.currency
    paid_text = _paid_text(registration.id, paid, currency)
    cutoff = cancellation_cutoff(workshop)
    if cutoff is not None and now >= cutoff:
        return (
            f"{paid_text} The cut-off for a refund has passed, so cancelling now refunds "
            f"nothing. Please ask {centre.name} if you cannot come."
        )
    # The same sums as the refund itself (ledger.refund_registration): a cancelled
    # week's share taken as a make-up credit does not come back again.
    refund = ledger.refund_on_cancelling(registration.id, workshop.refund_fee or 0)
    if refund.credited:
        paid_text += (
            f" {format_money(refund.credited, currency)} of it became a make-up credit "
            "for a cancelled week."
        )
    if not refund.back:
        if refund.kept:
            return (
                f"{paid_text} The {format_money(refund.kept, currency)} cancellation fee "
                "is kept, so cancelling refunds nothing."
            )
        return f"{paid_text} Nothing of it is left to refund."
    back = format_money(refund.back, currency)
    fee = (
        f" (the {format_money(refund.kept, currency)} cancellation fee is kept)"
        if refund.kept else ""
    )
    return (
        f"{paid_text} Cancelling now refunds {back} to your card{fee}; it usually reaches "
        "your account within a few days."
    )


def refund_line(refunds: list[Refund], fee: int) -> str:
    """The cancellation email's words for the refunds just queued ('' for none)."""
    total = sum(refund.amount for refund in refunds)
    if not total:
        return ""
    currency = db.session.get(Payment, refunds[0].payment_id).currency
    kept = f" (the {format_money(fee, currency)} cancellation fee is kept)" if fee else ""
    return (
        f"We are refunding {format_money(total, currency)} to your card{kept}. It usually "
        "reaches your account within a few days."
    )


def no_refund_line(registration_id: int, *, by_centre: bool) -> str:
    """The cancellation email's words when a booking that paid online is cancelled after
    its cut-off: nothing comes back by the class's policy ('' when nothing was paid
    online), and who to ask, since staff may still refund by hand."""
    paid = ledger.paid_payments(registration_id)
    kept = ledger.kept_online(registration_id)
    if not paid or not kept:
        return ""
    amount = format_money(kept, paid[0].currency)
    ask = ("If you think some of it should come back, please contact the centre."
           if by_centre else "Please contact the centre if you have a question about it.")
    return (f"Nothing is refunded of the {amount} paid online: the booking was cancelled "
            f"after the cut-off for cancelling. {ask}")


def with_given_back_at_centre(refund_text: str, *, by_policy: bool) -> str:
    """A cancellation email's refund words, and that what was paid at the centre is
    given back there (`by_policy`: as the class's refund policy says, when the family
    cancelled; in full, unsaid, when the centre did)."""
    line = "What you paid at the centre, the centre gives back to you there" + (
        " as the class's refund policy says." if by_policy else "."
    )
    return f"{refund_text} {line}" if refund_text else line
