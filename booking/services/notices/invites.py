"""A booking's calendar invite, loaded and built for a download or a test of it."""

from booking.calendar.invite import REQUEST, build_invite, build_session_cancel
from booking.extensions import db
from booking.models import Registration, WorkshopSession
from booking.services.notices.queries import booking_data


def invite_for_registration(registration: Registration | int, method: str = REQUEST) -> str:
    """The booking's invite (REQUEST, CANCEL or PUBLISH): see `build_invite`.
    Accepts a Registration or its id."""
    db.session.flush()
    return build_invite(booking_data(registration), method)


def invite_for_session_cancel(
    session: WorkshopSession | int, registration: Registration | int
) -> str:
    """A METHOD:CANCEL for one cancelled session of a booking (same UID as its invite);
    the session must belong to the booking's workshop."""
    db.session.flush()
    session_id = session if isinstance(session, int) else session.id
    return build_session_cancel(booking_data(registration), session_id)
