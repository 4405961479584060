"""Optimistic concurrency for the staff writes: `If-Match` (RFC 9110 13.1.1).

A client that read a workshop (its GET answers a strong ETag) sends that ETag back in
`If-Match` with its change; when the workshop has changed since, the change is refused
with 412 and nothing is saved. The ETag compared is the one a GET of the workshop would
answer at that moment, worked out inside the change's transaction once the workshop is
locked, so nothing can slip in between the comparison and the change. Without the
header a write goes ahead as before.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

from flask import request
from werkzeug.http import generate_etag

from booking.services.errors import DomainError

HEADER = "If-Match"
# entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE, etagc = %x21 / %x23-7E / obs-text
_ENTITY_TAG_RE = re.compile(r'[ \t]*(W/)?"([\x21\x23-\x7e\x80-\xff]*)"[ \t]*')
_SEPARATOR_RE = re.compile(r"[ \t]*,")

CHANGED = (
    "The {thing} has changed since you read it (If-Match does not match its current "
    "ETag): read it again, then send your change again if it still stands."
)
WEAK = " Weak ETags (W/\"...\") never match If-Match; send an ETag exactly as a GET gave it."
MALFORMED = (
    'If-Match must be "*" or ETags in double quotes, separated by commas, exactly as the '
    "ETag header of a GET gives them; nothing was changed."
)


class PreconditionFailed(DomainError):
    """If-Match names no ETag of the current representation (412): nothing changed."""

    status = 412
    code = "precondition_failed"


@dataclass(frozen=True)
class IfMatch:
    """A request's If-Match, parsed: `*`, the strong ETags it lists (weak ones can never
    match), or malformed (matches nothing)."""

    any: bool = False
    strong: frozenset[str] = frozenset()
    weak_given: bool = False
    malformed: bool = False

    def require(self, current_etag: str, thing: str) -> None:
        """PreconditionFailed unless `current_etag` (unquoted) is matched."""
        if self.malformed:
            raise PreconditionFailed(MALFORMED)
        if self.any or current_etag in self.strong:
            return
        raise PreconditionFailed(CHANGED.format(thing=thing) + (WEAK if self.weak_given else ""))


def parse_if_match(value: str) -> IfMatch:
    """`*` or a comma-separated list of entity tags, as RFC 9110 writes them; anything
    else, or no tag at all, is malformed (empty list elements are skipped, as in every
    list header)."""
    if value.strip(" \t") == "*":
        return IfMatch(any=True)
    strong: set[str] = set()
    weak_given = False
    pos = 0
    while pos < len(value):
        separator = _SEPARATOR_RE.match(value, pos)
        if separator is not None:
            pos = separator.end()
            continue
        if not value[pos:].strip(" \t"):
            break
        tag = _ENTITY_TAG_RE.match(value, pos)
        if tag is None:
            return IfMatch(malformed=True)
        if tag.group(1):
            weak_given = True
        else:
            strong.add(tag.group(2))
        pos = tag.end()
        if pos < len(value) and _SEPARATOR_RE.match(value, pos) is None:
            return IfMatch(malformed=True)  # two tags without a comma between them
    if not strong and not weak_given:
        return IfMatch(malformed=True)  # an empty value names nothing to compare
    return IfMatch(strong=frozenset(strong), weak_given=weak_given)


def if_match() -> IfMatch | None:
    """The request's If-Match (several header lines count as one list), or None."""
    values = request.headers.getlist(HEADER)
    if not values:
        return None
    return parse_if_match(", ".join(values))


def etag_of(body: bytes) -> str:
    """The ETag a GET answering `body` carries (unquoted): what conventions' add_etag
    gives every GET."""
    return generate_etag(body)


def unchanged_since_read(
    thing: str, current_body: Callable[[], bytes]
) -> Callable[[], None] | None:
    """The check a write runs once it holds its lock, when the request has If-Match:
    PreconditionFailed unless the representation `current_body` gives now (what a GET
    would answer) is the one the client read. None without If-Match: no check."""
    condition = if_match()
    if condition is None:
        return None

    def check() -> None:
        condition.require(etag_of(current_body()), thing)

    return check
