"""The rules for how a workshop is paid: its payment mode, deposit and cancellation fee.

Like booking.services.schedule.fields, one plain function per field (raising
`FieldError`, whose message names the field), used by the staff forms, the API's
schemas and the schedule import alike; and `check_payment`, which judges the three
together with the price, for a new workshop or a change to one. Amounts are typed in
major units ('15.00', as the price is) and kept in minor units (1500).

The choices, in short: a price of 0 is always `free` (at the centre with nothing to
pay is the same thing), and `free` with a price, or `online`/`deposit` with none, is
refused. `online` and `deposit` need online payment set up on the site (a provider
key); a workshop that already has one of them keeps it when the key goes. A deposit
goes with `deposit` only, and is more than 0 and less than the price. The
cancellation fee, kept from a parent's refund before the cut-off, is 0 by default
and never above the price. Nothing here touches the database.
"""

from dataclasses import dataclass
from decimal import Decimal

from booking.models.workshop import (
    ONLINE_MODES,
    PAY_AT_CENTRE,
    PAY_DEPOSIT,
    PAY_FREE,
    PAYMENT_MODES,
)
from booking.services.payments import gateway
from booking.services.payments.money import to_minor
from booking.services.schedule.fields import FieldError, blank, money

# The fields, as forms, the API and the CSV name them.
PAYMENT_FIELDS = ("payment", "deposit", "refund_fee")
MODE_CHOICES = (
    (PAY_AT_CENTRE, "At the centre"),
    ("online", "Online, the whole price when booking (card)"),
    (PAY_DEPOSIT, "A deposit online when booking, the rest at the centre"),
    (PAY_FREE, "Free"),
)
NOT_SET_UP = (
    "Online payment is not set up on this site, so a class can only be free or paid at "
    "the centre."
)
_MODES_TEXT = "free, at_centre, online or deposit"


def major(minor: int | None) -> Decimal | None:
    """Minor units as the amount typed in major units: 1500 -> Decimal('15.00')."""
    return None if minor is None else (Decimal(minor) / 100).quantize(Decimal("0.01"))


def payment_mode(value) -> str | None:
    """free, at_centre, online or deposit; blank means not chosen (None)."""
    if blank(value):
        return None
    if not isinstance(value, str):
        raise FieldError(f"Payment must be one of {_MODES_TEXT}.")
    clean = "_".join(value.strip().lower().replace("-", " ").split())
    if clean not in PAYMENT_MODES:
        raise FieldError(f"Payment must be one of {_MODES_TEXT}.")
    return clean


def deposit(value, currency: str | None) -> Decimal | None:
    """The deposit paid online when booking, in major units of the centre's `currency`
    (typed bare or with its own sign); blank means none."""
    if blank(value):
        return None
    amount = money(value, "deposit", "15.00", currency=currency)
    if amount <= 0:
        raise FieldError("The deposit must be more than 0 (leave it empty for no deposit).")
    return amount


def refund_fee(value, currency: str | None) -> Decimal:
    """The cancellation fee kept from a refund before the cut-off, in major units of the
    centre's `currency` (typed bare or with its own sign); blank means 0."""
    if blank(value):
        return Decimal("0.00")
    return money(value, "cancellation fee", "5.00", currency=currency)


@dataclass(frozen=True)
class PaymentTerms:
    """How a workshop is paid, as stored: amounts in minor units."""

    mode: str
    deposit: int | None = None
    refund_fee: int = 0

    @classmethod
    def of(cls, workshop) -> "PaymentTerms":
        """A stored workshop's terms."""
        return cls(workshop.payment_mode, workshop.deposit, workshop.refund_fee or 0)


def _resolve_mode(asked: str | None, price: int, now: PaymentTerms | None) -> str:
    """The mode a workshop gets: the one asked, or (not asked) the one it has, with
    free and at the centre following the price; 0 to pay at the centre is free."""
    mode = asked
    if mode is None:
        mode = now.mode if now is not None else PAY_AT_CENTRE
        if mode == PAY_FREE and price > 0:
            mode = PAY_AT_CENTRE
    if mode == PAY_AT_CENTRE and price == 0:
        mode = PAY_FREE
    return mode


def check_payment(
    given: dict, price: Decimal | None, *, currency: str | None,
    now: PaymentTerms | None = None,
) -> tuple[PaymentTerms | None, dict[str, str]]:
    """Judge `payment`, `deposit` and `refund_fee` with the price.

    `given` holds the raw values sent (for a new workshop all three, blank meaning the
    default; for a change only those changed); `price` is the clean price, or None when
    it is unknown or refused (the checks against it are then skipped); `currency` is
    the centre's, whose own sign the amounts may be typed with (None while the centre is
    unknown); `now` is a stored workshop's terms, which fill in what is not given.
    Returns the terms and
    {field: message}; a refusal that comes from the price (a stored deposit above a
    lowered price) is given on `price` when the other field was not sent.
    """
    errors: dict[str, str] = {}
    values: dict = {}
    for name, rule, *args in (("payment", payment_mode), ("deposit", deposit, currency),
                              ("refund_fee", refund_fee, currency)):
        if name in given:
            try:
                values[name] = rule(given[name], *args)
            except FieldError as exc:
                errors[name] = str(exc)
    if errors or price is None:
        return None, errors
    price_minor = to_minor(price)
    asked = values.get("payment")
    mode = _resolve_mode(asked, price_minor, now)
    on_mode = "payment" if asked is not None else "price"
    if mode == PAY_FREE and price_minor > 0:
        errors[on_mode] = (
            "A free class has the price 0: give the price 0, or choose how it is paid."
        )
    elif mode in ONLINE_MODES and price_minor == 0:
        errors[on_mode] = (
            "A class with the price 0 is free, so there is nothing to pay online: give a "
            "price, or choose free."
        )
    elif mode in ONLINE_MODES and (now is None or now.mode != mode) and not gateway.enabled():
        errors["payment"] = NOT_SET_UP

    sent_deposit = values.get("deposit")
    if mode == PAY_DEPOSIT:
        kept = now.deposit if now is not None and now.mode == PAY_DEPOSIT else None
        amount = to_minor(sent_deposit) if sent_deposit is not None else (
            None if "deposit" in given else kept
        )
        if amount is None:
            errors["deposit"] = "Give the deposit paid online when booking, such as 15.00."
        elif amount >= price_minor and "deposit" in given:
            errors["deposit"] = f"The deposit must be less than the price ({major(price_minor)})."
        elif amount >= price_minor:
            errors.setdefault(
                "price", f"The price must be more than the deposit ({major(amount)})."
            )
    else:
        if sent_deposit is not None:
            errors["deposit"] = (
                "A deposit goes only with the payment deposit: leave it empty otherwise."
            )
        amount = None

    fee = to_minor(values["refund_fee"]) if "refund_fee" in values else (
        now.refund_fee if now is not None else 0
    )
    if fee > price_minor and "refund_fee" in given:
        errors["refund_fee"] = (
            f"The cancellation fee must not be more than the price ({major(price_minor)})."
        )
    elif fee > price_minor:
        errors.setdefault(
            "price", f"The price must not be below the cancellation fee ({major(fee)})."
        )
    if errors:
        return None, errors
    return PaymentTerms(mode, amount, fee), errors
