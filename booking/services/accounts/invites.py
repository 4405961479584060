"""Invitations: an admin invites a person by email to a role (parent, instructor or
staff of a centre, admin).

The emailed link `/invite/<token>` is signed and works for INVITE_DAYS days; it carries
the address, the role, the centre and the inviting admin, so nothing is stored until
it is used. Opened by someone without an account, it creates the account with that
role (and the centre membership); for an existing account, it adds the role once its
owner is logged in. Once the account holds the role, the link says it was used.
"""

from dataclasses import dataclass

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email

from booking.db import write_transaction
from booking.extensions import db
from booking.mail.outbox import absolute_url, queue_email
from booking.models import Centre, User
from booking.models.people import ROLE_INSTRUCTOR, ROLE_STAFF
from booking.passwords import MIN_PASSWORD_LENGTH, hash_password
from booking.services.accounts.roles import grant_role
from booking.services.accounts.users import find_user_by_email, normalise_email
from booking.services.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from booking.services.signed_links import read_values, sign_values

SALT = "invitation"
INVITE_DAYS = 14
ROLE_PARENT, ROLE_ADMIN = "parent", "admin"
ROLES = (ROLE_PARENT, ROLE_INSTRUCTOR, ROLE_STAFF, ROLE_ADMIN)
CENTRE_ROLES = (ROLE_INSTRUCTOR, ROLE_STAFF)
NAME_MAX = 120
BAD_LINK = "This invitation link is not valid. Ask the person who invited you for a new one."
EXPIRED_LINK = (
    f"This invitation has expired: links work for {INVITE_DAYS} days. Ask the person "
    "who invited you for a new one."
)

# What an invitation's account can be: none yet, or one without or with the role.
NEW, ADD_ROLE, USED = "new", "add_role", "used"


class InvitationUsed(DomainError):
    """The invitation's account exists and already holds the role."""

    status = 409
    code = "invitation_used"


@dataclass
class Invitation:
    """What an invitation link says: who, to which role, where, from whom."""

    email: str
    role: str
    centre: Centre | None
    inviter: User
    name: str = ""

    @property
    def role_text(self) -> str:
        """The role as a phrase: "an instructor at Bristol Hub", "an admin"."""
        if self.role == ROLE_PARENT:
            return "a parent who books classes"
        if self.role == ROLE_ADMIN:
            return "an admin"
        noun = "an instructor" if self.role == ROLE_INSTRUCTOR else "a member of staff"
        return f"{noun} at {self.centre.name}"


def _one_line(value) -> str:
    return " ".join(str(value or "").split())


def _check_invite(email: str, role: str, centre_id, name: str) -> tuple[str, str]:
    errors = {}
    try:
        email = normalise_email(validate_email(_one_line(email), check_deliverability=False)
                                .normalized)
    except EmailNotValidError:
        errors["email"] = "Enter an email address like name@example.com."
    if len(email) > 254:
        errors["email"] = "Use at most 254 characters."
    if role not in ROLES:
        errors["role"] = "Choose parent, instructor, staff or admin."
    elif role in CENTRE_ROLES and centre_id is None:
        errors["centre_id"] = f"Choose the centre where they will be {role}."
    elif role not in CENTRE_ROLES and centre_id is not None:
        errors["centre_id"] = "Only instructors and staff belong to a centre: choose none."
    if len(name) > NAME_MAX:
        errors["name"] = f"Use at most {NAME_MAX} characters."
    if errors:
        raise Invalid("Some details of the invitation need correcting.", errors)
    return email, name


def has_role(user: User, invitation: Invitation) -> bool:
    """Whether an account already holds the invitation's role (every account is a parent)."""
    if invitation.role == ROLE_ADMIN:
        return user.is_admin
    if invitation.role in CENTRE_ROLES:
        return invitation.centre.id in user.centre_ids(invitation.role)
    return True


def invite(admin_id: int, email: str, role: str, centre_id: int | None = None,
           name: str = "") -> Invitation:
    """Email an invitation to a role through the outbox (admins only). Refused
    (Conflict) when the address's account already holds the role."""
    name = _one_line(name)
    email, name = _check_invite(email, role, centre_id, name)
    with write_transaction():
        inviter = db.session.get(User, admin_id)
        if inviter is None or inviter.deleted_at is not None or not inviter.is_admin:
            raise Forbidden("Only admins invite people.")
        centre = None
        if centre_id is not None:
            centre = db.session.get(Centre, centre_id)
            if centre is None:
                raise Invalid(
                    "There is no such centre.",
                    {"centre_id": "There is no such centre: choose one from the list."},
                )
        invitation = Invitation(email, role, centre, inviter, name)
        existing = find_user_by_email(email)
        if existing is not None and existing.deleted_at is None and has_role(existing, invitation):
            raise Conflict(
                f"{email} already has an account that is {invitation.role_text}.",
                {"email": "This account already has that role."},
            )
        token = sign_values(
            SALT, {"e": email, "r": role, "c": centre_id, "a": inviter.id, "n": name}
        )
        queue_email(
            email,
            "invitation",
            f"{inviter.name} invites you to Baby Massage Classes",
            centre=centre,
            name=name,
            inviter=inviter.name,
            role_text=invitation.role_text,
            days=INVITE_DAYS,
            invite_url=absolute_url(f"/invite/{token}"),
        )
    return invitation


def _is_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def read_invitation(token: str) -> Invitation:
    """The invitation a link carries; NotFound when it is not ours (or its admin or
    centre is gone), LinkExpired after INVITE_DAYS days."""
    values = read_values(SALT, token or "", INVITE_DAYS * 24 * 3600, BAD_LINK, EXPIRED_LINK)
    email, role, centre_id = values.get("e"), values.get("r"), values.get("c")
    admin_id, name = values.get("a"), values.get("n", "")
    if (
        not isinstance(email, str)
        or role not in ROLES
        or not _is_id(admin_id)
        or not isinstance(name, str)
        or (centre_id is not None and not _is_id(centre_id))
        or (role in CENTRE_ROLES) != (centre_id is not None)
    ):
        raise NotFound(BAD_LINK)
    inviter = db.session.get(User, admin_id)
    centre = db.session.get(Centre, centre_id) if centre_id is not None else None
    if inviter is None or inviter.deleted_at is not None or not inviter.is_admin:
        raise NotFound("This invitation is no longer valid. Ask an admin for a new one.")
    if centre_id is not None and centre is None:
        raise NotFound("The centre of this invitation no longer exists.")
    return Invitation(email, role, centre, inviter, name)


def invitation_state(invitation: Invitation) -> str:
    """NEW (no account has the address), ADD_ROLE (one has, without the role) or USED."""
    user = find_user_by_email(invitation.email)
    if user is None:
        return NEW
    if user.deleted_at is not None or has_role(user, invitation):
        return USED
    return ADD_ROLE


def used_error(invitation: Invitation) -> InvitationUsed:
    """The refusal of an invitation whose account exists with the role."""
    return InvitationUsed(
        f"This invitation has already been used: the account for {invitation.email} "
        "exists. Log in to it."
    )


def _give_role(user: User, invitation: Invitation) -> None:
    if invitation.role == ROLE_ADMIN:
        user.is_admin = True
    elif invitation.role in CENTRE_ROLES:
        grant_role(user.id, invitation.centre.id, invitation.role)


def accept_as_new_account(token: str, name: str, password: str) -> User:
    """Create the invited account with its role (and centre membership). Refused with
    InvitationUsed once an account has the address."""
    name = _one_line(name)
    errors = {}
    if not name:
        errors["name"] = "Enter your name."
    elif len(name) > NAME_MAX:
        errors["name"] = f"Use at most {NAME_MAX} characters."
    if len(password or "") < MIN_PASSWORD_LENGTH:
        errors["password"] = f"Use at least {MIN_PASSWORD_LENGTH} characters."
    if errors:
        raise Invalid("Some details need correcting.", errors)
    password_hash = hash_password(password)
    try:
        with write_transaction():
            invitation = read_invitation(token)
            if find_user_by_email(invitation.email) is not None:
                raise used_error(invitation)
            user = User(email=invitation.email, name=name, password_hash=password_hash)
            db.session.add(user)
            db.session.flush()
            _give_role(user, invitation)
    except sa.exc.IntegrityError as exc:  # the same link used twice at the same moment
        raise used_error(read_invitation(token)) from exc
    return user


def accept_as_account(token: str, user_id: int) -> User:
    """Give the invitation's role to the logged-in account it was sent to. Forbidden
    for another account; InvitationUsed when the role is already held."""
    with write_transaction():
        invitation = read_invitation(token)
        user = db.session.scalar(sa.select(User).where(User.id == user_id).with_for_update())
        if user is None or user.email != invitation.email:
            raise Forbidden(
                f"This invitation is for {invitation.email}. Log out, then log in to that "
                "account to accept it."
            )
        if has_role(user, invitation):
            raise used_error(invitation)
        _give_role(user, invitation)
    return user
