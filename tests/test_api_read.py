"""The read half of the JSON API: centres and workshops, their shape and errors."""

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import Baby, Registration, Workshop, WorkshopSession, workshop_topic
from booking.services.catalogue import search as catalogue
from booking.timefmt import local_to_utc

WORKSHOP_KEYS = {
    "payment",
    "plan",
    "description",
    "what_to_bring",
    "cancellation_cutoff_hours",
    "min_places",
    "decision_at",
    "run_confirmed",
    "late_join_until",
    "id",
    "title",
    "kind",
    "status",
    "centre",
    "instructor",
    "capacity",
    "places_left",
    "booking_open",
    "waitlist_count",
    "min_age_weeks",
    "max_age_weeks",
    "price",
    "sessions",
    "url",
    "held_places",
    "held_unclaimed",
    "topics",
}


def assert_error(response, status, code=None, field=None):
    assert response.status_code == status
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "fields"}
    assert error["message"]
    if code:
        assert error["code"] == code
    if field:
        assert field in error["fields"]
        assert f"({field})" in error["fields"][field]
    return error


def test_workshop_reads_as_the_product_says(app, client, make_workshop, make_centre, make_user):
    sydney = make_centre(
        slug="bondi", name="Bondi Hub", town="Sydney", timezone="Australia/Sydney", country="AU"
    )
    teacher = make_user(name="Kim Park", role="instructor", centre=sydney)
    starts = local_to_utc(datetime(2030, 1, 15, 10, 0), "Australia/Sydney")
    w = make_workshop(
        title="Summer course",
        centre=sydney,
        instructor=teacher,
        starts_at=starts,
        sessions=2,
        capacity=6,
        min_age_weeks=8,
        max_age_weeks=30,
    )
    with app.app_context():
        parent_id = teacher.id  # any user will do as the parent of a waiting entry
        db.session.execute(
            sa.update(Workshop).where(Workshop.id == w.id).values(confirmed_count=6)
        )
        # Ten weeks old at the first session: a baby the waiting list counts.
        baby = Baby(parent_id=parent_id, name="Ada", name_key=Baby.key_for("Ada"),
                    date_of_birth=date(2029, 11, 5))
        db.session.add(baby)
        db.session.flush()
        db.session.add(
            Registration(
                workshop_id=w.id,
                parent_id=parent_id,
                baby_id=baby.id,
                status="waitlisted",
                waitlisted_at=datetime.now(UTC),
            )
        )
        db.session.execute(
            sa.update(WorkshopSession)
            .where(WorkshopSession.workshop_id == w.id, WorkshopSession.number == 2)
            .values(status="cancelled")
        )
        db.session.commit()
        session_ids = list(
            db.session.scalars(
                sa.select(WorkshopSession.id)
                .where(WorkshopSession.workshop_id == w.id)
                .order_by(WorkshopSession.number)
            )
        )

    response = client.get(f"/api/v1/workshops/{w.id}")
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == WORKSHOP_KEYS
    assert body == {
        "id": w.id,
        "title": "Summer course",
        "kind": "course",
        "status": "published",
        "centre": {"slug": "bondi", "name": "Bondi Hub", "town": "Sydney",
                   "timezone": "Australia/Sydney"},
        "instructor": {"id": teacher.id, "name": "Kim Park"},
        "capacity": 6,
        "places_left": 0,
        "booking_open": True,
        "waitlist_count": 1,
        "min_age_weeks": 8,
        "max_age_weeks": 30,
        "price": "45.00",
        "payment": {"mode": "at_centre", "amount": 4500, "deposit": None, "refund_fee": 0,
                    "currency": "AUD"},
        "held_places": 0,
        "held_unclaimed": 0,
        "topics": [],
        "min_places": None,
        "decision_at": None,
        "run_confirmed": False,
        "late_join_until": 1,
        "sessions": [
            {
                "id": session_ids[0],
                "number": 1,
                "starts_at": "2030-01-15T10:00:00+11:00",
                "ends_at": "2030-01-15T11:00:00+11:00",
                "status": "scheduled",
                "room": "",
                "title": "",
            },
            {
                "id": session_ids[1],
                "number": 2,
                "starts_at": "2030-01-22T10:00:00+11:00",
                "ends_at": "2030-01-22T11:00:00+11:00",
                "status": "cancelled",
                "room": "",
                "title": "",
            },
        ],
        "plan": None,
        "description": w.description or "",
        "what_to_bring": w.what_to_bring or "",
        "cancellation_cutoff_hours": w.cancellation_cutoff_hours,
        "url": f"https://classes.example.org/classes/{w.id}",
    }


def test_london_times_carry_the_summer_offset(client, make_workshop):
    w = make_workshop(starts_at=local_to_utc(datetime(2030, 7, 16, 10, 0), "Europe/London"))
    body = client.get(f"/api/v1/workshops/{w.id}").get_json()
    assert body["sessions"][0]["starts_at"] == "2030-07-16T10:00:00+01:00"


def test_workshop_list_is_paginated_with_links(client, make_workshop, make_centre, make_user):
    centre = make_centre()
    teacher = make_user(role="instructor", centre=centre)
    for i in range(5):
        make_workshop(
            title=f"Class {i}", centre=centre, instructor=teacher, starts_in_days=i + 1
        )

    body = client.get("/api/v1/workshops?per_page=2&q=class").get_json()
    assert set(body) == {"items", "page", "per_page", "total", "total_exact", "next", "prev",
                         "place", "radius_km", "country", "message"}
    assert [x["title"] for x in body["items"]] == ["Class 0", "Class 1"]
    assert (body["page"], body["per_page"], body["total"]) == (1, 2, 5)
    assert body["total_exact"] is True
    assert body["prev"] is None
    assert body["next"] == "https://classes.example.org/api/v1/workshops?q=class&page=2&per_page=2"
    assert all(set(x) == WORKSHOP_KEYS | {"distance_km"} for x in body["items"])

    last = client.get("/api/v1/workshops?per_page=2&q=class&page=3").get_json()
    assert [x["title"] for x in last["items"]] == ["Class 4"]
    assert last["next"] is None
    assert last["prev"] == "https://classes.example.org/api/v1/workshops?q=class&page=2&per_page=2"

    default = client.get("/api/v1/workshops").get_json()
    assert default["per_page"] == 20 and default["total"] == 5


def test_workshop_pages_link_to_each_other_in_the_link_header(
    app, client, make_workshop, make_centre, steady_listing_clock
):
    """RFC 8288's Link, as `next` and `prev` in the body, for clients that page by it."""
    centre = make_centre()
    for i in range(5):
        make_workshop(title=f"Class {i}", centre=centre, starts_in_days=i + 1)
    base = "https://classes.example.org/api/v1/workshops?q=class"

    middle = client.get("/api/v1/workshops?per_page=2&q=class&page=2")
    assert middle.headers["Link"] == (
        f'<{base}&page=3&per_page=2>; rel="next", <{base}&page=1&per_page=2>; rel="prev"'
    )
    body = middle.get_json()
    assert (body["next"], body["prev"]) == (f"{base}&page=3&per_page=2",
                                            f"{base}&page=1&per_page=2")
    assert client.get("/api/v1/workshops?per_page=2&q=class").headers["Link"] == (
        f'<{base}&page=2&per_page=2>; rel="next"'
    )
    last = client.get("/api/v1/workshops?per_page=2&q=class&page=3")
    kept = app.extensions["revision_cache.listings"]
    hits = kept.hits
    again = client.get("/api/v1/workshops?per_page=2&q=class&page=3")
    assert kept.hits == hits + 1  # the page's text and its links, kept together
    for page in (last, again):
        assert page.headers["Link"] == f'<{base}&page=2&per_page=2>; rel="prev"'
        assert [x["title"] for x in page.get_json()["items"]] == ["Class 4"]
    one_page = client.get("/api/v1/workshops?q=class")
    assert "Link" not in one_page.headers and one_page.get_json()["total"] == 5
    not_modified = client.get("/api/v1/workshops?per_page=2&q=class&page=2",
                              headers={"If-None-Match": middle.headers["ETag"]})
    assert not_modified.status_code == 304


def test_a_page_past_the_end_leads_back_to_the_last_page_with_results(
    client, make_workshop, make_centre
):
    centre = make_centre()
    for i in range(5):
        make_workshop(title=f"Class {i}", centre=centre, starts_in_days=i + 1)

    past = client.get("/api/v1/workshops?per_page=2&page=500").get_json()
    assert past["items"] == [] and past["next"] is None
    assert (past["total"], past["total_exact"]) == (5, True)
    assert past["prev"] == "https://classes.example.org/api/v1/workshops?page=3&per_page=2"
    # Just past the end, prev is the page before, which is the last.
    assert client.get("/api/v1/workshops?per_page=2&page=4").get_json()["prev"] == past["prev"]
    # Within range nothing changes.
    assert client.get("/api/v1/workshops?per_page=2&page=3").get_json()["prev"] == (
        "https://classes.example.org/api/v1/workshops?page=2&per_page=2"
    )

    nothing = client.get("/api/v1/workshops?q=nothing-like-this&page=7").get_json()
    assert (nothing["items"], nothing["total"]) == ([], 0)
    assert nothing["prev"] is None and nothing["next"] is None


def test_a_page_past_the_end_beyond_the_count_limit_is_counted_exactly(
    client, make_workshop, make_centre, monkeypatch
):
    monkeypatch.setattr(catalogue, "COUNT_LIMIT", 3)
    centre = make_centre()
    for i in range(8):
        make_workshop(title=f"Class {i}", centre=centre, starts_in_days=i + 1)

    past = client.get("/api/v1/workshops?per_page=2&page=9").get_json()
    assert past["items"] == []
    assert (past["total"], past["total_exact"]) == (8, True)
    assert past["prev"].endswith("/api/v1/workshops?page=4&per_page=2")
    # Where the count stopped, the page asked for is full and prev is the page before.
    second = client.get("/api/v1/workshops?per_page=2&page=2").get_json()
    assert second["total_exact"] is False
    assert second["prev"].endswith("/api/v1/workshops?page=1&per_page=2")


def test_workshop_list_total_is_a_lower_bound_beyond_the_count_limit(
    client, make_workshop, make_centre, monkeypatch
):
    monkeypatch.setattr(catalogue, "COUNT_LIMIT", 3)
    centre = make_centre()
    for i in range(8):
        make_workshop(title=f"Class {i}", centre=centre, starts_in_days=i + 1)

    first = client.get("/api/v1/workshops?per_page=2").get_json()
    assert [x["title"] for x in first["items"]] == ["Class 0", "Class 1"]
    assert (first["total"], first["total_exact"]) == (4, False)
    assert first["next"].endswith("/api/v1/workshops?page=2&per_page=2")

    # Counting reaches one row past the page asked for, so the links stay exact.
    third = client.get("/api/v1/workshops?per_page=2&page=3").get_json()
    assert [x["title"] for x in third["items"]] == ["Class 4", "Class 5"]
    assert (third["total"], third["total_exact"]) == (7, False)
    assert third["next"] is not None

    last = client.get("/api/v1/workshops?per_page=2&page=4").get_json()
    assert [x["title"] for x in last["items"]] == ["Class 6", "Class 7"]
    assert (last["total"], last["total_exact"]) == (8, True)
    assert last["next"] is None


def test_workshop_list_takes_the_classes_filters(app, client, make_workshop, make_centre):
    bath = make_centre(slug="bath", town="Bath", latitude=51.38, longitude=-2.36)
    leeds = make_centre(slug="leeds", town="Leeds", latitude=53.80, longitude=-1.55)
    a = make_workshop(title="Bath class", centre=bath, min_age_weeks=10)
    make_workshop(title="Leeds class", centre=leeds)
    with app.app_context():
        db.session.execute(sa.insert(workshop_topic), [{"workshop_id": a.id, "topic": "twins"}])
        db.session.commit()

    def found(**args):
        response = client.get("/api/v1/workshops", query_string=args)
        assert response.status_code == 200
        return [x["title"] for x in response.get_json()["items"]]

    assert found(q="leeds") == ["Leeds class"]
    assert found(centre="bath") == ["Bath class"]
    assert found(topic="twins") == ["Bath class"]
    assert found(age_weeks=6) == ["Leeds class"]
    assert found(lat=53.8, lon=-1.5, radius_km=50) == ["Leeds class"]
    assert found(lat=51.4, lon=-2.4, radius_km=500) == ["Bath class", "Leeds class"]
    assert found(date_from="2000-01-01", date_to="2000-12-31") == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("age_weeks=abc", "age_weeks"),
        ("date_from=2026-13-45", "date_from"),
        ("page=-1", "page"),
        ("per_page=1000", "per_page"),
        ("lat=51", "lon"),
        ("lat=51&lon=0&radius_km=-3", "radius_km"),
        ("q=" + "y" * 1000, "q"),
        ("topic=nothing", "topic"),
    ],
)
def test_bad_parameters_are_json_400s(client, query, field):
    assert_error(client.get("/api/v1/workshops?" + query), 400, "invalid_parameter", field)


def test_a_whole_number_too_large_is_called_too_large(client):
    """"page=99999999999999999999" was told it "must be a whole number"."""
    for query, field in (("page=99999999999999999999", "page"),
                         ("instructor=99999999999999", "instructor")):
        response = client.get("/api/v1/workshops?" + query)
        assert response.status_code == 400
        message = response.get_json()["error"]["fields"][field]
        assert "must be between 1 and" in message and "whole number" not in message


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/workshops/4242",
        "/api/v1/workshops/99999999999999999999",
        "/api/v1/centres/no-such-centre",
        "/api/v1/centres/Not%20a%20slug",
        "/api/v1/nothing-here",
    ],
)
def test_unknown_things_are_json_404s(client, url):
    assert_error(client.get(url), 404, "not_found")


def test_drafts_and_hidden_centres_are_not_found(client, make_workshop, make_centre):
    draft = make_workshop(status="draft")
    hidden = make_workshop(centre=make_centre(published=False))
    assert_error(client.get(f"/api/v1/workshops/{draft.id}"), 404, "not_found")
    assert_error(client.get(f"/api/v1/workshops/{hidden.id}"), 404, "not_found")


def test_cancelled_workshop_is_readable(client, make_workshop):
    w = make_workshop(status="cancelled")
    body = client.get(f"/api/v1/workshops/{w.id}").get_json()
    assert body["status"] == "cancelled"
    # Nothing to book, as its page says (it said "5 places left").
    assert (body["places_left"], body["booking_open"]) == (0, False)
    ids = [x["id"] for x in client.get("/api/v1/workshops").get_json()["items"]]
    assert w.id not in ids


def test_a_class_under_way_offers_no_places(client, make_workshop):
    """A single class whose session began is listed while it runs, but booking closed:
    the API says no place is left and booking is not open, as the class page says
    "Booking has closed"; a course still taking late joiners keeps its places."""
    began = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    single = make_workshop(kind="single", sessions=1, starts_at=began, capacity=6)
    late = make_workshop(sessions=4, starts_at=began, capacity=6, late_join_until=2)
    body = client.get(f"/api/v1/workshops/{single.id}").get_json()
    assert (body["places_left"], body["booking_open"]) == (0, False)
    listed = {i["id"]: i for i in client.get("/api/v1/workshops").get_json()["items"]}
    assert listed[single.id]["places_left"] == 0
    assert (listed[late.id]["places_left"], listed[late.id]["booking_open"]) == (6, True)


def test_writes_are_not_allowed_on_read_endpoints(client):
    assert_error(client.post("/api/v1/centres"), 405, "method_not_allowed")


def test_centres(client, make_centre):
    make_centre(
        slug="open-hub",
        name="Open Hub",
        town="Bath",
        latitude=51.38,
        longitude=-2.36,
        accessibility_notes="Step-free.",
    )
    make_centre(slug="closed-hub", published=False)

    body = client.get("/api/v1/centres").get_json()
    assert [c["slug"] for c in body["items"]] == ["open-hub"]

    centre = client.get("/api/v1/centres/open-hub").get_json()
    assert centre["name"] == "Open Hub" and centre["town"] == "Bath"
    assert centre["timezone"] == "Europe/London"
    assert (centre["latitude"], centre["longitude"]) == (51.38, -2.36)
    assert centre["accessibility_notes"] == "Step-free."
    assert centre["url"] == "https://classes.example.org/centres/open-hub"
    assert_error(client.get("/api/v1/centres/closed-hub"), 404, "not_found")


def test_serializers_work_outside_a_request(app, make_workshop):
    from booking.services.catalogue import search as catalogue
    from booking.web.api.serializers import centre_to_json, workshop_to_json

    w = make_workshop()
    with app.app_context():
        listing = catalogue.get_workshop(w.id)
        body = workshop_to_json(listing.workshop, listing.waitlist_count)
        assert body["url"] == f"https://classes.example.org/classes/{w.id}"
        assert centre_to_json(listing.workshop.centre)["slug"] == listing.workshop.centre.slug


def test_query_count_does_not_grow_with_results(app, client, make_workshop, make_centre,
                                                 make_user, nothing_kept):
    centre = make_centre()
    teacher = make_user(role="instructor", centre=centre)
    with app.app_context():
        engine = db.engine
    counts = []
    for batch in (3, 9):
        for _ in range(batch):
            make_workshop(centre=centre, instructor=teacher)
        client.get("/api/v1/workshops")
        statements = []

        def on_execute(conn, cursor, statement, *args, statements=statements):
            statements.append(statement)

        sa.event.listen(engine, "before_cursor_execute", on_execute)
        try:
            body = client.get("/api/v1/workshops").get_json()
        finally:
            sa.event.remove(engine, "before_cursor_execute", on_execute)
        assert len(body["items"]) == {3: 3, 9: 12}[batch]
        counts.append(len(statements))
    assert counts[0] == counts[1]
