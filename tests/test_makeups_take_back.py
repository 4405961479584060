"""Taking back "we can't come": only while the seat is free, withdrawing the credit."""

import threading

import pytest
import sqlalchemy as sa
from flask import url_for

from booking.extensions import db
from booking.models import Absence, MakeupBooking, MakeupCredit, Workshop, WorkshopSession
from booking.services.courses import absences, makeups
from booking.services.errors import Conflict, DomainError, NotFound
from tests.makeup_helpers import book, seats, session_of


@pytest.fixture
def full_course(app, make_centre, make_workshop, make_user, make_baby):
    """A full course of one place (Ann, away in week 2) and a course Bob misses week 2 of."""
    centre = make_centre()
    full = make_workshop(centre=centre, capacity=1, starts_in_days=7, title="Full")
    other = make_workshop(centre=centre, capacity=3, starts_in_days=8, title="Other")
    ann, bob = make_user(email="ann@example.org"), make_user(email="bob@example.org")
    annie, bobby = make_baby(ann, name="Annie"), make_baby(bob, name="Bobby")
    with app.app_context():
        ann_reg = book(ann, annie, full)
        bob_reg = book(bob, bobby, other)
        ann_credit = absences.report_absence(
            parent_id=ann.id, registration_id=ann_reg, session_id=session_of(full, 2).id
        ).id
        bob_credit = absences.report_absence(
            parent_id=bob.id, registration_id=bob_reg, session_id=session_of(other, 2).id
        ).id
        db.session.remove()
    return {"full": full, "other": other, "ann": ann, "bob": bob, "ann_reg": ann_reg,
            "ann_credit": ann_credit, "bob_credit": bob_credit}


def take_back(scene):
    absences.take_back_absence(
        parent_id=scene["ann"].id, registration_id=scene["ann_reg"],
        session_id=session_of(scene["full"], 2).id,
    )


def test_taking_back_a_free_seat_withdraws_the_credit(ctx, full_course):
    full = full_course["full"]
    assert seats(full, 2) == 1
    take_back(full_course)
    assert seats(full, 2) == 0
    assert session_of(full, 2).absences == 0
    assert db.session.get(MakeupCredit, full_course["ann_credit"]) is None
    assert db.session.scalar(sa.select(sa.func.count(Absence.id))) == 1  # Bob's
    with pytest.raises(Conflict, match="not told us"):
        take_back(full_course)


def test_refused_once_a_make_up_has_the_seat(ctx, full_course):
    full = full_course["full"]
    makeups.book_makeup(parent_id=full_course["bob"].id, credit_id=full_course["bob_credit"],
                        session_id=session_of(full, 2).id)
    with pytest.raises(Conflict, match="given to a family making up"):
        take_back(full_course)
    assert session_of(full, 2).absences == 1
    assert db.session.get(MakeupCredit, full_course["ann_credit"]).used_at is None


def test_refused_once_the_credit_is_used(ctx, full_course, make_workshop):
    from booking.models import Centre

    centre = db.session.get(Centre, full_course["full"].centre_id)
    third = make_workshop(centre=centre, capacity=3, starts_in_days=9, title="Third")
    makeups.book_makeup(parent_id=full_course["ann"].id, credit_id=full_course["ann_credit"],
                        session_id=session_of(third, 2).id)
    with pytest.raises(Conflict, match="already been used"):
        take_back(full_course)
    assert session_of(full_course["full"], 2).absences == 1
    assert db.session.scalar(sa.select(sa.func.count(MakeupBooking.id))) == 1


def test_someone_elses_booking_or_session_is_not_found(ctx, full_course):
    with pytest.raises(NotFound):
        absences.take_back_absence(
            parent_id=full_course["bob"].id, registration_id=full_course["ann_reg"],
            session_id=session_of(full_course["full"], 2).id,
        )
    with pytest.raises(NotFound):
        absences.take_back_absence(
            parent_id=full_course["ann"].id, registration_id=full_course["ann_reg"],
            session_id=session_of(full_course["other"], 2).id,
        )
    assert session_of(full_course["full"], 2).absences == 1


def test_take_back_and_make_up_racing_for_the_seat(app, full_course):
    full = full_course["full"]
    with app.app_context():
        seat = session_of(full, 2).id
        db.session.remove()
    barrier = threading.Barrier(2)
    outcomes = {}

    def run(name, call):
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                call()
                outcomes[name] = "done"
            except DomainError as exc:
                outcomes[name] = exc
            finally:
                db.session.remove()

    calls = {
        "take_back": lambda: absences.take_back_absence(
            parent_id=full_course["ann"].id, registration_id=full_course["ann_reg"],
            session_id=seat,
        ),
        "makeup": lambda: makeups.book_makeup(
            parent_id=full_course["bob"].id, credit_id=full_course["bob_credit"],
            session_id=seat,
        ),
    }
    threads = [threading.Thread(target=run, args=item) for item in calls.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(map(str, outcomes.values())).count("done") == 1, outcomes
    with app.app_context():
        session = db.session.get(WorkshopSession, seat)
        workshop = db.session.get(Workshop, full.id)
        people = workshop.confirmed_count - session.absences + session.makeups_taken
        assert people == 1 == workshop.capacity


def test_the_page_offers_taking_back_and_explains_a_refusal(app, client, auth, full_course):
    full = full_course["full"]
    with app.app_context():
        week2 = session_of(full, 2).id
        db.session.remove()
    auth.login("ann@example.org")
    page = client.get("/account/bookings").get_data(as_text=True)
    action = f"/account/bookings/{full_course['ann_reg']}/sessions/{week2}/absence/withdraw"
    assert f'action="{action}"' in page and "We can come after all" in page
    with app.test_request_context():  # the address the page writes out is the route's
        assert action == url_for("account.withdraw_absence",
                                 registration_id=full_course["ann_reg"], session_id=week2)
    with app.app_context():
        makeups.book_makeup(parent_id=full_course["bob"].id,
                            credit_id=full_course["bob_credit"], session_id=week2)
        db.session.remove()
    response = client.post(action)
    assert response.status_code == 409
    assert "given to a family making up" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(WorkshopSession, week2).absences == 1
    other_reg = 10**6
    assert client.post(
        f"/account/bookings/{other_reg}/sessions/{week2}/absence/withdraw"
    ).status_code == 404


def test_the_page_takes_back_a_free_seat(app, client, auth, full_course):
    full = full_course["full"]
    with app.app_context():
        week2 = session_of(full, 2).id
        db.session.remove()
    auth.login("ann@example.org")
    action = f"/account/bookings/{full_course['ann_reg']}/sessions/{week2}/absence/withdraw"
    response = client.post(action, follow_redirects=True)
    assert response.status_code == 200
    assert "credit it gave you is withdrawn" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(WorkshopSession, week2).absences == 0
        assert db.session.get(MakeupCredit, full_course["ann_credit"]) is None
