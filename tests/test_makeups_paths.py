"""Absence and make-up counters stay right on every path that ends or moves a place.

A session's seats are capacity - unclaimed held - confirmed + absences - make-ups.
When a place with an absence ends, confirmed drops by one and the absence stops
counting too (otherwise that seat would be counted twice); a make-up that goes
frees its seat.
"""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import (
    Absence,
    MakeupBooking,
    MakeupCredit,
    OutboxMessage,
    Registration,
    Workshop,
)
from booking.services.booking.book import book_place, cancel_registration
from booking.services.booking.waitlist import move_registration
from booking.services.courses import absences, makeups
from booking.services.errors import Conflict
from booking.services.privacy.erase import erase_user
from booking.services.schedule.edit import cancel_workshop
from tests.makeup_helpers import book, seats, session_of


@pytest.fixture
def scene(make_centre, make_workshop, make_user, make_baby):
    """Course A (3 places) with Ann absent in week 2 and Bob making up week 2 in A with
    the credit from his own course B; course C (3 places) at the same centre."""
    centre = make_centre()
    a = make_workshop(centre=centre, capacity=3, starts_in_days=7, title="A")
    b = make_workshop(centre=centre, capacity=3, starts_in_days=8, title="B")
    c = make_workshop(centre=centre, capacity=3, starts_in_days=9, title="C")
    ann, bob = make_user(email="ann@example.org"), make_user(email="bob@example.org")
    ann_reg = book(ann, make_baby(ann, name="Annie"), a)
    bob_reg = book(bob, make_baby(bob, name="Bobby"), b)
    ann_credit = absences.report_absence(
        parent_id=ann.id, registration_id=ann_reg, session_id=session_of(a, 2).id
    ).id
    bob_credit = absences.report_absence(
        parent_id=bob.id, registration_id=bob_reg, session_id=session_of(b, 2).id
    ).id
    makeup = makeups.book_makeup(
        parent_id=bob.id, credit_id=bob_credit, session_id=session_of(a, 2).id
    ).id
    return {
        "a": a, "b": b, "c": c, "ann": ann, "bob": bob, "ann_reg": ann_reg,
        "bob_reg": bob_reg, "ann_credit": ann_credit, "bob_credit": bob_credit,
        "makeup": makeup,
    }


def test_the_scene_counts_seats(ctx, scene):
    a, b = scene["a"], scene["b"]
    # A week 2: 3 places - 1 booked + 1 away - 1 making up = 2 free.
    assert seats(a, 2) == 2
    assert seats(a, 3) == 2
    # B week 2: 3 - 1 + 1 = 3 free.
    assert seats(b, 2) == 3


def test_parent_cancelling_a_place_with_an_absence_frees_it_once(ctx, scene):
    a = scene["a"]
    cancel_registration(scene["ann_reg"], actor_id=scene["ann"].id)
    # 3 places - 0 booked + 0 away - 1 making up: the seat is not counted twice.
    assert seats(a, 2) == 2
    assert session_of(a, 2).absences == 0
    assert db.session.get(MakeupCredit, scene["ann_credit"]) is None
    assert seats(a, 3) == 3


def test_staff_cancelling_on_behalf_frees_it_once(ctx, scene, make_user):
    a = scene["a"]
    staff = make_user(role="admin")
    cancel_registration(scene["ann_reg"], actor_id=staff.id, on_behalf=True, reason="Moved away")
    assert seats(a, 2) == 2
    assert session_of(a, 2).absences == 0


def test_a_spent_credit_keeps_its_make_up_when_the_place_ends(ctx, scene):
    b = scene["b"]
    cancel_registration(scene["bob_reg"], actor_id=scene["bob"].id)
    assert seats(b, 2) == 3
    assert session_of(b, 2).absences == 0
    # Bob's make-up in A stays; it was booked with a credit already spent.
    assert db.session.get(MakeupBooking, scene["makeup"]) is not None
    assert session_of(scene["a"], 2).makeups_taken == 1
    assert db.session.get(MakeupCredit, scene["bob_credit"]).used_at is not None


def test_moving_a_place_with_an_absence(ctx, scene):
    a, c = scene["a"], scene["c"]
    moved = move_registration(scene["ann_reg"], c.id)
    assert moved.workshop_id == c.id
    assert seats(a, 2) == 2
    assert session_of(a, 2).absences == 0
    assert seats(c, 2) == 2
    assert db.session.get(MakeupCredit, scene["ann_credit"]) is None


def test_a_place_cannot_move_to_the_course_its_baby_visits(ctx, scene):
    """Bobby visits A in week 2 with a make-up: his place in B cannot move to A until
    that make-up is cancelled, or A's week 2 would count him twice."""
    a = scene["a"]
    with pytest.raises(Conflict, match="Bobby is coming to week 2 of this course"):
        move_registration(scene["bob_reg"], a.id)
    db.session.expire_all()
    assert db.session.get(Registration, scene["bob_reg"]).status == "confirmed"
    assert db.session.get(Workshop, a.id).confirmed_count == 1
    makeups.cancel_makeup(parent_id=scene["bob"].id, makeup_id=scene["makeup"])
    assert move_registration(scene["bob_reg"], a.id).workshop_id == a.id


def test_erasing_an_account_frees_its_place_absence_and_make_up(ctx, scene):
    a, b = scene["a"], scene["b"]
    erase_user(scene["bob"].id)
    # Bob's make-up in A week 2 is gone: 3 - 1 + 1 - 0 = 3.
    assert seats(a, 2) == 3
    assert session_of(a, 2).makeups_taken == 0
    assert db.session.scalar(sa.select(sa.func.count(MakeupBooking.id))) == 0
    # His own place in B is free, and his absence there no longer counts.
    assert seats(b, 2) == 3
    assert session_of(b, 2).absences == 0
    erase_user(scene["ann"].id)
    assert seats(a, 2) == 3
    assert session_of(a, 2).absences == 0
    assert db.session.scalar(sa.select(sa.func.count(MakeupCredit.id))) == 0


def test_cancelling_the_workshop_gives_make_up_credits_back(ctx, scene):
    a = scene["a"]
    cancel_workshop(a.id, "Instructor unwell")
    week2 = session_of(a, 2)
    assert (week2.absences, week2.makeups_taken) == (0, 0)
    assert db.session.get(Workshop, a.id).confirmed_count == 0
    assert db.session.get(MakeupBooking, scene["makeup"]) is None
    # Bob can use his credit again elsewhere; Ann's unused credit is withdrawn.
    assert db.session.get(MakeupCredit, scene["bob_credit"]).used_at is None
    assert db.session.get(MakeupCredit, scene["ann_credit"]) is None
    assert db.session.scalar(sa.select(sa.func.count(Absence.id))) == 1
    told = db.session.scalar(
        sa.select(OutboxMessage).where(
            OutboxMessage.recipient == "bob@example.org",
            OutboxMessage.subject.startswith("Make-up cancelled"),
        )
    )
    assert "the class was cancelled" in told.body_text
    assert "credit is yours again" in told.body_text


@pytest.mark.parametrize("kind", ["moved", "room"])
def test_moving_a_session_tells_its_make_up_parents(ctx, scene, kind):
    from booking.services.schedule.sessions import move_session
    from booking.timefmt import to_local

    a = scene["a"]
    week2 = session_of(a, 2)
    later = to_local(week2.starts_at, "Europe/London").replace(tzinfo=None)
    later += timedelta(hours=1) if kind == "moved" else timedelta(0)
    before = db.session.scalar(sa.select(sa.func.max(OutboxMessage.id))) or 0
    move_session(week2.id, later if kind == "moved" else None, None, "Garden room")
    told = db.session.scalars(
        sa.select(OutboxMessage)
        .where(OutboxMessage.recipient == "bob@example.org", OutboxMessage.id > before)
    ).all()
    assert len(told) == 1
    subject = "Time changed" if kind == "moved" else "Room changed"
    assert told[0].subject.startswith(f"{subject} for your make-up: A")
    assert "Bobby's make-up session" in told[0].body_text
    assert "Garden room" in told[0].body_text
    assert "cancel the make-up on your bookings page" in told[0].body_text
    # The make-up stands.
    assert db.session.get(MakeupBooking, scene["makeup"]) is not None
    assert session_of(a, 2).makeups_taken == 1


def test_cancelling_a_session_gives_its_make_up_credits_back(ctx, scene):
    from booking.services.schedule.sessions import cancel_session

    a = scene["a"]
    cancel_session(session_of(a, 2).id)
    assert session_of(a, 2).makeups_taken == 0
    assert db.session.get(MakeupBooking, scene["makeup"]) is None
    assert db.session.get(MakeupCredit, scene["bob_credit"]).used_at is None
    subjects = db.session.scalars(
        sa.select(OutboxMessage.subject).where(OutboxMessage.recipient == "bob@example.org")
    ).all()
    assert any(s.startswith("Make-up cancelled: A") for s in subjects), subjects
    # Ann said she would miss that week: nobody comes now, so her unused credit goes.
    assert db.session.get(MakeupCredit, scene["ann_credit"]) is None
    assert session_of(a, 2).absences == 0
    # Bob can book week 2 of course C with the credit instead.
    makeups.book_makeup(
        parent_id=scene["bob"].id, credit_id=scene["bob_credit"],
        session_id=session_of(scene["c"], 2).id,
    )
    assert session_of(scene["c"], 2).makeups_taken == 1


def test_cancelling_the_origin_workshop_keeps_the_make_up(ctx, scene):
    b = scene["b"]
    cancel_workshop(b.id)
    assert session_of(b, 2).absences == 0
    assert session_of(scene["a"], 2).makeups_taken == 1
    assert db.session.get(MakeupBooking, scene["makeup"]) is not None


def test_a_held_place_cancelled_goes_back_to_the_held_pool(
    ctx, make_workshop, make_user, make_baby
):
    from datetime import UTC, datetime

    from booking.services.booking import referrals

    workshop = make_workshop(
        capacity=2, held_places=1, held_until=datetime.now(UTC) + timedelta(days=1)
    )
    public = make_user()
    book(public, make_baby(public), workshop)
    waiting_parent = make_user()
    waiting = book_place(
        parent_id=waiting_parent.id, workshop_id=workshop.id,
        baby_id=make_baby(waiting_parent).id, consent=True,
    )
    assert waiting.registration.status == "waitlisted"
    code = referrals.create_codes(workshop.id)[0].code
    referred = make_user()
    held = book_place(
        parent_id=referred.id, workshop_id=workshop.id, baby_id=make_baby(referred).id,
        consent=True, referral_code=code,
    )
    cancel_registration(held.registration.id, actor_id=referred.id)
    w = db.session.get(Workshop, workshop.id, populate_existing=True)
    # Back to the held pool: still one unclaimed held place, nobody promoted.
    assert (w.confirmed_count, w.held_claimed, w.held_unclaimed, w.places_left) == (1, 0, 1, 0)
    assert db.session.get(type(waiting.registration), waiting.registration.id).status == (
        "waitlisted"
    )
    # A new code can claim it.
    again = referrals.create_codes(workshop.id)[0].code
    other = make_user()
    claimed = book_place(
        parent_id=other.id, workshop_id=workshop.id, baby_id=make_baby(other).id,
        consent=True, referral_code=again,
    )
    assert claimed.confirmed
    # After the release time, a cancelled held place goes to the waiting list.
    w = db.session.get(Workshop, workshop.id, populate_existing=True)
    w.held_until = datetime.now(UTC) - timedelta(minutes=1)
    db.session.commit()
    cancel_registration(claimed.registration.id, actor_id=other.id)
    w = db.session.get(Workshop, workshop.id, populate_existing=True)
    # Released: the place is held for nobody any more (not one held and claimed for good).
    assert (w.confirmed_count, w.held_claimed) == (2, 0)
    assert db.session.get(type(waiting.registration), waiting.registration.id).status == (
        "confirmed"
    )


def test_a_deleted_account_cannot_book(ctx, make_workshop, make_user, make_baby):
    from booking.services.errors import Forbidden

    workshop = make_workshop()
    parent = make_user()
    baby = make_baby(parent)
    erase_user(parent.id)
    with pytest.raises(Forbidden, match="deleted"):
        book_place(parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id, consent=True)
    assert db.session.get(Workshop, workshop.id).confirmed_count == 0


def test_a_booking_racing_with_erasure_does_not_survive(
    app, make_workshop, make_user, make_baby
):
    import threading

    from booking.models import Registration
    from booking.services.errors import DomainError

    workshop = make_workshop(capacity=4)
    parent = make_user()
    baby = make_baby(parent)
    barrier = threading.Barrier(2)
    outcomes = {}

    def run(name, call):
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                call()
                outcomes[name] = "done"
            except DomainError as exc:
                outcomes[name] = exc.message
            finally:
                db.session.remove()

    calls = {
        "book": lambda: book_place(
            parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id, consent=True
        ),
        "erase": lambda: erase_user(parent.id),
    }
    threads = [threading.Thread(target=run, args=item) for item in calls.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert outcomes["erase"] == "done", outcomes
    with app.app_context():
        active = db.session.scalar(
            sa.select(sa.func.count(Registration.id)).where(
                Registration.parent_id == parent.id,
                Registration.status.in_(("confirmed", "waitlisted")),
            )
        )
        assert active == 0
        assert db.session.get(Workshop, workshop.id).confirmed_count == 0


def test_capacity_cannot_drop_below_the_people_at_a_session(ctx, scene, make_user, make_baby):
    from booking.services.booking.waitlist import change_capacity
    from booking.services.errors import CapacityRefused

    a = scene["a"]
    cara = make_user()
    book(cara, make_baby(cara, name="Cara"), a)
    # A: 2 booked; week 2 has 2 - 1 away + 1 making up = 2; the other weeks 2.
    change_capacity(a.id, 2)
    dan = make_user()
    c = scene["c"]
    dan_reg = book(dan, make_baby(dan, name="Dan"), c)
    credit = absences.report_absence(
        parent_id=dan.id, registration_id=dan_reg, session_id=session_of(c, 2).id
    )
    # Week 2 of A has a free seat (Ann's): Dan makes up there, so 3 people come.
    change_capacity(a.id, 3)
    makeups.book_makeup(parent_id=dan.id, credit_id=credit.id, session_id=session_of(a, 2).id)
    with pytest.raises(CapacityRefused, match=r"session 2 .* has 3 people coming"):
        change_capacity(a.id, 2)
    assert db.session.get(Workshop, a.id, populate_existing=True).capacity == 3


def test_manage_page_says_why_capacity_cannot_drop(
    app, client, auth, make_centre, make_workshop, make_user, make_baby
):
    centre = make_centre()
    make_user(email="staff@example.org", role="staff", centre=centre)
    target = make_workshop(centre=centre, capacity=2, starts_in_days=7, title="Target")
    origin = make_workshop(centre=centre, capacity=4, starts_in_days=8, title="Origin")
    ann, cat = make_user(), make_user()
    ann_baby, cat_baby = make_baby(ann, name="Ann"), make_baby(cat, name="Cat")
    with app.app_context():
        book(ann, ann_baby, target)
        cat_reg = book(cat, cat_baby, origin)
        credit = absences.report_absence(
            parent_id=cat.id, registration_id=cat_reg, session_id=session_of(origin, 2).id
        )
        makeups.book_makeup(
            parent_id=cat.id, credit_id=credit.id, session_id=session_of(target, 2).id
        )
        db.session.remove()
    auth.login("staff@example.org")
    response = client.post(f"/manage/workshops/{target.id}/capacity", data={"capacity": "1"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "session 2" in page and "2 people coming" in page
    with app.app_context():
        assert db.session.get(Workshop, target.id).capacity == 2


def test_a_parent_cancels_a_make_up_and_gets_the_credit_back(ctx, scene):
    from booking.services.errors import NotFound

    a, c = scene["a"], scene["c"]
    with pytest.raises(NotFound):
        makeups.cancel_makeup(parent_id=scene["ann"].id, makeup_id=scene["makeup"])
    credit = makeups.cancel_makeup(parent_id=scene["bob"].id, makeup_id=scene["makeup"])
    assert credit.id == scene["bob_credit"] and credit.used_at is None
    assert seats(a, 2) == 3
    assert db.session.get(MakeupBooking, scene["makeup"]) is None
    with pytest.raises(NotFound):
        makeups.cancel_makeup(parent_id=scene["bob"].id, makeup_id=scene["makeup"])
    makeups.book_makeup(
        parent_id=scene["bob"].id, credit_id=scene["bob_credit"], session_id=session_of(c, 2).id
    )
    assert seats(c, 2) == 2


def test_the_bookings_page_cancels_a_make_up(ctx, client, auth, scene):
    auth.login("bob@example.org")
    page = client.get("/account/bookings").get_data(as_text=True)
    action = f"/account/makeups/{scene['makeup']}/cancel"
    assert action in page and "Cancel this make-up" in page
    response = client.post(action, follow_redirects=True)
    assert response.status_code == 200
    assert "credit for week 2 can be used" in response.get_data(as_text=True)
    assert client.post(action).status_code == 404
    assert session_of(scene["a"], 2).makeups_taken == 0


def test_a_baby_with_a_make_up_to_come_is_not_removed(ctx, scene):
    from booking.models import Baby
    from booking.services.accounts.babies import remove_baby
    from booking.services.errors import Conflict

    bobby = db.session.scalar(sa.select(Baby).where(Baby.name == "Bobby"))
    cancel_registration(scene["bob_reg"], actor_id=scene["bob"].id)
    with pytest.raises(Conflict, match="make-up session to come"):
        remove_baby(scene["bob"].id, bobby.id)
    makeups.cancel_makeup(parent_id=scene["bob"].id, makeup_id=scene["makeup"])
    assert remove_baby(scene["bob"].id, bobby.id) == "Bobby"


def test_a_class_a_visitor_comes_to_cannot_go_back_to_draft(ctx, scene):
    """Going back to draft counts visitors with a make-up as well as the class's own
    families: a draft is hidden, and the visit would vanish from the family's calendar
    (moving a draft's session then told only the visitor)."""
    from booking.services.schedule.edit import unpublish_workshop

    a = scene["a"]
    cancel_registration(scene["ann_reg"], actor_id=scene["ann"].id)
    with pytest.raises(Conflict, match="make-up visitor"):
        unpublish_workshop(a.id)
