"""Topic pages: a few careful sentences about a topic and the classes tagged with it."""

from flask import render_template, request

from booking.services.catalogue.topic_pages import topic_page
from booking.topics import TOPICS
from booking.web.topics.blueprint import bp
from booking.web.topics.content import GP_NOTE, TOPIC_TEXT
from booking.web.topics.jsonld import topic_jsonld


@bp.route("/topics")
def index():
    """Every topic in plain words, each linking to its page."""
    return render_template("topics/index.html", topics=TOPICS)


@bp.route("/topics/<slug>")
def topic(slug: str):
    """What a class for this need is like, who teaches it, and the classes for it."""
    page = topic_page(slug, request.args.get("page"))
    return render_template(
        "topics/topic.html",
        page=page,
        topic=page.topic,
        text=TOPIC_TEXT.get(page.topic.slug, ()),
        gp_note=GP_NOTE,
        jsonld=topic_jsonld(page.topic, page.result.listings),
        topics=TOPICS,
    )
