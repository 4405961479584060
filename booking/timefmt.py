"""Times shown in a centre's own zone, with the zone named (rule 9)."""

from datetime import UTC, date, datetime
from functools import lru_cache
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


# Names the zone database holds that are not a place's time: the server's own setting
# ("localtime") and placeholders.
_NOT_PLACES = frozenset({"localtime", "Factory", "posixrules"})


def _zones() -> set[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = available_timezones() - _NOT_PLACES
    return _ZONES


def to_local(instant: datetime, tz_name: str) -> datetime:
    """An aware UTC instant in the named zone."""
    return instant.astimezone(ZoneInfo(tz_name))


def local_to_utc(naive_local: datetime, tz_name: str) -> datetime:
    """A wall-clock time in a centre's zone as an aware UTC instant.

    The one conversion forms, the API and the schedule import share. A time in a
    spring-forward gap does not exist on the centre's clocks and is moved forward by
    the length of the gap, as the clocks are (01:30 on the last Sunday of March in
    London is 02:30 BST). A time in the autumn's repeated hour takes its first
    occurrence, still on daylight time (01:30 on the last Sunday of October in London
    is 01:30 BST, not GMT), unless the time was read from an instant (`to_local`, an
    API time with its offset) that was the second: that one keeps `fold=1`.
    """
    # PEP 495: with fold=0 (every time typed or parsed, and any time worked out from
    # another) a repeated time takes its earlier offset, and a time in a gap is read
    # with the offset in force before the gap, which lands the instant the gap's
    # length later on the clock after it: exactly "moved forward". Only `to_local` of
    # the repeated hour's second instant gives fold=1, and that instant is kept.
    return naive_local.replace(tzinfo=ZoneInfo(tz_name)).astimezone(UTC)


def zone_abbrev(instant: datetime, tz_name: str) -> str:
    """The zone's abbreviation at that instant, such as GMT, BST or AEDT."""
    return to_local(instant, tz_name).tzname() or tz_name


def format_time_range(
    starts: datetime, ends: datetime, tz_name: str, with_day: bool = False
) -> str:
    """'10:00\u201311:00 GMT' ('Tue 1 Dec 2026, 10:00\u201311:00 GMT' `with_day`); each
    end with its own zone when the clocks change between them ('01:30 EDT\u201301:30
    EST': an hour, not none)."""
    start_zone, end_zone = zone_abbrev(starts, tz_name), zone_abbrev(ends, tz_name)
    start = (format_local(starts, tz_name, with_zone=False) if with_day
             else format_local_time(starts, tz_name))
    end = format_local_time(ends, tz_name)
    if start_zone != end_zone:
        return f"{start} {start_zone}\u2013{end} {end_zone}"
    return f"{start}\u2013{end} {start_zone}"


def format_end_time(ends: datetime, starts: datetime, tz_name: str) -> str:
    """A session's end as written after its start ("10:00 GMT to 11:00"): the time, with
    its zone when the clocks changed since the start ("01:00 BST to 01:00 GMT": an hour,
    not none)."""
    end = format_local_time(ends, tz_name)
    end_zone = zone_abbrev(ends, tz_name)
    return f"{end} {end_zone}" if end_zone != zone_abbrev(starts, tz_name) else end


# The formatters are pure functions of their arguments, and a page shows the same few
# hundred class times again and again: each answer is kept (babel's formatting is the
# dearest part of a listing's template).
@lru_cache(maxsize=8192)
def format_local(instant: datetime | None, tz_name: str, with_zone: bool = True) -> str:
    """'Tue 1 Dec 2026, 10:00 GMT' in the centre's zone."""
    if instant is None:
        return ""
    local = to_local(instant, tz_name)
    text = format_datetime(local, "EEE d MMM y, HH:mm", tzinfo=local.tzinfo, locale=LOCALE)
    return f"{text} {local.tzname()}" if with_zone else text


@lru_cache(maxsize=4096)
def format_local_date(instant: datetime | None, tz_name: str) -> str:
    """'Tuesday 1 December 2026' in the centre's zone."""
    if instant is None:
        return ""
    return format_date(to_local(instant, tz_name).date(), "EEEE d MMMM y", locale=LOCALE)


@lru_cache(maxsize=4096)
def format_local_time(instant: datetime | None, tz_name: str) -> str:
    """'10:00' in the centre's zone."""
    if instant is None:
        return ""
    local = to_local(instant, tz_name)
    return format_time(local, "HH:mm", tzinfo=local.tzinfo, locale=LOCALE)


@lru_cache(maxsize=4096)
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
