"""Finding and booking a class on a phone (issue 19), as HTML: the filters behind one
"Filters" control, the result card's facts, the class page's bar with price, places and
the way to the form, the sessions as a compact list, and a booking form whose button says
what will happen and whose new-baby fields are hidden while a saved baby is chosen.
Browser checks of the same pages at 360 px: tests/e2e/test_phone_booking.py."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import Registration
from tests.html_checker import html_errors


def section(page: str, start: str, end: str) -> str:
    """The page from `start` to the first `end` after it ('' if `start` is missing)."""
    at = page.find(start)
    if at < 0:
        return ""
    return page[at : page.index(end, at) + len(end)]


def filters(page: str) -> str:
    return section(page, '<details class="filters"', "</details>")


@pytest.fixture
def parent(make_user, auth):
    user = make_user(email="parent@example.org", name="Pat Parent")
    auth.login("parent@example.org")
    return user


def test_classes_page_puts_the_filters_behind_one_control(client, make_workshop):
    make_workshop(title="Tiny strokes")
    page = client.get("/classes").text
    folded = filters(page)
    assert "<summary>Filters</summary>" in folded
    assert "<details class=\"filters\">" in folded  # closed until asked for
    for name in ("age_weeks", "date_from", "date_to", "topic"):
        assert f'name="{name}"' in folded, name
    assert 'name="q"' in page and 'name="q"' not in folded
    # No point searched: no distance to choose.
    assert 'name="radius_km"' not in page
    # The search box comes before the results.
    assert page.index('name="q"') < page.index("Tiny strokes")


def test_the_filters_say_how_many_are_on_and_open_for_a_mistake(client):
    page = client.get("/classes", query_string={"age_weeks": "10", "topic": "colic"}).text
    assert '<details class="filters">' in page
    assert re.search(r"<summary>Filters <span class=\"meta\">\(2 on\)</span></summary>", page)
    response = client.get("/classes", query_string={"age_weeks": "ten"})
    assert response.status_code == 400
    assert '<details class="filters" open>' in response.text


def test_a_point_offers_the_distances_with_the_one_used_chosen(client, make_workshop):
    make_workshop()
    page = client.get("/classes", query_string={"lat": "51.45", "lon": "-2.59"}).text
    radius = section(page, '<select id="radius_km"', "</select>")
    assert re.findall(r'value="(\d+)"', radius) == ["2", "5", "10", "25", "50"]
    assert re.search(r'<option selected value="25">25 km</option>', radius)
    page = client.get("/classes", query_string={"lat": "51.45", "lon": "-2.59", "radius_km": "7"})
    assert re.search(r'<option selected value="7">7 km</option>', page.text)


def test_use_my_location_needs_javascript_and_the_browser_may_ask(client):
    for path in ("/", "/classes"):
        response = client.get(path)
        page = response.text
        assert re.search(r'<button type="button" class="button" data-locate hidden[^>]*>'
                         r"Use my location</button>", page), path
        assert '<script src="/static/js/locate.js"></script>' in page
        assert "geolocation=(self)" in response.headers["Permissions-Policy"]
    script = client.get("/static/js/locate.js")
    assert script.status_code == 200
    script.close()


def test_home_page_shows_the_search_then_the_classes_then_the_topics(client, make_workshop):
    make_workshop(title="Tiny strokes")
    page = client.get("/").text
    assert 'name="age_weeks"' in filters(page)
    assert page.index('name="q"') < page.index("Tiny strokes")


def test_a_card_shows_date_place_distance_ages_price_and_places(
    client, make_workshop, make_centre
):
    centre = make_centre(name="Riverside Family Hub", town="London", latitude=51.51,
                         longitude=-0.07)
    starts = datetime(2031, 1, 13, 10, tzinfo=UTC)
    make_workshop(title="Tiny strokes", centre=centre, starts_at=starts, capacity=8,
                  min_age_weeks=6, max_age_weeks=20, price=Decimal("60.00"))
    page = client.get("/classes", query_string={"lat": "51.515", "lon": "-0.072"}).text
    card = section(page, '<li class="card listing">', "</li>")
    assert "Mon 13 Jan 2031, 10:00 GMT" in card
    assert "Riverside Family Hub, London" in card
    assert re.search(r'<span class="distance">\d+\.\d km away</span>', card)
    assert "Babies 6 to 20 weeks old" in card
    assert '<strong class="price">£60.00</strong>' in card
    assert "8 places left" in card


def test_a_card_says_full_and_the_waiting_list_and_its_currency(
    client, make_workshop, make_centre
):
    sydney = make_centre(name="Bondi Baby Studio", town="Sydney", country="AU",
                         timezone="Australia/Sydney")
    make_workshop(title="Bondi course", centre=sydney, capacity=0, price=Decimal("150.00"))
    page = client.get("/classes", query_string={"q": "Bondi"}).text
    card = section(page, '<li class="card listing">', "</li>")
    assert "Full – join the waiting list" in card
    assert '<strong class="price">A$150.00</strong>' in card
    assert re.search(r"\d{2}:\d{2} AE[DS]T</strong>", card)


def test_class_page_has_the_bar_and_a_compact_list_of_sessions(client, make_workshop):
    workshop = make_workshop(title="Tiny strokes", sessions=5, price=Decimal("60.00"))
    page = client.get(f"/classes/{workshop.id}").text
    bar = section(page, '<div class="book-bar">', "</div>")
    assert "<strong>£60.00</strong>" in bar and "8 places left" in bar
    assert '<a class="button primary" href="#book">Book a place</a>' in bar
    assert '<section aria-labelledby="book-heading" class="card" id="book">' in page
    # The bar comes before everything else about the class.
    assert page.index('class="book-bar"') < page.index('<dl class="facts">')
    sessions = section(page, '<ol class="session-list">', "</ol>")
    assert sessions.count("<li>") == 5 and 'class="card"' not in sessions


def test_a_closed_class_has_no_bar(client, make_workshop):
    workshop = make_workshop(status="cancelled")
    assert 'class="book-bar"' not in client.get(f"/classes/{workshop.id}").text


def button(page: str) -> str:
    found = re.search(r'<button type="submit" class="button primary book-submit">([^<]+)</button>',
                      page)
    return found.group(1) if found else ""


def test_the_button_says_book_a_place_or_join_the_waiting_list(
    client, parent, make_baby, make_workshop
):
    make_baby(parent, name="Ada")
    open_class = make_workshop()
    full = make_workshop(capacity=0)
    assert button(client.get(f"/classes/{open_class.id}").text) == "Book a place"
    assert button(client.get(f"/classes/{open_class.id}/book").text) == "Book a place"
    page = client.get(f"/classes/{full.id}").text
    assert button(page) == "Join the waiting list"
    assert '<a class="button primary" href="#book">Join the waiting list</a>' in page


def test_the_button_names_the_online_payment(client, parent, make_workshop):
    online = make_workshop(payment_mode="online", price=Decimal("60.00"))
    deposit = make_workshop(payment_mode="deposit", deposit=1500, price=Decimal("60.00"))
    assert button(client.get(f"/classes/{online.id}").text) == "Book and pay £60.00"
    assert button(client.get(f"/classes/{deposit.id}").text) == "Book and pay the £15.00 deposit"


def test_the_button_says_use_referral_code_once_one_is_typed(
    app, client, parent, make_baby, make_workshop
):
    baby = make_baby(parent, name="Ada")
    workshop = make_workshop(
        capacity=2, held_places=1, held_until=datetime.now(UTC) + timedelta(days=1)
    )
    page = client.get(f"/classes/{workshop.id}").text
    referral = section(page, '<details class="referral">', "</details>")
    assert "<summary>I have a referral code</summary>" in referral
    assert 'name="referral_code"' in referral
    assert (
        '<button type="submit" class="button" name="use_referral" value="1">'
        "Use referral code</button>"
    ) in referral
    assert button(page) == "Book a place"
    # The main button comes first in the form: Enter in any field presses it, not this one.
    form = section(page, f'action="/classes/{workshop.id}/book"', "</form>")
    assert form.index('class="button primary book-submit"') < form.index('name="use_referral"')
    # That button with the field left empty asks for the code rather than booking.
    response = client.post(
        f"/classes/{workshop.id}/book",
        data={"baby_id": str(baby.id), "consent": "y", "referral_code": " ", "use_referral": "1"},
    )
    assert response.status_code == 422
    assert "Type the referral code you were given, or book without one." in response.text
    assert '<details class="referral" open>' in response.text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Registration.id))) == 0
    response = client.post(
        f"/classes/{workshop.id}/book",
        data={"baby_id": str(baby.id), "consent": "y", "referral_code": "NOT-A-CODE"},
    )
    assert response.status_code == 422
    assert '<details class="referral" open>' in response.text
    assert button(response.text) == "Use referral code"


def test_a_saved_baby_is_chosen_and_the_new_baby_fields_wait(
    app, client, parent, make_baby, make_workshop
):
    baby = make_baby(parent, name="Ada", age_weeks=10)
    workshop = make_workshop(min_age_weeks=6, max_age_weeks=20)
    page = client.get(f"/classes/{workshop.id}").text
    chosen = rf'id="baby_id-{baby.id}" value="{baby.id}"\s+aria-describedby="[^"]+"\s+checked'
    assert re.search(chosen, page)
    assert re.search(r'<input type="radio" name="baby_id" id="baby_id-new" value="new">', page)
    assert "A new baby" in page
    new_baby = section(page, '<div class="stack new-baby" id="new-baby">', 'name="baby_due_date"')
    assert 'name="baby_name"' in new_baby and 'name="baby_dob"' in new_baby
    assert re.search(r'<input[^>]*id="baby_dob"[^>]*type="date"', page)
    form = section(page, '<form method="post"', "</form>")
    assert "YYYY-MM-DD" not in form
    assert " required" not in form
    # The stylesheet hides them while another baby is chosen, with or without JavaScript.
    css = (Path(app.static_folder) / "css" / "site.css").read_text()
    assert ".booking-form:has(#baby_id-new:not(:checked)) .new-baby { display: none; }" in css


def test_without_a_saved_baby_the_new_baby_fields_show(client, parent, make_workshop):
    workshop = make_workshop()
    page = client.get(f"/classes/{workshop.id}").text
    assert re.search(r'id="baby_id-new" value="new" checked>', page)


def test_the_phone_pages_are_valid_html(client, parent, make_baby, make_workshop, make_centre):
    centre = make_centre(latitude=51.51, longitude=-0.07)
    baby = make_baby(parent, name="Ada")
    workshop = make_workshop(centre=centre, sessions=5)
    held = make_workshop(capacity=2, held_places=1,
                         held_until=datetime.now(UTC) + timedelta(days=1))
    pages = {
        "home": client.get("/").text,
        "classes": client.get("/classes", query_string={"age_weeks": "10"}).text,
        "near": client.get("/classes", query_string={"lat": "51.5", "lon": "-0.07"}).text,
        "class": client.get(f"/classes/{workshop.id}").text,
        "held": client.get(f"/classes/{held.id}").text,
        "again": client.post(
            f"/classes/{held.id}/book",
            data={"baby_id": str(baby.id), "consent": "y", "referral_code": "NOPE"},
        ).text,
        "book": client.get(f"/classes/{workshop.id}/book").text,
    }
    assert html_errors(pages) == {label: [] for label in pages}
