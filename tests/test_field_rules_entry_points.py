"""The same bad value gets the same refusal from every entry point: the staff API, the
back-office forms and the schedule CSV upload; odd dates are a 422, never a 500; and a
refused instructor never reveals whose id or address it was."""

import io
import re
from datetime import date, timedelta
from html import unescape

import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import Workshop, WorkshopSession
from booking.services.accounts import api_tokens
from booking.services.schedule.fields import NOT_AN_INSTRUCTOR

DAY = (date.today() + timedelta(days=30)).isoformat()
CSV_HEADER = (
    "centre,title,kind,instructor_email,first_session,sessions,duration_minutes,capacity,"
    "min_age_weeks,max_age_weeks,price,description,publish"
)
TEXT_REFUSED = "must not contain control characters or text-direction overrides"
CAPACITY_REFUSED = "capacity must be between 1 and 100"
DATE_REFUSED = "must be a date between the years 1970 and 2999"
SIGN_REFUSED = "type the price without a sign, or with £."


@pytest.fixture
def world(app, make_centre, make_user, make_workshop):
    """A centre with staff (and an API token), an instructor and a course; another centre
    with its own instructor; an admin and a parent."""
    centre = make_centre(slug="riverside", name="Riverside Hub")
    other = make_centre(slug="hilltop", name="Hilltop Clinic")
    staff = make_user("staff@example.org", role="staff", centre=centre)
    teacher = make_user("teach@example.org", role="instructor", centre=centre)
    people = {
        "admin": make_user("admin@example.org", role="admin"),
        "parent": make_user("parent@example.org"),
        "far": make_user("far@example.org", role="instructor", centre=other),
        "staff": staff,
    }
    course = make_workshop(centre=centre, instructor=teacher, sessions=3, capacity=4)
    with app.app_context():
        token = api_tokens.create_token(staff.id, "sync")[1]
        session_id = db.session.scalar(
            sa.select(WorkshopSession.id).where(WorkshopSession.workshop_id == course.id)
        )
        last_session_id = db.session.scalar(
            sa.select(WorkshopSession.id).where(WorkshopSession.workshop_id == course.id)
            .order_by(WorkshopSession.number.desc()).limit(1)
        )
    return {"centre": centre, "teacher": teacher, "course": course, "token": token,
            "session_id": session_id, "last_session_id": last_session_id, **people}


def api(client, world, method, url, body):
    return client.open(url, method=method, json=body,
                       headers={"Authorization": f"Bearer {world['token']}"})


def api_body(**overrides):
    body = {
        "centre": "riverside", "title": "Spring course", "kind": "course",
        "instructor_email": "teach@example.org", "first_session": f"{DAY} 10:00",
        "sessions": 4, "duration_minutes": 60, "capacity": 8, "min_age_weeks": 6,
        "max_age_weeks": 30, "price": "45.00",
    }
    body.update(overrides)
    return body


def form_data(world, **overrides):
    data = {
        "kind": "course", "title": "Spring course", "description": "", "what_to_bring": "",
        "instructor_id": str(world["teacher"].id), "first_date": DAY, "first_time": "10:30",
        "sessions": "4", "duration_minutes": "60", "room": "", "capacity": "8",
        "min_age_weeks": "6", "max_age_weeks": "30", "price": "45.00",
        "cancellation_cutoff_hours": "24", "held_places": "0", "late_join_until": "1",
    }
    data.update(overrides)
    return data


def csv_row(**overrides) -> str:
    values = {
        "centre": "riverside", "title": "Spring course", "kind": "course",
        "instructor_email": "teach@example.org", "first_session": f"{DAY} 10:00",
        "sessions": "4", "duration_minutes": "60", "capacity": "8", "min_age_weeks": "6",
        "max_age_weeks": "30", "price": "45.00", "description": "Gentle strokes",
        "publish": "yes",
    }
    values.update(overrides)
    return ",".join(values[name] for name in CSV_HEADER.split(","))


def upload(client, text: str):
    return client.post(
        "/manage/import",
        data={"file": (io.BytesIO(text.encode("utf-8")), "term.csv")},
        content_type="multipart/form-data",
    )


def page_text(response) -> str:
    text = re.sub(r"<[^>]+>", "", response.get_data(as_text=True))
    return unescape(re.sub(r"\s+", " ", text)).lower()


def api_refusal(response, field: str) -> str:
    assert response.status_code == 422, response.get_json()
    fields = response.get_json()["error"]["fields"]
    assert field in fields, fields
    return fields[field].lower()


# Each entry point: send(client, world, field, value) -> the refusal's text, lower case.


def _api_create(client, world, field, value):
    name = {"first_date": "first_session"}.get(field, field)
    if name == "first_session" and isinstance(value, str) and len(value) == 10:
        value = f"{value} 10:00"
    return api_refusal(api(client, world, "POST", "/api/v1/workshops",
                           api_body(**{name: value})), name)


def _api_patch_workshop(client, world, field, value):
    url = f"/api/v1/workshops/{world['course'].id}"
    return api_refusal(api(client, world, "PATCH", url, {field: value}), field)


def _api_patch_session(client, world, field, value):
    name = {"first_date": "starts_at"}.get(field, field)
    if name == "starts_at" and len(value) == 10:
        value = f"{value} 10:00"
    url = f"/api/v1/sessions/{world['session_id']}"
    return api_refusal(api(client, world, "PATCH", url, {name: value}), name)


def _form(client, url, data):
    response = client.post(url, data=data)
    assert response.status_code == 422, response.status_code
    return page_text(response)


def _form_create(client, world, field, value):
    url = f"/manage/centres/{world['centre'].id}/workshops/new"
    return _form(client, url, form_data(world, **{field: str(value)}))


def _form_edit(client, world, field, value):
    data = form_data(world, **{field: value})
    data = {k: data[k] for k in ("title", "description", "what_to_bring", "instructor_id",
                                  "min_age_weeks", "max_age_weeks", "price",
                                  "cancellation_cutoff_hours")}
    return _form(client, f"/manage/workshops/{world['course'].id}/edit", data)


def _form_capacity(client, world, field, value):
    return _form(client, f"/manage/workshops/{world['course'].id}/capacity",
                 {"capacity": str(value)})


def _form_session(client, world, field, value):
    data = {"date": DAY, "time": "10:00", "duration_minutes": "60", "room": ""}
    data[{"first_date": "date"}.get(field, field)] = value
    return _form(client, f"/manage/sessions/{world['session_id']}/move", data)


def _csv_upload(client, world, field, value):
    column = {"first_date": "first_session"}.get(field, field)
    if column == "first_session" and len(value) == 10:
        value = f"{value} 10:00"
    response = upload(client, "\n".join([CSV_HEADER, csv_row(**{column: str(value)})]) + "\n")
    assert response.status_code == 422, response.status_code
    text = page_text(response)
    assert f"row 2, column {column}:" in text
    return text


ENTRY_POINTS = {
    "title": [_api_create, _api_patch_workshop, _form_create, _form_edit, _csv_upload],
    "description": [_api_create, _api_patch_workshop, _form_create, _form_edit, _csv_upload],
    "room": [_api_create, _api_patch_session, _form_create, _form_session],
    "capacity": [_api_create, _api_patch_workshop, _form_create, _form_capacity, _csv_upload],
    "first_date": [_api_create, _api_patch_session, _form_create, _form_session, _csv_upload],
    "price": [_api_create, _api_patch_workshop, _form_create, _form_edit, _csv_upload],
}
CASES = [
    *[(field, f"Baby {bad}massage", TEXT_REFUSED)
      for field in ("title", "description", "room")
      for bad in ("\u202e", "\u2067", "\u202a", "\x85", "\x9b")],
    *[("capacity", value, CAPACITY_REFUSED) for value in (0, 101, 500, 1000)],
    *[("first_date", value, DATE_REFUSED) for value in ("9999-12-31", "1969-12-31")],
    # The centre prices in pounds: another currency's sign is not read as £.
    *[("price", value, SIGN_REFUSED) for value in ("€45", "$45", "A$45", "¥45")],
]
PARAMS = [
    pytest.param(field, value, expected, send,
                 id=f"{field}-{value!a}-{send.__name__.strip('_')}")
    for field, value, expected in CASES
    for send in ENTRY_POINTS[field]
]


NOT_ASCII_NUMBERS = [("price", "\u0664\u0665"), ("price", "4_5"), ("capacity", "\u0668"),
                     ("min_age_weeks", "\uff16"), ("cancellation_cutoff_hours", "2e1")]


@pytest.mark.parametrize(
    ("send", "field", "value"),
    [(send, field, value)
     for send in (_api_create, _form_create, _csv_upload)
     for field, value in NOT_ASCII_NUMBERS
     # The schedule has no cut-off column.
     if not (send is _csv_upload and field == "cancellation_cutoff_hours")],
)
def test_numbers_are_ascii_digits_at_every_entry_point(app, client, auth, world, field, value,
                                                       send):
    """int() and Decimal() read other scripts' digits, underscores and exponents; the
    staff API, the back-office forms and the schedule import all refuse them."""
    auth.login("staff@example.org")
    send(client, world, field, value)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Workshop.id))) == 1


@pytest.mark.parametrize("field, value, expected, send", PARAMS)
def test_every_entry_point_refuses_the_same_value_the_same_way(
    app, client, auth, world, field, value, expected, send
):
    auth.login("staff@example.org")
    assert expected in send(client, world, field, value)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Workshop.id))) == 1
        course = db.session.get(Workshop, world["course"].id)
        assert (course.title, course.capacity) == ("Baby massage", 4)
        rooms = set(db.session.scalars(sa.select(WorkshopSession.room)))
        assert rooms <= {"", None}


@pytest.mark.parametrize("bad", ["\x00", "\x1b", "\x7f", "\u202e"],
                         ids=lambda c: f"U+{ord(c):04X}")
@pytest.mark.parametrize("field", ["title", "description"])
def test_api_patch_refuses_control_characters_in_text(app, client, world, field, bad):
    url = f"/api/v1/workshops/{world['course'].id}"
    response = api(client, world, "PATCH", url, {field: f"Baby {bad}massage"})
    assert response.status_code in (400, 422)
    assert field in response.get_json()["error"]["fields"]
    with app.app_context():
        course = db.session.get(Workshop, world["course"].id)
        assert bad not in course.title + course.description


@pytest.mark.parametrize("bad", ["\x1b", "\u202e", "\x85"], ids=lambda c: f"U+{ord(c):04X}")
def test_api_session_room_refuses_control_characters(app, client, world, bad):
    url = f"/api/v1/sessions/{world['session_id']}"
    response = api(client, world, "PATCH", url, {"room": f"Room {bad}1"})
    assert response.status_code == 422
    assert "room" in response.get_json()["error"]["fields"]
    with app.app_context():
        assert db.session.get(WorkshopSession, world["session_id"]).room in ("", None)


# --- odd dates: 422 everywhere, never an overflow ------------------------------------


@pytest.mark.parametrize(
    "value",
    ["9999-12-31 23:59", "9999-12-31T23:00:00+00:00", "0001-01-01T00:00:00+14:00",
     "0001-01-01 00:00", "2999-12-31T23:00:00-14:00"],
)
def test_api_refuses_times_outside_the_window(app, client, world, value):
    response = api(client, world, "POST", "/api/v1/workshops", api_body(first_session=value))
    assert DATE_REFUSED in api_refusal(response, "first_session")
    single = api_body(first_session=value, kind="single")
    del single["sessions"]
    response = api(client, world, "POST", "/api/v1/workshops", single)
    assert DATE_REFUSED in api_refusal(response, "first_session")
    url = f"/api/v1/sessions/{world['session_id']}"
    for field in ("starts_at", "ends_at"):
        response = api(client, world, "PATCH", url, {field: value})
        assert DATE_REFUSED in api_refusal(response, field)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Workshop.id))) == 1


def test_a_course_running_past_2999_is_refused(app, client, auth, world):
    """Only the first date is typed, but every week of the course must be kept too."""
    body = api_body(first_session="2999-12-20 10:00", sessions=4)  # week 4 in 3000
    response = api(client, world, "POST", "/api/v1/workshops", body)
    assert f"the last session {DATE_REFUSED}" in api_refusal(response, "sessions")
    late = api_body(first_session="2999-12-31 23:30", kind="single", duration_minutes=60)
    del late["sessions"]
    response = api(client, world, "POST", "/api/v1/workshops", late)
    assert f"the session {DATE_REFUSED}" in api_refusal(response, "first_session")
    response = api(client, world, "POST", "/api/v1/workshops",
                   api_body(first_session="2999-12-17 10:00", sessions=3))
    assert response.status_code == 201, response.get_json()
    auth.login("staff@example.org")
    url = f"/manage/centres/{world['centre'].id}/workshops/new"
    response = client.post(url, data=form_data(world, first_date="2999-12-24", title="Late"))
    assert response.status_code == 422
    assert f"the last session {DATE_REFUSED}" in page_text(response).lower()
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Workshop.id))) == 2


def test_a_session_moved_to_end_after_2999_is_refused(app, client, world):
    """A start at 23:30 on the last day kept, an hour long, would end in 3000. (The last
    session moves: an earlier one may not pass the others.)"""
    url = f"/api/v1/sessions/{world['last_session_id']}"
    response = api(client, world, "PATCH", url, {"starts_at": "2999-12-31 23:30"})
    assert response.status_code == 422, response.get_json()
    assert "The session's end must be a date between the years 1970 and 2999" in (
        response.get_data(as_text=True))
    response = api(client, world, "PATCH", url, {"starts_at": "2999-12-31 20:00"})
    assert response.status_code == 200, response.get_json()


def test_csv_preview_and_command_refuse_year_9999(app, client, auth, world, runner, tmp_path):
    auth.login("staff@example.org")
    text = "\n".join([CSV_HEADER, csv_row(first_session="9999-12-31 23:30")]) + "\n"
    response = upload(client, text)
    assert response.status_code == 422
    assert f"row 2, column first_session: first session {DATE_REFUSED}" in page_text(response)
    path = tmp_path / "term.csv"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(args=["import-schedule", str(path), "--dry-run"])
    assert result.exit_code == 1
    assert DATE_REFUSED in result.output.lower()


def test_form_refuses_year_9999(app, client, auth, world):
    auth.login("staff@example.org")
    url = f"/manage/centres/{world['centre'].id}/workshops/new"
    for kind in ("course", "single"):
        response = client.post(url, data=form_data(world, kind=kind, first_date="9999-12-31"))
        assert response.status_code == 422
        assert f"first session {DATE_REFUSED}" in page_text(response)


# --- a single needs no session count -------------------------------------------------


def test_api_creates_a_single_without_a_session_count(app, client, world):
    body = api_body(kind="single", title="Colic drop-in", capacity=6)
    del body["sessions"]
    response = api(client, world, "POST", "/api/v1/workshops", body)
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["kind"] == "single"
    assert len(created["sessions"]) == 1
    body["sessions"] = 2
    response = api(client, world, "POST", "/api/v1/workshops", body)
    assert "exactly one session" in api_refusal(response, "sessions")


# --- a refused instructor says nothing about the person ------------------------------


def test_api_gives_one_answer_for_every_non_instructor(app, client, world):
    people = [world[k] for k in ("admin", "parent", "far", "staff")]
    bodies = set()
    for instructor_id in [p.id for p in people] + [999999, 0, -5]:
        response = api(client, world, "POST", "/api/v1/workshops",
                       _with_instructor_id(instructor_id))
        assert response.status_code == 422
        bodies.add(response.get_data(as_text=True))
    assert len(bodies) == 1, bodies
    [only] = bodies
    assert NOT_AN_INSTRUCTOR in only and "@" not in only
    bodies = set()
    for email in [p.email for p in people] + ["nobody@example.org", "FAR@example.org "]:
        response = api(client, world, "POST", "/api/v1/workshops",
                       api_body(instructor_email=email))
        assert response.status_code == 422
        bodies.add(response.get_data(as_text=True))
    assert len(bodies) == 1, bodies
    [only] = bodies
    assert NOT_AN_INSTRUCTOR in only and "@" not in only
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Workshop.id))) == 1


def _with_instructor_id(instructor_id: int) -> dict:
    body = api_body(instructor_id=instructor_id)
    del body["instructor_email"]
    return body


def test_api_patch_gives_one_answer_for_every_non_instructor(client, world):
    url = f"/api/v1/workshops/{world['course'].id}"
    answers = {
        api(client, world, "PATCH", url, {"instructor_id": i}).get_data(as_text=True)
        for i in [world[k].id for k in ("admin", "parent", "far", "staff")] + [999999]
    }
    assert len(answers) == 1
    assert NOT_AN_INSTRUCTOR in answers.pop()


def test_csv_gives_one_answer_for_every_non_instructor(client, auth, world):
    auth.login("staff@example.org")
    answers = set()
    for email in ("admin@example.org", "parent@example.org", "far@example.org",
                  "staff@example.org", "nobody@example.org"):
        response = upload(client, "\n".join([CSV_HEADER, csv_row(instructor_email=email)]))
        assert response.status_code == 422
        found = re.search(r"row 2, column instructor_email: [^.]*\.", page_text(response))
        answers.add(found.group())
    assert answers == {"row 2, column instructor_email: " + NOT_AN_INSTRUCTOR.lower()}


def test_form_gives_one_answer_for_every_non_instructor(client, auth, world):
    auth.login("staff@example.org")
    url = f"/manage/centres/{world['centre'].id}/workshops/new"
    for key in ("admin", "parent", "far", "staff", None):
        instructor_id = str(world[key].id) if key else "999999"
        response = client.post(url, data=form_data(world, instructor_id=instructor_id))
        assert response.status_code == 422
        body = response.get_data(as_text=True)
        assert "Not a valid choice" in body
        assert key is None or world[key].email not in body


def test_every_entry_point_takes_a_price_with_the_centres_own_sign(app, client, auth, world):
    auth.login("staff@example.org")
    url = f"/manage/centres/{world['centre'].id}/workshops/new"
    response = client.post(url, data=form_data(world, price="£45", title="By form"))
    assert response.status_code == 302
    edit = form_data(world, price="£50")
    edit = {k: edit[k] for k in ("title", "description", "what_to_bring", "instructor_id",
                                  "min_age_weeks", "max_age_weeks", "price",
                                  "cancellation_cutoff_hours")}
    response = client.post(f"/manage/workshops/{world['course'].id}/edit", data=edit)
    assert response.status_code == 302
    response = api(client, world, "POST", "/api/v1/workshops",
                   api_body(price="£45", title="By API", first_session=f"{DAY} 14:00"))
    assert response.status_code == 201, response.get_json()
    response = upload(client, "\n".join([CSV_HEADER, csv_row(price="£45", title="By CSV",
                                                        first_session=f"{DAY} 16:00")]))
    assert response.status_code == 200
    with app.app_context():
        rows = db.session.execute(sa.select(Workshop.title, Workshop.price))
        prices = {title: price for title, price in rows}
    # The course is edited (and renamed) by the form; the CSV was only previewed.
    assert prices == {"Spring course": 50, "By form": 45, "By API": 45}
