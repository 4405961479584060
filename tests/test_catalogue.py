"""The public catalogue: search filters, pagination, class, centre and instructor pages."""

import math
import random
import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import (
    Baby,
    Centre,
    Registration,
    Workshop,
    WorkshopSession,
    workshop_topic,
)
from booking.services.catalogue import filters
from booking.services.catalogue import search as catalogue
from booking.services.catalogue.params import SearchParams
from booking.services.errors import NotFound
from booking.timefmt import format_local, format_local_date, local_to_utc


def titles(html: str) -> list[str]:
    """The class titles listed on a page, in order."""
    return re.findall(r'<h3><a href="/classes/\d+">([^<]+)</a></h3>', html)


def tag(app, workshop, *topics):
    """Tag a workshop with topics."""
    with app.app_context():
        db.session.execute(
            sa.insert(workshop_topic),
            [{"workshop_id": workshop.id, "topic": t} for t in topics],
        )
        db.session.commit()


def wait(app, workshop, make_user, make_baby, count):
    """Put `count` babies on a workshop's waiting list (and one cancelled entry)."""
    with app.app_context():
        for i in range(count + 1):
            parent = make_user()
            baby = make_baby(parent, name=f"Baby {i}")
            db.session.add(
                Registration(
                    workshop_id=workshop.id,
                    baby_id=baby.id,
                    parent_id=parent.id,
                    status="waitlisted" if i < count else "cancelled",
                    waitlisted_at=datetime.now(UTC),
                )
            )
        db.session.commit()


def fill(app, workshop):
    """Mark every place of a workshop as taken."""
    with app.app_context():
        db.session.execute(
            sa.update(Workshop)
            .where(Workshop.id == workshop.id)
            .values(confirmed_count=Workshop.capacity)
        )
        db.session.commit()


# --- which workshops are listed -------------------------------------------------------


def test_only_published_open_workshops_at_published_centres_are_listed(
    client, make_workshop, make_centre
):
    make_workshop(title="Later", starts_in_days=14)
    make_workshop(title="Sooner", starts_in_days=3)
    make_workshop(title="Running now", starts_at=datetime.now(UTC) - timedelta(minutes=20))
    make_workshop(title="A draft", status="draft")
    make_workshop(title="Called off", status="cancelled")
    make_workshop(title="Hidden centre", centre=make_centre(published=False))
    make_workshop(title="Over", starts_in_days=-30)
    make_workshop(title="First session over", starts_in_days=-2, sessions=4)

    response = client.get("/classes")
    assert response.status_code == 200
    assert titles(response.text) == ["Running now", "Sooner", "Later"]
    assert "3 classes found" in response.text


def test_a_course_open_for_late_joining_stays_listed(client, make_workshop):
    make_workshop(title="Late join", starts_in_days=-2, sessions=4, late_join_until=2)
    make_workshop(title="No late join", starts_in_days=-2, sessions=4)
    assert titles(client.get("/classes").text) == ["Late join"]


def test_a_course_joined_late_shows_its_next_week_not_its_first(app, client, make_workshop):
    late = make_workshop(title="Late join", starts_in_days=-2, sessions=4, late_join_until=2)
    with app.app_context():
        late = db.session.get(Workshop, late.id)
        centre = db.session.get(Centre, late.centre_id)
        tz = centre.timezone
        starts = db.session.scalars(
            sa.select(WorkshopSession.starts_at)
            .where(WorkshopSession.workshop_id == late.id)
            .order_by(WorkshopSession.number)
        ).all()
        first, second = (format_local(at, tz) for at in starts[:2])
        started = format_local_date(starts[0], tz)
        slug = centre.slug
    card = client.get("/classes").text
    assert f"Next: week 2 of 4, <strong>{second}</strong>" in card
    assert f"started {started}, you can still join" in card
    assert f"<strong>{first}</strong>" not in card
    page = client.get(f"/classes/{late.id}").text
    assert f"<dt>Next</dt><dd>Week 2 of 4, {second}</dd>" in page
    assert "<dt>Starts</dt>" not in page
    embed = client.get(f"/embed/centres/{slug}").text
    assert f"you can still join from week 2, {second}" in embed


def test_a_course_in_its_first_week_without_late_joining_does_not_offer_it(
    client, make_workshop
):
    running = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    make_workshop(title="Week one now", starts_at=running, sessions=4)  # late_join_until 1
    card = client.get("/classes").text
    assert "Week one now" in card and "you can still join" not in card


def test_friendly_empty_state(client):
    response = client.get("/classes?q=nowhere")
    assert response.status_code == 200
    assert "No classes match this search" in response.text
    assert "0 classes found" in response.text


# --- filters ---------------------------------------------------------------------------


def test_text_search_covers_title_centre_town_and_postcode_prefix(
    client, make_workshop, make_centre
):
    bath = make_centre(name="Riverside Family Hub", town="Bath", postcode="BA1 1AA")
    leeds = make_centre(name="Hillside Clinic", town="Leeds", postcode="LS6 2AB")
    make_workshop(title="Colic clinic", centre=bath)
    make_workshop(title="Massage for twins", centre=leeds)

    def found(q):
        return titles(client.get("/classes", query_string={"q": q}).text)

    assert found("TWINS") == ["Massage for twins"]
    assert found("riverside") == ["Colic clinic"]
    assert found("leeds") == ["Massage for twins"]
    assert found("ls6") == ["Massage for twins"]
    assert found("ls62") == ["Massage for twins"]
    assert found("LS6 2A") == ["Massage for twins"]
    assert found("ba1") == ["Colic clinic"]
    assert found("clinic") == ["Colic clinic", "Massage for twins"]
    assert found("colic bath") == ["Colic clinic"]
    assert found("colic leeds") == []
    assert found("S6") == []  # a postcode matches by its start only
    assert found("%") == []  # wildcards are searched for literally


def test_age_filter_uses_the_age_at_the_first_session(client, make_workshop):
    make_workshop(title="From 6 weeks in a fortnight", min_age_weeks=6, starts_in_days=14)
    make_workshop(title="From 6 weeks next week", min_age_weeks=6, starts_in_days=7)
    make_workshop(title="Up to 5 weeks", min_age_weeks=0, max_age_weeks=5, starts_in_days=14)

    def found(age):
        return titles(client.get(f"/classes?age_weeks={age}").text)

    # 4 weeks old now: 6 weeks at a session in 14 days, 5 weeks at one in 7 days.
    assert found(4) == ["From 6 weeks in a fortnight"]
    assert found(5) == ["From 6 weeks next week", "From 6 weeks in a fortnight"]
    assert found(2) == ["Up to 5 weeks"]  # 4 weeks old at the first session
    assert found(3) == ["Up to 5 weeks"]


def test_a_baby_of_n_weeks_fits_every_day_of_that_week(client, ctx, make_workshop, make_user,
                                                      make_baby):
    """"10 weeks" is 10 weeks and 0 to 6 days: a class for up to 10 weeks starting in two
    days would refuse the baby who is 10 weeks and 6 days, so it is not listed for 10 -
    nor on the link the refusal itself offers."""
    from booking.services.booking.book import NotEligible, book_place

    make_workshop(title="Up to 10 weeks", min_age_weeks=6, max_age_weeks=10, starts_in_days=2)
    assert titles(client.get("/classes?age_weeks=9").text) == ["Up to 10 weeks"]
    assert titles(client.get("/classes?age_weeks=10").text) == []
    parent = make_user()
    baby = make_baby(parent, name="Ada", age_weeks=10)
    db.session.rollback()  # a fresh read, seeing the baby written in its own context
    db.session.get(Baby, baby.id).date_of_birth -= timedelta(days=6)
    db.session.commit()
    workshop_id = db.session.scalar(sa.select(Workshop.id))
    with pytest.raises(NotEligible):
        book_place(parent_id=parent.id, workshop_id=workshop_id, baby_id=baby.id, consent=True)


def test_age_filter_service(ctx, make_workshop):
    make_workshop(title="Older babies", min_age_weeks=20, max_age_weeks=40, starts_in_days=7)
    found = catalogue.search_workshops(SearchParams(age_weeks=19))
    assert [x.workshop.title for x in found.listings] == ["Older babies"]
    assert catalogue.search_workshops(SearchParams(age_weeks=18)).total == 0
    assert catalogue.search_workshops(SearchParams(age_weeks=40)).total == 0


def test_date_filters_use_the_centres_local_date(client, make_workshop, make_centre):
    sydney = make_centre(timezone="Australia/Sydney", country="AU", town="Sydney")
    day = date.today() + timedelta(days=40)
    # 09:00 in Sydney is the previous day in UTC.
    starts = local_to_utc(datetime.combine(day, time(9)), "Australia/Sydney")
    assert starts.date() == day - timedelta(days=1)
    make_workshop(title="Sydney morning", centre=sydney, starts_at=starts)
    make_workshop(title="London soon", starts_in_days=5)

    def found(**args):
        return titles(client.get("/classes", query_string=args).text)

    assert found(date_from=day.isoformat()) == ["Sydney morning"]
    assert found(date_to=(day - timedelta(days=1)).isoformat()) == ["London soon"]
    assert found(date_from=day.isoformat(), date_to=day.isoformat()) == ["Sydney morning"]
    assert found(date_to=day.isoformat()) == ["London soon", "Sydney morning"]


def test_local_dates_and_ages_hold_across_daylight_saving_changes(
    app, make_workshop, make_centre
):
    """Just after midnight on the day after the clocks change, in two zones: the local
    date (and so the baby's age at the first session) is the centre's, not UTC's."""
    london = make_centre(timezone="Europe/London")
    sydney = make_centre(timezone="Australia/Sydney", country="AU", town="Sydney")
    # London goes to BST on 28 Mar 2032, Sydney leaves daylight time on 4 Apr 2032.
    london_day, sydney_day = date(2032, 3, 29), date(2032, 4, 5)
    make_workshop(title="London early", centre=london, min_age_weeks=10, max_age_weeks=10,
                  starts_at=local_to_utc(datetime.combine(london_day, time(0, 15)),
                                         "Europe/London"))
    make_workshop(title="Sydney early", centre=sydney, min_age_weeks=10, max_age_weeks=10,
                  starts_at=local_to_utc(datetime.combine(sydney_day, time(0, 15)),
                                         "Australia/Sydney"))
    # Today in both zones: Monday 8 Mar 2032 (London) / Monday 29 Mar 2032 (Sydney).
    now = datetime(2032, 3, 8, 12, tzinfo=UTC)

    def found(**args):
        with app.app_context():
            result = catalogue.search_workshops(SearchParams(**args), now=now)
            return [listing.workshop.title for listing in result.listings]

    assert found(date_from=london_day, date_to=london_day) == ["London early"]
    assert found(date_to=london_day - timedelta(days=1)) == []
    assert found(date_from=sydney_day, date_to=sydney_day) == ["Sydney early"]
    assert found(date_from=sydney_day + timedelta(days=1)) == []
    # London: 21 days from today, so a baby of 7 weeks now is 10 weeks then.
    assert found(age_weeks=7) == ["London early"]
    assert found(age_weeks=8) == []
    # Sydney: 7 days from today (29 Mar to 5 Apr), so a baby of 9 weeks is 10 then.
    now = datetime(2032, 3, 29, 2, tzinfo=UTC)
    assert found(age_weeks=9) == ["Sydney early"]


def test_distance_search_is_nearest_first_within_the_radius(client, make_workshop, make_centre):
    here = (51.4545, -2.5879)  # Bristol
    near = make_centre(name="Near", latitude=51.46, longitude=-2.59)  # under 1 km
    mid = make_centre(name="Mid", latitude=51.38, longitude=-2.36)  # Bath, about 18 km
    far = make_centre(name="Far", latitude=53.80, longitude=-1.55)  # Leeds, about 270 km
    nowhere = make_centre(name="No coordinates")
    make_workshop(title="At Mid, soonest", centre=mid, starts_in_days=2)
    make_workshop(title="At Far", centre=far, starts_in_days=1)
    make_workshop(title="At Near, later", centre=near, starts_in_days=20)
    make_workshop(title="At No coordinates", centre=nowhere, starts_in_days=1)

    def found(**args):
        return client.get("/classes", query_string={"lat": here[0], "lon": here[1], **args})

    response = found(radius_km=50)
    assert titles(response.text) == ["At Near, later", "At Mid, soonest"]
    assert "km away" in response.text
    assert titles(found(radius_km=5).text) == ["At Near, later"]
    assert titles(found(radius_km=500).text) == ["At Near, later", "At Mid, soonest", "At Far"]
    assert titles(found().text) == ["At Near, later", "At Mid, soonest"]  # default 25 km


@pytest.mark.parametrize(
    "lat, lon, radius_km", [(75.0, 10.0, 500.0), (-70.0, 179.0, 400.0), (51.45, -2.59, 25.0)]
)
def test_the_bounding_box_holds_the_whole_circle(ctx, make_centre, lat, lon, radius_km):
    """Centres just inside the circle of `squared_distance`, where it is widest (near its
    edge nearer the pole) and elsewhere, at high latitudes, large radii and across the
    antimeridian: the box the indexes serve keeps every one of them."""
    rho = radius_km / filters.KM_PER_DEGREE
    phi = math.radians(lat)
    toward_pole = 1 if lat > 0 else -1
    for fraction in (0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.8, 0.95):
        for side in (toward_pole, -toward_pole):
            dlat = side * fraction * rho
            cos_mid = math.cos(phi) - math.sin(phi) * dlat * math.pi / 360
            reach = math.sqrt(rho**2 - dlat**2) / cos_mid * 0.9999
            for east in (1, -1):
                centre_lon = (lon + east * reach + 180) % 360 - 180
                make_centre(latitude=lat + dlat, longitude=centre_lon)
    make_centre(latitude=lat, longitude=(lon + 2 * rho / math.cos(phi) + 180) % 360 - 180)
    limit = rho**2
    in_circle = set(db.session.scalars(
        sa.select(Centre.id).where(
            Centre.latitude.is_not(None), filters.squared_distance(lat, lon) <= limit
        )
    ))
    in_box = set(db.session.scalars(
        sa.select(Centre.id).where(filters.within_radius(lat, lon, radius_km))
    ))
    assert len(in_circle) == 32 and in_box == in_circle


def test_distance_search_across_the_antimeridian(ctx, make_workshop, make_centre):
    fiji = make_centre(latitude=-17.8, longitude=179.9, timezone="Pacific/Fiji")
    make_workshop(title="Over the line", centre=fiji)
    found = catalogue.search_workshops(SearchParams(lat=-17.8, lon=-179.9, radius_km=50))
    assert [x.workshop.title for x in found.listings] == ["Over the line"]
    assert found.listings[0].distance_km == pytest.approx(21.2, abs=0.5)


def test_distance_search_pages_match_sorting_the_whole_circle(
    ctx, make_workshop, make_centre, monkeypatch
):
    """A page found in a smaller circle is the page sorting the whole circle gives."""
    here = (51.4545, -2.5879)
    rng = random.Random(20)
    # Two centres close by, the rest 20 to 95 km out; two classes at some centres
    # (equal distances, ordered by date); one centre without coordinates in the town.
    distances = [0.8, 1.5] + [20 + 75 * i / 37 for i in range(38)]
    for i, km in enumerate(distances):
        bearing = rng.uniform(0, 2 * math.pi)
        lat = here[0] + km / 111.2 * math.cos(bearing)
        lon = here[1] + km / 111.2 * math.sin(bearing) / math.cos(math.radians(here[0]))
        centre = make_centre(latitude=lat, longitude=lon)
        for days in (1 + i % 5, 9)[: 1 + (i % 7 == 0)]:
            make_workshop(centre=centre, starts_in_days=days)
    make_workshop(centre=make_centre(), starts_in_days=3)
    # From the town, and from a point 90 km east, its nearest centres 20 km or more away.
    scopes = [
        catalogue.Scope(lat=here[0], lon=here[1], radius_km=100.0, town="Bristol"),
        catalogue.Scope(lat=here[0], lon=here[1] + 90 / 69.4, radius_km=100.0),
    ]

    def pages(per_page):
        found = []
        for scope in scopes:
            for page in range(1, 50 // per_page):
                params = SearchParams(lat=scope.lat, lon=scope.lon, per_page=per_page, page=page)
                result = catalogue.search_workshops(params, scope=scope)
                found.append([listing.workshop.id for listing in result.listings])
        return found

    # How many circles each page tried, and whether one held the page.
    tries, radii = [], []
    within, smaller = catalogue.within_radius, catalogue._nearest_in_smaller_circle

    def count_circles(lat, lon, radius_km):
        radii.append(radius_km)
        return within(lat, lon, radius_km)

    def record(*args):
        radii.clear()
        ids = smaller(*args)
        tries.append((len(radii), ids is not None))
        return ids

    monkeypatch.setattr(catalogue, "within_radius", count_circles)
    monkeypatch.setattr(catalogue, "_nearest_in_smaller_circle", record)
    shortcut = {}
    for limit in (200, 20):
        monkeypatch.setattr(catalogue, "COUNT_LIMIT", limit)
        for per_page in (1, 3, 5):
            shortcut[limit, per_page] = pages(per_page)
    assert (1, True) in tries  # the first circle held the page
    assert any(n > 1 and held for n, held in tries)  # a wider one did
    assert any(n > 0 and not held for n, held in tries)  # none did: the whole was sorted

    monkeypatch.setattr(catalogue, "_nearest_in_smaller_circle", lambda *args: None)
    for (limit, per_page), found in shortcut.items():
        monkeypatch.setattr(catalogue, "COUNT_LIMIT", limit)
        assert found == pages(per_page), (limit, per_page)
    assert sum(len(ids) for ids in pages(1)[:49]) == 47  # every class, the town's last


def test_haversine():
    assert catalogue.haversine_km(51.5, 0, 51.5, 0) == 0
    # London to Paris, about 344 km.
    assert catalogue.haversine_km(51.5074, -0.1278, 48.8566, 2.3522) == pytest.approx(344, 1)


def test_centre_instructor_and_topic_filters(client, make_workshop, make_centre, make_user):
    a, b = make_centre(slug="alpha"), make_centre(slug="beta")
    teacher = make_user(role="instructor", centre=a)
    sleepy = make_workshop(title="Sleep at alpha", centre=a, instructor=teacher)
    make_workshop(title="Other at alpha", centre=a)
    twins = make_workshop(title="Twins at beta", centre=b)
    tag(client.application, sleepy, "sleep", "colic")
    tag(client.application, twins, "twins")

    def found(**args):
        return titles(client.get("/classes", query_string=args).text)

    assert found(centre="alpha") == ["Sleep at alpha", "Other at alpha"]
    assert found(centre="nope") == []
    assert found(instructor=teacher.id) == ["Sleep at alpha"]
    assert found(topic="sleep") == ["Sleep at alpha"]
    assert found(topic="twins") == ["Twins at beta"]
    assert found(topic="grandparents") == []
    assert found(topic="colic", centre="beta") == []
    assert "Colic and digestion" in client.get("/classes?topic=colic").text
    filtered = client.get(f"/classes?centre=alpha&instructor={teacher.id}").text
    assert "centre <strong>Centre 1</strong>" in filtered
    assert f"instructor <strong>{teacher.name}</strong>" in filtered


def test_pagination(client, make_workshop, make_centre, make_user):
    centre = make_centre()
    teacher = make_user(role="instructor", centre=centre)
    for i in range(25):
        make_workshop(
            title=f"Class {i:02d}", centre=centre, instructor=teacher, starts_in_days=i + 1
        )

    first = client.get("/classes?q=class")
    assert titles(first.text) == [f"Class {i:02d}" for i in range(20)]
    assert "25 classes found" in first.text and "page 1 of 2" in first.text
    assert 'rel="next" href="/classes?q=class&amp;page=2"' in first.text
    assert 'rel="prev"' not in first.text

    second = client.get("/classes?q=class&page=2")
    assert titles(second.text) == [f"Class {i:02d}" for i in range(20, 25)]
    assert 'rel="prev" href="/classes?q=class"' in second.text
    assert 'rel="next"' not in second.text

    beyond = client.get("/classes?q=class&page=9")
    assert beyond.status_code == 200
    assert titles(beyond.text) == []
    assert "only 2 pages" in beyond.text
    # Its "Previous page" is the last page with classes, not page 8 (empty again).
    assert 'rel="prev" href="/classes?q=class&amp;page=2"' in beyond.text
    assert 'rel="prev"' not in client.get("/classes?q=nothing-like-this&page=3").text


def test_counting_stops_past_the_count_limit(
    app, client, make_workshop, make_centre, monkeypatch
):
    monkeypatch.setattr(catalogue, "COUNT_LIMIT", 3)
    centre = make_centre()
    for i in range(25):
        make_workshop(title=f"Class {i:02d}", centre=centre, starts_in_days=i + 1)

    with app.app_context():
        result = catalogue.search_workshops(SearchParams(per_page=2))
    assert (result.total, result.total_exact, result.has_next) == (4, False, True)
    assert result.total_text == "more than 3 classes"

    # A page of 20 counts to one row past its end: 21 counted, so more than 20.
    first = client.get("/classes?q=class")
    assert titles(first.text) == [f"Class {i:02d}" for i in range(20)]
    assert "More than 20 classes found" in first.text and "(page 1)" in first.text
    assert 'rel="next" href="/classes?q=class&amp;page=2"' in first.text

    second = client.get("/classes?q=class&page=2")
    assert titles(second.text) == [f"Class {i:02d}" for i in range(20, 25)]
    assert "25 classes found" in second.text and "page 2 of 2" in second.text
    assert 'rel="next"' not in second.text

    home = client.get("/").text
    assert "See all classes" in home


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("age_weeks=abc", "age_weeks"),
        ("date_from=2026-13-45", "date_from"),
        ("date_from=0001-01-01", "date_from"),
        ("date_to=9999-12-31", "date_to"),
        ("page=-1", "page"),
        ("lat=51.4", "lon"),
        ("lat=51&lon=-2&radius_km=5000", "radius_km"),
        ("q=" + "x" * 500, "q"),
        ("topic=unknown", "topic"),
        ("instructor=99999999999999999999", "instructor"),
    ],
)
def test_bad_parameters_give_a_400_page_naming_them(client, make_workshop, query, named):
    make_workshop()
    response = client.get("/classes?" + query)
    assert response.status_code == 400
    assert 'class="error-summary"' in response.text
    assert f"({named})" in response.text
    assert titles(response.text) == []


def test_bad_age_is_shown_next_to_its_field(client):
    response = client.get("/classes?age_weeks=abc")
    assert response.status_code == 400
    assert 'id="age_weeks-error"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert 'value="abc"' in response.text


# --- the number of queries does not grow with the results ----------------------------


def count_queries(app, url, client):
    with app.app_context():
        engine = db.engine
    statements = []

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    client.get(url)  # warm up: connections and caches
    sa.event.listen(engine, "before_cursor_execute", on_execute)
    try:
        response = client.get(url)
    finally:
        sa.event.remove(engine, "before_cursor_execute", on_execute)
    assert response.status_code == 200
    return len(statements)


@pytest.mark.parametrize("url", ["/classes", "/classes?age_weeks=10", "/", "/centres/shared"])
def test_query_count_does_not_grow_with_results(
    app, client, make_workshop, make_centre, make_user, make_baby, url, nothing_kept
):
    centre = make_centre(slug="shared", latitude=51.45, longitude=-2.58)
    teacher = make_user(role="instructor", centre=centre)

    def add(n):
        for _ in range(n):
            w = make_workshop(centre=centre, instructor=teacher)
            tag(app, w, "sleep")
            wait(app, w, make_user, make_baby, 1)

    add(3)
    few = count_queries(app, url, client)
    add(9)
    many = count_queries(app, url, client)
    assert few == many


# --- the class page ------------------------------------------------------------------


def test_class_page_shows_local_times_with_the_zone_named(client, make_workshop, make_centre):
    london = make_centre(name="Bristol Hub", timezone="Europe/London")
    sydney = make_centre(name="Bondi Hub", timezone="Australia/Sydney", country="AU")
    winter = datetime(2030, 1, 15, 10, 0)
    w1 = make_workshop(
        centre=london, starts_at=local_to_utc(winter, "Europe/London"), sessions=2
    )
    w2 = make_workshop(
        centre=sydney, starts_at=local_to_utc(winter, "Australia/Sydney"), kind="single"
    )

    page = client.get(f"/classes/{w1.id}").text
    assert "Tue 15 Jan 2030, 10:00 GMT" in page
    assert "Week 1 of 2:" in page and "Week 2 of 2:" in page
    assert "£45.00" in page

    page = client.get(f"/classes/{w2.id}").text
    assert "Tue 15 Jan 2030, 10:00 AEDT" in page
    assert "Week 1" not in page
    assert "A$45.00" in page


def test_class_page_details(client, make_workshop, make_centre, make_user):
    centre = make_centre(
        name="Riverside Hub",
        address="2 Quay Road",
        postcode="BA1 1AA",
        accessibility_notes="Step-free entrance; baby-change on the ground floor.",
    )
    teacher = make_user(name="Ruth Jones", role="instructor", centre=centre)
    w = make_workshop(
        title="Gentle start",
        centre=centre,
        instructor=teacher,
        min_age_weeks=8,
        max_age_weeks=30,
        capacity=6,
        what_to_bring="A large towel.",
    )
    with client.application.app_context():
        db.session.execute(
            sa.update(WorkshopSession)
            .where(WorkshopSession.workshop_id == w.id, WorkshopSession.number == 2)
            .values(status="cancelled", room="Blue room")
        )
        db.session.commit()

    page = client.get(f"/classes/{w.id}").text
    assert "<h1>Gentle start</h1>" in page
    assert "A large towel." in page
    assert "8 to 30 weeks old" in page
    assert "6 places left" in page
    assert f'href="/instructors/{teacher.id}">Ruth Jones</a>' in page
    assert "2 Quay Road" in page and "Step-free entrance" in page
    assert f'href="/centres/{centre.slug}#access"' in page
    assert re.search(r"<del>Week 2 of 4: [^<]+</del>\s*<strong>cancelled</strong>", page)
    assert "Room: Blue room" in page
    assert "Log in to book" in page and f"/login?next=/classes/{w.id}" in page


def test_full_class_shows_the_waiting_list(app, client, make_workshop, make_user, make_baby):
    w = make_workshop(capacity=4)
    fill(app, w)
    wait(app, w, make_user, make_baby, 2)
    page = client.get(f"/classes/{w.id}").text
    assert "Full – join the waiting list (2 waiting)" in page
    assert "Full – join the waiting list (2 waiting)" in client.get("/classes").text


def test_logged_in_parent_sees_no_login_prompt(client, auth, make_workshop, make_user):
    make_user(email="mum@example.org")
    w = make_workshop()
    auth.login("mum@example.org")
    page = client.get(f"/classes/{w.id}").text
    assert "Log in to book" not in page


def test_cancelled_class_is_shown_with_a_notice(client, make_workshop):
    w = make_workshop(status="cancelled")
    response = client.get(f"/classes/{w.id}")
    assert response.status_code == 200
    assert "This class has been cancelled" in response.text
    assert "Log in to book" not in response.text


@pytest.mark.parametrize("which", ["draft", "hidden centre", "unknown", "huge"])
def test_class_page_not_found(client, make_workshop, make_centre, which):
    if which == "draft":
        url = f"/classes/{make_workshop(status='draft').id}"
    elif which == "hidden centre":
        url = f"/classes/{make_workshop(centre=make_centre(published=False)).id}"
    elif which == "unknown":
        url = "/classes/4242"
    else:
        url = "/classes/99999999999999999999999"
    response = client.get(url)
    assert response.status_code == 404
    assert "We could not find that page" in response.text


def test_get_workshop_service_raises_not_found(ctx, make_workshop):
    w = make_workshop(status="draft")
    with pytest.raises(NotFound):
        catalogue.get_workshop(w.id)


# --- home, centres and instructors ------------------------------------------------------


def test_home_shows_search_upcoming_classes_and_topics(app, client, make_workshop):
    w = make_workshop(title="Sleepy babies")
    tag(app, w, "sleep")
    page = client.get("/").text
    assert 'action="/classes"' in page and 'name="q"' in page
    assert "Sleepy babies" in page
    assert 'href="/classes?topic=sleep">Classes for babies who find it hard to settle</a>' in page
    assert "topic=twins" not in page  # only topics that are on offer


def test_home_without_classes(client):
    page = client.get("/").text
    assert "There are no classes open for booking just now" in page


def test_centres_list_and_profile(client, make_workshop, make_centre):
    open_centre = make_centre(
        name="Open Hub",
        slug="open-hub",
        contact_phone="0117 000 0000",
        description="A friendly family hub.",
        accessibility_notes="Lift to every floor.",
    )
    make_centre(name="Closed Hub", published=False, slug="closed-hub")
    make_workshop(title="At the hub", centre=open_centre)

    listing = client.get("/centres").text
    assert "Open Hub" in listing and "Closed Hub" not in listing

    page = client.get("/centres/open-hub").text
    assert "A friendly family hub." in page
    assert 'id="access"' in page and "Lift to every floor." in page
    assert 'href="tel:01170000000"' in page
    assert "At the hub" in page
    assert client.get("/centres/closed-hub").status_code == 404
    assert client.get("/centres/no-such-place").status_code == 404
    assert client.get("/centres/Bad%00Slug").status_code == 404


def test_instructor_profile(app, client, make_workshop, make_centre, make_user):
    centre = make_centre(name="Teaching Hub")
    teacher = make_user(name="Sam Lee", role="instructor", centre=centre)
    with app.app_context():
        from booking.models import InstructorProfile

        profile = db.session.scalar(
            sa.select(InstructorProfile).where(InstructorProfile.user_id == teacher.id)
        )
        profile.display_name = "Sam Lee CEIM"
        profile.qualification = "Certified Educator of Infant Massage"
        profile.bio = "Mother of three."
        profile.topics = "dads;premature"
        db.session.commit()
    make_workshop(title="Sam's class", centre=centre, instructor=teacher)

    page = client.get(f"/instructors/{teacher.id}").text
    assert "<h1>Sam Lee CEIM</h1>" in page
    assert "Certified Educator of Infant Massage" in page and "Mother of three." in page
    assert "Dads and co-parents" in page and "Premature babies" in page
    assert "Teaching Hub" in page
    assert "Sam&#39;s class" in page

    parent = make_user(role="parent")
    assert client.get(f"/instructors/{parent.id}").status_code == 404
    assert client.get("/instructors/999999").status_code == 404
    assert client.get("/instructors/99999999999999999999").status_code == 404


def test_centre_and_instructor_pages_link_their_feeds(
    client, make_workshop, make_centre, make_user
):
    centre = make_centre(slug="hub")
    instructor = make_user(role="instructor", centre=centre)
    make_workshop(centre=centre, instructor=instructor)
    page = client.get("/centres/hub").get_data(as_text=True)
    assert "webcal://classes.example.org/feeds/centres/hub.ics" in page
    assert "https://classes.example.org/feeds/centres/hub.ics" in page
    page = client.get(f"/instructors/{instructor.id}").get_data(as_text=True)
    assert f"webcal://classes.example.org/feeds/instructors/{instructor.id}.ics" in page


def test_a_course_card_counts_the_weeks_that_run(app, client, make_workshop):
    """Week 2 cancelled: the card says a course of 3 weeks, as the embed does (it said
    4, counting the week the centre cancelled)."""
    from booking.services.schedule.sessions import cancel_session

    course = make_workshop(title="Dads' course", sessions=4)
    with app.app_context():
        week2 = db.session.scalar(sa.select(WorkshopSession.id).where(
            WorkshopSession.workshop_id == course.id, WorkshopSession.number == 2))
        cancel_session(week2)
    page = " ".join(client.get("/classes").get_data(as_text=True).split())
    assert "Course of 3 weeks" in page and "Course of 4 weeks" not in page


def test_the_age_filter_says_to_count_from_the_due_date_for_a_baby_born_early(client):
    """Booking counts a baby born 3 or more weeks early from the due date: the age asked
    for says so, or a parent typing the real age sees classes that refuse the baby."""
    for page in (client.get("/").get_data(as_text=True),
                 client.get("/classes").get_data(as_text=True)):
        assert "counted from the due date if born 3 or more weeks early" in page or (
            "Born 3 or more weeks early? Count from the due date." in page)
