"""Who may act for a centre: its staff, or an admin; and who teaches a class.

This is the one check behind every back-office page, staff API endpoint and staff
service. Each edge answers a refusal its own way: the pages with 404 (nobody learns
what other centres hold), the API with 403.
"""

import sqlalchemy as sa

from booking.models import Membership, User, Workshop
from booking.models.people import ROLE_INSTRUCTOR, ROLE_STAFF
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


def teaches(user: User | None, workshop: Workshop) -> bool:
    """Whether the user is the workshop's instructor and still an instructor at its
    centre: one whose role there was taken away no longer sees its families (their
    classes keep them as instructor, for the record)."""
    return (
        user is not None
        and workshop.instructor_id == user.id
        and workshop.centre_id in user.centre_ids(ROLE_INSTRUCTOR)
    )


def taught_by(instructor_id: int):
    """SQL: the workshop (Workshop in the query) is the instructor's, at a centre where
    they are still an instructor (`teaches`, for queries)."""
    return sa.and_(
        Workshop.instructor_id == instructor_id,
        Workshop.centre_id.in_(
            sa.select(Membership.centre_id).where(
                Membership.user_id == instructor_id, Membership.role == ROLE_INSTRUCTOR
            )
        ),
    )
