"""The instructor's "Today" on /teach: the sessions of today and tomorrow in each centre's
zone, who is coming (make-up visitors in, absences told ahead apart), ages and health
flags as the register shows them, one-tap check-in and "All present", and attendance
only once a session has started or starts within the hour."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import Attendance, Baby, MakeupBooking, Registration, WorkshopSession
from booking.services.accounts.roles import grant_role
from booking.services.booking.book import book_place
from booking.services.booking.places import age_text
from booking.services.courses.absences import report_absence
from booking.services.courses.makeups import book_makeup, cancel_makeup
from booking.services.errors import Conflict
from booking.services.health.answers import save_answers
from booking.services.health.questions import PRODUCT_FORM, current_form
from booking.services.teaching import attendance
from booking.services.teaching.today import TODAY, TOMORROW, teaching_today
from booking.timefmt import to_local
from tests.html_checker import html_errors

LONDON, SYDNEY = "Europe/London", "Australia/Sydney"
YOUR_CLASSES = "<h2>Your classes</h2>"


def _local_at(tz_name: str, days: int, hour: int) -> datetime:
    """`hour` o'clock, `days` after today, on the clocks of a zone, as UTC."""
    zone = ZoneInfo(tz_name)
    day = datetime.now(zone).date() + timedelta(days=days)
    return datetime.combine(day, time(hour), zone).astimezone(UTC)


def _day_label(starts_at: datetime, tz_name: str) -> str:
    today = datetime.now(ZoneInfo(tz_name)).date()
    return TODAY if to_local(starts_at, tz_name).date() == today else TOMORROW


def _first_session(app, workshop_id: int) -> WorkshopSession:
    with app.app_context():
        session = db.session.scalar(
            sa.select(WorkshopSession).where(
                WorkshopSession.workshop_id == workshop_id, WorkshopSession.number == 1
            )
        )
        db.session.expunge(session)
    return session


def _book(app, parent, baby, workshop) -> int:
    with app.app_context():
        result = book_place(
            parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id, consent=True
        )
        assert result.confirmed
        return result.registration.id


def _marks(app, session_id: int) -> dict[int, str]:
    with app.app_context():
        return dict(
            db.session.execute(
                sa.select(Attendance.registration_id, Attendance.status).where(
                    Attendance.session_id == session_id
                )
            ).all()
        )


def _today_part(page: str) -> str:
    """The "Today" part of /teach (the list of workshops follows it)."""
    assert YOUR_CLASSES in page
    return page.split(YOUR_CLASSES)[0]


def _card(page: str, session_id: int) -> str:
    """One session's card on "Today"."""
    start = page.index(f'id="session-{session_id}"')
    return page[start:page.index("</section>", start)]


@pytest.fixture
def world(app, make_centre, make_user, make_workshop, make_baby):
    """A course of the instructor starting in 20 minutes (open for attendance) at a
    London centre, with Ada (born early, health answers needing clearance), Bea (told
    us ahead she will miss it), Kit (immunised today: doll) and Dora making up a missed
    week; a class tomorrow at 10:00 there; classes at a Sydney centre tomorrow and the
    day after (Sydney days); and classes that are not Today's: far off, a draft,
    another instructor's."""
    london = make_centre(slug="bristol", name="Bristol Hub")
    sydney = make_centre(slug="harbour", name="Harbour Hub", timezone=SYDNEY, country="AU")
    teacher = make_user("teacher@example.org", name="Tina Teacher", role="instructor",
                        centre=london)
    other = make_user("other@example.org", role="instructor", centre=london)
    with app.app_context():
        grant_role(teacher.id, sydney.id, "instructor")
    soon = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=20)
    course = make_workshop(centre=london, instructor=teacher, sessions=4, starts_at=soon,
                           title="Monday massage", capacity=6)
    tomorrow = make_workshop(centre=london, instructor=teacher, kind="single",
                             starts_at=_local_at(LONDON, 1, 10), title="Colic clinic")
    harbour = make_workshop(centre=sydney, instructor=teacher, kind="single",
                            starts_at=_local_at(SYDNEY, 1, 9), title="Harbour tomorrow")
    make_workshop(centre=sydney, instructor=teacher, kind="single",
                  starts_at=_local_at(SYDNEY, 2, 9), title="Harbour later")
    make_workshop(centre=london, instructor=teacher, kind="single", starts_in_days=4,
                  title="Far away class")
    make_workshop(centre=london, instructor=teacher, kind="single",
                  starts_at=soon + timedelta(hours=2), status="draft", title="Draft class")
    make_workshop(centre=london, instructor=other, kind="single",
                  starts_at=soon + timedelta(hours=3), title="Not my class")
    origin = make_workshop(centre=london, instructor=other, sessions=4, starts_in_days=4,
                           title="Thursday massage")

    pat = make_user("pat@example.org", name="Pat Parent")
    kim = make_user("kim@example.org", name="Kim Parent")
    dee = make_user("dee@example.org", name="Dee Parent")
    wes = make_user("wes@example.org", name="Wes Parent")
    ada = make_baby(pat, name="Ada", age_weeks=12, born_early_weeks=5)
    bea = make_baby(pat, name="Bea", age_weeks=10)
    kit = make_baby(kim, name="Kit", age_weeks=14)
    dora = make_baby(dee, name="Dora", age_weeks=11)
    wait = make_baby(wes, name="Wynn", age_weeks=9)
    session = _first_session(app, course.id)
    regs = {
        "ada": _book(app, pat, ada, course),
        "bea": _book(app, pat, bea, course),
        "kit": _book(app, kim, kit, course),
        "tomorrow": _book(app, kim, kit, tomorrow),
    }
    with app.app_context():
        raw = {q.key: {"answer": "no"} for q in PRODUCT_FORM.questions}
        raw["hips"] = {"answer": "yes", "details": "Pavlik harness"}
        raw["allergy"] = {"answer": "yes", "details": "Nut allergy"}
        save_answers(pat.id, ada.id, current_form(london.id), raw, "", consent=True,
                     registration_id=regs["ada"])
        report_absence(parent_id=pat.id, registration_id=regs["bea"], session_id=session.id)
        db.session.get(Baby, kit.id).immunisation_date = to_local(soon, LONDON).date()
        waiting = Registration(workshop_id=course.id, baby_id=wait.id, parent_id=wes.id,
                               status="waitlisted", consent_at=datetime.now(UTC),
                               waitlisted_at=datetime.now(UTC))
        db.session.add(waiting)
        db.session.commit()
        regs["waiting"] = waiting.id
    regs["dora_origin"] = _book(app, dee, dora, origin)
    with app.app_context():
        origin_week1 = _first_session(app, origin.id)
        credit = report_absence(parent_id=dee.id, registration_id=regs["dora_origin"],
                                session_id=origin_week1.id)
        book_makeup(parent_id=dee.id, credit_id=credit.id, session_id=session.id)
    return {
        "london": london, "sydney": sydney, "teacher": teacher, "other": other,
        "course": course, "session": session, "soon": soon, "tomorrow": tomorrow,
        "tomorrow_session": _first_session(app, tomorrow.id), "harbour": harbour,
        "harbour_session": _first_session(app, harbour.id), "babies": {
            "ada": ada, "bea": bea, "kit": kit, "dora": dora}, "regs": regs,
    }


def test_today_lists_the_sessions_of_today_and_tomorrow_in_each_centres_zone(
    client, auth, world
):
    auth.login("teacher@example.org")
    response = client.get("/teach")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert html_errors({"teach": page}) == {"teach": []}
    today = _today_part(page)
    assert page.index("<h1>Today</h1>") < page.index(YOUR_CLASSES)
    label = _day_label(world["soon"], LONDON)
    local = to_local(world["soon"], LONDON)
    assert f"{label} {local:%H:%M}: Monday massage, week 1 of 4" in today
    assert "Tomorrow 10:00: Colic clinic" in today
    assert "Tomorrow 09:00: Harbour tomorrow" in today
    for absent in ("Harbour later", "Far away class", "Draft class", "Not my class",
                   "Thursday massage"):
        assert absent not in today, absent
    # In time order, the workshops list still below.
    order = [today.index(f'id="session-{world[k].id}"')
             for k in ("session", "tomorrow_session")]
    assert order == sorted(order)
    assert "Far away class" in page.split(YOUR_CLASSES)[1]


def test_today_shows_who_is_coming_with_ages_and_flags(client, auth, world):
    auth.login("teacher@example.org")
    page = client.get("/teach").get_data(as_text=True)
    card = _card(page, world["session"].id)
    coming, away = card.split("<h3>Told us they can't come</h3>")
    for name in ("Ada", "Kit", "Dora"):
        assert f"<strong>{name}</strong>" in coming, name
    assert "<strong>Bea</strong>" in away and "<strong>Bea</strong>" not in coming
    assert "Wynn" not in card  # waiting, not coming
    assert "3 expected" in card and "0 of 2 booked checked in" in card
    assert "0 of 1 make-up checked in" in card and "Make-up" in coming
    day = to_local(world["soon"], LONDON).date()
    ada_age = age_text(world["babies"]["ada"], day)
    assert "corrected" in ada_age and ada_age in coming
    assert age_text(world["babies"]["kit"], day) in coming
    assert "Needs clearance" in coming and "Allergy: no nut oils" in coming
    assert "Doll today" in coming
    # Open: a check-in button per booked baby (Bea too, should she come) and for Dora
    # making up a week, and All present.
    assert card.count('name="registration_id"') == 4
    assert "All present" in card
    # Tomorrow's class is not open yet: no buttons, and it says when it opens.
    later = _card(page, world["tomorrow_session"].id)
    assert 'name="registration_id"' not in later and "All present" not in later
    assert "Check-in opens at 09:00" in later


def test_one_tap_checks_a_baby_in_and_returns_to_the_session(client, auth, app, world):
    auth.login("teacher@example.org")
    session_id, ada = world["session"].id, world["regs"]["ada"]
    response = client.post(f"/teach/sessions/{session_id}/checkin",
                           data={"registration_id": str(ada)})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/teach#session-{session_id}")
    assert _marks(app, session_id) == {ada: "present"}
    card = _card(client.get("/teach").get_data(as_text=True), session_id)
    assert "Checked in" in card and "1 of 2 booked checked in" in card
    assert card.count('name="registration_id"') == 3
    # Tapping twice changes nothing more.
    client.post(f"/teach/sessions/{session_id}/checkin", data={"registration_id": str(ada)})
    assert _marks(app, session_id) == {ada: "present"}


def test_all_present_marks_everyone_coming_without_a_mark(client, auth, app, world):
    auth.login("teacher@example.org")
    session_id, regs = world["session"].id, world["regs"]
    with app.app_context():
        attendance.mark_attendance(session_id, world["teacher"].id, {regs["ada"]: "absent"})
    response = client.post(f"/teach/sessions/{session_id}/all-present")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"#session-{session_id}")
    # Kit and Dora (making up a week) marked; Ada's own mark stays; Bea told us ahead;
    # the waiting baby is not booked.
    assert _marks(app, session_id) == {regs["ada"]: "absent", regs["kit"]: "present",
                                       regs["dora_origin"]: "present"}
    page = client.get("/teach").get_data(as_text=True)
    assert "2 more babies marked present." in page
    assert "All present" not in _card(page, session_id)
    # The register shows the same marks.
    register = client.get(f"/teach/sessions/{session_id}/register").get_data(as_text=True)
    assert "2 marked present" in register


def test_a_single_class_baby_said_unwell_is_not_expected_nor_marked_present(
    client, auth, app, make_centre, make_user, make_workshop, make_baby
):
    """A single class has no make-up, so "unwell" on "Ready for <day>?" records no
    absence: the baby still counts as away on "Today", and "All present" leaves it."""
    from booking.services.health.readiness import answer_readiness

    centre = make_centre(slug="solo")
    teacher = make_user("solo@example.org", role="instructor", centre=centre)
    soon = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=20)
    single = make_workshop(centre=centre, instructor=teacher, kind="single", starts_at=soon)
    parents = [make_user(f"p{n}@example.org") for n in range(2)]
    regs = [_book(app, p, make_baby(p, name=f"Baby{n}"), single) for n, p in enumerate(parents)]
    session = _first_session(app, single.id)
    with app.app_context():
        answer_readiness(regs[0], session.id, "unwell", parent_id=parents[0].id)
    auth.login("solo@example.org")
    card = _card(client.get("/teach").get_data(as_text=True), session.id)
    assert "1 expected" in card
    assert client.post(f"/teach/sessions/{session.id}/all-present").status_code == 302
    assert _marks(app, session.id) == {regs[1]: "present"}
    # Better after all: the parent says so, and the baby is expected again.
    with app.app_context():
        answer_readiness(regs[0], session.id, "well", parent_id=parents[0].id)
    assert client.post(f"/teach/sessions/{session.id}/all-present").status_code == 302
    assert _marks(app, session.id) == {regs[0]: "present", regs[1]: "present"}


def test_attendance_is_refused_before_the_hour_before_a_session(client, auth, app, world):
    auth.login("teacher@example.org")
    later = world["tomorrow_session"].id
    for url, data in (
        (f"/teach/sessions/{later}/checkin", {"registration_id": world["regs"]["tomorrow"]}),
        (f"/teach/sessions/{later}/all-present", {}),
        (f"/teach/sessions/{later}/register", {f"attendance-{world['regs']['tomorrow']}":
                                              "present"}),
    ):
        response = client.post(url, data=data)
        assert response.status_code == 409, url
        assert "Attendance opens an hour before the session starts" in response.get_data(
            as_text=True
        )
    assert _marks(app, later) == {}
    with app.app_context(), pytest.raises(Conflict):
        attendance.mark_all_present(later, world["teacher"].id)


def test_bad_check_ins_are_refused_and_change_nothing(client, auth, app, make_user, world):
    session_id, regs = world["session"].id, world["regs"]
    url = f"/teach/sessions/{session_id}/checkin"
    anonymous = client.post(url, data={"registration_id": regs["ada"]})
    assert anonymous.status_code == 302 and "/login" in anonymous.location
    auth.login("pat@example.org")
    assert client.post(url, data={"registration_id": regs["ada"]}).status_code == 403
    auth.logout()
    auth.login("other@example.org")
    assert client.post(url, data={"registration_id": regs["ada"]}).status_code == 404
    assert client.post(f"/teach/sessions/{session_id}/all-present").status_code == 404
    auth.logout()
    auth.login("teacher@example.org")
    for data in ({}, {"registration_id": "abc"}, {"registration_id": "99999999999"},
                 {"registration_id": regs["waiting"]}, {"registration_id": regs["tomorrow"]}):
        response = client.post(url, data=data)
        assert response.status_code == 422, data
        assert '<p class="flash flash-error">' in response.get_data(as_text=True)
    waiting = client.post(url, data={"registration_id": regs["waiting"]})
    assert "Not a confirmed place on this session." in waiting.get_data(as_text=True)
    assert client.post("/teach/sessions/999999/checkin",
                       data={"registration_id": regs["ada"]}).status_code == 404
    assert client.get(url).status_code == 405
    assert _marks(app, session_id) == {}


def test_a_cancelled_session_shows_no_buttons_and_refuses_check_in(client, auth, app, world):
    session_id = world["session"].id
    with app.app_context():
        db.session.get(WorkshopSession, session_id).status = "cancelled"
        db.session.commit()
    auth.login("teacher@example.org")
    card = _card(client.get("/teach").get_data(as_text=True), session_id)
    assert "This session was cancelled." in card and "registration_id" not in card
    response = client.post(f"/teach/sessions/{session_id}/checkin",
                           data={"registration_id": world["regs"]["ada"]})
    assert response.status_code == 409
    assert _marks(app, session_id) == {}


def test_teaching_today_service(app, world):
    with app.app_context():
        found = teaching_today(world["teacher"].id)
        titles = [item.workshop.title for item in found]
        assert titles[0] == "Monday massage"
        assert set(titles) == {"Monday massage", "Colic clinic", "Harbour tomorrow"}
        first = found[0]
        assert first.open and first.expected == 3
        assert [e.baby_name for e in first.away] == ["Bea"]
        assert not next(i for i in found if i.workshop.title == "Colic clinic").open
        # Without a viewer who may see them, no health answers are loaded.
        assert all(e.health is None for e in first.coming)
        assert [i.workshop.title for i in teaching_today(world["other"].id)] == ["Not my class"]


def test_today_queries_do_not_grow_with_the_babies_booked(app, client, auth, world,
                                                          make_user, make_baby):
    auth.login("teacher@example.org")

    def count() -> int:
        with app.app_context():
            engine = db.engine
        statements = []

        def on_execute(conn, cursor, statement, parameters, context, executemany):
            statements.append(statement)

        client.get("/teach")
        sa.event.listen(engine, "before_cursor_execute", on_execute)
        try:
            assert client.get("/teach").status_code == 200
        finally:
            sa.event.remove(engine, "before_cursor_execute", on_execute)
        return len(statements)

    few = count()
    for i in range(3):
        parent = make_user(f"more{i}@example.org")
        _book(app, parent, make_baby(parent, name=f"More {i}", age_weeks=10), world["course"])
    assert count() == few



def test_a_make_up_visitor_is_checked_in_and_marked_on_the_register(client, auth, app, world):
    """Dora makes up a missed week of another course here: her mark is recorded against
    her place on that course, for this session, and shows on "Today" and the register."""
    auth.login("teacher@example.org")
    session_id, regs = world["session"].id, world["regs"]
    dora = regs["dora_origin"]
    response = client.post(f"/teach/sessions/{session_id}/checkin",
                           data={"registration_id": str(dora)})
    assert response.status_code == 302
    assert _marks(app, session_id) == {dora: "present"}
    card = _card(client.get("/teach").get_data(as_text=True), session_id)
    assert "1 of 1 make-up checked in" in card and "0 of 2 booked checked in" in card
    makeup_line = card[card.index("<strong>Dora</strong>"):]
    assert "Checked in" in makeup_line.split("</li>")[0]

    url = f"/teach/sessions/{session_id}/register"
    page = client.get(url).get_data(as_text=True)
    assert html_errors({"register": page}) == {"register": []}
    makeups = page[page.index("Make-up from another course"):]
    assert f'name="attendance-{dora}" value="present" checked' in makeups
    assert "1, and 1 make-up" not in page and "3, and 1 make-up · 1 marked present" in page
    # The full register changes her mark like any other, in the same form.
    response = client.post(url, data={f"attendance-{dora}": "absent",
                                      f"attendance-{regs['kit']}": "present"})
    assert response.status_code == 302
    assert _marks(app, session_id) == {dora: "absent", regs["kit"]: "present"}


def test_a_register_with_only_a_make_up_visitor_says_so(client, auth, app, world):
    """Every place on the course gone, the visitor still comes: not "Booked 0"."""
    auth.login("teacher@example.org")
    session_id, regs = world["session"].id, world["regs"]
    with app.app_context():
        for name in ("ada", "bea", "kit"):
            db.session.get(Registration, regs[name]).status = "cancelled"
        db.session.commit()
    page = client.get(f"/teach/sessions/{session_id}/register").get_data(as_text=True)
    assert "<dt>Booked</dt><dd>None from this course, and 1 make-up</dd>" in page
    assert "Make-up from another course" in page


def test_only_this_sessions_make_up_visitors_are_marked_here(client, auth, app, world):
    """A place on another course is marked here only while a make-up from it is booked
    into this session. The make-up is what lets the baby come: it keeps its seat when
    that place is cancelled or moved, and so does the mark."""
    auth.login("teacher@example.org")
    session_id, regs = world["session"].id, world["regs"]
    url = f"/teach/sessions/{session_id}/register"
    refused = client.post(url, data={f"attendance-{regs['tomorrow']}": "present"})
    assert refused.status_code == 422
    assert "Some marks could not be saved; nothing was changed." in refused.get_data(
        as_text=True)
    assert _marks(app, session_id) == {}
    with app.app_context():
        db.session.get(Registration, regs["dora_origin"]).status = "cancelled"
        db.session.commit()
    card = _card(client.get("/teach").get_data(as_text=True), session_id)
    assert card.count('name="registration_id"') == 4
    checked = client.post(f"/teach/sessions/{session_id}/checkin",
                          data={"registration_id": regs["dora_origin"]})
    assert checked.status_code == 302
    assert _marks(app, session_id) == {regs["dora_origin"]: "present"}
    page = client.get(url).get_data(as_text=True)
    assert f'name="attendance-{regs["dora_origin"]}" value="present" checked' in page
    # Once the make-up is gone, the place is nothing to this session.
    with app.app_context():
        makeup_id = db.session.scalar(
            sa.select(MakeupBooking.id).where(MakeupBooking.session_id == session_id)
        )
        cancel_makeup(parent_id=world["babies"]["dora"].parent_id, makeup_id=makeup_id)
    refused = client.post(f"/teach/sessions/{session_id}/checkin",
                          data={"registration_id": regs["dora_origin"]})
    assert refused.status_code == 422
    assert _marks(app, session_id) == {}
    client.post(f"/teach/sessions/{session_id}/all-present")
    assert regs["dora_origin"] not in _marks(app, session_id)


def test_a_make_up_mark_is_in_the_parents_export_under_the_class_it_was_made_in(
    client, auth, app, world
):
    auth.login("teacher@example.org")
    session_id, dora = world["session"].id, world["regs"]["dora_origin"]
    client.post(f"/teach/sessions/{session_id}/checkin", data={"registration_id": str(dora)})
    auth.logout()
    auth.login("dee@example.org")
    data = client.get("/account/export.json").get_json()
    [mark] = data["attendance"]
    assert mark["registration_id"] == dora and mark["status"] == "present"
    assert mark["workshop"] == "Monday massage" and mark["makeup"] is True
    assert mark["session_number"] == 1
    starts = to_local(world["soon"], LONDON).isoformat()
    assert mark["session_starts_at"] == starts


def test_a_make_up_cancelled_after_its_check_in_takes_its_mark_with_it(client, auth, app,
                                                                      world):
    """Check-in opens an hour before a session, and a make-up can be cancelled until it
    starts: a visitor who was checked in and then cancels leaves no mark behind."""
    auth.login("teacher@example.org")
    session_id, regs = world["session"].id, world["regs"]
    client.post(f"/teach/sessions/{session_id}/checkin",
                data={"registration_id": str(regs["dora_origin"])})
    client.post(f"/teach/sessions/{session_id}/checkin", data={"registration_id": str(regs["kit"])})
    with app.app_context():
        makeup_id = db.session.scalar(
            sa.select(MakeupBooking.id).where(MakeupBooking.session_id == session_id)
        )
        cancel_makeup(parent_id=world["babies"]["dora"].parent_id, makeup_id=makeup_id)
    assert _marks(app, session_id) == {regs["kit"]: "present"}
    card = _card(client.get("/teach").get_data(as_text=True), session_id)
    assert "Dora" not in card and "make-up" not in card
