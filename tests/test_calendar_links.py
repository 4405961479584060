"""The "Add to Google Calendar" and "Add to Outlook" links: exact addresses, encoding
that survives any text, UTC instants from the centre's zone, and which sessions get one."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from booking.calendar.data import BabyData, BookingData, CentreData, SessionData, WorkshopData
from booking.calendar.links import (
    OFFICE_EVENT,
    CalendarEntry,
    booking_links,
    google_subscribe_url,
    google_url,
    outlook_url,
)
from booking.timefmt import local_to_utc

ENTRY = CalendarEntry(
    title="Baby massage & more - week 1 of 2 (Ada)",
    starts_at=datetime(2026, 12, 8, 10, 0, tzinfo=UTC),
    ends_at=datetime(2026, 12, 8, 11, 0, tzinfo=UTC),
    details="What to bring: a towel\nClass page: https://classes.example.org/classes/7",
    location="Riverside Hub, 1 High St, London E1 8AA",
)


@pytest.fixture(autouse=True)
def app_context():
    """Class-page addresses need BASE_URL, and nothing else of the app."""
    app = Flask(__name__)
    app.config["BASE_URL"] = "https://classes.example.org/"
    with app.app_context():
        yield


def _query(url: str) -> dict[str, str]:
    values = parse_qs(urlsplit(url).query, keep_blank_values=True, strict_parsing=True)
    assert all(len(v) == 1 for v in values.values()), values
    return {k: v[0] for k, v in values.items()}


def test_google_link_is_exact():
    assert google_url(ENTRY) == (
        "https://calendar.google.com/calendar/render?action=TEMPLATE"
        "&text=Baby%20massage%20%26%20more%20-%20week%201%20of%202%20%28Ada%29"
        "&dates=20261208T100000Z/20261208T110000Z"
        "&details=What%20to%20bring:%20a%20towel%0AClass%20page:%20https://classes"
        ".example.org/classes/7"
        "&location=Riverside%20Hub%2C%201%20High%20St%2C%20London%20E1%208AA"
    )


def test_outlook_links_are_exact():
    query = (
        "?path=/calendar/action/compose&rru=addevent"
        "&subject=Baby%20massage%20%26%20more%20-%20week%201%20of%202%20%28Ada%29"
        "&startdt=2026-12-08T10:00:00Z&enddt=2026-12-08T11:00:00Z"
        "&body=What%20to%20bring:%20a%20towel%0AClass%20page:%20https://classes"
        ".example.org/classes/7"
        "&location=Riverside%20Hub%2C%201%20High%20St%2C%20London%20E1%208AA"
    )
    assert outlook_url(ENTRY) == "https://outlook.live.com/calendar/0/action/compose" + query
    assert outlook_url(ENTRY, OFFICE_EVENT) == (
        "https://outlook.office.com/calendar/0/action/compose" + query
    )


def test_any_text_comes_back_as_it_was():
    """Characters that mean something in a query (&, =, +, #, %, ?), new lines, quotes
    and letters outside ASCII are all encoded, so each service reads back the text."""
    tricky = CalendarEntry(
        title='Rock-a-bye + "tummy" time #2 = 100% fun? Café Zoë 👶',
        starts_at=ENTRY.starts_at,
        ends_at=ENTRY.ends_at,
        details="Line one & two\r\nLine three; a=b\tc / d : e",
        location="Flat 1/2, O'Neil's Yard",
    )
    google = _query(google_url(tricky))
    assert google["text"] == tricky.title
    assert google["details"] == tricky.details
    assert google["location"] == tricky.location
    outlook = _query(outlook_url(tricky))
    assert (outlook["subject"], outlook["body"], outlook["location"]) == (
        tricky.title, tricky.details, tricky.location
    )
    for url in (google_url(tricky), outlook_url(tricky)):
        query = urlsplit(url).query
        assert "+" not in query and " " not in query and "#" not in query and '"' not in query
        assert query.isascii()


def test_times_are_utc_from_any_zone():
    """An aware time in any zone is written as its UTC instant; a naive one is refused."""
    local = datetime(2026, 12, 8, 10, 0, tzinfo=ZoneInfo("Australia/Sydney"))  # AEDT, +11
    entry = CalendarEntry("T", local, local + timedelta(hours=1), "", "")
    assert _query(google_url(entry))["dates"] == "20261207T230000Z/20261208T000000Z"
    assert _query(outlook_url(entry))["startdt"] == "2026-12-07T23:00:00Z"
    naive = CalendarEntry("T", datetime(2026, 12, 8, 10), datetime(2026, 12, 8, 11), "", "")
    with pytest.raises(ValueError):
        google_url(naive)


def test_google_subscription_link_encodes_the_feed():
    url = google_subscribe_url("webcal://classes.example.org/feeds/private/abc_-1.ics")
    assert url == (
        "https://calendar.google.com/calendar/r?cid="
        "webcal%3A%2F%2Fclasses.example.org%2Ffeeds%2Fprivate%2Fabc_-1.ics"
    )


def _centre(timezone: str) -> CentreData:
    return CentreData(
        id=1,
        name="Harbour Hub",
        timezone=timezone,
        currency="AUD",
        full_address="1 Quay St, Sydney NSW 2000",
        contact_email="",
        contact_phone="",
        accessibility_notes="",
    )


def _session(number: int, starts_at: datetime, status="scheduled", room="") -> SessionData:
    return SessionData(
        id=100 + number,
        workshop_id=7,
        number=number,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=1),
        room=room,
        status=status,
        revision=1,
        updated_at=starts_at - timedelta(days=30),
        plan_title=f"Week {number}: legs and feet" if number == 1 else "",
    )


def _booking(sessions, timezone="Australia/Sydney", status="published") -> BookingData:
    workshop = WorkshopData(
        id=7,
        title="Baby massage",
        status=status,
        is_course=len(sessions) > 1,
        what_to_bring="A towel",
        price=Decimal("90.00"),
        cancellation_cutoff_hours=24,
        confirmed_count=1,
        capacity=8,
        centre=_centre(timezone),
        sessions=tuple(sessions),
    )
    created = datetime(2026, 1, 1, tzinfo=UTC)
    return BookingData(
        id=5,
        status="confirmed",
        created_at=created,
        confirmed_at=created,
        cancelled_at=None,
        invite_sequence=0,
        workshop=workshop,
        baby=BabyData(id=3, name="Ada"),
    )


def test_a_sydney_course_across_the_clock_change_gets_the_right_instants():
    """10:00 in Sydney is 23:00 UTC the day before while daylight time lasts (AEDT,
    +11) and 00:00 UTC once it ends on 5 April 2026 (AEST, +10)."""
    zone = "Australia/Sydney"
    sessions = [
        _session(1, local_to_utc(datetime(2026, 3, 29, 10, 0), zone), room="Studio 2"),
        _session(2, local_to_utc(datetime(2026, 4, 5, 10, 0), zone)),
    ]
    links = booking_links(_booking(sessions), now=datetime(2026, 3, 1, tzinfo=UTC))
    assert [(s.number, s.total) for s in links] == [(1, 2), (2, 2)]
    first, second = (_query(s.google) for s in links)
    assert first["dates"] == "20260328T230000Z/20260329T000000Z"
    assert second["dates"] == "20260405T000000Z/20260405T010000Z"
    assert first["text"] == "Baby massage - week 1 of 2 (Ada)"
    assert first["location"] == "Harbour Hub, 1 Quay St, Sydney NSW 2000, Room: Studio 2"
    assert first["details"] == (
        "Week 1: legs and feet\nWhat to bring: A towel\n"
        "Class page: https://classes.example.org/classes/7"
    )
    outlook = _query(links[1].outlook)
    assert (outlook["startdt"], outlook["enddt"]) == (
        "2026-04-05T00:00:00Z", "2026-04-05T01:00:00Z"
    )
    assert outlook["subject"] == "Baby massage - week 2 of 2 (Ada)"
    assert links[1].office.startswith("https://outlook.office.com/")


def test_a_london_single_in_summer_and_its_title():
    zone = "Europe/London"
    start = local_to_utc(datetime(2026, 7, 1, 10, 0), zone)  # BST, +1
    [only] = booking_links(
        _booking([_session(1, start)], timezone=zone), now=datetime(2026, 6, 1, tzinfo=UTC)
    )
    assert _query(only.google)["dates"] == "20260701T090000Z/20260701T100000Z"
    assert only.title == "Baby massage (Ada)"  # a single class names no week


def test_cancelled_and_finished_sessions_get_no_link():
    start = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
    sessions = [
        _session(1, start),
        _session(2, start + timedelta(weeks=1), status="cancelled"),
        _session(3, start + timedelta(weeks=2)),
        _session(4, start + timedelta(weeks=3)),
    ]
    # Week 1 is over; week 3 is under way (it has not ended), so it still counts.
    now = start + timedelta(weeks=2, minutes=30)
    links = booking_links(_booking(sessions), now=now)
    assert [s.number for s in links] == [3, 4]
    assert all(s.total == 4 for s in links)
    assert booking_links(_booking(sessions, status="cancelled"), now=start) == ()
