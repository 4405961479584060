"""Creating workshops: validation, weekly sessions in local time, topics, no commit."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from booking.db import write_transaction
from booking.extensions import db
from booking.models import Workshop, WorkshopSession
from booking.services.accounts.roles import instructor_at
from booking.services.errors import Invalid
from booking.services.schedule.create import create_workshop
from booking.services.schedule.fields import NOT_AN_INSTRUCTOR
from booking.services.schedule.queries import workshop_topics
from booking.services.schedule.workshop_input import validate_workshop_fields
from booking.timefmt import to_local
from tests.clock_changes import first_sunday, last_sunday


def _fields(centre, instructor, **overrides):
    values = {
        "centre_id": centre.id,
        "instructor_id": instructor.id,
        "kind": "course",
        "title": "Baby massage course",
        "first_session_local": datetime.combine(
            date.today() + timedelta(days=14), datetime.min.time()
        ).replace(hour=10),
        "sessions": 4,
        "duration_minutes": 60,
        "capacity": 8,
        "min_age_weeks": 6,
        "max_age_weeks": 52,
        "price": Decimal("45.00"),
    }
    values.update(overrides)
    return values


@pytest.fixture
def london(make_centre, make_user):
    centre = make_centre(slug="london-hub", timezone="Europe/London")
    return centre, make_user(email="teacher@example.org", role="instructor", centre=centre)


def test_course_gets_weekly_sessions_and_all_fields(ctx, london):
    centre, instructor = london
    with write_transaction():
        workshop = create_workshop(
            **_fields(
                centre,
                instructor,
                publish=True,
                topics=("sleep", "colic", "colic"),
                min_places=3,
                held_places=2,
                late_join_until=2,
                cancellation_cutoff_hours=12,
                room="Blue room",
                description="  Gentle strokes.  ",
                what_to_bring="A towel",
            )
        )
    workshop_id = workshop.id
    db.session.expire_all()
    workshop = db.session.get(Workshop, workshop_id)
    sessions = db.session.scalars(
        sa.select(WorkshopSession)
        .where(WorkshopSession.workshop_id == workshop_id)
        .order_by(WorkshopSession.number)
    ).all()
    assert [s.number for s in sessions] == [1, 2, 3, 4]
    assert all(s.room == "Blue room" and s.status == "scheduled" for s in sessions)
    assert all(s.ends_at - s.starts_at == timedelta(minutes=60) for s in sessions)
    assert workshop.status == "published"
    assert workshop.first_starts_at == sessions[0].starts_at
    assert workshop.last_ends_at == sessions[-1].ends_at
    assert workshop.decision_at == workshop.first_starts_at - timedelta(hours=48)
    assert workshop.held_places == 2 and workshop.held_until is not None
    assert workshop.late_join_until == 2
    assert workshop.cancellation_cutoff_hours == 12
    assert workshop.description == "Gentle strokes."
    assert workshop.price == Decimal("45.00")
    assert workshop.confirmed_count == 0
    assert workshop_topics(workshop_id) == ["colic", "sleep"]


def test_unpublished_workshop_is_a_draft_without_decision(ctx, london):
    centre, instructor = london
    with write_transaction():
        workshop = create_workshop(**_fields(centre, instructor))
    assert workshop.status == "draft"
    assert workshop.decision_at is None
    assert workshop.held_until is None


def test_london_course_keeps_local_time_across_the_october_change(ctx, london):
    centre, instructor = london
    change = last_sunday(date.today().year + 2, 10)
    first = datetime.combine(change - timedelta(days=6), datetime.min.time()).replace(hour=10)
    with write_transaction():
        workshop = create_workshop(
            **_fields(centre, instructor, first_session_local=first, sessions=3)
        )
    starts = db.session.scalars(
        sa.select(WorkshopSession.starts_at)
        .where(WorkshopSession.workshop_id == workshop.id)
        .order_by(WorkshopSession.number)
    ).all()
    local = [to_local(s, "Europe/London") for s in starts]
    assert [t.hour for t in local] == [10, 10, 10]
    assert [t.tzname() for t in local] == ["BST", "GMT", "GMT"]
    assert [s.astimezone(UTC).hour for s in starts] == [9, 10, 10]
    assert starts[1] - starts[0] == timedelta(weeks=1, hours=1)


def test_sydney_course_keeps_local_time_across_the_april_change(
    ctx, make_centre, make_user
):
    centre = make_centre(slug="bondi", timezone="Australia/Sydney", country="AU")
    instructor = make_user(role="instructor", centre=centre)
    change = first_sunday(date.today().year + 2, 4)
    first = datetime.combine(change - timedelta(days=6), datetime.min.time()).replace(
        hour=9, minute=30
    )
    with write_transaction():
        workshop = create_workshop(
            **_fields(centre, instructor, first_session_local=first, sessions=2)
        )
    starts = db.session.scalars(
        sa.select(WorkshopSession.starts_at)
        .where(WorkshopSession.workshop_id == workshop.id)
        .order_by(WorkshopSession.number)
    ).all()
    local = [to_local(s, "Australia/Sydney") for s in starts]
    assert [(t.hour, t.minute) for t in local] == [(9, 30), (9, 30)]
    assert [t.tzname() for t in local] == ["AEDT", "AEST"]
    assert [s.astimezone(UTC).hour for s in starts] == [22, 23]


def test_single_has_exactly_one_session(ctx, london):
    centre, instructor = london
    with write_transaction():
        workshop = create_workshop(**_fields(centre, instructor, kind="single", sessions=1))
    count = db.session.scalar(
        sa.select(sa.func.count()).where(WorkshopSession.workshop_id == workshop.id)
    )
    assert count == 1
    with pytest.raises(Invalid) as caught:
        create_workshop(**_fields(centre, instructor, kind="single", sessions=3))
    assert caught.value.fields["sessions"] == "A single class has exactly one session."


def test_every_bad_field_is_named(ctx, london):
    centre, instructor = london
    with pytest.raises(Invalid) as caught:
        create_workshop(
            **_fields(
                centre,
                instructor,
                kind="lecture",
                title="   ",
                sessions=1,
                duration_minutes=5,
                capacity=0,
                min_age_weeks=-1,
                price=Decimal("-1"),
                topics=("colic", "astrology"),
                room="x" * 200,
            )
        )
    fields = caught.value.fields
    assert caught.value.status == 422
    assert set(fields) >= {
        "kind",
        "title",
        "duration_minutes",
        "capacity",
        "min_age_weeks",
        "price",
        "topics",
        "room",
    }
    assert "astrology" in fields["topics"]


def test_cross_field_rules(ctx, london):
    centre, instructor = london
    with pytest.raises(Invalid) as caught:
        create_workshop(
            **_fields(
                centre,
                instructor,
                min_age_weeks=20,
                max_age_weeks=10,
                capacity=4,
                held_places=5,
                min_places=6,
                late_join_until=5,
            )
        )
    assert set(caught.value.fields) == {
        "max_age_weeks",
        "held_places",
        "min_places",
        "late_join_until",
    }


def test_course_needs_at_least_two_sessions(ctx, london):
    centre, instructor = london
    with pytest.raises(Invalid) as caught:
        create_workshop(**_fields(centre, instructor, sessions=1))
    assert "sessions" in caught.value.fields


def test_first_session_must_be_in_the_future(ctx, london):
    centre, instructor = london
    past = datetime.now() - timedelta(days=1)
    with pytest.raises(Invalid) as caught:
        create_workshop(**_fields(centre, instructor, first_session_local=past))
    assert caught.value.fields == {
        "first_session_local": "The first session must be in the future."
    }


def test_minimum_numbers_need_time_to_decide(ctx, london):
    centre, instructor = london
    soon = datetime.now() + timedelta(hours=30)
    with pytest.raises(Invalid) as caught:
        create_workshop(**_fields(centre, instructor, first_session_local=soon, min_places=2))
    assert set(caught.value.fields) == {"min_places"}


def test_instructor_must_teach_at_the_centre(ctx, london, make_centre, make_user):
    centre, _ = london
    elsewhere = make_centre(slug="elsewhere")
    outsider = make_user(email="other@example.org", role="instructor", centre=elsewhere)
    parent = make_user(email="parent@example.org")
    for person in (outsider, parent):
        with pytest.raises(Invalid) as caught:
            create_workshop(**_fields(centre, person))
        assert caught.value.fields["instructor_id"] == NOT_AN_INSTRUCTOR
        assert person.email not in str(caught.value.fields)
    with pytest.raises(Invalid) as caught:
        create_workshop(**_fields(centre, parent, centre_id=99999))
    assert caught.value.fields["centre_id"] == "There is no such centre."


def test_same_class_twice_is_refused(ctx, london):
    centre, instructor = london
    with write_transaction():
        create_workshop(**_fields(centre, instructor))
    with pytest.raises(Invalid) as caught:
        create_workshop(**_fields(centre, instructor, title="BABY MASSAGE COURSE"))
    assert "already starts at this time" in caught.value.fields["title"]


def test_create_does_not_commit(ctx, london):
    centre, instructor = london
    create_workshop(**_fields(centre, instructor))
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Workshop)) == 0


def test_aware_first_session_is_read_in_the_centre_zone(ctx, london):
    centre, instructor = london
    instant = datetime(date.today().year + 1, 7, 1, 9, 0, tzinfo=UTC)
    with write_transaction():
        workshop = create_workshop(**_fields(centre, instructor, first_session_local=instant))
    assert workshop.first_starts_at == instant


def test_validate_fields_reads_text_values():
    clean, errors = validate_workshop_fields(
        {
            "centre_id": 1,
            "instructor_id": 2,
            "kind": " Single ",
            "title": "  Drop-in   taster ",
            "first_session_local": "2031-05-06 10:15",
            "sessions": "",
            "duration_minutes": "75",
            "capacity": "12",
            "min_age_weeks": "0",
            "max_age_weeks": "52",
            "price": "£15.5",
            "publish": "Yes",
            "topics": "colic; sleep",
            "min_places": "",
            "held_places": "",
        },
        "GBP",
    )
    assert errors == {}
    assert clean["kind"] == "single"
    assert clean["title"] == "Drop-in taster"
    assert clean["first_session_local"] == datetime(2031, 5, 6, 10, 15)
    assert clean["sessions"] == 1
    assert clean["price"] == Decimal("15.50")
    assert clean["publish"] is True
    assert clean["topics"] == ("colic", "sleep")
    assert clean["min_places"] is None
    assert clean["held_places"] == 0


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("first_session_local", "06/05/2031 10:00", "Use YYYY-MM-DD HH:MM"),
        ("first_session_local", "2031-02-30 10:00", "not a real date"),
        ("capacity", "eight", "whole number"),
        ("capacity", "2.5", "whole number"),
        ("capacity", "1000", "between 1 and 100"),
        ("price", "free", "must be a number"),
        ("price", "1.234", "two decimal places"),
        ("price", "NaN", "must be a number"),
        ("price", "-3", "0 or more"),
        ("publish", "maybe", "yes or no"),
        ("sessions", "", "number of weekly sessions"),
        ("title", "t" * 201, "at most 200"),
    ],
)
def test_validate_fields_explains_bad_text(name, value, message):
    data = {
        "centre_id": 1,
        "instructor_id": 1,
        "kind": "course",
        "title": "Course",
        "first_session_local": "2031-05-06 10:00",
        "sessions": "4",
        "duration_minutes": "60",
        "capacity": "8",
        "min_age_weeks": "6",
        "max_age_weeks": "52",
        "price": "10",
        "publish": "no",
    }
    data[name] = value
    clean, errors = validate_workshop_fields(data, "GBP")
    assert message in errors[name]
    assert name not in clean


def test_an_instructor_id_as_text_is_ascii_digits(app, make_centre, make_user):
    """An id given as text: its own digits name the instructor; "²", Arabic-Indic
    digits or 5,000 digits name nobody (int() refuses the first and the last)."""
    centre = make_centre()
    teacher = make_user(role="instructor", centre=centre)
    with app.app_context():
        assert instructor_at(f" {teacher.id} ", centre.id).id == teacher.id
        for text in ("\u00b2", "\u0661", "1" * 5000, "-1", ""):
            assert instructor_at(text, centre.id) is None
