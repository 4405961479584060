"""Invitations: an admin invites a person by email to a role (parent, instructor or
staff of a centre, admin).

Each invitation is a row (booking.models.Invitation). The emailed link `/invite/<token>`
is signed and names that row (its id and when it was made, so an id used again after
a restore never opens another invitation); it works for INVITE_DAYS days. Opened by
someone without an account, it creates the account with that role (and the centre
membership); for an existing account, it adds the role once its owner is logged in.
Accepting consumes the invitation exactly once, with a conditional UPDATE in the
transaction that gives the role: a link used before (even if the role was taken away
since) or withdrawn by an admin gives nothing.
"""

from datetime import timedelta

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email

from booking.db import write_transaction
from booking.extensions import db
from booking.mail.outbox import absolute_url, queue_email
from booking.models import Centre, Invitation, User, utcnow
from booking.models.invitation import CENTRE_ROLES, INVITATION_ROLES, ROLE_ADMIN
from booking.passwords import MIN_PASSWORD_LENGTH, hash_password
from booking.services.accounts.roles import grant_role, withdraw_waiting_invitations
from booking.services.accounts.users import find_user_by_email, normalise_email, person_name
from booking.services.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from booking.services.schedule.fields import FieldError
from booking.services.signed_links import LinkExpired, read_values, sign_values

SALT = "invitation"
# PostgreSQL advisory lock class for invitations; the second key is the address's hash,
# so two invitations to one address go one at a time (SQLite's writer already does).
INVITE_LOCK_CLASS = 7_310_043
INVITE_DAYS = 14
# Used, withdrawn and expired invitations are kept this long (the admin page lists
# the recently used ones), then deleted by `purge-expired`.
KEEP_DAYS = 30
ROLES = INVITATION_ROLES
NAME_MAX = 120
BAD_LINK = "This invitation link is not valid. Ask the person who invited you for a new one."
EXPIRED_LINK = (
    f"This invitation has expired: links work for {INVITE_DAYS} days. Ask the person "
    "who invited you for a new one."
)

# What an invitation is: unused with no account yet, unused for an existing account,
# used, or withdrawn by an admin.
NEW, ADD_ROLE, USED, WITHDRAWN = "new", "add_role", "used", "withdrawn"


class InvitationUsed(Conflict):
    """The invitation has been accepted already (or its address has an account)."""

    code = "invitation_used"


class InvitationWithdrawn(DomainError):
    """An admin withdrew the invitation: its link gives nothing."""

    status = 410
    code = "invitation_withdrawn"


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
    if name:  # optional: the person gives their own when they accept
        try:
            name = person_name(name)
        except FieldError as exc:
            errors["name"] = str(exc)
    if errors:
        raise Invalid("Some details of the invitation need correcting.", errors)
    return email, name


def has_role(user: User, invitation: Invitation) -> bool:
    """Whether an account already holds the invitation's role (every account is a parent)."""
    if invitation.role == ROLE_ADMIN:
        return user.is_admin
    if invitation.role in CENTRE_ROLES:
        return invitation.centre_id in user.centre_ids(invitation.role)
    return True


def _admin(admin_id: int) -> User:
    admin = db.session.get(User, admin_id)
    if admin is None or admin.deleted_at is not None or not admin.is_admin:
        raise Forbidden("Only admins invite people.")
    return admin


def _token(invitation: Invitation) -> str:
    return sign_values(SALT, {"i": invitation.id, "t": invitation.created_at.isoformat()})


def _lock_address(email: str) -> None:
    """Inside a write transaction, before anything else: wait for another invitation to
    the same address to commit, so that the one made second sees the first and
    withdraws it. Released at commit."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(
            INVITE_LOCK_CLASS, sa.func.hashtext(email))))


def invite(admin_id: int, email: str, role: str, centre_id: int | None = None,
           name: str = "") -> Invitation:
    """Record an invitation to a role and email its link through the outbox (admins
    only). Refused (Conflict) when the address's account already holds the role. An
    invitation to the same address, role and centre still waiting is withdrawn: the new
    link replaces it (`invitation.replaced` says how many were)."""
    name = _one_line(name)
    email, name = _check_invite(email, role, centre_id, name)
    with write_transaction():
        _lock_address(email)
        inviter = _admin(admin_id)
        centre = None
        if centre_id is not None:
            centre = db.session.get(Centre, centre_id)
            if centre is None:
                raise Invalid(
                    "There is no such centre.",
                    {"centre_id": "There is no such centre: choose one from the list."},
                )
        now = utcnow()
        invitation = Invitation(
            email=email, name=name, role=role, centre=centre, centre_id=centre_id,
            invited_by=inviter, invited_by_id=inviter.id, created_at=now,
            expires_at=now + timedelta(days=INVITE_DAYS),
        )
        existing = find_user_by_email(email)
        if existing is not None and existing.deleted_at is None and has_role(existing, invitation):
            raise Conflict(
                f"{email} already has an account that is {invitation.role_text}.",
                {"email": "This account already has that role."},
            )
        replaced = withdraw_waiting_invitations(
            Invitation.email == email,
            Invitation.role == role,
            (Invitation.centre_id == centre_id) if centre_id is not None
            else Invitation.centre_id.is_(None),
            now=now,
        )
        db.session.add(invitation)
        db.session.flush()
        invitation.replaced = replaced
        queue_email(
            email,
            "invitation",
            f"{inviter.name} invites you to Baby Massage Classes",
            centre=centre,
            name=name,
            inviter=inviter.name,
            role_text=invitation.role_text,
            days=INVITE_DAYS,
            invite_url=absolute_url(f"/invite/{_token(invitation)}"),
        )
    return invitation


def read_invitation(token: str) -> Invitation:
    """The invitation a link names, used or not; NotFound when the link is not ours
    (or names no invitation, or its admin is no longer one), LinkExpired after
    INVITE_DAYS days."""
    values = read_values(SALT, token or "", INVITE_DAYS * 24 * 3600, BAD_LINK, EXPIRED_LINK)
    invitation_id, made = values.get("i"), values.get("t")
    if not isinstance(invitation_id, int) or isinstance(invitation_id, bool):
        raise NotFound(BAD_LINK)
    invitation = db.session.scalar(
        sa.select(Invitation)
        .where(Invitation.id == invitation_id)
        .execution_options(populate_existing=True)
    )
    if invitation is None or invitation.created_at.isoformat() != made:
        raise NotFound(BAD_LINK)
    inviter = invitation.invited_by
    if inviter is None or inviter.deleted_at is not None or not inviter.is_admin:
        raise NotFound("This invitation is no longer valid. Ask an admin for a new one.")
    if invitation.expires_at <= utcnow():
        raise LinkExpired(EXPIRED_LINK)
    return invitation


def invitation_state(invitation: Invitation) -> str:
    """WITHDRAWN, USED, NEW (no account has the address) or ADD_ROLE (one has)."""
    if invitation.revoked_at is not None:
        return WITHDRAWN
    if invitation.used_at is not None:
        return USED
    return NEW if find_user_by_email(invitation.email) is None else ADD_ROLE


def used_error(invitation: Invitation) -> InvitationUsed:
    """The refusal of an invitation accepted already (or whose address has an account)."""
    return InvitationUsed(
        f"This invitation has already been used: the account for {invitation.email} "
        "exists. Log in to it."
    )


def withdrawn_error() -> InvitationWithdrawn:
    """The refusal of an invitation an admin withdrew."""
    return InvitationWithdrawn(
        "This invitation has been withdrawn by an admin, so its link no longer works. "
        "If you expected it, ask them for a new one."
    )


def refusal(invitation: Invitation) -> DomainError | None:
    """Why the invitation can no longer be accepted, or None while it can."""
    state = invitation_state(invitation)
    if state == WITHDRAWN:
        return withdrawn_error()
    return used_error(invitation) if state == USED else None


def _consume(invitation: Invitation, user_id: int) -> None:
    """Mark the invitation used by this account, exactly once: a conditional UPDATE
    that a concurrent accept or a withdrawal makes match nothing."""
    now = utcnow()
    done = db.session.execute(
        sa.update(Invitation)
        .where(
            Invitation.id == invitation.id,
            Invitation.used_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
        .values(used_at=now, used_by_id=user_id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if done != 1:
        db.session.refresh(invitation)
        raise refusal(invitation) or used_error(invitation)


def _give_role(user: User, invitation: Invitation) -> None:
    if invitation.role == ROLE_ADMIN:
        user.is_admin = True
    elif invitation.role in CENTRE_ROLES:
        grant_role(user.id, invitation.centre_id, invitation.role)


def accept_as_new_account(token: str, name: str, password: str) -> User:
    """Create the invited account with its role (and centre membership), using the
    invitation up. Refused with InvitationUsed once used or once an account has the
    address, InvitationWithdrawn once withdrawn."""
    errors = {}
    try:
        name = person_name(_one_line(name))
    except FieldError as exc:
        errors["name"] = "Enter your name." if not _one_line(name) else str(exc)
    if len(password or "") < MIN_PASSWORD_LENGTH:
        errors["password"] = f"Use at least {MIN_PASSWORD_LENGTH} characters."
    if errors:
        raise Invalid("Some details need correcting.", errors)
    password_hash = hash_password(password)
    try:
        with write_transaction():
            invitation = read_invitation(token)
            refused = refusal(invitation)
            if refused is not None:
                raise refused
            if find_user_by_email(invitation.email) is not None:
                raise used_error(invitation)
            user = User(email=invitation.email, name=name, password_hash=password_hash)
            db.session.add(user)
            db.session.flush()
            _consume(invitation, user.id)
            _give_role(user, invitation)
    except sa.exc.IntegrityError as exc:  # the address taken at the same moment
        raise used_error(read_invitation(token)) from exc
    return user


def accept_as_account(token: str, user_id: int) -> User:
    """Give the invitation's role to the logged-in account it was sent to, using the
    invitation up. Forbidden for another account; InvitationUsed or
    InvitationWithdrawn once used or withdrawn."""
    with write_transaction():
        invitation = read_invitation(token)
        refused = refusal(invitation)
        if refused is not None:
            raise refused
        user = db.session.scalar(sa.select(User).where(User.id == user_id).with_for_update())
        if user is None or user.email != invitation.email:
            raise Forbidden(
                f"This invitation is for {invitation.email}. Log out, then log in to that "
                "account to accept it."
            )
        _consume(invitation, user.id)
        _give_role(user, invitation)
    return user


def withdraw_invitation(admin_id: int, invitation_id: int) -> Invitation:
    """Withdraw an invitation not used yet (admins), so its link gives nothing; the same
    again changes nothing. Conflict once it has been used: take the role away instead."""
    with write_transaction():
        _admin(admin_id)
        db.session.execute(
            sa.update(Invitation)
            .where(
                Invitation.id == invitation_id,
                Invitation.used_at.is_(None),
                Invitation.revoked_at.is_(None),
            )
            .values(revoked_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        invitation = db.session.scalar(
            sa.select(Invitation)
            .where(Invitation.id == invitation_id)
            .execution_options(populate_existing=True)
        )
        if invitation is None:
            raise NotFound("There is no such invitation.")
        if invitation.revoked_at is None:
            raise Conflict(
                f"The invitation to {invitation.email} has already been used, so it cannot "
                "be withdrawn: take the role away on their page under People and roles."
            )
    return invitation


def pending_invitations() -> list[Invitation]:
    """Invitations neither used, withdrawn nor expired, newest first."""
    return list(
        db.session.scalars(
            sa.select(Invitation)
            .where(
                Invitation.used_at.is_(None),
                Invitation.revoked_at.is_(None),
                Invitation.expires_at > utcnow(),
            )
            .order_by(Invitation.created_at.desc(), Invitation.id.desc())
        )
    )


def recently_used_invitations() -> list[Invitation]:
    """Invitations accepted in the last KEEP_DAYS days, latest first."""
    since = utcnow() - timedelta(days=KEEP_DAYS)
    return list(
        db.session.scalars(
            sa.select(Invitation)
            .where(Invitation.used_at >= since)
            .order_by(Invitation.used_at.desc(), Invitation.id.desc())
        )
    )


def purge_invitations() -> int:
    """Delete the invitations used, withdrawn or expired more than KEEP_DAYS days ago
    (for purge jobs: each holds an email address); returns how many."""
    cutoff = utcnow() - timedelta(days=KEEP_DAYS)
    with write_transaction():
        result = db.session.execute(
            sa.delete(Invitation).where(
                sa.or_(
                    Invitation.used_at < cutoff,
                    Invitation.revoked_at < cutoff,
                    Invitation.expires_at < cutoff,
                )
            )
        )
    return result.rowcount
