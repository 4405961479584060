"""Many parents booking one small workshop at the same moment (rules 1, 4 and 5).

Each thread has its own application context, session and database connection,
and all of them start together at a barrier. The app fixture's database is a
file on SQLite, or a database of its own on PostgreSQL with TEST_DATABASE_URL.
"""

import threading
from datetime import date, timedelta

import sqlalchemy as sa

from booking.extensions import db
from booking.mail.deferred import render_notes
from booking.models import Baby, OutboxMessage, Registration, Workshop
from booking.services.booking.book import book_place, cancel_registration
from booking.services.booking.waitlist import waitlist_positions


def run_at_once(app, calls):
    """Run every call in its own thread and app context, all released together."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)
    errors = []

    def worker(index, call):
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                results[index] = call()
            except Exception as exc:  # collected and re-raised in the test's thread
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a booking thread hung"
    if errors:
        raise errors[0]
    return results


def booker(**kwargs):
    """A call that books and reports plain values (ORM objects stay in their thread)."""

    def call():
        result = book_place(consent=True, **kwargs)
        registration = result.registration
        return registration.id, registration.status, result.position, result.created

    return call


def active(workshop_id):
    return list(
        db.session.scalars(
            sa.select(Registration).where(
                Registration.workshop_id == workshop_id,
                Registration.status.in_(("confirmed", "waitlisted")),
            )
        )
    )


def test_sixteen_parents_race_for_three_places(app, make_workshop, make_user, make_baby):
    workshop = make_workshop(capacity=3)
    families = []
    for i in range(16):
        parent = make_user()
        families.append((parent, make_baby(parent, name=f"Baby {i}")))
    calls = [
        booker(parent_id=p.id, workshop_id=workshop.id, baby_id=b.id) for p, b in families
    ]

    results = run_at_once(app, calls)

    statuses = [status for _, status, _, _ in results]
    assert statuses.count("confirmed") == 3
    assert statuses.count("waitlisted") == 13
    assert all(created for *_, created in results)
    reported = sorted(pos for _, status, pos, _ in results if status == "waitlisted")
    assert reported == list(range(1, 14))
    with app.app_context():
        assert db.session.get(Workshop, workshop.id).confirmed_count == 3
        registrations = active(workshop.id)
        assert len(registrations) == 16
        assert len({r.baby_id for r in registrations}) == 16
        positions = waitlist_positions(registrations)
        assert sorted(positions.values()) == list(range(1, 14))
        for reg_id, status, position, _ in results:
            if status == "waitlisted":
                assert positions[reg_id] == position
        waiting = sorted(
            (r for r in registrations if r.status == "waitlisted"), key=lambda r: positions[r.id]
        )
        times = [r.waitlisted_at for r in waiting]
        assert times == sorted(times)
        confirmed_times = [r.confirmed_at for r in registrations if r.status == "confirmed"]
        assert max(confirmed_times) <= min(times)
        kinds = list(db.session.scalars(sa.select(OutboxMessage.kind)))
        assert kinds.count("booking_confirmed") == 3 and kinds.count("waitlisted") == 13
        assert render_notes() == 16
        subjects = list(db.session.scalars(sa.select(OutboxMessage.subject)))
        assert sum(s.startswith("Booking confirmed") for s in subjects) == 3
        assert sum(s.startswith("On the waiting list") for s in subjects) == 13


def test_double_submits_never_make_two_registrations(app, make_workshop, make_user, make_baby):
    workshop = make_workshop(capacity=3)
    calls, expected = [], []
    dob = date.today() - timedelta(weeks=10)
    for i in range(6):
        parent = make_user()
        if i % 2:
            baby = make_baby(parent, name=f"Known {i}")
            call = booker(parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id)
        else:  # a baby typed in afresh on every submit
            call = booker(
                parent_id=parent.id,
                workshop_id=workshop.id,
                baby_name=f"New {i}",
                baby_dob=dob,
            )
        expected.append(parent.id)
        calls.extend([call] * 3)

    results = run_at_once(app, calls)

    for family in range(6):
        mine = results[family * 3 : family * 3 + 3]
        assert len({reg_id for reg_id, *_ in mine}) == 1
        assert sum(created for *_, created in mine) == 1
    with app.app_context():
        registrations = active(workshop.id)
        assert len(registrations) == 6
        assert len({r.baby_id for r in registrations}) == 6
        assert sum(r.status == "confirmed" for r in registrations) == 3
        assert db.session.get(Workshop, workshop.id).confirmed_count == 3
        babies = db.session.scalar(
            sa.select(sa.func.count(Baby.id)).where(Baby.parent_id.in_(expected))
        )
        assert babies == 6


def test_cancellations_and_bookings_at_once_keep_the_rules(
    app, make_workshop, make_user, make_baby
):
    workshop = make_workshop(capacity=3)
    holders = []
    for i in range(5):
        parent = make_user()
        baby = make_baby(parent, name=f"Holder {i}")
        holders.append((parent, booker(parent_id=parent.id, workshop_id=workshop.id,
                                       baby_id=baby.id)))
    booked = run_at_once(app, [call for _, call in holders])
    to_cancel = [
        (parent, reg_id)
        for (parent, _), (reg_id, status, _, _) in zip(holders, booked, strict=True)
        if status == "confirmed"
    ]
    newcomers = []
    for i in range(6):
        parent = make_user()
        baby = make_baby(parent, name=f"Late {i}")
        newcomers.append(booker(parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id))

    def canceller(parent_id, reg_id):
        return lambda: cancel_registration(reg_id, actor_id=parent_id).id

    run_at_once(app, [canceller(p.id, r) for p, r in to_cancel] + newcomers)

    with app.app_context():
        registrations = active(workshop.id)
        confirmed = [r for r in registrations if r.status == "confirmed"]
        assert len(confirmed) == 3
        assert db.session.get(Workshop, workshop.id).confirmed_count == 3
        assert len(registrations) == 8
        positions = waitlist_positions(registrations)
        assert sorted(positions.values()) == list(range(1, 6))
