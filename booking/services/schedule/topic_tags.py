"""Tagging workshops with topics and instructors with their specialisms (the fixed list)."""

import sqlalchemy as sa

from booking.db import write_transaction
from booking.extensions import db
from booking.models import InstructorProfile, User, workshop_topic
from booking.models.workshop import CANCELLED
from booking.services.booking.places import lock_workshop, require_int
from booking.services.errors import Conflict, Invalid, NotFound
from booking.topics import TOPICS, TOPICS_BY_SLUG


def clean_topics(slugs, field: str = "topics") -> list[str]:
    """Known topic slugs in the fixed list's order, or Invalid naming the unknown ones."""
    if isinstance(slugs, str):
        slugs = [slugs]
    given = {str(s).strip() for s in (slugs or ()) if str(s).strip()}
    unknown = sorted(given - set(TOPICS_BY_SLUG))
    if unknown:
        known = ", ".join(t.slug for t in TOPICS)
        message = f"Unknown topic {', '.join(unknown)}; choose from: {known}."
        raise Invalid(message, {field: message})
    return [t.slug for t in TOPICS if t.slug in given]


def set_workshop_topics(workshop_id: int, slugs) -> list[str]:
    """Replace a workshop's topics with the given slugs; returns them in list order.
    Conflict once the workshop is cancelled (it no longer changes)."""
    with write_transaction():
        workshop = lock_workshop(require_int(workshop_id, "The class"))
        if workshop.status == CANCELLED:
            raise Conflict("This workshop has been cancelled; it can no longer be changed.")
        topics = clean_topics(slugs)
        db.session.execute(
            sa.delete(workshop_topic).where(workshop_topic.c.workshop_id == workshop.id)
        )
        if topics:
            db.session.execute(
                workshop_topic.insert(),
                [{"workshop_id": workshop.id, "topic": slug} for slug in topics],
            )
    return topics


def set_instructor_topics(user_id: int, slugs) -> list[str]:
    """Set the topics an instructor specialises in (creating their profile if needed)."""
    with write_transaction():
        user = db.session.get(User, require_int(user_id, "The instructor"))
        if user is None:
            raise NotFound("We could not find that instructor.")
        topics = clean_topics(slugs)
        profile = db.session.scalar(
            sa.select(InstructorProfile).where(InstructorProfile.user_id == user.id)
        )
        if profile is None:
            profile = InstructorProfile(user_id=user.id, display_name=user.name)
            db.session.add(profile)
        profile.topics = ";".join(topics)
    return topics
