"""Where a search's words are: postcodes, outward codes and place names to a point.

- UK postcodes ("E1 8AA") and outward codes ("E1") through a postcodes.io-compatible
  service at POSTCODES_API_URL; Australian postcodes ("2026") through one with the same
  answers at AU_POSTCODES_API_URL, when that is set.
- Towns and cities of the UK and Australia offline, from the GeoNames gazetteer packaged
  as `towns.json` (`town_index`); smaller places ("Wapping") through the service's
  place search (OS Open Names).

A service's answers, found or not, are kept in `place_answer`, so a repeated search
makes no call. Calls happen outside any write transaction; the answer is then stored in
a short one of its own. A service that does not answer properly is left alone for a
little while, and the search carries on as a text search with a message saying so.
"""

import functools
import http.client
import json
import math
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from booking.db import in_write_transaction, write_transaction
from booking.extensions import db
from booking.models import PlaceAnswer, utcnow
from booking.services.catalogue import town_index
from booking.services.schedule import fields as rules

UK_POSTCODE = "uk-postcode"
UK_OUTCODE = "uk-outcode"
AU_POSTCODE = "au-postcode"
PLACE = "place"

UK_POSTCODE_RE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})$")
UK_OUTCODE_RE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")
AU_POSTCODE_RE = re.compile(r"^[0-9]{4}$")
# A place name: letters (any script), spaces, hyphens, apostrophes and full stops.
PLACE_RE = re.compile(r"^[^\W\d_](?:[^\W\d_]|[ '’.-]){1,59}$")

TIMEOUT_SECONDS = 2.0
MAX_ANSWER_BYTES = 256 * 1024
RETRY_AFTER_SECONDS = 30.0  # how long a service that failed is left alone
FOUND_KEPT = timedelta(days=30)
NOT_FOUND_KEPT = timedelta(days=1)
USER_AGENT = "BabyMassageClasses/1.0 (class search)"
GAZETTEER_COUNTRIES = town_index.COUNTRIES
MAX_PLACE_WORDS = 3

UNREACHABLE_MESSAGE = "We couldn't look up places just now, so this is a text search."
BUDGET_SPENT_MESSAGE = (
    "You have looked up many new places in a short time, so this is a text search for now."
)
NO_AU_SERVICE_MESSAGE = (
    "We can't look up Australian postcodes here yet, so this is a text search."
)


@dataclass(frozen=True)
class Place:
    """A point a search's words name."""

    label: str
    kind: str
    country: str | None
    latitude: float
    longitude: float


@dataclass(frozen=True)
class Lookup:
    """What looking the words up gave: a place, or why they are searched as text."""

    place: Place | None = None
    message: str | None = None


class Unreachable(Exception):
    """The service did not answer, or not in a way that could be understood."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer not understood (it could lead anywhere)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)
_down_until: dict[str, float] = {}
_down_lock = threading.Lock()


def country_from_languages(languages) -> str | None:
    """The searcher's country from the browser's languages, best first: the region of
    the first tag that has one, when it is GB or AU ("en-GB" -> "GB")."""
    for tag in languages:
        parts = str(tag).replace("_", "-").split("-")
        if len(parts) > 1 and len(parts[1]) == 2:
            region = {"UK": "GB"}.get(parts[1].upper(), parts[1].upper())
            return region if region in GAZETTEER_COUNTRIES else None
    return None


def postcode_area(place: Place) -> str | None:
    """The postcode area a postcode place lies in, as centres' postcodes are written
    without spaces: a UK postcode's outward code ("E1" for "E1 8AA"), a UK outward code
    itself, or an Australian postcode; None for a place found by name."""
    if place.kind == UK_POSTCODE:
        return place.label.split()[0]
    if place.kind in (UK_OUTCODE, AU_POSTCODE):
        return place.label.replace(" ", "")
    return None


def is_postcode(q: str) -> bool:
    """Whether the words are a UK postcode or outward code, or an Australian postcode."""
    text = " ".join(q.split()).upper()
    return bool(
        UK_POSTCODE_RE.match(text) or UK_OUTCODE_RE.match(text) or AU_POSTCODE_RE.match(text)
    )


@functools.cache
def _towns() -> dict[str, list[town_index.Town]]:
    """The UK's and Australia's towns by name, most populous first (read once)."""
    return town_index.load()


def gazetteer_town(name: str, prefer: str | None = None) -> Place | None:
    """A UK or Australian town called `name` (any case): in the preferred country when
    both have one (the UK unless `prefer` is "AU"), the most populous of that name."""
    towns = _towns().get(town_index.name_key(name))
    if not towns:
        return None
    first = prefer if prefer in GAZETTEER_COUNTRIES else "GB"
    _, country, label, lat, lon = min(towns, key=lambda t: (t[1] != first, -t[0]))
    return Place(label=label, kind=PLACE, country=country, latitude=lat, longitude=lon)


def _point(answer: dict) -> tuple[float, float] | None:
    try:
        lat, lon = float(answer["latitude"]), float(answer["longitude"])
    except (KeyError, TypeError, ValueError, OverflowError):
        return None
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return lat, lon


def _get_json(base: str, path: str):
    """The `result` of a service's JSON answer; None when the service says 404."""
    with _down_lock:
        if _down_until.get(base, 0) > time.monotonic():
            raise Unreachable(base)
    if not base.startswith(("https://", "http://")):
        raise Unreachable("the service's address must be http(s)")
    if db.session().in_transaction() and not in_write_transaction():
        db.session.rollback()  # no database transaction stays open across the call
    request = urllib.request.Request(
        base.rstrip("/") + path, headers={"User-Agent": USER_AGENT, "Accept": "application/json"}
    )
    try:
        try:
            with _OPENER.open(request, timeout=TIMEOUT_SECONDS) as response:
                body = response.read(MAX_ANSWER_BYTES + 1)
        except urllib.error.HTTPError as exc:
            exc.close()
            if exc.code == 404:
                return None
            raise Unreachable(f"HTTP {exc.code}") from exc
        except (OSError, ValueError, http.client.HTTPException) as exc:
            raise Unreachable(str(exc)) from exc
        if len(body) > MAX_ANSWER_BYTES:
            raise Unreachable("answer too long")
        try:
            data = json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise Unreachable("not JSON") from exc
        if not isinstance(data, dict) or "result" not in data:
            raise Unreachable("unexpected answer")
        return data["result"]
    except Unreachable:
        with _down_lock:
            _down_until[base] = time.monotonic() + RETRY_AFTER_SECONDS
        raise


def _cached(key: str) -> PlaceAnswer | None:
    row = db.session.scalar(sa.select(PlaceAnswer).where(PlaceAnswer.key == key))
    if row is None:
        return None
    kept = FOUND_KEPT if row.found else NOT_FOUND_KEPT
    return row if row.fetched_at > utcnow() - kept else None


def purge_place_answers() -> int:
    """Delete the answers too old to be used again (purge-expired); how many."""
    with write_transaction():
        return db.session.execute(
            sa.delete(PlaceAnswer).where(PlaceAnswer.fetched_at < utcnow() - FOUND_KEPT)
        ).rowcount


def _remember(key: str, kind: str, label: str, country: str | None, point) -> None:
    """Store an answer in its own short write transaction (a racing twin is fine)."""
    lat, lon = point if point else (None, None)
    try:
        with write_transaction():
            row = db.session.scalar(sa.select(PlaceAnswer).where(PlaceAnswer.key == key))
            if row is None:
                row = PlaceAnswer(key=key, kind=kind)
                db.session.add(row)
            row.label, row.country = label[:200], country
            row.latitude, row.longitude, row.fetched_at = lat, lon, utcnow()
    except sa.exc.IntegrityError:
        pass  # another request stored the same answer first
    except (sa.exc.SQLAlchemyError, UnicodeError) as exc:  # a busy database, say: the
        # answer is just not kept
        current_app.logger.warning("place answer not kept: %s", type(exc).__name__)


def _ask(kind: str, base: str, path: str, key: str, label: str, country: str, pick,
         may_ask=None) -> Lookup:
    """A service's answer through the cache: `pick(result)` gives (label, point) or None.
    A cache miss asks the service only if `may_ask()` allows it (the searcher's budget)."""
    row = _cached(key)
    if row is not None:
        if not row.found:
            return Lookup()
        return Lookup(Place(row.label, row.kind, row.country, row.latitude, row.longitude))
    if may_ask is not None and not may_ask():
        return Lookup(message=BUDGET_SPENT_MESSAGE)
    try:
        result = _get_json(base, path)
    except Unreachable as exc:
        current_app.logger.warning("place lookup (%s) failed: %s", kind, exc)
        return Lookup(message=UNREACHABLE_MESSAGE)
    picked = pick(result) if result is not None else None
    if picked is None:
        _remember(key, kind, label, country, None)
        return Lookup()
    label, (lat, lon) = picked
    _remember(key, kind, label, country, (lat, lon))
    return Lookup(Place(label[:200], kind, country, lat, lon))


def _code_answer(label: str):
    def pick(result):
        point = _point(result) if isinstance(result, dict) else None
        return (label, point) if point else None

    return pick


def _place_answer(name: str):
    def pick(result):
        if not isinstance(result, list):
            return None
        for entry in result[:5]:
            if not isinstance(entry, dict):
                continue
            given = [entry.get(k) for k in ("name_1", "name_2") if entry.get(k)]
            names = [n for n in map(_clean_name, given) if n]
            if given and not names:
                continue  # names that are not text to show: not a place we can name
            key = town_index.name_key(name)
            if names and key not in {town_index.name_key(n) for n in names}:
                continue  # only the place of that very name, not one that resembles it
            point = _point(entry)
            if point:
                return (names[0] if names else name), point
        return None

    return pick


def _clean_name(value) -> str | None:
    """A place name from the service as text we can show and keep, or None for one
    that is missing or is not one line of readable characters."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return rules.text(value, label="Place", limit=200)
    except rules.FieldError:
        return None


def find_place(q: str, languages=(), *, known_name=None, may_ask=None) -> Lookup:
    """The place a search's words name, if they name one, or why they are searched as
    text. Makes network calls: never call it inside a write transaction.

    Words that are neither a postcode nor a town and for which `known_name(text)` is
    true (a class's or centre's own name, say) are searched as text without a lookup.
    `may_ask()`, when given, is asked before each call the cache cannot spare."""
    text = " ".join(q.split())
    upper = text.upper()
    config = current_app.config
    uk_base = config.get("POSTCODES_API_URL") or ""
    if match := UK_POSTCODE_RE.match(upper):
        compact = match[1] + match[2]
        label = f"{match[1]} {match[2]}"
        path = "/postcodes/" + urllib.parse.quote(compact)
        key = f"{UK_POSTCODE}:{compact}"
        return _ask(UK_POSTCODE, uk_base, path, key, label, "GB", _code_answer(label), may_ask)
    if UK_OUTCODE_RE.match(upper):
        path = "/outcodes/" + urllib.parse.quote(upper)
        key = f"{UK_OUTCODE}:{upper}"
        return _ask(UK_OUTCODE, uk_base, path, key, upper, "GB", _code_answer(upper), may_ask)
    if AU_POSTCODE_RE.match(text):
        au_base = config.get("AU_POSTCODES_API_URL")
        if not au_base:
            return Lookup(message=NO_AU_SERVICE_MESSAGE)
        key = f"{AU_POSTCODE}:{text}"
        return _ask(AU_POSTCODE, au_base, "/postcodes/" + text, key, text, "AU",
                    _code_answer(text), may_ask)
    if not PLACE_RE.match(text):
        return Lookup()
    town = gazetteer_town(text, country_from_languages(languages))
    if town:
        return Lookup(town)
    if known_name and known_name(text):
        return Lookup()
    if country_from_languages(languages) == "AU" or len(text.split()) > MAX_PLACE_WORDS:
        # The service's place search knows Great Britain only; long phrases are not places.
        return Lookup()
    name = town_index.name_key(text)
    path = "/places?" + urllib.parse.urlencode({"q": text, "limit": 1})
    return _ask(PLACE, uk_base, path, f"{PLACE}:{name}"[:120], text, "GB", _place_answer(text),
                may_ask)
