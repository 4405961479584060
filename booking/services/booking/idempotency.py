"""Idempotency keys for the API's POSTs: claim a key, store the first response, replay it.

A key belongs to one user. The first request with it claims the key (a row with the
request's fingerprint and no response yet) in a transaction of its own, so a second
request with the same key, even at the same moment, finds the claim: while the first
is running it is told to wait (409); once the first has succeeded its response is
replayed; a different request under the same key is refused (422). A request that
fails releases its key, so nothing was created and the client may retry with it.
Keys expire after KEY_LIFETIME and are purged lazily whenever a key is claimed.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from booking.db import write_transaction
from booking.extensions import db
from booking.models import IdempotencyRecord, utcnow
from booking.services.errors import Conflict, Invalid

KEY_LIFETIME = timedelta(hours=24)
KEY_MAX_LENGTH = 255
HEADER = "Idempotency-Key"


class KeyReused(Invalid):
    """The key was first used for a different request (422)."""

    code = "idempotency_key_reused"


class KeyInProgress(Conflict):
    """The first request with this key has not finished (409)."""

    code = "idempotency_key_in_progress"


class BadKey(Invalid):
    """The Idempotency-Key header is not a usable key (400)."""

    status = 400
    code = "invalid_idempotency_key"


@dataclass(frozen=True)
class StoredResponse:
    """The first response to a keyed request, as it is replayed."""

    status_code: int
    body: str
    location: str | None


def check_key(raw: str) -> str:
    """A header value as a key: 1-255 visible ASCII characters; BadKey otherwise."""
    key = raw.strip()
    if not key or len(key) > KEY_MAX_LENGTH or not all(33 <= ord(ch) <= 126 for ch in key):
        message = (
            f"The {HEADER} header must be 1 to {KEY_MAX_LENGTH} visible ASCII characters, "
            "such as a UUID."
        )
        raise BadKey(message, {HEADER: message})
    return key


def fingerprint(method: str, path: str, body: bytes) -> str:
    """A hash of what the request asks for. JSON bodies are compared by meaning, so key
    order and spacing do not matter; anything else byte for byte."""
    try:
        canonical = json.dumps(
            json.loads(body.decode("utf-8")), sort_keys=True, separators=(",", ":")
        ).encode("utf-8")
    except (ValueError, RecursionError):  # not JSON, or nested past what Python parses
        canonical = body
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode("utf-8"), canonical):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _find(user_id: int, key: str) -> IdempotencyRecord | None:
    return db.session.scalar(
        sa.select(IdempotencyRecord).where(
            IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key
        )
    )


def _answer_for(record: IdempotencyRecord, method: str, path: str, print_: str):
    if (record.method, record.path, record.fingerprint) != (method, path, print_):
        message = (
            f"This {HEADER} was already used for a different request. Use a new key for "
            "a new request; repeat a request only with exactly the same body."
        )
        raise KeyReused(message, {HEADER: message})
    if not record.completed:
        raise KeyInProgress(
            f"The first request with this {HEADER} has not finished yet. Wait a moment "
            "and send it again."
        )
    return StoredResponse(record.status_code, record.response_body or "", record.location)


def claim_key(
    user_id: int, key: str, method: str, path: str, print_: str, now: datetime | None = None
) -> tuple[int | None, StoredResponse | None]:
    """Claim a key for a new request, or find the response to replay.

    Returns (record id, None) when the caller should go ahead, or (None, response) for a
    replay. Raises KeyReused for a different request, KeyInProgress while the first one
    runs. Expired keys (anyone's) are deleted first.
    """
    now = now or utcnow()
    try:
        with write_transaction():
            db.session.execute(
                sa.delete(IdempotencyRecord)
                .where(IdempotencyRecord.expires_at <= now)
                .execution_options(synchronize_session=False)
            )
            record = _find(user_id, key)
            if record is not None:
                return None, _answer_for(record, method, path, print_)
            record = IdempotencyRecord(
                user_id=user_id,
                key=key,
                method=method,
                path=path,
                fingerprint=print_,
                created_at=now,
                expires_at=now + KEY_LIFETIME,
            )
            db.session.add(record)
            db.session.flush()
            record_id = record.id
    except sa.exc.IntegrityError:
        # Another request claimed the same key at the same moment and committed first.
        record = _find(user_id, key)
        if record is None:  # pragma: no cover - it was claimed and released meanwhile
            raise KeyInProgress(
                f"Another request with this {HEADER} was running. Send it again."
            ) from None
        return None, _answer_for(record, method, path, print_)
    return record_id, None


def complete_key(record_id: int, status_code: int, body: str, location: str | None) -> None:
    """Store the first response under its claimed key."""
    with write_transaction():
        record = db.session.get(IdempotencyRecord, record_id)
        if record is not None:
            record.status_code = status_code
            record.response_body = body
            record.location = location


def release_key(record_id: int) -> None:
    """Give up a claim whose request failed, so the key can be used again."""
    with write_transaction():
        db.session.execute(
            sa.delete(IdempotencyRecord)
            .where(IdempotencyRecord.id == record_id, IdempotencyRecord.status_code.is_(None))
            .execution_options(synchronize_session=False)
        )
