"""The staff back office through real form posts: access, workshops, sessions, bookings."""

import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from booking.db import write_transaction
from booking.extensions import db
from booking.models import Centre, OutboxMessage, Registration, Workshop, WorkshopSession
from booking.services.accounts import api_tokens
from booking.services.booking import book as booking
from booking.services.catalogue import centres as centre_service
from booking.services.errors import Conflict
from booking.services.schedule.queries import workshop_topics
from booking.services.schedule.span import refresh_span
from booking.timefmt import to_local


@pytest.fixture
def world(make_centre, make_user, make_workshop):
    """A centre with staff, an instructor and a workshop; another centre with its own staff."""
    centre = make_centre(name="Riverside Hub")
    other = make_centre(name="Hilltop Clinic")
    staff = make_user("staff@example.org", role="staff", centre=centre)
    other_staff = make_user("other@example.org", role="staff", centre=other)
    instructor = make_user("teacher@example.org", role="instructor", centre=centre)
    workshop = make_workshop(centre=centre, instructor=instructor, sessions=3, capacity=2)
    return {
        "centre": centre,
        "other": other,
        "staff": staff,
        "other_staff": other_staff,
        "instructor": instructor,
        "workshop": workshop,
    }


def future(days=21, hour=10):
    return (datetime.now() + timedelta(days=days)).replace(
        hour=hour, minute=0, second=0, microsecond=0
    )


def book(app, make_user, make_baby, workshop, name="Ada"):
    parent = make_user()
    baby = make_baby(parent, name=name, age_weeks=12)
    with app.app_context():
        result = booking.book_place(
            parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id, consent=True
        )
        return result.registration.id, parent


def pages(world):
    w = world["workshop"]
    c = world["centre"]
    with_session = f"/manage/workshops/{w.id}"
    return [
        f"/manage/centres/{c.id}",
        f"/manage/centres/{c.id}/workshops/new",
        with_session,
        f"{with_session}/edit",
        f"{with_session}/cancel",
        f"{with_session}/registrations",
        f"{with_session}/sessions/new",
    ]


def test_anonymous_is_sent_to_login(client, world):
    for path in ["/manage", *pages(world)]:
        response = client.get(path)
        assert response.status_code == 302, path
        assert "/login" in response.headers["Location"]


def test_parent_and_instructor_are_refused(client, auth, world, make_user):
    make_user("parent@example.org")
    for email in ("parent@example.org", "teacher@example.org"):
        auth.login(email)
        assert client.get("/manage").status_code == 403
        for path in pages(world):
            assert client.get(path).status_code == 403, path
        auth.logout()


def test_staff_of_another_centre_sees_nothing_and_changes_nothing(app, client, auth, world):
    auth.login("other@example.org")
    assert world["workshop"].title not in client.get("/manage").get_data(as_text=True)
    for path in pages(world):
        assert client.get(path).status_code == 404, path
    w = world["workshop"]
    with app.app_context():
        session_id = db.session.scalar(
            sa.select(WorkshopSession.id).where(WorkshopSession.workshop_id == w.id)
        )
    posts = [
        (f"/manage/workshops/{w.id}/cancel", {"reason": "x"}),
        (f"/manage/workshops/{w.id}/unpublish", {}),
        (f"/manage/workshops/{w.id}/capacity", {"capacity": "9"}),
        (f"/manage/workshops/{w.id}/edit", {"title": "Hijacked"}),
        (f"/manage/sessions/{session_id}/cancel", {}),
        (f"/manage/sessions/{session_id}/move", {"date": "2099-01-01", "time": "10:00"}),
        (f"/manage/centres/{world['centre'].id}", {"name": "Hijacked"}),
    ]
    for path, data in posts:
        assert client.post(path, data=data).status_code == 404, path
    with app.app_context():
        workshop = db.session.get(Workshop, w.id)
        assert (workshop.status, workshop.capacity, workshop.title) == ("published", 2, w.title)
        assert db.session.get(WorkshopSession, session_id).revision == 0
        assert db.session.get(Centre, world["centre"].id).name == "Riverside Hub"


def test_staff_and_admin_see_the_dashboard_and_pages(client, auth, world, make_user):
    make_user("admin@example.org", role="admin")
    for email in ("staff@example.org", "admin@example.org"):
        auth.login(email)
        body = client.get("/manage").get_data(as_text=True)
        assert world["workshop"].title in body and "Riverside Hub" in body
        assert "0 of 2" in body
        for path in pages(world):
            assert client.get(path).status_code == 200, path
        auth.logout()


def test_centre_profile_edit_validates_and_saves(app, client, auth, world):
    auth.login("staff@example.org")
    c = world["centre"]
    data = {
        "name": "Riverside Family Hub",
        "address": "1 Quay",
        "town": "Bristol",
        "postcode": "bs1 4dj",
        "country": "GB",
        "latitude": "51.45",
        "longitude": "",
        "timezone": "Mars/Olympus",
        "contact_email": "not-an-email",
        "contact_phone": "0117 000",
        "description": "Hi",
        "accessibility_notes": "Step-free",
        "embed_origins": "https://ok.example.org\nftp://bad",
        "published": "y",
    }
    response = client.post(f"/manage/centres/{c.id}", data=data)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "IANA time zone" in body and "latitude and longitude" in body
    with app.app_context():
        assert db.session.get(Centre, c.id).name == "Riverside Hub"
    data.update(
        timezone="Europe/London",
        contact_email="hello@riverside.example.org",
        longitude="-2.59",
        embed_origins="https://ok.example.org/\nhttps://ok.example.org",
    )
    response = client.post(f"/manage/centres/{c.id}", data=data)
    assert response.status_code == 302
    with app.app_context():
        centre = db.session.get(Centre, c.id)
        assert centre.name == "Riverside Family Hub" and centre.postcode == "BS1 4DJ"
        assert (centre.latitude, centre.longitude) == (51.45, -2.59)
        assert centre.embed_origins == "https://ok.example.org"


def test_a_country_of_another_currency_is_refused_once_classes_have_prices(
    app, client, auth, world, make_centre, make_workshop, make_user, make_baby
):
    """£60 recorded at a London centre was shown as €60 after its country was set to
    Ireland: every price and payment is an amount in the centre's currency."""
    c = world["centre"]
    url = f"/manage/centres/{c.id}"
    data = {"name": "Riverside Hub", "country": "IE", "timezone": "Europe/London"}
    auth.login("staff@example.org")
    refused = client.post(url, data=data)
    assert refused.status_code == 409
    assert "prices and payments are in GBP" in " ".join(refused.text.split())
    with app.app_context():
        assert db.session.get(Centre, c.id).country == "GB"
    # Nothing priced now, but money recorded: still refused (it would be relabelled).
    with app.app_context():
        from booking.models import Registration
        from booking.services.booking.book import book_place, cancel_registration
        from booking.services.payments import staff as payment_staff
        from booking.services.schedule import edit

        paid_centre = make_centre(name="Paid hub", country="GB")
        priced = make_workshop(centre=paid_centre, price=Decimal("60.00"))
        parent = make_user()
        registration_id = book_place(parent_id=parent.id, workshop_id=priced.id,
                                     baby_id=make_baby(parent).id, consent=True).registration.id
        payment_staff.mark_paid_at_centre(registration_id, make_user(
            role="staff", centre=paid_centre))
        cancel_registration(registration_id, actor_id=parent.id)
        edit.update_workshop(priced.id, price=Decimal("0.00"))
        assert db.session.get(Registration, registration_id).paid_at_centre_at is not None
        with pytest.raises(Conflict):
            centre_service.update_centre(paid_centre.id, country="IE")
    # The same currency is fine, and so is a centre with nothing priced yet.
    assert client.post(url, data=data | {"country": "GB"}).status_code == 302
    with app.app_context():
        from booking.services.catalogue import centres as centres_service

        empty = make_centre(name="New hub", country="GB")
        make_workshop(centre=empty, price=Decimal("0.00"))
        assert centres_service.update_centre(empty.id, country="IE").currency == "EUR"


def test_only_an_admin_shows_or_hides_a_centre(app, client, auth, world, make_user):
    """Staff edit their centre's profile but not whether the public sees it: a centre an
    admin hid stays hidden whatever its staff send, and saving without the tick does
    not hide a public one."""
    c = world["centre"]
    url = f"/manage/centres/{c.id}"
    data = {"name": "Riverside Hub", "country": "GB", "timezone": "Europe/London"}
    auth.login("staff@example.org")
    page = client.get(url)
    assert 'name="published"' not in page.text
    assert "Shown to the public. An admin can hide it." in page.text
    assert client.post(url, data=data).status_code == 302  # no tick: still shown
    with app.app_context():
        assert db.session.get(Centre, c.id).published is True
        centre_service.set_published(c.id, False)  # an admin hides it
    assert client.post(url, data=data | {"published": "y"}).status_code == 302
    with app.app_context():
        assert db.session.get(Centre, c.id).published is False
    assert "Hidden from the public by an admin" in client.get(url).text
    auth.logout()
    make_user("admin@example.org", role="admin")
    auth.login("admin@example.org")
    assert 'name="published"' in client.get(url).text
    assert client.post(url, data=data | {"published": "y"}).status_code == 302
    with app.app_context():
        assert db.session.get(Centre, c.id).published is True


def workshop_form(world, **overrides):
    start = future(days=30)
    data = {
        "kind": "course",
        "title": "Spring baby massage",
        "description": "Five weeks of strokes.",
        "what_to_bring": "A towel",
        "instructor_id": str(world["instructor"].id),
        "first_date": start.strftime("%Y-%m-%d"),
        "first_time": "10:30",
        "sessions": "5",
        "duration_minutes": "60",
        "room": "Room 1",
        "capacity": "8",
        "min_age_weeks": "6",
        "max_age_weeks": "30",
        "price": "45.00",
        "cancellation_cutoff_hours": "24",
        "topics": ["colic", "sleep"],
        "held_places": "0",
        "late_join_until": "1",
        "publish": "y",
    }
    data.update(overrides)
    return data


def test_create_workshop_through_the_form(app, client, auth, world):
    auth.login("staff@example.org")
    url = f"/manage/centres/{world['centre'].id}/workshops/new"
    response = client.post(url, data=workshop_form(world, max_age_weeks="2", price="abc"))
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "maximum age must not be below the minimum" in body
    response = client.post(url, data=workshop_form(world, first_date="2001-01-01"))
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Workshop.id))) == 1
    response = client.post(url, data=workshop_form(world))
    assert response.status_code == 302
    with app.app_context():
        created = db.session.scalar(sa.select(Workshop).where(Workshop.title.like("Spring%")))
        assert created.status == "published" and created.capacity == 8
        starts = db.session.scalars(
            sa.select(WorkshopSession.starts_at)
            .where(WorkshopSession.workshop_id == created.id)
            .order_by(WorkshopSession.number)
        ).all()
        assert len(starts) == 5
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Week 5 of 5" in page and "10:30" in page


def test_create_refuses_an_instructor_of_another_centre(client, auth, world, make_user):
    outsider = make_user(role="instructor", centre=world["other"])
    auth.login("staff@example.org")
    url = f"/manage/centres/{world['centre'].id}/workshops/new"
    response = client.post(url, data=workshop_form(world, instructor_id=str(outsider.id)))
    assert response.status_code == 422


def test_edit_publish_unpublish(app, client, auth, world):
    auth.login("staff@example.org")
    w = world["workshop"]
    data = {
        "title": "Renamed class",
        "description": "",
        "what_to_bring": "",
        "instructor_id": str(world["instructor"].id),
        "min_age_weeks": "6",
        "max_age_weeks": "40",
        "price": "30",
        "cancellation_cutoff_hours": "12",
    }
    assert client.post(f"/manage/workshops/{w.id}/edit", data=data).status_code == 302
    assert client.post(f"/manage/workshops/{w.id}/unpublish").status_code == 302
    assert fresh_status(app, w.id) == "draft"
    assert client.post(f"/manage/workshops/{w.id}/publish").status_code == 302
    with app.app_context():
        workshop = db.session.get(Workshop, w.id)
        assert (workshop.title, workshop.status, workshop.cancellation_cutoff_hours) == (
            "Renamed class",
            "published",
            12,
        )


def test_publishing_at_a_hidden_centre_says_families_cannot_see_it(app, client, auth, world):
    w = world["workshop"]
    auth.login("staff@example.org")
    assert client.post(f"/manage/workshops/{w.id}/unpublish").status_code == 302
    with app.app_context():
        centre_service.set_published(world["centre"].id, False)  # an admin hides it
    page = client.post(f"/manage/workshops/{w.id}/publish", follow_redirects=True)
    assert "its centre is hidden from the public, so families cannot see or book it" in (
        " ".join(page.text.split()))
    with app.app_context():
        centre_service.set_published(world["centre"].id, True)
    client.post(f"/manage/workshops/{w.id}/unpublish")
    page = client.post(f"/manage/workshops/{w.id}/publish", follow_redirects=True)
    assert "The workshop is published." in page.text and "centre is hidden" not in page.text


def fresh_status(app, workshop_id):
    with app.app_context():
        return db.session.get(Workshop, workshop_id).status


def test_unpublish_refused_with_the_reason_while_booked(
    app, client, auth, world, make_user, make_baby
):
    book(app, make_user, make_baby, world["workshop"])
    auth.login("staff@example.org")
    response = client.post(f"/manage/workshops/{world['workshop'].id}/unpublish")
    assert response.status_code == 409
    assert "1 booked and 0 waiting" in response.get_data(as_text=True)
    assert fresh_status(app, world["workshop"].id) == "published"


def test_capacity_raise_promotes_and_lowering_is_refused(
    app, client, auth, world, make_user, make_baby
):
    w = world["workshop"]
    book(app, make_user, make_baby, w)
    book(app, make_user, make_baby, w)
    waiting_id, waiting_parent = book(app, make_user, make_baby, w)
    auth.login("staff@example.org")
    response = client.post(f"/manage/workshops/{w.id}/capacity", data={"capacity": "1"})
    assert response.status_code == 422
    assert "2 places are already confirmed" in response.get_data(as_text=True)
    response = client.post(f"/manage/workshops/{w.id}/capacity", data={"capacity": "abc"})
    assert response.status_code == 422
    assert (
        client.post(f"/manage/workshops/{w.id}/capacity", data={"capacity": "3"}).status_code == 302
    )
    with app.app_context():
        assert db.session.get(Registration, waiting_id).status == "confirmed"
        workshop = db.session.get(Workshop, w.id)
        assert (workshop.capacity, workshop.confirmed_count) == (3, 3)
        assert db.session.scalar(
            sa.select(OutboxMessage.id)
            .where(OutboxMessage.recipient == waiting_parent.email)
            .where(OutboxMessage.subject.like("A place came up%"))
        )


def test_move_session_through_the_form(app, client, auth, world, make_user, make_baby):
    _, parent = book(app, make_user, make_baby, world["workshop"])
    with app.app_context():
        session = db.session.scalar(
            sa.select(WorkshopSession).where(
                WorkshopSession.workshop_id == world["workshop"].id, WorkshopSession.number == 1
            )
        )
        session_id = session.id
    auth.login("staff@example.org")
    page = client.get(f"/manage/sessions/{session_id}/move").get_data(as_text=True)
    assert 'name="date"' in page and 'name="room"' in page
    bad = client.post(
        f"/manage/sessions/{session_id}/move",
        data={"date": "2001-02-03", "time": "10:00", "duration_minutes": "60", "room": ""},
    )
    assert bad.status_code == 422
    assert "Choose a future time" in bad.get_data(as_text=True)
    target = future(days=3)  # before the other sessions, so it stays number 1
    response = client.post(
        f"/manage/sessions/{session_id}/move",
        data={
            "date": target.strftime("%Y-%m-%d"),
            "time": "11:15",
            "duration_minutes": "75",
            "room": "Studio",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        moved = db.session.get(WorkshopSession, session_id)
        assert moved.revision == 1 and moved.room == "Studio"
        recipients = set(
            db.session.scalars(
                sa.select(OutboxMessage.recipient).where(OutboxMessage.subject.like("%changed%"))
            )
        )
        assert recipients == {parent.email, "teacher@example.org"}


def test_add_and_cancel_session_through_the_forms(app, client, auth, world):
    auth.login("staff@example.org")
    w = world["workshop"]
    target = future(days=60)
    response = client.post(
        f"/manage/workshops/{w.id}/sessions/new",
        data={"date": target.strftime("%Y-%m-%d"), "time": "09:00", "duration_minutes": "60"},
    )
    assert response.status_code == 302
    response = client.post(
        f"/manage/workshops/{w.id}/sessions/new",
        data={"date": "not a date", "time": "09:00", "duration_minutes": "60"},
    )
    assert response.status_code == 422
    with app.app_context():
        rows = db.session.scalars(
            sa.select(WorkshopSession)
            .where(WorkshopSession.workshop_id == w.id)
            .order_by(WorkshopSession.number)
        ).all()
        assert len(rows) == 4
        last_id = rows[-1].id
    confirm = client.get(f"/manage/sessions/{last_id}/cancel").get_data(as_text=True)
    assert "Yes, cancel this session" in confirm
    assert client.post(f"/manage/sessions/{last_id}/cancel").status_code == 302
    with app.app_context():
        cancelled = db.session.get(WorkshopSession, last_id)
        assert (cancelled.status, cancelled.revision) == ("cancelled", 1)
    assert client.post(f"/manage/sessions/{last_id}/cancel").status_code == 409


def test_a_course_takes_at_most_26_sessions(app, client, auth, world, make_workshop):
    """A course runs 2 to 26 weeks: a 27th scheduled session is refused; once one is
    cancelled, another can take its place."""
    course = make_workshop(centre=world["centre"], instructor=world["instructor"],
                           sessions=26, capacity=4)
    auth.login("staff@example.org")
    target = future(days=400)
    new = {"date": target.strftime("%Y-%m-%d"), "time": "09:00", "duration_minutes": "60",
           "allow_clash": "y"}
    response = client.post(f"/manage/workshops/{course.id}/sessions/new", data=new)
    assert response.status_code == 409
    assert "A course has at most 26 sessions" in response.get_data(as_text=True)
    with app.app_context():
        first = db.session.scalar(sa.select(WorkshopSession.id).where(
            WorkshopSession.workshop_id == course.id, WorkshopSession.number == 26))
    assert client.post(f"/manage/sessions/{first}/cancel").status_code == 302
    response = client.post(f"/manage/workshops/{course.id}/sessions/new", data=new)
    assert response.status_code == 302
    with app.app_context():
        statuses = db.session.scalars(sa.select(WorkshopSession.status).where(
            WorkshopSession.workshop_id == course.id)).all()
        assert (len(statuses), statuses.count("scheduled")) == (27, 26)


def test_cancel_workshop_with_confirm_step(app, client, auth, world, make_user, make_baby):
    reg_id, parent = book(app, make_user, make_baby, world["workshop"])
    auth.login("staff@example.org")
    w = world["workshop"]
    page = client.get(f"/manage/workshops/{w.id}/cancel").get_data(as_text=True)
    assert "Yes, cancel the workshop" in page
    assert fresh_status(app, w.id) == "published"
    response = client.post(f"/manage/workshops/{w.id}/cancel", data={"reason": "Flooded hall"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Workshop, w.id).status == "cancelled"
        assert db.session.get(Registration, reg_id).status == "cancelled"
        assert db.session.scalar(
            sa.select(OutboxMessage.id).where(
                OutboxMessage.recipient == parent.email,
                OutboxMessage.subject.like("Class cancelled%"),
            )
        )
    # A cancelled workshop no longer changes: not its places, not its topics.
    for path, data in ((f"/manage/workshops/{w.id}/capacity", {"capacity": "20"}),
                       (f"/manage/workshops/{w.id}/topics", {"topics": "colic"})):
        response = client.post(path, data=data)
        assert response.status_code == 409, path
        assert "This workshop has been cancelled" in response.get_data(as_text=True)
    with app.app_context():
        kept = db.session.get(Workshop, w.id)
        assert kept.capacity == 2
        assert workshop_topics(w.id) == []


def sessions_back(app, workshop_id, delta):
    """As if time had passed: the workshop's sessions `delta` earlier."""
    with app.app_context():
        with write_transaction():
            for session in db.session.scalars(
                sa.select(WorkshopSession).where(WorkshopSession.workshop_id == workshop_id)
            ):
                session.starts_at -= delta
                session.ends_at -= delta
            refresh_span(db.session.get(Workshop, workshop_id))
        db.session.execute(sa.delete(OutboxMessage))
        db.session.commit()


def api_cancel(app, client, world, workshop_id):
    """The centre's staff cancel a workshop through the API."""
    with app.app_context():
        _, token = api_tokens.create_token(world["staff"].id, "tests")
    return client.patch(f"/api/v1/workshops/{workshop_id}", json={"status": "cancelled"},
                        headers={"Authorization": f"Bearer {token}"})


def test_a_workshop_that_has_run_cannot_be_cancelled(app, client, auth, world, make_user,
                                                     make_baby, make_workshop):
    """Its families would be told of a cancellation (and refunded) for classes they had:
    refused for the workshop and for each booking (cancelled or moved), and the pages
    offer none of it."""
    w = world["workshop"]
    reg_id, _ = book(app, make_user, make_baby, w)
    sessions_back(app, w.id, timedelta(weeks=6))  # the course ran
    auth.login("staff@example.org")
    assert "Cancel workshop" not in client.get(f"/manage/workshops/{w.id}").get_data(as_text=True)
    response = client.post(f"/manage/workshops/{w.id}/cancel", data={"reason": "Oops"})
    assert response.status_code == 409
    assert "has already run" in response.get_data(as_text=True)
    response = api_cancel(app, client, world, w.id)
    assert response.status_code == 409
    assert "has already run" in response.get_json()["error"]["message"]
    page = client.get(f"/manage/workshops/{w.id}/registrations").get_data(as_text=True)
    assert "Cancel on the parent" not in page
    response = client.post(f"/manage/registrations/{reg_id}/cancel", data={"reason": "Oops"})
    assert response.status_code == 409
    assert "has already run" in response.get_data(as_text=True)
    target = make_workshop(centre=world["centre"], instructor=world["instructor"])
    response = client.post(f"/manage/registrations/{reg_id}/move",
                           data={"to_workshop_id": str(target.id)})
    assert response.status_code == 409
    assert "has already run" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Workshop, w.id).status == "published"
        assert db.session.get(Registration, reg_id).status == "confirmed"
        assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 0


def test_a_course_that_has_started_is_not_cancelled_as_a_whole(app, client, auth, world,
                                                                make_user, make_baby):
    """Its families have had sessions of it: cancelling the workshop would cancel those
    weeks in every calendar and refund in full. Refused on the pages and in the API, with
    the way that works named; its remaining sessions can still be cancelled one by one."""
    w = world["workshop"]
    reg_id, _ = book(app, make_user, make_baby, w)
    sessions_back(app, w.id, timedelta(days=10))  # week 1 ran, weeks 2 and 3 to come
    auth.login("staff@example.org")
    page = client.get(f"/manage/workshops/{w.id}").get_data(as_text=True)
    assert "Cancel workshop" not in page
    confirm = client.get(f"/manage/workshops/{w.id}/cancel").get_data(as_text=True)
    assert "has started" in confirm and "Yes, cancel the workshop" not in confirm
    response = client.post(f"/manage/workshops/{w.id}/cancel", data={"reason": "Ill"})
    assert response.status_code == 409
    text = response.get_data(as_text=True)
    assert text.count("has started") == 1 and "Cancel its remaining sessions" in text
    response = api_cancel(app, client, world, w.id)
    assert response.status_code == 409
    assert "has started" in response.get_json()["error"]["message"]
    with app.app_context():
        assert db.session.get(Workshop, w.id).status == "published"
        assert db.session.get(Registration, reg_id).status == "confirmed"
        sessions = list(db.session.scalars(
            sa.select(WorkshopSession).where(WorkshopSession.workshop_id == w.id)
            .order_by(WorkshopSession.starts_at)
        ))
        assert [s.status for s in sessions] == ["scheduled"] * 3
        assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 0
    for later in sessions[1:]:
        response = client.post(f"/manage/sessions/{later.id}/cancel")
        assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        kept = db.session.get(Workshop, w.id)
        assert kept.status == "published"
        assert db.session.get(WorkshopSession, sessions[0].id).status == "scheduled"
        assert db.session.get(Registration, reg_id).status == "confirmed"
        assert kept.last_ends_at == sessions[0].ends_at  # it has run now


def test_no_one_is_promoted_once_booking_has_closed(app, client, auth, world, make_user,
                                                   make_baby):
    """Rule 10: the waiting list is promoted until the start of session late_join_until
    (the first, here); staff giving a place by hand follow it too."""
    w = world["workshop"]  # capacity 2
    first_id, _ = book(app, make_user, make_baby, w, name="Ada")
    book(app, make_user, make_baby, w, name="Bo")
    waiting_id, _ = book(app, make_user, make_baby, w, name="Cy")
    sessions_back(app, w.id, timedelta(days=9))  # week 1 was two days ago
    auth.login("staff@example.org")
    assert client.post(f"/manage/registrations/{first_id}/cancel").status_code == 302
    page = client.get(f"/manage/workshops/{w.id}/registrations").get_data(as_text=True)
    assert "Give a place now" not in page
    response = client.post(f"/manage/registrations/{waiting_id}/promote")
    assert response.status_code == 409
    assert "Booking for this class closed" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Registration, waiting_id).status == "waitlisted"
        subjects = db.session.scalars(sa.select(OutboxMessage.subject)).all()
    assert not any("place came up" in subject for subject in subjects)


def test_registrations_page_and_actions(
    app, client, auth, world, make_user, make_baby, make_workshop
):
    w = world["workshop"]
    first_id, _ = book(app, make_user, make_baby, w, name="Ada")
    book(app, make_user, make_baby, w, name="Bo")
    waiting_id, _ = book(app, make_user, make_baby, w, name="Cy")
    target = make_workshop(centre=world["centre"], instructor=world["instructor"], capacity=4)
    auth.login("staff@example.org")
    page = client.get(f"/manage/workshops/{w.id}/registrations").get_data(as_text=True)
    assert "Ada" in page and "Cy" in page and "Number 1" in page
    response = client.post(f"/manage/registrations/{waiting_id}/promote")
    assert response.status_code == 409  # full: nothing to give
    response = client.post(
        f"/manage/registrations/{first_id}/move", data={"to_workshop_id": str(target.id)}
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Registration, first_id).status == "cancelled"
        # the freed place went to the head of the waiting list at once
        assert db.session.get(Registration, waiting_id).status == "confirmed"
        assert db.session.get(Workshop, target.id).confirmed_count == 1
    response = client.post(
        f"/manage/registrations/{waiting_id}/cancel", data={"reason": "Asked by phone"}
    )
    assert response.status_code == 302
    with app.app_context():
        reg = db.session.get(Registration, waiting_id)
        assert (reg.status, reg.cancel_reason) == ("cancelled", "Asked by phone")


def test_registration_actions_refused_for_another_centre(
    app, client, auth, world, make_user, make_baby
):
    reg_id, _ = book(app, make_user, make_baby, world["workshop"])
    auth.login("other@example.org")
    for action in ("cancel", "promote", "move"):
        assert client.post(f"/manage/registrations/{reg_id}/{action}").status_code == 404
    with app.app_context():
        assert db.session.get(Registration, reg_id).status == "confirmed"


def test_edit_sets_minimum_numbers_and_late_joining(app, client, auth, world):
    auth.login("staff@example.org")
    w = world["workshop"]
    page = client.get(f"/manage/workshops/{w.id}/edit").get_data(as_text=True)
    assert 'name="min_places"' in page and 'name="late_join_until"' in page
    data = {
        "title": w.title,
        "instructor_id": str(world["instructor"].id),
        "min_age_weeks": "6",
        "max_age_weeks": "52",
        "price": "45",
        "cancellation_cutoff_hours": "24",
        "min_places": "2",
        "late_join_until": "2",
    }
    assert client.post(f"/manage/workshops/{w.id}/edit", data=data).status_code == 302
    with app.app_context():
        workshop = db.session.get(Workshop, w.id)
        assert (workshop.min_places, workshop.late_join_until) == (2, 2)
        assert workshop.decision_at == workshop.first_starts_at - timedelta(hours=48)
    # More than the places, or beyond the sessions: said next to the field, nothing saved.
    for name, value, words in (
        ("min_places", "3", "cannot exceed the capacity (2)"),
        ("late_join_until", "4", "one of the 3 session(s)"),
    ):
        response = client.post(f"/manage/workshops/{w.id}/edit", data={**data, name: value})
        assert response.status_code == 422
        assert words in response.get_data(as_text=True)
    data["min_places"] = ""
    assert client.post(f"/manage/workshops/{w.id}/edit", data=data).status_code == 302
    with app.app_context():
        workshop = db.session.get(Workshop, w.id)
        assert (workshop.min_places, workshop.decision_at, workshop.late_join_until) == (
            None, None, 2
        )


def test_the_workshop_page_names_booked_babies_a_cancelled_first_week_leaves_out(
    app, client, auth, world, make_workshop, make_user, make_baby
):
    """Ages are measured at the first session: Ada is 20 weeks then on a class for 6 to
    20 weeks. Once week 1 is cancelled the first session is a week later and she is 21
    weeks: the cancellation goes ahead (the centre must be able to cancel a week), and
    the workshop's page names her, with where to move or cancel her booking."""
    course = make_workshop(centre=world["centre"], instructor=world["instructor"],
                           sessions=3, capacity=4, min_age_weeks=6, max_age_weeks=20)
    parent = make_user()
    baby = make_baby(parent, name="Ada", age_weeks=19)
    with app.app_context():
        booking.book_place(parent_id=parent.id, workshop_id=course.id, baby_id=baby.id,
                           consent=True)
        week1 = db.session.scalar(sa.select(WorkshopSession.id).where(
            WorkshopSession.workshop_id == course.id, WorkshopSession.number == 1))
    auth.login("staff@example.org")
    page = client.get(f"/manage/workshops/{course.id}").get_data(as_text=True)
    assert "not fit this class" not in page
    assert client.post(f"/manage/sessions/{week1}/cancel").status_code == 302
    page = client.get(f"/manage/workshops/{course.id}").get_data(as_text=True)
    assert "1 booked baby does not fit this class's ages now." in page
    assert "Ada will be 21 weeks old at the first session" in page
    assert f"/manage/workshops/{course.id}/registrations" in page


def test_a_refused_cancel_reason_is_told_for_what_it_is(app, client, auth, world, make_user,
                                                        make_baby):
    """A reason with a text-direction override was answered "Keep the reason to 200
    characters"; it says what is wrong, as the workshop's cancel page does."""
    reg_id, _ = book(app, make_user, make_baby, world["workshop"])
    auth.login("staff@example.org")
    refused = client.post(f"/manage/registrations/{reg_id}/cancel",
                          data={"reason": "Need\u202e it"})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "text-direction" in page and "200 characters" not in page
    long = client.post(f"/manage/registrations/{reg_id}/cancel", data={"reason": "x" * 201})
    assert long.status_code == 422 and "200" in long.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Registration, reg_id).status == "confirmed"


def test_move_to_offers_only_classes_that_take_the_place(app, client, auth, world, make_user,
                                                         make_baby, make_workshop):
    """A draft takes no bookings: it was listed under "Move to" and then refused ("This
    class is not taking bookings"); a cancelled class is not listed either."""
    book(app, make_user, make_baby, world["workshop"])
    open_class = make_workshop(centre=world["centre"], instructor=world["instructor"],
                               title="Open class")
    make_workshop(centre=world["centre"], instructor=world["instructor"], title="Draft class",
                  status="draft")
    make_workshop(centre=world["centre"], instructor=world["instructor"],
                  title="Cancelled class", status="cancelled")
    auth.login("staff@example.org")
    page = client.get(f"/manage/workshops/{world['workshop'].id}/registrations")
    options = re.findall(r'<option value="(\d+)">([^<]*)</option>', page.get_data(as_text=True))
    assert [int(value) for value, _ in options] == [open_class.id]


def test_a_session_move_from_a_page_left_open_does_not_undo_another_change(
    app, client, auth, world
):
    """Tab A opened the move form; tab B moved the session to 11:00; tab A then changed
    only the room, and put the session back at 10:00 (with a second email to everyone).
    Now tab A is told what the session is now, and saving again is a knowing choice."""
    with app.app_context():
        session = db.session.scalars(
            sa.select(WorkshopSession).where(WorkshopSession.workshop_id == world["workshop"].id)
            .order_by(WorkshopSession.number)
        ).first()
        session_id = session.id
        local = to_local(session.starts_at, world["centre"].timezone)
    url = f"/manage/sessions/{session_id}/move"
    auth.login("staff@example.org")
    page_a = client.get(url).text
    revision = re.search(r'name="revision" type="hidden" value="(\d+)"', page_a).group(1)
    base = {"date": local.date().isoformat(), "time": local.strftime("%H:%M"),
            "duration_minutes": "60", "room": "", "revision": revision}
    unchanged = client.post(url, data=base, follow_redirects=True)
    assert "Nothing was changed: the session is as it was." in unchanged.text
    later = (local + timedelta(hours=1)).strftime("%H:%M")
    assert client.post(url, data=base | {"time": later}).status_code == 302  # tab B
    stale = client.post(url, data=base | {"room": "Garden room"})  # tab A
    assert stale.status_code == 409
    assert "This session was changed since you opened this page" in stale.text
    with app.app_context():
        now = db.session.get(WorkshopSession, session_id)
        assert (to_local(now.starts_at, world["centre"].timezone).strftime("%H:%M"),
                now.room) == (later, "")
    unreadable = client.post(url, data=base | {"room": "Garden room", "revision": "abc"})
    assert unreadable.status_code == 409  # not a revision: out of date, not a free pass
    fresh = re.search(r'name="revision" type="hidden" value="(\d+)"', stale.text).group(1)
    again = client.post(url, data=base | {"time": later, "room": "Garden room",
                                          "revision": fresh})
    assert again.status_code == 302
    with app.app_context():
        assert db.session.get(WorkshopSession, session_id).room == "Garden room"
