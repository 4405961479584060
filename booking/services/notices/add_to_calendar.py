"""A parent's confirmed bookings with their "Add to calendar" links (reads only).

The booking's calendar file holds every session; Google Calendar and Outlook on the
web take one session per link (`booking.calendar.links`).
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from booking.calendar.data import BookingData, SessionData
from booking.calendar.links import SessionLinks, booking_links, sessions_to_come
from booking.models import Registration
from booking.models.registration import CONFIRMED
from booking.services.booking.places import utc_now
from booking.services.errors import NotFound
from booking.services.notices.queries import bookings_where, loaded_booking

NOT_YOURS = "We could not find that booking in your account."


@dataclass(frozen=True)
class CalendarLinks:
    """One confirmed booking and the links of its sessions still to come."""

    booking: BookingData
    sessions: tuple[SessionLinks, ...]
    # Sessions still to come whose links are not here but on the booking's own page.
    more: int = 0

    @property
    def first(self) -> SessionLinks | None:
        """The next session, which the main buttons add."""
        return self.sessions[0] if self.sessions else None

    @property
    def later(self) -> tuple[SessionLinks, ...]:
        """The sessions after the next one, each with its own links."""
        return self.sessions[1:]

    @property
    def total(self) -> int:
        """How many sessions the class has in all."""
        return len(self.booking.workshop.sessions)


def calendar_links(
    registrations: Iterable[Registration], sessions: Mapping[int, Sequence[SessionData]]
) -> dict[int, CalendarLinks]:
    """The links of the next session of those registrations that are confirmed, by id,
    with how many more sessions are to come (a page of many bookings; each booking's own
    page, `booking_calendar`, has every week's), from what is loaded: each registration
    with its workshop (and the workshop's centre) and baby, and `sessions` by workshop
    id, as `parent_bookings` loads them. Nothing is read."""
    now = utc_now()
    found = {}
    for r in registrations:
        if r.status == CONFIRMED:
            booking = loaded_booking(r, sessions[r.workshop_id])
            to_come = sessions_to_come(booking.workshop, now)
            links = booking_links(booking, now, to_come[:1])
            found[r.id] = CalendarLinks(booking, links, len(to_come) - len(links))
    return found


def own_booking(parent_id: int, registration_id: int) -> BookingData:
    """One of the parent's bookings, whatever its status; NotFound for anyone else's."""
    found = bookings_where(
        Registration.id == registration_id, Registration.parent_id == parent_id
    )
    if not found:
        raise NotFound(NOT_YOURS)
    return found[0]


def booking_calendar(booking: BookingData) -> CalendarLinks:
    """A loaded booking's links (none unless it is confirmed)."""
    if booking.status != CONFIRMED:
        return CalendarLinks(booking, ())
    return CalendarLinks(booking, booking_links(booking, utc_now()))
