"""edit_workshop: a workshop's details, capacity and status changed together, all or nothing."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import OutboxMessage, Registration, Workshop
from booking.services.booking import book as booking
from booking.services.errors import CapacityRefused, Conflict, Invalid, NotFound
from booking.services.schedule.edit import edit_workshop


def fresh(workshop_id) -> Workshop:
    db.session.expire_all()
    return db.session.get(Workshop, workshop_id)


def statuses(workshop_id) -> list[str]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(Registration.status)
            .where(Registration.workshop_id == workshop_id)
            .order_by(Registration.id)
        )
    )


def outbox_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(OutboxMessage.id)))


@pytest.fixture
def book(make_user, make_baby):
    """book(workshop, name) -> the registration of a new parent's baby (confirmed or waiting)."""

    def make(workshop, name="Ada"):
        parent = make_user()
        baby = make_baby(parent, name=name, age_weeks=12)
        return booking.book_place(
            parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id, consent=True
        ).registration

    return make


def test_a_refused_status_change_rolls_back_details_and_capacity(ctx, make_workshop, book):
    workshop = make_workshop(capacity=1)
    book(workshop)
    book(workshop, name="Bo")
    assert statuses(workshop.id) == ["confirmed", "waitlisted"]
    before = outbox_count()
    with pytest.raises(Conflict, match="1 booked and 1 waiting") as err:
        edit_workshop(workshop.id, fields={"title": "Renamed"}, capacity=2, status="draft")
    assert "status" in err.value.fields
    unchanged = fresh(workshop.id)
    assert (unchanged.title, unchanged.capacity, unchanged.status) == (
        "Baby massage",
        1,
        "published",
    )
    assert statuses(workshop.id) == ["confirmed", "waitlisted"]  # nobody promoted
    assert outbox_count() == before


def test_publishing_without_a_session_rolls_back_the_rest(ctx, make_workshop):
    draft = make_workshop(status="draft", sessions=0)
    with pytest.raises(Conflict, match="at least one scheduled session"):
        edit_workshop(draft.id, fields={"title": "Renamed"}, capacity=4, status="published")
    unchanged = fresh(draft.id)
    assert (unchanged.title, unchanged.capacity, unchanged.status) == (
        "Baby massage",
        8,
        "draft",
    )


def test_a_refused_capacity_rolls_back_the_details(ctx, make_workshop, book):
    workshop = make_workshop(capacity=2)
    book(workshop)
    book(workshop, name="Bo")
    with pytest.raises(CapacityRefused):
        edit_workshop(workshop.id, fields={"title": "Renamed"}, capacity=1)
    assert (fresh(workshop.id).title, fresh(workshop.id).capacity) == ("Baby massage", 2)


def test_capacity_and_publish_in_one_call(ctx, make_workshop):
    draft = make_workshop(status="draft", capacity=4)
    edited = edit_workshop(
        draft.id, fields={"title": "Spring course", "price": "30"}, capacity=6, status="published"
    )
    assert edited.id == draft.id
    changed = fresh(draft.id)
    assert (changed.title, str(changed.price), changed.capacity, changed.status) == (
        "Spring course",
        "30.00",
        6,
        "published",
    )


def test_a_capacity_rise_with_unpublish_refused_when_people_wait(ctx, make_workshop, book):
    workshop = make_workshop(capacity=1)
    book(workshop)
    book(workshop, name="Bo")
    edit_workshop(workshop.id, capacity=2)  # the waiting baby moves up
    assert statuses(workshop.id) == ["confirmed", "confirmed"]


def test_cancel_with_a_reason_and_only_on_its_own(ctx, make_workshop, book):
    workshop = make_workshop()
    book(workshop)
    with pytest.raises(Invalid) as err:
        edit_workshop(workshop.id, fields={"title": "x"}, status="cancelled")
    assert set(err.value.fields) == {"status"}
    with pytest.raises(Invalid) as err:
        edit_workshop(workshop.id, fields={"title": "x"}, cancel_reason="Flood")
    assert set(err.value.fields) == {"cancel_reason"}
    with pytest.raises(Invalid) as err:
        edit_workshop(workshop.id, status="cancelled", cancel_reason="x" * 500)
    assert set(err.value.fields) == {"cancel_reason"}
    assert fresh(workshop.id).status == "published"
    edit_workshop(workshop.id, status="cancelled", cancel_reason="The room flooded.")
    assert fresh(workshop.id).status == "cancelled"
    assert db.session.scalar(
        sa.select(Registration.cancel_reason).where(Registration.workshop_id == workshop.id)
    ) == "The room flooded."
    with pytest.raises(Conflict):
        edit_workshop(workshop.id, fields={"title": "Back again"})
    assert edit_workshop(workshop.id).status == "cancelled"  # nothing to change


def test_bad_status_and_missing_workshop(ctx, make_workshop):
    workshop = make_workshop()
    with pytest.raises(Invalid) as err:
        edit_workshop(workshop.id, status="archived")
    assert set(err.value.fields) == {"status"}
    with pytest.raises(NotFound):
        edit_workshop(999999, fields={"title": "x"})


def test_a_waiting_baby_who_fits_again_is_given_the_free_place(ctx, make_workshop, make_user,
                                                               make_baby):
    """Rule 6: Bo (19 weeks) waits; the range is narrowed to 18 weeks, Ada's place is
    freed and Bo is rightly passed over. Widened again, Bo fits and takes the free place
    at once, before any newcomer; moving the first session does the same for a baby who
    was too young."""
    from booking.services.schedule.edit import update_workshop
    from booking.services.schedule.queries import workshop_sessions
    from booking.services.schedule.sessions import move_session
    from booking.timefmt import to_local

    def book_new(workshop, name, age_weeks):
        parent = make_user()
        baby = make_baby(parent, name=name, age_weeks=age_weeks)
        return parent, booking.book_place(parent_id=parent.id, workshop_id=workshop.id,
                                          baby_id=baby.id, consent=True)

    workshop = make_workshop(capacity=1, min_age_weeks=6, max_age_weeks=20, starts_in_days=7)
    ada_parent, ada = book_new(workshop, "Ada", 10)
    _, bo = book_new(workshop, "Bo", 19)
    assert statuses(workshop.id) == ["confirmed", "waitlisted"]
    update_workshop(workshop.id, max_age_weeks=18)
    booking.cancel_registration(ada.registration_id, actor_id=ada_parent.id)
    assert db.session.get(Registration, bo.registration_id).status == "waitlisted"
    update_workshop(workshop.id, max_age_weeks=21)
    assert db.session.get(Registration, bo.registration_id).status == "confirmed"

    # Cy (10 weeks now) fits a class for 12 weeks and up starting in 15 days, and waits.
    # The class is brought 10 days earlier, too soon for Cy; a place is freed and Cy is
    # passed over. Moved back, Cy fits again and takes it.
    older = make_workshop(capacity=1, min_age_weeks=12, max_age_weeks=30, starts_in_days=15,
                          sessions=2, title="Older babies")
    dee_parent, dee = book_new(older, "Dee", 20)
    _, cy = book_new(older, "Cy", 10)
    assert statuses(older.id) == ["confirmed", "waitlisted"]

    def shift_all(days):
        db.session.expire_all()
        tz_name = db.session.get(Workshop, older.id).centre.timezone
        ordered = workshop_sessions(older.id)
        for session in ordered if days < 0 else reversed(ordered):  # none overtakes another
            local = to_local(session.starts_at, tz_name).replace(tzinfo=None)
            move_session(session.id, local + timedelta(days=days), allow_clash=True)

    shift_all(-10)
    booking.cancel_registration(dee.registration_id, actor_id=dee_parent.id)
    assert db.session.get(Registration, cy.registration_id).status == "waitlisted"
    shift_all(10)
    assert db.session.get(Registration, cy.registration_id).status == "confirmed"


def test_the_age_range_cannot_be_narrowed_under_a_booked_baby(ctx, make_workshop, make_user,
                                                              make_baby):
    """Ada (19 weeks at the first session) is booked on a class for 6 to 20 weeks: a
    range of 6 to 18 would leave her out, so it is refused, naming her, and nothing
    changes; a range that still fits her is kept."""
    from booking.services.schedule.edit import update_workshop

    workshop = make_workshop(capacity=2, min_age_weeks=6, max_age_weeks=20, starts_in_days=7)
    parent = make_user()
    booking.book_place(parent_id=parent.id, workshop_id=workshop.id, consent=True,
                       baby_id=make_baby(parent, name="Ada", age_weeks=18).id)
    with pytest.raises(Conflict) as refused:
        update_workshop(workshop.id, max_age_weeks=18)
    assert "Ada will be 19 weeks old at the first session" in refused.value.message
    assert "They are booked" in refused.value.message
    assert list(refused.value.fields) == ["max_age_weeks"]  # the field a script sent
    assert fresh(workshop.id).max_age_weeks == 20
    update_workshop(workshop.id, min_age_weeks=8, max_age_weeks=19)
    assert (fresh(workshop.id).min_age_weeks, fresh(workshop.id).max_age_weeks) == (8, 19)
