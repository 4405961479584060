"""A budget of new place look-ups per address.

Each postcode or place name not yet in the geocoder's cache costs one call to the
postcodes service and one row kept for a month; a script typing thousands of made-up
names would cost both without end. Beyond the budget the words are searched as text
(with a message), so a person is never refused a search; answers already cached, and
the packaged towns, cost nothing and are never limited.
"""

from flask import current_app
from flask_limiter.util import get_remote_address
from limits import parse_many

from booking.extensions import limiter
from booking.page_cache import mark_personal

PLACE_LOOKUPS_PER_IP = "30 per hour; 200 per day"
_BUDGET = parse_many(PLACE_LOOKUPS_PER_IP)


def may_look_up_place() -> bool:
    """Count one new look-up against this address; False once its budget is spent.
    With rate limits off (development, tests) or their storage unreachable, True."""
    if not (limiter.enabled and limiter.initialized):
        return True
    address = get_remote_address()
    try:
        allowed = all(limiter.limiter.hit(item, "place-lookup", address) for item in _BUDGET)
    except Exception as exc:  # noqa: BLE001 - any storage failure: search rather than refuse
        current_app.logger.warning("place look-up budget unavailable: %s", type(exc).__name__)
        return True
    if not allowed:
        mark_personal()  # this answer is for this address only: the page cache must not keep it
    return allowed
