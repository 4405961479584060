"""Who may read a baby's health answers: the instructor of the class and its centre's staff.

Narrower than `accounts.access.is_centre_staff`: an admin who is not staff of the
centre does not see them, because the consent a parent gives names only the class's
instructor and the centre's staff.
"""

from booking.models import User, Workshop
from booking.models.people import ROLE_STAFF


def may_see_health(user: User | None, workshop: Workshop) -> bool:
    """Whether the user teaches the workshop or is staff of its centre."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if workshop.instructor_id == user.id:
        return True
    return workshop.centre_id in user.centre_ids(ROLE_STAFF)
