"""Search by place: postcodes, outward codes and place names to classes near them, the
geocoder's cache, the service being down, and the searcher's country.

A local stub of the postcodes service answers every lookup; no test reaches the internet.
"""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from limits import parse_many

from booking.extensions import db
from booking.models import utcnow
from booking.models.geocode import PlaceAnswer
from booking.services.catalogue import geocode, town_index
from booking.services.catalogue.geocode import country_from_languages, gazetteer_town
from booking.web import place_limits
from tests.conftest import _free_port, rate_limited_app
from tests.html_checker import html_errors
from tests.postcodes_stub import E1_8AA, serve_postcodes


@pytest.fixture(autouse=True)
def _fresh_service_state():
    """No service is remembered as down from an earlier test."""
    geocode._down_until.clear()
    yield
    geocode._down_until.clear()


@pytest.fixture
def postcodes(app):
    """The stub, served on a free port, set as POSTCODES_API_URL."""
    with serve_postcodes(app) as stub:
        yield stub


@pytest.fixture
def london(make_centre, make_workshop):
    """Riverside (near Wapping, about 1.6 km from E1 8AA), Camden (about 5.5 km away) and
    Bristol, each with a class."""
    riverside = make_centre(name="Riverside Family Hub", town="London", postcode="E1W 2RG",
                            latitude=51.5055, longitude=-0.0553)
    camden = make_centre(name="Camden Children's Centre", town="London", postcode="NW1 8NH",
                         latitude=51.5390, longitude=-0.1426)
    bristol = make_centre(name="Harbourside Hub", town="Bristol", postcode="BS1 4DJ",
                          latitude=51.4545, longitude=-2.5879)
    # Camden's class is the soonest, so "nearest first" is not "soonest first".
    make_workshop(title="Camden class", centre=camden, starts_in_days=3)
    make_workshop(title="Riverside class", centre=riverside, starts_in_days=9)
    make_workshop(title="Bristol class", centre=bristol, starts_in_days=5)


def titles(html: str) -> list[str]:
    """The class titles listed on a page, in order."""
    return re.findall(r'<h3><a href="/classes/\d+">([^<]+)</a></h3>', html)


def distances(html: str) -> list[float]:
    """The distances the listed classes show, in order."""
    return [float(d) for d in re.findall(r"([\d.]+) km away", html)]


def search(client, q, headers=None, **args):
    return client.get("/classes", query_string={"q": q, **args}, headers=headers or {})


# --- postcodes, outward codes and place names ----------------------------------------


def test_a_full_postcode_lists_the_nearest_class_first_with_its_distance(
    client, postcodes, london
):
    response = search(client, "E1 8AA")
    assert response.status_code == 200
    assert titles(response.text) == ["Riverside class", "Camden class"]
    near, far = distances(response.text)
    assert 1.3 < near < 1.9 and 5 < far < 6.5
    assert "Within 25 km of E1 8AA, nearest first; classes in the United Kingdom only." in (
        response.text
    )
    assert postcodes.requests == ["/postcodes/E18AA"]


@pytest.mark.parametrize("q", ["e1 8aa", "E18AA", "  E1   8AA "])
def test_a_postcode_in_any_case_or_spacing(client, postcodes, london, q):
    assert titles(search(client, q).text) == ["Riverside class", "Camden class"]


def test_a_radius_narrows_the_place_search(client, postcodes, london):
    response = search(client, "E1 8AA", radius_km="2")
    assert titles(response.text) == ["Riverside class"]
    assert "Within 2 km of E1 8AA" in response.text


def test_an_outward_code(client, postcodes, london):
    response = search(client, "e1")
    assert titles(response.text) == ["Riverside class", "Camden class"]
    assert postcodes.requests == ["/outcodes/E1"]


def test_a_town_from_the_gazetteer_needs_no_service(client, postcodes, london):
    response = search(client, "bristol")
    assert titles(response.text) == ["Bristol class"]
    assert distances(response.text)[0] < 2
    assert "of Bristol, nearest first" in response.text
    assert postcodes.requests == []


def test_a_place_within_a_town_through_the_services_place_search(client, postcodes, london):
    response = search(client, "Wapping")
    assert titles(response.text) == ["Riverside class", "Camden class"]
    assert postcodes.requests == ["/places?q=Wapping&limit=1"]


def test_a_class_or_centre_name_is_searched_as_text(client, postcodes, london):
    assert titles(search(client, "riverside").text) == ["Riverside class"]
    assert postcodes.requests == []


def test_a_centre_without_coordinates_is_found_by_its_town(
    client, postcodes, make_centre, make_workshop
):
    leeds = make_centre(name="Hillside Clinic", town="Leeds", postcode="LS6 2AB")
    make_workshop(title="Leeds class", centre=leeds)
    response = search(client, "Leeds")
    assert titles(response.text) == ["Leeds class"]
    assert distances(response.text) == []


def test_a_centre_without_coordinates_is_found_in_the_postcode_area(
    client, postcodes, london, make_centre, make_workshop
):
    # No coordinates: placed by the postcode area alone, after those with a distance.
    shadwell = make_centre(name="Shadwell Baby Club", town="London", postcode="e1 6an")
    make_workshop(title="Shadwell class", centre=shadwell, starts_in_days=1)
    leyton = make_centre(name="Leyton Baby Club", town="London", postcode="E10 5AB")
    make_workshop(title="Leyton class", centre=leyton, starts_in_days=1)
    response = search(client, "E1 8AA")
    assert titles(response.text) == ["Riverside class", "Camden class", "Shadwell class"]
    assert len(distances(response.text)) == 2
    assert titles(search(client, "E1").text)[-1] == "Shadwell class"
    assert "Shadwell class" not in titles(search(client, "E10 5AB").text)  # the stub: no E10


def test_words_that_name_no_place_are_searched_as_text(client, postcodes, london):
    response = search(client, "Harbourside")
    assert titles(response.text) == ["Bristol class"]
    assert "km of" not in response.text


def test_lat_and_lon_win_over_a_place(client, postcodes, london):
    point = {"lat": "51.4545", "lon": "-2.5879", "radius_km": "10"}
    assert titles(search(client, "E1 8AA", **point).text) == ["Bristol class"]
    assert titles(search(client, "Harbourside", **point).text) == ["Bristol class"]
    assert titles(search(client, "Camden", **point).text) == []
    assert postcodes.requests == []


# --- the service being down, and its cache -------------------------------------------


@pytest.mark.parametrize("mode", ["error", "badjson", "slow", "closed"])
def test_with_the_service_down_the_search_is_by_text_with_a_message(
    app, client, postcodes, london, monkeypatch, mode
):
    monkeypatch.setattr(geocode, "TIMEOUT_SECONDS", 0.2)
    postcodes.mode = mode
    if mode == "closed":
        app.config["POSTCODES_API_URL"] = f"http://127.0.0.1:{_free_port()}"
    response = search(client, "E1")
    assert response.status_code == 200
    assert "We couldn&#39;t look up places just now, so this is a text search." in response.text
    assert titles(response.text) == ["Riverside class"]  # its postcode starts with E1
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PlaceAnswer)) == 0


def test_a_service_that_failed_is_left_alone_for_a_while(client, postcodes, london):
    postcodes.mode = "error"
    search(client, "E1 8AA")
    search(client, "Wapping")
    assert len(postcodes.requests) == 1


def test_odd_answers_are_a_place_not_found(client, postcodes, london):
    postcodes.mode = "odd"
    response = search(client, "E1 8AA")
    assert response.status_code == 200
    assert titles(response.text) == []
    assert "couldn" not in response.text


@pytest.mark.parametrize("mode", ["deep", "huge-number"])
def test_answers_that_break_a_parser_are_no_500(client, postcodes, london, mode):
    postcodes.mode = mode
    for q in ("E1 8AA", "Wapping"):
        assert search(client, q).status_code == 200


@pytest.mark.parametrize("mode", ["surrogate-name", "nul-name", "bidi-name"])
def test_a_place_name_that_is_not_text_is_a_place_not_found(client, postcodes, london, mode):
    """A name the service gives with a lone surrogate, a NUL or a direction override
    is not shown, kept or compared: the words are searched as text, twice alike."""
    postcodes.mode = mode
    for _ in range(2):
        response = search(client, "Wapping")
        assert response.status_code == 200
        assert titles(response.text) == []
        body = client.get("/api/v1/workshops", query_string={"q": "Wapping"})
        assert body.status_code == 200 and body.get_json()["place"] is None


def test_an_answer_is_cached_and_a_cache_hit_makes_no_request(app, client, postcodes, london):
    search(client, "E1 8AA")
    search(client, "e18aa")
    assert client.get("/api/v1/workshops", query_string={"q": "E1 8AA"}).status_code == 200
    assert postcodes.requests == ["/postcodes/E18AA"]
    with app.app_context():
        row = db.session.scalar(sa.select(PlaceAnswer))
        assert (row.key, row.kind, row.label, row.country) == (
            "uk-postcode:E18AA", "uk-postcode", "E1 8AA", "GB"
        )
        assert (row.latitude, row.longitude) == E1_8AA
        # Kept 30 days, then asked again.
        row.fetched_at = utcnow() - timedelta(days=31)
        db.session.commit()
    search(client, "E1 8AA")
    assert len(postcodes.requests) == 2


def test_not_found_is_cached_for_a_day(app, client, postcodes, london):
    for _ in range(2):
        response = search(client, "ZZ9 9ZZ")
        assert response.status_code == 200 and titles(response.text) == []
    assert postcodes.requests == ["/postcodes/ZZ99ZZ"]
    with app.app_context():
        row = db.session.scalar(sa.select(PlaceAnswer))
        assert (row.kind, row.latitude, row.longitude) == ("uk-postcode", None, None)
        row.fetched_at = utcnow() - timedelta(hours=25)
        db.session.commit()
    search(client, "ZZ9 9ZZ")
    assert len(postcodes.requests) == 2


def test_purge_expired_deletes_answers_too_old_to_use(app, runner, client, postcodes, london):
    search(client, "E1 8AA")
    search(client, "ZZ9 9ZZ")
    with app.app_context():
        old = db.session.scalar(sa.select(PlaceAnswer).where(PlaceAnswer.key.like("%ZZ99ZZ")))
        old.fetched_at = utcnow() - timedelta(days=31)
        db.session.commit()
    output = runner.invoke(args=["purge-expired"]).output
    assert "Deleted 1 old place-search answer." in output
    with app.app_context():
        assert [r.label for r in db.session.scalars(sa.select(PlaceAnswer))] == ["E1 8AA"]


def test_a_place_the_service_does_not_know_is_a_text_search(client, postcodes, london):
    response = search(client, "Atlantis")
    assert response.status_code == 200 and titles(response.text) == []
    assert postcodes.requests == ["/places?q=Atlantis&limit=1"]


@pytest.mark.parametrize(
    ("q", "status"),
    [
        ("x" * 101, 400),
        ("E1\x008AA", 400),
        ("E1\t8AA", 400),
        ("E1 8AA/../../admin", 200),
        ("E1%2F8AA", 200),
        ("E1 8AA' OR '1'='1", 200),
        ("ÉÉ1 8AA", 200),
        ("E1 8A", 200),
        ("12345", 200),
        ("Wapping" * 14, 200),
        ("Żółć-on-Sea", 200),
        ("%_\\", 200),
    ],
)
def test_bad_inputs_are_a_4xx_or_a_page_never_a_500(client, postcodes, london, q, status):
    assert search(client, q).status_code == status
    api = client.get("/api/v1/workshops", query_string={"q": q})
    assert api.status_code == status
    if status == 400:
        assert api.get_json()["error"]["fields"] == {"q": api.get_json()["error"]["fields"]["q"]}


def test_a_radius_without_a_point_or_place_is_not_an_error(client, london):
    assert client.get("/classes", query_string={"radius_km": "25"}).status_code == 200
    assert client.get("/classes", query_string={"radius_km": "0"}).status_code == 400


# --- Australian postcodes ------------------------------------------------------------


def test_an_australian_postcode_without_its_service_is_a_text_search(
    client, postcodes, make_centre, make_workshop
):
    bondi = make_centre(name="Bondi Hub", town="Sydney", postcode="2026", country="AU",
                        timezone="Australia/Sydney", latitude=-33.8915, longitude=151.2767)
    make_workshop(title="Bondi class", centre=bondi)
    response = search(client, "2026")
    assert "Australian postcodes" in response.text
    assert titles(response.text) == ["Bondi class"]  # by its postcode
    assert postcodes.requests == []


def test_an_australian_postcode_through_its_service(
    app, client, postcodes, make_centre, make_workshop
):
    app.config["AU_POSTCODES_API_URL"] = app.config["POSTCODES_API_URL"]
    bondi = make_centre(name="Bondi Hub", town="Sydney", postcode="2026", country="AU",
                        timezone="Australia/Sydney", latitude=-33.89, longitude=151.25)
    make_workshop(title="Bondi class", centre=bondi)
    response = search(client, "2026", radius_km="5")
    assert titles(response.text) == ["Bondi class"]
    assert len(distances(response.text)) == 1
    assert postcodes.requests == ["/postcodes/2026"]


# --- the searcher's country ----------------------------------------------------------


@pytest.fixture
def two_countries(make_centre, make_workshop):
    london = make_centre(name="Riverside Family Hub", town="London", postcode="E1W 2RG",
                         latitude=51.5055, longitude=-0.0553)
    sydney = make_centre(slug="bondi", name="Bondi Hub", town="Sydney", postcode="2026",
                         country="AU", timezone="Australia/Sydney", latitude=-33.89,
                         longitude=151.25)
    make_workshop(title="London class", centre=london, starts_in_days=4)
    make_workshop(title="Sydney class", centre=sydney, starts_in_days=3)


@pytest.mark.parametrize(
    ("language", "shown"),
    [
        ("en-GB,en;q=0.8", ["London class"]),
        ("en-AU", ["Sydney class"]),
        ("en;q=0.9, en-AU;q=0.8", ["Sydney class"]),
        ("en-US", ["Sydney class", "London class"]),
        (None, ["Sydney class", "London class"]),
    ],
)
def test_the_browser_language_keeps_classes_to_its_country(
    client, two_countries, language, shown
):
    headers = {"Accept-Language": language} if language else {}
    assert titles(client.get("/classes", headers=headers).text) == shown
    home = client.get("/", headers=headers).text
    assert titles(home) == shown
    # The home page says when it keeps to one country, with the way to every country.
    said = re.search(r"Classes in ([^,]+), as your browser's language suggests", home)
    if len(shown) == 1:
        assert said and said[1] == {"London class": "the United Kingdom"}.get(shown[0], "Australia")
        assert 'href="/classes?country=all">Classes in every country</a>' in home
    else:
        assert said is None
    api = client.get("/api/v1/workshops", headers=headers).get_json()
    assert [w["title"] for w in api["items"]] == shown


def test_all_countries_on_request(client, two_countries):
    headers = {"Accept-Language": "en-GB"}
    page = client.get("/classes", headers=headers).text
    assert "Classes in the United Kingdom only." in page
    link = re.search(r'<a href="([^"]+)">Show classes in all countries</a>', page)
    assert link and "country=all" in link[1]
    every = client.get(link[1].replace("&amp;", "&"), headers=headers).text
    assert titles(every) == ["Sydney class", "London class"]
    assert "Show classes in all countries" not in every
    assert titles(client.get("/classes?country=au", headers=headers).text) == ["Sydney class"]
    assert client.get("/classes?country=australia").status_code == 400
    # "UK", as people write it, is GB; a code that names no country is refused, not
    # answered with "Classes in ZZ only" and nothing found.
    assert titles(client.get("/classes?country=UK", headers=headers).text) == ["London class"]
    for nowhere in ("zz", "XX", "Q1"):
        assert client.get(f"/classes?country={nowhere}").status_code == 400, nowhere
        assert client.get(f"/api/v1/workshops?country={nowhere}").status_code == 400, nowhere


def test_a_centre_asked_for_is_shown_whatever_the_language(client, two_countries):
    headers = {"Accept-Language": "en-GB"}
    assert titles(client.get("/classes?centre=bondi", headers=headers).text) == [
        "Sydney class"
    ]


def test_the_place_found_decides_the_country(client, postcodes, two_countries):
    response = search(client, "E1 8AA", headers={"Accept-Language": "en-AU"})
    assert titles(response.text) == ["London class"]
    assert "nearest first; classes in the United Kingdom only." in response.text


def test_the_api_takes_places_and_says_what_it_found(client, postcodes, london):
    body = client.get("/api/v1/workshops", query_string={"q": "E1 8AA"}).get_json()
    assert [w["title"] for w in body["items"]] == ["Riverside class", "Camden class"]
    assert 1.3 < body["items"][0]["distance_km"] < 1.9
    assert body["place"] == {"label": "E1 8AA", "kind": "uk-postcode", "country": "GB",
                             "latitude": E1_8AA[0], "longitude": E1_8AA[1]}
    assert (body["radius_km"], body["country"], body["message"]) == (25, "GB", None)
    postcodes.mode = "error"
    down = client.get("/api/v1/workshops", query_string={"q": "E2"}).get_json()
    assert down["place"] is None and "text search" in down["message"]


# --- pure parts ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("languages", "country"),
    [
        (["en-GB"], "GB"),
        (["en_au", "en-GB"], "AU"),
        (["en", "en-GB"], "GB"),
        (["en-US", "en-GB"], None),
        (["en-uk"], "GB"),
        (["fr"], None),
        ([], None),
    ],
)
def test_country_from_languages(languages, country):
    assert country_from_languages(languages) == country


def test_the_gazetteer_prefers_the_uk_unless_asked_for_australia():
    assert gazetteer_town("perth").country == "GB"
    assert gazetteer_town("Perth", prefer="AU").country == "AU"
    assert gazetteer_town("stoke on trent").label == "Stoke-on-Trent"
    assert gazetteer_town("Sydney").country == "AU"
    assert gazetteer_town("Wapping") is None
    assert gazetteer_town("Paris") is None  # only the UK and Australia


def test_the_packaged_towns_are_the_gazetteers():
    """towns.json is what the installed GeoNames gazetteer says (written again by
    `python -m booking.services.catalogue.town_index` after an upgrade)."""
    assert town_index.load() == {
        key: [tuple(town) for town in towns] for key, towns in town_index.build().items()
    }
    assert len(town_index.load()) > 1000


def test_place_pages_are_valid_html(client, postcodes, london):
    pages = {
        "place": search(client, "E1 8AA").text,
    }
    postcodes.mode = "error"
    pages["down"] = search(client, "E1").text
    pages["country"] = client.get("/classes", headers={"Accept-Language": "en-GB"}).text
    assert html_errors(pages) == {label: [] for label in pages}


def test_query_count_of_a_place_search_does_not_grow_with_results(
    app, client, postcodes, make_centre, make_workshop, nothing_kept
):
    from tests.test_catalogue import count_queries

    centre = make_centre(latitude=51.5055, longitude=-0.0553)
    url = "/classes?q=E1+8AA"
    make_workshop(centre=centre)
    few = count_queries(app, url, client)
    for _ in range(6):
        make_workshop(centre=centre)
    assert count_queries(app, url, client) == few


# --- a budget of new look-ups per address ---------------------------------------------


def test_new_place_look_ups_have_a_budget_per_address(app, postcodes, london, monkeypatch):
    monkeypatch.setattr(place_limits, "_BUDGET", parse_many("3 per hour"))
    # With the page cache on, as in production: a refusal is for one address only.
    with rate_limited_app(app, PAGE_CACHE_SECONDS=5) as limited:
        client = limited.test_client()
        spent = "You have looked up many new places in a short time, so this is a text search"
        # Three new look-ups, each asked of the service...
        for q in ("E1 8AA", "NW1 8NH", "Wapping"):
            assert spent not in search(client, q).text
        assert len(postcodes.requests) == 3
        # ...then a fourth is a text search with a message, and the service is not asked.
        response = search(client, "E1")
        assert response.status_code == 200 and spent in response.text
        assert response.headers["Cache-Control"] == "private, no-store"
        assert titles(response.text) == ["Riverside class"]  # E1W 2RG starts with E1
        assert len(postcodes.requests) == 3
        api = client.get("/api/v1/workshops", query_string={"q": "SW1A 1AA"})
        assert api.status_code == 200 and len(postcodes.requests) == 3
        # What is cached and the packaged towns cost nothing and still work.
        assert titles(search(client, "E1 8AA").text)[0] == "Riverside class"
        assert titles(search(client, "Bristol").text) == ["Bristol class"]
        # Another address has its own budget, and is not shown the page refused to the first.
        other = client.get("/classes", query_string={"q": "E1"},
                           environ_base={"REMOTE_ADDR": "203.0.113.9"})
        assert spent not in other.text and len(postcodes.requests) == 4


def test_the_home_page_counts_topics_in_the_country_it_keeps_to(app, client, two_countries):
    """A topic's link on the home page searches the visitor's country, so its count is
    of that country's classes: a British visitor is not offered a topic whose classes
    are all in Sydney ("0 classes found" behind a link that said 1)."""
    from booking.models import Workshop
    from booking.services.schedule.topic_tags import set_workshop_topics

    with app.app_context():
        sydney = db.session.scalar(sa.select(Workshop).where(Workshop.title == "Sydney class"))
        set_workshop_topics(sydney.id, ["twins"])

    def topic_line(language):
        home = client.get("/", headers={"Accept-Language": language}).text
        match = re.search(r'href="/classes\?topic=twins">Classes[^<]*</a>\s*\((\d+) class', home)
        return match and int(match[1])

    assert topic_line("en-GB") is None
    assert topic_line("en-AU") == 1
    assert topic_line("en-US") == 1  # no one country: every country's classes
    found = client.get("/classes?topic=twins", headers={"Accept-Language": "en-AU"}).text
    assert titles(found) == ["Sydney class"]
