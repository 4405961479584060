"""The staff term calendar (/manage/calendar): its numbers against the database, the
week, month and day views, filters, clashes, time zones, access, bad parameters and
valid HTML."""

import re
from datetime import date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import Membership, Registration, User, Workshop, WorkshopSession
from booking.models.people import ROLE_STAFF
from booking.models.registration import WAITLISTED
from booking.services.booking import book as booking
from booking.services.catalogue.centres import managed_centres
from booking.services.schedule import calendar as calendar_service
from booking.services.schedule.calendar_params import CalendarParams
from booking.timefmt import local_to_utc
from tests.html_checker import html_errors

LONDON = "Europe/London"


def monday(weeks_ahead: int = 3) -> date:
    """A Monday some weeks from now (the sessions of the tests are in the future)."""
    today = date.today()
    return today + timedelta(days=7 - today.weekday() + 7 * weeks_ahead)


def at(day: date, hour: int, minute: int = 0, tz: str = LONDON) -> datetime:
    return local_to_utc(datetime.combine(day, time(hour, minute)), tz)


def set_rooms(app, workshop_id: int, room: str) -> None:
    with app.app_context():
        db.session.execute(
            sa.update(WorkshopSession)
            .where(WorkshopSession.workshop_id == workshop_id)
            .values(room=room)
        )
        db.session.commit()


@pytest.fixture
def world(app, make_centre, make_user, make_workshop, make_baby):
    """A centre with staff, two instructors and a week of classes: a course with bookings,
    a held place and a waiting list, a single class in Room 1, a draft; another centre
    with its own staff and a class."""
    mon = monday()
    centre = make_centre(name="Riverside Hub")
    other = make_centre(name="Hilltop Clinic")
    staff = make_user("staff@example.org", role="staff", centre=centre)
    make_user("other@example.org", role="staff", centre=other)
    hannah = make_user("hannah@example.org", name="Hannah Lewis", role="instructor", centre=centre)
    grace = make_user("grace@example.org", name="Grace Okafor", role="instructor", centre=centre)
    course = make_workshop(
        centre=centre, instructor=hannah, title="Five-week course", sessions=4,
        starts_at=at(mon, 10), capacity=4, held_places=1,
    )
    single = make_workshop(
        centre=centre, instructor=grace, title="Colic taster", kind="single",
        starts_at=at(mon + timedelta(days=2), 13, 30),
    )
    draft = make_workshop(
        centre=centre, instructor=grace, title="Next term", kind="single",
        starts_at=at(mon + timedelta(days=4), 9), status="draft",
    )
    elsewhere = make_workshop(
        centre=other, title="Hilltop class", kind="single", starts_at=at(mon, 15)
    )
    set_rooms(app, single.id, "Room 1")
    with app.app_context():
        for n in range(5):  # three public places (one is held), then two waiting
            parent = make_user()
            baby = make_baby(parent, name=f"Baby {n}", age_weeks=12)
            booking.book_place(
                parent_id=parent.id, workshop_id=course.id, baby_id=baby.id, consent=True
            )
        week2 = db.session.scalar(
            sa.select(WorkshopSession).where(
                WorkshopSession.workshop_id == course.id, WorkshopSession.number == 2
            )
        )
        week2.absences = 1  # one family told us they will miss week 2
        db.session.commit()
    return {
        "monday": mon, "centre": centre, "other": other, "staff": staff, "hannah": hannah,
        "grace": grace, "course": course, "single": single, "draft": draft,
        "elsewhere": elsewhere,
    }


def page(client, auth, status=200, email="staff@example.org", **args):
    auth.login(email)
    response = client.get("/manage/calendar", query_string=args)
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return response.get_data(as_text=True)


def load(app, email="staff@example.org", **args):
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        choices = calendar_service.filter_choices(managed_centres(user))
        return calendar_service.load_calendar(CalendarParams(**args), choices)


def blocks(html: str) -> int:
    return html.count('class="cal-block')


def block_of(html: str, title: str) -> str:
    """The first session block whose title is `title`."""
    found = re.search(
        r'<div class="cal-block[^"]*">(?:(?!</div>).)*>' + re.escape(title) + r"</a>.*?</div>",
        html,
        re.S,
    )
    assert found, title
    return found.group(0)


# --- the numbers ----------------------------------------------------------------------------


def test_each_session_counts_booked_held_free_and_waiting_as_the_database_does(app, world):
    cal = load(app, view="month", day=world["monday"] + timedelta(days=7))
    sessions = [s for d in cal.days for s in d.sessions]
    with app.app_context():
        workshops = {w.id: w for w in db.session.scalars(sa.select(Workshop))}
        rows = db.session.scalars(sa.select(WorkshopSession)).all()
        waiting = dict(
            db.session.execute(
                sa.select(Registration.workshop_id, sa.func.count())
                .where(Registration.status == WAITLISTED)
                .group_by(Registration.workshop_id)
            ).all()
        )
    by_id = {r.id: r for r in rows}
    course = [s for s in sessions if s.workshop_id == world["course"].id]
    assert course, "the course is in the month"
    for s in sessions:
        row, w = by_id[s.session_id], workshops[s.workshop_id]
        booked = w.confirmed_count - row.absences + row.makeups_taken
        assert s.booked == booked
        assert s.held == w.held_places - w.held_claimed
        assert s.free == max(0, w.capacity - booked - s.held)
        assert s.waiting == waiting.get(w.id, 0)
    first = load(app, day=world["monday"]).days[0].sessions
    week1 = next(s for s in first if s.workshop_id == world["course"].id)
    assert (week1.booked, week1.held, week1.free, week1.waiting) == (3, 1, 0, 2)
    assert week1.fill_text() == "3 booked \u00b7 1 held \u00b7 0 free \u00b7 2 waiting"
    assert [part for part, _, _ in week1.bar()] == ["booked", "held", "waiting"]
    assert sum(width for _, _, width in week1.bar()) == pytest.approx(100, abs=0.05)
    week2 = load(app, day=world["monday"] + timedelta(days=7)).days[0].sessions[0]
    assert (week2.number, week2.booked, week2.free) == (2, 2, 1)


def test_the_week_shows_each_session_with_its_facts_in_text(app, client, auth, world):
    html = page(client, auth, date=world["monday"].isoformat())
    assert "Week " in html and world["monday"].strftime("%-d %B %Y") in html
    assert "Times are Europe/London time." in html
    assert f'href="/manage/workshops/{world["course"].id}"' in html
    assert "10:00\u201311:00 · week 1 of 4" in html
    assert "3 booked · 1 held · 0 free · 2 waiting" in html
    assert "No room · Hannah Lewis" in html
    assert "13:30\u201314:30 · single session" in html and "Room 1 · Grace Okafor" in html
    assert "Next term" in html and '<span class="badge cal-label">Draft</span>' in html
    assert "Hilltop class" not in html  # another centre's
    assert '<svg class="cal-bar"' in html and 'class="bar-booked"' in html
    # the grid, and the phone's single day (the Monday) with the days of the week
    assert '<table class="cal-table cal-week">' in html
    assert blocks(html) == 3 + 1  # three sessions in the grid, the Monday's one again
    assert 'aria-current="date"' in html


def test_today_is_the_default_day(app, client, auth, world):
    html = page(client, auth)
    assert "(today)" in html and "Today</span>" in html


def test_a_cancelled_session_is_struck_through_and_labelled(app, client, auth, world):
    with app.app_context():
        session = db.session.scalar(
            sa.select(WorkshopSession).where(WorkshopSession.workshop_id == world["single"].id)
        )
        session.status = "cancelled"
        db.session.commit()
    block = block_of(page(client, auth, date=world["monday"].isoformat()), "Colic taster")
    assert "is-cancelled" in block and ">Cancelled</span>" in block
    assert "booked" not in block and "cal-bar" not in block


def test_the_month_has_weeks_down_and_every_session_of_the_month(app, client, auth, world):
    day = world["monday"] + timedelta(days=7)
    html = page(client, auth, view="month", date=day.isoformat())
    with app.app_context():
        starts = db.session.execute(
            sa.select(WorkshopSession.starts_at)
            .join(Workshop, Workshop.id == WorkshopSession.workshop_id)
            .where(Workshop.centre_id == world["centre"].id)
        ).scalars()
        in_month = [s for s in starts if (s.month, s.year) == (day.month, day.year)]
    grid = html.split('<section class="cal-narrow"')[0]
    assert blocks(grid) == len(in_month)
    assert '<th scope="row" class="cal-weekno">' in grid and '<th scope="col">Monday</th>' in grid
    assert "Days with sessions this month" in html


def test_the_day_has_a_column_per_room(app, client, auth, world, make_workshop):
    day = world["monday"] + timedelta(days=2)
    make_workshop(
        centre=world["centre"], instructor=world["hannah"], title="Afternoon class",
        kind="single", starts_at=at(day, 15),
    )
    html = page(client, auth, view="day", date=day.isoformat())
    head = re.search(r"<thead>(.*?)</thead>", html, re.S).group(1)
    assert re.findall(r'<th scope="col"[^>]*>([^<]*)</th>', head) == ["Starts", "Room 1", "No room"]
    rows = re.findall(r'<th scope="row" class="cal-weekno">([^<]*)</th>', html)
    assert rows == ["13:30", "15:00"]
    empty = page(client, auth, view="day", date=(day + timedelta(days=1)).isoformat())
    assert "No sessions on this day." in empty


# --- filters and links ----------------------------------------------------------------------


def test_filters_by_room_and_instructor(app, client, auth, world):
    when = world["monday"].isoformat()
    by_room = page(client, auth, date=when, room="  room   1 ")
    assert "Colic taster" in by_room and "Five-week course" not in by_room
    assert "Filters: All your centres · Room 1 · Any instructor" in by_room
    by_teacher = page(client, auth, date=when, instructor=world["hannah"].id)
    assert "Five-week course" in by_teacher and "Colic taster" not in by_teacher
    assert '<option selected value="Room 1">' in page(client, auth, room="Room 1")


def test_previous_next_and_today_links_keep_the_filters(app, client, auth, world):
    day = world["monday"]
    html = page(client, auth, date=day.isoformat(), room="Room 1", instructor=world["grace"].id)
    keep = f"room=Room+1&amp;instructor={world['grace'].id}"
    for target in (day - timedelta(days=7), day + timedelta(days=7)):
        assert f"/manage/calendar?view=week&amp;date={target.isoformat()}&amp;{keep}" in html
    assert f'/manage/calendar?view=week&amp;{keep}">This week' in html
    assert f"view=month&amp;date={day.isoformat()}&amp;{keep}" in html
    month = page(client, auth, view="month", date="2027-01-31")
    assert "date=2026-12-31" in month and "date=2027-02-28" in month


def test_a_centre_filter_shows_that_centre_only(app, client, auth, world):
    with app.app_context():
        db.session.add(
            Membership(user_id=world["staff"].id, centre_id=world["other"].id, role=ROLE_STAFF)
        )
        db.session.commit()
    when = world["monday"].isoformat()
    both = page(client, auth, date=when)
    assert "Hilltop class" in both and "No room, Hilltop Clinic" in both
    only = page(client, auth, date=when, centre=world["other"].id)
    assert "Hilltop class" in only and "Five-week course" not in only


def test_times_name_their_zone_when_the_centres_keep_several(app, client, auth, world,
                                                             make_centre, make_workshop):
    sydney = make_centre(name="Bondi Studio", timezone="Australia/Sydney")
    with app.app_context():
        db.session.add(Membership(user_id=world["staff"].id, centre_id=sydney.id, role=ROLE_STAFF))
        db.session.commit()
    make_workshop(centre=sydney, title="Bondi course", kind="single",
                  starts_at=at(world["monday"], 9, tz="Australia/Sydney"))
    html = page(client, auth, date=world["monday"].isoformat())
    assert "each centre's own local time" in html
    assert re.search(r"09:00\u201310:00 AE[DS]T", html)
    assert re.search(r"10:00\u201311:00 (GMT|BST)", html)


# --- clashes --------------------------------------------------------------------------------


def test_a_room_clash_is_marked_on_both_sessions(app, client, auth, world, make_workshop):
    day = world["monday"] + timedelta(days=2)
    other = make_workshop(
        centre=world["centre"], instructor=world["hannah"], title="Overlapping class",
        kind="single", starts_at=at(day, 14),
    )
    set_rooms(app, other.id, "room 1")
    html = page(client, auth, date=world["monday"].isoformat())
    assert html.count("has-clash") == 2  # in the grid (the phone's Monday has no clash)
    taken = "Clash: {} at Riverside Hub is already taken by \u201c{}\u201d"
    assert taken.format("room 1", "Overlapping class") in block_of(html, "Colic taster")
    assert taken.format("Room 1", "Colic taster") in block_of(html, "Overlapping class")
    quiet = page(client, auth, date=(world["monday"] + timedelta(days=7)).isoformat())
    assert "Clash:" not in quiet


def test_an_instructor_teaching_elsewhere_is_a_clash_without_showing_that_class(
    app, client, auth, world, make_workshop
):
    make_workshop(
        centre=world["other"], instructor=world["hannah"], title="Hilltop morning",
        kind="single", starts_at=at(world["monday"], 11, 15),
    )
    html = page(client, auth, date=world["monday"].isoformat())
    assert "Clash: Hannah Lewis teaches \u201cHilltop morning\u201d" in html
    assert "minutes to travel between centres" in html
    assert "Clash: Hannah Lewis" in block_of(html, "Five-week course")
    assert ">Hilltop morning</a>" not in html


def test_cancelled_sessions_clash_with_nothing(app, client, auth, world, make_workshop):
    day = world["monday"] + timedelta(days=2)
    other = make_workshop(
        centre=world["centre"], instructor=world["hannah"], title="Overlapping class",
        kind="single", starts_at=at(day, 14),
    )
    set_rooms(app, other.id, "Room 1")
    with app.app_context():
        db.session.execute(
            sa.update(WorkshopSession)
            .where(WorkshopSession.workshop_id == other.id)
            .values(status="cancelled")
        )
        db.session.commit()
    assert "Clash:" not in page(client, auth, date=world["monday"].isoformat())


# --- access and bad requests ----------------------------------------------------------------


def test_only_staff_see_the_calendar(client, auth, world):
    response = client.get("/manage/calendar")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    auth.login("hannah@example.org")
    assert client.get("/manage/calendar").status_code == 403


def test_staff_see_only_their_own_centres(client, auth, world):
    when = world["monday"].isoformat()
    html = page(client, auth, email="other@example.org", date=when)
    assert "Hilltop class" in html and "Five-week course" not in html
    assert "Riverside Hub" not in html
    response = client.get(f"/manage/calendar?centre={world['centre'].id}")
    assert response.status_code == 404
    assert "Five-week course" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"view": "year"}, "View (view) must be week, month or day."),
        ({"date": "2027-02-30"}, "Date (date) must be a real date"),
        ({"date": "04/01/2027"}, "Date (date) must be a real date"),
        ({"date": "0999-01-01"}, "Date (date) must be between"),
        ({"centre": "riverside"}, "Centre (centre) must be one from the list."),
        ({"centre": "99999999999"}, "Centre (centre) must be one from the list."),
        ({"instructor": "-3"}, "Instructor (instructor) must be one from the list."),
        ({"room": "x" * 121}, "Room (room) must be at most 120 characters."),
    ],
)
def test_bad_parameters_are_a_400_naming_them(client, auth, world, args, message):
    html = page(client, auth, status=400, **args)
    assert message in html and "Please check the calendar" in html
    assert "<details class=\"cal-filters\" open>" in html


def test_an_instructor_from_elsewhere_is_refused(client, auth, world, make_user):
    stranger = make_user(role="instructor", centre=world["other"])
    html = page(client, auth, status=400, instructor=stranger.id)
    assert "must be one who teaches at your centres" in html


def test_the_edges_of_the_calendar_have_no_link_beyond_them(client, auth, world):
    html = page(client, auth, view="day", date="2999-12-31")
    assert "Next day" not in html and "Previous day" in html
    assert "date=3000" not in html


# --- cost and validity ----------------------------------------------------------------------


def test_the_page_runs_as_many_queries_for_many_sessions_as_for_few(
    app, client, auth, world, make_workshop
):
    statements = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement.split("FROM")[0][:80])

    auth.login("staff@example.org")
    url = f"/manage/calendar?view=month&date={world['monday'].isoformat()}"
    client.get(url)
    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        client.get(url)
        few = len(statements)
        for n in range(6):
            w = make_workshop(
                centre=world["centre"], title=f"Extra {n}", sessions=3,
                starts_at=at(world["monday"], 16) + timedelta(days=n % 3),
            )
            set_rooms(app, w.id, "Room 1")  # two at a time in Room 1: clashes
        statements.clear()
        html = client.get(url).get_data(as_text=True)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert "Extra 5" in html and "Clash:" in html
    assert len(statements) == few, statements


def test_the_calendar_pages_are_valid_html(app, client, auth, world, make_workshop):
    day = world["monday"] + timedelta(days=2)
    clash = make_workshop(
        centre=world["centre"], instructor=world["hannah"], title="Overlapping class",
        kind="single", starts_at=at(day, 14),
    )
    set_rooms(app, clash.id, "Room 1")
    auth.login("staff@example.org")
    when = world["monday"].isoformat()
    pages = {
        "week": client.get(f"/manage/calendar?date={when}"),
        "month": client.get(f"/manage/calendar?view=month&date={when}"),
        "day": client.get(f"/manage/calendar?view=day&date={day.isoformat()}"),
        "empty day": client.get(f"/manage/calendar?view=day&date={day + timedelta(1)}"),
        "bad": client.get("/manage/calendar?view=year&date=nope"),
        "index": client.get("/manage"),
    }
    assert [r.status_code for r in pages.values()] == [200, 200, 200, 200, 400, 200]
    html = {label: r.get_data(as_text=True) for label, r in pages.items()}
    assert 'href="/manage/calendar"' in html["index"]
    errors = html_errors(html)
    assert set(errors) == set(html)
    invalid = {label: problems for label, problems in errors.items() if problems}
    assert not invalid, invalid
