"""`run-decisions`: minimum numbers, late-join cut-offs, idempotence, and staff confirming."""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from booking.extensions import db
from booking.models import OutboxMessage, Registration, Workshop, WorkshopSession
from booking.services.accounts import api_tokens
from booking.services.booking import places
from booking.services.booking.book import book_place
from booking.services.errors import Invalid
from booking.services.schedule import decisions
from booking.services.schedule.sessions import move_session
from booking.timefmt import to_local


def hour():
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def book(app, parent, baby, workshop):
    with app.app_context():
        return book_place(
            parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id, consent=True
        ).registration.id


def outbox(app, subject_start=None):
    with app.app_context():
        stmt = sa.select(OutboxMessage).order_by(OutboxMessage.id)
        if subject_start:
            stmt = stmt.where(OutboxMessage.subject.startswith(subject_start))
        return list(db.session.scalars(stmt))


def test_under_minimum_is_cancelled_once_with_alternatives(
    app, runner, make_centre, make_workshop, make_user, make_baby
):
    centre = make_centre()
    risky = make_workshop(
        centre=centre, capacity=6, min_places=3, decision_at=hour() - timedelta(hours=1),
        starts_in_days=1,
    )
    alternative = make_workshop(centre=centre, starts_in_days=14, title="Next course")
    parent, waiting_parent = make_user(), make_user()
    book(app, parent, make_baby(parent, name="Ada"), risky)
    with app.app_context():
        before = len(outbox(app))

    result = runner.invoke(args=["run-decisions"])
    assert result.exit_code == 0, result.output
    assert "Cancelled below their minimum: 1 (workshop " in result.output

    with app.app_context():
        workshop = db.session.get(Workshop, risky.id)
        assert workshop.status == "cancelled"
        statuses = set(db.session.scalars(
            sa.select(Registration.status).where(Registration.workshop_id == risky.id)
        ))
        assert statuses == {"cancelled"}
    mails = outbox(app)[before:]
    parent_mail = [m for m in mails if m.subject.startswith("Class cancelled")]
    assert len(parent_mail) == 1
    assert "Next course" in parent_mail[0].body_text
    assert str(alternative.id) in parent_mail[0].body_text
    assert any(m.subject.startswith("Your class - Class cancelled") for m in mails)

    count = len(outbox(app))
    again = runner.invoke(args=["run-decisions"])
    assert again.exit_code == 0
    assert "Cancelled below their minimum: 0" in again.output
    assert len(outbox(app)) == count
    del waiting_parent


def test_minimum_met_or_confirmed_or_not_due_is_not_cancelled(
    app, ctx, make_centre, make_workshop, make_user, make_baby
):
    past = hour() - timedelta(hours=1)
    met = make_workshop(capacity=6, min_places=1, decision_at=past, starts_in_days=1)
    confirmed = make_workshop(
        capacity=6, min_places=2, decision_at=past, starts_in_days=1, run_confirmed=True
    )
    later = make_workshop(
        capacity=6, min_places=2, decision_at=hour() + timedelta(hours=5), starts_in_days=1
    )
    parent = make_user()
    book(app, parent, make_baby(parent), met)

    report = decisions.run_decisions()

    assert report.cancelled == [] and report.confirmed == [met.id]
    for workshop in (met, confirmed, later):
        assert db.session.get(Workshop, workshop.id).status == "published"
    assert db.session.get(Workshop, met.id).run_confirmed
    assert decisions.is_at_risk(db.session.get(Workshop, later.id))


def test_staff_confirm_run_through_the_page(
    app, client, auth, make_centre, make_workshop, make_user
):
    centre = make_centre()
    make_user(email="staff@example.org", role="staff", centre=centre)
    risky = make_workshop(
        centre=centre, capacity=6, min_places=3, decision_at=hour() + timedelta(hours=2)
    )
    auth.login("staff@example.org")
    assert "At risk" in client.get("/manage").get_data(as_text=True)
    response = client.post(f"/manage/workshops/{risky.id}/confirm-run")
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Workshop, risky.id).run_confirmed
        report = decisions.run_decisions(now=hour() + timedelta(hours=3))
        assert report.cancelled == []
    plain = make_workshop(centre=centre)
    response = client.post(f"/manage/workshops/{plain.id}/confirm-run")
    assert response.status_code == 422
    elsewhere = make_workshop(min_places=2, decision_at=hour())
    assert client.post(f"/manage/workshops/{elsewhere.id}/confirm-run").status_code == 404


def test_a_place_held_while_paying_leaves_a_class_at_risk_as_the_decision_sees_it(
    app, client, auth, make_centre, make_workshop, make_user, make_baby
):
    """The decision counts confirmed places only (a held place may never be paid): the
    staff pages say "At risk" on the same count, naming the place held while a family
    pays, rather than showing nothing and then cancelling the class."""
    centre = make_centre()
    make_user(email="staff@example.org", role="staff", centre=centre)
    risky = make_workshop(centre=centre, capacity=6, min_places=1,
                          decision_at=hour() + timedelta(hours=2))
    parent = make_user()
    baby = make_baby(parent)
    with app.app_context():
        db.session.add(Registration(workshop_id=risky.id, baby_id=baby.id,
                                    parent_id=parent.id, status="pending_payment",
                                    consent_at=hour()))
        db.session.execute(sa.update(Workshop).where(Workshop.id == risky.id)
                           .values(confirmed_count=1))
        db.session.commit()
    auth.login("staff@example.org")
    dashboard = client.get("/manage").get_data(as_text=True)
    assert "At risk: 0 of 1 minimum (1 more paying)" in dashboard
    page = client.get(f"/manage/workshops/{risky.id}").get_data(as_text=True)
    assert "At risk: 0 of 1 booked (1 more paying)" in page
    with app.app_context():
        assert decisions.is_at_risk(db.session.get(Workshop, risky.id))
        report = decisions.run_decisions(now=hour() + timedelta(hours=3))
        assert report.cancelled == [risky.id]


def test_waiting_list_closes_after_late_join_cut_off(
    app, ctx, make_centre, make_workshop, make_user, make_baby
):
    centre = make_centre()
    started = make_workshop(
        centre=centre, capacity=1, late_join_until=2, starts_at=hour() - timedelta(days=2)
    )
    # Sessions 1 (two days ago) and 2 (in five days): joining is still open.
    next_course = make_workshop(centre=centre, starts_in_days=20, title="Spring course")
    full_parent, waiting_parent = make_user(), make_user()
    with app.app_context():
        db.session.execute(
            sa.update(Workshop).where(Workshop.id == started.id).values(confirmed_count=1)
        )
        db.session.commit()
    registration_id = book(app, waiting_parent, make_baby(waiting_parent, name="Wren"), started)
    assert db.session.get(Registration, registration_id).status == "waitlisted"

    assert decisions.run_decisions().waitlists_closed == {}

    report = decisions.run_decisions(now=hour() + timedelta(days=6))
    assert report.waitlists_closed == {started.id: 1}
    db.session.expire_all()
    registration = db.session.get(Registration, registration_id)
    assert (registration.status, registration.cancel_reason) == ("cancelled", "waiting list closed")
    [mail] = outbox(app, "Waiting list closed")
    assert "Spring course" in mail.body_text and str(next_course.id) in mail.body_text
    assert decisions.run_decisions(now=hour() + timedelta(days=6)).waitlists_closed == {}
    assert len(outbox(app, "Waiting list closed")) == 1
    del full_parent


def test_suggestions_prefer_the_same_centre_and_fit_the_baby(
    ctx, make_centre, make_workshop, make_user, make_baby
):
    home = make_centre(town="Bath")
    away = make_centre(town="Leeds")
    origin = make_workshop(centre=home)
    far = make_workshop(centre=away, starts_in_days=9, title="Far")
    near = make_workshop(centre=home, starts_in_days=30, title="Near")
    make_workshop(centre=home, starts_in_days=10, title="Too old", max_age_weeks=8)
    parent = make_user()
    baby = make_baby(parent, age_weeks=10)
    found = places.suggest_classes(baby, db.session.get(type(home), home.id), origin.id,
                                      datetime.now(UTC))
    assert [w.title for w in found] == ["Near", "Far"]
    # Not a class the baby is already booked on, nor one whose last seat a make-up
    # visitor takes.
    book_place(parent_id=parent.id, workshop_id=near.id, baby_id=baby.id, consent=True)
    full = make_workshop(centre=home, starts_in_days=11, title="Full of visitors", capacity=1)
    db.session.execute(sa.update(WorkshopSession).where(WorkshopSession.workshop_id == full.id)
                       .values(makeups_taken=1))
    db.session.commit()
    found = places.suggest_classes(baby, db.session.get(type(home), home.id), origin.id,
                                      datetime.now(UTC))
    assert [w.title for w in found] == ["Far"]
    del far


def test_run_decisions_twice_at_once_cancels_and_emails_once(
    app, make_workshop, make_user, make_baby
):
    import threading

    risky = make_workshop(
        capacity=6, min_places=3, decision_at=hour() - timedelta(hours=1), starts_in_days=1
    )
    parent = make_user()
    book(app, parent, make_baby(parent), risky)
    before = len(outbox(app))
    barrier = threading.Barrier(2)
    errors = []

    def worker():
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                decisions.run_decisions()
            except Exception as exc:  # re-raised below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    mails = outbox(app)[before:]
    assert [m.subject.startswith("Class cancelled") for m in mails].count(True) == 1


def test_api_reads_minimum_and_late_join_fields(client, make_workshop):
    decision = hour() + timedelta(days=1)
    workshop = make_workshop(min_places=3, decision_at=decision, late_join_until=2)
    body = client.get(f"/api/v1/workshops/{workshop.id}").get_json()
    assert body["min_places"] == 3
    assert body["late_join_until"] == 2
    assert body["run_confirmed"] is False
    assert datetime.fromisoformat(body["decision_at"]) == decision


def test_a_first_session_moved_too_near_for_its_decision_is_refused(
    app, client, make_centre, make_workshop, make_user
):
    """The decision time moves with the first session; a move that would put an
    undecided minimum's decision in the past is refused (on the API as on the pages),
    and nothing changes. Once the class is confirmed to run, the move is allowed."""
    centre = make_centre()
    staff = make_user(email="staff@example.org", role="staff", centre=centre)
    first = hour() + timedelta(days=30)
    decision = first - timedelta(hours=48)
    workshop = make_workshop(centre=centre, min_places=3, decision_at=decision, starts_at=first)
    with app.app_context():
        _, token = api_tokens.create_token(staff.id, "tests")
        session_id = db.session.scalar(
            sa.text("SELECT id FROM workshop_session WHERE workshop_id = :w AND number = 1"),
            {"w": workshop.id},
        )
        soon = to_local(hour() + timedelta(hours=5), centre.timezone).replace(tzinfo=None)
        later = to_local(first + timedelta(hours=2), centre.timezone).replace(tzinfo=None)
    response = client.patch(
        f"/api/v1/sessions/{session_id}", json={"starts_at": soon.strftime("%Y-%m-%d %H:%M")},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert "decision time" in error["message"] and "starts_at" in error["fields"]
    with app.app_context():
        try:
            move_session(session_id, soon)
        except Invalid as exc:
            assert "confirm that the class runs" in str(exc)
        else:
            raise AssertionError("moved")
        kept = db.session.get(Workshop, workshop.id)
        assert (kept.decision_at, kept.first_starts_at) == (decision, first)
        move_session(session_id, later)  # further away: the decision moves with it
        db.session.expire_all()
        assert db.session.get(Workshop, workshop.id).decision_at == decision + timedelta(hours=2)
        db.session.execute(
            sa.update(Workshop).where(Workshop.id == workshop.id).values(run_confirmed=True)
        )
        db.session.commit()
        move_session(session_id, soon)  # decided: nothing left to decide
        db.session.expire_all()
        assert db.session.get(Workshop, workshop.id).first_starts_at == hour() + timedelta(
            hours=5
        )
