"""Times shown in a centre's own zone, with the zone named (rule 9)."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel.dates import format_date, format_datetime, format_time

LOCALE = "en_GB"


def is_valid_timezone(name: str) -> bool:
    """True for an IANA zone name this system knows."""
    if not name or name not in _zones():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


_ZONES: set[str] | None = None


def _zones() -> set[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = available_timezones()
    return _ZONES


def to_local(instant: datetime, tz_name: str) -> datetime:
    """An aware UTC instant in the named zone."""
    return instant.astimezone(ZoneInfo(tz_name))


def local_to_utc(naive_local: datetime, tz_name: str) -> datetime:
    """A wall-clock time in a zone as an aware UTC instant.

    Times that fall in a daylight-saving gap are moved forward, as clocks do;
    ambiguous times take their first occurrence.
    """
    tz = ZoneInfo(tz_name)
    aware = naive_local.replace(tzinfo=tz, fold=0)
    utc = aware.astimezone(UTC)
    roundtrip = utc.astimezone(tz).replace(tzinfo=None)
    if roundtrip != naive_local:  # in a gap: use the post-transition offset
        utc = naive_local.replace(tzinfo=tz, fold=1).astimezone(UTC)
    return utc


def zone_abbrev(instant: datetime, tz_name: str) -> str:
    """The zone's abbreviation at that instant, such as GMT, BST or AEDT."""
    return to_local(instant, tz_name).tzname() or tz_name


def format_local(instant: datetime | None, tz_name: str, with_zone: bool = True) -> str:
    """'Tue 1 Dec 2026, 10:00 GMT' in the centre's zone."""
    if instant is None:
        return ""
    local = to_local(instant, tz_name)
    text = format_datetime(local, "EEE d MMM y, HH:mm", tzinfo=local.tzinfo, locale=LOCALE)
    return f"{text} {local.tzname()}" if with_zone else text


def format_local_date(instant: datetime | None, tz_name: str) -> str:
    """'Tuesday 1 December 2026' in the centre's zone."""
    if instant is None:
        return ""
    return format_date(to_local(instant, tz_name).date(), "EEEE d MMMM y", locale=LOCALE)


def format_local_time(instant: datetime | None, tz_name: str) -> str:
    """'10:00' in the centre's zone."""
    if instant is None:
        return ""
    local = to_local(instant, tz_name)
    return format_time(local, "HH:mm", tzinfo=local.tzinfo, locale=LOCALE)


def format_day(day: date | None) -> str:
    """'1 Dec 2026'."""
    if day is None:
        return ""
    return format_date(day, "d MMM y", locale=LOCALE)


def iso_local(instant: datetime | None, tz_name: str) -> str | None:
    """ISO 8601 with the centre's UTC offset, as the API shows times."""
    if instant is None:
        return None
    return to_local(instant, tz_name).isoformat()
