"""Building blocks shared by feeds and invites: the calendar and one event per session.

Every value that could vary between two renderings of the same data (UIDs, DTSTAMP)
is passed explicitly, so unchanged data always gives byte-identical output. Sessions,
workshops and centres are read by attribute only: invites pass the plain data of
`booking.calendar.data`, feeds the rows their query loaded, with the same fields. The
icalendar library escapes TEXT values and folds lines at 75 octets on `to_ical()`.
"""

from datetime import UTC, datetime, timedelta
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


def session_uid(session_id: int) -> str:
    """The UID of a session in every feed; it never changes."""
    return f"session-{session_id}@{calendar_host()}"


def class_url(workshop_id: int) -> str:
    """The absolute address of a class page."""
    return f"{base_url()}/classes/{workshop_id}"


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
    cal.add("name", vText(name))
    cal.add("x-wr-calname", vText(name))
    if description:
        cal.add("description", vText(description))
        cal.add("x-wr-caldesc", vText(description))
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
    workshop: Workshop, extra: list[str] | None = None, plan_title: str = ""
) -> str:
    """The week's plan title first (when it has one), then what to bring, any extra
    lines, and the class page's address."""
    lines = [plan_title] if plan_title else []
    if workshop.status == CANCELLED:
        lines.append("This class has been cancelled.")
    lines.extend(extra or [])
    if workshop.what_to_bring:
        lines.append(f"What to bring: {workshop.what_to_bring}")
    lines.append(f"Class page: {class_url(workshop.id)}")
    return "\n".join(lines)


def _utc(instant: datetime) -> datetime:
    return instant.astimezone(UTC)


def session_event(
    session: WorkshopSession,
    workshop: Workshop,
    centre: Centre,
    *,
    total: int,
    uid: str,
    sequence: int,
    stamp: datetime,
    summary: str | None = None,
    extra: list[str] | None = None,
    cancelled: bool = False,
) -> Event:
    """One VEVENT for one session, with every varying value given by the caller.

    The description opens with the week's plan title (`plan_title`), so a calendar
    shows what each week teaches. Start and end are written in UTC (with Z). The
    event is CANCELLED when the session or its workshop is, or when the caller says
    so (a cancelled booking).
    """
    is_cancelled = cancelled or session.is_cancelled or workshop.status == CANCELLED
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", _utc(stamp))
    event.add("last-modified", _utc(session.updated_at))
    event.add("dtstart", _utc(session.starts_at))
    event.add("dtend", _utc(session.ends_at))
    event.add("summary", summary or session_summary(workshop, session, total))
    event.add("location", session_location(centre, session))
    event.add("description", session_description(workshop, extra, session.plan_title))
    event.add("url", class_url(workshop.id))
    event.add("sequence", sequence)
    event.add("status", "CANCELLED" if is_cancelled else "CONFIRMED")
    event.add("transp", "TRANSPARENT" if is_cancelled else "OPAQUE")
    return event


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
