"""Centre wall-clock times across daylight-saving changes: a time in the spring gap moves
forward, a time in the autumn's repeated hour takes its first occurrence (rule 9)."""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import WorkshopSession
from booking.services.schedule import sessions
from booking.services.schedule.imports import import_schedule
from booking.timefmt import local_to_utc, to_local

# (zone, wall-clock time, the UTC instant stored, the local time and zone shown after)
CASES = [
    # London springs forward at 01:00 GMT on 28 March 2027: 01:30 does not exist.
    ("Europe/London", datetime(2027, 3, 28, 1, 30), datetime(2027, 3, 28, 1, 30), "02:30 BST"),
    # London falls back at 02:00 BST on 31 October 2027: 01:30 happens twice.
    ("Europe/London", datetime(2027, 10, 31, 1, 30), datetime(2027, 10, 31, 0, 30), "01:30 BST"),
    # Sydney springs forward at 02:00 AEST on 3 October 2027: 02:30 does not exist.
    ("Australia/Sydney", datetime(2027, 10, 3, 2, 30), datetime(2027, 10, 2, 16, 30), "03:30 AEDT"),
    # Sydney falls back at 03:00 AEDT on 4 April 2027: 02:30 happens twice.
    ("Australia/Sydney", datetime(2027, 4, 4, 2, 30), datetime(2027, 4, 3, 15, 30), "02:30 AEDT"),
]
IDS = ["london-gap", "london-repeat", "sydney-gap", "sydney-repeat"]


def shown(instant: datetime, zone: str) -> str:
    local = to_local(instant, zone)
    return f"{local:%H:%M} {local.tzname()}"


@pytest.mark.parametrize(("zone", "wall", "utc", "label"), CASES, ids=IDS)
def test_the_helper_moves_gaps_forward_and_takes_the_first_repeat(zone, wall, utc, label):
    stored = local_to_utc(wall, zone)
    assert stored == utc.replace(tzinfo=UTC)
    assert shown(stored, zone) == label


def test_ordinary_times_are_unchanged_either_side_of_the_change():
    assert local_to_utc(datetime(2027, 3, 28, 0, 30), "Europe/London") == datetime(
        2027, 3, 28, 0, 30, tzinfo=UTC
    )
    assert local_to_utc(datetime(2027, 3, 28, 2, 30), "Europe/London") == datetime(
        2027, 3, 28, 1, 30, tzinfo=UTC
    )
    assert local_to_utc(datetime(2027, 10, 31, 2, 30), "Europe/London") == datetime(
        2027, 10, 31, 2, 30, tzinfo=UTC
    )


def _session_of(workshop_id: int) -> WorkshopSession:
    db.session.expire_all()
    return db.session.scalars(
        sa.select(WorkshopSession).where(WorkshopSession.workshop_id == workshop_id)
    ).one()


@pytest.mark.parametrize(("zone", "wall", "utc", "label"), CASES, ids=IDS)
def test_moving_a_session_to_a_changeover_time(ctx, make_centre, make_workshop, zone, wall,
                                               utc, label):
    centre = make_centre(timezone=zone)
    workshop = make_workshop(centre=centre, sessions=1,
                             starts_at=datetime(2027, 1, 12, 10, tzinfo=UTC))
    sessions.move_session(_session_of(workshop.id).id, wall)
    moved = _session_of(workshop.id)
    assert moved.starts_at == utc.replace(tzinfo=UTC)
    assert shown(moved.starts_at, zone) == label


@pytest.mark.parametrize(("zone", "wall", "utc", "label"), CASES, ids=IDS)
def test_the_schedule_import_reads_changeover_times_the_same_way(ctx, make_centre, make_user,
                                                                 zone, wall, utc, label):
    centre = make_centre(slug="riverside", timezone=zone)
    make_user(email="teacher@example.org", role="instructor", centre=centre)
    text = (
        "centre,title,kind,instructor_email,first_session,sessions,duration_minutes,capacity,"
        "min_age_weeks,max_age_weeks,price,description,publish\n"
        "riverside,Baby massage,single,teacher@example.org,"
        f"{wall:%Y-%m-%d %H:%M},1,60,8,6,52,0,Gentle strokes,yes\n"
    )
    result = import_schedule(text)
    assert result.ok, [str(e) for e in result.errors]
    session = _session_of(result.workshop_ids[0])
    assert session.starts_at == utc.replace(tzinfo=UTC)
    assert shown(session.starts_at, zone) == label
