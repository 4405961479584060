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
from booking.services.booking.places import lock_workshop
from booking.services.notices.emails import (
    notify_makeup_session_changed,
    notify_session_changed,
)


def _upcoming(now: datetime):
    """SQL: a session still to come in a published class."""
    return sa.and_(
        Workshop.status == PUBLISHED,
        WorkshopSession.status == SCHEDULED,
        WorkshopSession.starts_at > now,
    )


def lock_venue_classes(centre_id: int, now: datetime | None = None) -> list[int]:
    """Inside the caller's write transaction, before it locks the centre: lock each
    published class of the centre with sessions still to come (in id order, as a
    class is locked before its sessions change), and return their ids."""
    now = now or utcnow()
    ids = list(db.session.scalars(
        sa.select(Workshop.id).distinct()
        .join(WorkshopSession, WorkshopSession.workshop_id == Workshop.id)
        .where(Workshop.centre_id == centre_id, _upcoming(now))
        .order_by(Workshop.id)
    ))
    for workshop_id in ids:
        lock_workshop(workshop_id)
    return ids


def venue_changed(workshop_ids: list[int], now: datetime | None = None) -> int:
    """Inside the caller's write transaction, which has locked these classes
    (`lock_venue_classes`) and changed their centre: each of their sessions still to
    come has its revision raised (checked again under the locks), and each class's
    confirmed families and instructor, and families making up a week there, are
    emailed with their updated invites (families holding a place while they pay, with
    none: theirs comes when they pay). Returns how many classes were told."""
    now = now or utcnow()
    table = WorkshopSession.__table__
    bumped = set(db.session.scalars(
        sa.update(table)
        .where(
            table.c.workshop_id.in_(workshop_ids),
            table.c.status == SCHEDULED,
            table.c.starts_at > now,
            table.c.workshop_id.in_(
                sa.select(Workshop.id).where(Workshop.status == PUBLISHED)
            ),
        )
        .values(revision=table.c.revision + 1, updated_at=now)
        .returning(table.c.id)
    ))
    if not bumped:
        return 0
    upcoming = list(db.session.scalars(
        sa.select(WorkshopSession).where(WorkshopSession.id.in_(bumped))
        .order_by(WorkshopSession.workshop_id, WorkshopSession.starts_at)
        .execution_options(populate_existing=True)
    ))
    told = set()
    for session in upcoming:
        if session.workshop_id not in told:
            told.add(session.workshop_id)
            notify_session_changed(session, "venue")  # one email per family, all weeks
        notify_makeup_session_changed(session, "venue")
    return len(told)
