"""Instructor pages: their classes, rosters with ages, CSV, registers, messages."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import (
    Attendance,
    Baby,
    OutboxMessage,
    Registration,
    User,
    Workshop,
    WorkshopSession,
)
from booking.services.errors import Conflict, Invalid, NotFound
from booking.services.teaching import attendance as attendance_service
from booking.services.teaching import messages as message_service
from booking.services.teaching import roster as roster_service
from booking.timefmt import to_local
from tests.html_checker import html_errors


@pytest.fixture
def book(app):
    """Put a baby on a workshop: book(workshop, baby, status='confirmed', **fields)."""

    def make(workshop, baby, status="confirmed", **fields) -> Registration:
        with app.app_context():
            now = datetime.now(UTC)
            reg = Registration(
                workshop_id=workshop.id,
                baby_id=baby.id,
                parent_id=baby.parent_id,
                status=status,
                consent_at=fields.pop("consent_at", now),
                confirmed_at=now if status == "confirmed" else None,
                waitlisted_at=now if status == "waitlisted" else None,
                **fields,
            )
            db.session.add(reg)
            if status == "confirmed":
                db.session.get(Workshop, workshop.id).confirmed_count += 1
            db.session.commit()
            db.session.refresh(reg)
            db.session.expunge(reg)
        return reg

    return make


@pytest.fixture
def setup(make_centre, make_user, make_workshop, make_baby, book):
    """A centre, its instructor with a 4-week course, a second instructor, and bookings."""
    centre = make_centre(slug="bristol", name="Bristol Family Hub")
    teacher = make_user(email="teacher@example.org", name="Tina Teacher", role="instructor",
                        centre=centre)
    other = make_user(email="other@example.org", role="instructor", centre=centre)
    course = make_workshop(centre=centre, instructor=teacher, sessions=4, capacity=3,
                           title="Monday massage")
    other_course = make_workshop(centre=centre, instructor=other, title="Other's class")
    parent = make_user(email="pat@example.org", name="Pat Parent")
    twin_a = make_baby(parent, name="Ada", age_weeks=10)
    twin_b = make_baby(parent, name="Bea", age_weeks=10)
    late = make_user(email="wait@example.org", name="Wendy Wait")
    waiting_baby = make_baby(late, name="Cal", age_weeks=12)
    reg_a = book(course, twin_a, notes="Prefers the left side")
    reg_b = book(course, twin_b)
    reg_w = book(course, waiting_baby, status="waitlisted")
    return {
        "centre": centre, "teacher": teacher, "other": other, "course": course,
        "other_course": other_course, "parent": parent, "twin_a": twin_a, "twin_b": twin_b,
        "late": late, "waiting_baby": waiting_baby, "reg_a": reg_a, "reg_b": reg_b,
        "reg_w": reg_w,
    }


def _sessions(app, workshop_id):
    with app.app_context():
        sessions = db.session.scalars(
            sa.select(WorkshopSession)
            .where(WorkshopSession.workshop_id == workshop_id)
            .order_by(WorkshopSession.number)
        ).all()
        for s in sessions:
            db.session.expunge(s)
        return sessions


def _open_for_attendance(app, session_id):
    """Move a session to have started ten minutes ago: attendance can then be marked."""
    with app.app_context():
        session = db.session.get(WorkshopSession, session_id)
        session.starts_at = datetime.now(UTC) - timedelta(minutes=10)
        session.ends_at = session.starts_at + timedelta(hours=1)
        db.session.commit()


def _outbox(app):
    with app.app_context():
        return db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()


# --- access ---------------------------------------------------------------------------


def test_index_lists_only_own_workshops_with_numbers(client, auth, setup):
    auth.login("teacher@example.org")
    response = client.get("/teach")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Monday massage" in page
    assert "Other&#39;s class" not in page and "Other's class" not in page
    assert "2 of 3 places taken" in page
    assert "1 waiting" in page


def test_other_instructor_gets_404_everywhere(client, auth, app, setup):
    auth.login("other@example.org")
    course = setup["course"]
    session_id = _sessions(app, course.id)[0].id
    assert client.get(f"/teach/workshops/{course.id}").status_code == 404
    assert client.get(f"/teach/workshops/{course.id}/roster.csv").status_code == 404
    assert client.get(f"/teach/sessions/{session_id}/register").status_code == 404
    assert client.get(f"/teach/workshops/{course.id}/message").status_code == 404
    post = client.post(
        f"/teach/sessions/{session_id}/register",
        data={f"attendance-{setup['reg_a'].id}": "present"},
    )
    assert post.status_code == 404
    post = client.post(
        f"/teach/workshops/{course.id}/message", data={"subject": "Hi", "body": "Hello"}
    )
    assert post.status_code == 404
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Attendance)) == 0
    assert _outbox(app) == []
    assert client.get("/teach/workshops/999999").status_code == 404
    assert client.get("/teach/sessions/999999/register").status_code == 404


def test_parent_is_forbidden_and_anonymous_sent_to_login(client, auth, setup):
    course = setup["course"]
    response = client.get(f"/teach/workshops/{course.id}")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    auth.login("pat@example.org")
    assert client.get("/teach").status_code == 403
    assert client.get(f"/teach/workshops/{course.id}").status_code == 403
    assert client.get(f"/teach/workshops/{course.id}/roster.csv").status_code == 403


def test_staff_who_does_not_teach_is_forbidden(client, auth, make_user, setup):
    make_user(email="staff@example.org", role="staff", centre=setup["centre"])
    auth.login("staff@example.org")
    assert client.get(f"/teach/workshops/{setup['course'].id}").status_code == 403


# --- roster -------------------------------------------------------------------------------


def test_roster_shows_age_at_each_session_and_contacts(client, auth, app, setup):
    auth.login("teacher@example.org")
    course = setup["course"]
    response = client.get(f"/teach/workshops/{course.id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Ada" in page and "Bea" in page
    assert "pat@example.org" in page and "Pat Parent" in page
    assert "Prefers the left side" in page
    assert "Cal" in page and "Wendy Wait" in page  # the waiting list

    with app.app_context():
        data = roster_service.workshop_roster(course.id, setup["teacher"].id)
        days = [to_local(s.starts_at, "Europe/London").date() for s in data.sessions]
        ada = next(e for e in data.confirmed if e.baby_name == "Ada")
        dob = setup["twin_a"].date_of_birth
        assert ada.ages == [(d - dob).days // 7 for d in days]
        assert len(ada.ages) == 4
        assert ada.ages[1] == ada.ages[0] + 1  # weekly sessions: one week older each time
        assert [e.position for e in data.waiting] == [1]
        assert data.waiting[0].baby_name == "Cal"


def test_roster_ages_use_the_centres_local_date(app, make_centre, make_user, make_workshop,
                                                make_baby, book):
    centre = make_centre(timezone="Australia/Sydney")
    teacher = make_user(role="instructor", centre=centre)
    # 23:30 UTC is already the next day in Sydney.
    start = datetime.now(UTC).replace(hour=23, minute=30, second=0, microsecond=0) + timedelta(
        days=10
    )
    workshop = make_workshop(centre=centre, instructor=teacher, sessions=1, kind="single",
                             starts_at=start)
    sydney_day = to_local(start, "Australia/Sydney").date()
    parent = make_user()
    baby = make_baby(parent, date_of_birth=sydney_day - timedelta(days=70))
    book(workshop, baby)
    with app.app_context():
        data = roster_service.workshop_roster(workshop.id, teacher.id)
        assert data.confirmed[0].ages == [10]  # exactly 10 weeks on the Sydney date


def test_roster_loads_in_a_fixed_number_of_queries(app, setup, make_user, make_baby, book,
                                                   make_workshop):
    def count_queries(workshop_id):
        statements = []

        def listener(*args):
            statements.append(args[2])

        with app.app_context():
            sa.event.listen(db.engine, "before_cursor_execute", listener)
            try:
                data = roster_service.workshop_roster(workshop_id, setup["teacher"].id)
                roster_service.roster_csv(data)
            finally:
                sa.event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    small = count_queries(setup["course"].id)
    big = make_workshop(centre=setup["centre"], instructor=setup["teacher"], capacity=20)
    for i in range(8):
        parent = make_user()
        book(big, make_baby(parent, name=f"Baby {i}"))
    assert count_queries(big.id) == small


def test_roster_csv_has_header_rows_and_guards_formulas(client, auth, app, setup, make_user,
                                                       make_baby, book):
    evil = make_user(email="evil@example.org", name="=HYPERLINK(\"http://x\")")
    with app.app_context():
        from booking.models import User

        db.session.get(User, evil.id).phone = "+44 7700 900123"
        db.session.commit()
    book(setup["course"], make_baby(evil, name="@Zed"), notes="-1 sugar")
    auth.login("teacher@example.org")
    response = client.get(f"/teach/workshops/{setup['course'].id}/roster.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    header = rows[0]
    assert header[:3] == ["Baby name", "Date of birth", "Age in weeks at first session"]
    assert sum(1 for h in header if h.startswith("Age in weeks at session")) == 4
    assert header[7:13] == ["Parent name", "Email", "Phone", "Consent given", "Notes",
                            "Baby notes"]
    assert header[13:] == ["Corrected age in weeks at first session", "Flags"]
    body = rows[1:]
    assert len(body) == 3  # confirmed only, no waiting list
    by_name = {r[0]: r for r in body}
    ada = by_name["Ada"]
    assert ada[1] == setup["twin_a"].date_of_birth.isoformat()
    assert ada[2] == ada[3]  # first session age equals session 1 column
    assert int(ada[4]) == int(ada[3]) + 1
    assert ada[7] == "Pat Parent" and ada[8] == "pat@example.org"
    assert ada[10]  # consent time
    assert ada[11] == "Prefers the left side"
    zed = by_name["'@Zed"]
    assert zed[7] == "'=HYPERLINK(\"http://x\")"
    assert zed[9] == "'+44 7700 900123"
    assert zed[11] == "'-1 sugar"


def test_csv_cell_guard():
    assert roster_service.csv_cell("=1+1") == "'=1+1"
    assert roster_service.csv_cell("+1") == "'+1"
    assert roster_service.csv_cell("-x") == "'-x"
    assert roster_service.csv_cell("@SUM(A1)") == "'@SUM(A1)"
    assert roster_service.csv_cell("Ada") == "Ada"
    assert roster_service.csv_cell(None) == ""
    assert roster_service.csv_cell(12) == "12"


# --- register and attendance ---------------------------------------------------------------


def test_register_page_is_printable(client, auth, app, setup):
    auth.login("teacher@example.org")
    session = _sessions(app, setup["course"].id)[1]
    response = client.get(f"/teach/sessions/{session.id}/register")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Bristol Family Hub" in page
    assert "week 2 of 4" in page
    assert 'media="print"' in page and "print-register.css" in page
    assert "Ada" in page and "Pat Parent" in page
    local = to_local(session.starts_at, "Europe/London")
    assert f"{local:%H:%M}" in page
    ada_age = setup["twin_a"].age_weeks_on(local.date())
    assert f"{ada_age} weeks" in page
    assert "Cal" not in page  # waiting babies are not on the register
    css = client.get("/static/css/print-register.css")
    assert css.status_code == 200
    assert b"display: none" in css.data
    css.close()


def test_register_carries_each_parents_phone_and_the_notes(client, auth, app, setup):
    with app.app_context():
        db.session.get(User, setup["parent"].id).phone = "07700 900123"
        db.session.get(Baby, setup["twin_b"].id).notes = "Sensitive skin: no oil."
        db.session.commit()
    session = _sessions(app, setup["course"].id)[0]
    auth.login("teacher@example.org")
    page = client.get(f"/teach/sessions/{session.id}/register").get_data(as_text=True)
    assert '<a href="tel:07700900123">07700 900123</a>' in page
    assert "Prefers the left side" in page
    assert "<strong>Baby:</strong> Sensitive skin: no oil." in page
    auth.logout()
    auth.login("other@example.org")
    assert client.get(f"/teach/sessions/{session.id}/register").status_code == 404


def test_mark_attendance_upserts_in_one_go(client, auth, app, setup):
    auth.login("teacher@example.org")
    session = _sessions(app, setup["course"].id)[0]
    _open_for_attendance(app, session.id)
    url = f"/teach/sessions/{session.id}/register"
    reg_a, reg_b = setup["reg_a"], setup["reg_b"]
    response = client.post(
        url, data={f"attendance-{reg_a.id}": "present", f"attendance-{reg_b.id}": "absent"}
    )
    assert response.status_code == 302
    response = client.post(url, data={f"attendance-{reg_b.id}": "present"})
    assert response.status_code == 302
    with app.app_context():
        marks = dict(
            db.session.execute(
                sa.select(Attendance.registration_id, Attendance.status).where(
                    Attendance.session_id == session.id
                )
            ).all()
        )
    assert marks == {reg_a.id: "present", reg_b.id: "present"}
    page = client.get(url).get_data(as_text=True)
    assert "2 marked present" in page


def test_a_family_who_joined_after_a_week_is_not_on_its_register(client, auth, app, setup):
    """Bea joined the course after week 1 ended (a late joiner): week 1's register does
    not list her, "All present" does not mark her, and a mark for her is refused; week
    2's register has her."""
    auth.login("teacher@example.org")
    week1, week2 = _sessions(app, setup["course"].id)[:2]
    reg_a, reg_b = setup["reg_a"], setup["reg_b"]
    with app.app_context():
        session = db.session.get(WorkshopSession, week1.id)
        session.starts_at = datetime.now(UTC) - timedelta(hours=2)
        session.ends_at = session.starts_at + timedelta(hours=1)
        db.session.get(Registration, reg_a.id).confirmed_at = datetime.now(UTC) - timedelta(
            days=3)
        db.session.get(Registration, reg_b.id).confirmed_at = datetime.now(UTC)
        db.session.commit()
    url = f"/teach/sessions/{week1.id}/register"
    page = client.get(url).get_data(as_text=True)
    assert "Ada" in page and "Bea" not in page
    assert client.post(f"/teach/sessions/{week1.id}/all-present").status_code == 302
    with app.app_context():
        marked = set(db.session.scalars(
            sa.select(Attendance.registration_id).where(Attendance.session_id == week1.id)))
    assert marked == {reg_a.id}
    refused = client.post(url, data={f"attendance-{reg_b.id}": "present"})
    assert refused.status_code == 422
    assert "Bea" in client.get(f"/teach/sessions/{week2.id}/register").get_data(as_text=True)
    # A mark made for her before (by an older "All present") stays shown, and can be
    # put right.
    with app.app_context():
        db.session.add(Attendance(registration_id=reg_b.id, session_id=week1.id,
                                  status="present", marked_at=datetime.now(UTC)))
        db.session.commit()
    assert "Bea" in client.get(url).get_data(as_text=True)
    assert client.post(url, data={f"attendance-{reg_b.id}": "absent"}).status_code == 302


def test_a_booking_cancelled_after_its_mark_stays_on_that_register(client, auth, app,
                                                                     setup):
    """Bea came to week 1; her booking was cancelled later (a family leaving part-way).
    Week 1's register still lists her with her mark, which can no longer be changed,
    and its count agrees with its rows; week 2's register has only Ada."""
    from booking.services.booking.book import cancel_registration

    auth.login("teacher@example.org")
    week1, week2 = _sessions(app, setup["course"].id)[:2]
    _open_for_attendance(app, week1.id)
    url = f"/teach/sessions/{week1.id}/register"
    reg_a, reg_b = setup["reg_a"], setup["reg_b"]
    assert client.post(url, data={f"attendance-{reg_a.id}": "present",
                                  f"attendance-{reg_b.id}": "present"}).status_code == 302
    with app.app_context():  # nobody waiting to take her place, to keep the count plain
        cancel_registration(setup["reg_w"].id, actor_id=setup["teacher"].id, on_behalf=True)
        cancel_registration(reg_b.id, actor_id=setup["teacher"].id, on_behalf=True)
    page = client.get(url).get_data(as_text=True)
    assert "Bea" in page and "Booking since cancelled" in page
    assert "Booked</dt><dd>1 (and 1 since cancelled) · 2 marked present" in page
    assert f'name="attendance-{reg_b.id}"' not in page  # no longer markable
    bea = page[page.index("Booking since cancelled"):]
    assert '<span class="no-print">Present</span>' in bea[:400]  # her mark, not "—"
    assert "&#10003;" in bea[:400]  # and ticked on the printout
    assert html_errors({"register": page}) == {"register": []}
    assert client.post(url, data={f"attendance-{reg_a.id}": "absent"}).status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "1 marked present" in page and "Bea" in page
    later = client.get(f"/teach/sessions/{week2.id}/register").get_data(as_text=True)
    assert "Bea" not in later


def test_bad_marks_change_nothing(client, auth, app, setup):
    auth.login("teacher@example.org")
    session = _sessions(app, setup["course"].id)[0]
    _open_for_attendance(app, session.id)
    url = f"/teach/sessions/{session.id}/register"
    for data in (
        {
            f"attendance-{setup['reg_a'].id}": "present",
            f"attendance-{setup['reg_w'].id}": "present",
        },
        {f"attendance-{setup['reg_a'].id}": "present", "attendance-abc": "present"},
        {f"attendance-{setup['reg_a'].id}": "maybe"},
    ):
        response = client.post(url, data=data)
        assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Attendance)) == 0


def test_attendance_opens_an_hour_before_the_session(client, auth, app, setup):
    """Before that, the register has no Save button and a POST is refused (409)."""
    auth.login("teacher@example.org")
    session = _sessions(app, setup["course"].id)[0]
    url = f"/teach/sessions/{session.id}/register"
    page = client.get(url).get_data(as_text=True)
    assert "Save attendance" not in page and "an hour before the session starts" in page
    response = client.post(url, data={f"attendance-{setup['reg_a'].id}": "present"})
    assert response.status_code == 409
    assert "Attendance opens an hour before the session starts" in response.get_data(
        as_text=True
    )
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Attendance)) == 0
        row = db.session.get(WorkshopSession, session.id)
        row.starts_at = datetime.now(UTC) + timedelta(minutes=50)
        row.ends_at = row.starts_at + timedelta(hours=1)
        db.session.commit()
    assert "Save attendance" in client.get(url).get_data(as_text=True)
    assert client.post(url, data={f"attendance-{setup['reg_a'].id}": "present"}).status_code == 302


def test_cannot_mark_a_cancelled_session(app, setup):
    session = _sessions(app, setup["course"].id)[2]
    with app.app_context():
        db.session.get(WorkshopSession, session.id).status = "cancelled"
        db.session.commit()
        with pytest.raises(Conflict):
            attendance_service.mark_attendance(
                session.id, setup["teacher"].id, {str(setup["reg_a"].id): "present"}
            )
        with pytest.raises(NotFound):
            attendance_service.mark_attendance(
                session.id, setup["other"].id, {str(setup["reg_a"].id): "present"}
            )


# --- messages -----------------------------------------------------------------------------


def test_message_queues_one_email_per_booked_parent(client, auth, app, setup):
    auth.login("teacher@example.org")
    course = setup["course"]
    assert client.get(f"/teach/workshops/{course.id}/message").status_code == 200
    response = client.post(
        f"/teach/workshops/{course.id}/message",
        data={"subject": "Room change", "body": "We meet in the garden room."},
    )
    assert response.status_code == 302
    messages = _outbox(app)
    assert [m.recipient for m in messages] == ["pat@example.org"]  # twins: one email
    assert "Room change" in messages[0].subject
    assert "We meet in the garden room." in messages[0].body_text


def test_message_can_include_the_waiting_list(client, auth, app, setup):
    auth.login("teacher@example.org")
    response = client.post(
        f"/teach/workshops/{setup['course'].id}/message",
        data={"subject": "Hello", "body": "See you soon.", "include_waiting": "y"},
    )
    assert response.status_code == 302
    assert sorted(m.recipient for m in _outbox(app)) == ["pat@example.org", "wait@example.org"]


def test_message_reaches_a_family_holding_a_place_while_paying(client, auth, app, setup,
                                                                make_user, make_baby, book):
    """A place held while the parent pays (or offered from the waiting list) is on the
    roster: that parent hears a room change too."""
    holder = make_user(email="paying@example.org")
    book(setup["course"], make_baby(holder, name="Dot", age_weeks=10),
         status="pending_payment")
    auth.login("teacher@example.org")
    # The page says so before sending (it named the booked places alone).
    page = " ".join(client.get(f"/teach/workshops/{setup['course'].id}/message").text.split())
    assert "and to the 1 place held while its family pays (one email per parent)" in page
    response = client.post(
        f"/teach/workshops/{setup['course'].id}/message",
        data={"subject": "Room change", "body": "Garden room."},
    )
    assert response.status_code == 302
    assert sorted(m.recipient for m in _outbox(app)) == [
        "pat@example.org", "paying@example.org"
    ]


def test_the_same_message_form_sent_twice_is_sent_once(client, auth, app, setup):
    """A double tap on Send: the form's one-time token makes the second a no-op, while
    the form shown again sends a new message."""
    auth.login("teacher@example.org")
    url = f"/teach/workshops/{setup['course'].id}/message"
    page = client.get(url).get_data(as_text=True)
    token = re.search(r'name="form_token" type="hidden" value="([^"]+)"', page).group(1)
    data = {"subject": "Room change", "body": "Garden room.", "form_token": token}
    assert client.post(url, data=data).status_code == 302
    again = client.post(url, data=data, follow_redirects=True)
    assert again.status_code == 200
    assert "This message was already sent." in again.get_data(as_text=True)
    assert [m.recipient for m in _outbox(app)] == ["pat@example.org"]
    fresh = re.search(r'name="form_token" type="hidden" value="([^"]+)"',
                      client.get(url).get_data(as_text=True)).group(1)
    assert fresh != token
    assert client.post(url, data={**data, "form_token": fresh}).status_code == 302
    assert len(_outbox(app)) == 2
    # The first form again (the browser's Back button) with other words: a new message.
    changed = {**data, "body": "Garden room, and bring a towel."}
    assert client.post(url, data=changed).status_code == 302
    assert len(_outbox(app)) == 3
    assert client.post(url, data=changed).status_code == 302
    assert len(_outbox(app)) == 3
    # A token that is not one of ours is ignored (the message still goes).
    assert client.post(url, data={**data, "form_token": "x' OR 1=1"}).status_code == 302
    assert len(_outbox(app)) == 4


def test_message_needs_subject_and_body(client, auth, app, setup):
    auth.login("teacher@example.org")
    response = client.post(
        f"/teach/workshops/{setup['course'].id}/message", data={"subject": "", "body": ""}
    )
    assert response.status_code == 422
    assert "Enter a subject." in response.get_data(as_text=True)
    assert _outbox(app) == []
    with app.app_context(), pytest.raises(Invalid) as info:
        message_service.message_workshop(setup["course"].id, setup["teacher"].id, "x" * 151, "b")
    assert "subject" in info.value.fields
    # A subject that turns the text after it around, or a control character in the
    # text, would reach every parent's inbox: refused, nothing sent.
    for subject, body, field in (("\u202eevil", "b", "subject"), ("Hi", "a\x1bb", "body")):
        with app.app_context(), pytest.raises(Invalid) as info:
            message_service.message_workshop(setup["course"].id, setup["teacher"].id,
                                             subject, body)
        assert "text-direction overrides" in info.value.fields[field]
    assert _outbox(app) == []


def test_instructor_workshops_splits_upcoming_and_recent(app, setup, make_workshop):
    past = make_workshop(
        centre=setup["centre"], instructor=setup["teacher"], starts_in_days=-30, sessions=2,
        title="Last month",
    )
    with app.app_context():
        lists = roster_service.instructor_workshops(setup["teacher"].id)
    assert [s.workshop.title for s in lists["upcoming"]] == ["Monday massage"]
    assert [s.workshop.id for s in lists["recent"]] == [past.id]
    upcoming = lists["upcoming"][0]
    assert (upcoming.confirmed, upcoming.waiting) == (2, 1)
    assert upcoming.next_session.number == 1
