"""Who may act for a centre: its staff, or an admin.

This is the one check behind every back-office page, staff API endpoint and staff
service. Each edge answers a refusal its own way: the pages with 404 (nobody learns
what other centres hold), the API with 403.
"""

from booking.models import User
from booking.models.people import ROLE_STAFF
from booking.services.errors import Forbidden

NOT_CENTRE_STAFF = "Only staff of this workshop's centre may do that."


def is_centre_staff(user: User, centre_id: int) -> bool:
    """Whether the user is staff of the centre; admins are staff of every centre.

    The membership rule itself is `User.can_manage_centre`; pages, API and services
    ask through here, so they share one check and one refusal.
    """
    return user.can_manage_centre(centre_id)


def require_centre_staff(user: User, centre_id: int, message: str = NOT_CENTRE_STAFF) -> None:
    """Raise Forbidden unless the user is staff of the centre (or an admin)."""
    if not is_centre_staff(user, centre_id):
        raise Forbidden(message)


def managed_centre_ids(user: User) -> set[int] | None:
    """The ids of the centres the user is staff of; None for an admin, who manages all."""
    return None if user.is_admin else user.centre_ids(ROLE_STAFF)
