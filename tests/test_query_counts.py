"""No query per row: each main page runs as many SQL queries with 50 rows as with 5.

A query counter (a before_cursor_execute listener on the engine) counts the SQL of one
request after a warm-up request. The data grows from 5 to 50 rows of everything the
pages list: workshops of a centre and an instructor (with topics and waiting lists),
registrations on one class (its roster and back-office page), and one parent's bookings
(each with an absence, as the parent's private calendar feed shows them, and a payment
made online with a refund, as the bookings page shows them).
"""

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import (
    Absence,
    Baby,
    Payment,
    Refund,
    Registration,
    Workshop,
    workshop_topic,
)
from booking.services.accounts.feed_tokens import issue_feed_token

SMALL, LARGE = 5, 50


class Scenario:
    """A centre with its instructor, staff, one big class and a parent, grown row by row."""

    def __init__(self, app, make_centre, make_user, make_workshop):
        self.app = app
        self.make_workshop = make_workshop
        self.make_user = make_user
        self.centre = make_centre(slug="hub", latitude=51.45, longitude=-2.58)
        self.teacher = make_user(email="teacher@example.org", role="instructor",
                                 centre=self.centre)
        self.staff = make_user(email="staff@example.org", role="staff", centre=self.centre)
        self.parent = make_user(email="parent@example.org")
        self.big = make_workshop(centre=self.centre, instructor=self.teacher, capacity=500)
        with app.app_context():
            self.big_session_id = db.session.scalar(
                sa.text("SELECT id FROM workshop_session WHERE workshop_id = :w AND number = 1"),
                {"w": self.big.id},
            )
        self.rows = 0

    def grow_to(self, total: int) -> None:
        """Add rows until every list has `total` of them."""
        for i in range(self.rows, total):
            self._add_row(i)
        self.rows = total

    def _baby(self, parent_id: int, name: str) -> Baby:
        baby = Baby(
            parent_id=parent_id,
            name=name,
            name_key=Baby.key_for(name),
            date_of_birth=date.today() - timedelta(weeks=10),
        )
        db.session.add(baby)
        db.session.flush()
        return baby

    def _register(self, workshop_id: int, baby: Baby, status: str) -> Registration:
        now = datetime.now(UTC)
        registration = Registration(
                workshop_id=workshop_id,
                baby_id=baby.id,
                parent_id=baby.parent_id,
                status=status,
                consent_at=now,
                confirmed_at=now if status == "confirmed" else None,
                waitlisted_at=now if status == "waitlisted" else None,
            )
        db.session.add(registration)
        db.session.flush()
        if status == "confirmed":
            db.session.execute(
                sa.update(Workshop)
                .where(Workshop.id == workshop_id)
                .values(confirmed_count=Workshop.confirmed_count + 1)
            )
        return registration

    def _paid(self, registration: Registration, workshop_id: int, i: int) -> None:
        """The booking's fee paid online, and part of it refunded."""
        now = datetime.now(UTC)
        payment = Payment(
            registration_id=registration.id,
            workshop_id=workshop_id,
            centre_id=self.centre.id,
            amount=4500,
            currency="GBP",
            status="succeeded",
            refunded=500,
            paid_at=now,
            stripe_payment_intent_id=f"pi_counted_{i}",
        )
        db.session.add(payment)
        db.session.flush()
        db.session.add(Refund(payment_id=payment.id, amount=500, status="succeeded",
                              done_at=now))

    def _add_row(self, i: int) -> None:
        workshop = self.make_workshop(
            centre=self.centre,
            instructor=self.teacher,
            capacity=1,
            starts_in_days=3 + i % 20,
            kind="course" if i % 2 else "single",
            # Courses taking late joiners: when booking closes is read from the sessions
            # a listing loaded, not one query per course.
            late_join_until=2 if i % 2 else 1,
        )
        other = self.make_user(email=f"family{i}@example.org")
        with self.app.app_context():
            db.session.execute(
                sa.insert(workshop_topic).values(workshop_id=workshop.id, topic="sleep")
            )
            # The parent's own booking (the class is then full) and someone waiting.
            mine = self._register(
                workshop.id, self._baby(self.parent.id, f"Baby {i}"), "confirmed"
            )
            first_session = db.session.scalar(
                sa.text("SELECT id FROM workshop_session WHERE workshop_id = :w AND number = 1"),
                {"w": workshop.id},
            )
            db.session.add(Absence(registration_id=mine.id, session_id=first_session,
                                   parent_id=self.parent.id))
            self._paid(mine, workshop.id, i)
            self._register(workshop.id, self._baby(other.id, f"Waiting {i}"), "waitlisted")
            # One more family on the big class's roster.
            self._register(self.big.id, self._baby(other.id, f"Roster {i}"), "confirmed")
            db.session.commit()


def count_queries(app, client, url: str, *, begin: bool = True) -> int:
    """The SQL statements of one GET of `url` (after a warm-up request); without the
    BEGIN that SQLite's driver is sent and PostgreSQL's is not, if `begin` is False."""
    assert client.get(url).status_code == 200, url
    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", on_execute)
    try:
        response = client.get(url)
    finally:
        sa.event.remove(engine, "before_cursor_execute", on_execute)
    assert response.status_code == 200, url
    if not begin:
        statements = [x for x in statements if x.strip().upper() != "BEGIN"]
    return len(statements)


PUBLIC_PAGES = [
    "/",
    "/classes",
    "/classes?age_weeks=10&date_from=2020-01-01",
    "/classes?q=hub&topic=sleep",
    "/classes/{big}",
    "/centres/hub",
    "/instructors/{teacher}",
    "/api/v1/workshops",
    "/api/v1/workshops?per_page=100",
    "/api/v1/workshops/{big}",
    "/feeds/centres/hub.ics",
    "/feeds/instructors/{teacher}.ics",
]
LOGGED_IN_PAGES = [
    ("parent@example.org", "/account/bookings"),
    ("parent@example.org", "/classes/{big}"),
    ("teacher@example.org", "/teach"),
    ("teacher@example.org", "/teach/workshops/{big}"),
    ("teacher@example.org", "/teach/workshops/{big}/roster.csv"),
    ("teacher@example.org", "/teach/sessions/{session}/register"),
    ("staff@example.org", "/manage/workshops/{big}"),
]


@pytest.fixture
def scenario(app, make_centre, make_user, make_workshop, steady_listing_clock):
    """The shared data the pages show, with no rows yet (kept listings kept for the
    whole test: a budget counts a kept page's statements)."""
    return Scenario(app, make_centre, make_user, make_workshop)


def _url(template: str, scenario: Scenario) -> str:
    return template.format(
        big=scenario.big.id, teacher=scenario.teacher.id, session=scenario.big_session_id
    )


@pytest.mark.parametrize("template", PUBLIC_PAGES)
def test_public_page_queries_do_not_grow_with_rows(app, client, scenario, template,
                                                   nothing_kept):
    url = _url(template, scenario)
    scenario.grow_to(SMALL)
    few = count_queries(app, client, url)
    scenario.grow_to(LARGE)
    many = count_queries(app, client, url)
    assert few == many, f"{url}: {few} queries with {SMALL} rows, {many} with {LARGE}"


@pytest.mark.parametrize(("email", "template"), LOGGED_IN_PAGES)
def test_logged_in_page_queries_do_not_grow_with_rows(
    app, client, auth, scenario, email, template, nothing_kept
):
    url = _url(template, scenario)
    assert auth.login(email).status_code == 302
    scenario.grow_to(SMALL)
    few = count_queries(app, client, url)
    scenario.grow_to(LARGE)
    many = count_queries(app, client, url)
    assert few == many, f"{url}: {few} queries with {SMALL} rows, {many} with {LARGE}"


@pytest.mark.parametrize("email", ["parent@example.org", "teacher@example.org"])
def test_private_feed_queries_do_not_grow_with_rows(app, client, scenario, email,
                                                    nothing_kept):
    """A parent's (bookings, absences) and an instructor's (teaching) private feed."""
    user_id = scenario.parent.id if email.startswith("parent") else scenario.teacher.id
    with app.app_context():
        url = f"/feeds/private/{issue_feed_token(user_id)}.ics"
    scenario.grow_to(SMALL)
    few = count_queries(app, client, url)
    scenario.grow_to(LARGE)
    many = count_queries(app, client, url)
    assert few == many, f"{email}'s private feed: {few} queries with {SMALL} rows, {many}"
    body = client.get(url).get_data(as_text=True)
    assert body.count("BEGIN:VEVENT") >= LARGE


# What the pages measured by `make bench` may cost in SQL statements (BEGIN aside), with
# the scenario's rows: kept pages read the catalogue's revision and what is the
# visitor's own. A change that needs more should say why here.
STATEMENT_BUDGET = [
    (None, "/classes", 1),
    (None, "/centres/hub", 1),
    (None, "/instructors/{teacher}", 1),
    (None, "/classes/{big}", 1),
    (None, "/feeds/centres/hub.ics", 2),
    ("parent@example.org", "/classes/{big}", 4),
    ("parent@example.org", "/account/bookings", 6),
]


@pytest.mark.parametrize(("email", "template", "budget"), STATEMENT_BUDGET)
def test_pages_keep_to_their_statement_budget(app, client, auth, scenario, email, template,
                                              budget):
    scenario.grow_to(SMALL)
    if email:
        assert auth.login(email).status_code == 302
    url = _url(template, scenario)
    assert count_queries(app, client, url, begin=False) <= budget, url


@pytest.mark.parametrize("template", ["/feeds/centres/hub.ics", "/feeds/instructors/{teacher}.ics"])
def test_a_feed_rendered_afresh_keeps_to_its_statement_budget(app, client, scenario, template,
                                                              nothing_kept):
    """With nothing kept (as after each change to it): its centre or instructor, its
    version, and its sessions with their workshops, centres and how many sessions each
    workshop has in all."""
    scenario.grow_to(SMALL)
    assert count_queries(app, client, _url(template, scenario), begin=False) <= 3


@pytest.mark.parametrize("email", ["parent@example.org", "teacher@example.org"])
def test_a_private_feed_keeps_to_its_statement_budget(app, client, scenario, email):
    """Its user, the person's own rows (teaching included) and the aggregate version."""
    user_id = scenario.parent.id if email.startswith("parent") else scenario.teacher.id
    scenario.grow_to(SMALL)
    with app.app_context():
        url = f"/feeds/private/{issue_feed_token(user_id)}.ics"
    assert count_queries(app, client, url, begin=False) <= 3


def test_the_lists_really_hold_the_rows(app, client, auth, scenario):
    """The counts above compare full pages, not empty ones."""
    scenario.grow_to(LARGE)
    api = client.get("/api/v1/workshops?per_page=100").get_json()
    assert api["total"] == LARGE + 1
    assert len(api["items"]) == LARGE + 1
    feed = client.get("/feeds/centres/hub.ics").get_data(as_text=True)
    assert feed.count("BEGIN:VEVENT") > LARGE
    auth.login("teacher@example.org")
    roster = client.get(f"/teach/workshops/{scenario.big.id}/roster.csv").get_data(as_text=True)
    assert sum("Roster " in line for line in roster.splitlines()) == LARGE
    auth.logout()
    auth.login("parent@example.org")
    bookings = client.get("/account/bookings").get_data(as_text=True)
    assert sum(f"Baby {i}<" in bookings or f"Baby {i} " in bookings for i in range(LARGE)) > 0
    assert bookings.count("Receipt PAY-") == LARGE
    assert bookings.count("Refunded £5.00") == LARGE
