"""The parent's data export: GET /account/export.json and export_user_data()."""

import json

from booking.extensions import db
from booking.models import Attendance, Baby, OutboxMessage, WorkshopSession
from booking.services.booking.book import book_place
from booking.services.privacy.export import export_user_data


def _book(app, parent, workshop, baby):
    with app.app_context():
        return book_place(
            parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id, consent=True
        ).registration.id


def test_export_needs_login(client):
    response = client.get("/account/export.json")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_export_holds_own_babies_and_bookings_only(
    app, client, auth, make_user, make_baby, make_workshop
):
    parent = make_user(email="ada.parent@example.org", name="Ada Parent")
    other = make_user(email="other.parent@example.org", name="Other Parent")
    workshop = make_workshop(title="Tummy time and massage")
    ada = make_baby(parent, name="Ada", age_weeks=10)
    zed = make_baby(other, name="Zed", age_weeks=12)
    registration_id = _book(app, parent, workshop, ada)
    _book(app, other, workshop, zed)
    with app.app_context():
        baby = db.session.get(Baby, ada.id)
        baby.notes = "Likes the tummy strokes"
        first = db.session.scalars(
            db.select(WorkshopSession).where(WorkshopSession.workshop_id == workshop.id)
        ).first()
        db.session.add(Attendance(registration_id=registration_id, session_id=first.id,
                                  status="present"))
        db.session.commit()

    auth.login("ada.parent@example.org")
    response = client.get("/account/export.json")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == 'attachment; filename="my-data.json"'
    assert "no-store" in response.headers["Cache-Control"]
    data = json.loads(response.get_data(as_text=True))
    assert data["account"]["email"] == "ada.parent@example.org"
    assert data["account"]["name"] == "Ada Parent"
    assert {"role": "parent"} in data["account"]["roles"]
    assert [b["name"] for b in data["babies"]] == ["Ada"]
    assert data["babies"][0]["notes"] == "Likes the tummy strokes"
    assert data["babies"][0]["date_of_birth"] == ada.date_of_birth.isoformat()
    [booking] = data["registrations"]
    assert booking["workshop"]["title"] == "Tummy time and massage"
    assert booking["baby"]["name"] == "Ada"
    assert booking["status"] == "confirmed"
    assert booking["consent_at"].endswith("+00:00")
    assert len(booking["sessions"]) == 4
    assert booking["centre"]["timezone"] == "Europe/London"
    assert [a["status"] for a in data["attendance"]] == ["present"]
    assert data["emails"], "the booking confirmation sent to the parent is listed"
    assert all("sent_at" in e and "subject" in e for e in data["emails"])
    text = response.get_data(as_text=True)
    assert "Zed" not in text
    assert "other.parent@example.org" not in text
    assert "password" not in text and "hash" not in text


def test_export_holds_absences_make_up_credits_and_make_ups(ctx, make_centre, make_workshop,
                                                             make_user, make_baby):
    """Said "we can't come" to week 2, earned a credit, made the week up elsewhere: all
    three are the parent's data; another parent's are not in it."""
    from booking.services.courses.absences import report_absence
    from booking.services.courses.makeups import book_makeup
    from tests.makeup_helpers import session_of

    centre = make_centre()
    home = make_workshop(centre=centre, sessions=4, starts_in_days=3, title="Home course")
    other = make_workshop(centre=centre, sessions=4, starts_in_days=5, title="Other course")
    parent, stranger = make_user(), make_user()
    for who in (parent, stranger):
        registration = book_place(parent_id=who.id, workshop_id=home.id, consent=True,
                                  baby_id=make_baby(who, name=f"Baby {who.id}").id)
        credit = report_absence(parent_id=who.id, registration_id=registration.registration.id,
                                session_id=session_of(home, 2).id)
        if who is parent:
            mine, credit_id = registration.registration.id, credit.id
            book_makeup(parent_id=who.id, credit_id=credit.id,
                        session_id=session_of(other, 2).id)
    data = json.loads(json.dumps(export_user_data(parent.id)))
    (absence,) = data["absences"]
    assert (absence["registration_id"], absence["workshop"], absence["session_number"]) == (
        mine, "Home course", 2)
    (credit,) = data["makeup_credits"]
    assert credit["id"] == credit_id and credit["week_number"] == 2 and credit["used_at"]
    (makeup,) = data["makeups"]
    assert (makeup["credit_id"], makeup["workshop"], makeup["session_number"]) == (
        credit_id, "Other course", 2)
    assert makeup["baby"] == f"Baby {parent.id}"


def test_export_lists_only_emails_to_the_parent(ctx, make_user):
    parent = make_user(email="p@example.org")
    db.session.add_all(
        [
            OutboxMessage(recipient="p@example.org", subject="Mine", body_text="x"),
            OutboxMessage(recipient="q@example.org", subject="Theirs", body_text="y"),
        ]
    )
    db.session.commit()
    data = export_user_data(parent.id)
    assert [e["subject"] for e in data["emails"]] == ["Mine"]
    # A note not yet rendered says what it is about, not an empty subject.
    db.session.add_all([
        OutboxMessage(recipient="p@example.org", subject="", body_text=None,
                      kind="booking_confirmed", ref_id=1),
        OutboxMessage(recipient="p@example.org", subject="", body_text=None,
                      kind="waitlisted", ref_id=2, status="failed"),
    ])
    db.session.commit()
    later = export_user_data(parent.id)["emails"]
    assert [e["subject"] for e in later] == [
        "Mine", "Booking confirmed (being written)", "On the waiting list"]
    assert data["emails"][0]["created_at"].endswith("+00:00")
    assert data["emails"][0]["sent_at"] is None


def test_privacy_page_explains_and_offers_export_and_delete(client, auth, make_user):
    make_user(email="p@example.org")
    auth.login("p@example.org")
    response = client.get("/account/privacy")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'href="/account/export.json"' in page
    assert 'action="/account/delete"' in page
    assert 'name="password"' in page and 'name="confirm"' in page
    assert "<label" in page and 'for="password"' in page and 'for="confirm"' in page
    # Everything the export holds is named, health answers above all (special category
    # data), with what deleting the account and the retention time do to it.
    held = " ".join(page[page.index("What we hold"):page.index("Get a copy")].split())
    for what in ("health answers", "due date", "make-up credits", "home-practice sheets",
                 "evaluated a course", "cleared an answer"):
        assert what in held, what
    assert "the baby's health answers are deleted" in held
    deleting = " ".join(page[page.index("Deleting your account"):].split())
    assert "deletes your babies' health answers" in deleting


def test_privacy_page_needs_login(client):
    assert client.get("/account/privacy").status_code == 302


def test_export_and_privacy_page_show_money_paid_at_the_centre(
    app, client, auth, make_user, make_baby, make_workshop, make_centre
):
    """A place marked paid at the centre: the export gave "paid_at_centre_minor": 6000
    with no currency, and the privacy page counted "Payments (0)"."""
    from decimal import Decimal

    from booking.models import Registration
    from booking.services.payments import staff as payment_staff

    parent = make_user(email="ada.parent@example.org")
    centre = make_centre()
    workshop = make_workshop(centre=centre, title="At the centre", price=Decimal("60.00"),
                             payment_mode="at_centre")
    staff = make_user("staff@example.org", role="staff", centre=centre)
    registration_id = _book(app, parent, workshop, make_baby(parent, name="Ada"))
    with app.app_context():
        from booking.models import User

        payment_staff.mark_paid_at_centre(registration_id, db.session.get(User, staff.id))
        assert db.session.get(Registration, registration_id).paid_at_centre_at is not None
    auth.login("ada.parent@example.org")
    [booking] = client.get("/account/export.json").get_json()["registrations"]
    assert booking["paid_at_centre"] == {"amount": 6000, "amount_text": "£60.00",
                                         "currency": "GBP"}
    page = " ".join(client.get("/account/privacy").get_data(as_text=True).split())
    assert "Also 1 booking the centre marked paid there, with the amount." in page
    # Deleting the account cancels the place: the page says first that only the centre
    # gives back what was paid there.
    assert ("does not give back what you paid at a centre</strong> for places it cancels: "
            "£60.00 at") in page
    assert "for At the centre (Ada). Only the centre can give that back" in page
