"""Helpers shared by the absence and make-up tests."""

import sqlalchemy as sa

from booking.extensions import db
from booking.models import Workshop, WorkshopSession
from booking.services.booking.book import book_place


def book(parent, baby, workshop):
    """A confirmed place; returns the registration id."""
    result = book_place(
        parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id, consent=True
    )
    assert result.confirmed
    return result.registration.id


def session_of(workshop, number) -> WorkshopSession:
    """One session of a workshop, read afresh from the database."""
    db.session.rollback()
    return db.session.scalar(
        sa.select(WorkshopSession)
        .where(WorkshopSession.workshop_id == workshop.id, WorkshopSession.number == number)
        .execution_options(populate_existing=True)
    )


def seats(workshop, number) -> int:
    """Free seats of one session for a make-up, from the stored counters."""
    session = session_of(workshop, number)
    w = db.session.get(Workshop, workshop.id, populate_existing=True)
    return w.capacity - w.held_unclaimed - w.confirmed_count + session.absences - (
        session.makeups_taken
    )
