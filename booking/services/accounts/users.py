"""Accounts: creating users, checking credentials, giving roles."""

import unicodedata

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email

from booking.db import write_transaction
from booking.extensions import db
from booking.models import Centre, InstructorProfile, Membership, User
from booking.models.people import ROLE_INSTRUCTOR, ROLE_STAFF
from booking.passwords import check_password, hash_password, needs_rehash
from booking.services.errors import Conflict, Invalid, NotFound
from booking.services.schedule import fields as rules

ROLES = ("parent", "instructor", "staff", "admin")
NAME_MAX = 120
PASSWORD_MAX = 200

# A real hash of a random string, so a login for an unknown email costs the same.
_DUMMY_HASH = hash_password("not-a-real-password-0000")


def normalise_email(email: str) -> str:
    """Emails compare without case or surrounding space, with accented letters composed
    one way (a phone may send "é" as e and a combining accent)."""
    return unicodedata.normalize("NFC", email.strip()).lower()


def is_text(value: str) -> bool:
    """Whether the value can be stored as text: no lone surrogates (the bytes of a
    command-line argument that were not UTF-8) and no NUL (which PostgreSQL's text
    refuses, even to compare)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in value


def find_user_by_email(email: str) -> User | None:
    """The user with that email, if any (none for an email that is not text)."""
    email = normalise_email(email)
    if not is_text(email):
        return None
    return db.session.scalar(sa.select(User).where(User.email == email))


def person_name(value) -> str:
    """A person's name as accounts keep it: one line of at most 120 characters, with
    no control characters or text-direction overrides, and something to see; raises
    FieldError (its text names the field "Name") otherwise."""
    return rules.text(value, label="Name", limit=NAME_MAX, required=True)


def _checked_account(email: str, name: str, password: str) -> tuple[str, str]:
    """The email and name an account is created with, held to the rules of the sign-up
    form: a real address, a one-line name, a password of readable characters."""
    errors = {}
    try:
        email = normalise_email(
            validate_email(email.strip(), check_deliverability=False).normalized
        )
    except (EmailNotValidError, UnicodeError):
        errors["email"] = "Enter an email address like name@example.com."
    try:
        name = person_name(name)
    except rules.FieldError as exc:
        errors["name"] = str(exc)
    if not is_text(password):
        errors["password"] = "The password has characters that cannot be read; choose another."
    elif len(password) > PASSWORD_MAX:
        errors["password"] = f"Use a password of at most {PASSWORD_MAX} characters."
    if errors:
        raise Invalid(" ".join(errors.values()), errors)
    return email, name


def create_user(
    email: str,
    name: str,
    password: str,
    role: str = "parent",
    centre_slug: str | None = None,
) -> User:
    """Create an account with a role; staff and instructors belong to a centre."""
    if role not in ROLES:
        raise Invalid(f"Unknown role {role!r}; use one of {', '.join(ROLES)}.")
    if role in (ROLE_STAFF, ROLE_INSTRUCTOR) and not centre_slug:
        raise Invalid(f"A {role} belongs to a centre: give --centre SLUG.")
    if role not in (ROLE_STAFF, ROLE_INSTRUCTOR) and centre_slug:
        raise Invalid(
            f"Only instructors and staff belong to a centre: leave out --centre for {role}."
        )
    email, name = _checked_account(email, name, password)
    if centre_slug and not is_text(centre_slug):
        raise NotFound(f"No centre with the slug {centre_slug!r}.")
    with write_transaction():
        if find_user_by_email(email):
            raise Conflict("An account with that email already exists.", {"email": "taken"})
        user = User(email=email, name=name, password_hash=hash_password(password))
        user.is_admin = role == "admin"
        db.session.add(user)
        db.session.flush()
        if centre_slug:
            centre = db.session.scalar(sa.select(Centre).where(Centre.slug == centre_slug))
            if centre is None:
                raise NotFound(f"No centre with the slug {centre_slug!r}.")
            if role in (ROLE_STAFF, ROLE_INSTRUCTOR):
                db.session.add(Membership(user_id=user.id, centre_id=centre.id, role=role))
            if role == ROLE_INSTRUCTOR:
                db.session.add(InstructorProfile(user_id=user.id, display_name=user.name))
    return user


def authenticate(email: str, password: str) -> User | None:
    """The user if the password is right; None otherwise, in similar time."""
    user = find_user_by_email(email)
    if user is None or user.deleted_at is not None:
        check_password(_DUMMY_HASH, password)
        return None
    if not check_password(user.password_hash, password):
        return None
    if needs_rehash(user.password_hash):
        with write_transaction():
            user = db.session.get(User, user.id)
            user.password_hash = hash_password(password)
    return user


def set_password(user_id: int, password: str) -> User:
    """Change a password and end every other session of the user."""
    with write_transaction():
        user = db.session.get(User, user_id)
        user.password_hash = hash_password(password)
        user.session_version += 1
    return user


def end_sessions(user_id: int) -> User:
    """Make every existing login of the user stop working."""
    with write_transaction():
        user = db.session.get(User, user_id)
        user.session_version += 1
    return user
