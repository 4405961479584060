"""seed-demo: what it promises, idempotence, and its refusal in production."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from booking.demo.data import DEMO_PASSWORD, QUALIFICATION
from booking.extensions import db
from booking.models import (
    Baby,
    Centre,
    HealthConsent,
    HealthRecord,
    InstructorProfile,
    Membership,
    Registration,
    User,
    Workshop,
    WorkshopSession,
    utcnow,
    workshop_topic,
)
from booking.services.booking.places import eligibility

TABLES = (Centre, User, Membership, InstructorProfile, Baby, Workshop, WorkshopSession,
          Registration, HealthRecord, HealthConsent)


def counts() -> dict[str, int]:
    found = {
        model.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in TABLES
    }
    found["topics"] = db.session.scalar(sa.select(sa.func.count()).select_from(workshop_topic))
    return found


@pytest.fixture
def seeded(runner, app):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "Demo data: created" in result.output
    return app


def test_running_twice_changes_nothing(seeded, runner):
    with seeded.app_context():
        before = counts()
    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0
    assert "already in place" in again.output
    with seeded.app_context():
        assert counts() == before


def test_centres_in_two_towns_and_two_zones(seeded):
    with seeded.app_context():
        centres = db.session.scalars(sa.select(Centre)).all()
        assert len(centres) >= 3
        assert len({c.town for c in centres}) >= 2
        assert {"Europe/London", "Australia/Sydney"} <= {c.timezone for c in centres}
        for centre in centres:
            assert centre.latitude is not None and centre.longitude is not None
            assert centre.address and centre.accessibility_notes and centre.published


def test_instructors_have_profiles(seeded):
    with seeded.app_context():
        profiles = db.session.scalars(sa.select(InstructorProfile)).all()
        assert len(profiles) >= 3
        assert all(p.qualification == QUALIFICATION and p.bio for p in profiles)
        teaching = db.session.scalars(
            sa.select(Membership.user_id).where(Membership.role == "instructor")
        ).all()
        assert {p.user_id for p in profiles} <= set(teaching)


def test_published_classes_in_the_coming_weeks(seeded):
    now = utcnow()
    with seeded.app_context():
        published = db.session.scalars(
            sa.select(Workshop).where(Workshop.status == "published")
        ).all()
        assert len(published) >= 8
        assert {w.kind for w in published} == {"course", "single"}
        for workshop in published:
            assert now < workshop.first_starts_at < now + timedelta(weeks=8)
        drafts = db.session.scalars(sa.select(Workshop).where(Workshop.status == "draft")).all()
        assert len(drafts) == 1
        tagged = db.session.scalar(
            sa.select(sa.func.count(sa.distinct(workshop_topic.c.workshop_id)))
        )
        assert tagged >= 4
        zones = {
            db.session.get(Centre, w.centre_id).timezone for w in published
        }
        assert {"Europe/London", "Australia/Sydney"} <= zones


def test_confirmed_counts_match_and_one_class_is_full_with_people_waiting(seeded):
    with seeded.app_context():
        full = []
        for workshop in db.session.scalars(sa.select(Workshop)):
            confirmed = _registrations(workshop.id, "confirmed")
            waiting = _registrations(workshop.id, "waitlisted")
            assert workshop.confirmed_count == confirmed
            if confirmed == workshop.capacity and waiting:
                full.append(workshop)
        assert len(full) == 1
        assert full[0].places_left == 0


def _registrations(workshop_id: int, status: str) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).where(
            Registration.workshop_id == workshop_id, Registration.status == status
        )
    )


def test_one_class_has_a_cancelled_session(seeded):
    with seeded.app_context():
        cancelled = db.session.scalars(
            sa.select(WorkshopSession).where(WorkshopSession.status == "cancelled")
        ).all()
        assert len(cancelled) == 1
        assert cancelled[0].revision == 1
        workshop = db.session.get(Workshop, cancelled[0].workshop_id)
        assert workshop.status == "published" and workshop.kind == "course"


def test_demo_accounts_and_their_roles(seeded):
    with seeded.app_context():
        london = db.session.scalar(sa.select(Centre).where(Centre.timezone == "Europe/London"))
        by_email = {
            u.email: u
            for u in db.session.scalars(sa.select(User).where(User.email.like("%@example.com")))
        }
        assert by_email["admin@example.com"].is_admin
        staff = by_email["staff@example.com"]
        assert staff.can_manage_centre(london.id) and not staff.is_admin
        assert london.id in by_email["instructor@example.com"].centre_ids("instructor")
        parent = by_email["parent@example.com"]
        assert not parent.is_staff and not parent.is_instructor
        assert parent.phone
        assert db.session.scalar(
            sa.select(sa.func.count()).where(Baby.parent_id == parent.id)
        ) == 2
        assert db.session.scalar(
            sa.select(sa.func.count()).where(
                Registration.parent_id == parent.id, Registration.status == "confirmed"
            )
        ) == 2


def _paid_classes() -> dict[str, Workshop]:
    return {
        w.payment_mode: w
        for w in db.session.scalars(
            sa.select(Workshop).where(Workshop.payment_mode.in_(("online", "deposit")))
        )
    }


def test_a_course_paid_online_and_one_with_a_deposit_in_london(seeded):
    now = utcnow()
    with seeded.app_context():
        paid = _paid_classes()
        assert set(paid) == {"online", "deposit"}
        online, deposit = paid["online"], paid["deposit"]
        assert (online.price_minor, online.online_amount, online.deposit) == (6000, 6000, None)
        assert (deposit.price_minor, deposit.deposit, deposit.online_amount) == (
            6000, 1500, 1500
        )
        staff = db.session.scalar(sa.select(User).where(User.email == "staff@example.com"))
        parent = db.session.scalar(sa.select(User).where(User.email == "parent@example.com"))
        leo = db.session.scalar(
            sa.select(Baby).where(Baby.parent_id == parent.id, Baby.name == "Leo")
        )
        for workshop in (online, deposit):
            centre = db.session.get(Centre, workshop.centre_id)
            assert (centre.town, centre.timezone) == ("London", "Europe/London")
            assert workshop.pays_online and workshop.status == "published"
            assert workshop.kind == "course"
            assert now < workshop.first_starts_at < now + timedelta(weeks=4)
            assert workshop.places_left == workshop.capacity > 0
            assert eligibility(leo, workshop).eligible, "the demo parent can book it"
            assert staff.can_manage_centre(centre.id), "the demo staff can cancel it"


def test_paid_classes_are_seeded_alike_with_online_payment_set_up(app, runner):
    app.config["STRIPE_SECRET_KEY"] = "sk_test_not_called"
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert set(_paid_classes()) == {"online", "deposit"}
        assert runner.invoke(args=["seed-demo"]).exit_code == 0
        assert len(db.session.scalars(sa.select(Workshop.id).where(
            Workshop.payment_mode.in_(("online", "deposit")))).all()) == 2


@pytest.mark.parametrize(
    "email",
    ["admin@example.com", "staff@example.com", "instructor@example.com", "parent@example.com"],
)
def test_demo_accounts_log_in_through_the_form(seeded, client, email):
    response = client.post("/login", data={"email": email, "password": DEMO_PASSWORD})
    assert response.status_code == 302
    assert b"Log out" in client.get("/").data


def test_filler_parents_cannot_log_in(seeded, client):
    response = client.post(
        "/login", data={"email": "amara.parent@example.com", "password": DEMO_PASSWORD}
    )
    assert response.status_code != 302


def test_production_refuses_demo_accounts(app, runner):
    app.config["BOOKING_ENV"] = "production"
    app.config["DEMO_PASSWORD_ALLOWED"] = False
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code != 0
    assert "refused when BOOKING_ENV=production" in result.output
    with app.app_context():
        assert counts() == dict.fromkeys(counts(), 0)


def _demo_baby(name: str) -> Baby:
    parent = db.session.scalar(sa.select(User).where(User.email == "parent@example.com"))
    return db.session.scalar(
        sa.select(Baby).where(Baby.parent_id == parent.id, Baby.name == name)
    )


def _booking_of(baby: Baby) -> Registration:
    return db.session.scalar(
        sa.select(Registration).where(
            Registration.baby_id == baby.id, Registration.status == "confirmed"
        )
    )


def test_the_demo_parent_has_a_baby_born_early_who_fits_only_by_corrected_age(seeded):
    with seeded.app_context():
        ivy = _demo_baby("Ivy")
        assert ivy.is_premature
        assert ivy.due_date - ivy.date_of_birth == timedelta(weeks=5)
        workshop = db.session.get(Workshop, _booking_of(ivy).workshop_id)
        instructor = db.session.get(User, workshop.instructor_id)
        assert instructor.email == "instructor@example.com"
        fit = eligibility(ivy, workshop)
        assert fit.eligible and fit.age_weeks == ivy.corrected_age_weeks_on(
            workshop.first_starts_at.date()
        )
        by_birth = ivy.age_weeks_on(workshop.first_starts_at.date())
        assert not workshop.min_age_weeks <= by_birth <= workshop.max_age_weeks


def test_the_demo_babies_health_answers_flag_only_ivy_for_clearance(seeded):
    from booking.services.health.answers import consent_for, record_of, shared_records
    from booking.services.health.flags import needs_clearance, record_flags

    with seeded.app_context():
        leo, ivy = _demo_baby("Leo"), _demo_baby("Ivy")
        leo_record, ivy_record = record_of(leo.id), record_of(ivy.id)
        assert leo_record is not None and ivy_record is not None
        assert leo_record.consent_key and ivy_record.consent_key
        assert record_flags(leo_record) == []
        assert not needs_clearance(_booking_of(leo), leo_record)
        [flag] = record_flags(ivy_record)
        assert flag.kind == "clearance" and "harness" in flag.details
        ivy_booking = _booking_of(ivy)
        assert needs_clearance(ivy_booking, ivy_record)
        assert ivy_booking.health_revision == ivy_record.revision
        assert ivy_booking.consent_key == ivy_record.consent_key
        # Each baby's answers are shared with the centre of the booking they were given
        # for, and with no other centre.
        for baby in (leo, ivy):
            centre_id = db.session.get(Workshop, _booking_of(baby).workshop_id).centre_id
            assert consent_for(baby.id, centre_id) is not None
            assert shared_records([baby.id], centre_id)
            assert db.session.scalar(
                sa.select(sa.func.count(HealthConsent.id)).where(HealthConsent.baby_id == baby.id)
            ) == 1


def test_the_instructor_roster_shows_needs_clearance(seeded, client):
    with seeded.app_context():
        workshop_id = _booking_of(_demo_baby("Ivy")).workshop_id
    client.post("/login", data={"email": "instructor@example.com", "password": DEMO_PASSWORD})
    page = client.get(f"/teach/workshops/{workshop_id}").get_data(as_text=True)
    assert "Ivy" in page and "Needs clearance" in page


def test_every_demo_booking_fits_its_class_ages(seeded):
    """Rule 2 holds in the demo: every baby booked or waiting fits its class's ages at
    the first session (a baby reused across the demo's classes was 5 weeks old on a
    class for 6 weeks and over)."""
    with seeded.app_context():
        rows = db.session.execute(
            sa.select(Registration, Baby, Workshop)
            .join(Baby, Baby.id == Registration.baby_id)
            .join(Workshop, Workshop.id == Registration.workshop_id)
            .where(Registration.status.in_(("confirmed", "waitlisted", "pending_payment")))
        ).all()
        assert len(rows) > 10
        unfit = [(baby.name, workshop.title) for _, baby, workshop in rows
                 if not eligibility(baby, workshop).eligible]
        assert unfit == []


def test_the_api_documents_examples_work_on_the_demo_data(seeded, client):
    """The OpenAPI document's examples named a centre that does not exist and times
    already past: sent as written, against the demo data, they now do what they say."""
    from booking.services.accounts import api_tokens

    with seeded.app_context():
        staff = db.session.scalar(sa.select(User).where(User.email == "staff@example.com"))
        _, token = api_tokens.create_token(staff.id, "examples")
    # As with `make run`: online payment set up (the example takes a deposit online).
    seeded.config["STRIPE_SECRET_KEY"] = "sk_test_examples"
    document = client.get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    headers = {"Authorization": f"Bearer {token}"}
    created = client.post("/api/v1/workshops", json=schemas["CreateWorkshop"]["example"],
                          headers=headers)
    assert created.status_code == 201, created.get_json()
    session_id = created.get_json()["sessions"][0]["id"]
    moved = client.patch(f"/api/v1/sessions/{session_id}",
                         json=schemas["UpdateSession"]["example"], headers=headers)
    assert moved.status_code == 200, moved.get_json()
