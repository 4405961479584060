"""The fixed list of topics staff tag classes with."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    """Who or what a class is especially for."""

    slug: str
    name: str
    plain: str


TOPICS: tuple[Topic, ...] = (
    Topic("colic", "Colic and digestion", "for babies with colic or wind"),
    Topic("sleep", "Sleep", "for babies who find it hard to settle"),
    Topic("premature", "Premature babies", "for babies born early"),
    Topic("additional-needs", "Additional needs", "for babies with additional needs"),
    Topic("adoptive-foster", "Adoptive and foster families", "for adoptive and foster families"),
    Topic("dads", "Dads and co-parents", "for dads and co-parents"),
    Topic("grandparents", "Grandparents", "for grandparents"),
    Topic("twins", "Twins", "for parents of twins"),
)

TOPICS_BY_SLUG = {t.slug: t for t in TOPICS}


def topic_name(slug: str) -> str:
    """The topic's display name, or the slug itself if unknown."""
    topic = TOPICS_BY_SLUG.get(slug)
    return topic.name if topic else slug
