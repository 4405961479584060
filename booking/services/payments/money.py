"""Money: whole minor units (pence, cents) of a centre's currency, shown with Babel."""

from decimal import Decimal
from functools import lru_cache

from babel.numbers import format_currency

from booking.timefmt import LOCALE


@lru_cache(maxsize=4096)
def format_money(minor: int | None, currency: str) -> str:
    """'£60.00' or 'A$150.00' for an amount in minor units (kept: a page of bookings or
    classes shows the same few prices many times, and Babel takes tens of µs for each)."""
    return format_currency(Decimal(minor or 0) / 100, currency, locale=LOCALE)


def to_minor(amount: Decimal | int | float | str) -> int:
    """An amount in major units (60, '60.00') as minor units (6000)."""
    return int((Decimal(str(amount)) * 100).to_integral_value())
