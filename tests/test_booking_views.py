"""Booking through the web: the class page's panel, POST /classes/<id>/book, bad input."""

import html
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import Baby, Registration, Workshop


def registrations(app) -> list[tuple[int, str]]:
    with app.app_context():
        return [
            tuple(row)
            for row in db.session.execute(
                sa.select(Registration.baby_id, Registration.status).order_by(Registration.id)
            )
        ]


def registration_ids(app) -> list[tuple[int]]:
    with app.app_context():
        return [tuple(row) for row in db.session.execute(sa.select(Registration.id))]


def baby_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(Baby.id)))


@pytest.fixture
def parent(make_user, auth):
    user = make_user(email="parent@example.org", name="Pat Parent")
    auth.login("parent@example.org")
    return user


def test_anonymous_booking_redirects_to_login(client, make_workshop, app):
    workshop = make_workshop()
    response = client.post(f"/classes/{workshop.id}/book", data={"consent": "y"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/login?next=/classes/{workshop.id}"
    assert registrations(app) == []


def test_class_page_offers_login_links_to_anonymous_visitors(client, make_workshop):
    workshop = make_workshop()
    page = client.get(f"/classes/{workshop.id}").get_data(as_text=True)
    assert "Log in to book" in page
    assert "Create an account" in page
    assert f"/register?next=/classes/{workshop.id}" in page


def test_class_page_offers_the_parents_babies(client, parent, make_baby, make_workshop):
    workshop = make_workshop(min_age_weeks=6, max_age_weeks=20)
    make_baby(parent, name="Ada", age_weeks=10)
    make_baby(parent, name="Old Tom", age_weeks=40)
    page = client.get(f"/classes/{workshop.id}").get_data(as_text=True)
    assert f'action="/classes/{workshop.id}/book"' in page
    assert "Ada, born" in page
    assert "Old Tom will be 41 weeks old at the first session" in page
    assert "/classes?age_weeks=40" in page
    assert "No massage for 48 hours after immunisations" in page
    assert "Book a place" in page


def test_full_class_offers_the_waiting_list(client, parent, make_workshop):
    workshop = make_workshop(capacity=0)
    page = client.get(f"/classes/{workshop.id}").get_data(as_text=True)
    assert "Join the waiting list" in page


def test_book_existing_baby_confirms_and_redirects(client, app, parent, make_baby, make_workshop):
    workshop = make_workshop(title="Tiny Strokes")
    baby = make_baby(parent, name="Ada")
    response = client.post(
        f"/classes/{workshop.id}/book", data={"baby_id": str(baby.id), "consent": "y"}
    )
    assert response.status_code == 302
    # A new booking asks for the baby's health answers next (tests/test_health_parent.py).
    [(registration_id,)] = registration_ids(app)
    assert response.headers["Location"] == f"/account/bookings/{registration_id}/health"
    assert registrations(app) == [(baby.id, "confirmed")]
    page = client.get("/account/bookings").get_data(as_text=True)
    assert "Booked: Ada has a place in Tiny Strokes" in page
    assert "Cancel booking" in page


def test_booking_post_reads_nothing_again_after_its_commit(
    client, app, parent, make_baby, make_workshop
):
    """The message after booking comes from what the transaction read, not from
    loading the committed rows again; the transaction reads the centre once, with the
    locked workshop, the parent's account once (the email's recipient included), and
    no session: the email and its invite are rendered after commit."""
    workshop = make_workshop(title="Tiny Strokes")
    baby = make_baby(parent, name="Ada")
    with app.app_context():
        engine = db.engine
    events, statements = [], []

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        events.append(statement.split()[0].upper())
        statements.append(" ".join(statement.split()))

    def on_commit(conn):
        events.append("COMMIT")

    sa.event.listen(engine, "before_cursor_execute", on_execute)
    sa.event.listen(engine, "commit", on_commit)
    try:
        response = client.post(
            f"/classes/{workshop.id}/book", data={"baby_id": str(baby.id), "consent": "y"}
        )
    finally:
        sa.event.remove(engine, "before_cursor_execute", on_execute)
        sa.event.remove(engine, "commit", on_commit)
    assert response.status_code == 302
    assert "INSERT" in events and "COMMIT" in events
    last_commit = len(events) - 1 - events[::-1].index("COMMIT")
    assert events[last_commit + 1 :] == []
    reads_centre = [x for x in statements if re.search(r"centre(_\d+)?\.timezone", x)]
    assert len(reads_centre) == 1 and reads_centre[0].startswith("SELECT workshop.")
    # The account: once as the request's user, once fresh (FOR SHARE) in the transaction.
    assert len([x for x in statements if x.startswith("SELECT user_account.")]) == 2
    # The email and its invite are a note, rendered after commit: no session is loaded.
    assert len([x for x in statements if x.startswith("SELECT workshop_session.")]) == 0
    # The baby chosen is read with the account, and its live booking in the class (none)
    # with the locked workshop: neither costs a statement of its own.
    assert [x for x in statements if x.startswith(("SELECT baby.", "SELECT registration."))] == []
    assert len(statements) <= 10, statements
    page = client.get("/account/bookings").get_data(as_text=True)
    assert "Booked: Ada has a place in Tiny Strokes" in page


def test_booking_post_for_a_hidden_class_is_not_found(client, parent, make_baby, make_workshop):
    workshop = make_workshop(status="draft")
    baby = make_baby(parent, name="Ada")
    response = client.post(
        f"/classes/{workshop.id}/book", data={"baby_id": str(baby.id), "consent": "y"}
    )
    assert response.status_code == 404


def test_book_new_baby_when_full_shows_position(client, app, parent, make_workshop):
    workshop = make_workshop(capacity=0)
    dob = (date.today() - timedelta(weeks=8)).isoformat()
    response = client.post(
        f"/classes/{workshop.id}/book",
        data={"baby_id": "new", "baby_name": "Bo", "baby_dob": dob, "consent": "y"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "you are number 1 on the waiting list" in page
    # The health questions come next; the bookings page shows the position.
    assert "Bo's health questions" in page
    bookings = client.get("/account/bookings").get_data(as_text=True)
    assert "Number 1 on the waiting list" in bookings
    assert [status for _, status in registrations(app)] == ["waitlisted"]


def test_double_submit_gives_one_registration(client, app, parent, make_baby, make_workshop):
    workshop = make_workshop()
    baby = make_baby(parent)
    for _ in range(2):
        client.post(f"/classes/{workshop.id}/book", data={"baby_id": baby.id, "consent": "y"})
    assert registrations(app) == [(baby.id, "confirmed")]


@pytest.mark.parametrize("status", ["draft", "cancelled"])
def test_unpublished_class_is_404(client, app, parent, make_baby, make_workshop, status):
    workshop = make_workshop(status=status)
    baby = make_baby(parent)
    response = client.post(
        f"/classes/{workshop.id}/book", data={"baby_id": baby.id, "consent": "y"}
    )
    assert response.status_code == 404
    assert "We could not find that class" in response.get_data(as_text=True)
    assert registrations(app) == []


def test_a_family_booked_on_a_class_keeps_its_page_while_its_centre_is_hidden(
    client, app, auth, parent, make_baby, make_centre, make_user, make_workshop
):
    """The links in a booked family's emails and bookings lead to the class page: when an
    admin hides the centre, that family still sees it (their booking stands, it says);
    anyone else, logged in or not, is told there is no such class."""
    from booking.models import Centre

    centre = make_centre()
    workshop = make_workshop(centre=centre, title="Hidden hub course")
    baby = make_baby(parent)
    assert client.post(f"/classes/{workshop.id}/book",
                       data={"baby_id": baby.id, "consent": "y"}).status_code == 302
    with app.app_context():
        db.session.get(Centre, centre.id).published = False
        db.session.commit()
    page = client.get(f"/classes/{workshop.id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Hidden hub course" in text and "What you booked here stands" in text
    # No booking form that would only fail (a twin), and no links to its hidden centre.
    assert f'action="/classes/{workshop.id}/book"' not in text
    assert "is not taking new bookings just now" in text
    assert f'href="/centres/{centre.slug}' not in text
    auth.logout()
    assert client.get(f"/classes/{workshop.id}").status_code == 404
    make_user(email="other@example.org")
    auth.login("other@example.org")
    assert client.get(f"/classes/{workshop.id}").status_code == 404


def test_a_class_at_a_hidden_centre_is_404_and_keeps_no_new_baby(
    client, app, parent, make_centre, make_workshop
):
    """A logged-in parent's POST is checked by the booking itself: nothing it wrote
    before finding the class hidden (a new baby) is kept."""
    workshop = make_workshop(centre=make_centre(published=False))
    dob = (date.today() - timedelta(weeks=8)).isoformat()
    response = client.post(
        f"/classes/{workshop.id}/book",
        data={"baby_id": "new", "baby_name": "Bo", "baby_dob": dob, "consent": "y"},
    )
    assert response.status_code == 404
    assert "We could not find that class" in response.get_data(as_text=True)
    assert registrations(app) == [] and baby_count(app) == 0


def test_a_hidden_class_is_404_before_asking_to_log_in(client, app, make_workshop):
    workshop = make_workshop(status="draft")
    response = client.post(f"/classes/{workshop.id}/book", data={"consent": "y"})
    assert response.status_code == 404


def test_unknown_class_is_404(client, parent):
    response = client.post("/classes/99999/book", data={"consent": "y"})
    assert response.status_code == 404


def test_someone_elses_baby_is_404(client, app, parent, make_user, make_baby, make_workshop):
    workshop = make_workshop()
    other = make_baby(make_user(), name="Secret")
    response = client.post(
        f"/classes/{workshop.id}/book", data={"baby_id": other.id, "consent": "y"}
    )
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "We could not find that baby on your account." in page
    assert "Secret" not in page
    assert registrations(app) == []


@pytest.mark.parametrize(
    "dob, message",
    [
        ((date.today() + timedelta(days=5)).isoformat(), "cannot be in the future"),
        ((date.today() - timedelta(days=4 * 365)).isoformat(), "more than 3 years ago"),
        ("14/03/2025", "Enter the date as YYYY-MM-DD"),
        ("", "Enter your baby's date of birth."),
    ],
)
def test_bad_dates_of_birth(client, app, parent, make_workshop, dob, message):
    workshop = make_workshop()
    response = client.post(
        f"/classes/{workshop.id}/book",
        data={"baby_id": "new", "baby_name": "Bo", "baby_dob": dob, "consent": "y"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in html.unescape(page)
    assert 'id="baby_dob-error"' in page
    assert registrations(app) == []
    assert baby_count(app) == 0


def test_checkboxes_sit_beside_their_labels(client, auth, app, parent, make_baby,
                                             make_workshop, make_user):
    """A checkbox is drawn inside its "check" row, box then label, on every form that
    uses the shared field: the booking consent and the erasure confirmation here."""
    workshop = make_workshop()
    make_baby(parent)
    page = client.get(f"/classes/{workshop.id}").get_data(as_text=True)
    assert re.search(r'<div class="check">\s*<input[^>]*name="consent"', page)
    privacy = client.get("/account/privacy").get_data(as_text=True)
    assert re.search(r'<div class="check">\s*<input[^>]*name="confirm"', privacy)


def test_missing_consent(client, app, parent, make_baby, make_workshop):
    workshop = make_workshop()
    baby = make_baby(parent)
    response = client.post(f"/classes/{workshop.id}/book", data={"baby_id": baby.id})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Please confirm you have read the health and safety note." in page
    assert 'id="consent-error"' in page
    # "no", "0" or "off" from a script is not consent.
    for no in ("no", "n", "0", "off", "false", "", "NO", " Off "):
        response = client.post(f"/classes/{workshop.id}/book",
                               data={"baby_id": baby.id, "consent": no})
        assert response.status_code == 422, no
    assert registrations(app) == []


def test_nonsense_baby_id(client, app, parent, make_workshop):
    workshop = make_workshop()
    response = client.post(
        f"/classes/{workshop.id}/book", data={"baby_id": "abc", "consent": "y"}
    )
    assert response.status_code == 422
    assert "Choose one of your babies" in response.get_data(as_text=True)


def test_baby_too_young_says_why_and_links_to_classes(
    client, app, parent, make_baby, make_workshop
):
    workshop = make_workshop(min_age_weeks=6, max_age_weeks=20)
    baby = make_baby(parent, name="Ada", age_weeks=3)
    response = client.post(
        f"/classes/{workshop.id}/book", data={"baby_id": baby.id, "consent": "y"}
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert (
        "Ada will be 4 weeks old at the first session; this class is for babies from 6 to 20 "
        "weeks." in page
    )
    assert "/classes?age_weeks=3" in page
    assert registrations(app) == []


def test_class_that_has_started_cannot_be_booked(client, app, parent, make_baby, make_workshop):
    workshop = make_workshop(starts_in_days=-2)
    baby = make_baby(parent)
    response = client.post(
        f"/classes/{workshop.id}/book", data={"baby_id": baby.id, "consent": "y"}
    )
    assert response.status_code == 422
    assert "Booking for this class closed" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Workshop, workshop.id).confirmed_count == 0


def test_booking_page_renders_for_a_logged_in_parent(client, parent, make_workshop):
    workshop = make_workshop(title="Tiny Strokes")
    page = client.get(f"/classes/{workshop.id}/book").get_data(as_text=True)
    assert "Book: Tiny Strokes" in page
    assert 'name="baby_name"' in page


def test_a_new_baby_too_old_is_told_so_beside_the_date_of_birth(app, client, parent,
                                                                make_workshop):
    """The age comes from the date of birth typed: the message sits beside it, the field
    is marked invalid and the error summary leads to it (it was on "Which baby is
    coming?", leaving a screen reader on the date hearing nothing). No baby is saved."""
    workshop = make_workshop(min_age_weeks=6, max_age_weeks=16)
    dob = (date.today() - timedelta(weeks=37)).isoformat()
    response = client.post(
        f"/classes/{workshop.id}/book",
        data={"baby_id": "new", "baby_name": "Old", "baby_dob": dob, "consent": "y"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    field = re.search(r'<input[^>]*id="baby_dob"[^>]*>', page)[0]
    assert 'aria-invalid="true"' in field and "baby_dob-error" in field
    error = re.search(r'id="baby_dob-error"[^>]*>(.*?)</', page, re.S)[1]
    assert "Old will be" in error and "weeks old at the first session" in error
    assert 'href="#baby_dob"' in page
    assert 'id="baby_id-error"' not in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Baby.id))) == 0
