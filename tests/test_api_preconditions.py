"""If-Match on the staff API's writes (RFC 9110 13.1.1): a change made from a stale
read of a workshop is refused with 412 and changes nothing."""

import pytest

from booking.extensions import db
from booking.models import Workshop, WorkshopSession
from booking.web.api.openapi import openapi_document
from booking.web.api.preconditions import IfMatch, parse_if_match
from tests.test_api_staff import auth_header, book, outbox, send, world  # noqa: F401

# ruff: noqa: F811 (the fixtures imported above are the tests' parameters)


def read(client, world, workshop=None):
    """GET the workshop as its centre's staff: (body, ETag with its quotes)."""
    workshop = workshop or world["course"]
    response = client.get(
        f"/api/v1/workshops/{workshop.id}", headers=auth_header(world["tokens"]["staff"])
    )
    assert response.status_code == 200
    return response.get_json(), response.headers["ETag"]


def patch(client, world, body, if_match=None, workshop=None):
    workshop = workshop or world["course"]
    headers = {} if if_match is None else {"If-Match": if_match}
    return send(client, "PATCH", f"/api/v1/workshops/{workshop.id}", world["tokens"]["staff"],
                body, headers=headers)


def title(app, workshop_id):
    with app.app_context():
        return db.session.get(Workshop, workshop_id).title


def first_session(app, workshop_id):
    with app.app_context():
        session = db.session.scalar(
            db.select(WorkshopSession).where(WorkshopSession.workshop_id == workshop_id)
            .order_by(WorkshopSession.number)
        )
        db.session.expunge(session)
        return session


def test_the_etag_of_the_read_lets_the_change_through(client, app, world):
    _, etag = read(client, world)
    response = patch(client, world, {"title": "Monday massage"}, etag)
    assert response.status_code == 200, response.get_json()
    assert title(app, world["course"].id) == "Monday massage"
    # The answer is the new representation, with the ETag a read now gives.
    body, etag_now = read(client, world)
    assert response.get_json() == body
    assert response.headers["ETag"] == etag_now != etag


def test_a_stale_etag_is_412_and_changes_nothing(client, app, world):
    _, etag = read(client, world)
    assert patch(client, world, {"title": "First change"}).status_code == 200  # someone else
    response = patch(client, world, {"title": "Second change", "capacity": 5}, etag)
    assert response.status_code == 412
    error = response.get_json()["error"]
    assert error["code"] == "precondition_failed"
    assert "changed since you read it" in error["message"]
    assert "read it again" in error["message"]
    with app.app_context():
        workshop = db.session.get(Workshop, world["course"].id)
        assert (workshop.title, workshop.capacity) == ("First change", 1)
    assert outbox(app) == []  # the waiting parent was not promoted by a capacity of 5


def test_a_booking_since_the_read_makes_it_stale(client, app, world, make_user, make_baby,
                                                 book):
    _, etag = read(client, world)
    parent = make_user(email="late@example.org")
    book(world["course"], make_baby(parent, name="Bo", age_weeks=11), status="waitlisted")
    response = patch(client, world, {"title": "Renamed"}, etag)
    assert response.status_code == 412
    assert title(app, world["course"].id) == "Baby massage"


def test_star_matches_any_current_workshop(client, app, world):
    response = patch(client, world, {"title": "Starred"}, "*")
    assert response.status_code == 200, response.get_json()
    assert title(app, world["course"].id) == "Starred"


def test_a_list_with_the_current_etag_matches(client, app, world):
    _, etag = read(client, world)
    response = patch(client, world, {"title": "Listed"}, f'"0123abc", W/"x", {etag} , "z"')
    assert response.status_code == 200, response.get_json()
    assert title(app, world["course"].id) == "Listed"


def test_several_if_match_lines_are_one_list(client, app, world):
    _, etag = read(client, world)
    response = client.patch(
        f"/api/v1/workshops/{world['course'].id}", json={"title": "Two lines"},
        headers=[*auth_header(world["tokens"]["staff"]).items(),
                 ("If-Match", '"stale"'), ("If-Match", etag)],
    )
    assert response.status_code == 200, response.get_json()
    assert title(app, world["course"].id) == "Two lines"


@pytest.mark.parametrize(
    "value",
    ["", " ", ",", "abc", '"unterminated', '"a" "b"', '"a";"b"', "*, \"a\"", "W/abc",
     '"with"quote"', "\"tab\there\""],
)
def test_a_malformed_if_match_is_412_never_a_guess(client, app, world, value):
    _, etag = read(client, world)
    response = patch(client, world, {"title": "Never"}, value)
    assert response.status_code == 412
    assert "If-Match must be" in response.get_json()["error"]["message"]
    assert title(app, world["course"].id) == "Baby massage"


def test_the_current_etag_unquoted_or_weak_does_not_match(client, app, world):
    _, etag = read(client, world)
    assert patch(client, world, {"title": "Bare"}, etag.strip('"')).status_code == 412
    response = patch(client, world, {"title": "Weak"}, f"W/{etag}")
    assert response.status_code == 412
    assert "Weak ETags" in response.get_json()["error"]["message"]
    assert title(app, world["course"].id) == "Baby massage"


def test_without_if_match_the_change_is_made_as_before(client, app, world):
    read(client, world)
    patch(client, world, {"title": "Elsewhere"})
    assert patch(client, world, {"title": "Mine"}).status_code == 200
    assert title(app, world["course"].id) == "Mine"


def test_a_draft_read_with_the_token_is_changed_with_its_etag(client, app, world,
                                                              make_workshop):
    draft = make_workshop(centre=world["centre"], instructor=world["teacher"], status="draft")
    _, etag = read(client, world, draft)
    response = patch(client, world, {"title": "Draft renamed"}, etag, workshop=draft)
    assert response.status_code == 200, response.get_json()
    assert patch(client, world, {"title": "Again"}, etag, workshop=draft).status_code == 412


def test_an_anonymous_read_of_a_published_workshop_gives_the_same_etag(client, world):
    _, etag = read(client, world)
    assert client.get(f"/api/v1/workshops/{world['course'].id}").headers["ETag"] == etag


def test_who_may_not_change_it_is_told_so_before_any_precondition(client, world):
    url = f"/api/v1/workshops/{world['course'].id}"
    stale = {"If-Match": '"stale"'}
    assert send(client, "PATCH", url, None, {"title": "x"}, headers=stale).status_code == 401
    far = world["tokens"]["far_staff"]
    assert send(client, "PATCH", url, far, {"title": "x"}, headers=stale).status_code == 403
    missing = "/api/v1/workshops/999999"
    token = world["tokens"]["staff"]
    assert send(client, "PATCH", missing, token, {"title": "x"}, headers=stale).status_code == 404


def test_a_stale_read_is_412_whatever_its_body(client, app, world):
    """RFC 9110 13.2.1: the precondition is evaluated before the content is processed,
    so a change from a stale read is told it is stale, not what is wrong with its body
    (which a client would correct only to be refused as stale next)."""
    session = first_session(app, world["course"].id)
    token = world["tokens"]["staff"]
    stale = {"If-Match": '"stale"'}
    workshop_url = f"/api/v1/workshops/{world['course'].id}"
    session_url = f"/api/v1/sessions/{session.id}"
    for url, body in ((workshop_url, {"capacity": "many", "colour": "red"}),
                      (session_url, {"duration_minutes": -5}),
                      (session_url, {"ends_at": "2020-01-01T00:00:00Z"})):
        response = send(client, "PATCH", url, token, body, headers=stale)
        assert response.status_code == 412, (url, body, response.get_json())
        assert response.get_json()["error"]["code"] == "precondition_failed"
    response = send(client, "PATCH", workshop_url, token, raw=b"{not json", headers=stale)
    assert response.status_code == 412
    # With the current ETag the body's faults are told as before, and nothing changed.
    _, etag = read(client, world)
    response = send(client, "PATCH", workshop_url, token, {"capacity": "many"},
                    headers={"If-Match": etag})
    assert response.status_code == 422
    assert "capacity" in response.get_json()["error"]["fields"]
    response = send(client, "PATCH", session_url, token, {"ends_at": "2020-01-01T00:00:00Z"},
                    headers={"If-Match": etag})
    assert response.status_code == 422
    assert read(client, world)[1] == etag
    assert outbox(app) == []


# --- sessions: read as part of their workshop ----------------------------------------------


def test_a_session_moves_with_its_workshops_etag(client, app, world):
    session = first_session(app, world["course"].id)
    _, etag = read(client, world)
    url = f"/api/v1/sessions/{session.id}"
    token = world["tokens"]["staff"]
    response = send(client, "PATCH", url, token, {"room": "Hall"}, headers={"If-Match": etag})
    assert response.status_code == 200, response.get_json()
    assert first_session(app, world["course"].id).room == "Hall"
    # Someone else changes the workshop: the read the ETag came from is out of date.
    patch(client, world, {"title": "Renamed meanwhile"})
    response = send(client, "PATCH", url, token, {"room": "Garden"}, headers={"If-Match": etag})
    assert response.status_code == 412
    assert "session's workshop has changed" in response.get_json()["error"]["message"]
    assert first_session(app, world["course"].id).room == "Hall"


def test_two_room_changes_from_one_read_the_second_is_412(client, app, world):
    """A room is part of the workshop's read, so a room changed since is seen."""
    session = first_session(app, world["course"].id)
    body, etag = read(client, world)
    assert body["sessions"][0]["room"] == (session.room or "")
    url = f"/api/v1/sessions/{session.id}"
    token = world["tokens"]["staff"]
    assert send(client, "PATCH", url, token, {"room": "Hall"},
                headers={"If-Match": etag}).status_code == 200
    response = send(client, "PATCH", url, token, {"room": "Garden"}, headers={"If-Match": etag})
    assert response.status_code == 412
    assert first_session(app, world["course"].id).room == "Hall"
    assert read(client, world)[0]["sessions"][0]["room"] == "Hall"


def test_a_stale_session_cancel_or_empty_change_is_412(client, app, world):
    session = first_session(app, world["course"].id)
    url = f"/api/v1/sessions/{session.id}"
    token = world["tokens"]["staff"]
    stale = {"If-Match": '"stale"'}
    response = send(client, "PATCH", url, token, {"status": "cancelled"}, headers=stale)
    assert response.status_code == 412
    assert first_session(app, world["course"].id).status == "scheduled"
    assert send(client, "PATCH", url, token, {}, headers=stale).status_code == 412
    assert send(client, "PATCH", url, token, {}, headers={"If-Match": "*"}).status_code == 200
    assert outbox(app) == []


# --- the parser and the document ----------------------------------------------------------


def test_parse_if_match():
    assert parse_if_match("*") == IfMatch(any=True)
    assert parse_if_match(' "a" ,, W/"b",  "c,d" ') == IfMatch(
        strong=frozenset({"a", "c,d"}), weak_given=True
    )
    assert parse_if_match('""').strong == frozenset({""})
    for bad in ("", "*,*", '"a" W/"b"', "a", '"a"x'):
        assert parse_if_match(bad).malformed, bad


def test_the_document_declares_if_match_and_412_on_the_writes():
    paths = openapi_document()["paths"]
    for path in ("/workshops/{workshop_id}", "/sessions/{session_id}"):
        operation = paths[path]["patch"]
        names = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
        assert "If-Match" in names
        assert "412" in operation["responses"]
    assert "ETag" in paths["/workshops/{workshop_id}"]["patch"]["responses"]["200"]["headers"]
    assert "If-Match" not in {
        p["name"] for p in paths["/workshops"]["post"]["parameters"]
    }


def test_every_field_a_patch_changes_is_in_the_read_it_is_compared_with(client, app, world):
    """A description changed from a stale read overwrote another's: it was not part of
    the read, so its ETag did not move."""
    _, etag = read(client, world)
    for change in ({"description": "Gentle strokes."}, {"what_to_bring": "A towel."},
                   {"cancellation_cutoff_hours": 12}):
        body, now = read(client, world)
        assert send(client, "PATCH", f"/api/v1/workshops/{world['course'].id}",
                    world["tokens"]["staff"], change, headers={"If-Match": now}).status_code == 200
        after, newer = read(client, world)
        field, value = next(iter(change.items()))
        assert after[field] == value and newer != now, field
    stale = send(client, "PATCH", f"/api/v1/workshops/{world['course'].id}",
                 world["tokens"]["staff"], {"description": "Old words."},
                 headers={"If-Match": etag})
    assert stale.status_code == 412
