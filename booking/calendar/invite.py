"""Booking invites (iTIP, RFC 5546): METHOD:REQUEST, METHOD:CANCEL and a PUBLISH download.

Each one keeps to RFC 5546's table for its METHOD (as libical checks it): every event
has exactly one ORGANIZER, the centre, in all three; the parent is the ATTENDEE of a
REQUEST or CANCEL and never of a PUBLISH; a REQUEST carries only sessions that still
take place (STATUS may only be CONFIRMED there), a cancelled session being withdrawn
by its own CANCEL.

Invite events carry a UID of their own per booking and session
(`session-<id>-registration-<id>@host`): a parent who cancels and books again gets
a fresh UID rather than a REQUEST that calendars would ignore because they already
hold a CANCEL with a higher SEQUENCE, and an imported invite never collides with
the same session arriving through a subscribed feed. The SEQUENCE is the session's
revision plus the booking's invite_sequence, so every change outranks the last.
"""

from datetime import UTC, datetime
from email.utils import parseaddr

from flask import current_app

from booking.calendar.build import (
    base_url,
    cal_address,
    calendar_host,
    new_calendar,
    session_event,
    session_summary,
    to_text,
)
from booking.calendar.data import (
    BookingData,
    CentreData,
    MakeupData,
    SessionData,
    WorkshopData,
)
from booking.models.registration import CANCELLED
from booking.models.workshop import CANCELLED as WORKSHOP_CANCELLED

REQUEST = "REQUEST"
CANCEL = "CANCEL"
PUBLISH = "PUBLISH"
METHODS = (REQUEST, CANCEL, PUBLISH)


def invite_uid(session_id: int, registration_id: int) -> str:
    """The UID of one session in one booking's invites; it never changes."""
    return f"session-{session_id}-registration-{registration_id}@{calendar_host()}"


def _address(text: str | None) -> str:
    """A bare email address from the text, or "" when it holds none."""
    _, address = parseaddr(text or "")
    return address if "@" in address and not any(c.isspace() for c in address) else ""


def _organizer(centre: CentreData):
    """The centre as ORGANIZER: its contact email, else the site's sender address."""
    address = (
        _address(centre.contact_email)
        or _address(current_app.config["MAIL_DEFAULT_SENDER"])
        or f"bookings@{calendar_host()}"
    )
    return cal_address(address, centre.name)


def _attendee(booking: BookingData | MakeupData, method: str):
    parent = booking.parent
    if parent is None:
        return None
    params = {"cutype": "INDIVIDUAL", "role": "REQ-PARTICIPANT", "rsvp": "FALSE"}
    if method != CANCEL:
        params["partstat"] = "ACCEPTED"
    return cal_address(parent.email, parent.name, **params)


def _stamp(booking: BookingData, session: SessionData, method: str):
    """DTSTAMP. For an emailed REQUEST or CANCEL, when it is written (RFC 5545 3.8.7.2:
    with a METHOD, when the iCalendar object was created): an update whose SEQUENCE did
    not move (a session added renames the others' "week 1 of 5") is then still newer
    than the last, where an equal DTSTAMP let calendars ignore it (RFC 5546 2.1.5). For
    a PUBLISH download, the latest moment this booking's view of the session changed,
    so the same data gives the same file."""
    moments = [
        session.updated_at,
        booking.created_at,
        booking.confirmed_at,
        booking.cancelled_at,
    ]
    if method != PUBLISH:
        moments.append(datetime.now(UTC).replace(microsecond=0))
    return max(m for m in moments if m is not None)


def _summary(booking: BookingData, default: str) -> str:
    if booking.baby is not None:
        return f"{default} ({booking.baby.name})"
    return default


def _build(booking: BookingData, sessions, method: str, cancel_all: bool) -> str:
    workshop = booking.workshop
    centre = workshop.centre
    total = len(workshop.sessions)
    cal = new_calendar(
        f"{workshop.title} at {centre.name}",
        f"Your booking for {workshop.title}. Details: {base_url()}/account/bookings",
        method=method,
    )
    for session in sessions:
        _add_event(
            cal, booking, session, workshop, method,
            uid=invite_uid(session.id, booking.id),
            sequence=session.revision + booking.invite_sequence,
            stamp=_stamp(booking, session, method),
            summary=_summary(booking, session_summary(workshop, session, total)),
            # A week the family said they will miss is withdrawn from their calendar.
            cancelled=cancel_all or session.id in booking.missed,
        )
    return to_text(cal)


def _add_event(cal, whose: BookingData | MakeupData, session: SessionData,
               workshop: WorkshopData, method: str, **values) -> None:
    """One session's event in an invite, the centre its ORGANIZER and, but in a PUBLISH,
    the parent (of `whose`: a booking or a make-up) its ATTENDEE."""
    event = session_event(session, workshop, workshop.centre,
                          total=len(workshop.sessions), **values)
    event.add("organizer", _organizer(workshop.centre))
    if method != PUBLISH:
        attendee = _attendee(whose, method)
        if attendee is not None:
            event.add("attendee", attendee)
    cal.add_component(event)


def build_invite(booking: BookingData, method: str = REQUEST) -> str:
    """The booking's invite: one VEVENT per session of its workshop.

    `method` is REQUEST (the booking stands: the sessions still taking place that have
    not begun, so an update never rewrites a week gone by or under way, say with a
    centre's new address, which changes only the sessions to come; every one, should
    all have begun; a
    cancelled one, or one the family said they will miss, was withdrawn by its own
    CANCEL), CANCEL (the booking is
    cancelled: every event CANCELLED) or PUBLISH (a plain download of every
    session, cancelled ones shown CANCELLED, with the centre as ORGANIZER and no
    ATTENDEE). A REQUEST for a cancelled booking, or with no session left, is sent
    as a CANCEL, so a calendar never re-adds it.
    """
    method = method.upper()
    if method not in METHODS:
        raise ValueError(f"unknown iTIP method {method!r}")
    workshop = booking.workshop
    sessions = workshop.sessions
    if method == REQUEST:
        # Weeks the family said they will miss were withdrawn by their own CANCEL.
        live = [s for s in sessions if not s.is_cancelled and s.id not in booking.missed]
        if booking.status == CANCELLED or workshop.status == WORKSHOP_CANCELLED or not live:
            method = CANCEL
        else:
            now = datetime.now(UTC)
            sessions = [s for s in live if s.starts_at > now] or live
    if method == CANCEL:
        sessions = _withdrawn(booking, sessions)
    return _build(booking, sessions, method, cancel_all=method == CANCEL)


def _withdrawn(booking: BookingData, sessions):
    """The sessions a cancelled booking takes out of the calendar: those that had not
    begun when it was cancelled. A family leaving part-way keeps the weeks they came
    to (every session, should none be left)."""
    ended = booking.cancelled_at
    if booking.status != CANCELLED or ended is None:
        return sessions
    return [s for s in sessions if s.starts_at >= ended] or sessions


def build_session_cancel(booking: BookingData, session_id: int) -> str:
    """A METHOD:CANCEL for one cancelled session of a booking (same UID as its invite)."""
    session = booking.workshop.session(session_id)
    if session is None:
        raise LookupError(f"session {session_id} is not part of registration {booking.id}")
    return _build(booking, [session], CANCEL, cancel_all=True)


def makeup_uid(makeup: MakeupData) -> str:
    """The UID of a make-up session's invites; it never changes. A make-up booked again
    is a new booking with a new UID, as a booking cancelled and made again is (its key
    holds when it was made: SQLite may give it the id of one cancelled)."""
    return f"makeup-{makeup.key}@{calendar_host()}"


def build_makeup_invite(makeup: MakeupData, workshop: WorkshopData, session: SessionData,
                        method: str = REQUEST) -> str:
    """A make-up session's invite: REQUEST while it stands (its SEQUENCE the session's
    revision plus the make-up's invite_sequence, so a change of time or room, or an
    update for the class's weeks renumbered, outranks it), CANCEL when it is cancelled
    (by the parent, or with its session or class), one more, so it outranks the last
    REQUEST."""
    method = method.upper()
    if method not in (REQUEST, CANCEL):
        raise ValueError(f"unknown iTIP method for a make-up {method!r}")
    if makeup.id is None:
        raise ValueError("a make-up invite needs the make-up's id")
    if session.is_cancelled or workshop.status == WORKSHOP_CANCELLED:
        method = CANCEL
    centre = workshop.centre
    total = len(workshop.sessions)
    cal = new_calendar(
        f"Make-up: {workshop.title} at {centre.name}",
        f"Your make-up session in {workshop.title}. Details: {base_url()}/account/bookings",
        method=method,
    )
    now = datetime.now(UTC).replace(microsecond=0)
    _add_event(
        cal, makeup, session, workshop, method,
        uid=makeup_uid(makeup),
        sequence=session.revision + makeup.invite_sequence + (1 if method == CANCEL else 0),
        stamp=max(now, session.updated_at) if session.updated_at else now,
        summary=f"Make-up: {session_summary(workshop, session, total)} ({makeup.baby_name})",
        cancelled=method == CANCEL,
    )
    return to_text(cal)
