"""Health answers are special-category data: in the export, gone after erasure and after
the retention time, and in no email, feed, API response or log line; nobody but the
class's instructor and the centre's staff reads them."""

import json
import logging
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from werkzeug.exceptions import MethodNotAllowed, NotFound

from booking.extensions import db
from booking.models import (
    Baby,
    HealthConsent,
    HealthRecord,
    OutboxMessage,
    Registration,
    SessionReadiness,
    User,
    WorkshopSession,
)
from booking.services.accounts import api_tokens
from booking.services.accounts.feed_tokens import issue_feed_token
from booking.services.booking.book import book_place
from booking.services.booking.reminders import send_reminders
from booking.services.health import answers, clearance, readiness
from booking.services.health.questions import PRODUCT_FORM, current_form
from booking.services.privacy.erase import erase_user, purge_counts
from booking.services.privacy.export import export_user_data
from tests.health_helpers import seen_on

# Words no template, label or product text contains: where one shows up, a parent's own
# words (or an instructor's clearance note) got there.
MARKER = "Quokkaplinth"
NOTE_MARKER = "Wombatcrescent"
OTHER_MARKER = "Numbatlantern"
HIPS_DETAILS = f"Pavlik harness until last month; {MARKER} physio says fine"


def answers_with_hips(details=HIPS_DETAILS, form=PRODUCT_FORM):
    """No to every question but the hip dysplasia one."""
    raw = {q.key: {"answer": "no"} for q in form.questions}
    raw["hips"] = {"answer": "yes", "details": details}
    return raw


def first_session(workshop_id: int) -> WorkshopSession:
    return db.session.scalar(
        sa.select(WorkshopSession)
        .where(WorkshopSession.workshop_id == workshop_id)
        .order_by(WorkshopSession.number)
    )


def route_exists(app, path: str) -> bool:
    """Whether some page answers GET at this path (the pages are grown in steps)."""
    adapter = app.url_map.bind("localhost")
    try:
        adapter.match(path, method="GET")
    except MethodNotAllowed:
        return True
    except NotFound:
        return False
    return True


def as_user(app, email: str):
    """A client logged in through the real form."""
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": "correct-horse-battery"})
    assert response.status_code == 302, email
    return client


@pytest.fixture
def world(app, make_centre, make_user, make_baby, make_workshop):
    """A course starting tomorrow with a baby born early, answered for with a hip
    dysplasia "yes"; people around it who must not read the answers."""
    centre = make_centre(slug="riverside", name="Riverside Hub")
    elsewhere = make_centre(slug="harbour", name="Harbour Clinic")
    people = {
        "parent": make_user(email="parent@example.org", name="Pat Parent"),
        "other_parent": make_user(email="other@example.org", name="Olly Other"),
        "teacher": make_user(email="teacher@example.org", role="instructor", centre=centre),
        "other_teacher": make_user(email="colleague@example.org", role="instructor",
                                   centre=centre),
        "staff": make_user(email="staff@example.org", role="staff", centre=centre),
        "far_staff": make_user(email="far@example.org", role="staff", centre=elsewhere),
        "admin": make_user(email="admin@example.org", role="admin"),
    }
    course = make_workshop(centre=centre, instructor=people["teacher"], starts_in_days=1,
                           title="Baby massage course", min_age_weeks=6, max_age_weeks=20)
    other_course = make_workshop(centre=centre, instructor=people["other_teacher"],
                                 starts_in_days=3, title="Another course")
    baby = make_baby(people["parent"], name="Ivy", age_weeks=14, born_early_weeks=5)
    other_baby = make_baby(people["other_parent"], name="Zed", age_weeks=10)
    with app.app_context():
        registration_id = book_place(
            parent_id=people["parent"].id, workshop_id=course.id, baby_id=baby.id,
            consent=True,
        ).registration_id
        book_place(parent_id=people["other_parent"].id, workshop_id=course.id,
                   baby_id=other_baby.id, consent=True)
        book_place(parent_id=people["other_parent"].id, workshop_id=other_course.id,
                   baby_id=other_baby.id, consent=True)
    return {"centre": centre, "course": course, "other_course": other_course, "baby": baby,
            "registration_id": registration_id, **people}


def give_answers(world):
    """The parent's answers for the course's booking, with a marker in the details and
    in "anything else", shared with the course's centre."""
    return answers.save_answers(
        world["parent"].id, world["baby"].id, current_form(world["centre"].id),
        answers_with_hips(), f"Sleeps after feeds {OTHER_MARKER}", consent=True,
        registration_id=world["registration_id"],
    )


def consents_of(baby_id: int) -> list[HealthConsent]:
    return list(db.session.scalars(
        sa.select(HealthConsent).where(HealthConsent.baby_id == baby_id)
    ))


def capture_logs(caplog) -> None:
    """Every log record at DEBUG, and the database's statements as SQL logging
    (SQLALCHEMY_ECHO) would write them: their values must stay hidden."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")


def assert_no_markers_logged(caplog) -> None:
    """The statements that wrote the answers were logged, and no answer with them."""
    assert any("health_record" in r.getMessage() for r in caplog.records), (
        "the statements writing the answers were captured"
    )
    no_markers(caplog.text, "a log line")
    for record in caplog.records:
        no_markers(record.getMessage(), f"a log record of {record.name}")


def no_markers(text: str, where: str) -> None:
    for marker in (MARKER, NOTE_MARKER, OTHER_MARKER):
        assert marker not in text, f"a health answer or clearance note reached {where}"


# -- export -----------------------------------------------------------------------------


def test_the_export_holds_the_answers_due_date_consent_clearance_and_readiness(ctx, world):
    give_answers(world)
    clearance.clear_booking(
        db.session.get(User, world["teacher"].id), world["registration_id"],
        f"GP letter seen {NOTE_MARKER}",
    )
    session = first_session(world["course"].id)
    readiness.answer_readiness(world["registration_id"], session.id, "well",
                               parent_id=world["parent"].id)

    data = json.loads(json.dumps(export_user_data(world["parent"].id)))

    [baby] = data["babies"]
    assert baby["due_date"] == db.session.get(Baby, world["baby"].id).due_date.isoformat()
    health = baby["health"]
    hips = next(a for a in health["answers"] if "hip dysplasia" in a["question"])
    assert hips == {"question": hips["question"], "answer": "yes", "details": HIPS_DETAILS}
    assert {a["answer"] for a in health["answers"]} == {"yes", "no"}
    assert len(health["answers"]) == len(PRODUCT_FORM.questions)
    assert health["other"] == f"Sleeps after feeds {OTHER_MARKER}"
    assert health["consent_version"] == PRODUCT_FORM.consent_key
    assert health["consented_at"].endswith("+00:00") and health["updated_at"]
    assert health["revision"] == 1
    # Who the parent agreed to share them with: the course's centre.
    [consent] = baby["health_consents"]
    assert consent["shared_with"] == "Riverside Hub"
    assert consent["consent_version"] == PRODUCT_FORM.consent_key
    assert consent["consented_at"].endswith("+00:00")

    [booking] = data["registrations"]
    assert booking["consent_version"] == PRODUCT_FORM.consent_key
    assert booking["health_confirmed_at"].endswith("+00:00")
    assert booking["clearance"]["note"] == f"GP letter seen {NOTE_MARKER}"
    assert booking["clearance"]["cleared_at"].endswith("+00:00")
    [ready] = booking["readiness"]
    assert ready["session_number"] == 1 and ready["status"] == "well"
    assert ready["starts_at"][-6:] in ("+00:00", "+01:00")
    assert ready["answered_at"].endswith("+00:00")


def test_a_baby_without_answers_exports_none_and_another_parent_sees_nothing(ctx, world):
    give_answers(world)
    data = export_user_data(world["other_parent"].id)
    assert [b["health"] for b in data["babies"]] == [None]
    assert all(b["clearance"] is None and b["readiness"] == [] for b in data["registrations"])
    no_markers(json.dumps(data), "another parent's export")


# -- erasure ----------------------------------------------------------------------------


def test_erasure_deletes_answers_readiness_due_date_and_clearance(ctx, world):
    give_answers(world)
    clearance.clear_booking(
        db.session.get(User, world["teacher"].id), world["registration_id"], "GP letter seen"
    )
    session = first_session(world["course"].id)
    readiness.answer_readiness(world["registration_id"], session.id, "immunised",
                               parent_id=world["parent"].id)
    other_baby_id = db.session.scalar(
        sa.select(Baby.id).where(Baby.parent_id == world["other_parent"].id)
    )
    other_record = answers.save_answers(
        world["other_parent"].id, other_baby_id, current_form(world["centre"].id),
        answers_with_hips("Other family's words"), "", consent=True,
    )
    assert consents_of(world["baby"].id) and consents_of(other_baby_id)

    erase_user(world["parent"].id)
    db.session.expire_all()

    assert consents_of(world["baby"].id) == [], "the consents to share them go too"

    assert db.session.scalar(
        sa.select(HealthRecord).where(HealthRecord.baby_id == world["baby"].id)
    ) is None
    assert db.session.scalar(
        sa.select(SessionReadiness).where(
            SessionReadiness.registration_id == world["registration_id"]
        )
    ) is None
    baby = db.session.get(Baby, world["baby"].id)
    assert baby.due_date is None and baby.name == "Erased"
    registration = db.session.get(Registration, world["registration_id"])
    assert registration.clearance_note == "" and registration.cleared_fingerprint == ""
    assert registration.cleared_at is None and registration.cleared_by_id is None
    assert db.session.get(HealthRecord, other_record.id) is not None, "other families keep theirs"
    assert len(consents_of(other_baby_id)) == 1


def test_erasing_staff_keeps_their_clearances_without_naming_them(ctx, world):
    give_answers(world)
    clearance.clear_booking(
        db.session.get(User, world["staff"].id), world["registration_id"], "GP letter seen"
    )
    erase_user(world["staff"].id)
    db.session.expire_all()
    registration = db.session.get(Registration, world["registration_id"])
    assert registration.cleared_by_id is None
    assert registration.cleared_at is not None
    assert registration.clearance_note == "GP letter seen"
    assert registration.cleared_fingerprint


# -- retention --------------------------------------------------------------------------


def test_purge_after_the_retention_time_deletes_health_data_once(
    ctx, make_user, make_baby, make_workshop
):
    old = make_workshop(starts_in_days=-500, sessions=2)
    recent = make_workshop(starts_in_days=10, sessions=2)
    parent = make_user(email="old@example.org")
    olive = make_baby(parent, name="Olive", date_of_birth=date(2023, 3, 17),
                      due_date=date(2023, 4, 21))
    rory = make_baby(parent, name="Rory", age_weeks=12, born_early_weeks=4)
    registrations = {}
    for key, workshop, baby in (("olive", old, olive), ("rory", recent, rory)):
        registration = Registration(
            workshop_id=workshop.id, baby_id=baby.id, parent_id=parent.id,
            status="confirmed", cleared_fingerprint="x" * 64, clearance_note="GP letter seen",
        )
        registration.cleared_at = datetime.now(UTC)
        db.session.add(registration)
        db.session.flush()
        db.session.add(SessionReadiness(registration_id=registration.id,
                                        session_id=first_session(workshop.id).id,
                                        status="well"))
        registrations[key] = registration.id
    db.session.commit()
    for baby, workshop in ((olive, old), (rory, recent)):
        answers.save_answers(parent.id, baby.id, current_form(workshop.centre_id),
                             answers_with_hips(), "", consent=True)
    assert len(consents_of(olive.id)) == len(consents_of(rory.id)) == 1

    counts = purge_counts(days=365)
    assert counts.health == 3  # Olive's answers, her readiness answer, her clearance
    assert counts.babies == 1 and counts.total >= 4
    db.session.expire_all()

    assert answers.record_of(olive.id) is None
    assert consents_of(olive.id) == []
    assert db.session.get(Baby, olive.id).due_date is None
    old_booking = db.session.get(Registration, registrations["olive"])
    assert (old_booking.clearance_note, old_booking.cleared_at, old_booking.cleared_fingerprint) \
        == ("", None, "")
    assert db.session.scalar(
        sa.select(sa.func.count(SessionReadiness.id)).where(
            SessionReadiness.registration_id == registrations["olive"]
        )
    ) == 0
    assert answers.record_of(rory.id) is not None, "a class still to come keeps the answers"
    assert len(consents_of(rory.id)) == 1
    assert db.session.get(Baby, rory.id).due_date is not None
    recent_booking = db.session.get(Registration, registrations["rory"])
    assert recent_booking.clearance_note == "GP letter seen"

    again = purge_counts(days=365)
    assert (again.health, again.total) == (0, 0)


def test_the_purge_command_names_the_health_records(runner, ctx, make_user, make_baby,
                                                     make_workshop):
    old = make_workshop(starts_in_days=-500, sessions=2)
    parent = make_user()
    baby = make_baby(parent, name="Olive", date_of_birth=date(2023, 3, 17))
    db.session.add(Registration(workshop_id=old.id, baby_id=baby.id, parent_id=parent.id,
                                status="confirmed"))
    db.session.commit()
    answers.save_answers(parent.id, baby.id, PRODUCT_FORM, answers_with_hips(), "",
                         consent=True)
    result = runner.invoke(args=["purge-expired", "--days", "365"])
    assert result.exit_code == 0, result.output
    assert "1 baby" in result.output and "deleted 1 health record." in result.output
    again = runner.invoke(args=["purge-expired", "--days", "365"])
    assert "Anonymised 0 records" in again.output
    assert "deleted 0 health records." in again.output


# -- logs -------------------------------------------------------------------------------


def test_saving_answers_and_clearing_log_no_answer(ctx, world, caplog):
    capture_logs(caplog)
    give_answers(world)
    assert answers.confirm_unchanged(world["parent"].id, world["registration_id"]) == 1
    clearance.clear_booking(
        db.session.get(User, world["teacher"].id), world["registration_id"],
        f"GP letter seen {NOTE_MARKER}",
    )
    assert answers.record_of(world["baby"].id).answers, "the answers were saved"
    assert_no_markers_logged(caplog)


# -- the whole journey ------------------------------------------------------------------


def test_a_full_journey_leaves_the_answers_in_no_email_feed_api_response_or_log(
    app, world, caplog
):
    capture_logs(caplog)
    course_id, registration_id = world["course"].id, world["registration_id"]
    with app.app_context():
        give_answers(world)
        assert answers.confirm_unchanged(world["parent"].id, registration_id) >= 1
        session_id = first_session(course_id).id
        parent_feed = issue_feed_token(world["parent"].id)
        teacher_feed = issue_feed_token(world["teacher"].id)
        staff_token = api_tokens.create_token(world["staff"].id, "desk")[1]
        ready_path = f"/ready/{readiness.readiness_token(registration_id, session_id)}"

    teacher = as_user(app, "teacher@example.org")
    shown = teacher.get(f"/teach/workshops/{course_id}").get_data(as_text=True)
    response = teacher.post(f"/teach/registrations/{registration_id}/clearance",
                            data={"note": f"GP letter seen {NOTE_MARKER}",
                                  "seen": seen_on(shown, registration_id)})
    assert response.status_code == 302, response.get_data(as_text=True)
    roster = teacher.get(f"/teach/workshops/{course_id}").get_data(as_text=True)
    assert MARKER in roster and NOTE_MARKER in roster, "the class's instructor reads them"
    no_markers(teacher.get(f"/teach/workshops/{course_id}/roster.csv").get_data(as_text=True),
               "the roster CSV")

    with app.app_context():
        readiness.answer_readiness(registration_id, session_id, "well",
                                   parent_id=world["parent"].id)
        assert send_reminders() >= 1
        messages = db.session.scalars(sa.select(OutboxMessage)).all()
        assert any(m.dedupe_key == f"reminder:{registration_id}" for m in messages)
        for message in messages:
            for part in (message.subject, message.body_text, message.body_html, message.ics):
                no_markers(part or "", f"the email {message.subject!r}")
                assert "Pavlik" not in (part or "")

    visitor = app.test_client()
    ready = visitor.get(ready_path)
    assert ready.status_code == 200
    no_markers(ready.get_data(as_text=True), "the Ready page")
    feeds = {
        "the parent's private feed": f"/feeds/private/{parent_feed}.ics",
        "the instructor's private feed": f"/feeds/private/{teacher_feed}.ics",
        "the centre's feed": f"/feeds/centres/{world['centre'].slug}.ics",
        "the instructor's public feed": f"/feeds/instructors/{world['teacher'].id}.ics",
    }
    for where, path in feeds.items():
        response = visitor.get(path)
        assert response.status_code == 200, path
        assert b"BEGIN:VEVENT" in response.data, path
        no_markers(response.get_data(as_text=True), where)

    api = {"Authorization": f"Bearer {staff_token}"}
    for path in ("/api/v1/workshops", f"/api/v1/workshops/{course_id}",
                 f"/api/v1/workshops/{course_id}/registrations"):
        response = visitor.get(path, headers=api)
        assert response.status_code == 200, path
        no_markers(response.get_data(as_text=True), f"the API's {path}")

    assert_no_markers_logged(caplog)


# -- who may read them ------------------------------------------------------------------


@pytest.fixture
def answered(app, world):
    """The world, with the answers given and the booking cleared with a note."""
    with app.app_context():
        give_answers(world)
        clearance.clear_booking(
            db.session.get(User, world["teacher"].id), world["registration_id"],
            f"GP letter seen {NOTE_MARKER}",
        )
    return world


def test_the_instructor_and_the_centre_staff_read_them(app, answered):
    course_id = answered["course"].id
    roster = as_user(app, "teacher@example.org").get(f"/teach/workshops/{course_id}")
    assert roster.status_code == 200 and MARKER in roster.get_data(as_text=True)
    manage = as_user(app, "staff@example.org").get(
        f"/manage/workshops/{course_id}/registrations"
    )
    assert manage.status_code == 200 and MARKER in manage.get_data(as_text=True)


def test_another_parent_cannot_read_them(app, answered):
    path = f"/account/bookings/{answered['registration_id']}/health"
    if not route_exists(app, path):
        pytest.skip("the parent's health page (/account/bookings/<id>/health) is not built yet")
    client = as_user(app, "other@example.org")
    assert client.get(path).status_code == 404
    no_markers(client.get("/account/bookings").get_data(as_text=True), "another's bookings")
    own = as_user(app, "parent@example.org").get(path)
    assert own.status_code == 200 and MARKER in own.get_data(as_text=True)


def test_the_instructor_of_another_class_cannot_read_them(app, answered):
    client = as_user(app, "colleague@example.org")
    assert client.get(f"/teach/workshops/{answered['course'].id}").status_code == 404
    own = client.get(f"/teach/workshops/{answered['other_course'].id}")
    assert own.status_code == 200
    no_markers(own.get_data(as_text=True), "another class's roster")
    refused = client.post(f"/teach/registrations/{answered['registration_id']}/clearance",
                          data={"note": "Not mine"})
    assert refused.status_code == 404


def test_an_instructor_no_longer_at_the_centre_cannot_read_or_clear_them(app, answered):
    """The teacher's instructor role at the centre is taken away (they still teach at
    another): the class keeps them as its instructor, for the record, but its roster,
    its CSV, its register, their class lists and a clearance all answer as for a class
    that is not theirs."""
    from booking.models import Centre, Membership, WorkshopSession

    course_id = answered["course"].id
    teacher = as_user(app, "teacher@example.org")
    assert teacher.get(f"/teach/workshops/{course_id}").status_code == 200
    with app.app_context():
        db.session.execute(sa.delete(Membership).where(
            Membership.user_id == answered["teacher"].id,
            Membership.centre_id == answered["centre"].id,
        ))
        harbour = db.session.scalar(sa.select(Centre.id).where(Centre.slug == "harbour"))
        db.session.add(Membership(user_id=answered["teacher"].id, centre_id=harbour,
                                  role="instructor"))
        db.session.commit()
        session_id = db.session.scalar(sa.select(WorkshopSession.id).where(
            WorkshopSession.workshop_id == course_id).limit(1))
    for path in (f"/teach/workshops/{course_id}", f"/teach/workshops/{course_id}/roster.csv",
                 f"/teach/sessions/{session_id}/register"):
        response = teacher.get(path)
        assert response.status_code == 404, path
        no_markers(response.get_data(as_text=True), path)
    listing = teacher.get("/teach").get_data(as_text=True)
    assert "Baby massage course" not in listing
    refused = teacher.post(f"/teach/registrations/{answered['registration_id']}/clearance",
                           data={"note": "Seen"})
    assert refused.status_code == 404
    with app.app_context():
        feed = issue_feed_token(answered["teacher"].id)
    calendar = teacher.get(f"/feeds/private/{feed}.ics").get_data(as_text=True)
    assert "booked of" not in calendar  # the class's bookings are no longer theirs


def test_staff_of_another_centre_cannot_read_them(app, answered):
    client = as_user(app, "far@example.org")
    response = client.get(f"/manage/workshops/{answered['course'].id}/registrations")
    assert response.status_code == 404
    no_markers(response.get_data(as_text=True), "another centre's staff")


def test_answers_kept_outside_a_booking_reach_no_centre(app, world):
    with app.app_context():
        answers.save_answers(
            world["parent"].id, world["baby"].id, PRODUCT_FORM, answers_with_hips(),
            f"Sleeps after feeds {OTHER_MARKER}", consent=True,
        )
        assert answers.record_of(world["baby"].id) is not None
        assert not answers.shared_records([world["baby"].id], world["centre"].id)
    course_id = world["course"].id
    roster = as_user(app, "teacher@example.org").get(f"/teach/workshops/{course_id}")
    assert roster.status_code == 200
    no_markers(roster.get_data(as_text=True), "a roster before consent for the centre")
    manage = as_user(app, "staff@example.org").get(
        f"/manage/workshops/{course_id}/registrations"
    )
    no_markers(manage.get_data(as_text=True), "the bookings page before consent")


def test_withdrawing_consent_hides_and_deletes_them(app, answered):
    course_id = answered["course"].id
    with app.app_context():  # and a "Ready for <day>?" answer: the baby is immunised
        from booking.models import SessionReadiness, WorkshopSession

        session_id = db.session.scalar(
            sa.select(WorkshopSession.id).where(WorkshopSession.workshop_id == course_id)
        )
        db.session.add(SessionReadiness(registration_id=answered["registration_id"],
                                        session_id=session_id, status="immunised"))
        db.session.commit()
    parent = as_user(app, "parent@example.org")
    response = parent.post(f"/account/babies/{answered['baby'].id}/health/delete")
    assert response.status_code == 302
    with app.app_context():
        assert answers.record_of(answered["baby"].id) is None
        assert consents_of(answered["baby"].id) == []
        assert db.session.scalar(sa.select(sa.func.count(SessionReadiness.id))) == 0
    roster = as_user(app, "teacher@example.org").get(f"/teach/workshops/{course_id}")
    assert roster.status_code == 200
    text = roster.get_data(as_text=True)
    # The answers, and the clearance given for them, are gone.
    no_markers(text, "the roster after the consent was withdrawn")
    assert "Health questions not answered" in text


def test_an_admin_without_a_staff_role_does_not_read_them(app, answered):
    client = as_user(app, "admin@example.org")
    response = client.get(f"/manage/workshops/{answered['course'].id}/registrations")
    assert response.status_code in (200, 404)
    no_markers(response.get_data(as_text=True), "an admin who is not the centre's staff")
