"""Personal API tokens: created once, kept only as hashes, revocable."""

from datetime import timedelta

import sqlalchemy as sa

from booking.db import write_transaction
from booking.extensions import db
from booking.models import ApiToken, User, utcnow
from booking.models.token import hash_secret, new_secret
from booking.services.errors import Invalid, NotFound
from booking.services.schedule import fields as rules

NAME_MAX = 120
DEFAULT_NAME = "API token"
# last_used_at is written at most this often, so reads do not become writes.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def clean_name(name: str | None) -> str:
    """A token's name without stray spaces; refused when too long, or with control
    characters or text-direction overrides."""
    name = " ".join((name or "").split())
    try:
        name = rules.text(name, label="Name", limit=NAME_MAX)
    except rules.FieldError as exc:
        raise Invalid(str(exc), {"name": str(exc)}) from None
    return name or DEFAULT_NAME


def create_token(user_id: int, name: str) -> tuple[ApiToken, str]:
    """Create a token for a user; returns the row and the raw secret, shown only once."""
    name = clean_name(name)
    with write_transaction():
        user = db.session.get(User, user_id)
        if user is None or user.deleted_at is not None:
            raise NotFound("No such account.")
        raw = new_secret()
        token = ApiToken(user_id=user.id, name=name, token_hash=hash_secret(raw))
        db.session.add(token)
        db.session.flush()
    return token, raw


def revoke_token(token_id: int, user_id: int) -> ApiToken:
    """Revoke one of the user's own tokens; revoking twice changes nothing."""
    with write_transaction():
        token = db.session.get(ApiToken, token_id)
        if token is None or token.user_id != user_id:
            raise NotFound("No such API token.")
        if token.revoked_at is None:
            token.revoked_at = utcnow()
    return token


def list_tokens(user_id: int) -> list[ApiToken]:
    """The user's tokens, newest first, revoked ones included."""
    return list(
        db.session.scalars(
            sa.select(ApiToken)
            .where(ApiToken.user_id == user_id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def user_for_token(raw: str | None) -> User | None:
    """The active user a raw token belongs to; None for unknown or revoked tokens.

    Marks the token as used, at most once a minute.
    """
    if not raw or len(raw) > 200:
        return None
    row = db.session.execute(
        sa.select(ApiToken.id, ApiToken.user_id, ApiToken.last_used_at, ApiToken.revoked_at)
        .where(ApiToken.token_hash == hash_secret(raw))
    ).one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    user = db.session.get(User, row.user_id)
    if user is None or user.deleted_at is not None:
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        with write_transaction():
            db.session.execute(
                sa.update(ApiToken)
                .where(
                    ApiToken.id == row.id,
                    ApiToken.revoked_at.is_(None),
                    sa.or_(
                        ApiToken.last_used_at.is_(None),
                        ApiToken.last_used_at <= now - LAST_USED_RESOLUTION,
                    ),
                )
                .values(last_used_at=now)
                .execution_options(synchronize_session=False)
            )
        user = db.session.get(User, row.user_id)
    return user
