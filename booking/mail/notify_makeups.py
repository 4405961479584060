"""Emails about make-up sessions, queued in the caller's write transaction."""

from datetime import datetime

from booking import timefmt
from booking.calendar.data import MakeupData, SessionData, WorkshopData
from booking.calendar.invite import CANCEL, REQUEST, build_makeup_invite
from booking.mail.context import ReadyLink, can_email, workshop_info
from booking.mail.notify import describe_line
from booking.mail.outbox import absolute_url, queue_email
from booking.models import OutboxMessage


def _invite(makeup: MakeupData, workshop: WorkshopData, session: SessionData,
            method: str) -> dict:
    """The calendar invite an email about a make-up carries (none without its id)."""
    if makeup.id is None:
        return {}
    return {"ics": build_makeup_invite(makeup, workshop, session, method),
            "ics_method": CANCEL if method == CANCEL or session.is_cancelled else method}


def _queue_for_visitor(
    makeup: MakeupData, workshop: WorkshopData, session: SessionData, template: str,
    subject, *, method: str | None = None, **context,
) -> OutboxMessage | None:
    """One email about a make-up to its parent (None when they take no email):
    `subject(info, line)` its subject line, `method` the invite it carries, if any."""
    parent = makeup.parent
    if not can_email(parent):
        return None
    info = workshop_info(workshop)
    line = describe_line(info, session)
    return queue_email(
        parent.email,
        template,
        subject(info, line),
        centre=info.centre,
        parent=parent,
        baby_name=makeup.baby_name,
        info=info,
        line=line,
        bookings_url=absolute_url("/account/bookings"),
        **(_invite(makeup, workshop, session, method) if method else {}),
        **context,
    )


def queue_makeup_booked(
    makeup: MakeupData, workshop: WorkshopData, session: SessionData
) -> OutboxMessage | None:
    """Tell a parent their make-up session is booked, with its calendar invite."""
    return _queue_for_visitor(
        makeup, workshop, session, "makeup_booked",
        lambda info, line: (f"Make-up booked: {info.workshop.title} at {info.centre.name}, "
                            f"{line.label.lower()} on {line.date}"),
        method=REQUEST,
    )


def queue_makeup_reminder(
    makeup: MakeupData, workshop: WorkshopData, session: SessionData, *, ready: ReadyLink,
    dedupe_key: str,
) -> OutboxMessage | None:
    """Remind a parent of their make-up session, within two days of it, with its
    "Ready for <day>?" link (`ready`)."""
    return _queue_for_visitor(
        makeup, workshop, session, "makeup_reminder",
        lambda info, line: (f"Reminder: make-up session, {info.workshop.title} at "
                            f"{info.centre.name}, {line.when}"),
        dedupe_key=dedupe_key,
        ready=ready,
    )


def queue_makeup_cancelled(
    makeup: MakeupData,
    workshop: WorkshopData,
    session: SessionData,
    *,
    expires_at: datetime | None,
    why: str,
    by_parent: bool = False,
) -> OutboxMessage | None:
    """Tell a parent their make-up session is off (`why`: the class or that session was
    cancelled; `by_parent`: they cancelled it themselves) and that their make-up credit,
    good until `expires_at`, can be used again; the invite takes it out of their
    calendar."""
    timezone = workshop.centre.timezone
    return _queue_for_visitor(
        makeup, workshop, session, "makeup_cancelled",
        lambda info, line: (f"Make-up cancelled: {info.workshop.title} at {info.centre.name}, "
                            f"{line.label.lower()} on {line.date}"),
        method=CANCEL,
        why=why,
        by_parent=by_parent,
        expires=timefmt.format_local(expires_at, timezone) if expires_at else None,
    )


def queue_makeup_session_changed(
    workshop: WorkshopData, session: SessionData, kind: str, makeups: list[MakeupData]
) -> list[OutboxMessage]:
    """Tell the parents making up a missed week in `session` that it has moved (`kind`
    "moved", or "times": its centre's new time zone kept its local time), changed room
    ("room") or address ("venue"), or that a session added to
    the course ("added") makes theirs another week ("week 2 of 5"); their make-up
    stands, and they can cancel it from their bookings page to use the credit
    elsewhere."""
    if not makeups:
        return []
    info = workshop_info(workshop)
    line = describe_line(info, session)
    which = f"{info.workshop.title} at {info.centre.name}, {line.label.lower()}"
    if kind == "added":
        subject = f"Session added to the course of your make-up: {which}"
    else:
        what = {
            "moved": "Time changed", "times": "Time changed", "venue": "Where it meets changed"
        }.get(
            kind, "Room changed"
        )
        subject = f"{what} for your make-up: {which}"
    queued = []
    for makeup in makeups:
        if not can_email(makeup.parent):
            continue
        queued.append(
            queue_email(
                makeup.parent.email,
                "makeup_changed",
                subject,
                centre=info.centre,
                parent=makeup.parent,
                baby_name=makeup.baby_name,
                info=info,
                line=line,
                kind=kind,
                bookings_url=absolute_url("/account/bookings"),
                **_invite(makeup, workshop, session, REQUEST),
            )
        )
    return queued
