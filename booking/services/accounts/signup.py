"""Signing up as a parent, without telling anyone which addresses have an account.

Whoever signs up is answered the same way whether the address is new or taken; the
difference goes by email to the address itself. A new address gets a welcome email and
its account; a taken one gets nothing new, and its owner is told that someone tried to
sign up with their address (log in, or reset the password, if it was them). The
person signing up is logged in only in the first case, which they can see; nobody
else learns anything from the page.
"""

import time

import sqlalchemy as sa

from booking.db import write_transaction
from booking.extensions import db
from booking.mail.outbox import absolute_url, queue_email
from booking.models import OutboxMessage, User
from booking.passwords import hash_password
from booking.services.accounts.users import normalise_email, person_name
from booking.services.errors import Invalid
from booking.services.schedule.fields import FieldError

# At most one "someone tried to sign up with your address" email per account in this
# many seconds, however often it is tried.
SIGNUP_NOTICE_INTERVAL_SECONDS = 600


def sign_up_parent(email: str, name: str, password: str) -> User | None:
    """Create a parent account and email a welcome; None when the address is taken.

    When it is taken, the owner is emailed instead (at most once per interval), in
    the same transaction. The password is hashed either way, so both cases take
    about as long.
    """
    email = normalise_email(email)
    try:
        name = person_name(name)
    except FieldError as exc:
        raise Invalid(str(exc), {"name": str(exc)}) from None
    password_hash = hash_password(password)
    for _attempt in range(2):
        try:
            return _sign_up(email, name, password_hash)
        except sa.exc.IntegrityError:
            # Someone else signed up with this address at the same moment: now it is
            # taken, and the second pass tells its owner.
            continue
    return None


def _sign_up(email: str, name: str, password_hash: str) -> User | None:
    with write_transaction():
        owner = db.session.scalar(sa.select(User).where(User.email == email).with_for_update())
        if owner is not None:
            _tell_owner(owner)
            return None
        user = User(email=email, name=name, password_hash=password_hash)
        db.session.add(user)
        db.session.flush()
        queue_email(
            user.email,
            "welcome",
            "Your Baby Massage Classes account is ready",
            name=user.name,
            classes_url=absolute_url("/classes"),
            forgot_url=absolute_url("/password/forgot"),
        )
    return user


def _tell_owner(owner: User) -> None:
    if owner.deleted_at is not None:
        return
    window = int(time.time()) // SIGNUP_NOTICE_INTERVAL_SECONDS
    key = f"signup-attempt:{owner.id}:{window}"
    already = db.session.scalar(sa.select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key))
    if already is not None:
        return
    queue_email(
        owner.email,
        "signup_existing",
        "Someone tried to sign up with your email address",
        dedupe_key=key,
        name=owner.name,
        login_url=absolute_url("/login"),
        forgot_url=absolute_url("/password/forgot"),
    )
