"""What the public topic pages show: the topic, its classes and its instructors."""

from dataclasses import dataclass

import sqlalchemy as sa

from booking.extensions import db
from booking.models import Centre, InstructorProfile, Membership
from booking.services.catalogue.params import parse_search
from booking.services.catalogue.search import SearchResult, search_workshops
from booking.services.errors import NotFound
from booking.topics import TOPICS_BY_SLUG, Topic


@dataclass
class TopicPage:
    """A topic with one page of its listed classes and the instructors who specialise in it."""

    topic: Topic
    result: SearchResult
    instructors: list[InstructorProfile]


def get_topic(slug: str) -> Topic:
    """A topic of the fixed list by its slug, or NotFound."""
    topic = TOPICS_BY_SLUG.get(slug)
    if topic is None:
        raise NotFound("There is no such topic. See the list of classes for every family.")
    return topic


def instructors_for(slug: str) -> list[InstructorProfile]:
    """Instructors teaching at a centre shown to the public who list the topic among
    their specialisms, by name."""
    profiles = db.session.scalars(
        sa.select(InstructorProfile)
        .where(
            sa.or_(
                InstructorProfile.topics == slug,
                InstructorProfile.topics.like(f"{slug};%"),
                InstructorProfile.topics.like(f"%;{slug}"),
                InstructorProfile.topics.like(f"%;{slug};%"),
            ),
            sa.exists().where(
                Membership.user_id == InstructorProfile.user_id,
                Membership.role == "instructor",
                Centre.id == Membership.centre_id,
                Centre.published.is_(True),
            ),
        )
        .order_by(InstructorProfile.display_name)
    )
    return [p for p in profiles if slug in p.topic_slugs]


def topic_page(slug: str, page=None) -> TopicPage:
    """The topic page's data; a bad page number raises InvalidQuery (400)."""
    topic = get_topic(slug)
    params = parse_search({"topic": topic.slug, "page": page})
    return TopicPage(topic, search_workshops(params), instructors_for(topic.slug))
