"""Links that need no login: a few ids signed with the app's secret key.

Used by the emails whose one job is a tap from the inbox ("Ready for <day>?", a course
evaluation), and by invitations (`sign_values`, with a time limit). Each kind of link
has its own salt, so a token made for one never opens another; a token that is not
ours, or not the ids expected, reads as NotFound; a timed one past its age, as
LinkExpired.
"""

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

from booking.services.catalogue.params import MAX_ID
from booking.services.errors import DomainError, NotFound


class LinkExpired(DomainError):
    """A timed link that was ours, but is too old now."""

    status = 400
    code = "link_expired"


def sign_ids(salt: str, *ids: int) -> str:
    """A URL-safe token naming these ids."""
    return URLSafeSerializer(current_app.secret_key, salt=salt).dumps(list(ids))


def _loads(salt: str, token: str, message: str):
    try:
        return URLSafeSerializer(current_app.secret_key, salt=salt).loads(token)
    except (BadSignature, UnicodeDecodeError, ValueError) as exc:
        raise NotFound(message) from exc


def _are_ids(value, count: int) -> bool:
    return (
        isinstance(value, list)
        and len(value) == count
        and all(isinstance(v, int) and not isinstance(v, bool) and 0 < v <= MAX_ID
                for v in value)
    )


def read_ids(salt: str, token: str, count: int, message: str) -> tuple[int, ...]:
    """The `count` ids (from 1 to `MAX_ID`, the largest a 32-bit id column holds) a
    token signed with `salt` names; NotFound(`message`) otherwise."""
    value = _loads(salt, token, message)
    if not _are_ids(value, count):
        raise NotFound(message)
    return tuple(value)


def sign_stamped_ids(salt: str, stamp: str, *ids: int) -> str:
    """A URL-safe token naming these ids and a `stamp` (when the record was made): a
    record whose id comes again (SQLite gives a deleted row's id to the next one) is
    told apart from the one the token was made for."""
    return URLSafeSerializer(current_app.secret_key, salt=salt).dumps([*ids, stamp])


def read_stamped_ids(
    salt: str, token: str, count: int, message: str
) -> tuple[tuple[int, ...], str]:
    """The `count` ids and the stamp a `sign_stamped_ids` token names; NotFound
    (`message`) otherwise."""
    value = _loads(salt, token, message)
    if not isinstance(value, list) or not value or not isinstance(value[-1], str):
        raise NotFound(message)
    if not _are_ids(value[:-1], count):
        raise NotFound(message)
    return tuple(value[:-1]), value[-1]


def sign_values(salt: str, values: dict) -> str:
    """A URL-safe token carrying a few plain values (and when it was made)."""
    return URLSafeTimedSerializer(current_app.secret_key, salt=salt).dumps(values)


def read_values(salt: str, token: str, max_age: int, message: str, expired: str) -> dict:
    """The values of a token signed with `salt` less than `max_age` seconds ago;
    LinkExpired(`expired`) when older, NotFound(`message`) when not ours."""
    serializer = URLSafeTimedSerializer(current_app.secret_key, salt=salt)
    try:
        value = serializer.loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise LinkExpired(expired) from exc
    except (BadSignature, UnicodeDecodeError, ValueError) as exc:
        raise NotFound(message) from exc
    if not isinstance(value, dict):
        raise NotFound(message)
    return value
