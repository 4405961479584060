"""The staff JSON API: bearer tokens, permissions, creating and changing workshops and
sessions (with the same emails as the pages), registrations, and bad input."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import (
    OutboxMessage,
    Registration,
    Workshop,
    WorkshopSession,
)
from booking.services.accounts import api_tokens
from booking.timefmt import to_local


@pytest.fixture
def book(app):
    """Put a baby on a workshop: book(workshop, baby, status='confirmed')."""

    def make(workshop, baby, status="confirmed") -> Registration:
        with app.app_context():
            now = datetime.now(UTC)
            reg = Registration(
                workshop_id=workshop.id,
                baby_id=baby.id,
                parent_id=baby.parent_id,
                status=status,
                consent_at=now,
                confirmed_at=now if status == "confirmed" else None,
                waitlisted_at=now if status == "waitlisted" else None,
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
def world(app, make_centre, make_user, make_workshop, make_baby, book):
    """Two centres, people in every role with a token each, and a booked course."""
    centre = make_centre(slug="bristol", name="Bristol Hub", timezone="Europe/London")
    elsewhere = make_centre(slug="sydney", name="Sydney Studio", timezone="Australia/Sydney")
    people = {
        "staff": make_user(email="staff@example.org", role="staff", centre=centre),
        "far_staff": make_user(email="far@example.org", role="staff", centre=elsewhere),
        "admin": make_user(email="admin@example.org", role="admin"),
        "parent": make_user(email="parent@example.org", name="Pat Parent"),
        "teacher": make_user(email="teacher@example.org", role="instructor", centre=centre),
    }
    tokens = {}
    with app.app_context():
        for key, user in people.items():
            tokens[key] = api_tokens.create_token(user.id, key)[1]
    course = make_workshop(centre=centre, instructor=people["teacher"], capacity=1, sessions=3)
    baby = make_baby(people["parent"], name="Ada", age_weeks=10)
    waiting_parent = make_user(email="wait@example.org", name="Wendy Wait")
    waiting_baby = make_baby(waiting_parent, name="Cal", age_weeks=12)
    reg = book(course, baby)
    waiting = book(course, waiting_baby, status="waitlisted")
    return {"centre": centre, "elsewhere": elsewhere, "course": course, "tokens": tokens,
            "reg": reg, "waiting": waiting, "baby": baby, **people}


def auth_header(token):
    return {"Authorization": f"Bearer {token}"}


def send(client, method, url, token=None, body=None, raw=None, headers=None):
    all_headers = dict(headers or {})
    if token:
        all_headers.update(auth_header(token))
    if raw is not None:
        return client.open(url, method=method, data=raw, headers=all_headers,
                           content_type=all_headers.pop("Content-Type", "application/json"))
    return client.open(url, method=method, json=body, headers=all_headers)


def outbox(app):
    with app.app_context():
        return [(m.recipient, m.subject) for m in db.session.scalars(
            sa.select(OutboxMessage).order_by(OutboxMessage.id))]


def count(app, model):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def new_workshop_body(**overrides):
    start = (date.today() + timedelta(days=30)).isoformat()
    body = {
        "centre": "bristol",
        "title": "Spring course",
        "kind": "course",
        "instructor_email": "teacher@example.org",
        "first_session": f"{start} 10:00",
        "sessions": 4,
        "duration_minutes": 60,
        "capacity": 8,
        "min_age_weeks": 6,
        "max_age_weeks": 30,
        "price": "45.00",
        "description": "Gentle strokes.",
        "what_to_bring": "A towel.",
        "publish": True,
        "topics": ["colic"],
    }
    body.update(overrides)
    return body


# --- authentication and permissions -------------------------------------------------------


def test_auth_matrix_on_registrations(client, app, world):
    url = f"/api/v1/workshops/{world['course'].id}/registrations"
    tokens = world["tokens"]

    response = client.get(url)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json()["error"]["code"] == "unauthorized"

    for header in ("Token abc", "Bearer", "Bearer a b", "Basic dXNlcjpwdw=="):
        response = client.get(url, headers={"Authorization": header})
        assert response.status_code == 401, header
        assert "Bearer" in response.headers["WWW-Authenticate"]

    response = client.get(url, headers=auth_header("not-a-real-token"))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]

    assert client.get(url, headers=auth_header(tokens["parent"])).status_code == 403
    assert client.get(url, headers=auth_header(tokens["teacher"])).status_code == 403
    response = client.get(url, headers=auth_header(tokens["far_staff"]))
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    assert client.get(url, headers=auth_header(tokens["staff"])).status_code == 200
    assert client.get(url, headers=auth_header(tokens["admin"])).status_code == 200
    for scheme in ("bearer", "BEARER"):  # the scheme's case does not matter
        header = {"Authorization": f"{scheme} {tokens['staff']}"}
        assert client.get(url, headers=header).status_code == 200, scheme

    with app.app_context():
        token_id = db.session.scalar(
            sa.select(sa.text("id")).select_from(sa.text("api_token")).where(
                sa.text("name = 'staff'")
            )
        )
        api_tokens.revoke_token(token_id, world["staff"].id)
    assert client.get(url, headers=auth_header(tokens["staff"])).status_code == 401


def test_session_cookie_is_not_enough(client, auth, world):
    from tests.conftest import PASSWORD

    auth.login("staff@example.org", PASSWORD)
    url = f"/api/v1/workshops/{world['course'].id}/registrations"
    assert client.get(url).status_code == 401


def test_write_permissions(client, app, world):
    tokens = world["tokens"]
    course = world["course"]
    for who in ("parent", "far_staff", "teacher"):
        response = send(client, "POST", "/api/v1/workshops", tokens[who], new_workshop_body())
        assert response.status_code == 403, who
        response = send(client, "PATCH", f"/api/v1/workshops/{course.id}", tokens[who],
                        {"title": "Hijacked"})
        assert response.status_code == 403, who
    with app.app_context():
        session_id = db.session.scalar(
            sa.select(WorkshopSession.id).where(WorkshopSession.workshop_id == course.id)
        )
    response = send(client, "PATCH", f"/api/v1/sessions/{session_id}", tokens["far_staff"],
                    {"room": "Hall"})
    assert response.status_code == 403
    assert count(app, Workshop) == 1
    with app.app_context():
        assert db.session.get(Workshop, course.id).title == "Baby massage"
    assert send(client, "PATCH", "/api/v1/workshops/99999", tokens["staff"],
                {"title": "x"}).status_code == 404
    assert send(client, "PATCH", "/api/v1/sessions/99999", tokens["staff"],
                {"room": "x"}).status_code == 404
    assert client.get("/api/v1/workshops/99999/registrations",
                      headers=auth_header(tokens["staff"])).status_code == 404


def test_csrf_does_not_apply_to_token_requests(client, app, world):
    app.config["WTF_CSRF_ENABLED"] = True
    response = send(client, "POST", "/api/v1/workshops", world["tokens"]["staff"],
                    new_workshop_body())
    assert response.status_code == 201


# --- POST /workshops ----------------------------------------------------------------------


def test_create_workshop(client, app, world):
    response = send(client, "POST", "/api/v1/workshops", world["tokens"]["staff"],
                    new_workshop_body())
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/workshops/{body['id']}")
    assert body["title"] == "Spring course"
    assert body["status"] == "published"
    assert body["centre"]["slug"] == "bristol"
    assert body["price"] == "45.00"
    assert len(body["sessions"]) == 4
    assert all("T10:00:00" in s["starts_at"] for s in body["sessions"])  # local wall clock
    with app.app_context():
        workshop = db.session.get(Workshop, body["id"])
        assert workshop.instructor_id == world["teacher"].id
        assert workshop.capacity == 8


def test_a_draft_created_is_read_at_its_location_by_its_centres_staff(client, app, world):
    """The Location of a workshop created as a draft answered 404 to its creator."""
    response = send(client, "POST", "/api/v1/workshops", world["tokens"]["staff"],
                    new_workshop_body(publish=False))
    assert response.status_code == 201, response.get_json()
    location = response.headers["Location"]
    path = location[location.index("/api/v1/"):]
    read = client.get(path, headers=auth_header(world["tokens"]["staff"]))
    assert read.status_code == 200
    assert read.get_json()["status"] == "draft"
    assert read.headers["Cache-Control"] == "private, no-store"
    assert client.get(path, headers=auth_header(world["tokens"]["admin"])).status_code == 200
    assert client.get(path).status_code == 404  # the public does not see drafts
    # A token that is no token is 401 there (as for a number that is no workshop), and
    # the document says the read may answer so.
    for read_path in (path, "/api/v1/workshops/999999"):
        bogus = client.get(read_path, headers={"Authorization": "Bearer bogus"})
        assert bogus.status_code == 401, read_path
    document = client.get("/api/v1/openapi.json").get_json()
    assert "401" in document["paths"]["/workshops/{workshop_id}"]["get"]["responses"]
    for someone in ("far_staff", "parent", "teacher"):  # nor does anyone else
        answer = client.get(path, headers=auth_header(world["tokens"][someone]))
        assert answer.status_code == 404, someone
    # Nor do its writes and its list of families say it exists (they answered 403, and
    # 404 for a number that is no workshop).
    for someone in ("far_staff", "parent", "teacher"):
        token = world["tokens"][someone]
        assert send(client, "PATCH", path, token, {"title": "x"}).status_code == 404, someone
        answer = client.get(f"{path}/registrations", headers=auth_header(token))
        assert answer.status_code == 404, someone
    # A class the public sees is still refused as not theirs.
    seen = f"/api/v1/workshops/{world['course'].id}"
    assert send(client, "PATCH", seen, world["tokens"]["far_staff"],
                {"title": "x"}).status_code == 403
    assert client.get(path, headers=auth_header("not-a-real-token")).status_code == 401
    # Another scheme (a proxy's Basic) is not a token: the public's 404, as before.
    assert client.get(path, headers={"Authorization": "Basic dXNlcjpwdw=="}).status_code == 404


def test_create_with_iso_offset_and_admin(client, app, world):
    start = datetime.now(UTC).replace(microsecond=0, second=0, minute=0) + timedelta(days=20)
    response = send(
        client, "POST", "/api/v1/workshops", world["tokens"]["admin"],
        new_workshop_body(
            centre="sydney", kind="single", instructor_email=None, sessions=1,
            first_session=start.isoformat(), publish=False, topics=[],
        ) | {"instructor_id": world["teacher"].id},
    )
    # instructor_email None is the wrong type: nothing is created.
    assert response.status_code == 422
    body = new_workshop_body(centre="bristol", kind="single", sessions=1,
                             first_session=start.isoformat().replace("+00:00", "Z"),
                             publish=False)
    response = send(client, "POST", "/api/v1/workshops", world["tokens"]["admin"], body)
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["status"] == "draft"
    starts = datetime.fromisoformat(created["sessions"][0]["starts_at"])
    assert starts == start
    assert starts.utcoffset() == to_local(start, "Europe/London").utcoffset()


def test_times_with_an_offset_in_the_repeated_hour_are_kept_as_sent(client, app, world):
    """01:30 GMT on the night London's clocks go back is a moment of its own (the
    second 01:30): sent with its offset, it is kept, not moved to 01:30 BST, an hour
    earlier. Sent without one, the first occurrence is taken, as on the forms."""
    year = date.today().year + 1
    autumn = max(date(year, 10, d) for d in range(25, 32) if date(year, 10, d).weekday() == 6)
    second = datetime(autumn.year, autumn.month, autumn.day, 1, 30, tzinfo=UTC)
    body = new_workshop_body(kind="single", sessions=1, publish=False, title="Night owls",
                             first_session=second.isoformat().replace("+00:00", "Z"))
    response = send(client, "POST", "/api/v1/workshops", world["tokens"]["staff"], body)
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert datetime.fromisoformat(created["sessions"][0]["starts_at"]) == second
    session_id = created["sessions"][0]["id"]
    with app.app_context():
        assert db.session.get(WorkshopSession, session_id).starts_at == second
    moved = second - timedelta(minutes=15)
    response = send(client, "PATCH", f"/api/v1/sessions/{session_id}",
                    world["tokens"]["staff"], {"starts_at": moved.isoformat()})
    assert response.status_code == 200, response.get_json()
    with app.app_context():
        kept = db.session.get(WorkshopSession, session_id)
        assert (kept.starts_at, kept.ends_at) == (moved, moved + timedelta(minutes=60))
    wall = f"{autumn.isoformat()} 01:30"
    response = send(client, "PATCH", f"/api/v1/sessions/{session_id}",
                    world["tokens"]["staff"], {"starts_at": wall})
    assert response.status_code == 200, response.get_json()
    with app.app_context():
        assert db.session.get(WorkshopSession, session_id).starts_at == second - timedelta(
            hours=1
        )


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"capacity": "8"}, "capacity"),
        ({"publish": "yes"}, "publish"),
        ({"price": True}, "price"),
        ({"sessions": 4.5}, "sessions"),
        ({"topics": "colic"}, "topics"),
        ({"colour": "blue"}, "colour"),
        ({"centre": "nowhere"}, "centre"),
        ({"instructor_email": "nobody@example.org"}, "instructor_email"),
        ({"instructor_email": "parent@example.org"}, "instructor_email"),
        ({"first_session": "next tuesday"}, "first_session"),
        ({"first_session": "2020-01-01 10:00"}, "first_session"),
        ({"first_session": "2031-02-30 10:00"}, "first_session"),
        ({"min_age_weeks": 40, "max_age_weeks": 10}, "max_age_weeks"),
        ({"kind": "weekly"}, "kind"),
        ({"topics": ["astrology"]}, "topics"),
        ({"capacity": 0}, "capacity"),
    ],
)
def test_create_rejects_bad_fields(client, app, world, changes, field):
    response = send(client, "POST", "/api/v1/workshops", world["tokens"]["staff"],
                    new_workshop_body(**changes))
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert field in error["fields"], error
    assert error["message"]
    assert count(app, Workshop) == 1


def test_create_reports_every_missing_field(client, app, world):
    response = send(client, "POST", "/api/v1/workshops", world["tokens"]["staff"],
                    {"centre": "bristol"})
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    for name in ("title", "kind", "first_session", "duration_minutes", "capacity",
                 "min_age_weeks", "max_age_weeks", "price"):
        assert fields[name] == "Required.", name
    assert count(app, Workshop) == 1


def test_create_needs_one_instructor(client, app, world):
    body = new_workshop_body()
    del body["instructor_email"]
    response = send(client, "POST", "/api/v1/workshops", world["tokens"]["staff"], body)
    assert response.status_code == 422
    assert "instructor_email" in response.get_json()["error"]["fields"]


@pytest.mark.parametrize(
    "raw, content_type, status",
    [
        ("{not json", "application/json", 400),
        ("[1, 2]", "application/json", 400),
        ('"text"', "application/json", 400),
        ('{"capacity": NaN}', "application/json", 400),
        ("title=x", "application/x-www-form-urlencoded", 400),
        (b"\xff\xfe{}", "application/json", 400),
        ('{"description": "' + "x" * 70000 + '"}', "application/json", 413),
    ],
)
def test_create_rejects_bad_bodies(client, app, world, raw, content_type, status):
    response = send(client, "POST", "/api/v1/workshops", world["tokens"]["staff"], raw=raw,
                    headers={"Content-Type": content_type})
    assert response.status_code == status
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "fields"}
    assert count(app, Workshop) == 1


# --- amounts typed with a currency sign -----------------------------------------------------


@pytest.fixture
def in_australia(world, make_centre, make_user):
    """A centre in Australia (prices in AUD) with an instructor; the admin's token acts
    there."""
    centre = make_centre(slug="perth", name="Perth Hub", country="AU",
                         timezone="Australia/Perth")
    make_user(email="aus@example.org", role="instructor", centre=centre)
    return centre


def aus_workshop_body(**overrides):
    return new_workshop_body(centre="perth", instructor_email="aus@example.org", **overrides)


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"price": "€45"}, "price", "Type the price without a sign, or with £."),
        ({"price": "$45"}, "price", "Type the price without a sign, or with £."),
        ({"price": "A$45"}, "price", "Type the price without a sign, or with £."),
        ({"refund_fee": "€5"}, "refund_fee",
         "Type the cancellation fee without a sign, or with £."),
        ({"payment": "deposit", "deposit": "€15"}, "deposit",
         "Type the deposit without a sign, or with £."),
    ],
)
def test_create_refuses_another_currencys_sign(client, app, world, changes, field, message):
    """A centre in Britain prices in pounds: "€45" is not £45."""
    response = send(client, "POST", "/api/v1/workshops", world["tokens"]["staff"],
                    new_workshop_body(**changes))
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"]["fields"][field] == message
    assert count(app, Workshop) == 1


@pytest.mark.parametrize("price", ["£45", "45", "45.00", 45])
def test_create_takes_a_price_bare_or_with_the_centres_sign(client, app, world, price):
    response = send(client, "POST", "/api/v1/workshops", world["tokens"]["staff"],
                    new_workshop_body(price=price, refund_fee="£5"))
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["price"] == "45.00"


@pytest.mark.parametrize("price", ["$45", "A$45", "AU$45", "45"])
def test_create_in_australia_takes_its_dollar_signs(client, app, world, in_australia, price):
    response = send(client, "POST", "/api/v1/workshops", world["tokens"]["admin"],
                    aus_workshop_body(price=price))
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["price"] == "45.00"


@pytest.mark.parametrize("price", ["£45", "€45", "NZ$45"])
def test_create_in_australia_refuses_other_signs(client, app, world, in_australia, price):
    response = send(client, "POST", "/api/v1/workshops", world["tokens"]["admin"],
                    aus_workshop_body(price=price))
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"]["fields"]["price"] == (
        "Type the price without a sign, or with $, A$ or AU$."
    )
    assert count(app, Workshop) == 1


@pytest.mark.parametrize(
    "changes, field",
    [({"price": "€70"}, "price"), ({"refund_fee": "$5"}, "refund_fee"),
     ({"payment": "deposit", "deposit": "€15"}, "deposit")],
)
def test_patch_refuses_another_currencys_sign(client, app, world, make_workshop, changes,
                                              field):
    workshop = make_workshop(centre=world["centre"], instructor=world["teacher"])
    url = f"/api/v1/workshops/{workshop.id}"
    response = send(client, "PATCH", url, world["tokens"]["staff"], changes)
    assert response.status_code == 422, response.get_json()
    assert "without a sign, or with £." in response.get_json()["error"]["fields"][field]
    with app.app_context():
        assert db.session.get(Workshop, workshop.id).price_minor == workshop.price_minor
    response = send(client, "PATCH", url, world["tokens"]["staff"], {"price": "£70"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["price"] == "70.00"


# --- PATCH /workshops/<id> ----------------------------------------------------------------


def test_patch_details_and_raise_capacity_promotes(client, app, world):
    course = world["course"]
    # Families are booked: the price they were shown stays (what they owe, and what was
    # paid at the centre, is worked out from it), and nothing else in the request is saved.
    response = send(client, "PATCH", f"/api/v1/workshops/{course.id}", world["tokens"]["staff"],
                    {"title": "Monday massage", "capacity": 2, "price": 50})
    assert response.status_code == 409
    assert "cannot change once families have booked" in (
        response.get_json()["error"]["fields"]["price"])
    response = send(client, "PATCH", f"/api/v1/workshops/{course.id}", world["tokens"]["staff"],
                    {"title": "Monday massage", "capacity": 2})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["title"] == "Monday massage"
    assert body["capacity"] == 2
    assert body["price"] == "45.00"
    assert body["waitlist_count"] == 0
    with app.app_context():
        assert db.session.get(Registration, world["waiting"].id).status == "confirmed"
    assert "wait@example.org" in [r for r, _ in outbox(app)]


def test_capacity_below_confirmed_is_409_and_changes_nothing(client, app, world):
    course = world["course"]
    response = send(client, "PATCH", f"/api/v1/workshops/{course.id}", world["tokens"]["staff"],
                    {"capacity": 2})
    assert response.get_json()["waitlist_count"] == 0  # both babies now hold a place
    response = send(client, "PATCH", f"/api/v1/workshops/{course.id}", world["tokens"]["staff"],
                    {"title": "Renamed", "capacity": 1})
    assert response.status_code == 409
    assert "capacity" in response.get_json()["error"]["fields"]
    with app.app_context():
        workshop = db.session.get(Workshop, course.id)
        assert (workshop.title, workshop.capacity) == ("Baby massage", 2)


@pytest.mark.parametrize(
    "body, status, field",
    [
        ({"status": "archived"}, 422, "status"),
        ({"kind": "single"}, 422, "kind"),
        ({"title": 5}, 422, "title"),
        ({"title": ""}, 422, "title"),
        ({"min_age_weeks": 60, "max_age_weeks": 20}, 422, "max_age_weeks"),
        ({"status": "cancelled", "title": "x"}, 422, "status"),
        ({"status": "draft"}, 409, "status"),
        ({"price": "cheap"}, 422, "price"),
    ],
)
def test_patch_workshop_bad_input(client, app, world, body, status, field):
    course = world["course"]
    response = send(client, "PATCH", f"/api/v1/workshops/{course.id}", world["tokens"]["staff"],
                    body)
    assert response.status_code == status, response.get_json()
    assert field in response.get_json()["error"]["fields"]
    with app.app_context():
        workshop = db.session.get(Workshop, course.id)
        assert (workshop.title, workshop.status) == ("Baby massage", "published")
    assert outbox(app) == []


def test_cancel_workshop_tells_everyone(client, app, world):
    course = world["course"]
    response = send(client, "PATCH", f"/api/v1/workshops/{course.id}", world["tokens"]["staff"],
                    {"status": "cancelled", "cancel_reason": "Instructor unwell"})
    assert response.status_code == 200
    assert response.get_json()["status"] == "cancelled"
    with app.app_context():
        statuses = db.session.scalars(
            sa.select(Registration.status).where(Registration.workshop_id == course.id)
        ).all()
    assert set(statuses) == {"cancelled"}
    recipients = {r for r, _ in outbox(app)}
    assert {"parent@example.org", "wait@example.org", "teacher@example.org"} <= recipients
    again = send(client, "PATCH", f"/api/v1/workshops/{course.id}", world["tokens"]["staff"],
                 {"title": "Back again"})
    assert again.status_code == 409


def test_publish_a_draft(client, app, world, make_workshop):
    draft = make_workshop(centre=world["centre"], instructor=world["teacher"], status="draft")
    response = send(client, "PATCH", f"/api/v1/workshops/{draft.id}", world["tokens"]["staff"],
                    {"status": "published"})
    assert response.status_code == 200
    assert response.get_json()["status"] == "published"
    response = send(client, "PATCH", f"/api/v1/workshops/{draft.id}", world["tokens"]["staff"],
                    {"status": "draft"})
    assert response.get_json()["status"] == "draft"


# --- PATCH /sessions/<id> -----------------------------------------------------------------


def _session(app, workshop_id, number):
    with app.app_context():
        session = db.session.scalar(
            sa.select(WorkshopSession).where(
                WorkshopSession.workshop_id == workshop_id, WorkshopSession.number == number
            )
        )
        db.session.expunge(session)
        return session


def test_move_session_in_local_time_tells_everyone(client, app, world):
    course = world["course"]
    session = _session(app, course.id, 2)
    new_day = to_local(session.starts_at, "Europe/London").date() + timedelta(days=1)
    response = send(client, "PATCH", f"/api/v1/sessions/{session.id}",
                    world["tokens"]["staff"],
                    {"starts_at": f"{new_day} 14:30", "duration_minutes": 45, "room": "Hall"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["starts_at"].startswith(f"{new_day}T14:30:00")
    assert body["room"] == "Hall"
    assert body["revision"] == session.revision + 1
    moved = _session(app, course.id, 2)
    assert moved.ends_at - moved.starts_at == timedelta(minutes=45)
    recipients = [r for r, _ in outbox(app)]
    assert "parent@example.org" in recipients and "teacher@example.org" in recipients
    assert "wait@example.org" not in recipients


def test_move_session_with_iso_offset_and_end(client, app, world):
    course = world["course"]
    session = _session(app, course.id, 3)
    start = session.starts_at + timedelta(hours=3)
    end = start + timedelta(minutes=90)
    response = send(client, "PATCH", f"/api/v1/sessions/{session.id}",
                    world["tokens"]["admin"],
                    {"starts_at": start.isoformat(), "ends_at": end.isoformat()})
    assert response.status_code == 200, response.get_json()
    moved = _session(app, course.id, 3)
    assert (moved.starts_at, moved.ends_at) == (start, end)


def test_cancel_session(client, app, world):
    session = _session(app, world["course"].id, 1)
    response = send(client, "PATCH", f"/api/v1/sessions/{session.id}", world["tokens"]["staff"],
                    {"status": "cancelled"})
    assert response.status_code == 200
    assert response.get_json()["status"] == "cancelled"
    assert "parent@example.org" in [r for r, _ in outbox(app)]
    again = send(client, "PATCH", f"/api/v1/sessions/{session.id}", world["tokens"]["staff"],
                 {"status": "cancelled"})
    assert again.status_code == 409


@pytest.mark.parametrize(
    "body, status, field",
    [
        ({"starts_at": "tomorrow"}, 422, "starts_at"),
        ({"starts_at": "2031-13-01 10:00"}, 422, "starts_at"),
        ({"starts_at": "2020-01-01 10:00"}, 422, "starts_at"),
        ({"duration_minutes": 5}, 422, "duration_minutes"),
        ({"duration_minutes": "60"}, 422, "duration_minutes"),
        ({"duration_minutes": 60, "ends_at": "2031-01-01 10:00"}, 422, "ends_at"),
        ({"ends_at": "2000-01-01 10:00"}, 422, "ends_at"),
        ({"status": "scheduled"}, 422, "status"),
        ({"status": "cancelled", "room": "x"}, 422, "status"),
        ({"room": "x" * 200}, 422, "room"),
        ({"revision": 5}, 422, "revision"),
        # Seconds are refused in every time field alike (starts_at was cut to the minute).
        ({"starts_at": "2031-01-06 10:00:59"}, 422, "starts_at"),
        ({"starts_at": "2031-01-06T10:00:00.5+00:00"}, 422, "starts_at"),
        ({"ends_at": "2031-01-06 11:00:59"}, 422, "ends_at"),
    ],
)
def test_patch_session_bad_input(client, app, world, body, status, field):
    session = _session(app, world["course"].id, 2)
    response = send(client, "PATCH", f"/api/v1/sessions/{session.id}", world["tokens"]["staff"],
                    body)
    assert response.status_code == status, response.get_json()
    assert field in response.get_json()["error"]["fields"]
    after = _session(app, world["course"].id, 2)
    assert (after.starts_at, after.ends_at, after.room, after.status, after.revision) == (
        session.starts_at, session.ends_at, session.room, session.status, session.revision
    )
    assert outbox(app) == []


def test_an_end_that_makes_a_session_too_long_or_short_is_refused_by_its_own_name(
    client, app, world
):
    """The length is worked out from `ends_at`: its refusal names `ends_at`, the field the
    body gave (it named `duration_minutes`, which a client never sent)."""
    session = _session(app, world["course"].id, 2)
    start = to_local(session.starts_at, "Europe/London").replace(tzinfo=None)
    for minutes in (10, 11 * 60 + 30):
        end = (start + timedelta(minutes=minutes)).strftime("%Y-%m-%d %H:%M")
        response = send(client, "PATCH", f"/api/v1/sessions/{session.id}",
                        world["tokens"]["staff"], {"ends_at": end})
        assert response.status_code == 422, response.get_json()
        fields = response.get_json()["error"]["fields"]
        assert set(fields) == {"ends_at"}, fields


# --- GET /workshops/<id>/registrations ----------------------------------------------------


def test_registrations(client, app, world):
    response = client.get(f"/api/v1/workshops/{world['course'].id}/registrations",
                          headers=auth_header(world["tokens"]["staff"]))
    assert response.status_code == 200
    body = response.get_json()
    assert body["confirmed_count"] == 1 and body["waitlist_count"] == 1
    confirmed, waiting = body["items"]
    assert confirmed["id"] == world["reg"].id
    assert confirmed["status"] == "confirmed" and confirmed["position"] is None
    assert confirmed["baby"]["name"] == "Ada"
    assert confirmed["baby"]["date_of_birth"] == world["baby"].date_of_birth.isoformat()
    first_day = to_local(world["course"].first_starts_at, "Europe/London").date()
    assert confirmed["baby"]["age_weeks_at_first_session"] == (
        (first_day - world["baby"].date_of_birth).days // 7
    )
    assert confirmed["parent"] == {"name": "Pat Parent", "email": "parent@example.org"}
    assert datetime.fromisoformat(confirmed["created_at"]).tzinfo is not None
    assert waiting["status"] == "waitlisted" and waiting["position"] == 1
    assert waiting["parent"]["email"] == "wait@example.org"
    assert json.dumps(body)  # plain JSON all the way down
