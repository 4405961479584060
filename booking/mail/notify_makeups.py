"""Emails about make-up sessions, queued in the caller's write transaction."""

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from booking import timefmt
from booking.extensions import db
from booking.mail.context import can_email, describe_session, load_sessions, workshop_info
from booking.mail.outbox import absolute_url, queue_email
from booking.models import Baby, MakeupBooking, MakeupCredit, OutboxMessage, User, WorkshopSession


def _session_line(session: WorkshopSession, info):
    """How the session is described in emails ("Week 2 of 5", its date and time)."""
    return next(
        (s for s in info.sessions if s.id == session.id),
        describe_session(session, info.centre, len(load_sessions(session.workshop_id)), True),
    )


def notify_makeup_cancelled(
    *, parent_id: int | None, baby_id: int | None, session_id: int, credit_id: int, why: str
) -> OutboxMessage | None:
    """Tell a parent their make-up session is off (`why`: the class or that session was
    cancelled) and that their make-up credit can be used again."""
    parent = db.session.get(User, parent_id) if parent_id else None
    if not can_email(parent):
        return None
    session = db.session.get(WorkshopSession, session_id)
    info = workshop_info(session.workshop_id)
    line = _session_line(session, info)
    baby = db.session.get(Baby, baby_id) if baby_id else None
    credit = db.session.get(MakeupCredit, credit_id)
    expires = (
        timefmt.format_local(credit.expires_at, info.centre.timezone) if credit else None
    )
    subject = (
        f"Make-up cancelled: {info.workshop.title} at {info.centre.name}, "
        f"{line.label.lower()} on {line.date}"
    )
    return queue_email(
        parent.email,
        "makeup_cancelled",
        subject,
        centre=info.centre,
        parent=parent,
        baby_name=baby.name if baby is not None else "your baby",
        info=info,
        line=line,
        why=why,
        expires=expires,
        bookings_url=absolute_url("/account/bookings"),
    )


def notify_makeup_session_changed(session: WorkshopSession, kind: str) -> list[OutboxMessage]:
    """Tell the parents making up a missed week in `session` that it has moved (`kind`
    "moved") or changed room ("room"); their make-up stands, and they can cancel it from
    their bookings page to use the credit elsewhere."""
    makeups = db.session.scalars(
        sa.select(MakeupBooking)
        .where(MakeupBooking.session_id == session.id)
        .options(joinedload(MakeupBooking.parent), joinedload(MakeupBooking.baby))
    ).all()
    if not makeups:
        return []
    info = workshop_info(session.workshop_id)
    line = _session_line(session, info)
    what = "Time changed" if kind == "moved" else "Room changed"
    subject = (
        f"{what} for your make-up: {info.workshop.title} at {info.centre.name}, "
        f"{line.label.lower()}"
    )
    queued = []
    for makeup in makeups:
        parent, baby = makeup.parent, makeup.baby
        if not can_email(parent):
            continue
        queued.append(
            queue_email(
                parent.email,
                "makeup_changed",
                subject,
                centre=info.centre,
                parent=parent,
                baby_name=baby.name if baby is not None else "your baby",
                info=info,
                line=line,
                kind=kind,
                bookings_url=absolute_url("/account/bookings"),
            )
        )
    return queued
