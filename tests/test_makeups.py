"""Absences and make-ups: the rules, the pages, the feed, the register, and races."""

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from booking.db import write_transaction
from booking.extensions import db
from booking.models import (
    Absence,
    MakeupBooking,
    MakeupCredit,
    Registration,
    Workshop,
    WorkshopSession,
)
from booking.services.booking import places
from booking.services.booking.book import book_place, cancel_registration
from booking.services.courses import absences, makeups
from booking.services.courses.queries import parent_makeups
from booking.services.errors import Conflict, Invalid, NotFound
from booking.services.schedule.edit import unpublish_workshop
from tests.makeup_helpers import book


def session_of(workshop, number):
    return db.session.scalar(
        sa.select(WorkshopSession).where(
            WorkshopSession.workshop_id == workshop.id, WorkshopSession.number == number
        )
    )


@pytest.fixture
def courses(make_centre, make_workshop, make_user, make_baby):
    """Two courses at one centre (the second a day later), a parent with a booked baby."""
    centre = make_centre()
    home = make_workshop(centre=centre, capacity=4, starts_in_days=7)
    other = make_workshop(centre=centre, capacity=2, starts_in_days=8, title="Thursday class")
    parent = make_user(email="pat@example.org")
    baby = make_baby(parent, name="Ada")
    return centre, home, other, parent, baby


def absent_credit(ctx, parent, baby, home, week=2):
    registration_id = book(parent, baby, home)
    credit = absences.report_absence(
        parent_id=parent.id,
        registration_id=registration_id,
        session_id=session_of(home, week).id,
    )
    return registration_id, credit.id


def test_absence_frees_that_session_and_earns_a_credit(ctx, courses):
    centre, home, other, parent, baby = courses
    registration_id, credit_id = absent_credit(ctx, parent, baby, home)
    week2 = session_of(home, 2)
    assert week2.absences == 1
    assert session_of(home, 3).absences == 0
    credit = db.session.get(MakeupCredit, credit_id)
    assert (credit.week_number, credit.centre_id, credit.used_at) == (2, centre.id, None)
    # The following course at the centre ends its last session at the expiry.
    assert credit.expires_at == db.session.get(Workshop, other.id).last_ends_at
    again = absences.report_absence(
        parent_id=parent.id, registration_id=registration_id, session_id=week2.id
    )
    assert again.id == credit_id
    assert db.session.scalar(sa.select(sa.func.count(Absence.id))) == 1
    assert session_of(home, 2).absences == 1


def test_credit_lasts_eight_weeks_after_the_course_without_a_following_one(
    ctx, make_workshop, make_user, make_baby
):
    home = make_workshop(capacity=4)
    parent = make_user()
    baby = make_baby(parent)
    _, credit_id = absent_credit(ctx, parent, baby, home)
    credit = db.session.get(MakeupCredit, credit_id)
    assert credit.expires_at == home.last_ends_at + timedelta(weeks=8)


def test_absence_refused_for_past_session_or_someone_elses_booking(
    ctx, courses, make_user, make_baby
):
    centre, home, other, parent, baby = courses
    registration_id = book(parent, baby, home)
    stranger = make_user()
    with pytest.raises(NotFound):
        absences.report_absence(
            parent_id=stranger.id,
            registration_id=registration_id,
            session_id=session_of(home, 2).id,
        )
    week1 = session_of(home, 1)
    week1.starts_at = week1.starts_at - timedelta(days=8)
    week1.ends_at = week1.starts_at + timedelta(hours=1)
    db.session.commit()
    with pytest.raises(Invalid, match="already started"):
        absences.report_absence(
            parent_id=parent.id, registration_id=registration_id, session_id=week1.id
        )
    with pytest.raises(NotFound):
        absences.report_absence(
            parent_id=parent.id,
            registration_id=registration_id,
            session_id=session_of(other, 2).id,
        )
    assert db.session.scalar(sa.select(sa.func.count(Absence.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(MakeupCredit.id))) == 0


def test_makeup_books_the_same_week_elsewhere_once(ctx, courses):
    centre, home, other, parent, baby = courses
    _, credit_id = absent_credit(ctx, parent, baby, home)
    target = session_of(other, 2)
    makeup = makeups.book_makeup(parent_id=parent.id, credit_id=credit_id, session_id=target.id)
    assert makeup.session_id == target.id
    assert session_of(other, 2).makeups_taken == 1
    assert db.session.get(MakeupCredit, credit_id).used_at is not None
    with pytest.raises(Conflict, match="already been used"):
        makeups.book_makeup(parent_id=parent.id, credit_id=credit_id, session_id=target.id)
    assert db.session.scalar(sa.select(sa.func.count(MakeupBooking.id))) == 1
    assert session_of(other, 2).makeups_taken == 1


def test_a_class_with_make_up_visitors_to_come_cannot_go_back_to_draft(ctx, courses):
    """Unpublishing hides a class: with a make-up visitor booked into one of its sessions
    to come it is refused, as with families booked or waiting (the visit vanished from
    the family's calendar while My bookings still listed it)."""
    centre, home, other, parent, baby = courses
    _, credit_id = absent_credit(ctx, parent, baby, home)
    makeups.book_makeup(parent_id=parent.id, credit_id=credit_id,
                        session_id=session_of(other, 2).id)
    with pytest.raises(Conflict, match="1 make-up visitor booked") as refused:
        unpublish_workshop(other.id)
    assert "status" in refused.value.fields
    db.session.rollback()
    assert db.session.get(Workshop, other.id, populate_existing=True).status == "published"
    assert db.session.scalar(sa.select(sa.func.count(MakeupBooking.id))) == 1


def test_a_baby_makes_up_one_session_once(ctx, courses, make_workshop):
    """A baby on two courses misses week 2 of both: the second credit cannot take a
    second seat in the session the first already visits (the register listed the baby
    twice and the class lost a place), nor is that session offered for it."""
    centre, home, other, parent, baby = courses
    third = make_workshop(centre=centre, capacity=4, starts_in_days=9, title="Friday class")
    _, first_credit = absent_credit(ctx, parent, baby, home)
    second_registration = book(parent, baby, third)
    second_credit = absences.report_absence(
        parent_id=parent.id, registration_id=second_registration,
        session_id=session_of(third, 2).id,
    ).id
    target = session_of(other, 2)
    makeups.book_makeup(parent_id=parent.id, credit_id=first_credit, session_id=target.id)
    lines = {line.credit.id: line for line in parent_makeups(parent.id).credits}
    assert target.id not in {option.session.id for option in lines[second_credit].options}
    with pytest.raises(Conflict, match="already has a make-up in that session"):
        makeups.book_makeup(parent_id=parent.id, credit_id=second_credit, session_id=target.id)
    db.session.rollback()
    assert session_of(other, 2).makeups_taken == 1
    assert db.session.get(MakeupCredit, second_credit).used_at is None


def test_a_seat_a_visitor_no_longer_fills_goes_to_the_waiting_list(
    ctx, courses, make_user, make_baby
):
    """The Thursday class (2 places) has one family and a make-up visitor in week 1, so
    a newcomer waits. When its own family says they will miss week 1, the visitor takes
    their seat that week and the second place is free again: the family waiting gets it
    (it went to the next newcomer, while the waiting family stayed waiting)."""
    centre, home, other, parent, baby = courses
    _, credit_id = absent_credit(ctx, parent, baby, home, week=1)
    makeups.book_makeup(parent_id=parent.id, credit_id=credit_id,
                        session_id=session_of(other, 1).id)
    own_parent = make_user(email="own@example.org")
    own = book(own_parent, make_baby(own_parent, name="Own"), other)
    waiting_parent = make_user(email="wait@example.org")
    waiting = book_place(parent_id=waiting_parent.id, workshop_id=other.id, consent=True,
                         baby_id=make_baby(waiting_parent, name="Wren").id)
    assert waiting.position == 1
    makeups.report_absence(parent_id=own_parent.id, registration_id=own,
                           session_id=session_of(other, 1).id)
    db.session.rollback()
    assert db.session.get(Registration, waiting.registration.id).status == "confirmed"
    assert places.public_places_left(db.session.get(Workshop, other.id)) == 0


@pytest.mark.parametrize("how", ["visitor erased", "session cancelled"])
def test_a_visitor_leaving_gives_the_waiting_list_the_seat(
    ctx, courses, make_user, make_baby, how
):
    """The same class full by its own family and a make-up visitor in week 2: when the
    visitor's account is erased, or week 2 is cancelled, the visitor's seat is free and
    the family waiting gets the place (it went to the next newcomer)."""
    from booking.services.privacy.erase import erase_user
    from booking.services.schedule.sessions import cancel_session

    centre, home, other, parent, baby = courses
    _, credit_id = absent_credit(ctx, parent, baby, home, week=2)
    makeups.book_makeup(parent_id=parent.id, credit_id=credit_id,
                        session_id=session_of(other, 2).id)
    own_parent = make_user(email="own@example.org")
    book(own_parent, make_baby(own_parent, name="Own"), other)
    waiting_parent = make_user(email="wait@example.org")
    waiting = book_place(parent_id=waiting_parent.id, workshop_id=other.id, consent=True,
                         baby_id=make_baby(waiting_parent, name="Wren").id)
    assert waiting.position == 1
    if how == "visitor erased":
        erase_user(parent.id)
    else:
        cancel_session(session_of(other, 2).id)
    db.session.rollback()
    assert db.session.get(Registration, waiting.registration.id).status == "confirmed"


def test_a_baby_visiting_a_course_is_not_also_booked_on_it(ctx, courses):
    """The other way round from "already booked on that course": a baby coming to week 2
    of the Thursday class as a make-up cannot book the whole class until that make-up
    is cancelled, or its sessions would count the baby twice."""
    centre, home, other, parent, baby = courses
    _, credit_id = absent_credit(ctx, parent, baby, home)
    makeup = makeups.book_makeup(
        parent_id=parent.id, credit_id=credit_id, session_id=session_of(other, 2).id
    )
    with pytest.raises(Conflict, match="coming to week 2 of this course as a make-up") as err:
        book_place(parent_id=parent.id, workshop_id=other.id, baby_id=baby.id, consent=True)
    assert set(err.value.fields) == {"baby_id"}
    db.session.expire_all()
    assert db.session.get(Workshop, other.id).confirmed_count == 0
    assert db.session.scalar(
        sa.select(sa.func.count(Registration.id)).where(Registration.workshop_id == other.id)
    ) == 0
    makeups.cancel_makeup(parent_id=parent.id, makeup_id=makeup.id)
    result = book_place(parent_id=parent.id, workshop_id=other.id, baby_id=baby.id,
                        consent=True)
    assert result.confirmed and result.created


def test_makeup_refusals_change_nothing(
    ctx, courses, make_centre, make_workshop, make_user, make_baby
):
    centre, home, other, parent, baby = courses
    _, credit_id = absent_credit(ctx, parent, baby, home)
    elsewhere = make_workshop(centre=make_centre(), starts_in_days=8)
    with pytest.raises(Invalid, match="week 2"):
        makeups.book_makeup(
            parent_id=parent.id, credit_id=credit_id, session_id=session_of(other, 3).id
        )
    with pytest.raises(Invalid, match="same centre"):
        makeups.book_makeup(
            parent_id=parent.id, credit_id=credit_id, session_id=session_of(elsewhere, 2).id
        )
    with pytest.raises(Invalid, match="another course"):
        makeups.book_makeup(
            parent_id=parent.id, credit_id=credit_id, session_id=session_of(home, 2).id
        )
    stranger = make_user()
    with pytest.raises(NotFound):
        makeups.book_makeup(
            parent_id=stranger.id, credit_id=credit_id, session_id=session_of(other, 2).id
        )
    # Fill the other course: two confirmed places, nobody absent in week 2.
    for i in range(2):
        someone = make_user()
        book(someone, make_baby(someone, name=f"Full {i}"), other)
    with pytest.raises(Conflict, match="no free seat"):
        makeups.book_makeup(
            parent_id=parent.id, credit_id=credit_id, session_id=session_of(other, 2).id
        )
    credit = db.session.get(MakeupCredit, credit_id)
    credit.expires_at = credit.created_at
    db.session.commit()
    with pytest.raises(Invalid, match="expired"):
        makeups.book_makeup(
            parent_id=parent.id, credit_id=credit_id, session_id=session_of(other, 2).id
        )
    assert db.session.scalar(sa.select(sa.func.count(MakeupBooking.id))) == 0
    assert db.session.get(MakeupCredit, credit_id).used_at is None
    assert {s.makeups_taken for s in db.session.scalars(sa.select(WorkshopSession))} == {0}


def test_absence_seat_in_a_full_course_can_be_used_for_a_makeup(
    ctx, make_centre, make_workshop, make_user, make_baby
):
    centre = make_centre()
    full = make_workshop(centre=centre, capacity=1, starts_in_days=7)
    second = make_workshop(centre=centre, capacity=1, starts_in_days=8)
    ann, bob = make_user(), make_user()
    ann_baby, bob_baby = make_baby(ann, name="Ann"), make_baby(bob, name="Bob")
    ann_reg = book(ann, ann_baby, full)
    _, bob_credit = absent_credit(ctx, bob, bob_baby, second)
    with pytest.raises(Conflict):
        makeups.book_makeup(
            parent_id=bob.id, credit_id=bob_credit, session_id=session_of(full, 2).id
        )
    absences.report_absence(
        parent_id=ann.id, registration_id=ann_reg, session_id=session_of(full, 2).id
    )
    makeups.book_makeup(parent_id=bob.id, credit_id=bob_credit, session_id=session_of(full, 2).id)
    assert session_of(full, 2).makeups_taken == 1


def _week_two_full_of_makeups(ctx, make_centre, make_workshop, make_user, make_baby):
    """A course of two places with one booked, whose week 2 is full: its absent baby's
    seat and the free place are both taken by make-ups."""
    centre = make_centre()
    target = make_workshop(centre=centre, capacity=2, starts_in_days=7)
    origin = make_workshop(centre=centre, capacity=4, starts_in_days=8)
    ann, bob, dan = make_user(), make_user(), make_user()
    ann_reg = book(ann, make_baby(ann, name="Ann"), target)
    absences.report_absence(
        parent_id=ann.id, registration_id=ann_reg, session_id=session_of(target, 2).id
    )
    # Week 2 of the target: 2 seats - 1 booked + 1 absent = 2 free for make-ups.
    for parent in (bob, dan):
        _, credit_id = absent_credit(ctx, parent, make_baby(parent, name="B"), origin)
        makeups.book_makeup(
            parent_id=parent.id, credit_id=credit_id, session_id=session_of(target, 2).id
        )
    return target


def test_new_booking_cannot_take_a_seat_a_makeup_uses(
    ctx, make_centre, make_workshop, make_user, make_baby
):
    target = _week_two_full_of_makeups(ctx, make_centre, make_workshop, make_user, make_baby)
    # The course still shows one place, but week 2 is full: a booking waits.
    cat = make_user()
    waiting = book_place(
        parent_id=cat.id, workshop_id=target.id, baby_id=make_baby(cat, name="Cat").id,
        consent=True,
    )
    assert not waiting.confirmed
    assert db.session.get(Workshop, target.id).confirmed_count == 1


def test_a_week_full_of_makeups_holds_the_place_back_only_until_it_starts(
    ctx, make_centre, make_workshop, make_user, make_baby, monkeypatch
):
    # The conditional UPDATE is built once: the time it compares with is read at each
    # booking, not when the statement was made.
    target = _week_two_full_of_makeups(ctx, make_centre, make_workshop, make_user, make_baby)
    with write_transaction():
        assert not places.take_place(places.lock_workshop(target.id))
    week_two = session_of(target, 2).starts_at
    monkeypatch.setattr(places, "utc_now", lambda: week_two + timedelta(minutes=1))
    with write_transaction():
        workshop = places.lock_workshop(target.id)
        assert places.take_place(workshop)
        assert workshop.confirmed_count == 2


def test_booking_then_makeup_keeps_the_session_within_capacity(
    ctx, make_centre, make_workshop, make_user, make_baby
):
    centre = make_centre()
    target = make_workshop(centre=centre, capacity=2, starts_in_days=7)
    origin = make_workshop(centre=centre, capacity=4, starts_in_days=8)
    ann, bob, cat = make_user(), make_user(), make_user()
    ann_reg = book(ann, make_baby(ann, name="Ann"), target)
    absences.report_absence(
        parent_id=ann.id, registration_id=ann_reg, session_id=session_of(target, 2).id
    )
    book(cat, make_baby(cat, name="Cat"), target)
    _, credit_id = absent_credit(ctx, bob, make_baby(bob, name="Bob"), origin)
    makeups.book_makeup(parent_id=bob.id, credit_id=credit_id, session_id=session_of(target, 2).id)
    dan = make_user()
    _, dan_credit = absent_credit(ctx, dan, make_baby(dan, name="Dan"), origin)
    with pytest.raises(Conflict, match="no free seat"):
        makeups.book_makeup(
            parent_id=dan.id, credit_id=dan_credit, session_id=session_of(target, 2).id
        )


def test_cancelling_a_booking_withdraws_its_future_absences(ctx, courses):
    centre, home, other, parent, baby = courses
    registration_id, credit_id = absent_credit(ctx, parent, baby, home)
    cancel_registration(registration_id, actor_id=parent.id)
    assert session_of(home, 2).absences == 0
    # The whole place is free now: the absence and its unused credit are withdrawn.
    assert db.session.get(MakeupCredit, credit_id) is None
    assert db.session.scalar(sa.select(sa.func.count(Absence.id))) == 0


def test_parent_makeups_lists_sessions_credits_and_options(ctx, courses):
    centre, home, other, parent, baby = courses
    registration_id, credit_id = absent_credit(ctx, parent, baby, home)
    state = parent_makeups(parent.id)
    lines = state.sessions[registration_id]
    assert [line.absent for line in lines] == [False, True, False, False]
    assert [line.can_report for line in lines] == [True, False, True, True]
    [credit] = state.credits
    assert [o.session.id for o in credit.options] == [session_of(other, 2).id]
    makeups.book_makeup(
        parent_id=parent.id, credit_id=credit_id, session_id=session_of(other, 2).id
    )
    state = parent_makeups(parent.id)
    assert state.credits == []
    assert [m.session.id for m in state.makeups] == [session_of(other, 2).id]


def test_parent_makeups_reads_the_same_statements_for_one_credit_or_three(
    ctx, courses, make_workshop
):
    """Where each credit could be used is read for all of them at once."""
    centre, home, other, parent, baby = courses
    make_workshop(centre=centre, capacity=3, starts_in_days=9, title="Friday class")

    def statements() -> tuple[int, list[int]]:
        seen = []

        def listener(*args):
            seen.append(args[2])

        db.session.rollback()  # each read in a transaction of its own
        sa.event.listen(db.engine, "before_cursor_execute", listener)
        try:
            state = parent_makeups(parent.id)
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen), [len(line.options) for line in state.credits]

    registration_id, _ = absent_credit(ctx, parent, baby, home, week=2)
    one, options = statements()
    assert options == [2]  # week 2 of the Thursday and the Friday classes
    for week in (3, 4):
        absences.report_absence(parent_id=parent.id, registration_id=registration_id,
                                session_id=session_of(home, week).id)
    three, options = statements()
    # Each credit lasts until the course ends (others follow it): the Friday class's week
    # 4, a day later, is too late for the week 4 credit.
    assert options == [2, 2, 1]
    assert three == one


def run_at_once(app, calls):
    """Run every call in its own thread and app context, all released together."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def worker(index, call):
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                results[index] = call()
            except Exception as exc:  # the outcome is checked in the test's thread
                results[index] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a make-up thread hung"
    return results


def test_simultaneous_makeups_for_the_last_seat(app, make_centre, make_workshop, make_user,
                                                make_baby):
    with app.app_context():
        centre = make_centre()
        target = make_workshop(centre=centre, capacity=1, starts_in_days=7)
        origin = make_workshop(centre=centre, capacity=8, starts_in_days=8)
        holder = make_user()
        holder_reg = book(holder, make_baby(holder, name="Holder"), target)
        absences.report_absence(
            parent_id=holder.id, registration_id=holder_reg,
            session_id=session_of(target, 2).id,
        )
        seat = session_of(target, 2).id
        wanting = []
        for i in range(6):
            parent = make_user()
            _, credit_id = absent_credit(app, parent, make_baby(parent, name=f"B{i}"), origin)
            wanting.append((parent.id, credit_id))
        db.session.remove()

    def caller(parent_id, credit_id):
        return lambda: makeups.book_makeup(
            parent_id=parent_id, credit_id=credit_id, session_id=seat
        ).id

    results = run_at_once(app, [caller(p, c) for p, c in wanting])

    booked = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(booked) == 1 and len(refused) == 5, results
    with app.app_context():
        assert db.session.get(WorkshopSession, seat).makeups_taken == 1
        used = db.session.scalar(
            sa.select(sa.func.count(MakeupCredit.id)).where(MakeupCredit.used_at.is_not(None))
        )
        assert used == 1
        assert db.session.scalar(sa.select(sa.func.count(MakeupBooking.id))) == 1


def test_one_credit_used_twice_at_once_is_used_once(app, courses, make_workshop):
    centre, home, other, parent, baby = courses
    with app.app_context():
        third = make_workshop(centre=centre, capacity=3, starts_in_days=9)
        _, credit_id = absent_credit(app, parent, baby, home)
        targets = [session_of(other, 2).id, session_of(third, 2).id]
        db.session.remove()

    results = run_at_once(
        app,
        [
            lambda t=t: makeups.book_makeup(
                parent_id=parent.id, credit_id=credit_id, session_id=t
            ).id
            for t in targets
        ],
    )

    assert sum(isinstance(r, int) for r in results) == 1, results
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(MakeupBooking.id))) == 1
        taken = db.session.scalars(sa.select(WorkshopSession.makeups_taken)).all()
        assert sum(taken) == 1


def test_registration_cascade_is_not_needed_for_reads(ctx, courses):
    centre, home, other, parent, baby = courses
    registration_id, _ = absent_credit(ctx, parent, baby, home)
    assert db.session.get(Registration, registration_id).status == "confirmed"


def test_a_make_up_in_the_last_free_seat_shows_the_course_full_everywhere(
    ctx, client, auth, make_centre, make_workshop, make_user, make_baby
):
    """Friday's course has one place left; a family from another course makes week 3 up
    in it. Booking now joins the waiting list, so the public sees it full - on the class
    page, in the search, the API and the embed - not "1 place left"."""
    from tests.makeup_helpers import session_of

    centre = make_centre()
    home = make_workshop(centre=centre, capacity=3, starts_in_days=7)
    friday = make_workshop(centre=centre, capacity=1, starts_in_days=9, title="Friday class")
    parent = make_user()
    registration = book_place(parent_id=parent.id, workshop_id=home.id, consent=True,
                              baby_id=make_baby(parent, name="Ada").id).registration
    credit = absences.report_absence(parent_id=parent.id, registration_id=registration.id,
                                     session_id=session_of(home, 3).id)
    makeups.book_makeup(parent_id=parent.id, credit_id=credit.id,
                        session_id=session_of(friday, 3).id)
    slug = centre.slug
    assert client.get(f"/api/v1/workshops/{friday.id}").get_json()["places_left"] == 0
    listed = client.get(f"/api/v1/workshops?centre={slug}").get_json()["items"]
    assert {i["id"]: i["places_left"] for i in listed}[friday.id] == 0
    for path in (f"/classes/{friday.id}", f"/classes?centre={slug}", f"/embed/centres/{slug}"):
        text = client.get(path).get_data(as_text=True)
        card = text[text.index("Friday class"):] if path != f"/classes/{friday.id}" else text
        assert "1 place left" not in card[:1500], path
    newcomer = make_user()
    joined = book_place(parent_id=newcomer.id, workshop_id=friday.id, consent=True,
                        baby_id=make_baby(newcomer, name="Neo").id)
    assert joined.registration.status == "waitlisted"
    # Staff see it full too, and why, on the dashboard, the workshop and its held places.
    make_user("desk@example.org", role="staff", centre=centre)
    db.session.rollback()  # the requests share this context: a fresh read sees them
    auth.login("desk@example.org")
    for path in ("/manage", f"/manage/workshops/{friday.id}"):
        text = client.get(path).get_data(as_text=True)
        row = text[text.index("Friday class"):]
        assert "Full</span> 0 of 1 booked · 1 seat taken by make-up visitors · 0 free" in " ".join(
            row.split()
        ), path
    referrals = client.get(f"/manage/workshops/{friday.id}/referrals").get_data(as_text=True)
    assert "0 open to the public" in referrals
