"""The parent's account pages: babies and bookings, and cancelling through the web."""

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import Baby, Registration
from booking.services.booking.book import book_place


@pytest.fixture
def parent(make_user, auth):
    user = make_user(email="parent@example.org", name="Pat Parent")
    auth.login("parent@example.org")
    return user


def babies_of(app, parent_id) -> list[tuple[str, date]]:
    with app.app_context():
        return [
            tuple(row)
            for row in db.session.execute(
                sa.select(Baby.name, Baby.date_of_birth)
                .where(Baby.parent_id == parent_id)
                .order_by(Baby.id)
            )
        ]


def book(app, parent, baby, workshop) -> int:
    with app.app_context():
        return book_place(
            parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id, consent=True
        ).registration.id


def status_of(app, registration_id) -> str:
    with app.app_context():
        return db.session.get(Registration, registration_id).status


def test_account_pages_need_login(client):
    for path in ("/account/babies", "/account/bookings"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")


def test_add_list_edit_and_remove_a_baby(client, app, parent):
    dob = date.today() - timedelta(weeks=5)
    response = client.post("/account/babies", data={"name": " Ada ", "date_of_birth": dob})
    assert response.status_code == 302
    assert babies_of(app, parent.id) == [("Ada", dob)]
    page = client.get("/account/babies").get_data(as_text=True)
    assert "Ada is on your account." in page
    with app.app_context():
        baby_id = db.session.scalar(sa.select(Baby.id))
    response = client.post(
        f"/account/babies/{baby_id}/edit",
        data={"name": "Ada Rose", "date_of_birth": dob - timedelta(days=2)},
    )
    assert response.status_code == 302
    assert babies_of(app, parent.id) == [("Ada Rose", dob - timedelta(days=2))]
    response = client.post(f"/account/babies/{baby_id}/delete")
    assert response.status_code == 302
    assert babies_of(app, parent.id) == []


@pytest.mark.parametrize(
    "data, message",
    [
        ({"name": "", "date_of_birth": "2025-01-01"}, "Enter your baby&#39;s first name"),
        ({"name": "Ada", "date_of_birth": "yesterday"}, "Enter the date as YYYY-MM-DD"),
        ({"name": "Ada", "date_of_birth": ""}, "Enter the date as YYYY-MM-DD"),
        (
            {"name": "Ada", "date_of_birth": (date.today() + timedelta(days=3)).isoformat()},
            "cannot be in the future",
        ),
        ({"name": "Ada", "date_of_birth": "2001-01-01"}, "more than 3 years ago"),
        ({"name": "A" * 81, "date_of_birth": "2025-01-01"}, "at most 80 characters"),
    ],
)
def test_bad_baby_details_are_refused(client, app, parent, data, message):
    response = client.post("/account/babies", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert babies_of(app, parent.id) == []


LONGER_COMPARED = "at most 80 characters, where letters such as"
NOTHING_TO_SEE = "Enter your baby&#39;s first name or a nickname."
HIDDEN = "must not contain control characters or text-direction overrides"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        # "ß" compares as "ss": 41 of them are 82 characters to compare, more than kept.
        ("\u00df" * 41, LONGER_COMPARED),
        ("\ufb03" * 30, LONGER_COMPARED),
        ("A" + "\u0130" * 40, LONGER_COMPARED),
        # The rule of people's names: something to see, no control characters (C1 ones
        # too) and no text-direction overrides.
        ("\u200b", NOTHING_TO_SEE),
        ("\u2060\ufeff", NOTHING_TO_SEE),
        ("\u00ad", NOTHING_TO_SEE),
        ("\u202eadA", HIDDEN),
        ("Ada\x9b31m", HIDDEN),
    ],
)
def test_a_name_the_rules_refuse_is_refused_everywhere(client, app, parent, make_baby,
                                                      make_workshop, name, message):
    """Adding, renaming and naming a baby while booking refuse a name alike."""
    assert len(name) <= 80
    baby = make_baby(parent, name="Ada")
    workshop = make_workshop()
    dob = (date.today() - timedelta(weeks=10)).isoformat()
    for url, data in (
        ("/account/babies", {"name": name, "date_of_birth": dob}),
        (f"/account/babies/{baby.id}/edit", {"name": name, "date_of_birth": dob}),
        (f"/classes/{workshop.id}/book",
         {"baby_id": "new", "baby_name": name, "baby_dob": dob, "consent": "y"}),
    ):
        response = client.post(url, data=data)
        assert response.status_code == 422, url
        assert message in response.get_data(as_text=True), url
    assert babies_of(app, parent.id) == [("Ada", baby.date_of_birth)]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Registration.id))) == 0


def test_the_same_baby_twice_is_refused(client, app, parent, make_baby):
    baby = make_baby(parent, name="Ada")
    response = client.post(
        "/account/babies", data={"name": "ADA", "date_of_birth": baby.date_of_birth}
    )
    assert response.status_code == 409
    assert "already on your account" in response.get_data(as_text=True)
    assert len(babies_of(app, parent.id)) == 1


@pytest.mark.parametrize("again", ["Zoe\u0308", "Zo\u00eb\u200b", " zo\u00cb "])
def test_the_same_name_written_another_way_is_the_same_baby(client, app, parent, make_baby,
                                                            make_workshop, again):
    """"Zoë" typed with a combining accent, with a zero-width space or in capitals is the
    baby already on the account: booked once (rule 4), not added twice."""
    baby = make_baby(parent, name="Zo\u00eb")
    workshop = make_workshop(capacity=4)
    first = book(app, parent, baby, workshop)
    with app.app_context():
        second = book_place(parent_id=parent.id, workshop_id=workshop.id, consent=True,
                            baby_name=again, baby_dob=baby.date_of_birth).registration.id
    assert second == first
    assert len(babies_of(app, parent.id)) == 1
    response = client.post(
        "/account/babies", data={"name": again, "date_of_birth": baby.date_of_birth}
    )
    assert response.status_code == 409
    assert len(babies_of(app, parent.id)) == 1


def test_a_corrected_date_of_birth_that_leaves_a_booked_class_is_refused(
    client, app, parent, make_baby, make_workshop
):
    """Rule 2 holds after booking too: a date of birth a year earlier would make Ada 60
    weeks old at the first session of a class for 6 to 20 weeks. Refused, naming the
    class; a correction that still fits is saved."""
    baby = make_baby(parent, name="Ada", age_weeks=10)
    workshop = make_workshop(min_age_weeks=6, max_age_weeks=20, title="Little ones")
    book(app, parent, baby, workshop)
    url = f"/account/babies/{baby.id}/edit"
    response = client.post(url, data={
        "name": "Ada", "date_of_birth": baby.date_of_birth - timedelta(weeks=50),
    })
    assert response.status_code == 409
    text = response.get_data(as_text=True).replace("&#8220;", "\u201c").replace(
        "&#8221;", "\u201d")
    assert "\u201cLittle ones\u201d" in text and "this class is for babies from 6 to 20" in text
    assert babies_of(app, parent.id) == [("Ada", baby.date_of_birth)]
    corrected = baby.date_of_birth - timedelta(weeks=2)
    assert client.post(url, data={"name": "Ada", "date_of_birth": corrected}).status_code == 302
    assert babies_of(app, parent.id) == [("Ada", corrected)]


def test_a_due_date_given_while_booking_cannot_take_a_booked_baby_out_of_its_class(
    client, app, parent, make_baby, make_workshop
):
    """Ada (10 weeks, no due date) has a place in a class for 6 to 20 weeks. Booking
    another class for "a new baby" Ada, born the same day, with a due date 9 weeks after
    the birth is the same baby: the due date would make her 2 weeks old (corrected) at
    the first class. Refused, as on her own page; nothing changes."""
    from booking.services.errors import Conflict

    baby = make_baby(parent, name="Ada", age_weeks=10)
    little = make_workshop(min_age_weeks=6, max_age_weeks=20, title="Little ones")
    other = make_workshop(min_age_weeks=0, max_age_weeks=20, title="Tiny ones")
    book(app, parent, baby, little)
    with app.app_context():
        with pytest.raises(Conflict) as refused:
            book_place(parent_id=parent.id, workshop_id=other.id, consent=True,
                       baby_name="ada", baby_dob=baby.date_of_birth,
                       baby_due_date=baby.date_of_birth + timedelta(weeks=9))
        assert "\u201cLittle ones\u201d" in refused.value.message
        db.session.rollback()
        assert db.session.get(Baby, baby.id).due_date is None
        assert db.session.scalar(sa.select(sa.func.count(Registration.id)).where(
            Registration.workshop_id == other.id)) == 0
    refused = client.post(f"/classes/{other.id}/book", data={
        "baby_id": "new", "baby_name": "ada", "baby_dob": baby.date_of_birth.isoformat(),
        "baby_due_date": (baby.date_of_birth + timedelta(weeks=9)).isoformat(),
        "consent": "y"})
    assert refused.status_code == 409
    assert 'id="baby_due_date-error"' in refused.get_data(as_text=True)  # beside its field


def test_other_parents_babies_are_invisible(client, app, parent, make_user, make_baby):
    other = make_baby(make_user(), name="Secret")
    assert client.get(f"/account/babies/{other.id}/edit").status_code == 404
    response = client.post(
        f"/account/babies/{other.id}/edit", data={"name": "Mine", "date_of_birth": "2025-01-01"}
    )
    assert response.status_code == 404
    assert client.post(f"/account/babies/{other.id}/delete").status_code == 404
    assert "Secret" not in client.get("/account/babies").get_data(as_text=True)
    assert babies_of(app, other.parent_id) == [("Secret", other.date_of_birth)]


def test_baby_with_an_upcoming_booking_cannot_be_removed(
    client, app, parent, make_baby, make_workshop
):
    baby = make_baby(parent, name="Ada")
    book(app, parent, baby, make_workshop())
    response = client.post(f"/account/babies/{baby.id}/delete")
    assert response.status_code == 409
    assert "Ada has 1 upcoming booking. Cancel it first" in response.get_data(as_text=True)
    assert len(babies_of(app, parent.id)) == 1


def test_bookings_page_groups_and_links(client, app, parent, make_baby, make_workshop):
    upcoming = make_workshop(title="Upcoming class", capacity=1)
    full = make_workshop(title="Full class", capacity=0)
    ada = make_baby(parent, name="Ada")
    bo = make_baby(parent, name="Bo")
    confirmed_id = book(app, parent, ada, upcoming)
    book(app, parent, bo, full)
    page = client.get("/account/bookings").get_data(as_text=True)
    assert "Upcoming class" in page and "Full class" in page
    assert "Number 1 on the waiting list" in page
    assert f"/account/bookings/{confirmed_id}/invite.ics" in page
    assert f"/account/bookings/{confirmed_id}/cancel" in page
    assert "Leave the waiting list" in page


def test_the_bookings_page_lists_the_latest_past_and_cancelled_and_links_the_rest(
    client, app, parent, make_baby, make_workshop
):
    """Years of classes do not make the page endless: the ten latest past and cancelled
    bookings are listed, with a link to every one."""
    baby = make_baby(parent, name="Ada")
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    past_titles, cancelled_titles = [], []
    with app.app_context():
        for n in range(12):
            title = f"Past class {n:02d}"
            w = make_workshop(title=title, kind="single", starts_at=now - timedelta(days=30 - n))
            db.session.add(Registration(workshop_id=w.id, baby_id=baby.id, parent_id=parent.id,
                                        status="confirmed", consent_at=now, confirmed_at=now))
            past_titles.append(title)
        for n in range(11):
            title = f"Dropped class {n:02d}"
            w = make_workshop(title=title, kind="single", starts_in_days=20 + n)
            db.session.add(Registration(workshop_id=w.id, baby_id=baby.id, parent_id=parent.id,
                                        status="cancelled", consent_at=now,
                                        cancelled_at=now - timedelta(days=20 - n)))
            cancelled_titles.append(title)
        db.session.commit()
    page = client.get("/account/bookings").get_data(as_text=True)
    # The latest first: the two oldest past classes and the oldest cancellation are left out.
    assert [t for t in past_titles if t in page] == past_titles[2:]
    assert page.index("Past class 11") < page.index("Past class 02")
    assert [t for t in cancelled_titles if t in page] == cancelled_titles[1:]
    assert "Show the 2 older past bookings" in page
    assert "Show the 1 older cancelled booking<" in page
    assert 'href="/account/bookings?past=all#past-heading"' in page
    every = client.get("/account/bookings?past=all").get_data(as_text=True)
    assert all(t in every for t in past_titles + cancelled_titles)
    assert "older past" not in every and "older cancelled" not in every
    refused = client.get("/account/bookings?past=some")
    assert refused.status_code == 400
    assert "Use past=all to list every past" in refused.get_data(as_text=True)


def test_cancel_through_the_web_promotes_the_next_parent(
    client, app, parent, make_user, make_baby, make_workshop
):
    workshop = make_workshop(capacity=1)
    mine = book(app, parent, make_baby(parent), workshop)
    other = make_user()
    theirs = book(app, other, make_baby(other, name="Bo"), workshop)
    response = client.post(f"/account/bookings/{mine}/cancel", follow_redirects=True)
    assert response.status_code == 200
    assert "Your place is cancelled." in response.get_data(as_text=True)
    assert status_of(app, mine) == "cancelled"
    assert status_of(app, theirs) == "confirmed"


def test_cancel_after_cutoff_says_why(client, app, parent, make_baby, make_workshop):
    workshop = make_workshop(starts_in_days=1, cancellation_cutoff_hours=48)
    registration_id = book(app, parent, make_baby(parent), workshop)
    page = client.get("/account/bookings").get_data(as_text=True)
    assert "The cut-off for cancelling was" in page
    assert f"/account/bookings/{registration_id}/cancel" not in page
    response = client.post(f"/account/bookings/{registration_id}/cancel")
    assert response.status_code == 422
    assert "The cut-off for cancelling was" in response.get_data(as_text=True)
    assert status_of(app, registration_id) == "confirmed"


def test_cancelling_someone_elses_booking_is_404(
    client, app, parent, make_user, make_baby, make_workshop
):
    other = make_user()
    registration_id = book(app, other, make_baby(other), make_workshop())
    response = client.post(f"/account/bookings/{registration_id}/cancel")
    assert response.status_code == 404
    assert status_of(app, registration_id) == "confirmed"


def test_cancel_page_asks_first_and_changes_nothing(
    client, app, parent, make_baby, make_workshop
):
    registration_id = book(app, parent, make_baby(parent), make_workshop())
    page = client.get(f"/account/bookings/{registration_id}/cancel")
    assert page.status_code == 200 and "Yes, cancel this booking" in page.get_data(as_text=True)
    assert status_of(app, registration_id) == "confirmed"


def test_baby_with_only_cancelled_bookings_can_be_removed(
    client, app, parent, make_baby, make_workshop
):
    baby = make_baby(parent, name="Ada")
    registration_id = book(app, parent, baby, make_workshop())
    client.post(f"/account/bookings/{registration_id}/cancel")
    response = client.post(f"/account/babies/{baby.id}/delete")
    assert response.status_code == 302
    assert babies_of(app, parent.id) == []
    with app.app_context():
        registration = db.session.get(Registration, registration_id)
        assert (registration.status, registration.baby_id) == ("cancelled", None)
    assert "Baby removed" in client.get("/account/bookings").get_data(as_text=True)
