"""The booking engine's services, called directly: book, wait, cancel, promote, move."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.mail.deferred import render_notes
from booking.models import Baby, OutboxMessage, Registration, Workshop
from booking.services.booking import book as booking
from booking.services.booking import waitlist
from booking.services.errors import Conflict, Invalid, NotFound


def outbox_subjects(recipient: str | None = None) -> list[str]:
    query = sa.select(OutboxMessage.subject).order_by(OutboxMessage.id)
    if recipient:
        query = query.where(OutboxMessage.recipient == recipient)
    return list(db.session.scalars(query))


def confirmed_count(workshop_id: int) -> int:
    return db.session.scalar(sa.select(Workshop.confirmed_count).where(Workshop.id == workshop_id))


def status_of(registration_id: int) -> str:
    return db.session.scalar(
        sa.select(Registration.status).where(Registration.id == registration_id)
    )


@pytest.fixture
def family(make_user, make_baby):
    """make a parent with one baby: family(age_weeks=10) -> (parent, baby)."""

    def make(age_weeks=10, name="Ada"):
        parent = make_user()
        return parent, make_baby(parent, name=name, age_weeks=age_weeks)

    return make


def test_book_confirms_while_places_remain_then_waitlists(ctx, make_workshop, family):
    workshop = make_workshop(capacity=2)
    results = []
    for _ in range(4):
        parent, baby = family()
        results.append(
            booking.book_place(
                parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id, consent=True
            )
        )
    assert [r.registration.status for r in results] == [
        "confirmed",
        "confirmed",
        "waitlisted",
        "waitlisted",
    ]
    assert [r.position for r in results] == [None, None, 1, 2]
    assert all(r.created for r in results)
    assert confirmed_count(workshop.id) == 2
    assert render_notes() == 4  # the emails are rendered after each booking commits
    subjects = outbox_subjects()
    assert sum(s.startswith("Booking confirmed") for s in subjects) == 2
    assert sum("waiting list (number 2)" in s for s in subjects) == 1


def test_repeat_booking_returns_the_same_registration(ctx, make_workshop, family):
    workshop = make_workshop(capacity=1)
    parent, baby = family()
    first = booking.book_place(
        parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id, consent=True
    )
    again = booking.book_place(
        parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id, consent=True
    )
    assert again.created is False
    assert again.registration.id == first.registration.id
    assert confirmed_count(workshop.id) == 1
    assert len(outbox_subjects()) == 1


def test_new_baby_with_same_name_and_birthday_is_the_same_baby(ctx, make_workshop, family):
    workshop = make_workshop()
    parent, baby = family(name="Ada Rose")
    result = booking.book_place(
        parent_id=parent.id,
        workshop_id=workshop.id,
        baby_name="  ada   ROSE ",
        baby_dob=baby.date_of_birth,
        consent=True,
    )
    assert result.registration.baby_id == baby.id
    assert db.session.scalar(sa.select(sa.func.count(Baby.id))) == 1


def test_new_baby_is_added_to_the_account(ctx, make_workshop, make_user):
    workshop = make_workshop()
    parent = make_user()
    result = booking.book_place(
        parent_id=parent.id,
        workshop_id=workshop.id,
        baby_name="Bo",
        baby_dob=date.today() - timedelta(weeks=9),
        consent=True,
    )
    baby = db.session.get(Baby, result.registration.baby_id)
    assert (baby.name, baby.parent_id) == ("Bo", parent.id)


@pytest.mark.parametrize(
    "fields",
    [
        {"status": "draft"},
        {"status": "cancelled"},
    ],
)
def test_unpublished_workshop_is_not_found(ctx, make_workshop, family, fields):
    workshop = make_workshop(**fields)
    parent, baby = family()
    with pytest.raises(NotFound):
        booking.book_place(
            parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id, consent=True
        )
    assert db.session.scalar(sa.select(sa.func.count(Registration.id))) == 0


def test_workshop_at_unpublished_centre_is_not_found(ctx, make_workshop, make_centre, family):
    workshop = make_workshop(centre=make_centre(published=False))
    parent, baby = family()
    with pytest.raises(NotFound):
        booking.book_place(
            parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id, consent=True
        )


def test_started_workshop_cannot_be_booked(ctx, make_workshop, family):
    workshop = make_workshop(starts_in_days=-1)
    parent, baby = family()
    with pytest.raises(Invalid, match="Booking for this class closed"):
        booking.book_place(
            parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id, consent=True
        )


def test_someone_elses_baby_is_not_found(ctx, make_workshop, family):
    workshop = make_workshop()
    _, other_baby = family()
    parent, _ = family()
    with pytest.raises(NotFound):
        booking.book_place(
            parent_id=parent.id, workshop_id=workshop.id, baby_id=other_baby.id, consent=True
        )


def test_consent_is_required(ctx, make_workshop, family):
    workshop = make_workshop()
    parent, baby = family()
    with pytest.raises(Invalid) as caught:
        booking.book_place(parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id)
    assert "consent" in caught.value.fields


@pytest.mark.parametrize(
    "dob, words",
    [
        (date.today() + timedelta(days=3), "future"),
        (date.today() - timedelta(days=4 * 365), "more than 3 years"),
    ],
)
def test_implausible_dates_of_birth_are_refused(ctx, make_workshop, make_user, dob, words):
    workshop = make_workshop()
    parent = make_user()
    with pytest.raises(Invalid, match=words) as caught:
        booking.book_place(
            parent_id=parent.id,
            workshop_id=workshop.id,
            baby_name="Bo",
            baby_dob=dob,
            consent=True,
        )
    assert "baby_dob" in caught.value.fields
    assert db.session.scalar(sa.select(sa.func.count(Baby.id))) == 0


def test_age_outside_the_range_is_explained(ctx, make_workshop, family):
    workshop = make_workshop(min_age_weeks=6, max_age_weeks=20, starts_in_days=7)
    parent, baby = family(age_weeks=3, name="Ada")
    with pytest.raises(booking.NotEligible) as caught:
        booking.book_place(
            parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id, consent=True
        )
    assert caught.value.message == (
        "Ada will be 4 weeks old at the first session; this class is for babies from 6 to 20 "
        "weeks."
    )
    assert caught.value.age_weeks_now == 3


def test_cancel_frees_the_place_for_the_first_eligible_waiting(ctx, make_workshop, family):
    workshop = make_workshop(capacity=1, min_age_weeks=6, max_age_weeks=20)
    holder, holder_baby = family()
    first = booking.book_place(
        parent_id=holder.id, workshop_id=workshop.id, baby_id=holder_baby.id, consent=True
    )
    waiting = []
    for _ in range(2):
        parent, baby = family(age_weeks=10)
        waiting.append(
            booking.book_place(
                parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id, consent=True
            )
        )
    # The first waiting baby's date of birth was wrong: she no longer fits.
    too_old = db.session.get(Baby, waiting[0].registration.baby_id)
    too_old.date_of_birth = date.today() - timedelta(weeks=30)
    db.session.commit()

    cancelled = booking.cancel_registration(first.registration.id, actor_id=holder.id)
    assert cancelled.status == "cancelled"
    assert cancelled.invite_sequence == 1
    assert status_of(waiting[0].registration.id) == "waitlisted"
    assert status_of(waiting[1].registration.id) == "confirmed"
    assert confirmed_count(workshop.id) == 1
    assert any(s.startswith("A place came up") for s in outbox_subjects())
    assert any(s.startswith("Booking cancelled") for s in outbox_subjects())


def test_cancel_after_the_cutoff_is_refused_for_parents(ctx, make_workshop, family):
    workshop = make_workshop(starts_in_days=1, cancellation_cutoff_hours=48)
    parent, baby = family()
    result = booking.book_place(
        parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id, consent=True
    )
    with pytest.raises(Invalid, match="The cut-off for cancelling was"):
        booking.cancel_registration(result.registration.id, actor_id=parent.id)
    assert status_of(result.registration.id) == "confirmed"
    staff_done = booking.cancel_registration(
        result.registration.id, actor_id=0, on_behalf=True, reason="Poorly"
    )
    assert staff_done.status == "cancelled"
    assert staff_done.cancel_reason == "Poorly"
    assert confirmed_count(workshop.id) == 0
    # The family is told the centre cancelled it, and why (the email said only "is
    # cancelled", as if they had done it themselves).
    body = db.session.scalar(sa.select(OutboxMessage.body_text).where(
        OutboxMessage.subject.startswith("Booking cancelled")))
    assert "is cancelled by Centre 1: Poorly. The attached update" in body


def test_waiting_entry_can_always_be_cancelled(ctx, make_workshop, family):
    workshop = make_workshop(capacity=0, starts_in_days=1, cancellation_cutoff_hours=48)
    parent, baby = family()
    result = booking.book_place(
        parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id, consent=True
    )
    assert result.position == 1
    booking.cancel_registration(result.registration.id, actor_id=parent.id)
    assert status_of(result.registration.id) == "cancelled"
    assert any(s.startswith("Waiting-list place cancelled") for s in outbox_subjects())


def test_cancelling_someone_elses_booking_is_not_found(ctx, make_workshop, family):
    workshop = make_workshop()
    parent, baby = family()
    stranger, _ = family()
    result = booking.book_place(
        parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id, consent=True
    )
    with pytest.raises(NotFound):
        booking.cancel_registration(result.registration.id, actor_id=stranger.id)
    assert status_of(result.registration.id) == "confirmed"


def test_cancelling_twice_changes_nothing_more(ctx, make_workshop, family):
    workshop = make_workshop()
    parent, baby = family()
    result = booking.book_place(
        parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id, consent=True
    )
    booking.cancel_registration(result.registration.id, actor_id=parent.id)
    again = booking.cancel_registration(result.registration.id, actor_id=parent.id)
    assert again.invite_sequence == 1
    assert confirmed_count(workshop.id) == 0
    assert sum(s.startswith("Booking cancelled") for s in outbox_subjects()) == 1


def test_capacity_rise_promotes_and_cannot_go_below_confirmed(ctx, make_workshop, family):
    workshop = make_workshop(capacity=2)
    regs = []
    for _ in range(4):
        parent, baby = family()
        regs.append(
            booking.book_place(
                parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id, consent=True
            ).registration.id
        )
    with pytest.raises(Invalid, match="2 places are already confirmed"):
        waitlist.change_capacity(workshop.id, 1)
    changed = waitlist.change_capacity(workshop.id, 3)
    assert changed.capacity == 3
    assert [status_of(r) for r in regs] == ["confirmed"] * 3 + ["waitlisted"]
    assert waitlist.waitlist_position(db.session.get(Registration, regs[3])) == 1


def test_held_places_count_against_capacity(ctx, make_workshop, family):
    workshop = make_workshop(capacity=3, held_places=2)
    statuses = []
    for _ in range(2):
        parent, baby = family()
        statuses.append(
            booking.book_place(
                parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id, consent=True
            ).registration.status
        )
    assert statuses == ["confirmed", "waitlisted"]


def test_staff_promote_by_hand_needs_a_free_place(ctx, make_workshop, family):
    workshop = make_workshop(capacity=1)
    ids = []
    for _ in range(3):
        parent, baby = family()
        ids.append(
            booking.book_place(
                parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id, consent=True
            ).registration.id
        )
    with pytest.raises(Conflict, match="no free place"):
        waitlist.promote_registration(ids[2])
    with pytest.raises(Conflict, match="already has a place"):
        waitlist.promote_registration(ids[0])
    db.session.execute(sa.update(Workshop).values(capacity=2))
    db.session.commit()
    promoted = waitlist.promote_registration(ids[2])
    assert promoted.status == "confirmed"
    assert status_of(ids[1]) == "waitlisted"
    assert confirmed_count(workshop.id) == 2


def test_move_to_another_class_at_the_same_centre(ctx, make_workshop, make_centre, family):
    centre = make_centre()
    source = make_workshop(centre=centre, capacity=1)
    target = make_workshop(centre=centre, capacity=1, starts_in_days=14)
    elsewhere = make_workshop(capacity=5)
    parent, baby = family()
    moved_out = booking.book_place(
        parent_id=parent.id, workshop_id=source.id, baby_id=baby.id, consent=True
    ).registration.id
    waiting_parent, waiting_baby = family()
    waiting = booking.book_place(
        parent_id=waiting_parent.id, workshop_id=source.id, baby_id=waiting_baby.id, consent=True
    ).registration.id

    with pytest.raises(Invalid, match="same centre"):
        waitlist.move_registration(moved_out, elsewhere.id)
    moved = waitlist.move_registration(moved_out, target.id)
    assert moved.workshop_id == target.id and moved.status == "confirmed"
    assert status_of(moved_out) == "cancelled"
    assert status_of(waiting) == "confirmed"
    assert confirmed_count(source.id) == 1
    assert confirmed_count(target.id) == 1
    with pytest.raises(Conflict):
        waitlist.move_registration(waiting, target.id)


def test_waitlist_positions_for_many_at_once(ctx, make_workshop, family):
    first = make_workshop(capacity=0)
    second = make_workshop(capacity=0)
    regs = []
    for workshop in (first, second, first):
        parent, baby = family()
        regs.append(
            booking.book_place(
                parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id, consent=True
            ).registration
        )
    loaded = [db.session.get(Registration, r.id) for r in regs]
    assert waitlist.waitlist_positions(loaded) == {regs[0].id: 1, regs[1].id: 1, regs[2].id: 2}


def _hint(monkeypatch, live_id):
    """Make the workshop's lock report `live_id` as the baby's live booking in it, as a
    PostgreSQL snapshot taken before the lock was granted may (None: no booking)."""
    real = booking.bookable_workshop

    def stale(workshop_id, *columns, **values):
        workshop, form_version, _, *rest = real(workshop_id, *columns, **values)
        return workshop, form_version, live_id, *rest

    monkeypatch.setattr(booking, "bookable_workshop", stale)


def test_a_live_booking_seen_before_the_lock_but_cancelled_since_does_not_stop_a_booking(
    ctx, make_workshop, family, monkeypatch
):
    workshop = make_workshop(capacity=2)
    parent, baby = family()
    first = booking.book_place(
        parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id, consent=True
    )
    booking.cancel_registration(first.registration.id, actor_id=parent.id)
    _hint(monkeypatch, first.registration.id)
    again = booking.book_place(
        parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id, consent=True
    )
    assert again.created is True
    assert again.registration.id != first.registration.id
    assert again.registration.status == "confirmed"
    assert confirmed_count(workshop.id) == 1


@pytest.mark.parametrize("capacity", [1, 0])
def test_a_new_registration_holds_every_column_as_stored(ctx, make_workshop, family, capacity):
    """The registration a booking returns was written by a plain INSERT and kept as if
    loaded: each of its columns must say what the database holds (a column given a
    default only by the database would read None here)."""
    workshop = make_workshop(capacity=capacity)
    parent, baby = family()
    result = booking.book_place(
        parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id, consent=True
    )
    kept = result.registration
    stored = db.session.execute(
        sa.select(Registration.__table__).where(Registration.id == kept.id)
    ).one()._asdict()
    assert {key: getattr(kept, key) for key in stored} == stored


@pytest.mark.parametrize("missed", [1, 2])
def test_a_booking_committed_unseen_before_the_lock_answers_with_it(
    ctx, make_workshop, family, monkeypatch, missed
):
    """A second tab's booking of the same baby, missed by the snapshot the lock's
    statement began with (PostgreSQL), meets the unique index of live registrations:
    that run is rolled back whole (its place given back) and the booking, run again,
    answers with the first, with one place taken and one email. Missed by two runs (a
    third tab meanwhile), the third answers with it."""
    workshop = make_workshop(capacity=3)
    parent, baby = family()
    first = booking.book_place(
        parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id, consent=True
    )
    real = booking.bookable_workshop
    calls = []

    def stale(workshop_id, *columns, **values):
        workshop, form_version, live_id, *rest = real(workshop_id, *columns, **values)
        calls.append(live_id)
        return workshop, form_version, live_id if len(calls) > missed else None, *rest

    monkeypatch.setattr(booking, "bookable_workshop", stale)
    again = booking.book_place(
        parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id, consent=True
    )
    assert len(calls) == missed + 1
    assert again.created is False
    assert again.registration.id == first.registration.id
    assert confirmed_count(workshop.id) == 1
    notes = db.session.scalars(
        sa.select(OutboxMessage.kind).where(OutboxMessage.ref_id == first.registration.id)
    ).all()
    assert notes == ["booking_confirmed"]


def test_an_insert_refused_by_another_rule_is_reported_not_read_as_booked(
    ctx, make_workshop, family, monkeypatch
):
    """Only the unique index of live registrations means a booking made meanwhile: an
    INSERT refused by any other rule is an error raised as it is (logged as a failure),
    not "already booked", and the booking is not run again; nothing is kept."""
    workshop = make_workshop(capacity=3)
    parent, baby = family()
    runs = []

    def refused(values):
        runs.append(values)
        raise sa.exc.IntegrityError(
            "INSERT INTO registration", {}, Exception("CHECK constraint failed: status_known")
        )

    monkeypatch.setattr(booking, "_insert_registration", refused)
    with pytest.raises(sa.exc.IntegrityError):
        booking.book_place(
            parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id, consent=True
        )
    assert len(runs) == 1
    assert confirmed_count(workshop.id) == 0
    assert db.session.scalar(sa.select(sa.func.count(Registration.id))) == 0


def test_a_referred_booking_made_twice_at_once_answers_with_the_first(
    ctx, make_workshop, family, monkeypatch
):
    """The second request's snapshot may miss the first booking; its code is used by
    then, and the answer is still the booking made, not a refused code."""
    from datetime import UTC, datetime

    from booking.services.booking import referrals

    workshop = make_workshop(
        capacity=2, held_places=1, held_until=datetime.now(UTC) + timedelta(days=1)
    )
    parent, baby = family()
    code = referrals.create_codes(workshop.id)[0].code
    first = booking.book_place(
        parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id, consent=True,
        referral_code=code,
    )
    _hint(monkeypatch, None)
    again = booking.book_place(
        parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id, consent=True,
        referral_code=code,
    )
    assert again.created is False
    assert again.registration.id == first.registration.id


def test_waiting_positions_count_only_babies_who_fit_the_class(
    app, client, auth, make_workshop, make_user, make_baby
):
    """Old (28 weeks), Young and Third wait, in that order, for a class narrowed to 20
    weeks: Old will never be offered a place, so Young is number 1 and Third number 2,
    and Old's parent is told why, on My bookings and on the class page."""
    from booking.services.schedule.edit import update_workshop

    workshop = make_workshop(capacity=1, min_age_weeks=6, max_age_weeks=30)
    holder = make_user()
    parents = {name: make_user(email=f"{name.lower()}@example.org")
               for name in ("Old", "Young", "Third")}
    ages = {"Old": 28, "Young": 10, "Third": 10}
    with app.app_context():
        held = booking.book_place(parent_id=holder.id, workshop_id=workshop.id, consent=True,
                          baby_id=make_baby(holder).id)
        for name, parent in parents.items():
            booking.book_place(parent_id=parent.id, workshop_id=workshop.id, consent=True,
                       baby_id=make_baby(parent, name=name, age_weeks=ages[name]).id)
        update_workshop(workshop.id, max_age_weeks=20)

    def seen_by(name):
        auth.login(f"{name.lower()}@example.org")
        bookings = client.get("/account/bookings").get_data(as_text=True)
        panel = client.get(f"/classes/{workshop.id}").get_data(as_text=True)
        auth.logout()
        return " ".join(bookings.split()), " ".join(panel.split())

    assert "Number 1 on the waiting list" in seen_by("Young")[0]
    assert "Number 2 on the waiting list" in seen_by("Third")[0]
    bookings, panel = seen_by("Old")
    assert "on the waiting list</span>" not in bookings
    assert "Old will be 29 weeks old at the first session" in bookings
    assert "So Old will not be offered a place from this waiting list" in bookings
    assert "Old is on the waiting list but no longer fits this class's ages" in panel
    auth.login("old@example.org")  # booking Old again says so, not "number None"
    with app.app_context():
        old_baby = db.session.scalar(sa.select(Baby.id).where(Baby.name == "Old"))
    again = client.post(f"/classes/{workshop.id}/book", data={"baby_id": old_baby,
                                                               "consent": "y"},
                        follow_redirects=True).get_data(as_text=True)
    assert "number None" not in again
    assert "no longer fits its ages, so no place will be offered from it" in again
    auth.logout()
    # Staff and the instructor number the list as the parents are told.
    from booking.services.teaching.roster import staff_roster

    with app.app_context():
        from booking.models import Centre, User

        staff = make_user(role="staff", centre=db.session.get(
            Centre, db.session.get(Workshop, workshop.id).centre_id))
        db.session.rollback()  # a fresh read, seeing the user made in its own context
        roster = staff_roster(workshop.id, db.session.get(User, staff.id))
        numbered = {e.baby_name: (e.position, bool(e.unfit)) for e in roster.waiting}
        assert numbered == {"Old": (None, True), "Young": (1, False), "Third": (2, False)}
        from booking.web.manage.queries import registrations

        _, waiting = registrations(workshop.id)  # the staff registrations page's list
        assert {row.baby.name: row.position for row in waiting} == {
            "Old": None, "Young": 1, "Third": 2}
        booking.cancel_registration(held.registration_id, actor_id=holder.id)
    assert "Number 1 on the waiting list" in seen_by("Third")[0]
