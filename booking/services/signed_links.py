"""Links that need no login: a few ids signed with the app's secret key.

Used by the emails whose one job is a tap from the inbox ("Ready for <day>?", a course
evaluation). Each kind of link has its own salt, so a token made for one never opens
another; a token that is not ours, or not the ids expected, reads as NotFound.
"""

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from booking.services.errors import NotFound


def sign_ids(salt: str, *ids: int) -> str:
    """A URL-safe token naming these ids."""
    return URLSafeSerializer(current_app.secret_key, salt=salt).dumps(list(ids))


def read_ids(salt: str, token: str, count: int, message: str) -> tuple[int, ...]:
    """The `count` ids a token signed with `salt` names; NotFound(`message`) otherwise."""
    try:
        value = URLSafeSerializer(current_app.secret_key, salt=salt).loads(token)
    except (BadSignature, UnicodeDecodeError, ValueError) as exc:
        raise NotFound(message) from exc
    if (
        not isinstance(value, list)
        or len(value) != count
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        raise NotFound(message)
    return tuple(value)
