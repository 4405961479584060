"""Every email about bookings, queued in the caller's write transaction.

Each function is called inside the use case's `write_transaction()`, after the change,
with ORM objects. It loads what it shows with explicit queries and writes outbox rows
through `queue_email`; nothing is sent or committed here, so an email exists if and
only if the change that caused it is committed.
"""

import sqlalchemy as sa

from booking.calendar.invite import invite_for_registration, invite_for_session_cancel
from booking.extensions import db
from booking.mail.context import (
    BookingInfo,
    WorkshopInfo,
    alternatives_for,
    booking_info,
    can_email,
    describe_session,
    load_sessions,
    workshop_info,
)
from booking.mail.outbox import queue_email
from booking.models import OutboxMessage, Registration, Workshop, WorkshopSession
from booking.models.registration import CANCELLED, CONFIRMED, WAITLISTED
from booking.services.courses.queries import doll_session_times

SESSION_CHANGE_KINDS = ("moved", "cancelled", "room", "added")


def _for(booking: BookingInfo) -> str:
    """' for Ada' when the baby is known."""
    return f" for {booking.baby.name}" if booking.baby is not None else ""


def _class(info: WorkshopInfo) -> str:
    """'Baby massage at Centre 1' - which class, in a subject line."""
    return f"{info.workshop.title} at {info.centre.name}"


def _queue_for_parent(booking: BookingInfo, template: str, subject: str, **kwargs):
    if not can_email(booking.parent):
        return None
    return queue_email(
        booking.parent.email,
        template,
        subject,
        centre=booking.info.centre,
        booking=booking,
        info=booking.info,
        **kwargs,
    )


def notify_booking_confirmed(registration: Registration) -> OutboxMessage | None:
    """Tell a parent their place is confirmed, with the booking's calendar invite."""
    booking = booking_info(registration)
    subject = f"Booking confirmed: {_class(booking.info)}{_for(booking)}"
    return _queue_for_parent(
        booking,
        "booking_confirmed",
        subject,
        ics=invite_for_registration(registration, "REQUEST"),
        ics_method="REQUEST",
    )


def notify_waitlisted(registration: Registration, position: int) -> OutboxMessage | None:
    """Tell a parent they are on the waiting list, and at which position."""
    booking = booking_info(registration)
    subject = f"On the waiting list (number {position}): {_class(booking.info)}{_for(booking)}"
    return _queue_for_parent(booking, "waitlisted", subject, position=position)


def notify_promoted(registration: Registration) -> OutboxMessage | None:
    """Tell a waiting parent a place has come up and is now theirs, with the invite."""
    booking = booking_info(registration)
    subject = f"A place came up - you are booked: {_class(booking.info)}{_for(booking)}"
    return _queue_for_parent(
        booking,
        "promoted",
        subject,
        ics=invite_for_registration(registration, "REQUEST"),
        ics_method="REQUEST",
    )


def notify_booking_cancelled(
    registration: Registration, *, was_confirmed: bool | None = None
) -> OutboxMessage | None:
    """Tell a parent their booking (or waiting-list place) is cancelled.

    A booking that had a confirmed place gets a METHOD:CANCEL invite so calendars
    remove its sessions. `was_confirmed` defaults to "it has a confirmed_at". What
    to bring and how to get there are left out: the family is no longer coming.
    """
    booking = booking_info(registration)
    if was_confirmed is None:
        was_confirmed = registration.confirmed_at is not None
    what = "Booking cancelled" if was_confirmed else "Waiting-list place cancelled"
    subject = f"{what}: {_class(booking.info)}{_for(booking)}"
    ics = invite_for_registration(registration, "CANCEL") if was_confirmed else None
    return _queue_for_parent(
        booking,
        "booking_cancelled",
        subject,
        was_confirmed=was_confirmed,
        practical=False,
        ics=ics,
        ics_method="CANCEL" if ics else None,
    )


def _session_subject(kind: str, line, info: WorkshopInfo) -> str:
    which = line.label.lower()
    if kind == "moved":
        return f"Time changed: {_class(info)}, {which} now {line.when}"
    if kind == "added":
        return f"Session added: {_class(info)}, {which} on {line.when}"
    if kind == "room":
        room = line.room or "a new room"
        return f"Room changed: {_class(info)}, {which} on {line.date} is in {room}"
    return f"Session cancelled: {_class(info)}, {which} on {line.date}"


def notify_session_changed(session: WorkshopSession, kind: str) -> list[OutboxMessage]:
    """Tell every confirmed parent of the workshop, and its instructor, that a session
    was moved, cancelled, changed room or added.

    Parents get the updated booking (METHOD:REQUEST) when it moved, changed room or
    was added, and a METHOD:CANCEL for that one session when it was cancelled.
    """
    if kind not in SESSION_CHANGE_KINDS:
        raise ValueError(f"unknown session change {kind!r}")
    if db.session.new or db.session.dirty:
        db.session.flush()
    info = workshop_info(session.workshop_id)
    line = next(
        (s for s in info.sessions if s.id == session.id),
        describe_session(session, info.centre, len(load_sessions(session.workshop_id)), True),
    )
    subject = _session_subject(kind, line, info)
    queued = []
    for registration in _registrations(session.workshop_id, (CONFIRMED,)):
        booking = booking_info(registration, info)
        if kind == "cancelled":
            ics, method = invite_for_session_cancel(session, registration), "CANCEL"
        else:
            ics, method = invite_for_registration(registration, "REQUEST"), "REQUEST"
        message = _queue_for_parent(
            booking,
            "session_changed",
            subject,
            kind=kind,
            line=line,
            ics=ics,
            ics_method=method,
        )
        if message is not None:
            queued.append(message)
    if can_email(info.instructor):
        queued.append(
            queue_email(
                info.instructor.email,
                "session_changed_instructor",
                f"Your class - {subject}",
                centre=info.centre,
                info=info,
                kind=kind,
                line=line,
                confirmed=info.workshop.confirmed_count,
            )
        )
    return queued


def notify_workshop_cancelled(
    workshop: Workshop, registrations, *, reason: str = ""
) -> list[OutboxMessage]:
    """Tell every confirmed and waiting parent, and the instructor, that a class is
    cancelled, with classes that would fit each baby instead.

    `registrations` are the bookings the cancellation ended (their status may
    already be cancelled); parents who had a place get a METHOD:CANCEL invite.
    """
    info = workshop_info(workshop)
    subject = f"Class cancelled: {_class(info)}"
    if info.first:
        subject += f" (was to start {info.first.date})"
    queued = []
    for registration in registrations:
        had_place = registration.status == CONFIRMED or (
            registration.status == CANCELLED and registration.confirmed_at is not None
        )
        if registration.status not in (CONFIRMED, WAITLISTED, CANCELLED):
            continue
        booking = booking_info(registration, info)
        ics = invite_for_registration(registration, "CANCEL") if had_place else None
        message = _queue_for_parent(
            booking,
            "workshop_cancelled",
            subject + _for(booking),
            had_place=had_place,
            reason=reason,
            practical=False,
            alternatives=alternatives_for(booking),
            ics=ics,
            ics_method="CANCEL" if ics else None,
        )
        if message is not None:
            queued.append(message)
    if can_email(info.instructor):
        queued.append(
            queue_email(
                info.instructor.email,
                "workshop_cancelled_instructor",
                f"Your class - {subject}",
                centre=info.centre,
                info=info,
                reason=reason,
                told=len(queued),
            )
        )
    return queued


def notify_instructor_message(
    workshop: Workshop, subject: str, body: str, registrations
) -> list[OutboxMessage]:
    """Send an instructor's message to every parent booked (one email per parent,
    however many babies they have booked)."""
    info = workshop_info(workshop)
    full_subject = f"{_class(info)}: {subject.strip()}"
    queued = []
    seen: set[str] = set()
    for registration in registrations:
        if registration.status not in (CONFIRMED, WAITLISTED):
            continue
        booking = booking_info(registration, info)
        if not can_email(booking.parent) or booking.parent.email in seen:
            continue
        seen.add(booking.parent.email)
        queued.append(
            _queue_for_parent(
                booking,
                "instructor_message",
                full_subject,
                message_subject=subject.strip(),
                message_body=body.strip(),
            )
        )
    return queued


def _registrations(workshop_id: int, statuses) -> list[Registration]:
    return list(
        db.session.scalars(
            sa.select(Registration)
            .where(Registration.workshop_id == workshop_id, Registration.status.in_(statuses))
            .order_by(Registration.id)
        )
    )


def notify_reminder(registration: Registration, *, dedupe_key: str | None = None):
    """Remind a confirmed parent of the class's first session: when, where, what to bring."""
    booking = booking_info(registration)
    info = booking.info
    if info.first is None:
        return None
    subject = f"Reminder: {_class(info)} starts {info.first.when}{_for(booking)}"
    doll_times = doll_session_times(registration)
    return _queue_for_parent(
        booking, "reminder", subject, dedupe_key=dedupe_key, doll_times=doll_times
    )
