"""Referral codes and held places: creating, claiming, revoking (PRODUCT.md rule 11)."""

import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import ReferralCode, Registration, User, Workshop
from booking.services.booking import referrals
from booking.services.booking.book import book_place
from booking.services.courses.absences import report_absence
from booking.services.courses.makeups import book_makeup
from booking.services.errors import Invalid, NotFound
from tests.makeup_helpers import book as makeup_book
from tests.makeup_helpers import session_of


def now():
    return datetime.now(UTC)


@pytest.fixture
def held_workshop(make_workshop):
    """A workshop of 3 places, 1 held until tomorrow."""

    def make(**fields):
        values = {"capacity": 3, "held_places": 1, "held_until": now() + timedelta(days=1)}
        values.update(fields)
        return make_workshop(**values)

    return make


def fresh(workshop_id) -> Workshop:
    db.session.rollback()
    return db.session.get(Workshop, workshop_id, populate_existing=True)


def book(parent, baby, workshop, code=None):
    return book_place(
        parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id, consent=True,
        referral_code=code,
    )


def test_codes_are_random_readable_and_stored_only_as_hashes(ctx, held_workshop):
    workshop = held_workshop()
    created = referrals.create_codes(workshop.id, count=3, label=" Health  visitors North ")
    codes = [c.code for c in created]
    assert len(set(codes)) == 3
    for code in codes:
        groups = code.split("-")
        assert [len(g) for g in groups] == [4, 4, 4, 4]
        assert set("".join(groups)) <= set(referrals.CODE_ALPHABET)
    rows = db.session.scalars(sa.select(ReferralCode)).all()
    assert {r.label for r in rows} == {"Health visitors North"}
    for row in rows:
        assert row.code_hash not in codes and len(row.code_hash) == 64
        assert row.expires_at == fresh(workshop.id).held_until
    stored = {r.code_hash for r in db.session.scalars(sa.select(ReferralCode))}
    assert stored == {referrals.hash_code(c) for c in codes}
    assert referrals.hash_code(codes[0].lower().replace("-", " ")) == referrals.hash_code(codes[0])


def test_codes_need_unclaimed_held_places_and_sane_values(ctx, make_workshop, held_workshop):
    with pytest.raises(Invalid) as exc:
        referrals.create_codes(make_workshop().id)
    assert "count" in exc.value.fields
    workshop = held_workshop()
    with pytest.raises(Invalid) as exc:
        referrals.create_codes(workshop.id, count=0, expires_at=now() - timedelta(hours=1))
    assert set(exc.value.fields) == {"count", "expires_at"}
    with pytest.raises(Invalid):
        referrals.create_codes(workshop.id, count="many")
    with pytest.raises(Invalid) as exc:
        referrals.create_codes(workshop.id, label="\u202elatot")
    assert "text-direction overrides" in exc.value.fields["label"]
    assert db.session.scalar(sa.select(sa.func.count(ReferralCode.id))) == 0


def test_a_code_books_a_held_place_when_public_places_are_gone(
    ctx, held_workshop, make_user, make_baby
):
    workshop = held_workshop(capacity=2)
    public = make_user()
    book(public, make_baby(public), workshop)
    other = make_user()
    waiting = book(other, make_baby(other), workshop)
    assert waiting.registration.status == "waitlisted"
    code = referrals.create_codes(workshop.id, label="Family workers")[0].code
    parent = make_user()
    result = book(parent, make_baby(parent), workshop, code.lower())
    assert result.confirmed and result.registration.held_place
    w = fresh(workshop.id)
    assert (w.confirmed_count, w.held_claimed, w.held_unclaimed, w.places_left) == (2, 1, 0, 0)
    row = db.session.scalar(sa.select(ReferralCode))
    assert row.used_at is not None and row.used_by_registration_id == result.registration.id
    rows = referrals.workshop_codes(workshop.id)
    assert rows[0].state == "used" and rows[0].registration.id == result.registration.id


def test_a_family_already_waiting_uses_a_code_for_the_same_booking(
    ctx, held_workshop, make_user, make_baby
):
    """Joining the waiting list, then being given a code, is the usual order for a
    referred family: the code confirms the waiting booking in a held place."""
    workshop = held_workshop(capacity=2)
    public = make_user()
    book(public, make_baby(public), workshop)
    parent = make_user()
    baby = make_baby(parent)
    waiting = book(parent, baby, workshop)
    assert waiting.registration.status == "waitlisted"
    code = referrals.create_codes(workshop.id)[0].code
    with pytest.raises(Invalid):  # a wrong code changes nothing
        book(parent, baby, workshop, "AAAA-BBBB-CCCC-DDDD")
    db.session.rollback()
    result = book(parent, baby, workshop, code)
    assert result.confirmed and result.registration.id == waiting.registration.id
    assert result.registration.held_place
    w = fresh(workshop.id)
    assert (w.confirmed_count, w.held_claimed, w.places_left) == (2, 1, 0)
    row = db.session.scalar(sa.select(ReferralCode))
    assert row.used_by_registration_id == waiting.registration.id
    assert db.session.scalar(sa.select(sa.func.count(Registration.id))) == 2
    # Booked now: the same code, or booking again, changes nothing more.
    again = book(parent, baby, workshop, code)
    assert not again.created and again.registration.status == "confirmed"


def _state(workshop_id):
    w = fresh(workshop_id)
    used = db.session.scalar(
        sa.select(sa.func.count(ReferralCode.id)).where(ReferralCode.used_at.is_not(None))
    )
    regs = db.session.scalar(sa.select(sa.func.count(Registration.id)))
    return w.confirmed_count, w.held_claimed, used, regs


@pytest.mark.parametrize("case", ["unknown", "used", "expired", "revoked", "other", "typo"])
def test_every_bad_code_gets_one_message_and_changes_nothing(
    ctx, case, held_workshop, make_user, make_baby
):
    workshop = held_workshop(held_places=2, capacity=4)
    other_workshop = held_workshop()
    code = referrals.create_codes(workshop.id)[0].code
    if case == "unknown":
        code = referrals.new_code()
    elif case == "used":
        first = make_user()
        book(first, make_baby(first), workshop, code)
    elif case == "expired":
        db.session.execute(sa.update(ReferralCode).values(expires_at=now() - timedelta(1)))
        db.session.commit()
    elif case == "revoked":
        referrals.revoke_code(workshop.id, db.session.scalar(sa.select(ReferralCode.id)))
    elif case == "other":
        code = referrals.create_codes(other_workshop.id)[0].code
    elif case == "typo":
        code = code[:-1] + ("A" if code[-1] != "A" else "B")
    before = _state(workshop.id)
    parent = make_user()
    with pytest.raises(Invalid) as exc:
        book(parent, make_baby(parent), workshop, code)
    assert exc.value.message == referrals.CODE_REFUSED
    assert exc.value.fields == {"referral_code": referrals.CODE_REFUSED}
    assert _state(workshop.id) == before


def test_no_held_place_left_gives_the_same_message(ctx, held_workshop, make_user, make_baby):
    workshop = held_workshop(held_places=1)
    first, second = referrals.create_codes(workshop.id, count=2)
    parent = make_user()
    book(parent, make_baby(parent), workshop, first.code)
    before = _state(workshop.id)
    parent2 = make_user()
    with pytest.raises(Invalid) as exc:
        book(parent2, make_baby(parent2), workshop, second.code)
    assert exc.value.message == referrals.CODE_REFUSED
    assert _state(workshop.id) == before
    assert db.session.get(ReferralCode, second.referral.id).used_at is None


def test_revoke_keeps_used_codes_and_is_scoped_to_the_workshop(
    ctx, held_workshop, make_user, make_baby
):
    workshop = held_workshop(held_places=2)
    used, spare = referrals.create_codes(workshop.id, count=2)
    parent = make_user()
    book(parent, make_baby(parent), workshop, used.code)
    assert referrals.revoke_code(workshop.id, used.referral.id).revoked_at is None
    with pytest.raises(NotFound):
        referrals.revoke_code(held_workshop().id, spare.referral.id)
    assert referrals.revoke_code(workshop.id, spare.referral.id).revoked_at is not None
    states = {r.referral.id: r.state for r in referrals.workshop_codes(workshop.id)}
    assert states == {used.referral.id: "used", spare.referral.id: "revoked"}


def test_set_held_places_checks_claimed_and_confirmed(ctx, held_workshop, make_user, make_baby):
    workshop = held_workshop(capacity=3, held_places=2)
    code = referrals.create_codes(workshop.id)[0].code
    parent = make_user()
    book(parent, make_baby(parent), workshop, code)
    other = make_user()
    book(other, make_baby(other), workshop)
    tomorrow = now() + timedelta(days=2)
    with pytest.raises(Invalid) as exc:
        referrals.set_held_places(workshop.id, 0, tomorrow)
    assert "already claimed" in exc.value.fields["held_places"]
    with pytest.raises(Invalid) as exc:
        referrals.set_held_places(workshop.id, 3, tomorrow)
    assert "At most 2" in exc.value.fields["held_places"]
    with pytest.raises(Invalid) as exc:
        referrals.set_held_places(workshop.id, 2, None)
    assert "held_until" in exc.value.fields
    with pytest.raises(Invalid) as exc:
        referrals.set_held_places(workshop.id, 2, now() - timedelta(hours=1))
    assert "held_until" in exc.value.fields
    referrals.set_held_places(workshop.id, 2, tomorrow)
    w = fresh(workshop.id)
    assert (w.held_places, w.held_until, w.places_left) == (2, tomorrow, 0)


def test_fewer_held_places_promote_the_waiting_list(ctx, held_workshop, make_user, make_baby):
    workshop = held_workshop(capacity=2, held_places=1)
    first = make_user()
    book(first, make_baby(first), workshop)
    second = make_user()
    waiting = book(second, make_baby(second), workshop)
    assert waiting.registration.status == "waitlisted"
    referrals.set_held_places(workshop.id, 0, None)
    assert db.session.get(Registration, waiting.registration.id).status == "confirmed"
    assert fresh(workshop.id).confirmed_count == 2


def test_release_held_places_after_held_until_promotes_and_is_idempotent(
    ctx, held_workshop, make_user, make_baby
):
    workshop = held_workshop(capacity=3, held_places=2, held_until=now() + timedelta(hours=1))
    later = held_workshop(held_until=now() + timedelta(days=3))
    code = referrals.create_codes(workshop.id)[0].code
    parent = make_user()
    book(parent, make_baby(parent), workshop, code)
    public = make_user()
    book(public, make_baby(public), workshop)
    waiting = []
    for _ in range(2):
        p = make_user()
        waiting.append(book(p, make_baby(p), workshop).registration.id)
    assert referrals.release_held_places() == 0
    when = now() + timedelta(hours=2)
    assert referrals.release_held_places(when) == 1
    w = fresh(workshop.id)
    assert (w.held_places, w.held_claimed, w.confirmed_count) == (1, 1, 3)
    statuses = [db.session.get(Registration, i).status for i in waiting]
    assert statuses == ["confirmed", "waitlisted"]
    assert referrals.release_held_places(when) == 0
    assert fresh(later.id).held_places == 1


def test_a_referred_place_cancelled_after_the_release_is_held_no_longer(
    ctx, held_workshop, make_user, make_baby
):
    """After the release, a referred family cancelling frees a public place: it is no
    longer counted held and claimed (staff saw "1 held, 1 claimed" for good, and could
    not set fewer held places), and the family waiting gets it."""
    from booking.services.booking.book import cancel_registration

    workshop = held_workshop(capacity=2, held_places=1, held_until=now() + timedelta(hours=1))
    code = referrals.create_codes(workshop.id)[0].code
    referred = make_user()
    place = book(referred, make_baby(referred), workshop, code)
    public = make_user()
    book(public, make_baby(public), workshop)
    waiting_parent = make_user()
    waiting = book(waiting_parent, make_baby(waiting_parent), workshop)
    assert waiting.position == 1
    db.session.execute(sa.update(Workshop).where(Workshop.id == workshop.id)
                       .values(held_until=now() - timedelta(minutes=1)))
    db.session.commit()
    cancel_registration(place.registration.id, actor_id=referred.id)
    w = fresh(workshop.id)
    assert (w.held_places, w.held_claimed, w.confirmed_count) == (0, 0, 2)
    assert db.session.get(Registration, waiting.registration.id).status == "confirmed"
    referrals.set_held_places(workshop.id, 0, now() + timedelta(days=1))  # allowed now


def test_a_code_after_the_release_time_is_refused(ctx, held_workshop, make_user, make_baby):
    workshop = held_workshop(held_until=now() + timedelta(days=1))
    code = referrals.create_codes(workshop.id, expires_at=now() + timedelta(days=5))[0].code
    db.session.execute(
        sa.update(Workshop).where(Workshop.id == workshop.id)
        .values(held_until=now() - timedelta(minutes=1))
    )
    db.session.commit()
    parent = make_user()
    with pytest.raises(Invalid):
        book(parent, make_baby(parent), workshop, code)


def _release_time_passed(workshop):
    db.session.execute(
        sa.update(Workshop).where(Workshop.id == workshop.id)
        .values(held_until=now() - timedelta(minutes=1))
    )
    db.session.commit()


def test_a_booking_after_the_release_time_does_not_wait_for_run_decisions(
    ctx, held_workshop, make_user, make_baby
):
    """Unclaimed held places are the public's from their release time (PRODUCT.md: Held
    places), not from the next `run-decisions`: the first booking after it releases
    them, in its own transaction."""
    workshop = held_workshop(capacity=1, held_places=1)
    _release_time_passed(workshop)
    parent = make_user()
    result = book(parent, make_baby(parent), workshop)
    assert result.registration.status == "confirmed"
    w = fresh(workshop.id)
    assert (w.held_places, w.held_claimed, w.confirmed_count) == (0, 0, 1)
    assert referrals.release_held_places() == 0  # nothing left for run-decisions


def test_the_waiting_list_gets_released_places_before_a_new_booking(
    ctx, held_workshop, make_user, make_baby
):
    workshop = held_workshop(capacity=3, held_places=2)
    first = make_user()
    assert book(first, make_baby(first), workshop).registration.status == "confirmed"
    waiting_parent = make_user()
    waiting = book(waiting_parent, make_baby(waiting_parent), workshop).registration.id
    assert db.session.get(Registration, waiting).status == "waitlisted"
    _release_time_passed(workshop)
    late = make_user()
    result = book(late, make_baby(late), workshop)
    # The family waiting took the first released place; the new booking the second.
    assert db.session.get(Registration, waiting).status == "confirmed"
    assert result.registration.status == "confirmed"
    w = fresh(workshop.id)
    assert (w.held_places, w.held_claimed, w.confirmed_count) == (0, 0, 3)
    another = make_user()
    assert book(another, make_baby(another), workshop).registration.status == "waitlisted"


def test_a_cancellation_after_the_release_time_frees_the_held_places_too(
    ctx, held_workshop, make_user, make_baby
):
    from booking.services.booking.book import cancel_registration

    workshop = held_workshop(capacity=2, held_places=1)
    first = make_user()
    place = book(first, make_baby(first), workshop)
    waiting = []
    for _ in range(3):
        p = make_user()
        waiting.append(book(p, make_baby(p), workshop).registration.id)
    _release_time_passed(workshop)
    cancel_registration(place.registration.id, actor_id=first.id)
    statuses = [db.session.get(Registration, i).status for i in waiting]
    assert statuses == ["confirmed", "confirmed", "waitlisted"]
    w = fresh(workshop.id)
    assert (w.held_places, w.held_claimed, w.confirmed_count) == (0, 0, 2)


@pytest.mark.parametrize("codes", [1, 2], ids=["one-code", "two-codes"])
def test_two_parents_racing_for_the_last_held_place(
    app, codes, held_workshop, make_user, make_baby
):
    workshop = held_workshop(capacity=2, held_places=1)
    parents = [make_user(), make_user()]
    babies = [make_baby(p) for p in parents]
    with app.app_context():
        made = [c.code for c in referrals.create_codes(workshop.id, count=codes)]
    given = [made[0], made[-1]]
    barrier = threading.Barrier(2)
    outcomes = [None, None]

    def race(index):
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                result = book(parents[index], babies[index], workshop, given[index])
                outcomes[index] = result.registration.status
            except Invalid as exc:
                outcomes[index] = exc.message
            finally:
                db.session.remove()

    threads = [threading.Thread(target=race, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(outcomes) == sorted(["confirmed", referrals.CODE_REFUSED])
    with app.app_context():
        w = db.session.get(Workshop, workshop.id)
        assert (w.confirmed_count, w.held_claimed) == (1, 1)
        assert db.session.scalar(sa.select(sa.func.count(Registration.id))) == 1
        used = db.session.scalars(
            sa.select(ReferralCode).where(ReferralCode.used_at.is_not(None))
        ).all()
        assert len(used) == 1 and used[0].used_by_registration_id is not None


def test_run_decisions_releases_due_held_places(app, runner, held_workshop, make_user, make_baby):
    workshop = held_workshop(capacity=1, held_places=1)
    parent = make_user()
    with app.app_context():
        waiting = book(parent, make_baby(parent), workshop).registration.id
        db.session.execute(
            sa.update(Workshop).where(Workshop.id == workshop.id)
            .values(held_until=now() - timedelta(minutes=5))
        )
        db.session.commit()
    result = runner.invoke(args=["run-decisions"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.get(Registration, waiting).status == "confirmed"
        assert db.session.get(Workshop, workshop.id).held_places == 0
    assert runner.invoke(args=["run-decisions"]).exit_code == 0


def test_places_held_after_a_make_up_took_the_last_seat_keep_the_session_within_capacity(
    ctx, make_centre, make_user, make_workshop, make_baby
):
    """A make-up from another course took week 2's last seat: holding a place for
    referrals is refused (as lowering the capacity is), and a place held before the
    make-up came cannot be claimed past the seats week 2 has."""
    centre = make_centre()
    teacher = make_user(role="instructor", centre=centre)
    other = make_workshop(centre=centre, instructor=teacher, capacity=5, starts_in_days=3)
    target = make_workshop(centre=centre, instructor=teacher, capacity=3, starts_in_days=5)
    for n in range(2):
        p = make_user()
        makeup_book(p, make_baby(p, name=f"T{n}"), target)
    visitor = make_user()
    registration_id = makeup_book(visitor, make_baby(visitor, name="Vee"), other)
    credit = report_absence(parent_id=visitor.id, registration_id=registration_id,
                            session_id=session_of(other, 2).id)
    book_makeup(parent_id=visitor.id, credit_id=credit.id, session_id=session_of(target, 2).id)
    release = now() + timedelta(days=2)
    with pytest.raises(Invalid) as refused:
        referrals.set_held_places(target.id, 1, release)
    assert "make-ups from other classes take 1 more seat" in refused.value.fields["held_places"]
    db.session.rollback()
    # Held anyway (as before this rule): the code finds no seat in week 2.
    db.session.execute(
        sa.update(Workshop).where(Workshop.id == target.id)
        .values(held_places=1, held_set=1, held_until=release)
    )
    db.session.commit()
    code = referrals.create_codes(target.id)[0].code
    referred = make_user()
    with pytest.raises(Invalid):
        book(referred, make_baby(referred, name="Ref"), target, code)
    db.session.rollback()
    w = fresh(target.id)
    assert (w.confirmed_count, w.held_claimed) == (2, 0)
    # Re-saving the places already held (to move their release) is not refused.
    referrals.set_held_places(target.id, 1, release + timedelta(hours=1))


def test_the_class_page_lets_a_waiting_baby_take_a_held_place_with_a_code(
    app, client, auth, held_workshop, make_user, make_baby
):
    """On the class page a waiting baby stays selectable while places are held, so the
    family can enter the code they were given; without held places it is not."""
    workshop = held_workshop(capacity=2)
    other = make_user()
    parent = make_user(email="waiting@example.org")
    baby = make_baby(parent, name="Ada")
    with app.app_context():
        db.session.execute(sa.update(User).where(User.id == parent.id).values(phone="07700 900123"))
        db.session.commit()
        book(other, make_baby(other), workshop)
        assert book(parent, baby, workshop).registration.status == "waitlisted"
        code = referrals.create_codes(workshop.id)[0].code
    auth.login("waiting@example.org")
    page = client.get(f"/classes/{workshop.id}").get_data(as_text=True)
    radio = re.search(rf'<input type="radio" name="baby_id" id="baby_id-{baby.id}"[^>]*>', page)
    assert radio and "disabled" not in radio.group(0)
    assert "Have a referral code? Choose Ada and enter it below." in page
    response = client.post(f"/classes/{workshop.id}/book", data={
        "baby_id": str(baby.id), "consent": "y", "referral_code": code})
    assert response.status_code == 302
    with app.app_context():
        statuses = db.session.scalars(
            sa.select(Registration.status).where(Registration.parent_id == parent.id)
        ).all()
    assert statuses == ["confirmed"]
    page = client.get(f"/classes/{workshop.id}").get_data(as_text=True)
    radio = re.search(rf'<input type="radio" name="baby_id" id="baby_id-{baby.id}"[^>]*>', page)
    assert radio is None or "disabled" in radio.group(0)


def test_a_referred_place_in_a_class_paid_online_is_told_to_pay_at_the_centre(
    ctx, held_workshop, make_user, make_baby
):
    """A referral code confirms the place without a card: its confirmation says what the
    bookings page says, to pay at the centre, not "paid online by card when booking"."""
    from booking.mail.deferred import render_notes
    from booking.models import OutboxMessage

    workshop = held_workshop(payment_mode="online", price=30)
    code = referrals.create_codes(workshop.id)[0].code
    parent = make_user()
    assert book(parent, make_baby(parent), workshop, code).confirmed
    render_notes()
    body = db.session.scalar(sa.select(OutboxMessage.body_text).where(
        OutboxMessage.subject.startswith("Booking confirmed")))
    assert "To pay: Pay £30.00 at the centre." in body
    assert "paid online by card" not in body
