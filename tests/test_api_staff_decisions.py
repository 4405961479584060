"""The staff API's PATCH /workshops/<id> for minimum numbers, late joining, and a
capacity that people at a session already hold (409, nothing changed)."""

from datetime import UTC, datetime, timedelta

import pytest

from booking.extensions import db
from booking.models import Workshop
from booking.services.courses import absences, makeups
from booking.timefmt import to_local
from tests.test_api_staff import book, outbox, send, world  # noqa: F401 (fixtures)

# ruff: noqa: F811 (the fixtures imported above are the tests' parameters)


def patch(client, world, body, workshop=None):
    workshop = workshop or world["course"]
    return send(
        client, "PATCH", f"/api/v1/workshops/{workshop.id}", world["tokens"]["staff"], body
    )


def stored(app, workshop_id):
    with app.app_context():
        w = db.session.get(Workshop, workshop_id)
        return (w.min_places, w.decision_at, w.run_confirmed, w.late_join_until, w.capacity,
                w.title)


def test_patch_sets_minimum_numbers_and_late_joining(client, app, world):
    course = world["course"]
    response = patch(client, world, {"min_places": 1, "late_join_until": 2})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["min_places"], body["late_join_until"], body["run_confirmed"]) == (1, 2, False)
    # No decision_at given: 48 hours before the first session, with the centre's offset.
    expected = course.first_starts_at - timedelta(hours=48)
    assert datetime.fromisoformat(body["decision_at"]) == expected
    assert body["decision_at"] == to_local(expected, "Europe/London").isoformat()

    when = (course.first_starts_at - timedelta(days=3)).astimezone(UTC)
    response = patch(client, world, {
        "decision_at": when.isoformat().replace("+00:00", "Z"), "run_confirmed": True,
        "capacity": 3, "min_places": 3,
    })
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert datetime.fromisoformat(body["decision_at"]) == when
    assert (body["run_confirmed"], body["capacity"], body["min_places"]) == (True, 3, 3)

    response = patch(client, world, {"min_places": None})
    assert response.status_code == 200
    body = response.get_json()
    assert (body["min_places"], body["decision_at"], body["run_confirmed"]) == (None, None, False)


def _future(world, **delta):
    return (world["course"].first_starts_at + timedelta(**delta)).isoformat()


@pytest.mark.parametrize(
    "make_body, status, field",
    [
        (lambda w: {"min_places": 0}, 422, "min_places"),
        (lambda w: {"min_places": 5}, 422, "min_places"),  # capacity is 1
        (lambda w: {"min_places": "two"}, 422, "min_places"),
        (lambda w: {"min_places": 3, "capacity": 2}, 422, "min_places"),
        (lambda w: {"late_join_until": 0}, 422, "late_join_until"),
        (lambda w: {"late_join_until": 4}, 422, "late_join_until"),  # 3 sessions
        (lambda w: {"late_join_until": None}, 422, "late_join_until"),
        (lambda w: {"decision_at": "2030-01-01 10:00", "min_places": 1}, 422, "decision_at"),
        (lambda w: {"decision_at": "yesterday", "min_places": 1}, 422, "decision_at"),
        (lambda w: {"decision_at": "2030-02-30T10:00:00Z", "min_places": 1}, 422,
         "decision_at"),
        (lambda w: {"decision_at": "2020-01-01T10:00:00+00:00", "min_places": 1}, 422,
         "decision_at"),
        (lambda w: {"decision_at": _future(w, hours=1), "min_places": 1}, 422, "decision_at"),
        (lambda w: {"decision_at": _future(w, hours=-30)}, 422, "decision_at"),  # no minimum
        (lambda w: {"decision_at": 5, "min_places": 1}, 422, "decision_at"),
        (lambda w: {"run_confirmed": "yes"}, 422, "run_confirmed"),
        (lambda w: {"run_confirmed": True}, 422, "run_confirmed"),  # no minimum
    ],
)
def test_bad_decision_fields_are_refused_and_change_nothing(
    client, app, world, make_body, status, field
):
    course = world["course"]
    before = stored(app, course.id)
    body = {"title": "Renamed", **make_body(world)}
    response = patch(client, world, body)
    assert response.status_code == status, response.get_json()
    assert field in response.get_json()["error"]["fields"]
    assert stored(app, course.id) == before
    assert outbox(app) == []


def test_minimum_needs_time_to_decide(client, app, make_workshop, world):
    soon = make_workshop(centre=world["centre"], instructor=world["teacher"],
                         starts_at=datetime.now(UTC) + timedelta(hours=20))
    response = patch(client, world, {"min_places": 1}, soon)
    assert response.status_code == 422
    assert "48 hours" in response.get_json()["error"]["fields"]["min_places"]


def test_run_confirmed_stays_once_the_decision_time_has_passed(client, app, world):
    course = world["course"]
    with app.app_context():
        w = db.session.get(Workshop, course.id)
        w.min_places, w.run_confirmed = 1, True
        w.decision_at = datetime.now(UTC) - timedelta(hours=1)
        db.session.commit()
    response = patch(client, world, {"run_confirmed": False})
    assert response.status_code == 422
    assert "run_confirmed" in response.get_json()["error"]["fields"]
    assert stored(app, course.id)[2] is True


def test_raising_late_joining_promotes_the_waiting_list(client, app, world, make_workshop,
                                                        make_user, make_baby):
    from booking.models import Registration

    started = make_workshop(
        centre=world["centre"], instructor=world["teacher"], capacity=2, sessions=3,
        starts_at=datetime.now(UTC) - timedelta(days=2),
    )
    parent = make_user()
    baby = make_baby(parent)
    with app.app_context():
        reg = Registration(workshop_id=started.id, baby_id=baby.id, parent_id=parent.id,
                           status="waitlisted", waitlisted_at=datetime.now(UTC))
        db.session.add(reg)
        db.session.commit()
        reg_id = reg.id
    # Week 2 starts in five days: joining until week 2 opens it again, and the
    # waiting parent gets one of the free places.
    response = patch(client, world, {"late_join_until": 2}, started)
    assert response.status_code == 200, response.get_json()
    with app.app_context():
        assert db.session.get(Registration, reg_id).status == "confirmed"


def test_capacity_below_the_people_at_a_session_is_409(
    client, app, world, make_workshop, make_user, make_baby
):
    from booking.services.booking.book import book_place
    from tests.test_makeups_paths import session_of

    centre = world["centre"]
    target = make_workshop(centre=centre, instructor=world["teacher"], capacity=2,
                           starts_in_days=9, title="Target")
    origin = make_workshop(centre=centre, instructor=world["teacher"], capacity=4,
                           starts_in_days=10, title="Origin")
    ann, cat = make_user(), make_user()
    ann_baby, cat_baby = make_baby(ann, name="Ann"), make_baby(cat, name="Cat")
    with app.app_context():
        book_place(parent_id=ann.id, workshop_id=target.id, baby_id=ann_baby.id, consent=True)
        cat_reg = book_place(parent_id=cat.id, workshop_id=origin.id, baby_id=cat_baby.id,
                             consent=True)
        credit = absences.report_absence(parent_id=cat.id,
                                        registration_id=cat_reg.registration.id,
                                        session_id=session_of(origin, 2).id)
        # Week 2 of the target: 2 places - 1 booked = 1 free seat, taken by Cat's make-up.
        makeups.book_makeup(parent_id=cat.id, credit_id=credit.id,
                            session_id=session_of(target, 2).id)
        db.session.remove()
    response = patch(client, world, {"capacity": 1, "title": "Smaller"}, target)
    assert response.status_code == 409, response.get_json()
    error = response.get_json()["error"]
    assert "session 2" in error["message"] and "2 people coming" in error["message"]
    assert "capacity" in error["fields"]
    assert stored(app, target.id)[4:] == (2, "Target")
