"""On a 360 x 740 phone, with JavaScript on and off, on the demo data: "E1 8AA" typed on
the home page lists Riverside Family Hub first with its distance, in the United Kingdom
only (no Sydney classes); with the postcodes service down the search still answers, by
text, and says so. The postcodes service is a local stub."""

import pytest

from booking.services.catalogue import geocode
from tests.e2e.conftest import PHONE
from tests.postcodes_stub import serve_postcodes


@pytest.fixture
def demo(runner):
    """The demo data."""
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output


@pytest.fixture
def postcodes(app):
    """The stub of the postcodes service, as the app's POSTCODES_API_URL."""
    geocode._down_until.clear()
    with serve_postcodes(app) as stub:
        yield stub
    geocode._down_until.clear()


def search_from_home(person, q):
    person.goto("/")
    person.page.locator("#q").fill(q)
    person.submit("Search")


def test_a_postcode_lists_the_nearest_class_first_on_a_phone(demo, postcodes, visitor):
    person = visitor()
    page = person.page
    page.set_viewport_size(PHONE)
    search_from_home(person, "E1 8AA")
    assert "/classes" in page.url
    first = page.locator("li.card.listing").first
    assert "Riverside Family Hub" in first.inner_text()
    assert first.locator(".distance").inner_text().endswith("km away")
    assert page.get_by_role("status").first.inner_text().startswith(
        "Within 25 km of E1 8AA, nearest first"
    )
    assert "Sydney" not in page.locator("main").inner_text()
    box = first.get_by_role("link").first.bounding_box()
    assert box is not None and box["y"] + box["height"] <= PHONE["height"]
    person.fits_phone()
    assert postcodes.requests == ["/postcodes/E18AA"]


def test_with_the_service_down_the_search_is_by_text(demo, postcodes, visitor):
    postcodes.mode = "error"
    person = visitor()
    person.page.set_viewport_size(PHONE)
    search_from_home(person, "E1")
    status = person.page.get_by_role("status").first.inner_text()
    assert "We couldn't look up places just now, so this is a text search." in status
    assert "Riverside Family Hub" in person.page.locator("li.card.listing").first.inner_text()
