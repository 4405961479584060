"""Staff charts (/manage/charts and its CSVs): every number checked against the database,
who may see what, bad filters refused with a message, and valid, accessible HTML.

The world is built through the services (bookings, referral codes, absences,
attendance, paid at the centre); only what needs time to pass (a course that began two
weeks ago) or an outside party (a payment taken online) is written directly.
"""

import csv
import io
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import (
    Baby,
    Centre,
    Membership,
    Payment,
    Refund,
    Registration,
    User,
    Workshop,
    WorkshopSession,
)
from booking.models.registration import CONFIRMED, WAITLISTED
from booking.services.booking import referrals
from booking.services.booking.book import book_place
from booking.services.courses.absences import report_absence
from booking.services.payments import queries as money_queries
from booking.services.payments.figures import major_units
from booking.services.payments.staff import mark_paid_at_centre
from booking.services.schedule.charts import AGE_BANDS, OVER_A_YEAR, WEEKDAYS, percent
from booking.services.schedule.span import refresh_span
from booking.services.teaching.attendance import mark_attendance
from booking.timefmt import local_to_utc, to_local
from tests.html_checker import html_errors

CHARTS = ("fill", "fill-weekly", "demand", "attendance", "referrals", "money")
TITLES = {
    "fill": "Fill rate per workshop",
    "fill-weekly": "Fill rate per week",
    "demand": "Waiting-list demand by time slot and age",
    "attendance": "Attendance, absences and make-ups",
    "referrals": "Referral codes issued and used",
    "money": "Paid, refunded and owed",
}


def local_start(centre: Centre, days: int, hour: int) -> datetime:
    """The UTC instant of `hour`:00 on the centre's clocks, `days` from its today."""
    day = datetime.now(ZoneInfo(centre.timezone)).date() + timedelta(days=days)
    return local_to_utc(datetime.combine(day, time(hour)), centre.timezone)


@pytest.fixture
def world(app, make_centre, make_user, make_workshop, make_baby):
    """Staff of a London and a Sydney centre with a term of classes; another centre with
    its own staff and class."""
    london = make_centre(name="Riverside Hub")
    sydney = make_centre(name="Harbour Clinic", timezone="Australia/Sydney", country="AU",
                         town="Sydney", postcode="2000")
    hilltop = make_centre(name="Hilltop Clinic")
    staff = make_user("staff@example.org", role="staff", centre=london)
    other_staff = make_user("other@example.org", role="staff", centre=hilltop)
    make_user("parent@example.org")
    with app.app_context():
        db.session.add(Membership(user_id=staff.id, centre_id=sydney.id, role="staff"))
        db.session.commit()
    teacher = make_user("teacher@example.org", role="instructor", centre=london)
    now = datetime.now(UTC)

    def workshop(centre, title, days, hour, **fields):
        return make_workshop(centre=centre, title=title, starts_at=local_start(centre, days, hour),
                             instructor=teacher if centre is london else None, **fields)

    course = workshop(london, "Tuesday course", 10, 10, capacity=3, held_places=1,
                      held_until=now + timedelta(days=5))
    evening = workshop(sydney, "Evening single", 12, 18, kind="single", capacity=1)
    past = workshop(london, "Monday course", 2, 10, capacity=4)
    taster = workshop(london, "Online taster", 5, 14, kind="single", payment_mode="online",
                      price=30)
    later = workshop(london, "Next term course", 140, 10)
    hilltop_course = workshop(hilltop, "Hilltop course", 9, 11)

    def book(workshop, name, code=None, **baby):
        parent = make_user()
        baby = make_baby(parent, name=name, **baby)
        with app.app_context():
            result = book_place(parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id,
                                consent=True, referral_code=code)
            return result.registration.id, parent.id

    with app.app_context():
        codes = referrals.create_codes(course.id, count=3)
        referrals.revoke_code(course.id, codes[2].referral.id)
    ada, _ = book(course, "Ada", age_weeks=12)
    book(course, "Bo", age_weeks=12)
    book(course, "Cy", code=codes[0].code, age_weeks=12)
    today = date.today()
    book(course, "Di", age_weeks=10)  # 11 weeks at the first session
    # Born 6 weeks early: 20 weeks old at the first session, 14 weeks corrected.
    book(course, "Ed", date_of_birth=today - timedelta(days=133),
         due_date=today - timedelta(days=91))
    book(evening, "Fi", age_weeks=20)
    book(evening, "Gus", age_weeks=30)
    hal, _ = book(past, "Hal")
    ivy, _ = book(past, "Ivy")
    jo, jo_parent = book(past, "Jo")
    book(later, "Kit")
    book(hilltop_course, "Lou")
    with app.app_context():
        mark_paid_at_centre(ada, db.session.get(User, staff.id))
        sessions = db.session.scalars(
            sa.select(WorkshopSession).where(WorkshopSession.workshop_id == past.id)
            .order_by(WorkshopSession.number)
        ).all()
        report_absence(parent_id=jo_parent, registration_id=jo, session_id=sessions[1].id)
        # Two weeks pass: the course's first two sessions are over.
        for session in sessions:
            session.starts_at -= timedelta(days=15)
            session.ends_at -= timedelta(days=15)
        for registration in db.session.scalars(  # the families booked before it began
            sa.select(Registration).where(Registration.workshop_id == past.id)
        ):
            registration.confirmed_at -= timedelta(days=15)
        refresh_span(db.session.get(Workshop, past.id))
        sessions[1].makeups_taken = 1  # a family from another course made up a week here
        db.session.commit()
        one, two = sessions[0].id, sessions[1].id
        mark_attendance(one, teacher.id, {hal: "present", ivy: "present", jo: "absent"})
        mark_attendance(two, teacher.id, {hal: "present", ivy: "absent"})
        _paid_online(taster, london)
    return {
        "london": london, "sydney": sydney, "hilltop": hilltop, "staff": staff,
        "other_staff": other_staff, "course": course, "evening": evening, "past": past,
        "taster": taster, "later": later, "hilltop_course": hilltop_course,
    }


def _paid_online(workshop, centre) -> None:
    """A place on the online taster, paid online (the provider said so) and partly
    refunded."""
    parent_id = db.session.scalar(sa.select(Baby.parent_id).limit(1))
    baby = Baby(parent_id=parent_id, name="Mo", name_key="mo",
                date_of_birth=date.today() - timedelta(weeks=12))
    db.session.add(baby)
    db.session.flush()
    now = datetime.now(UTC)
    registration = Registration(workshop_id=workshop.id, baby_id=baby.id, parent_id=parent_id,
                                status=CONFIRMED, consent_at=now, confirmed_at=now)
    db.session.add(registration)
    db.session.flush()
    db.session.execute(sa.update(Workshop).where(Workshop.id == workshop.id)
                       .values(confirmed_count=Workshop.confirmed_count + 1))
    payment = Payment(registration_id=registration.id, workshop_id=workshop.id,
                      centre_id=centre.id, amount=3000, currency="GBP", status="succeeded",
                      refunded=1000, paid_at=now, stripe_payment_intent_id="pi_chart_1")
    db.session.add(payment)
    db.session.flush()
    db.session.add(Refund(payment_id=payment.id, amount=1000, status="succeeded", done_at=now))
    db.session.commit()


class Tables(HTMLParser):
    """Each table's caption and rows of cell texts."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._rows = self._row = self._text = None
        self._caption = ""

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._rows, self._caption = [], ""
        elif tag == "tr" and self._rows is not None:
            self._row = []
        elif tag in ("td", "th", "caption"):
            self._text = []

    def handle_data(self, data):
        if self._text is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._row is not None:
            self._row.append(" ".join("".join(self._text).split()))
            self._text = None
        elif tag == "caption":
            self._caption = " ".join("".join(self._text).split())
            self._text = None
        elif tag == "tr" and self._row is not None:
            self._rows.append(self._row)
            self._row = None
        elif tag == "table":
            self.tables[self._caption] = self._rows
            self._rows = None


def page_tables(client, query: str = "") -> dict[str, list[list[str]]]:
    """{chart name: its table, header first} from the charts page."""
    response = client.get("/manage/charts" + query)
    assert response.status_code == 200
    parser = Tables()
    parser.feed(response.get_data(as_text=True))
    by_title = {v: k for k, v in TITLES.items()}
    return {by_title[caption.removesuffix(": the numbers")]: rows
            for caption, rows in parser.tables.items()}


def csv_table(client, name: str, query: str = "") -> list[list[str]]:
    response = client.get(f"/manage/charts/{name}.csv{query}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith(f'attachment; filename="{name}-')
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def when(instant, zone) -> str:
    local = to_local(instant, zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


# --- what the database says, worked out row by row in Python --------------------------

def _charted_workshops(centre_ids, statuses=("published",)):
    """Workshops of the centres running in the default range (8 weeks back, 16 ahead)."""
    today = date.today()
    rows = db.session.execute(
        sa.select(Workshop, Centre).join(Centre, Centre.id == Workshop.centre_id)
        .where(Workshop.centre_id.in_(centre_ids), Workshop.status.in_(statuses))
        .order_by(Workshop.first_starts_at, Workshop.id)
    ).all()
    return [(w, c) for w, c in rows
            if to_local(w.first_starts_at, c.timezone).date() <= today + timedelta(weeks=16)
            and to_local(w.last_ends_at, c.timezone).date() >= today - timedelta(weeks=8)]


def _statuses(workshop_id) -> Counter:
    return Counter(db.session.scalars(
        sa.select(Registration.status).where(Registration.workshop_id == workshop_id)))


def expected_fill(centre_ids):
    rows = []
    for w, c in _charted_workshops(centre_ids):
        n = _statuses(w.id)
        taken = n["confirmed"] + n["pending_payment"]
        held = w.held_places - w.held_claimed
        rows.append([w.title, c.name, when(w.first_starts_at, c.timezone), w.capacity,
                     n["confirmed"], n["pending_payment"], held,
                     max(0, w.capacity - taken - held), n["waitlisted"],
                     percent(n["confirmed"], w.capacity)])
    return rows


def expected_weekly(centre_ids):
    weeks: dict[date, list[int]] = {}
    today = date.today()
    for w, c in _charted_workshops(centre_ids):
        confirmed = _statuses(w.id)["confirmed"]
        for s in db.session.scalars(sa.select(WorkshopSession).where(
                WorkshopSession.workshop_id == w.id, WorkshopSession.status == "scheduled")):
            day = to_local(s.starts_at, c.timezone).date()
            if today - timedelta(weeks=8) <= day <= today + timedelta(weeks=16):
                monday = day - timedelta(days=day.weekday())
                sums = weeks.setdefault(monday, [0, 0, 0])
                sums[0] += 1
                sums[1] += confirmed
                sums[2] += w.capacity
    rows = []
    for monday in sorted(weeks):
        year, week, _ = monday.isocalendar()
        sessions, confirmed, capacity = weeks[monday]
        rows.append([f"{year}-W{week:02d}", monday.isoformat(), sessions, confirmed, capacity,
                     percent(confirmed, capacity)])
    return rows


def _band(weeks: int) -> str:
    for limit, label in AGE_BANDS:
        if weeks * 7 < limit:
            return label
    return OVER_A_YEAR


def expected_demand(centre_ids):
    counts: Counter = Counter()
    classes: dict[tuple, set] = {}
    for w, c in _charted_workshops(centre_ids):
        local = to_local(w.first_starts_at, c.timezone)
        for baby in db.session.scalars(
            sa.select(Baby).join(Registration, Registration.baby_id == Baby.id)
            .where(Registration.workshop_id == w.id, Registration.status == WAITLISTED)
        ):
            key = (local.weekday(), local.hour, _band(baby.eligible_age_weeks_on(local.date())))
            counts[key] += 1
            classes.setdefault(key, set()).add(w.id)
    bands = [label for _, label in AGE_BANDS] + [OVER_A_YEAR]
    order = sorted(counts, key=lambda k: (-counts[k], k[0], k[1], bands.index(k[2])))
    return [[WEEKDAYS[k[0]], f"{k[1]:02d}:00", k[2], counts[k], len(classes[k])] for k in order]


# --- the tests -------------------------------------------------------------------------

def as_text(rows) -> list[list[str]]:
    return [[str(value) for value in row] for row in rows]


def test_every_chart_gives_the_databases_numbers_in_its_table_and_csv(app, client, auth, world):
    auth.login("staff@example.org")
    tables = page_tables(client)
    assert set(tables) == set(CHARTS)
    for name in CHARTS:
        assert csv_table(client, name) == tables[name], name  # the same numbers
    ids = [world["london"].id, world["sydney"].id]
    with app.app_context():
        assert tables["fill"][1:] == as_text(expected_fill(ids))
        assert tables["fill-weekly"][1:] == as_text(expected_weekly(ids))
        assert tables["demand"][1:] == as_text(expected_demand(ids))
    # ... and the world is the one described.
    fill = {row[0]: row[3:] for row in tables["fill"][1:]}
    assert fill == {
        "Monday course": ["4", "3", "0", "0", "1", "0", "75%"],
        "Online taster": ["8", "1", "0", "0", "7", "0", "13%"],
        "Tuesday course": ["3", "3", "0", "0", "0", "2", "100%"],
        "Evening single": ["1", "1", "0", "0", "0", "1", "100%"],
    }
    assert [row[0] for row in tables["fill"][1:]] == [
        "Monday course", "Online taster", "Tuesday course", "Evening single"]
    assert tables["fill"][0] == ["Workshop", "Centre", "First session", "Capacity", "Confirmed",
                                 "Awaiting payment", "Held for referrals", "Free", "Waiting",
                                 "Fill rate"]
    assert sum(int(row[2]) for row in tables["fill-weekly"][1:]) == 4 + 1 + 4 + 1
    with app.app_context():
        course = db.session.get(Workshop, world["course"].id)
        evening = db.session.get(Workshop, world["evening"].id)
        london = to_local(course.first_starts_at, "Europe/London")
        sydney = to_local(evening.first_starts_at, "Australia/Sydney")
    assert tables["demand"][1:] == [
        [WEEKDAYS[london.weekday()], "10:00", "8-15 weeks", "2", "1"],
        [WEEKDAYS[sydney.weekday()], "18:00", "26-52 weeks", "1", "1"],
    ]


def test_attendance_absences_and_makeups_per_session_that_has_happened(app, client, auth, world):
    auth.login("staff@example.org")
    rows = page_tables(client)["attendance"]
    with app.app_context():
        starts = db.session.scalars(
            sa.select(WorkshopSession.starts_at)
            .where(WorkshopSession.workshop_id == world["past"].id)
            .order_by(WorkshopSession.number)
        ).all()
    assert rows == [
        ["Workshop", "Centre", "Session starts", "Session", "Confirmed places", "Present",
         "Absent", "Absences reported", "Make-ups used"],
        ["Monday course", "Riverside Hub", when(starts[0], "Europe/London"), "1", "3", "2", "1",
         "0", "0"],
        ["Monday course", "Riverside Hub", when(starts[1], "Europe/London"), "2", "3", "1", "1",
         "1", "1"],
    ]


def test_referral_codes_issued_used_and_revoked(client, auth, world):
    auth.login("staff@example.org")
    rows = page_tables(client)["referrals"]
    assert [row[3:] for row in rows] == [
        ["Held places", "Claimed", "Codes issued", "Used", "Revoked", "Expired", "Still usable"],
        ["1", "1", "3", "1", "1", "0", "1"],
    ]
    assert rows[1][0] == "Tuesday course"


def test_money_is_the_payments_pages_money(app, client, auth, world):
    auth.login("staff@example.org")
    rows = {row[0]: row[3:] for row in page_tables(client)["money"][1:]}
    assert rows == {
        "Monday course": ["GBP", "0.00", "0.00", "0.00", "0.00", "0.00", "135.00"],
        "Online taster": ["GBP", "30.00", "10.00", "0.00", "0.00", "0.00", "0.00"],
        "Tuesday course": ["GBP", "0.00", "0.00", "0.00", "45.00", "0.00", "90.00"],
        "Evening single": ["AUD", "0.00", "0.00", "0.00", "0.00", "0.00", "45.00"],
    }
    with app.app_context():  # the workshop's payments page counts the same
        for key in ("past", "taster", "course", "evening"):
            workshop = db.session.get(Workshop, world[key].id)
            centre = db.session.get(Centre, workshop.centre_id)
            t = money_queries.workshop_money(workshop, centre).totals
            assert rows[workshop.title][1:] == [
                major_units(v) for v in (t.paid, t.refunded, t.refunding, t.paid_at_centre,
                                         t.to_give_back, t.owed)]


def test_filters_by_centre_and_dates(app, client, auth, world):
    auth.login("staff@example.org")
    sydney = world["sydney"].id
    tables = page_tables(client, f"?centre={sydney}")
    assert [row[0] for row in tables["fill"][1:]] == ["Evening single"]
    assert csv_table(client, "fill", f"?centre={sydney}") == tables["fill"]
    assert [row[0] for row in csv_table(client, "money", f"?centre={sydney}")[1:]] == [
        "Evening single"]
    later = (date.today() + timedelta(weeks=30)).isoformat()
    today = date.today().isoformat()
    titles = [row[0] for row in page_tables(client, f"?date_from={today}&date_to={later}")
              ["fill"][1:]]
    assert titles == ["Monday course", "Online taster", "Tuesday course", "Evening single",
                      "Next term course"]
    gone = (date.today() - timedelta(days=1)).isoformat()
    tables = page_tables(client, f"?date_from={gone}&date_to={gone}")
    assert "attendance" not in tables  # no session that day: nothing to draw or list
    assert [row[0] for row in tables["fill"][1:]] == ["Monday course"]  # running then


def spring_forward(after: date) -> date:
    """The next day London's clocks go forward (the last Sunday of March) after a day."""
    for year in (after.year, after.year + 1):
        day = date(year, 3, 31)
        day -= timedelta(days=(day.weekday() + 1) % 7)
        if day > after:
            return day
    raise AssertionError("unreachable")


def test_local_weekdays_hours_and_weeks_across_a_clock_change(app, client, auth, world,
                                                             make_workshop, make_user,
                                                             make_baby):
    """Classes on each side of the spring clock change in London, one half an hour after
    local midnight (still the day before in UTC): their slots and weeks are local."""
    london = world["london"]
    change = spring_forward(date.today() + timedelta(days=8))
    starts = [
        datetime.combine(change - timedelta(days=6), time(10), UTC),  # Monday 10:00 GMT
        datetime.combine(change + timedelta(days=1), time(9), UTC),  # Monday 10:00 BST
        datetime.combine(change + timedelta(days=8), time(23, 30), UTC),  # Tuesday 00:30 BST
    ]
    ages = []
    for n, start in enumerate(starts):
        workshop = make_workshop(centre=london, title=f"Class {n}", kind="single", capacity=1,
                                 starts_at=start, min_age_weeks=0, max_age_weeks=104)
        for name in ("Pip", "Quin"):
            parent = make_user()
            baby = make_baby(parent, name=name, age_weeks=2)
            with app.app_context():
                result = book_place(parent_id=parent.id, workshop_id=workshop.id,
                                    baby_id=baby.id, consent=True)
                if result.registration.status == WAITLISTED:
                    day = to_local(start, "Europe/London").date()
                    ages.append(_band(db.session.get(Baby, baby.id).eligible_age_weeks_on(day)))
    auth.login("staff@example.org")
    span = f"date_from={change - timedelta(days=7)}&date_to={change + timedelta(days=14)}"
    tables = page_tables(client, f"?centre={london.id}&{span}")
    monday, tuesday = [r for r in tables["demand"][1:] if r[0] == "Monday"], [
        r for r in tables["demand"][1:] if r[0] == "Tuesday"]
    assert [r[1] for r in monday] == ["10:00"] * len(monday) and [r[1] for r in tuesday] == [
        "00:00"]
    assert sum(int(r[3]) for r in monday) == 2 and tuesday[0][2:] == [ages[2], "1", "1"]
    mondays = [change - timedelta(days=6), change + timedelta(days=1), change + timedelta(days=8)]
    assert tables["fill-weekly"][1:] == [
        [f"{d.isocalendar()[0]}-W{d.isocalendar()[1]:02d}", d.isoformat(), "1", "1", "1", "100%"]
        for d in mondays
    ]


def test_the_page_draws_each_chart_as_an_accessible_svg(client, auth, world):
    auth.login("staff@example.org")
    body = client.get("/manage/charts").get_data(as_text=True)
    for name in CHARTS:
        assert f'aria-labelledby="chart-{name}-title chart-{name}-desc"' in body
        assert f'<title id="chart-{name}-title">{TITLES[name]}</title>' in body
        assert f'href="/manage/charts/{name}.csv?' in body
    assert body.count('role="img"') == len(CHARTS)
    assert "3 of 3, 2 waiting" in body  # numbers on the bars, not colour alone
    assert "3 families waiting" in body
    assert "Tuesday course" in body and "Hilltop course" not in body


def test_other_centres_staff_parents_and_strangers(client, auth, world):
    auth.login("other@example.org")
    body = client.get("/manage/charts").get_data(as_text=True)
    assert "Hilltop course" in body
    for title in ("Tuesday course", "Evening single", "Monday course", "Online taster"):
        assert title not in body
    for name in CHARTS:
        assert world["course"].title not in client.get(f"/manage/charts/{name}.csv").get_data(
            as_text=True)
    london = world["london"].id
    assert client.get(f"/manage/charts?centre={london}").status_code == 404
    assert client.get(f"/manage/charts/money.csv?centre={london}").status_code == 404
    auth.logout()
    auth.login("parent@example.org")
    assert client.get("/manage/charts").status_code == 403
    assert client.get("/manage/charts/fill.csv").status_code == 403
    auth.logout()
    response = client.get("/manage/charts/demand.csv")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_an_admin_sees_every_centre(client, auth, make_user, world):
    make_user("admin@example.org", role="admin")
    auth.login("admin@example.org")
    titles = [row[0] for row in page_tables(client)["fill"][1:]]
    assert "Hilltop course" in titles and "Tuesday course" in titles


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?date_from=2026-02-30", "From date (date_from) must be a real date"),
        ("?date_to=tomorrow", "To date (date_to) must be a real date"),
        ("?date_from=2026-05-01&date_to=2026-04-01", "must not be before the from date"),
        ("?date_from=2026-01-01&date_to=2028-06-01", "at most two years"),
        ("?date_from=0999-01-01", "must be between"),
        ("?centre=riverside", "Centre (centre) must be one from the list"),
        ("?centre=99999999999999999999", "Centre (centre) must be one from the list"),
    ],
)
def test_bad_filters_are_refused_with_a_message(client, auth, world, query, message):
    auth.login("staff@example.org")
    response = client.get("/manage/charts" + query)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert 'role="img"' not in response.get_data(as_text=True)
    response = client.get("/manage/charts/fill.csv" + query)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


@pytest.mark.parametrize("span", [("1970-01-01", "1971-12-31"), ("2998-01-02", "2999-12-31")])
def test_the_first_and_last_dates_allowed_are_charted(client, auth, world, span):
    auth.login("staff@example.org")
    query = f"?date_from={span[0]}&date_to={span[1]}"
    assert client.get("/manage/charts" + query).status_code == 200
    for name in CHARTS:
        assert csv_table(client, name, query)[1:] == []


def test_an_unknown_chart_is_not_found(client, auth, world):
    auth.login("staff@example.org")
    assert client.get("/manage/charts/nothing.csv").status_code == 404


def _count_queries(app, client, url) -> int:
    statements = []
    with app.app_context():
        engine = db.engine

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", on_execute)
    try:
        assert client.get(url).status_code == 200
    finally:
        sa.event.remove(engine, "before_cursor_execute", on_execute)
    return len(statements)


def test_the_page_reads_in_a_fixed_number_of_queries(app, client, auth, world, make_workshop,
                                                      make_user, make_baby):
    auth.login("staff@example.org")
    client.get("/manage/charts")
    before = _count_queries(app, client, "/manage/charts")
    for n in range(3):
        more = make_workshop(centre=world["london"], title=f"Extra {n}", capacity=1,
                             starts_in_days=20 + n)
        for name in ("Pip", "Quin"):
            parent = make_user()
            baby = make_baby(parent, name=name)
            with app.app_context():
                book_place(parent_id=parent.id, workshop_id=more.id, baby_id=baby.id,
                           consent=True)
    assert _count_queries(app, client, "/manage/charts") == before


def test_the_pages_are_valid_html(client, auth, world):
    auth.login("staff@example.org")
    pages = {
        "charts": client.get("/manage/charts").get_data(as_text=True),
        "refused": client.get("/manage/charts?date_from=nope").get_data(as_text=True),
        "manage": client.get("/manage").get_data(as_text=True),
    }
    assert 'href="/manage/charts"' in pages["manage"]
    assert html_errors(pages) == {label: [] for label in pages}
