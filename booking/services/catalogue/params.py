"""The catalogue's search parameters: read from a query string, checked, explained.

Shared by the /classes page and the JSON API so that both accept exactly the same
filters and refuse bad ones with the same messages, naming the parameter.
"""

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import date
from functools import lru_cache

from babel import Locale

from booking.services.errors import DomainError
from booking.topics import TOPICS_BY_SLUG

PER_PAGE = 20
MAX_PER_PAGE = 100
MAX_PAGE = 10_000
MAX_Q_LENGTH = 100
MAX_AGE_WEEKS = 156
DEFAULT_RADIUS_KM = 25.0
MAX_RADIUS_KM = 500.0
MAX_ID = 2**31 - 1

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
COUNTRY_RE = re.compile(r"^[A-Za-z]{2}$")
ALL_COUNTRIES = "all"
# Codes as people write them that ISO 3166 spells otherwise.
COUNTRY_ALIASES = {"UK": "GB"}
INT_RE = re.compile(r"^[+-]?[0-9]{1,12}$")
# A decimal number as typed: ASCII digits, no exponent (float() would also take other
# scripts' digits, underscores, "nan" and "1e3").
NUMBER_RE = re.compile(r"^[+-]?(?:[0-9]{1,12}(?:\.[0-9]{0,15})?|\.[0-9]{1,15})$")

# Every parameter the search understands, in the order errors are reported.
PARAMETERS = (
    "q",
    "age_weeks",
    "date_from",
    "date_to",
    "lat",
    "lon",
    "radius_km",
    "centre",
    "instructor",
    "topic",
    "country",
    "page",
    "per_page",
)


class InvalidQuery(DomainError):
    """A query-string parameter that cannot be understood (400)."""

    status = 400
    code = "invalid_parameter"


@dataclass(frozen=True)
class SearchParams:
    """A checked catalogue search. Empty parameters are None."""

    q: str | None = None
    age_weeks: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    lat: float | None = None
    lon: float | None = None
    radius_km: float | None = None
    centre: str | None = None
    instructor: int | None = None
    topic: str | None = None
    country: str | None = None  # a two-letter code, or ALL_COUNTRIES
    page: int = 1
    per_page: int = PER_PAGE

    @property
    def near(self) -> bool:
        """True when searching by distance from a point."""
        return self.lat is not None and self.lon is not None

    @property
    def counts_days(self) -> bool:
        """True when the answer depends on today's date in the centres' zones: a search
        by the baby's age (weeks from today) or by dates."""
        return self.age_weeks is not None or bool(self.date_from or self.date_to)

    def query_args(self, **overrides) -> dict:
        """The parameters as a query string carries them, in a fixed order (for links).

        Overrides replace values; an override of None drops the parameter.
        """
        args = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "page" and value == 1:
                continue
            if f.name == "per_page" and value == PER_PAGE:
                continue
            if value is None:
                continue
            if isinstance(value, date):
                value = value.isoformat()
            elif isinstance(value, float):
                value = f"{value:g}"
            args[f.name] = value
        args.update(overrides)
        return {k: args[k] for k in PARAMETERS if args.get(k) is not None}

    def with_page(self, page: int) -> "SearchParams":
        """The same search on another page."""
        return replace(self, page=page)


def _text(args: Mapping, name: str) -> str | None:
    raw = args.get(name)
    if raw is None:
        return None
    raw = str(raw).strip()
    return raw or None


# Digits beyond INT_RE's twelve: a whole number, too large for any parameter.
_LONG_INT_RE = re.compile(r"^[+-]?[0-9]{13,}$")


def _int(raw: str, name: str, label: str, low: int, high: int, errors: dict) -> int | None:
    if _LONG_INT_RE.match(raw):
        errors[name] = f"{label} must be between {low} and {high}."
        return None
    if not INT_RE.match(raw):
        errors[name] = f"{label} must be a whole number."
        return None
    value = int(raw)
    if value < low or value > high:
        errors[name] = f"{label} must be between {low} and {high}."
        return None
    return value


def _float(raw: str, name: str, label: str, low: float, high: float, errors: dict):
    if not NUMBER_RE.match(raw):
        errors[name] = f"{label} must be a number."
        return None
    value = float(raw)
    if not math.isfinite(value) or value < low or value > high:
        errors[name] = f"{label} must be a number between {low:g} and {high:g}."
        return None
    return value


# Searchable dates: wide enough for any class, narrow enough for date arithmetic.
FIRST_DATE = date(1970, 1, 1)
LAST_DATE = date(2999, 12, 31)


def parse_date(raw: str, name: str, label: str, errors: dict) -> date | None:
    """A YYYY-MM-DD date within FIRST_DATE..LAST_DATE, or None with errors[name] set."""
    try:
        if not DATE_RE.match(raw):
            raise ValueError
        value = date.fromisoformat(raw)
    except ValueError:
        errors[name] = f"{label} must be a real date written as YYYY-MM-DD, such as 2026-03-01."
        return None
    if not FIRST_DATE <= value <= LAST_DATE:
        errors[name] = (
            f"{label} must be between {FIRST_DATE.isoformat()} and {LAST_DATE.isoformat()}."
        )
        return None
    return value


@lru_cache(maxsize=1)
def _countries() -> frozenset[str]:
    """The two-letter country codes (ISO 3166), from Babel's territory names."""
    return frozenset(
        code for code in Locale("en").territories if len(code) == 2 and code != "ZZ"
    )


def country_codes() -> tuple[str, ...]:
    """Every code `country` takes besides 'all', in capitals (either case is taken): the
    two-letter codes of ISO 3166 and the aliases people write ("UK"). The API document
    lists these, so it admits exactly the codes parse_search accepts."""
    return tuple(sorted(_countries() | COUNTRY_ALIASES.keys()))


def _country_code(raw: str) -> str | None:
    """The country code asked for ("UK", as people write it, is GB), or None when it
    names no country ("ZZ", "XX")."""
    code = raw.upper()
    code = COUNTRY_ALIASES.get(code, code)
    return code if code in _countries() else None


def parse_search(args: Mapping, *, allow_per_page: bool = False) -> SearchParams:
    """Check a query string's search parameters.

    Raises InvalidQuery (400) naming every bad parameter in `fields`; unknown
    parameters are ignored. `per_page` is accepted only where `allow_per_page`.
    """
    errors: dict[str, str] = {}
    values: dict = {}

    q = _text(args, "q")
    if q is not None:
        if len(q) > MAX_Q_LENGTH:
            errors["q"] = f"The search text (q) must be at most {MAX_Q_LENGTH} characters."
        elif any(ord(ch) < 32 for ch in q):
            errors["q"] = "The search text (q) contains characters that cannot be searched for."
        else:
            values["q"] = " ".join(q.split())

    raw = _text(args, "age_weeks")
    if raw is not None:
        values["age_weeks"] = _int(
            raw, "age_weeks", "Baby's age in weeks (age_weeks)", 0, MAX_AGE_WEEKS, errors
        )

    for name, label in (("date_from", "From date (date_from)"), ("date_to", "To date (date_to)")):
        raw = _text(args, name)
        if raw is not None:
            values[name] = parse_date(raw, name, label, errors)
    if values.get("date_from") and values.get("date_to"):
        if values["date_to"] < values["date_from"]:
            errors["date_to"] = "To date (date_to) must not be before the from date (date_from)."

    raw_lat, raw_lon = _text(args, "lat"), _text(args, "lon")
    if raw_lat is not None:
        values["lat"] = _float(raw_lat, "lat", "Latitude (lat)", -90, 90, errors)
    if raw_lon is not None:
        values["lon"] = _float(raw_lon, "lon", "Longitude (lon)", -180, 180, errors)
    if raw_lat is not None and raw_lon is None:
        errors["lon"] = "Longitude (lon) is needed together with latitude (lat)."
    if raw_lon is not None and raw_lat is None:
        errors["lat"] = "Latitude (lat) is needed together with longitude (lon)."
    raw = _text(args, "radius_km")
    if raw is not None:  # without a point (lat/lon or a place in q) it is not used
        values["radius_km"] = _float(
            raw, "radius_km", "Distance in km (radius_km)", 0.1, MAX_RADIUS_KM, errors
        )
    elif raw_lat is not None and raw_lon is not None:
        values["radius_km"] = DEFAULT_RADIUS_KM

    raw = _text(args, "centre")
    if raw is not None:
        if SLUG_RE.match(raw):
            values["centre"] = raw
        else:
            errors["centre"] = "Centre (centre) must be a centre's short name, such as 'st-pauls'."

    raw = _text(args, "instructor")
    if raw is not None:
        values["instructor"] = _int(raw, "instructor", "Instructor (instructor)", 1, MAX_ID, errors)

    raw = _text(args, "topic")
    if raw is not None:
        if raw in TOPICS_BY_SLUG:
            values["topic"] = raw
        else:
            known = ", ".join(TOPICS_BY_SLUG)
            errors["topic"] = f"Topic (topic) must be one of: {known}."

    raw = _text(args, "country")
    if raw is not None:
        if raw.lower() == ALL_COUNTRIES:
            values["country"] = ALL_COUNTRIES
        elif COUNTRY_RE.match(raw) and _country_code(raw) is not None:
            values["country"] = _country_code(raw)
        elif COUNTRY_RE.match(raw):
            errors["country"] = (
                f"Country (country) '{raw}' is not a country code: use a two-letter ISO 3166 "
                "code, such as GB or AU, or 'all'."
            )
        else:
            errors["country"] = (
                "Country (country) must be a two-letter country code, such as GB, or 'all'."
            )

    raw = _text(args, "page")
    if raw is not None:
        values["page"] = _int(raw, "page", "Page (page)", 1, MAX_PAGE, errors)
    raw = _text(args, "per_page")
    if raw is not None and allow_per_page:
        values["per_page"] = _int(
            raw, "per_page", "Results per page (per_page)", 1, MAX_PER_PAGE, errors
        )

    if errors:
        ordered = {name: errors[name] for name in PARAMETERS if name in errors}
        message = " ".join(ordered.values())
        raise InvalidQuery(message, fields=ordered)
    return SearchParams(**{k: v for k, v in values.items() if v is not None})
