"""Building blocks shared by feeds and invites: the calendar and one event per session.

Every value that could vary between two renderings of the same data (UIDs, DTSTAMP)
is passed explicitly, so unchanged data always gives byte-identical output. Sessions,
workshops and centres are read by attribute only: invites pass the plain data of
`booking.calendar.data`, feeds the rows their query loaded, with the same fields. The
icalendar library escapes TEXT values and folds lines at 75 octets on `to_ical()`;
feeds write their events with `event_text`, which does both exactly as it does.
"""

import re
from datetime import UTC, datetime, timedelta
from typing import NamedTuple
from urllib.parse import urlsplit

from flask import current_app
from icalendar import Calendar, Event, vCalAddress, vDuration, vText

from booking.models import Centre, Workshop, WorkshopSession
from booking.models.workshop import CANCELLED

PRODID = "-//Baby Massage Classes//Booking//EN"
REFRESH = timedelta(hours=1)


def base_url() -> str:
    """The site's absolute base URL (BASE_URL), without a trailing slash."""
    return current_app.config["BASE_URL"].rstrip("/")


def calendar_host() -> str:
    """The host part of BASE_URL, used as the right-hand side of every UID."""
    return urlsplit(base_url()).hostname or "localhost"


def session_uid(session_id: int, host: str | None = None) -> str:
    """The UID of a session in every feed; it never changes. `host` is
    `calendar_host()`, for a caller writing many."""
    return f"session-{session_id}@{host or calendar_host()}"


def class_url(workshop_id: int, base: str | None = None) -> str:
    """The absolute address of a class page. `base` is `base_url()`, for a caller
    writing many."""
    return f"{base or base_url()}/classes/{workshop_id}"


def new_calendar(
    name: str, description: str = "", method: str | None = None, feed: bool = False
) -> Calendar:
    """An empty VCALENDAR with PRODID, VERSION, CALSCALE, a name and, for feeds,
    the refresh hints that subscription clients read."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", method)
    cal.add("name", Text(name))
    cal.add("x-wr-calname", Text(name))
    if description:
        cal.add("description", Text(description))
        cal.add("x-wr-caldesc", Text(description))
    if feed:
        cal.add("refresh-interval", vDuration(REFRESH), parameters={"VALUE": "DURATION"})
        cal.add("x-published-ttl", vDuration(REFRESH))
    return cal


def session_summary(workshop: Workshop, session: WorkshopSession, total: int) -> str:
    """'Baby massage - week 2 of 5' for a course, the title for a single class."""
    if workshop.is_course and total > 1:
        return f"{workshop.title} - week {session.number} of {total}"
    return workshop.title


def session_location(centre: Centre, session: WorkshopSession) -> str:
    """Centre name and address, plus the room when there is one."""
    parts = [centre.name, centre.full_address]
    if session.room:
        parts.append(f"Room: {session.room}")
    return ", ".join(p for p in parts if p)


def session_description(
    workshop: Workshop, extra: list[str] | None = None, plan_title: str = "",
    page: str | None = None,
) -> str:
    """The week's plan title first (when it has one), then what to bring, any extra
    lines, and the class page's address (`page`, when the caller has it already)."""
    lines = [plan_title] if plan_title else []
    if workshop.status == CANCELLED:
        lines.append("This class has been cancelled.")
    lines.extend(extra or [])
    if workshop.what_to_bring:
        lines.append(f"What to bring: {workshop.what_to_bring}")
    lines.append(f"Class page: {page or class_url(workshop.id)}")
    return "\n".join(lines)


def _utc(instant: datetime) -> datetime:
    return instant.astimezone(UTC)


class _EventText(NamedTuple):
    """What a session's event says in words, and whether it is cancelled."""

    summary: str
    description: str
    location: str
    page: str
    cancelled: bool


def _event_text_values(
    session: WorkshopSession,
    workshop: Workshop,
    centre: Centre,
    *,
    total: int,
    summary: str | None = None,
    extra: list[str] | None = None,
    cancelled: bool = False,
    page: str | None = None,
) -> _EventText:
    """An event's words, shared by the library's component and `event_text`: the
    `summary` given, else the class's own (week `session.number` of `total` for a
    course); the description with `extra` lines; the location; the class page (`page`,
    for a caller writing many: `class_url`); and whether it is cancelled (`cancelled`
    for one booking, or the session's or workshop's own status)."""
    page = page or class_url(workshop.id)
    return _EventText(
        summary or session_summary(workshop, session, total),
        session_description(workshop, extra, session.plan_title, page),
        session_location(centre, session),
        page,
        cancelled or session.is_cancelled or workshop.status == CANCELLED,
    )


def _event_values(
    session: WorkshopSession, workshop: Workshop, centre: Centre, *, uid: str, sequence: int,
    stamp: datetime, **words,
) -> list[tuple[str, object]]:
    """A session's event properties, in the order icalendar writes a VEVENT's (its
    canonical order, then by name), so `event_text` gives the same bytes as the library.
    Every varying value is given by the caller: the `uid`, the `sequence`, the `stamp`
    (DTSTAMP) and the `words` of `_event_text_values` (`total` sessions in the class,
    and optionally `summary`, `extra` description lines and `cancelled`).

    No LAST-MODIFIED: an event's words also come from its workshop, its centre, its
    instructor and (in a private feed) the family's babies, whose changes the session's
    own time would not show, and a client that skips an event whose LAST-MODIFIED has
    not moved (ICSx5) would keep an old address or title."""
    words = _event_text_values(session, workshop, centre, **words)
    return [
        ("SUMMARY", Text(words.summary)),
        ("DTSTART", _utc(session.starts_at)),
        ("DTEND", _utc(session.ends_at)),
        ("DTSTAMP", _utc(stamp)),
        ("UID", Text(uid)),
        ("SEQUENCE", sequence),
        ("DESCRIPTION", Text(words.description)),
        ("LOCATION", Text(words.location)),
        ("STATUS", "CANCELLED" if words.cancelled else "CONFIRMED"),
        ("TRANSP", "TRANSPARENT" if words.cancelled else "OPAQUE"),
        ("URL", words.page),
    ]


def session_event(
    session: WorkshopSession, workshop: Workshop, centre: Centre, **values
) -> Event:
    """One VEVENT for one session, with every varying value given by the caller
    (`values`: see `_event_values`).

    The description opens with the week's plan title (`plan_title`), so a calendar
    shows what each week teaches. Start and end are written in UTC (with Z). The
    event is CANCELLED when the session or its workshop is, or when the caller says
    so (a cancelled booking).
    """
    event = Event()
    for name, value in _event_values(session, workshop, centre, **values):
        event.add(name, value)
    return event


def event_text(
    session: WorkshopSession, workshop: Workshop, centre: Centre, *, uid: str, sequence: int,
    stamp: datetime, **words,
) -> str:
    """`session_event`'s VEVENT as iCalendar text, byte for byte what icalendar writes
    for it (the properties of `_event_values`, in its order), without building the
    component: a feed of a few hundred sessions is written in a few milliseconds rather
    than tens. Invites, written one at a time, keep the library's component (they add
    organiser and attendees to it)."""
    words = _event_text_values(session, workshop, centre, **words)
    # Date-times are short lines in UTC (never folded); SEQUENCE, STATUS and TRANSP are
    # plain values; the text values are escaped, and every long line folded.
    return (
        f"BEGIN:VEVENT\r\n{fold_line('SUMMARY:' + escape_text(words.summary))}\r\n"
        f"DTSTART:{_utc_text(session.starts_at)}\r\nDTEND:{_utc_text(session.ends_at)}\r\n"
        f"DTSTAMP:{_utc_text(stamp)}\r\n{fold_line('UID:' + escape_text(uid))}\r\n"
        f"SEQUENCE:{sequence}\r\n{fold_line('DESCRIPTION:' + escape_text(words.description))}\r\n"
        f"{fold_line('LOCATION:' + escape_text(words.location))}\r\n"
        + ("STATUS:CANCELLED\r\nTRANSP:TRANSPARENT\r\n" if words.cancelled
           else "STATUS:CONFIRMED\r\nTRANSP:OPAQUE\r\n")
        + f"{fold_line('URL:' + words.page)}\r\nEND:VEVENT\r\n"
    )


def _utc_text(instant: datetime) -> str:
    """A date-time in UTC, to the second, as a DATE-TIME value (`_utc`)."""
    if instant.tzinfo is not UTC:
        instant = instant.astimezone(UTC)
    return UTC_FORMAT % (instant.year, instant.month, instant.day,
                         instant.hour, instant.minute, instant.second)


UTC_FORMAT = "%04d%02d%02dT%02d%02d%02dZ"  # a date-time in UTC, to the second
_SPECIAL = re.compile(r"[\\;,\r\n]")


def escape_text(text: str) -> str:
    """A TEXT value escaped as RFC 5545 3.3.11 says (a newline in any form becomes
    \\n; backslash, semicolon and comma are escaped). As icalendar escapes it, except
    that a backslash before an N stays a backslash: the library reads it as a line
    break, and a room "Block A\\North" would lose its N."""
    if not _SPECIAL.search(text):
        return text
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


class Text(vText):
    """A TEXT value written by `escape_text`, so the library's components (invites,
    calendar names) escape text as the hand-written feed does."""

    def to_ical(self) -> bytes:
        return escape_text(self).encode(self.encoding)


FOLD_OCTETS = 74  # octets of content per line: 75 with a continuation's leading space
_ESCAPES = "\\^"  # never left at the end of a folded line, as icalendar does


def fold_line(line: str) -> str:
    """A content line folded as icalendar folds it (RFC 5545 3.1): a break and a space
    before the octet that would make a line 75 octets long, never inside a UTF-8
    character, and never just after a backslash or caret (it moves to the next line)."""
    if len(line) <= FOLD_OCTETS and line.isascii():
        return line
    if line.isascii():
        parts, start, end = [], 0, len(line)
        while end - start > FOLD_OCTETS:
            cut = start + FOLD_OCTETS
            if line[cut - 1] in _ESCAPES:
                cut -= 1
            parts.append(line[start:cut])
            start = cut
        parts.append(line[start:])
        return "\r\n ".join(parts)
    parts, current, octets = [], [], 0
    for char in line:
        size = len(char.encode("utf-8"))
        if current and octets + size > FOLD_OCTETS:
            if len(current) > 1 and current[-1] in _ESCAPES:
                moved = current.pop()
                parts.append("".join(current))
                current, octets = [moved], len(moved.encode("utf-8"))
            else:
                parts.append("".join(current))
                current, octets = [], 0
        current.append(char)
        octets += size
    if current:
        parts.append("".join(current))
    return "\r\n ".join(parts)


def param_text(text: str) -> str:
    """Text safe as a parameter value: one line, no double quotes (RFC 5545 3.1)."""
    return " ".join(text.split()).replace('"', "'")


def cal_address(email: str, name: str, **params: str) -> vCalAddress:
    """A mailto: address with a common name and further parameters."""
    address = vCalAddress(f"mailto:{email}")
    if name:
        address.params["CN"] = param_text(name)
    for key, value in params.items():
        address.params[key.replace("_", "-").upper()] = value
    return address


def to_text(cal: Calendar) -> str:
    """The calendar as iCalendar text (CRLF line ends, folded)."""
    return cal.to_ical().decode("utf-8")
