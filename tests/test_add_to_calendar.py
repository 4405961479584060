"""The confirmation after booking (`/account/bookings/<id>/booked`) and the bookings
page: "Add to Google Calendar", "Add to Apple Calendar" and "Add to Outlook" for that
booking, reached straight after the health questions."""

import html
import re
from datetime import date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import Registration, Workshop, WorkshopSession
from booking.services.health.questions import PRODUCT_FORM
from booking.timefmt import local_to_utc
from tests.html_checker import html_errors

SYDNEY = "Australia/Sydney"


@pytest.fixture
def parent(make_user, auth):
    """A logged-in parent."""
    user = make_user(email="pat@example.org", name="Pat Parent")
    auth.login("pat@example.org")
    return user


def text(response) -> str:
    return response.get_data(as_text=True)


def health_answers() -> dict:
    """The health questionnaire answered "no" throughout, with consent."""
    return {**{f"q-{q.key}": "no" for q in PRODUCT_FORM.questions}, "other": "", "consent": "y"}


def registration_id(app, workshop_id) -> int:
    with app.app_context():
        return db.session.scalar(
            sa.select(Registration.id).where(Registration.workshop_id == workshop_id)
        )


def links_of(page: str, host: str) -> list[dict[str, str]]:
    """The query of every link on the page to `host`, in order."""
    found = []
    for href in re.findall(r'href="([^"]+)"', page):
        url = urlsplit(html.unescape(href))
        if url.netloc == host:
            found.append({k: v[0] for k, v in parse_qs(url.query).items()})
    return found


def sydney_course(make_centre, make_workshop, sessions=3, title="Harbour strokes"):
    """A course at a Sydney centre starting at 10:00 local time, about a month ahead."""
    centre = make_centre(name="Harbour Hub", timezone=SYDNEY, country="AU")
    day = date.today() + timedelta(days=30)
    start = local_to_utc(datetime(day.year, day.month, day.day, 10, 0), SYDNEY)
    return make_workshop(centre=centre, starts_at=start, sessions=sessions, title=title)


def test_booking_then_health_answers_lead_to_the_calendar_buttons(
    app, client, parent, make_baby, make_centre, make_workshop
):
    workshop = sydney_course(make_centre, make_workshop)
    baby = make_baby(parent, name="Ada")
    booked = client.post(
        f"/classes/{workshop.id}/book", data={"baby_id": str(baby.id), "consent": "y"}
    )
    reg = registration_id(app, workshop.id)
    assert booked.headers["Location"] == f"/account/bookings/{reg}/health"
    saved = client.post(f"/account/bookings/{reg}/health", data=health_answers())
    assert saved.status_code == 302
    assert saved.headers["Location"] == f"/account/bookings/{reg}/booked"

    page = text(client.get(saved.headers["Location"]))
    assert "Ada has a place in Harbour strokes" in page
    assert "health answers are saved" in page  # the flash travels on
    assert "Add to Google Calendar (week 1 of 3)" in page
    assert "Add to Outlook (week 1 of 3)" in page
    assert f'href="/account/bookings/{reg}/invite.ics">Add to Apple Calendar (every week)' in page
    assert "Health questions for Ada" not in page  # answered already

    with app.app_context():
        starts = db.session.scalars(
            sa.select(WorkshopSession.starts_at)
            .where(WorkshopSession.workshop_id == workshop.id)
            .order_by(WorkshopSession.number)
        ).all()
    utc = [s.strftime("%Y%m%dT%H%M%SZ") for s in starts]
    google = links_of(page, "calendar.google.com")
    # Week 1 on the big button, then weeks 2 and 3 in the <details>; the 10:00 Sydney
    # start is written as the UTC instant it is.
    assert [g["dates"].split("/")[0] for g in google] == utc
    assert google[0]["text"] == "Harbour strokes - week 1 of 3 (Ada)"
    assert "Harbour Hub" in google[0]["location"]
    outlook = links_of(page, "outlook.live.com")
    assert [o["subject"] for o in outlook] == [
        f"Harbour strokes - week {n} of 3 (Ada)" for n in (1, 2, 3)
    ]
    assert outlook[0]["startdt"] == starts[0].strftime("%Y-%m-%dT%H:%M:%SZ")
    assert len(links_of(page, "outlook.office.com")) == 3
    invite = client.get(f"/account/bookings/{reg}/invite.ics")
    assert invite.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert invite.get_data(as_text=True).count("BEGIN:VEVENT") == 3


def test_a_single_class_has_plain_buttons_and_no_other_weeks(
    app, client, parent, make_baby, make_workshop
):
    workshop = make_workshop(kind="single", title="Colic clinic")
    baby = make_baby(parent, name="Ada")
    client.post(f"/classes/{workshop.id}/book", data={"baby_id": str(baby.id), "consent": "y"})
    reg = registration_id(app, workshop.id)
    page = text(client.get(f"/account/bookings/{reg}/booked"))
    assert ">Add to Google Calendar<" in page and ">Add to Outlook<" in page
    assert ">Add to Apple Calendar<" in page
    assert "The other weeks" not in page
    # Asked before the class: the health questions are still to answer.
    assert f'href="/account/bookings/{reg}/health">Health questions for Ada' in page
    assert [g["text"] for g in links_of(page, "calendar.google.com")] == ["Colic clinic (Ada)"]


def test_the_confirmation_is_for_the_parents_own_confirmed_booking(
    app, client, auth, parent, make_user, make_baby, make_workshop
):
    full = make_workshop(capacity=0, title="Full class")
    open_class = make_workshop(title="Open class")
    baby = make_baby(parent, name="Ada")
    client.post(f"/classes/{full.id}/book", data={"baby_id": str(baby.id), "consent": "y"})
    waiting = registration_id(app, full.id)
    # Waiting: the health answers lead back to the bookings page, and so does the page.
    saved = client.post(f"/account/bookings/{waiting}/health", data=health_answers())
    assert saved.headers["Location"] == "/account/bookings"
    assert client.get(f"/account/bookings/{waiting}/booked").headers["Location"] == (
        "/account/bookings"
    )
    client.post(f"/classes/{open_class.id}/book", data={"baby_id": str(baby.id), "consent": "y"})
    mine = registration_id(app, open_class.id)
    with app.app_context():
        db.session.get(Registration, mine).status = "pending_payment"
        db.session.commit()
    assert client.get(f"/account/bookings/{mine}/booked").headers["Location"] == (
        f"/account/bookings/{mine}/pay"
    )
    with app.app_context():
        db.session.get(Registration, mine).status = "cancelled"
        db.session.commit()
    assert client.get(f"/account/bookings/{mine}/booked").status_code == 302

    assert client.get("/account/bookings/999999/booked").status_code == 404
    assert client.get("/account/bookings/abc/booked").status_code == 404
    assert client.post(f"/account/bookings/{mine}/booked").status_code == 405
    make_user(email="other@example.org")
    auth.logout()
    auth.login("other@example.org")
    response = client.get(f"/account/bookings/{waiting}/booked")
    assert response.status_code == 404
    assert "could not find that booking" in text(response)
    auth.logout()
    assert client.get(f"/account/bookings/{waiting}/booked").status_code == 302  # log in


def test_the_bookings_page_has_add_to_calendar_for_each_upcoming_booking(
    app, client, parent, make_baby, make_centre, make_workshop
):
    course = sydney_course(make_centre, make_workshop, sessions=2, title="Course one")
    single = make_workshop(kind="single", title="Single two")
    full = make_workshop(capacity=0, title="Full three")
    ada, eve = make_baby(parent, name="Ada"), make_baby(parent, name="Eve")
    for workshop, baby in ((course, ada), (single, eve), (full, ada)):
        client.post(f"/classes/{workshop.id}/book", data={"baby_id": str(baby.id), "consent": "y"})
    page = text(client.get("/account/bookings"))
    assert page.count('<details class="add-calendar">') == 2  # not for the waiting place
    assert "Add to calendar<span class=\"visually-hidden\">: Course one, Ada" in page
    assert "Add to Google Calendar (week 1 of 2)" in page
    assert 'Add to Google Calendar<span class="visually-hidden">: Single two, Eve' in page
    titles = [g["text"] for g in links_of(page, "calendar.google.com")]
    assert titles == [  # in the page's order: the single starts first; next sessions only
        "Single two (Eve)", "Course one - week 1 of 2 (Ada)"
    ]
    # A course's other weeks are one tap away, on the booking's own page.
    course_booking = registration_id(app, course.id)
    assert (f'<a href="/account/bookings/{course_booking}/booked">The other week for Google '
            'Calendar or Outlook<span class="visually-hidden">: Course one, Ada</span></a>'
            ) in page
    assert page.count("/booked") == 1  # the single has no other weeks
    booked = text(client.get(f"/account/bookings/{course_booking}/booked"))
    assert [g["text"] for g in links_of(booked, "calendar.google.com")] == [
        "Course one - week 1 of 2 (Ada)", "Course one - week 2 of 2 (Ada)"
    ]


def test_the_bookings_page_adds_the_next_session_and_counts_the_other_weeks(
    app, client, parent, make_baby, make_centre, make_workshop
):
    """Week 1 cancelled: the buttons add week 2, and the booking's own page has the two
    weeks after it; a course with one week left, and a cancelled class, link nowhere."""
    course = sydney_course(make_centre, make_workshop, sessions=4, title="Four weeks")
    last = sydney_course(make_centre, make_workshop, sessions=1, title="Last week")
    called_off = sydney_course(make_centre, make_workshop, sessions=3, title="Called off")
    ada = make_baby(parent, name="Ada")
    for workshop in (course, last, called_off):
        client.post(f"/classes/{workshop.id}/book", data={"baby_id": str(ada.id), "consent": "y"})
    with app.app_context():
        db.session.execute(
            sa.update(WorkshopSession)
            .where(WorkshopSession.workshop_id == course.id, WorkshopSession.number == 1)
            .values(status="cancelled")
        )
        db.session.get(Workshop, called_off.id).status = "cancelled"
        db.session.commit()
    page = text(client.get("/account/bookings"))
    assert "Add to Google Calendar (week 2 of 4)" in page
    assert "Add to Google Calendar (week 1 of 4)" not in page
    reg = registration_id(app, course.id)
    assert (f'<a href="/account/bookings/{reg}/booked">The other 2 weeks for Google Calendar '
            'or Outlook<span class="visually-hidden">: Four weeks, Ada</span></a>') in page
    assert page.count("/booked") == 1  # neither the one-week course nor the cancelled class
    assert "Every session of this class is over or cancelled" in page
    booked = text(client.get(f"/account/bookings/{reg}/booked"))
    assert [g["text"] for g in links_of(booked, "calendar.google.com")] == [
        f"Four weeks - week {n} of 4 (Ada)" for n in (2, 3, 4)
    ]
    assert "/booked" not in booked.split("<main", 1)[-1]  # no link to itself


def test_the_pages_are_valid_html(app, client, parent, make_baby, make_centre, make_workshop):
    course = sydney_course(make_centre, make_workshop)
    single = make_workshop(kind="single", title="Single")
    baby = make_baby(parent, name="Ada")
    for workshop in (course, single):
        client.post(f"/classes/{workshop.id}/book", data={"baby_id": str(baby.id), "consent": "y"})
    app.config["WTF_CSRF_ENABLED"] = True
    pages = {
        "booked course": text(
            client.get(f"/account/bookings/{registration_id(app, course.id)}/booked")
        ),
        "booked single": text(
            client.get(f"/account/bookings/{registration_id(app, single.id)}/booked")
        ),
        "bookings": text(client.get("/account/bookings")),
    }
    errors = html_errors(pages)
    invalid = {label: problems for label, problems in errors.items() if problems}
    assert not invalid, "\n".join(
        f"{label}:\n  " + "\n  ".join(problems) for label, problems in invalid.items()
    )
