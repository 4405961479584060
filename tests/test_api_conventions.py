"""API conventions: Idempotency-Key on POST /workshops, CORS for public reads only,
ETags with 304, pagination links, and JSON 4xx for every kind of bad input."""

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import IdempotencyRecord, Workshop, WorkshopSession, utcnow
from booking.services.accounts import api_tokens
from booking.services.booking import idempotency
from booking.services.errors import Conflict, Invalid

ORIGIN = "https://www.somecentre.example"


@pytest.fixture
def staff_api(app, make_centre, make_user):
    """A centre with a staff member and an instructor; the staff member's token headers."""
    centre = make_centre(slug="bristol", name="Bristol Hub")
    staff = make_user(email="staff@example.org", role="staff", centre=centre)
    other = make_user(email="other@example.org", role="staff", centre=centre)
    make_user(email="teacher@example.org", role="instructor", centre=centre)
    with app.app_context():
        _, token = api_tokens.create_token(staff.id, "tests")
        _, other_token = api_tokens.create_token(other.id, "tests")
    return {
        "centre": centre,
        "staff": staff,
        "headers": {"Authorization": f"Bearer {token}"},
        "other_headers": {"Authorization": f"Bearer {other_token}"},
    }


def new_workshop(**changes) -> dict:
    body = {
        "centre": "bristol",
        "title": "Spring course",
        "kind": "course",
        "instructor_email": "teacher@example.org",
        "first_session": "2030-03-04 10:00",
        "sessions": 4,
        "duration_minutes": 60,
        "capacity": 8,
        "min_age_weeks": 6,
        "max_age_weeks": 30,
        "price": "45.00",
    }
    body.update(changes)
    return body


def workshop_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(Workshop.id)))


def post(client, headers, body, key=None, raw=None):
    headers = dict(headers)
    if key is not None:
        headers["Idempotency-Key"] = key
    data = raw if raw is not None else json.dumps(body)
    return client.post(
        "/api/v1/workshops", data=data, headers=headers, content_type="application/json"
    )


# --- Idempotency-Key ----------------------------------------------------------------------


def test_same_key_replays_the_first_response_and_creates_once(app, client, staff_api):
    first = post(client, staff_api["headers"], new_workshop(), key="key-1")
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    # The same body with keys in another order and other spacing is the same request.
    reordered = json.dumps(dict(reversed(list(new_workshop().items()))), indent=2)
    replay = post(client, staff_api["headers"], None, key="key-1", raw=reordered)
    assert replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.headers["Location"] == first.headers["Location"]
    assert replay.get_json() == first.get_json()
    assert workshop_count(app) == 1


def test_same_key_with_another_body_is_refused(app, client, staff_api):
    assert post(client, staff_api["headers"], new_workshop(), key="key-2").status_code == 201
    response = post(client, staff_api["headers"], new_workshop(title="Other"), key="key-2")
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "idempotency_key_reused"
    assert "Idempotency-Key" in error["fields"]
    assert workshop_count(app) == 1


def test_keys_belong_to_their_user(app, client, staff_api):
    assert post(client, staff_api["headers"], new_workshop(), key="shared").status_code == 201
    afternoon = new_workshop(title="Their own", first_session="2030-03-04 14:00")
    other = post(client, staff_api["other_headers"], afternoon, key="shared")
    assert other.status_code == 201
    assert "Idempotent-Replayed" not in other.headers
    assert workshop_count(app) == 2


def test_without_a_key_each_post_is_new(app, client, staff_api):
    assert post(client, staff_api["headers"], new_workshop()).status_code == 201
    second = new_workshop(title="Second", first_session="2030-03-04 14:00")
    assert post(client, staff_api["headers"], second).status_code == 201
    assert workshop_count(app) == 2


def test_a_failed_request_releases_its_key(app, client, staff_api):
    bad = post(client, staff_api["headers"], new_workshop(capacity="eight"), key="retry")
    assert bad.status_code == 422
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(IdempotencyRecord.id))) == 0
    fixed = post(client, staff_api["headers"], new_workshop(), key="retry")
    assert fixed.status_code == 201
    assert workshop_count(app) == 1


@pytest.mark.parametrize("key", ["", "   ", "x" * 256, "spaces in key", "caf\u00e9"])
def test_unusable_keys_are_400(app, client, staff_api, key):
    headers = {**staff_api["headers"], "Idempotency-Key": key.encode("utf-8").decode("latin-1")}
    response = client.post("/api/v1/workshops", json=new_workshop(), headers=headers)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_idempotency_key"
    assert workshop_count(app) == 0


def test_keys_need_a_token_first(client, staff_api):
    response = client.post(
        "/api/v1/workshops", json=new_workshop(), headers={"Idempotency-Key": "k"}
    )
    assert response.status_code == 401


def test_key_in_progress_is_a_conflict_and_expired_keys_are_purged(ctx, staff_api):
    user_id = staff_api["staff"].id
    printed = idempotency.fingerprint("POST", "/api/v1/workshops", b"{}")
    record_id, stored = idempotency.claim_key(user_id, "k", "POST", "/x", printed)
    assert record_id is not None and stored is None
    with pytest.raises(Conflict) as exc:
        idempotency.claim_key(user_id, "k", "POST", "/x", printed)
    assert exc.value.code == "idempotency_key_in_progress"
    with pytest.raises(Invalid):
        idempotency.claim_key(user_id, "k", "POST", "/x", "another fingerprint")
    idempotency.complete_key(record_id, 201, '{"id": 1}', "https://x/1")
    _, stored = idempotency.claim_key(user_id, "k", "POST", "/x", printed)
    assert stored == idempotency.StoredResponse(201, '{"id": 1}', "https://x/1")
    # A day later the key is gone and may be used for something new.
    later = utcnow() + idempotency.KEY_LIFETIME + timedelta(seconds=1)
    record_id, stored = idempotency.claim_key(user_id, "k", "POST", "/x", "new", now=later)
    assert stored is None
    count = db.session.scalar(sa.select(sa.func.count(IdempotencyRecord.id)))
    assert count == 1


# --- CORS ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/api/v1/", "/api/v1/centres", "/api/v1/workshops", "/api/v1/openapi.json"]
)
def test_public_reads_allow_any_origin(client, path):
    response = client.get(path, headers={"Origin": ORIGIN})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]


def test_public_read_errors_are_readable_by_other_sites(client):
    response = client.get("/api/v1/centres/nowhere", headers={"Origin": ORIGIN})
    assert response.status_code == 404
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_preflight_for_public_reads(client):
    response = client.options(
        "/api/v1/workshops",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "if-none-match",
        },
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS"
    assert "If-None-Match" in response.headers["Access-Control-Allow-Headers"]


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/api/v1/workshops", "POST"),
        ("/api/v1/workshops/1", "PATCH"),
        ("/api/v1/sessions/1", "PATCH"),
        ("/api/v1/workshops/1/registrations", "GET"),
    ],
)
def test_no_cors_for_staff_endpoints(client, path, method):
    preflight = client.options(
        path,
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert "Access-Control-Allow-Origin" not in preflight.headers


def test_no_cors_on_staff_responses_or_token_requests(client, staff_api, make_workshop):
    workshop = make_workshop(centre=staff_api["centre"])
    headers = {**staff_api["headers"], "Origin": ORIGIN}
    registrations = client.get(f"/api/v1/workshops/{workshop.id}/registrations", headers=headers)
    assert registrations.status_code == 200
    assert "Access-Control-Allow-Origin" not in registrations.headers
    with_token = client.get("/api/v1/workshops", headers=headers)
    assert "Access-Control-Allow-Origin" not in with_token.headers
    created = client.post("/api/v1/workshops", json=new_workshop(), headers=headers)
    assert created.status_code == 201
    assert "Access-Control-Allow-Origin" not in created.headers


def test_no_cors_outside_the_api(client):
    assert "Access-Control-Allow-Origin" not in client.get("/", headers={"Origin": ORIGIN}).headers


# --- ETags --------------------------------------------------------------------------------


def test_etag_and_304_then_a_change_gives_a_new_etag(app, client, staff_api, make_workshop):
    workshop = make_workshop(centre=staff_api["centre"])
    url = f"/api/v1/workshops/{workshop.id}"
    first = client.get(url)
    etag = first.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert first.headers["Cache-Control"] == "public, no-cache"
    unchanged = client.get(url, headers={"If-None-Match": etag})
    assert unchanged.status_code == 304
    assert unchanged.data == b""
    assert unchanged.headers["ETag"] == etag
    patched = client.patch(url, json={"title": "Renamed"}, headers=staff_api["headers"])
    assert patched.status_code == 200
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert changed.get_json()["title"] == "Renamed"


def test_staff_reads_have_private_etags(client, staff_api, make_workshop):
    workshop = make_workshop(centre=staff_api["centre"])
    url = f"/api/v1/workshops/{workshop.id}/registrations"
    first = client.get(url, headers=staff_api["headers"])
    assert first.headers["Cache-Control"] == "private, no-store"
    again = client.get(
        url, headers={**staff_api["headers"], "If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304
    # Without the token: still 401, never a 304 that would reveal anything.
    anonymous = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert anonymous.status_code == 401


def test_writes_and_errors_carry_no_etag(client, staff_api):
    assert "ETag" not in client.get("/api/v1/centres/nowhere").headers
    created = client.post("/api/v1/workshops", json=new_workshop(), headers=staff_api["headers"])
    assert "ETag" not in created.headers


# --- Pagination ---------------------------------------------------------------------------


def test_pages_link_to_each_other(client, make_centre, make_workshop):
    centre = make_centre(slug="paged")
    for day in range(5):
        make_workshop(centre=centre, starts_in_days=day + 3)
    first = client.get("/api/v1/workshops?centre=paged&per_page=2").get_json()
    assert first["total"] == 5 and first["prev"] is None
    second = client.get(first["next"].removeprefix("https://classes.example.org")).get_json()
    assert second["page"] == 2
    assert second["prev"].endswith("/api/v1/workshops?centre=paged&page=1&per_page=2")
    ids = {w["id"] for w in first["items"]} | {w["id"] for w in second["items"]}
    assert len(ids) == 4


# --- Bad input: always a JSON 4xx naming the fields, nothing changed ------------------------


@pytest.mark.parametrize(
    ("raw", "content_type", "status", "code"),
    [
        ("{", "application/json", 400, "bad_json"),
        ("[1, 2]", "application/json", 400, "bad_json"),
        ('{"capacity": NaN}', "application/json", 400, "bad_json"),
        (b"\xff\xfe", "application/json", 400, "bad_json"),
        ("centre=bristol", "application/x-www-form-urlencoded", 400, "bad_request"),
        ("x" * (64 * 1024 + 1), "application/json", 413, "too_large"),
    ],
)
def test_bad_bodies_are_json_errors(app, client, staff_api, raw, content_type, status, code):
    response = client.post(
        "/api/v1/workshops", data=raw, content_type=content_type, headers=staff_api["headers"]
    )
    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert response.get_json()["error"]["code"] == code
    assert workshop_count(app) == 0


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"capacity": "8"}, "capacity"),
        ({"capacity": True}, "capacity"),
        ({"capacity": 2**31}, "capacity"),
        ({"instructor_id": 2**63, "instructor_email": None}, "instructor_id"),
        ({"colour": "blue"}, "colour"),
        ({"first_session": "next tuesday"}, "first_session"),
        ({"first_session": "2030-02-30 10:00"}, "first_session"),
        ({"first_session": "2030-03-04T10:00+25:00"}, "first_session"),
        ({"first_session": "2030-03-04T10:00+00:99"}, "first_session"),
        ({"first_session": "2030-03-04T10:00-01:60"}, "first_session"),
        ({"topics": "sleep"}, "topics"),
        ({"centre": "nowhere"}, "centre"),
    ],
)
def test_bad_fields_are_named(app, client, staff_api, changes, field):
    response = client.post(
        "/api/v1/workshops", json=new_workshop(**changes), headers=staff_api["headers"]
    )
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]
    assert workshop_count(app) == 0


def test_missing_fields_are_named_together(client, staff_api):
    response = client.post("/api/v1/workshops", json={}, headers=staff_api["headers"])
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert {"centre", "title", "kind", "capacity", "price"} <= set(fields)


def test_bad_session_time_zone_offsets_and_dates(client, staff_api, make_workshop, app):
    workshop = make_workshop(centre=staff_api["centre"])
    with app.app_context():
        session_id = db.session.scalar(
            sa.select(WorkshopSession.id).where(WorkshopSession.workshop_id == workshop.id)
        )
    for value in ("2030-13-01 10:00", "2030-03-04T10:00+0100", "tomorrow", "2030-03-04",
                  "2030-03-04T10:00+00:60", "2030-03-04T10:00+00:99"):
        response = client.patch(
            f"/api/v1/sessions/{session_id}", json={"starts_at": value},
            headers=staff_api["headers"],
        )
        assert response.status_code == 422, value
        assert "starts_at" in response.get_json()["error"]["fields"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/nothing-here"),
        ("PUT", "/api/v1/workshops"),
        ("DELETE", "/api/v1/centres"),
        ("GET", "/api/v1/workshops/abc"),
        ("GET", "/api/v1/workshops/99999999999999999999"),
        ("PATCH", "/api/v1/sessions/99999999999999999999"),
        ("GET", "/api/v1/workshops?age_weeks=old"),
        ("GET", "/api/v1/workshops?date_from=2026-02-30"),
    ],
)
def test_every_api_4xx_is_json(client, staff_api, method, path):
    response = client.open(path, method=method, headers=staff_api["headers"], json={})
    assert 400 <= response.status_code < 500
    assert response.mimetype == "application/json"
    assert set(response.get_json()["error"]) == {"code", "message", "fields"}
