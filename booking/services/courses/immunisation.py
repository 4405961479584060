"""A baby's immunisation date: no massage for 48 hours after, so a doll day."""

from datetime import date, timedelta

from booking.db import write_transaction
from booking.models import Baby
from booking.services.accounts.babies import get_baby
from booking.services.booking.places import utc_now
from booking.services.errors import Invalid

MAX_AHEAD = timedelta(days=366)
FIELD = "immunisation_date"


def check_immunisation_date(baby: Baby, value, today: date | None = None) -> date | None:
    """A valid immunisation date for the baby, or None to clear it; Invalid otherwise.

    Not before the baby's birth and not more than a year ahead.
    """
    if value is None or value == "":
        return None
    if not isinstance(value, date):
        message = "Enter the date as YYYY-MM-DD, for example 2025-03-14."
        raise Invalid(message, {FIELD: message})
    today = today or utc_now().date()
    if value < baby.date_of_birth:
        message = f"The immunisation date cannot be before {baby.name} was born."
        raise Invalid(message, {FIELD: message})
    if value > today + MAX_AHEAD:
        message = "The immunisation date can be at most a year from today."
        raise Invalid(message, {FIELD: message})
    return value


def set_immunisation_date(parent_id: int, baby_id: int, value: date | None) -> Baby:
    """Add, change or (with None) clear a baby's immunisation date."""
    with write_transaction():
        baby = get_baby(parent_id, baby_id)
        baby.immunisation_date = check_immunisation_date(baby, value)
    return baby
