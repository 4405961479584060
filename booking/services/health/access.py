"""Who may read a baby's health answers: the instructor of the class and its centre's staff.

Narrower than `accounts.access.is_centre_staff`: an admin who is not staff of the
centre does not see them, because the consent a parent gives names only the class's
instructor and the centre's staff.
"""

from datetime import timedelta

from booking.models import User, Workshop, utcnow
from booking.models.people import ROLE_STAFF
from booking.services.accounts.access import teaches

# How long after a class has ended its instructor and staff still see the babies'
# health flags (a late register, a question from a parent); then no more.
SHOWN_AFTER_END = timedelta(days=14)


def may_see_health(user: User | None, workshop: Workshop) -> bool:
    """Whether the user teaches the workshop (`accounts.access.teaches`: still an
    instructor at its centre) or is staff of its centre, while the
    workshop runs and for two weeks after its last session. Each baby's answers are
    then shown only if the parent agreed to share them with that centre
    (`answers.shared_records`)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    ended = workshop.last_ends_at
    if ended is not None and ended < utcnow() - SHOWN_AFTER_END:
        return False
    return teaches(user, workshop) or workshop.centre_id in user.centre_ids(ROLE_STAFF)
