"""Absences and make-ups through the pages, the private feed and the register."""

import sqlalchemy as sa
from flask import url_for
from icalendar import Calendar

from booking.extensions import db
from booking.models import Absence, Centre, MakeupBooking, MakeupCredit, WorkshopSession
from booking.services.accounts.feed_tokens import issue_feed_token
from booking.services.booking.book import book_place


def session_id(app, workshop, number):
    with app.app_context():
        return db.session.scalar(
            sa.select(WorkshopSession.id).where(
                WorkshopSession.workshop_id == workshop.id, WorkshopSession.number == number
            )
        )


def setup_family(app, make_centre, make_workshop, make_user, make_baby):
    centre = make_centre()
    instructor = make_user(email="teach@example.org", role="instructor", centre=centre)
    home = make_workshop(centre=centre, instructor=instructor, starts_in_days=7)
    other = make_workshop(
        centre=centre, instructor=instructor, starts_in_days=8, title="Thursday class"
    )
    parent = make_user(email="pat@example.org")
    baby = make_baby(parent, name="Ada")
    with app.app_context():
        registration_id = book_place(
            parent_id=parent.id, workshop_id=home.id, baby_id=baby.id, consent=True
        ).registration.id
    return home, other, parent, registration_id


def events(client, token):
    response = client.get(f"/feeds/private/{token}.ics")
    assert response.status_code == 200
    cal = Calendar.from_ical(response.get_data())
    return {str(e["summary"]): e for e in cal.walk("VEVENT")}, response.headers["ETag"]


def test_the_private_feed_sequence_only_goes_up_as_an_absence_comes_and_goes(
    app, client, auth, make_centre, make_workshop, make_user, make_baby
):
    """"We can't come" then "we can come after all", twice: week 2 goes CANCELLED,
    CONFIRMED, CANCELLED, CONFIRMED, each time with a higher SEQUENCE, so no calendar
    keeps an older state."""
    home, _other, parent, registration_id = setup_family(
        app, make_centre, make_workshop, make_user, make_baby
    )
    with app.app_context():
        token = issue_feed_token(parent.id)
    week2 = session_id(app, home, 2)
    auth.login("pat@example.org")
    title = "Baby massage - week 2 of 4 (Ada)"
    seen = [events(client, token)[0][title]]
    base = f"/account/bookings/{registration_id}/sessions/{week2}/absence"
    for path in (base, f"{base}/withdraw", base, f"{base}/withdraw"):
        assert client.post(path).status_code == 302, path
        seen.append(events(client, token)[0][title])
    assert [str(e["status"]) for e in seen] == [
        "CONFIRMED", "CANCELLED", "CONFIRMED", "CANCELLED", "CONFIRMED"
    ]
    sequences = [int(e["sequence"]) for e in seen]
    assert sequences == sorted(set(sequences)), sequences


def test_parent_misses_week_two_and_makes_it_up(
    app, client, auth, make_centre, make_workshop, make_user, make_baby
):
    home, other, parent, registration_id = setup_family(
        app, make_centre, make_workshop, make_user, make_baby
    )
    with app.app_context():
        token = issue_feed_token(parent.id)
    before, etag_before = events(client, token)
    week2 = session_id(app, home, 2)
    auth.login("pat@example.org")

    page = client.get("/account/bookings").get_data(as_text=True)
    assert "We can&#39;t come" in page or "We can't come" in page
    # The page writes each week's addresses out under one path: they are the routes'.
    with app.test_request_context():
        for endpoint in ("account.report_absence", "account.session_ready"):
            url = url_for(endpoint, registration_id=registration_id, session_id=week2)
            assert f'"{url}"' in page, endpoint
    response = client.post(
        f"/account/bookings/{registration_id}/sessions/{week2}/absence", follow_redirects=True
    )
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "make-up credit for week 2" in text
    assert "Thursday class, week 2" in text
    # The credit names the course it was missed from and where it can be used: a family
    # with credits from two courses tells them apart.
    with app.app_context():
        centre = db.session.get(Centre, home.centre_id).name
    assert f"Missed from Baby massage, at {centre}" in text

    after, etag_after = events(client, token)
    assert etag_after != etag_before
    missed = after["Baby massage - week 2 of 4 (Ada)"]
    assert missed["status"] == "CANCELLED"
    was = before["Baby massage - week 2 of 4 (Ada)"]
    assert int(missed["sequence"]) == int(was["sequence"]) + 1
    assert after["Baby massage - week 3 of 4 (Ada)"]["status"] == "CONFIRMED"

    with app.app_context():
        credit_id = db.session.scalar(sa.select(MakeupCredit.id))
    target = session_id(app, other, 2)
    response = client.post(
        f"/account/makeups/{credit_id}/book", data={"session_id": target}, follow_redirects=True
    )
    assert response.status_code == 200
    booked = response.get_data(as_text=True)
    # Named as the parent knows it: its id is no booking number of theirs.
    assert "Your make-up session is booked: Thursday class, week 2, " in booked
    assert "(booking " not in booked
    final, _ = events(client, token)
    made_up = final["Make-up: Thursday class - week 2 of 4 (Ada)"]
    assert made_up["status"] == "CONFIRMED"
    assert "Thursday class - week 3 of 4 (Ada)" not in final

    auth.logout()
    auth.login("teach@example.org")
    register = client.get(f"/teach/sessions/{week2}/register").get_data(as_text=True)
    assert "can&#39;t come" in register or "can't come" in register
    register = client.get(f"/teach/sessions/{target}/register").get_data(as_text=True)
    assert "Make-up from another course" in register
    assert "Ada" in register


def test_bad_absence_and_makeup_posts_are_4xx_and_change_nothing(
    app, client, auth, make_centre, make_workshop, make_user, make_baby
):
    home, other, parent, registration_id = setup_family(
        app, make_centre, make_workshop, make_user, make_baby
    )
    week2 = session_id(app, home, 2)
    make_user(email="someone@example.org")
    auth.login("someone@example.org")
    response = client.post(f"/account/bookings/{registration_id}/sessions/{week2}/absence")
    assert response.status_code == 404
    auth.logout()
    auth.login("pat@example.org")
    other_week2 = session_id(app, other, 2)
    response = client.post(f"/account/bookings/{registration_id}/sessions/{other_week2}/absence")
    assert response.status_code == 404
    client.post(f"/account/bookings/{registration_id}/sessions/{week2}/absence")
    with app.app_context():
        credit_id = db.session.scalar(sa.select(MakeupCredit.id))
    response = client.post(
        f"/account/makeups/{credit_id}/book", data={"session_id": session_id(app, other, 3)}
    )
    assert response.status_code == 422
    assert "credit is for week 2" in response.get_data(as_text=True)
    response = client.post(f"/account/makeups/{credit_id}/book", data={"session_id": "x"})
    assert response.status_code == 400
    response = client.post("/account/makeups/99999/book", data={"session_id": other_week2})
    assert response.status_code == 404
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(MakeupBooking.id))) == 0
        assert db.session.scalar(sa.select(sa.func.count(Absence.id))) == 1
