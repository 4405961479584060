"""A parent's contact phone number: asked at the first booking, editable on the account.

Shown to the instructor and staff of the classes the parent booked (rosters, registers,
the printed register and the roster CSV) so they can reach the family on the day; used
for nothing else.
"""

import re

from booking.db import write_transaction
from booking.extensions import db
from booking.models import User
from booking.services.errors import Invalid, NotFound

PHONE_MAX = 40
ALLOWED = re.compile(r"^\+?[0-9 ().-]+$")
MESSAGE = "Enter a phone number of 7 to 15 digits, for example 07700 900123 or +44 7700 900123."


def check_phone(value, field: str = "phone") -> str:
    """A phone number as the parent typed it (spaces tidied), or "" for none; Invalid
    unless it is digits (7 to 15, as international numbers are) with the usual + ( ) - ."""
    phone = " ".join(str(value or "").split())
    if not phone:
        return ""
    digits = re.sub(r"\D", "", phone)
    if len(phone) > PHONE_MAX or not ALLOWED.match(phone) or not 7 <= len(digits) <= 15:
        raise Invalid(MESSAGE, {field: MESSAGE})
    return phone


def set_phone(user_id: int, value, field: str = "phone") -> str:
    """Save (or, with an empty value, remove) the account's contact phone number."""
    phone = check_phone(value, field)
    with write_transaction():
        user = db.session.get(User, user_id)
        if user is None or user.deleted_at is not None:
            raise NotFound("We could not find that account.")
        user.phone = phone
    return phone
