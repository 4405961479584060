"""Roles: admins make people staff of a centre, instructors at a centre, or admins."""

import sqlalchemy as sa

from booking.db import write_transaction
from booking.extensions import db
from booking.models import (
    Centre,
    InstructorProfile,
    Invitation,
    Membership,
    User,
    Workshop,
    utcnow,
)
from booking.models.people import MEMBERSHIP_ROLES, ROLE_INSTRUCTOR
from booking.models.workshop import CANCELLED
from booking.services.errors import Conflict, Invalid, NotFound

USERS_PER_PAGE = 25
_LARGEST_ID = 2**31 - 1


def _user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or user.deleted_at is not None:
        raise NotFound("There is no such user.")
    return user


def _centre(centre_id: int) -> Centre:
    centre = db.session.get(Centre, centre_id)
    if centre is None:
        raise NotFound("There is no such centre.", {"centre_id": "Choose a centre."})
    return centre


def _check_role(role: str) -> None:
    if role not in MEMBERSHIP_ROLES:
        raise Invalid(
            f"Unknown role {role!r}; use staff or instructor.", {"role": "Choose a role."}
        )


def grant_role(user_id: int, centre_id: int, role: str) -> Membership:
    """Make a user staff of, or an instructor at, a centre (an instructor gets a profile).

    Giving a role the user already holds returns the existing membership.
    """
    _check_role(role)
    with write_transaction():
        user = _user(user_id)
        _centre(centre_id)
        membership = db.session.scalar(
            sa.select(Membership).where(
                Membership.user_id == user.id,
                Membership.centre_id == centre_id,
                Membership.role == role,
            )
        )
        if membership is None:
            membership = Membership(user_id=user.id, centre_id=centre_id, role=role)
            db.session.add(membership)
        if role == ROLE_INSTRUCTOR:
            profile = db.session.scalar(
                sa.select(InstructorProfile).where(InstructorProfile.user_id == user.id)
            )
            if profile is None:
                db.session.add(InstructorProfile(user_id=user.id, display_name=user.name))
        db.session.flush()
    return membership


def revoke_role(user_id: int, centre_id: int, role: str) -> None:
    """Take a centre role away; an instructor must first hand over their upcoming workshops."""
    _check_role(role)
    with write_transaction():
        user = _user(user_id)
        membership = db.session.scalar(
            sa.select(Membership).where(
                Membership.user_id == user.id,
                Membership.centre_id == centre_id,
                Membership.role == role,
            )
        )
        if membership is None:
            raise NotFound("The user does not hold that role at that centre.")
        if role == ROLE_INSTRUCTOR:
            leading = db.session.scalar(
                sa.select(sa.func.count(Workshop.id)).where(
                    Workshop.instructor_id == user.id,
                    Workshop.centre_id == centre_id,
                    Workshop.status != CANCELLED,
                    Workshop.last_ends_at > utcnow(),
                )
            )
            if leading:
                raise Conflict(
                    f"{user.name} leads {leading} upcoming workshop(s) at this centre: "
                    "give them to another instructor first."
                )
        db.session.delete(membership)


def set_admin(user_id: int, is_admin: bool, *, actor_id: int) -> int:
    """Turn a user's admin role on or off; an admin cannot remove their own. Taking it
    withdraws the invitations they sent that are still waiting (an invitation's link
    works only while the admin who sent it is one); returns how many."""
    with write_transaction():
        user = _user(user_id)
        if not is_admin and user.id == actor_id:
            raise Conflict("You cannot remove your own admin role; ask another admin.")
        user.is_admin = bool(is_admin)
        return 0 if is_admin else withdraw_invitations_sent_by(user.id)


def withdraw_invitations_sent_by(user_id: int) -> int:
    """Withdraw the invitations a person sent that are still waiting (their admin role
    ends, or their account is erased), so the admins' list shows none whose link no
    longer works. Inside the caller's transaction."""
    return withdraw_waiting_invitations(Invitation.invited_by_id == user_id)


def withdraw_waiting_invitations(*which, now=None) -> int:
    """Withdraw the invitations matching `which` that are still waiting (neither used,
    withdrawn nor expired), with one conditional UPDATE; how many. Inside the caller's
    transaction."""
    now = now or utcnow()
    return db.session.execute(
        sa.update(Invitation)
        .where(
            *which,
            Invitation.used_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > now,
        )
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount


def search_users(query: str = "", page: int = 1, per_page: int = USERS_PER_PAGE):
    """Users whose name or email contains the query, by name, one page at a time."""
    stmt = sa.select(User).where(User.deleted_at.is_(None))
    query = " ".join((query or "").split())[:100]
    if query:
        escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped.lower()}%"
        stmt = stmt.where(
            sa.or_(
                sa.func.lower(User.name).like(pattern, escape="\\"),
                sa.func.lower(User.email).like(pattern, escape="\\"),
            )
        )
    stmt = stmt.order_by(User.name, User.id)
    return db.paginate(stmt, page=max(1, page), per_page=per_page, error_out=False)


def user_memberships(user_id: int) -> list[tuple[Membership, Centre]]:
    """A user's centre roles with their centres."""
    return list(
        db.session.execute(
            sa.select(Membership, Centre)
            .join(Centre, Centre.id == Membership.centre_id)
            .where(Membership.user_id == user_id)
            .order_by(Centre.name, Membership.role)
        )
    )


def get_user(user_id: int) -> User:
    """An active user, or NotFound."""
    return _user(user_id)


def instructor_at(user_id, centre_id: int) -> User | None:
    """The active account with that id if it is an instructor of the centre, else None.

    Callers answer every None the same way (NOT_AN_INSTRUCTOR), whoever the id or email
    belongs to, so the answer never tells whether an account exists or what it is.
    """
    if isinstance(user_id, str):
        text = user_id.strip()
        # ASCII digits only ("²" is a digit to isdigit(), not to int()), and few of them.
        if not (text.isascii() and text.isdigit() and len(text) <= 10):
            return None
        user_id = int(text)
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        return None
    if not 1 <= user_id <= _LARGEST_ID:
        return None
    return db.session.scalar(
        sa.select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(
            User.id == user_id,
            User.deleted_at.is_(None),
            Membership.centre_id == centre_id,
            Membership.role == ROLE_INSTRUCTOR,
        )
    )
