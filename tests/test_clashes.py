"""Clashes: a room or an instructor busy twice at once is refused, named, and can be kept
on purpose; by the services, the staff pages, the schedule import and the staff API."""

import json
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import jsonschema
import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import Membership, Workshop, WorkshopSession
from booking.services.accounts import api_tokens
from booking.services.schedule import edit as edit_service
from booking.services.schedule import sessions as session_service
from booking.services.schedule.clashes import Clash, busy_between, clashes_among
from booking.services.schedule.create import add_workshop
from booking.services.schedule.imports import import_schedule
from booking.timefmt import to_local
from booking.web.api.openapi import openapi_document

DAY = date.today() + timedelta(days=21)


@pytest.fixture
def term(app, make_centre, make_user):
    """Two London centres; an instructor teaching at both; one course in Room 1 at
    10:00 on DAY (and the three weeks after)."""
    centre = make_centre(slug="riverside", name="Riverside Hub")
    other = make_centre(slug="camden", name="Camden Centre")
    teacher = make_user("teacher@example.org", name="Grace", role="instructor", centre=centre)
    second = make_user("second@example.org", name="Sam", role="instructor", centre=centre)
    staff = make_user("staff@example.org", role="staff", centre=centre)
    with app.app_context():
        db.session.add(Membership(user_id=teacher.id, centre_id=other.id, role="instructor"))
        db.session.add(Membership(user_id=staff.id, centre_id=other.id, role="staff"))
        db.session.commit()
        course_id = add_workshop(**fields(centre, teacher, room="Room 1")).id
    return {"centre": centre, "other": other, "teacher": teacher, "second": second,
            "staff": staff, "course_id": course_id}


def fields(centre, instructor, at=time(10, 0), day=DAY, **more) -> dict:
    values = {
        "centre_id": centre.id,
        "instructor_id": instructor.id,
        "kind": "course",
        "title": more.pop("title", "Baby massage course"),
        "first_session_local": datetime.combine(day, at),
        "sessions": 4,
        "duration_minutes": 60,
        "capacity": 8,
        "min_age_weeks": 6,
        "max_age_weeks": 52,
        "price": Decimal("45.00"),
        "publish": True,
    }
    values.update(more)
    return values


def count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Workshop))


# --- the service ---------------------------------------------------------------------------


def test_same_room_at_the_same_time_is_refused_naming_the_other(ctx, term):
    with pytest.raises(Clash) as caught:
        add_workshop(**fields(term["centre"], term["second"], at=time(10, 30), room="room 1",
                              title="Colic class"))
    error = caught.value
    assert error.status == 409 and error.code == "clash"
    assert "Room 1 at Riverside Hub is already taken by “Baby massage course” week 1" in (
        error.message
    )
    assert "and 3 more of its sessions" in error.message
    assert {f.reason for f in error.found} == {"room"}
    assert error.details["clashes"][0]["workshop_id"] == term["course_id"]
    assert count() == 1  # nothing half-written


def test_same_instructor_elsewhere_at_the_same_time_is_refused(ctx, term):
    with pytest.raises(Clash) as caught:
        add_workshop(**fields(term["other"], term["teacher"], at=time(10, 30)))
    assert {f.reason for f in caught.value.found} == {"instructor"}
    assert "Grace is already teaching “Baby massage course” week 1" in caught.value.message


def test_travel_between_centres_needs_thirty_minutes(ctx, term):
    with pytest.raises(Clash) as caught:  # 11:00 -> 11:20 at another centre: 20 minutes
        add_workshop(**fields(term["other"], term["teacher"], at=time(11, 20)))
    assert {f.reason for f in caught.value.found} == {"travel"}
    assert "at least 30 minutes to travel" in caught.value.message
    # 30 minutes is enough; at the same centre back to back is fine too.
    assert add_workshop(**fields(term["other"], term["teacher"], at=time(11, 30)))
    assert add_workshop(**fields(term["centre"], term["teacher"], at=time(9, 0),
                                 title="Early course", room="Room 1"))


def test_a_class_not_yet_published_elsewhere_is_not_named(ctx, term):
    """A draft at another centre is that centre's business: a clash with it says a class
    not yet published keeps the instructor busy then, without its title, week, room or
    ids (the draft's own centre is told everything)."""
    draft_id = add_workshop(**fields(term["other"], term["teacher"], day=DAY + timedelta(1),
                                     title="Secret twins pilot", room="Studio 9",
                                     publish=False)).id
    with pytest.raises(Clash) as caught:
        add_workshop(**fields(term["centre"], term["teacher"], day=DAY + timedelta(1),
                              at=time(10, 30), title="Another course"))
    error = caught.value
    assert "Grace is already teaching a class not yet published (" in error.message
    assert "Secret" not in error.message and "Studio 9" not in error.message
    assert "week" not in error.message
    for other in error.details["clashes"]:
        assert other["reason"] == "instructor" and other["centre"] == "Camden Centre"
        assert other["workshop_id"] is other["session_id"] is other["title"] is None
        assert other["room"] is other["number"] is None and other["starts_at"]
        # As the API answers it, and as its document describes the answer.
        jsonschema.validate(
            json.loads(json.dumps(other, default=str)),
            openapi_document()["components"]["schemas"]["Error"]["properties"]["error"]
            ["properties"]["clashes"]["items"],
        )
    with pytest.raises(Clash) as travel:
        add_workshop(**fields(term["centre"], term["teacher"], day=DAY + timedelta(1),
                              at=time(11, 20), title="Another course"))
    assert "teaches a class not yet published (" in travel.value.message
    assert "Secret" not in travel.value.message
    # At its own centre it is named as it always was.
    with pytest.raises(Clash) as home:
        add_workshop(**fields(term["other"], term["teacher"], day=DAY + timedelta(1),
                              at=time(10, 30), title="Another course"))
    assert "“Secret twins pilot” week 1" in home.value.message
    assert home.value.details["clashes"][0]["workshop_id"] == draft_id


def test_no_clash_without_a_room_or_with_another_instructor(ctx, term):
    assert add_workshop(**fields(term["centre"], term["second"], title="Other room",
                                 room="Room 2"))
    assert add_workshop(**fields(term["centre"], term["second"], at=time(12, 0),
                                 title="No room"))


def test_keep_both_writes_it(ctx, term):
    workshop = add_workshop(**fields(term["centre"], term["second"], room="Room 1",
                                     title="On purpose"), allow_clash=True)
    assert workshop.id and count() == 2


def test_cancelled_sessions_and_workshops_do_not_clash(ctx, term):
    first = db.session.scalars(
        sa.select(WorkshopSession).where(WorkshopSession.workshop_id == term["course_id"])
        .order_by(WorkshopSession.number)
    ).first()
    session_service.cancel_session(first.id)
    # Only week 1's time is now free: a single class then does not clash.
    assert add_workshop(**fields(term["centre"], term["second"], kind="single", sessions=None,
                                 room="Room 1", title="Single"))


def test_moving_a_session_onto_a_busy_room_is_refused_unless_kept(ctx, term):
    other = add_workshop(**fields(term["centre"], term["second"], at=time(14, 0),
                                  room="Room 1", title="Afternoon course"))
    moving = db.session.scalars(
        sa.select(WorkshopSession).where(WorkshopSession.workshop_id == other.id)
        .order_by(WorkshopSession.number)
    ).first()
    before = (moving.starts_at, moving.revision)
    with pytest.raises(Clash) as caught:
        session_service.move_session(moving.id, datetime.combine(DAY, time(10, 0)))
    assert "Room 1 at Riverside Hub is already taken" in caught.value.message
    db.session.refresh(moving)
    assert (moving.starts_at, moving.revision) == before
    moved = session_service.move_session(
        moving.id, datetime.combine(DAY, time(10, 0)), allow_clash=True
    )
    assert to_local(moved.starts_at, "Europe/London").time() == time(10, 0)


def test_adding_a_session_checks_clashes(ctx, term):
    # A draft, where a session may go before the last (a published course refuses it).
    other = add_workshop(**fields(term["other"], term["teacher"], at=time(15, 0), publish=False))
    with pytest.raises(Clash):
        session_service.add_session(other.id, datetime.combine(DAY, time(10, 15)), 60)
    assert session_service.add_session(
        other.id, datetime.combine(DAY, time(10, 15)), 60, allow_clash=True
    )


def test_clashes_among_marks_both_sides(ctx, term):
    add_workshop(**fields(term["centre"], term["second"], room="Room 1", title="Twice"),
                 allow_clash=True)
    rows = busy_between(datetime.now(UTC), datetime.now(UTC) + timedelta(days=90))
    found = clashes_among(rows)
    assert len(found) == 8  # four weeks, both sides
    assert all(f.reason == "room" for fs in found.values() for f in fs)


# --- the schedule import -------------------------------------------------------------------

HEADER = ("centre,title,kind,instructor_email,first_session,sessions,duration_minutes,"
          "capacity,min_age_weeks,max_age_weeks,price,description,publish")


def csv_row(title, email, at, centre="riverside"):
    return (f"{centre},{title},course,{email},{DAY.isoformat()} {at},4,60,8,6,52,45.00,"
            "Gentle strokes,yes")


def test_import_stops_on_a_clash_with_what_exists_or_an_earlier_row(ctx, term):
    text = "\n".join((
        HEADER,
        csv_row("Camden course", "teacher@example.org", "10:15", "camden"),
        csv_row("Later course", "second@example.org", "15:00"),
        csv_row("Later again", "second@example.org", "15:30"),
    )) + "\n"
    result = import_schedule(text)
    assert result.ok and not result.created and count() == 1
    where = [(c.row, c.column) for c in result.clashes]
    assert where == [(2, "first_session"), (4, "first_session")]
    assert "Grace is already teaching" in result.clashes[0].message
    assert "Sam is already teaching “Later course”" in result.clashes[1].message
    dry = import_schedule(text, dry_run=True)
    assert len(dry.clashes) == 2 and count() == 1
    kept = import_schedule(text, allow_clash=True)
    assert kept.created and count() == 4


def test_import_command_names_clashes_and_keeps_both_when_told(runner, ctx, term, tmp_path):
    path = tmp_path / "term.csv"
    path.write_text(HEADER + "\n" + csv_row("Camden", "teacher@example.org", "10:00",
                                             "camden") + "\n")
    result = runner.invoke(args=["import-schedule", str(path)])
    assert result.exit_code == 1
    assert "Clash: row 2, column first_session: Grace is already teaching" in result.output
    assert count() == 1
    result = runner.invoke(args=["import-schedule", str(path), "--allow-clash"])
    assert result.exit_code == 0, result.output
    assert count() == 2


@pytest.fixture
def taught_by_sam(ctx, term):
    """Sam's course in Room 2 at 10:30, beside Grace's in Room 1 at 10:00."""
    return add_workshop(**fields(term["centre"], term["second"], at=time(10, 30),
                                 room="Room 2", title="Colic course"))


def instructor_of(workshop_id: int) -> int:
    db.session.expire_all()
    return db.session.get(Workshop, workshop_id).instructor_id


def test_a_new_instructor_busy_then_is_refused_unless_kept(ctx, term, taught_by_sam):
    with pytest.raises(Clash) as caught:
        edit_service.update_workshop(taught_by_sam.id, instructor_id=term["teacher"].id)
    error = caught.value
    assert {f.reason for f in error.found} == {"instructor"}
    assert "Grace is already teaching “Baby massage course” week 1" in error.message
    assert "and 3 more of its sessions" in error.message
    assert "instructor_id" in error.fields
    assert instructor_of(taught_by_sam.id) == term["second"].id  # nothing changed
    # The same change with other fields, by edit_workshop: all refused, then all kept.
    with pytest.raises(Clash):
        edit_service.edit_workshop(
            taught_by_sam.id, fields={"instructor_id": term["teacher"].id, "title": "New"}
        )
    assert db.session.get(Workshop, taught_by_sam.id).title == "Colic course"
    edit_service.edit_workshop(
        taught_by_sam.id, fields={"instructor_id": term["teacher"].id, "title": "New"},
        allow_clash=True,
    )
    assert instructor_of(taught_by_sam.id) == term["teacher"].id


def test_a_new_instructor_needs_time_to_travel(ctx, term):
    db.session.add(Membership(user_id=term["second"].id, centre_id=term["other"].id,
                              role="instructor"))
    db.session.commit()
    # Sam at Camden at 11:20; Grace ends at Riverside at 11:00.
    camden = add_workshop(**fields(term["other"], term["second"], at=time(11, 20)))
    with pytest.raises(Clash) as caught:
        edit_service.update_workshop(camden.id, instructor_id=term["teacher"].id)
    assert {f.reason for f in caught.value.found} == {"travel"}
    assert instructor_of(camden.id) == term["second"].id


def test_only_sessions_to_come_and_the_instructor_are_checked(ctx, term, make_user):
    ada = make_user("ada@example.org", name="Ada", role="instructor", centre=term["centre"])
    # Room 1 at 10:00 kept twice on purpose: a change of instructor does not refuse it again.
    kept = add_workshop(**fields(term["centre"], term["second"], room="Room 1",
                                 title="On purpose"), allow_clash=True)
    edit_service.update_workshop(kept.id, instructor_id=ada.id, title="Still on purpose")
    assert instructor_of(kept.id) == ada.id
    # Other changes to a workshop whose instructor is already busy then refuse nothing.
    edit_service.update_workshop(kept.id, instructor_id=term["teacher"].id, allow_clash=True)
    edit_service.update_workshop(kept.id, title="Renamed", price=Decimal("50.00"))
    # Sessions that have already started are not checked: Grace's week 1 and week 1 here
    # moved into the past, the rest of this course cancelled.
    db.session.execute(
        sa.update(WorkshopSession)
        .where(WorkshopSession.workshop_id.in_([kept.id, term["course_id"]]),
               WorkshopSession.number == 1)
        .values(starts_at=datetime.now(UTC) - timedelta(days=1, hours=1),
                ends_at=datetime.now(UTC) - timedelta(days=1))
    )
    db.session.execute(
        sa.update(WorkshopSession)
        .where(WorkshopSession.workshop_id == kept.id, WorkshopSession.number > 1)
        .values(status="cancelled")
    )
    db.session.commit()
    edit_service.update_workshop(kept.id, instructor_id=ada.id)
    edit_service.update_workshop(kept.id, instructor_id=term["teacher"].id)
    assert instructor_of(kept.id) == term["teacher"].id


# --- the staff pages -----------------------------------------------------------------------


def test_staff_form_names_the_clash_then_keeps_both(client, auth, term, app):
    auth.login("staff@example.org")
    url = f"/manage/centres/{term['other'].id}/workshops/new"
    page = client.get(url)
    assert page.status_code == 200 and "I know, keep both" not in page.text
    data = {
        "kind": "course", "title": "Camden course", "instructor_id": term["teacher"].id,
        "first_date": DAY.isoformat(), "first_time": "10:30", "sessions": "4",
        "duration_minutes": "60", "capacity": "8", "min_age_weeks": "6",
        "max_age_weeks": "52", "price": "45.00", "payment": "at_centre",
        "cancellation_cutoff_hours": "24", "refund_fee": "0",
    }
    response = client.post(url, data=data)
    assert response.status_code == 409
    assert "Grace is already teaching" in response.text
    assert "I know, keep both" in response.text
    with app.app_context():
        assert count() == 1
    response = client.post(url, data=data | {"allow_clash": "y"})
    assert response.status_code == 302
    with app.app_context():
        assert count() == 2


def test_staff_move_form_names_the_clash(client, auth, term, app):
    with app.app_context():
        other = add_workshop(**fields(term["centre"], term["second"], at=time(14, 0),
                                      room="Room 1", title="Afternoon course"))
        session_id = db.session.scalars(
            sa.select(WorkshopSession.id).where(WorkshopSession.workshop_id == other.id)
            .order_by(WorkshopSession.number)
        ).first()
    auth.login("staff@example.org")
    data = {"date": DAY.isoformat(), "time": "10:00", "duration_minutes": "60",
            "room": "Room 1"}
    response = client.post(f"/manage/sessions/{session_id}/move", data=data)
    assert response.status_code == 409
    assert "Room 1 at Riverside Hub is already taken by “Baby massage course”" in response.text
    response = client.post(f"/manage/sessions/{session_id}/move", data=data | {"allow_clash": "y"})
    assert response.status_code == 302


def test_staff_edit_form_names_the_new_instructors_clash(client, auth, term, app):
    with app.app_context():
        workshop_id = add_workshop(**fields(term["centre"], term["second"], at=time(10, 30),
                                            room="Room 2", title="Colic course")).id
    auth.login("staff@example.org")
    url = f"/manage/workshops/{workshop_id}/edit"
    assert "I know, keep both" not in client.get(url).text
    data = {
        "title": "Colic course", "description": "", "what_to_bring": "",
        "instructor_id": str(term["teacher"].id), "min_age_weeks": "6",
        "max_age_weeks": "52", "price": "45.00", "cancellation_cutoff_hours": "24",
    }
    response = client.post(url, data=data)
    assert response.status_code == 409
    assert "Grace is already teaching “Baby massage course” week 1" in response.text
    assert "Choose another instructor, or keep both." in response.text
    assert "I know, keep both" in response.text
    with app.app_context():
        assert instructor_of(workshop_id) == term["second"].id
    response = client.post(url, data=data | {"allow_clash": "y"})
    assert response.status_code == 302
    with app.app_context():
        assert instructor_of(workshop_id) == term["teacher"].id


def test_import_page_previews_clashes_and_lists_what_it_created(client, auth, term, app):
    auth.login("staff@example.org")
    text = HEADER + "\n" + csv_row("Camden course", "teacher@example.org", "10:00",
                                   "camden") + "\n"
    from io import BytesIO

    preview = client.post("/manage/import", data={"file": (BytesIO(text.encode()), "t.csv")},
                          content_type="multipart/form-data")
    assert preview.status_code == 200
    assert "Row 2, column <code>first_session</code>: Grace is already teaching" in preview.text
    refused = client.post("/manage/import/confirm", data={"csv_text": text})
    assert refused.status_code == 409 and "I know, keep both" in refused.text
    with app.app_context():
        assert count() == 1
    done = client.post("/manage/import/confirm", data={"csv_text": text, "allow_clash": "y"})
    assert done.status_code == 302 and "/manage/import/done?ids=" in done.headers["Location"]
    listed = client.get(done.headers["Location"])
    assert listed.status_code == 200
    with app.app_context():
        new_id = db.session.scalar(sa.select(sa.func.max(Workshop.id)))
    assert f'href="/manage/workshops/{new_id}"' in listed.text
    assert "/manage/calendar?date=" in listed.text
    assert client.get("/manage/import/done?ids=1,x").status_code == 400
    # Beyond the 32-bit ids (a server error on PostgreSQL), or naming nothing at all.
    for ids in ("2147483648", "1,999999999999", "0", "1,,2"):
        assert client.get(f"/manage/import/done?ids={ids}").status_code == 400, ids


# --- the staff API -------------------------------------------------------------------------


def test_api_answers_409_clash_unless_allowed(client, app, term):
    with app.app_context():
        token = api_tokens.create_token(term["staff"].id, "clash test")[1]
    headers = {"Authorization": f"Bearer {token}"}
    body = {
        "centre": "camden", "title": "API course", "kind": "course",
        "instructor_email": "teacher@example.org", "first_session": f"{DAY} 10:30",
        "sessions": 4, "duration_minutes": 60, "capacity": 8, "min_age_weeks": 6,
        "max_age_weeks": 52, "price": "45.00",
    }
    response = client.post("/api/v1/workshops", json=body, headers=headers)
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "clash" and "first_session" in error["fields"]
    assert error["clashes"][0]["workshop_id"] == term["course_id"]
    assert error["clashes"][0]["reason"] == "instructor"
    response = client.post("/api/v1/workshops", json=body | {"allow_clash": True},
                           headers=headers)
    assert response.status_code == 201
    session_id = response.get_json()["sessions"][1]["id"]
    moved = client.patch(f"/api/v1/sessions/{session_id}", headers=headers,
                         json={"starts_at": f"{DAY + timedelta(days=7)} 16:00"})
    assert moved.status_code == 200
    back = client.patch(f"/api/v1/sessions/{session_id}", headers=headers,
                        json={"starts_at": f"{DAY + timedelta(days=7)} 10:00"})
    assert back.status_code == 409 and back.get_json()["error"]["code"] == "clash"
    assert "starts_at" in back.get_json()["error"]["fields"]
    kept = client.patch(f"/api/v1/sessions/{session_id}", headers=headers,
                        json={"starts_at": f"{DAY + timedelta(days=7)} 10:00",
                              "allow_clash": True})
    assert kept.status_code == 200


def test_api_refuses_a_busy_new_instructor_unless_allowed(client, app, term):
    with app.app_context():
        token = api_tokens.create_token(term["staff"].id, "clash test")[1]
        workshop_id = add_workshop(**fields(term["centre"], term["second"], at=time(10, 30),
                                            room="Room 2", title="Colic course")).id
    headers = {"Authorization": f"Bearer {token}"}
    change = {"instructor_id": term["teacher"].id, "capacity": 10}
    refused = client.patch(f"/api/v1/workshops/{workshop_id}", json=change, headers=headers)
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    assert error["code"] == "clash" and "instructor_id" in error["fields"]
    assert {c["reason"] for c in error["clashes"]} == {"instructor"}
    assert error["clashes"][0]["workshop_id"] == term["course_id"]
    with app.app_context():
        assert instructor_of(workshop_id) == term["second"].id
        assert db.session.get(Workshop, workshop_id).capacity == 8  # all or nothing
    kept = client.patch(f"/api/v1/workshops/{workshop_id}", json=change | {"allow_clash": True},
                        headers=headers)
    assert kept.status_code == 200
    assert kept.get_json()["capacity"] == 10
    with app.app_context():
        assert instructor_of(workshop_id) == term["teacher"].id
