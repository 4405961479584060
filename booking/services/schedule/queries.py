"""Reads about a workshop's schedule for the staff pages, the API and the use cases."""

import sqlalchemy as sa

from booking.extensions import db
from booking.models import Registration, WorkshopSession
from booking.models import workshop_topic as workshop_topic_table
from booking.models.registration import ACTIVE, CONFIRMED, PENDING_PAYMENT, WAITLISTED
from booking.topics import TOPICS


def workshop_sessions(workshop_id: int) -> list[WorkshopSession]:
    """A workshop's sessions in time order."""
    return list(
        db.session.scalars(
            sa.select(WorkshopSession)
            .where(WorkshopSession.workshop_id == workshop_id)
            .order_by(WorkshopSession.starts_at, WorkshopSession.id)
        )
    )


def active_counts(workshop_id: int) -> tuple[int, int]:
    """(places taken, waiting) registrations of a workshop: a place held for payment
    counts as taken."""
    rows = db.session.execute(
        sa.select(Registration.status, sa.func.count())
        .where(Registration.workshop_id == workshop_id)
        .where(Registration.status.in_(ACTIVE))
        .group_by(Registration.status)
    ).all()
    counts = dict(rows)
    return counts.get(CONFIRMED, 0) + counts.get(PENDING_PAYMENT, 0), counts.get(WAITLISTED, 0)


def workshop_topics(workshop_id: int) -> list[str]:
    """The topic slugs of a workshop, in list order."""
    slugs = set(
        db.session.scalars(
            sa.select(workshop_topic_table.c.topic).where(
                workshop_topic_table.c.workshop_id == workshop_id
            )
        )
    )
    return [t.slug for t in TOPICS if t.slug in slugs]
