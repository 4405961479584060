"""Centre wall-clock times across daylight-saving changes: a time in the spring gap moves
forward, a time in the autumn's repeated hour takes its first occurrence (rule 9)."""

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import WorkshopSession
from booking.services.schedule import sessions
from booking.services.schedule.imports import import_schedule
from booking.timefmt import format_time_range, local_to_utc, to_local
from tests.clock_changes import first_sunday, last_sunday, next_week_at


def _at(day: date, hour: int, minute: int = 0, days: int = 0) -> datetime:
    day = day + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, minute)


# The changes of a year still to come, so that a class at those times is in the future
# whenever the suite runs (in 2027: 28 March, 31 October, 3 October and 4 April).
YEAR = date.today().year + 2
LONDON_SPRING, LONDON_AUTUMN = last_sunday(YEAR, 3), last_sunday(YEAR, 10)
SYDNEY_SPRING, SYDNEY_AUTUMN = first_sunday(YEAR, 10), first_sunday(YEAR, 4)
# (zone, wall-clock time, the UTC instant stored, the local time and zone shown after)
CASES = [
    # London springs forward at 01:00 GMT on the last Sunday of March: 01:30 does not exist.
    ("Europe/London", _at(LONDON_SPRING, 1, 30), _at(LONDON_SPRING, 1, 30), "02:30 BST"),
    # London falls back at 02:00 BST on the last Sunday of October: 01:30 happens twice.
    ("Europe/London", _at(LONDON_AUTUMN, 1, 30), _at(LONDON_AUTUMN, 0, 30), "01:30 BST"),
    # Sydney springs forward at 02:00 AEST on the first Sunday of October: 02:30 does not
    # exist.
    ("Australia/Sydney", _at(SYDNEY_SPRING, 2, 30), _at(SYDNEY_SPRING, 16, 30, days=-1),
     "03:30 AEDT"),
    # Sydney falls back at 03:00 AEDT on the first Sunday of April: 02:30 happens twice.
    ("Australia/Sydney", _at(SYDNEY_AUTUMN, 2, 30), _at(SYDNEY_AUTUMN, 15, 30, days=-1),
     "02:30 AEDT"),
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


@pytest.mark.parametrize("zone, day", [("Europe/London", LONDON_AUTUMN),
                                       ("Australia/Sydney", SYDNEY_AUTUMN)])
def test_an_instant_in_the_repeated_hour_comes_back_as_itself(zone, day):
    """Both instants the repeated hour holds, read as the centre's wall-clock time (as
    an API time with an offset is), convert back to themselves: the second is not
    taken for the first, an hour earlier."""
    first = local_to_utc(_at(day, 1 if zone == "Europe/London" else 2, 30), zone)
    for instant in (first, first + timedelta(hours=1)):
        wall = to_local(instant, zone).replace(tzinfo=None)
        assert local_to_utc(wall, zone) == instant


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
    workshop = make_workshop(centre=centre, sessions=1, starts_at=next_week_at(10))
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


def test_a_time_range_across_a_clock_change_names_each_end_s_zone():
    """01:30 EDT to 01:30 EST is an hour on the night New York's clocks go back: a range
    naming one zone for both ends read as no time at all (as emails, clash messages and
    the term calendar write it)."""
    starts = datetime(2027, 11, 7, 5, 30, tzinfo=UTC)
    ends = starts + timedelta(hours=1)
    assert format_time_range(starts, ends, "America/New_York") == "01:30 EDT\u201301:30 EST"
    assert format_time_range(starts, ends, "America/New_York", with_day=True) == (
        "Sun 7 Nov 2027, 01:30 EDT\u201301:30 EST")
    winter = datetime(2027, 1, 12, 10, 0, tzinfo=UTC)
    assert format_time_range(winter, winter + timedelta(hours=1), "Europe/London") == (
        "10:00\u201311:00 GMT")
    assert format_time_range(winter, winter + timedelta(hours=1), "Europe/London",
                             with_day=True) == "Tue 12 Jan 2027, 10:00\u201311:00 GMT"


def test_the_term_calendar_names_each_end_s_zone_across_a_clock_change():
    """In a one-zone view (times without the zone) a session across the clocks going
    back still names both ends' zones, not "01:30-01:30"."""
    import dataclasses

    from booking.services.schedule.calendar import CalendarSession

    starts = datetime(2027, 11, 7, 5, 30, tzinfo=UTC)
    fields = {f.name: None for f in dataclasses.fields(CalendarSession)}
    fields.update(starts_at=starts, ends_at=starts + timedelta(hours=1),
                  timezone="America/New_York")
    session = CalendarSession(**fields)
    assert session.times(False) == "01:30 EDT\u201301:30 EST"
    winter = datetime(2027, 1, 12, 15, 0, tzinfo=UTC)
    fields.update(starts_at=winter, ends_at=winter + timedelta(hours=1))
    assert CalendarSession(**fields).times(False) == "10:00\u201311:00"


def test_a_baby_s_age_today_is_counted_on_the_class_s_own_date(
    ctx, monkeypatch, make_centre, make_workshop, make_user, make_baby
):
    """At 16:00 UTC on 6 December it is already the 7th in Sydney: a baby born on 4 May
    is 31 weeks old there (30 in London), so "classes for a baby of 31 weeks" is what
    the Sydney class's refusal links to; 30 listed Sydney classes that refused them."""
    from booking.services.booking import places

    monkeypatch.setattr(places, "utc_now", lambda: datetime(2026, 12, 6, 16, 0, tzinfo=UTC))
    sydney = make_workshop(centre=make_centre(slug="bondi", timezone="Australia/Sydney",
                                              country="AU"))
    london = make_workshop(centre=make_centre(slug="hub"))
    parent = make_user()
    baby = make_baby(parent, date_of_birth=date(2026, 5, 4))
    db.session.rollback()
    assert places.age_weeks_now(baby, at=db.session.get(type(sydney), sydney.id)) == 31
    assert places.age_weeks_now(baby, at=db.session.get(type(london), london.id)) == 30


def test_a_session_s_end_names_its_zone_when_the_clocks_changed_since_its_start(
    client, make_centre, make_workshop
):
    """A class page read "Sun 31 Oct 2027, 01:00 BST to 01:00" for an hour-long class on
    the night the clocks go back."""
    from booking.timefmt import format_end_time

    starts = datetime(2027, 10, 31, 0, 0, tzinfo=UTC)  # 01:00 BST
    assert format_end_time(starts + timedelta(hours=1), starts, "Europe/London") == "01:00 GMT"
    winter = datetime(2027, 1, 12, 10, 0, tzinfo=UTC)
    assert format_end_time(winter + timedelta(hours=1), winter, "Europe/London") == "11:00"
    workshop = make_workshop(centre=make_centre(), kind="single", sessions=1,
                             starts_at=starts)
    page = " ".join(client.get(f"/classes/{workshop.id}").get_data(as_text=True).split())
    assert "Sun 31 Oct 2027, 01:00 BST to 01:00 GMT" in page
    # The ready page's and the instructor's "start-end zone" lines name each end's zone.
    from types import SimpleNamespace

    from flask import current_app

    with client.application.app_context():
        line = current_app.jinja_env.from_string(
            "{{ s.starts_at|time_range(s.ends_at, tz) }}"
        ).render(s=SimpleNamespace(starts_at=starts, ends_at=starts + timedelta(hours=1)),
                 tz="Europe/London")
    assert line == "01:00 BST\u201301:00 GMT"
