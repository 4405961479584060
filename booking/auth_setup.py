"""Flask-Login wiring: loading users and guarding pages by role."""

import re
from functools import cache, wraps

import sqlalchemy as sa
from flask import abort
from flask_login import current_user
from sqlalchemy.orm import joinedload

from booking.extensions import db, login_manager
from booking.models import User
from booking.services.catalogue.params import MAX_ID

# The session's "<id>:<version>", in ASCII digits: an id the database can hold, and a
# version short enough to be read as a number at once.
_ID = re.compile(r"[0-9]{1,10}")
_VERSION = re.compile(r"[0-9]{1,18}")


def init_app(app) -> None:
    """Register the user loader and the login view."""
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"


@cache
def _user_statement():
    """A user with their memberships in the same query (every page's menu asks for the
    roles): built once, the id a parameter."""
    return (
        sa.select(User)
        .where(User.id == sa.bindparam("user_id"))
        .options(joinedload(User.memberships))
    )


@login_manager.user_loader
def load_user(identity: str) -> User | None:
    """Load the user named by the session, if the session is still current."""
    if not isinstance(identity, str):
        return None  # signed with the key, but not written by this product
    user_id, _, version = identity.partition(":")
    if not (_ID.fullmatch(user_id) and _VERSION.fullmatch(version)
            and int(user_id) <= MAX_ID):
        return None
    user = db.session.scalars(_user_statement(), {"user_id": int(user_id)}).unique().first()
    if user is None or user.deleted_at is not None or user.session_version != int(version):
        return None
    return user


def staff_required(view):
    """Only staff of at least one centre, or admins."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_staff:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def instructor_required(view):
    """Only instructors."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_instructor:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def admin_required(view):
    """Only admins."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped
