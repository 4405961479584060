"""A centre's name or address changed: the place of every session still to come there.

Booking rule 8 (PRODUCT.md): a change of a session's place bumps its revision, updates
every calendar and emails everyone confirmed and the instructor. A centre's name and
address are every one of its sessions' LOCATION, so a change to them is that change for
each session still to come in its published classes.
"""

from datetime import datetime

import sqlalchemy as sa

from booking.extensions import db
from booking.models import Workshop, WorkshopSession, utcnow
from booking.models.workshop import PUBLISHED, SCHEDULED
from booking.services.notices.emails import (
    notify_makeup_session_changed,
    notify_session_changed,
)


def venue_changed(centre_id: int, now: datetime | None = None) -> int:
    """Inside the caller's write transaction (which has changed the centre): each
    session still to come in the centre's published classes has its revision raised
    (an increment in SQL, so a session moved at the same moment loses nothing), and
    every class's confirmed families and instructor, and families making up a week
    there, are emailed with their updated invites. Returns how many classes were told."""
    now = now or utcnow()
    upcoming = list(db.session.scalars(
        sa.select(WorkshopSession)
        .join(Workshop, Workshop.id == WorkshopSession.workshop_id)
        .where(
            Workshop.centre_id == centre_id,
            Workshop.status == PUBLISHED,
            WorkshopSession.status == SCHEDULED,
            WorkshopSession.starts_at > now,
        )
        .order_by(WorkshopSession.workshop_id, WorkshopSession.starts_at)
    ))
    if not upcoming:
        return 0
    table = WorkshopSession.__table__
    db.session.execute(
        sa.update(table)
        .where(table.c.id.in_([s.id for s in upcoming]))
        .values(revision=table.c.revision + 1, updated_at=now)
    )
    for session in upcoming:
        db.session.refresh(session)
    told = set()
    for session in upcoming:
        if session.workshop_id not in told:
            told.add(session.workshop_id)
            notify_session_changed(session, "venue")  # one email per family, all weeks
        notify_makeup_session_changed(session, "venue")
    return len(told)
