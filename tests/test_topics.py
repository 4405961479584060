"""Topic pages, schema.org JSON-LD on topic and class pages, and topic fields in the API."""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import Centre, workshop_topic
from booking.services.errors import Invalid
from booking.services.schedule.topic_tags import (
    clean_topics,
    set_instructor_topics,
    set_workshop_topics,
)


def tag(app, workshop, *topics):
    with app.app_context():
        set_workshop_topics(workshop.id, topics)


def jsonld(page: str) -> dict:
    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert match, "no JSON-LD block"
    return json.loads(match.group(1))


def test_topic_page_explains_carefully_and_lists_its_classes(app, client, make_workshop):
    early = make_workshop(title="Born early <gentle>", kind="course")
    make_workshop(title="Everyone welcome")
    tag(app, early, "premature")
    response = client.get("/topics/premature")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Baby massage classes for babies born early" in page
    assert "health visitor or doctor" in page and "not a treatment" in page
    assert "Born early &lt;gentle&gt;" in page and "Everyone welcome" not in page
    data = jsonld(page)
    assert data["@type"] == "ItemList" and data["about"]["name"] == "Premature babies"
    course = data["itemListElement"][0]["item"]
    assert course["@type"] == "Course" and course["name"] == "Born early <gentle>"
    assert course["about"] == [{"@type": "Thing", "name": "Premature babies"}]
    assert course["hasCourseInstance"]["@type"] == "CourseInstance"
    assert "<gentle>" not in page.split("application/ld+json")[1].split("</script>")[0]
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"].split(
        "script-src")[1].split(";")[0]


def test_unknown_topic_is_404_and_bad_page_400(client):
    assert client.get("/topics/astrology").status_code == 404
    assert client.get("/topics/sleep?page=zero").status_code == 400
    index = client.get("/topics")
    assert index.status_code == 200 and b'href="/topics/twins"' in index.data


def test_topic_page_with_no_classes_says_so(client):
    page = client.get("/topics/grandparents").get_data(as_text=True)
    assert "no classes for grandparents open for booking just now" in page


def test_single_class_page_carries_an_event(app, client, make_workshop):
    single = make_workshop(title="Colic drop-in", kind="single", capacity=4)
    tag(app, single, "colic", "dads")
    page = client.get(f"/classes/{single.id}").get_data(as_text=True)
    data = jsonld(page)
    assert data["@type"] == "Event"
    assert [a["name"] for a in data["about"]] == ["Colic and digestion", "Dads and co-parents"]
    assert data["audience"][0]["@type"] == "Audience"
    assert data["offers"]["availability"] == "https://schema.org/InStock"
    assert data["offers"]["price"] == "45.00"
    assert data["eventStatus"] == "https://schema.org/EventScheduled"
    assert data["startDate"].endswith(("+00:00", "+01:00"))
    assert 'href="/topics/colic"' in page


def test_a_class_under_way_is_out_of_stock_and_ages_are_the_class_s(app, client,
                                                                    make_workshop):
    """A single class whose session began: booking has closed, so its offer is not
    InStock; its typical age range is worked out from its ages (it was "0-1" always)."""
    began = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    running = make_workshop(kind="single", sessions=1, starts_at=began, capacity=4,
                            min_age_weeks=6, max_age_weeks=104)
    data = jsonld(client.get(f"/classes/{running.id}").get_data(as_text=True))
    assert data["offers"]["availability"] == "https://schema.org/OutOfStock"
    assert data["typicalAgeRange"] == "0-2"


def test_full_course_page_is_sold_out_in_json_ld(app, client, make_workshop):
    full = make_workshop(capacity=2, held_places=2, held_until=datetime.now(UTC) + timedelta(1))
    data = jsonld(client.get(f"/classes/{full.id}").get_data(as_text=True))
    assert data["@type"] == "Course" and "about" not in data
    assert data["hasCourseInstance"]["offers"]["availability"] == "https://schema.org/SoldOut"


def test_classes_search_and_api_filter_by_topic(app, client, make_workshop):
    sleepy = make_workshop(title="Bedtime strokes", held_places=1,
                           held_until=datetime.now(UTC) + timedelta(days=2))
    make_workshop(title="Open class")
    tag(app, sleepy, "sleep")
    page = client.get("/classes?topic=sleep").get_data(as_text=True)
    assert "Bedtime strokes" in page and "Open class" not in page
    bad = client.get("/classes?topic=astrology")
    assert bad.status_code == 400 and b"Topic (topic) must be one of" in bad.data
    items = client.get("/api/v1/workshops?topic=sleep").get_json()["items"]
    assert [i["title"] for i in items] == ["Bedtime strokes"]
    assert items[0]["topics"] == ["sleep"]
    assert (items[0]["held_places"], items[0]["held_unclaimed"]) == (1, 1)
    assert items[0]["places_left"] == 7
    error = client.get("/api/v1/workshops?topic=astrology")
    assert error.status_code == 400 and error.get_json()["error"]["fields"]["topic"]


def test_home_offers_topics_in_plain_words(app, client, make_workshop):
    tag(app, make_workshop(), "colic")
    page = client.get("/").get_data(as_text=True)
    assert "Classes for babies with colic or wind" in page
    assert 'href="/topics/colic"' in page


def test_topic_tags_are_checked_and_replaced(ctx, make_workshop, make_user):
    w = make_workshop()
    assert set_workshop_topics(w.id, ["twins", "colic", "twins"]) == ["colic", "twins"]
    assert set_workshop_topics(w.id, ["sleep"]) == ["sleep"]
    rows = db.session.scalars(sa.select(workshop_topic.c.topic)).all()
    assert rows == ["sleep"]
    with pytest.raises(Invalid) as exc:
        clean_topics(["sleep", "astrology"])
    assert "astrology" in exc.value.fields["topics"]
    assert db.session.scalars(sa.select(workshop_topic.c.topic)).all() == ["sleep"]


def test_instructor_specialisms_show_on_the_topic_page(app, client, make_user, make_centre):
    centre = make_centre()
    teacher = make_user(role="instructor", centre=centre, name="Sam Gentle")
    with app.app_context():
        assert set_instructor_topics(teacher.id, ["premature", "sleep"]) == ["sleep", "premature"]
        with pytest.raises(Invalid):
            set_instructor_topics(teacher.id, ["nonsense"])
    page = client.get("/topics/premature").get_data(as_text=True)
    assert "Instructors who specialise in this" in page
    assert f'href="/instructors/{teacher.id}"' in page
    assert "Instructors who specialise" not in client.get("/topics/twins").get_data(as_text=True)
    # An instructor whose only centre is hidden is not offered (their centre page is 404).
    with app.app_context():
        db.session.execute(sa.update(Centre).values(published=False))
        db.session.commit()
    page = client.get("/topics/premature").get_data(as_text=True)
    assert f'href="/instructors/{teacher.id}"' not in page


def test_instructors_write_their_public_profile_on_teach(app, client, auth, make_user,
                                                        make_centre):
    """An instructor added after the demo had a bare public page for good: nothing wrote
    the name shown, the qualification or the bio. They write them on /teach/profile,
    held to the rules of other text (one line for the name and qualification, something
    to see in the name), and families read them on /instructors/<id>."""
    centre = make_centre()
    teacher = make_user("new.teacher@example.org", name="Grace O", role="instructor",
                        centre=centre)
    auth.login("new.teacher@example.org")
    assert b"/teach/profile" in client.get("/teach").data
    form = client.get("/teach/profile").get_data(as_text=True)
    assert 'value="Grace O"' in form  # the account's name until they write one
    refused = client.post("/teach/profile", data={
        "display_name": "\u200b", "qualification": "CEIM\nand more", "bio": "x" * 3001})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "Give the name shown to families" in page
    assert "Qualification must be a single line" in page
    assert "About you must be at most 3000 characters" in page
    saved = client.post("/teach/profile", data={
        "display_name": "  Grace   Okafor ",
        "qualification": "Certified Educator of Infant Massage",
        "bio": "Mother of two.\r\n\r\nI teach <b>gentle</b> strokes."})
    assert saved.status_code == 302
    public = client.get(f"/instructors/{teacher.id}").get_data(as_text=True)
    assert "<h1>Grace Okafor</h1>" in public
    assert "Certified Educator of Infant Massage" in public
    assert "<p>Mother of two.</p>" in public and "&lt;b&gt;gentle&lt;/b&gt;" in public
    again = client.get("/teach/profile").get_data(as_text=True)
    assert 'value="Grace Okafor"' in again and "Mother of two." in again
    auth.logout()
    make_user("mum2@example.org")
    auth.login("mum2@example.org")
    assert client.get("/teach/profile").status_code == 403


def test_instructors_set_their_specialisms_on_teach(app, client, auth, make_user, make_centre):
    centre = make_centre()
    teacher = make_user("teach@example.org", role="instructor", centre=centre)
    auth.login("teach@example.org")
    assert b"/teach/specialisms" in client.get("/teach").data
    assert client.get("/teach/specialisms").status_code == 200
    response = client.post("/teach/specialisms", data={"topics": ["twins", "colic"]})
    assert response.status_code == 302
    page = client.get(f"/instructors/{teacher.id}").get_data(as_text=True)
    assert "Twins" in page and "Colic and digestion" in page
    assert client.post("/teach/specialisms", data={"topics": ["magic"]}).status_code == 422
    checked = client.get("/teach/specialisms").get_data(as_text=True)
    assert re.search(r'value="twins"[^>]*checked|checked[^>]*value="twins"', checked)
    auth.logout()
    make_user("mum@example.org")
    auth.login("mum@example.org")
    assert client.get("/teach/specialisms").status_code == 403


def test_json_ld_links_come_from_base_url_not_the_host_header(app, client, make_workshop):
    course = make_workshop(title="Forged host course", kind="course")
    tag(app, course, "sleep")
    forged = {"Host": "attacker.example", "X-Forwarded-Host": "attacker.example"}
    expected = f"https://classes.example.org/classes/{course.id}"
    for path in (f"/classes/{course.id}", "/topics/sleep"):
        response = client.get(path, headers=forged)
        assert response.status_code == 200
        block = response.get_data(as_text=True).split("application/ld+json")[1]
        assert "attacker.example" not in block
        data = jsonld(response.get_data(as_text=True))
        if data["@type"] == "ItemList":
            data = data["itemListElement"][0]["item"]
        assert data["url"] == expected
        assert data["hasCourseInstance"]["offers"]["url"] == expected
