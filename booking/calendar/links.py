"""Links that add a booking's sessions to Google Calendar and Outlook on the web.

Both take one event per link, written into the address: the session's title (as the
booking's invite names it), its start and end in UTC, where it is and what to bring.
Apple Calendar, and most other apps, take the booking's calendar file instead, which
holds every session (`/account/bookings/<id>/invite.ics`); a subscription to the
private feed keeps every booking up to date by itself. Sessions that are cancelled
or over get no link. Values are percent-encoded (a space as %20, never "+", which
Outlook would show as it is); "/" and ":" stay as they are, as RFC 3986 allows in a
query.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from urllib.parse import quote, urlencode

from booking.calendar.build import session_description, session_location, session_summary
from booking.calendar.data import BookingData, SessionData, WorkshopData
from booking.models.workshop import CANCELLED

GOOGLE_EVENT = "https://calendar.google.com/calendar/render"
GOOGLE_SUBSCRIBE = "https://calendar.google.com/calendar/r"
OUTLOOK_EVENT = "https://outlook.live.com/calendar/0/action/compose"
OFFICE_EVENT = "https://outlook.office.com/calendar/0/action/compose"


@dataclass(frozen=True)
class CalendarEntry:
    """One event as the calendar services' links carry it."""

    title: str
    starts_at: datetime
    ends_at: datetime
    details: str
    location: str


@dataclass(frozen=True)
class SessionLinks:
    """One session of a booking with its links to add it to each calendar service."""

    number: int
    total: int
    starts_at: datetime
    title: str
    google: str
    outlook: str
    office: str


def _address(base: str, params: dict[str, str]) -> str:
    return f"{base}?{urlencode(params, quote_via=quote, safe='/:')}"


def _utc(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("calendar links need aware datetimes")
    return instant.astimezone(UTC)


# The links are pure functions of a (frozen, hashable) entry, and a parent's bookings
# page shows the same sessions' links on every visit: each link is kept once made.
@lru_cache(maxsize=4096)
def google_url(entry: CalendarEntry) -> str:
    """Google Calendar's "create event" page, filled in with the entry."""
    dates = "/".join(_utc(t).strftime("%Y%m%dT%H%M%SZ") for t in (entry.starts_at, entry.ends_at))
    return _address(
        GOOGLE_EVENT,
        {
            "action": "TEMPLATE",
            "text": entry.title,
            "dates": dates,
            "details": entry.details,
            "location": entry.location,
        },
    )


@lru_cache(maxsize=8192)
def outlook_url(entry: CalendarEntry, base: str = OUTLOOK_EVENT) -> str:
    """Outlook on the web's new-event page, filled in with the entry: Outlook.com by
    default, `OFFICE_EVENT` for a work or school (Microsoft 365) account."""
    return _address(
        base,
        {
            "path": "/calendar/action/compose",
            "rru": "addevent",
            "subject": entry.title,
            "startdt": _utc(entry.starts_at).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "enddt": _utc(entry.ends_at).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "body": entry.details,
            "location": entry.location,
        },
    )


def google_subscribe_url(webcal: str) -> str:
    """Google Calendar's page that subscribes to a feed (its webcal:// address)."""
    return f"{GOOGLE_SUBSCRIBE}?cid={quote(webcal, safe='')}"


def session_entry(booking: BookingData, session: SessionData) -> CalendarEntry:
    """One session of a booking as a calendar entry, named as in the booking's invite."""
    workshop = booking.workshop
    title = session_summary(workshop, session, len(workshop.sessions))
    if booking.baby is not None:
        title = f"{title} ({booking.baby.name})"
    return CalendarEntry(
        title=title,
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        details=session_description(workshop, plan_title=session.plan_title),
        location=session_location(workshop.centre, session),
    )


def sessions_to_come(workshop: WorkshopData, now: datetime) -> list[SessionData]:
    """The sessions of the workshop still to come (not cancelled, not ended), in order;
    none for a cancelled class."""
    if workshop.status == CANCELLED:
        return []
    return [s for s in workshop.sessions if not s.is_cancelled and s.ends_at > now]


def booking_links(booking: BookingData, now: datetime,
                  sessions: Sequence[SessionData] | None = None) -> tuple[SessionLinks, ...]:
    """The links of each session of the booking still to come, in order (of `sessions`
    if given, some of those); none for a cancelled class."""
    workshop = booking.workshop
    found = []
    for session in sessions_to_come(workshop, now) if sessions is None else sessions:
        entry = session_entry(booking, session)
        found.append(
            SessionLinks(
                number=session.number,
                total=len(workshop.sessions),
                starts_at=session.starts_at,
                title=entry.title,
                google=google_url(entry),
                outlook=outlook_url(entry),
                office=outlook_url(entry, OFFICE_EVENT),
            )
        )
    return tuple(found)
