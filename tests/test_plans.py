"""Session plans: the template library, copying a template into a workshop, editing a
week's plan (pages, rights, limits), the class page, calendars, the schedule import and
the staff API."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from icalendar import Calendar

from booking.extensions import db
from booking.models import OutboxMessage, Registration, User, Workshop, WorkshopSession
from booking.models.workshop import KIND_COURSE, KIND_SINGLE, KINDS
from booking.services.accounts import api_tokens
from booking.services.errors import Conflict, Invalid, NotFound
from booking.services.notices.invites import invite_for_registration
from booking.services.plans import apply as plans
from booking.services.plans.templates import (
    MAX_PLAN_COVERS,
    MAX_PLAN_PRACTICE,
    MAX_PLAN_TITLE,
    TEMPLATES,
    get_template,
    template_slugs,
)
from booking.services.schedule.imports import import_schedule
from tests.html_checker import html_errors

FIVE = "five-week-course"
CSV_HEADER = (
    "centre,title,kind,instructor_email,first_session,sessions,duration_minutes,capacity,"
    "min_age_weeks,max_age_weeks,price,description,publish,plan"
)


@pytest.fixture
def world(make_centre, make_user, make_workshop):
    """A centre with its staff, an instructor with a five-week course, and another
    instructor at the same centre."""
    centre = make_centre(slug="riverside", name="Riverside Hub")
    staff = make_user(email="staff@example.org", role="staff", centre=centre)
    teacher = make_user(email="teacher@example.org", role="instructor", centre=centre)
    other = make_user(email="other@example.org", role="instructor", centre=centre)
    course = make_workshop(centre=centre, instructor=teacher, sessions=5, title="Spring course")
    return {"centre": centre, "staff": staff, "teacher": teacher, "other": other,
            "course": course}


def _sessions(workshop_id: int) -> list[WorkshopSession]:
    return list(db.session.scalars(
        sa.select(WorkshopSession).where(WorkshopSession.workshop_id == workshop_id)
        .order_by(WorkshopSession.number)
    ))


def _user(user_id: int) -> User:
    return db.session.get(User, user_id)


def _outbox_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))


# --- the library ------------------------------------------------------------------------


def test_templates_are_well_formed():
    slugs = template_slugs()
    assert len(slugs) == len(set(slugs)) == len(TEMPLATES)
    assert {"five-week-course", "four-week-course", "colic-single",
            "premature-baby-course"} <= set(slugs)
    weeks = {t.slug: len(t.weeks) for t in TEMPLATES}
    assert weeks["five-week-course"] == 5
    assert weeks["four-week-course"] == 4
    assert weeks["colic-single"] == 1
    assert 4 <= weeks["premature-baby-course"] <= 5
    for template in TEMPLATES:
        assert template.kind in KINDS
        assert (template.kind == KIND_SINGLE) == (len(template.weeks) == 1)
        assert template.name and template.description and "\n" not in template.description
        for number, week in enumerate(template.weeks, start=1):
            assert 0 < len(week.title) <= MAX_PLAN_TITLE and "\n" not in week.title
            assert 0 < len(week.covers) <= MAX_PLAN_COVERS
            assert 0 < len(week.practice) <= MAX_PLAN_PRACTICE
            if template.kind == KIND_COURSE:
                assert week.title.startswith(f"Week {number}: ")
            # The practice names how firm and how long, in plain words.
            assert "How firm" in week.practice and "How long" in week.practice or (
                "How often" in week.practice
            )
    five = get_template(FIVE)
    assert five.weeks[1].title == "Week 2: tummy, for wind and colic"
    assert five.weeks[-1].title == "Week 5: the whole routine"
    assert get_template(" Five-Week-Course ") is five
    assert get_template("nine-week-course") is None and get_template(None) is None


def test_readme_lists_every_template_slug():
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Session plans", 1)[1].split("\n## ", 1)[0]
    for slug in template_slugs():
        assert f"`{slug}`" in section


# --- the service --------------------------------------------------------------------------


def test_apply_copies_weeks_and_later_edits_leave_the_template_alone(app, world):
    with app.app_context():
        plans.apply_template(world["course"].id, FIVE)
        sessions = _sessions(world["course"].id)
        assert [s.plan_title for s in sessions] == [w.title for w in get_template(FIVE).weeks]
        assert db.session.get(Workshop, world["course"].id).plan_template == FIVE
        plans.set_session_plan(_user(world["teacher"].id), sessions[1].id,
                               "Week 2: tummy time", "Wind and colic.", "Circles, clockwise.")
        assert get_template(FIVE).weeks[1].title == "Week 2: tummy, for wind and colic"
        assert [s.revision for s in _sessions(world["course"].id)] == [0] * 5


def test_apply_refuses_unknown_slugs_and_the_wrong_kind(app, world, make_workshop):
    single = make_workshop(centre=world["centre"], instructor=world["teacher"], kind="single")
    with app.app_context():
        with pytest.raises(Invalid) as unknown:
            plans.apply_template(world["course"].id, "nine-week-course")
        assert set(unknown.value.fields) == {"plan"}
        assert all(slug in unknown.value.fields["plan"] for slug in template_slugs())
        with pytest.raises(Invalid) as wrong:
            plans.apply_template(single.id, FIVE)
        assert "colic-single" in wrong.value.fields["plan"]
        plans.apply_template(single.id, "colic-single")
        assert _sessions(single.id)[0].plan_title == get_template("colic-single").weeks[0].title


def test_a_shorter_template_leaves_later_sessions_as_they_are(app, make_workshop, world):
    longer = make_workshop(centre=world["centre"], instructor=world["teacher"], sessions=6)
    with app.app_context():
        plans.set_session_plan(_user(world["staff"].id), _sessions(longer.id)[5].id,
                               "Week 6: questions and a recap", "", "")
        plans.apply_template(longer.id, FIVE)
        titles = [s.plan_title for s in _sessions(longer.id)]
    assert titles[4] == "Week 5: the whole routine"
    assert titles[5] == "Week 6: questions and a recap"


def test_plan_parts_are_checked(app, world):
    with app.app_context():
        session_id = _sessions(world["course"].id)[0].id
        teacher = _user(world["teacher"].id)
        with pytest.raises(Invalid) as too_long:
            plans.set_session_plan(teacher, session_id, "x" * (MAX_PLAN_TITLE + 1),
                                   "c" * (MAX_PLAN_COVERS + 1), "p" * (MAX_PLAN_PRACTICE + 1))
        assert set(too_long.value.fields) == {"title", "covers", "practice"}
        with pytest.raises(Invalid) as no_title:
            plans.set_session_plan(teacher, session_id, "", "What it covers", "")
        assert set(no_title.value.fields) == {"title"}
        with pytest.raises(Invalid) as two_lines:
            plans.set_session_plan(teacher, session_id, "Week 1\nlegs", "", "")
        assert "single line" in two_lines.value.fields["title"]
        # At the limits, and cleared again.
        plans.set_session_plan(teacher, session_id, "t" * MAX_PLAN_TITLE,
                               "c" * MAX_PLAN_COVERS, "p" * MAX_PLAN_PRACTICE)
        plans.set_session_plan(teacher, session_id, "", "", "")
        assert not plans.has_plan(db.session.get(WorkshopSession, session_id))


def test_only_staff_of_the_centre_and_the_instructor_write_plans(
    app, world, make_centre, make_user
):
    far_centre = make_centre(slug="far")
    far_staff = make_user(role="staff", centre=far_centre)
    parent = make_user()
    with app.app_context():
        session_id = _sessions(world["course"].id)[0].id
        for who in (world["other"], far_staff, parent):
            with pytest.raises(NotFound):
                plans.set_session_plan(_user(who.id), session_id, "Week 1: legs", "", "")
            with pytest.raises(NotFound):
                plans.start_from_template(_user(who.id), world["course"].id, FIVE)
        with pytest.raises(NotFound):
            plans.plans_page(_user(world["staff"].id), world["course"].id, teaching=True)
        plans.set_session_plan(_user(world["staff"].id), session_id, "Week 1: legs", "", "")
        plans.set_session_plan(_user(world["teacher"].id), session_id, "Week 1: feet", "", "",
                               teaching=True)
        assert db.session.get(WorkshopSession, session_id).plan_title == "Week 1: feet"


def test_starting_again_over_written_plans_asks_first(app, world):
    with app.app_context():
        staff = _user(world["staff"].id)
        plans.start_from_template(staff, world["course"].id, "four-week-course")
        with pytest.raises(Invalid) as asked:
            plans.start_from_template(staff, world["course"].id, FIVE)
        assert set(asked.value.fields) == {"replace"}
        assert _sessions(world["course"].id)[2].plan_title == "Week 3: chest, arms and face"
        plans.start_from_template(staff, world["course"].id, FIVE, replace=True)
        assert _sessions(world["course"].id)[2].plan_title == "Week 3: chest and arms"


def test_a_cancelled_workshops_plans_no_longer_change(app, world):
    from booking.services.schedule.edit import cancel_workshop

    with app.app_context():
        cancel_workshop(world["course"].id)
        with pytest.raises(Conflict):
            plans.apply_template(world["course"].id, FIVE)
        with pytest.raises(Conflict):
            plans.set_session_plan(_user(world["staff"].id),
                                   _sessions(world["course"].id)[0].id, "Week 1", "", "")


# --- the pages ----------------------------------------------------------------------------


def _plan_form(workshop_id: int, changes: dict | None = None) -> dict:
    """The plans form as the page fills it, with `changes` as {(index, part): value}."""
    data = {}
    for index, session in enumerate(_sessions(workshop_id)):
        data[f"weeks-{index}-session_id"] = str(session.id)
        for part in ("title", "covers", "practice"):
            data[f"weeks-{index}-{part}"] = getattr(session, f"plan_{part}")
    for (index, part), value in (changes or {}).items():
        data[f"weeks-{index}-{part}"] = value
    return data


def test_staff_start_a_course_from_the_five_week_template(app, client, auth, world):
    course = world["course"]
    auth.login("staff@example.org")
    page = client.get(f"/manage/workshops/{course.id}")
    assert f"/manage/workshops/{course.id}/plans" in page.get_data(as_text=True)
    answer = client.post(f"/manage/workshops/{course.id}/plans", data={"template": FIVE})
    assert answer.status_code == 302
    html = client.get(f"/classes/{course.id}").get_data(as_text=True)
    assert "What you&#39;ll learn each week" in html or "What you'll learn each week" in html
    for week in get_template(FIVE).weeks:
        assert week.title in html
        assert week.covers[:40] in html
    # Starting again over the plans asks for the tick.
    again = client.post(f"/manage/workshops/{course.id}/plans",
                        data={"template": "four-week-course"})
    assert again.status_code == 422
    assert "Replace the plans already written" in again.get_data(as_text=True)
    replaced = client.post(f"/manage/workshops/{course.id}/plans",
                           data={"template": "four-week-course", "replace": "y"})
    assert replaced.status_code == 302
    with app.app_context():
        assert _sessions(course.id)[3].plan_title == "Week 4: back and the whole routine"
        assert _sessions(course.id)[4].plan_title == "Week 5: the whole routine"


def _new_workshop_form(world, **overrides) -> dict:
    data = {
        "kind": "course", "title": "Autumn baby massage", "description": "",
        "what_to_bring": "", "instructor_id": str(world["teacher"].id),
        "first_date": (date.today() + timedelta(days=30)).isoformat(), "first_time": "10:30",
        "sessions": "5", "duration_minutes": "60", "room": "", "capacity": "8",
        "min_age_weeks": "6", "max_age_weeks": "30", "price": "45.00",
        "cancellation_cutoff_hours": "24", "held_places": "0", "late_join_until": "1",
        "publish": "y",
    }
    data.update(overrides)
    return data


def test_the_new_workshop_form_offers_the_templates(app, client, auth, world):
    url = f"/manage/centres/{world['centre'].id}/workshops/new"
    auth.login("staff@example.org")
    assert FIVE in client.get(url).get_data(as_text=True)
    wrong = client.post(url, data=_new_workshop_form(world, plan="colic-single"))
    assert wrong.status_code == 422
    assert 'id="plan-error"' in wrong.get_data(as_text=True)
    created = client.post(url, data=_new_workshop_form(world, plan=FIVE))
    assert created.status_code == 302
    plain = client.post(url, data=_new_workshop_form(world, title="Plain course",
                                                     first_time="14:00"))
    assert plain.status_code == 302
    with app.app_context():
        autumn = db.session.scalar(sa.select(Workshop).where(Workshop.title.like("Autumn%")))
        assert [s.plan_title for s in _sessions(autumn.id)][1] == (
            "Week 2: tummy, for wind and colic"
        )
        other = db.session.scalar(sa.select(Workshop).where(Workshop.title == "Plain course"))
        assert other.plan_template == ""
        assert not any(plans.has_plan(s) for s in _sessions(other.id))


def test_class_page_without_plans_has_no_heading(client, world):
    html = client.get(f"/classes/{world['course'].id}").get_data(as_text=True)
    assert "learn each week" not in html


def test_the_page_answers_422_by_field(app, client, auth, world):
    course = world["course"]
    auth.login("teacher@example.org")
    roster = client.get(f"/teach/workshops/{course.id}").get_data(as_text=True)
    assert f"/teach/workshops/{course.id}/plans" in roster
    with app.app_context():
        data = _plan_form(course.id, {(1, "title"): "x" * 121, (2, "covers"): "No title"})
    answer = client.post(f"/teach/workshops/{course.id}/plans", data=data)
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert 'id="weeks-1-title-error"' in html and "at most 120 characters" in html
    assert 'id="weeks-2-title-error"' in html
    assert 'href="#weeks-1-title"' in html
    with app.app_context():
        assert not any(plans.has_plan(s) for s in _sessions(course.id))


def test_instructor_edits_week_two_feed_changes_and_nobody_is_emailed(
    app, client, auth, world, make_user, make_baby
):
    course = world["course"]
    parent = make_user(email="parent@example.org")
    baby = make_baby(parent)
    with app.app_context():
        plans.apply_template(course.id, FIVE)
        now = datetime.now(UTC)
        db.session.add(Registration(workshop_id=course.id, baby_id=baby.id,
                                    parent_id=parent.id, status="confirmed",
                                    consent_at=now, confirmed_at=now))
        db.session.get(Workshop, course.id).confirmed_count += 1
        db.session.commit()
        registration_id = db.session.scalar(sa.select(Registration.id))
        week_two = _sessions(course.id)[1]
        week_two_id, revision = week_two.id, week_two.revision
    feed_url = "/feeds/centres/riverside.ics"
    before = client.get(feed_url)
    assert before.status_code == 200
    event = _event(before, week_two_id)
    assert str(event["DESCRIPTION"]).split("\n")[0] == "Week 2: tummy, for wind and colic"
    with app.app_context():
        emails = _outbox_count()

    auth.login("teacher@example.org")
    with app.app_context():
        data = _plan_form(course.id, {(1, "title"): "Week 2: tummy and wind"})
    answer = client.post(f"/teach/workshops/{course.id}/plans", data=data)
    assert answer.status_code == 302

    after = client.get(feed_url)
    assert after.headers["ETag"] != before.headers["ETag"]
    assert str(_event(after, week_two_id)["DESCRIPTION"]).split("\n")[0] == (
        "Week 2: tummy and wind"
    )
    assert client.get(feed_url, headers={"If-None-Match": before.headers["ETag"]}
                      ).status_code == 200
    with app.app_context():
        assert _outbox_count() == emails
        assert db.session.get(WorkshopSession, week_two_id).revision == revision
        invite = Calendar.from_ical(invite_for_registration(registration_id))
        descriptions = [str(e["DESCRIPTION"]) for e in invite.walk("VEVENT")]
        assert descriptions[1].startswith("Week 2: tummy and wind\n")
        assert descriptions[0].startswith("Week 1: legs and feet\n")
    register = client.get(f"/teach/sessions/{week_two_id}/register").get_data(as_text=True)
    assert "Week 2: tummy and wind" in register


def _event(response, session_id: int):
    cal = Calendar.from_ical(response.get_data())
    return next(e for e in cal.walk("VEVENT") if str(e["UID"]).startswith(
        f"session-{session_id}@"))


def test_another_instructor_gets_404(client, auth, world):
    auth.login("other@example.org")
    url = f"/teach/workshops/{world['course'].id}/plans"
    assert client.get(url).status_code == 404
    assert client.post(url, data={"template": FIVE}).status_code == 404
    auth.logout()
    auth.login("staff@example.org")
    assert client.get(url).status_code == 403  # staff use the staff page


def test_staff_of_another_centre_get_404(client, auth, world, make_centre, make_user):
    far = make_centre(slug="far")
    make_user(email="far@example.org", role="staff", centre=far)
    auth.login("far@example.org")
    url = f"/manage/workshops/{world['course'].id}/plans"
    assert client.get(url).status_code == 404
    assert client.post(url, data={"template": FIVE}).status_code == 404


def test_new_pages_are_valid_html(app, client, auth, world):
    course = world["course"]
    with app.app_context():
        plans.apply_template(course.id, FIVE)
    auth.login("staff@example.org")
    pages = {
        "staff plans": client.get(f"/manage/workshops/{course.id}/plans"),
        "staff refused template": client.post(f"/manage/workshops/{course.id}/plans",
                                              data={"template": "four-week-course"}),
    }
    auth.logout()
    auth.login("teacher@example.org")
    with app.app_context():
        data = _plan_form(course.id, {(0, "title"): "x" * 200, (3, "title"): ""})
    pages["teach plans"] = client.get(f"/teach/workshops/{course.id}/plans")
    pages["teach refused plans"] = client.post(f"/teach/workshops/{course.id}/plans", data=data)
    pages["teach roster"] = client.get(f"/teach/workshops/{course.id}")
    pages["class page"] = client.get(f"/classes/{course.id}")
    statuses = {label: r.status_code for label, r in pages.items()}
    assert statuses["staff refused template"] == statuses["teach refused plans"] == 422
    html = {label: r.get_data(as_text=True) for label, r in pages.items()}
    errors = html_errors(html)
    assert set(errors) == set(html)
    invalid = {label: problems for label, problems in errors.items() if problems}
    assert not invalid, invalid


# --- the schedule import --------------------------------------------------------------------


def _csv(*rows: str) -> str:
    return "\n".join((CSV_HEADER, *rows)) + "\n"


def _row(title: str, plan: str, kind: str = "course", sessions: str = "5",
         at: str = "10:00") -> str:
    day = (date.today() + timedelta(days=30)).isoformat()
    return (f"riverside,{title},{kind},teacher@example.org,{day} {at},{sessions},60,8,6,52,"
            f"45.00,Gentle strokes,yes,{plan}")


def test_import_with_a_plan_fills_the_sessions(app, world):
    with app.app_context():
        result = import_schedule(
            _csv(_row("Autumn course", FIVE), _row("Winter course", "", at="14:00"))
        )
        assert result.created, [str(e) for e in result.errors]
        autumn, winter = (db.session.get(Workshop, i) for i in result.workshop_ids)
        assert autumn.plan_template == FIVE
        assert [s.plan_title for s in _sessions(autumn.id)] == [
            w.title for w in get_template(FIVE).weeks
        ]
        assert not any(plans.has_plan(s) for s in _sessions(winter.id))
        assert "plan five-week-course" in result.rows[0].describe()


def test_import_refuses_an_unknown_plan_by_row_and_column(app, world):
    with app.app_context():
        count = db.session.scalar(sa.select(sa.func.count()).select_from(Workshop))
        result = import_schedule(_csv(
            _row("Autumn course", FIVE),
            _row("Winter course", "six-week-course"),
            _row("Colic class", FIVE, kind="single", sessions=""),
        ))
        assert not result.created
        errors = [(e.row, e.column) for e in result.errors]
        assert errors == [(3, "plan"), (4, "plan")]
        assert "five-week-course" in str(result.errors[0])
        assert str(result.errors[0]).startswith("row 3, column plan: ")
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Workshop)) == count


# --- the staff API ----------------------------------------------------------------------------


def _api(client, method, url, token, body):
    return client.open(url, method=method, data=json.dumps(body),
                       headers={"Authorization": f"Bearer {token}",
                                "Content-Type": "application/json"})


def _new_workshop(**extra) -> dict:
    return {
        "centre": "riverside", "title": "Summer course", "kind": "course",
        "instructor_email": "teacher@example.org",
        "first_session": (date.today() + timedelta(days=20)).isoformat() + " 10:00",
        "sessions": 5, "duration_minutes": 60, "capacity": 8, "min_age_weeks": 6,
        "max_age_weeks": 30, "price": "45.00", **extra,
    }


def test_api_creates_a_workshop_with_a_plan(app, client, world):
    with app.app_context():
        token = api_tokens.create_token(world["staff"].id, "plans")[1]
    answer = _api(client, "POST", "/api/v1/workshops", token, _new_workshop(plan=FIVE))
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    assert body["plan"] == FIVE
    assert [s["title"] for s in body["sessions"]] == [w.title for w in get_template(FIVE).weeks]

    changed = _api(client, "PATCH", f"/api/v1/workshops/{body['id']}", token,
                   {"plan": "four-week-course", "capacity": 9})
    assert changed.status_code == 200, changed.get_json()
    after = changed.get_json()
    assert after["plan"] == "four-week-course" and after["capacity"] == 9
    assert after["sessions"][3]["title"] == "Week 4: back and the whole routine"
    assert after["sessions"][4]["title"] == "Week 5: the whole routine"


def test_api_refuses_a_bad_plan_naming_the_field(app, client, world):
    with app.app_context():
        token = api_tokens.create_token(world["staff"].id, "plans")[1]
        count = db.session.scalar(sa.select(sa.func.count()).select_from(Workshop))
    for plan in ("nine-week-course", "", "Five-Week-Course", 5):
        answer = _api(client, "POST", "/api/v1/workshops", token, _new_workshop(plan=plan))
        assert answer.status_code == 422, plan
        assert set(answer.get_json()["error"]["fields"]) == {"plan"}, plan
    single = _api(client, "POST", "/api/v1/workshops", token,
                  _new_workshop(kind="single", sessions=1, plan=FIVE))
    assert single.status_code == 422
    assert "colic-single" in single.get_json()["error"]["fields"]["plan"]
    patch = _api(client, "PATCH", f"/api/v1/workshops/{world['course'].id}", token,
                 {"plan": "nine-week-course", "capacity": 9})
    assert patch.status_code == 422
    assert set(patch.get_json()["error"]["fields"]) == {"plan"}
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Workshop)) == count
        assert db.session.get(Workshop, world["course"].id).capacity == 8


def test_openapi_documents_the_plan_field(client):
    document = client.get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    for name in ("CreateWorkshop", "UpdateWorkshop"):
        plan = schemas[name]["properties"]["plan"]
        assert plan["enum"] == list(template_slugs())


# --- the demo -----------------------------------------------------------------------------


def test_demo_courses_get_plans_from_the_templates(app, runner):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    with app.app_context():
        workshops = db.session.scalars(sa.select(Workshop)).all()
        by_title = {w.title: w for w in workshops}
        five = by_title["Baby massage: five-week course"]
        assert five.plan_template == FIVE
        assert [s.plan_title for s in _sessions(five.id)] == [
            w.title for w in get_template(FIVE).weeks
        ]
        assert by_title["Colic and wind relief massage"].plan_template == "colic-single"
        for workshop in workshops:
            if workshop.plan_template:
                template = get_template(workshop.plan_template)
                assert template.kind == workshop.kind
                assert len(template.weeks) == len(_sessions(workshop.id)), workshop.title


def test_a_session_sent_twice_is_refused_rather_than_overwritten(app, client, auth, world):
    """Week 2's row sent with week 1's session id saved week 2's words as week 1's plan
    ("The plans are saved."): refused, nothing written."""
    course = world["course"]
    auth.login("teacher@example.org")
    with app.app_context():
        data = _plan_form(course.id, {(0, "title"): "Legs", (1, "title"): "Tummy"})
        data["weeks-1-session_id"] = data["weeks-0-session_id"]
    answer = client.post(f"/teach/workshops/{course.id}/plans", data=data)
    assert answer.status_code == 400
    assert "appears twice" in answer.get_data(as_text=True)
    with app.app_context():
        assert not any(plans.has_plan(s) for s in _sessions(course.id))


def test_a_template_longer_than_the_class_says_which_weeks_it_left_out(
    app, client, auth, world, make_workshop
):
    """A four-week course started from the five-week template lost "the whole routine"
    week without a word."""
    short = make_workshop(centre=world["centre"], instructor=world["teacher"], sessions=4)
    auth.login("staff@example.org")
    done = client.post(f"/manage/workshops/{short.id}/plans", data={"template": FIVE},
                       follow_redirects=True)
    text = " ".join(done.get_data(as_text=True).split())
    last = get_template(FIVE).weeks[4].title
    assert ("This class has 4 weeks, so the template&#39;s week after that "
            f"(“{last}”) was not copied") in text
    done = client.post(f"/manage/workshops/{world['course'].id}/plans",
                       data={"template": FIVE}, follow_redirects=True)
    assert "was not copied" not in done.get_data(as_text=True)
