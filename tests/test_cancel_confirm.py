"""Cancelling asks first: GET /account/bookings/<id>/cancel says what happens to the
place, the cut-off and the refund rules (or why it is too late), and its button POSTs
to the cancellation that already exists."""

import html
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import Registration, Workshop
from booking.services.booking.book import book_place
from booking.services.booking.cancellation import cancel_terms
from booking.services.errors import NotFound
from booking.timefmt import format_local

FORM_RE = re.compile(r'<form method="post" action="(/account/bookings/[^"]+)"')


@pytest.fixture
def parent(make_user, auth):
    user = make_user(email="parent@example.org", name="Pat Parent")
    auth.login("parent@example.org")
    return user


def book(app, parent, baby, workshop) -> int:
    with app.app_context():
        return book_place(
            parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id, consent=True
        ).registration.id


def status_of(app, registration_id) -> str:
    with app.app_context():
        return db.session.get(Registration, registration_id).status


def text(response) -> str:
    return html.unescape(" ".join(response.get_data(as_text=True).split()))


def test_the_page_says_what_happens_then_its_button_cancels(
    client, app, parent, make_user, make_baby, make_workshop
):
    workshop = make_workshop(title="Tiny strokes", capacity=1, cancellation_cutoff_hours=24)
    mine = book(app, parent, make_baby(parent, name="Ada"), workshop)
    other = make_user()
    theirs = book(app, other, make_baby(other, name="Bo"), workshop)
    response = client.get(f"/account/bookings/{mine}/cancel")
    assert response.status_code == 200
    page = text(response)
    assert "Cancel Ada's place in Tiny strokes?" in page
    assert "goes at once to the next family on the waiting list" in page
    cutoff = workshop.first_starts_at - timedelta(hours=24)
    assert f"until {format_local(cutoff, 'Europe/London')}, 24 hours before" in page
    assert "taken at the centre, not online, so nothing was paid through this site" in page
    assert 'href="/account/bookings">Keep my booking</a>' in page
    assert status_of(app, mine) == "confirmed"
    # The button is an ordinary form: it works without JavaScript.
    action = FORM_RE.search(response.get_data(as_text=True)).group(1)
    assert action == f"/account/bookings/{mine}/cancel"
    done = client.post(action, follow_redirects=True)
    assert "Your place is cancelled." in done.get_data(as_text=True)
    assert (status_of(app, mine), status_of(app, theirs)) == ("cancelled", "confirmed")


def test_a_free_class_has_nothing_to_refund_and_an_empty_list_frees_a_place(
    client, app, parent, make_baby, make_workshop
):
    workshop = make_workshop(price=Decimal("0.00"))
    mine = book(app, parent, make_baby(parent), workshop)
    page = text(client.get(f"/account/bookings/{mine}/cancel"))
    assert "This class is free, so there is nothing to pay or refund." in page
    assert "The place opens for another family to book." in page


def test_only_a_family_waiting_who_fits_is_promised_the_place(
    client, app, parent, make_user, make_baby, make_workshop
):
    """The waiting baby is too old for the class: the place does not go "at once to the
    next family on the waiting list", it opens for anyone."""
    workshop = make_workshop(capacity=1, max_age_weeks=20)
    mine = book(app, parent, make_baby(parent, name="Ada", age_weeks=10), workshop)
    other = make_user()
    book(app, other, make_baby(other, name="Bo", age_weeks=10), workshop)
    with app.app_context():
        db.session.execute(sa.update(Workshop).where(Workshop.id == workshop.id)
                           .values(max_age_weeks=8))
        db.session.commit()
    page = text(client.get(f"/account/bookings/{mine}/cancel"))
    assert "next family on the waiting list" not in page
    assert "The place opens for another family to book." in page


def test_leaving_the_waiting_list_is_asked_in_its_own_words(
    client, app, parent, make_baby, make_workshop
):
    mine = book(app, parent, make_baby(parent), make_workshop(title="Full class", capacity=0))
    page = text(client.get(f"/account/bookings/{mine}/cancel"))
    assert "Leave the waiting list for Full class?" in page
    assert "Yes, leave the waiting list" in page and "Stay on the waiting list" in page
    assert status_of(app, mine) == "waitlisted"


def test_past_the_cutoff_the_page_says_why_and_offers_no_button(
    client, app, parent, make_baby, make_workshop
):
    workshop = make_workshop(starts_in_days=1, cancellation_cutoff_hours=48)
    mine = book(app, parent, make_baby(parent), workshop)
    response = client.get(f"/account/bookings/{mine}/cancel")
    assert response.status_code == 200
    page = text(response)
    assert "You can no longer cancel this booking online" in page
    assert "The cut-off for cancelling was" in page
    assert "48 hours before the first session" in page
    assert "Yes, cancel" not in page and not FORM_RE.search(page)
    assert status_of(app, mine) == "confirmed"


def test_an_already_cancelled_booking_says_so(client, app, parent, make_baby, make_workshop):
    mine = book(app, parent, make_baby(parent), make_workshop())
    client.post(f"/account/bookings/{mine}/cancel")
    page = text(client.get(f"/account/bookings/{mine}/cancel"))
    assert "This booking is already cancelled" in page and "Refunds" not in page


def test_someone_elses_or_an_unknown_booking_is_404(
    client, app, parent, make_user, make_baby, make_workshop
):
    other = make_user()
    theirs = book(app, other, make_baby(other), make_workshop())
    assert client.get(f"/account/bookings/{theirs}/cancel").status_code == 404
    assert client.get("/account/bookings/999999/cancel").status_code == 404
    assert client.get("/account/bookings/nope/cancel").status_code == 404


def test_the_page_needs_login(client):
    response = client.get("/account/bookings/1/cancel")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_bookings_page_links_to_the_question_instead_of_cancelling(
    client, app, parent, make_baby, make_workshop
):
    mine = book(app, parent, make_baby(parent), make_workshop())
    page = client.get("/account/bookings").get_data(as_text=True)
    link = rf'<a class="[^"]*" href="/account/bookings/{mine}/cancel">Cancel booking'
    assert re.search(link, page)
    assert f'action="/account/bookings/{mine}/cancel"' not in page


def test_a_referred_place_goes_back_to_the_held_places(
    app, make_user, make_baby, make_workshop
):
    parent = make_user()
    workshop = make_workshop()
    mine = book(app, parent, make_baby(parent), workshop)
    with app.app_context():
        registration = db.session.get(Registration, mine)
        registration.held_place = True
        w = db.session.get(Workshop, workshop.id)
        w.held_until = datetime.now(UTC) + timedelta(days=3)
        db.session.commit()
        terms = cancel_terms(mine, parent.id)
        assert terms.allowed
        assert terms.what_happens[0].startswith("The place goes back to those held")
        with pytest.raises(NotFound):
            cancel_terms(mine, parent.id + 1000)


def test_letting_go_of_a_held_place_promises_no_calendar_update(
    app, parent, make_baby, make_workshop
):
    """A place held while paying was never sent to a calendar: its page says nothing is
    taken from the card, not that an update takes the sessions out of the calendar."""
    workshop = make_workshop()
    baby = make_baby(parent)
    with app.app_context():
        held = Registration(workshop_id=workshop.id, baby_id=baby.id, parent_id=parent.id,
                            status="pending_payment", consent_at=datetime.now(UTC))
        db.session.add(held)
        db.session.commit()
        terms = cancel_terms(held.id, parent.id)
    assert not any("calendar" in line for line in terms.what_happens)
    assert "We email you to confirm. Nothing is taken from your card." in terms.what_happens
