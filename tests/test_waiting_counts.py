"""Waiting-list counts agree with the positions families are told: a baby who no longer
fits the class's ages (skipped when a place comes free) is counted nowhere the public
looks, and staff see how many such babies wait beside the line."""

import csv
import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import Baby, Centre, Registration, User, Workshop, utcnow
from booking.models.registration import WAITLISTED
from booking.services.accounts import api_tokens
from booking.services.accounts.babies import add_baby, update_baby
from booking.services.booking import book as booking
from booking.services.booking.places import eligibility
from booking.services.booking.waiting import WaitingCount, waiting_counts
from booking.services.schedule.edit import update_workshop
from booking.services.schedule.topic_tags import set_workshop_topics
from booking.timefmt import to_local


def count_queries(app, client, url: str) -> int:
    """The SQL statements of one GET of `url`, after a warm-up request."""
    assert client.get(url).status_code == 200, url
    statements: list[str] = []

    def on_execute(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", on_execute)
    try:
        assert client.get(url).status_code == 200, url
    finally:
        sa.event.remove(engine, "before_cursor_execute", on_execute)
    return len(statements)


@pytest.fixture
def riverside(make_centre):
    return make_centre(slug="riverside", name="Riverside Hub")


@pytest.fixture
def narrowed(app, riverside, make_user, make_workshop, make_baby):
    """A full class for 6 to 30 weeks with Old (28 weeks) and Young (10 weeks) waiting,
    in that order; then its ages are narrowed to 6 to 20 weeks: Old no longer fits."""
    centre = riverside
    make_user(email="staff@example.org", role="staff", centre=centre)
    workshop = make_workshop(centre=centre, title="Tiny Strokes", capacity=1,
                             min_age_weeks=6, max_age_weeks=30)
    families = {name: make_user(email=f"{name.lower()}@example.org")
                for name in ("Holder", "Old", "Young")}
    ages = {"Holder": 10, "Old": 28, "Young": 10}
    with app.app_context():
        for name, parent in families.items():
            baby = make_baby(parent, name=name, age_weeks=ages[name])
            booking.book_place(parent_id=parent.id, workshop_id=workshop.id,
                               baby_id=baby.id, consent=True)
        set_workshop_topics(workshop.id, ["twins"])
        update_workshop(workshop.id, max_age_weeks=20)
    return workshop


def flat(text: str) -> str:
    return " ".join(text.split())


def public_counts(client, workshop) -> dict[str, str | int]:
    """What each public page says about the class's waiting list."""

    def waiting_badge(page):
        found = re.search(r"\((\d+) waiting\)", flat(client.get(page).get_data(as_text=True)))
        return found and found.group(1)

    panel = flat(client.get(f"/classes/{workshop.id}").get_data(as_text=True))
    said = re.search(r"(\d+) (?:family is|families are) waiting\.", panel)
    embed = flat(client.get("/embed/centres/riverside").get_data(as_text=True))
    listed = client.get("/api/v1/workshops").get_json()["items"]
    return {
        "class page": said and said.group(1),
        "classes": waiting_badge("/classes"),
        "centre": waiting_badge("/centres/riverside"),
        "topic": waiting_badge("/topics/twins"),
        "embed": (found := re.search(r"Full: (\d+) waiting", embed)) and found.group(1),
        "api list": [x["waitlist_count"] for x in listed if x["id"] == workshop.id][0],
        "api read": client.get(f"/api/v1/workshops/{workshop.id}").get_json()["waitlist_count"],
    }


def test_public_counts_leave_out_a_baby_who_no_longer_fits(client, narrowed):
    assert public_counts(client, narrowed) == {
        "class page": "1", "classes": "1", "centre": "1", "topic": "1", "embed": "1",
        "api list": 1, "api read": 1,
    }


def test_a_new_family_is_told_the_next_place_and_every_count_takes_it(
    app, client, auth, narrowed, make_user, make_baby
):
    """Young is number 1; a new family joins behind Young as number 2 (Old is skipped),
    and the pages then say 2 are waiting, as the family was told."""
    parent = make_user(email="new@example.org")
    baby = make_baby(parent, name="Newt", age_weeks=10)
    auth.login("new@example.org")
    client.post(f"/classes/{narrowed.id}/book",
                data={"baby_id": str(baby.id), "consent": "y"})
    panel = flat(client.get(f"/classes/{narrowed.id}").get_data(as_text=True))
    assert "Newt is number 2 on the waiting list" in panel
    assert "2 families are waiting." in panel
    auth.logout()
    assert set(public_counts(client, narrowed).values()) == {"2", 2}


def test_staff_see_the_line_and_how_many_more_wait_outside_the_ages(app, client, auth,
                                                                    narrowed):
    auth.login("staff@example.org")
    page = flat(client.get("/manage").get_data(as_text=True))
    row = page[page.index("Tiny Strokes"):]
    row = row[:row.index("</tr>")]
    assert re.search(r"<td data-label=\"Waiting\">1<br><span class=\"meta\">"
                     r"and 1 more whose baby no longer fits "
                     r"the ages</span></td>", row), row
    with app.app_context():
        staff_id = db.session.scalar(sa.text("SELECT id FROM user_account WHERE email = "
                                             "'staff@example.org'"))
        token = api_tokens.create_token(staff_id, "counts")[1]
    body = client.get(f"/api/v1/workshops/{narrowed.id}/registrations",
                      headers={"Authorization": f"Bearer {token}"}).get_json()
    assert (body["waitlist_count"], body["waitlist_outside_ages_count"]) == (1, 1)
    waiting = [x for x in body["items"] if x["status"] == "waitlisted"]
    assert [(x["baby"]["name"], x["position"]) for x in waiting] == [("Old", None), ("Young", 1)]


def test_staff_see_no_note_when_every_waiting_baby_fits(app, client, auth, narrowed):
    with app.app_context():
        update_workshop(narrowed.id, max_age_weeks=30)  # Old fits again (the class is full)
    auth.login("staff@example.org")
    page = flat(client.get("/manage").get_data(as_text=True))
    row = page[page.index("Tiny Strokes"):]
    row = row[:row.index("</tr>")]
    assert '<td data-label="Waiting">2</td>' in row and "no longer fits" not in row


def test_a_kept_listing_counts_a_corrected_date_of_birth_at_once(
    app, client, narrowed, steady_listing_clock
):
    """The catalogue keeps its listings until something they show changes: a waiting
    baby's dates decide whether it is counted, so correcting them renews the listing;
    a new baby or a renamed one does not."""
    app.config["LISTING_CACHE_SECONDS"] = 10**9
    assert "(1 waiting)" in client.get("/classes").get_data(as_text=True)
    with app.app_context():
        old = db.session.scalar(sa.select(Baby).where(Baby.name == "Old"))
        revision = db.session.scalar(sa.text("SELECT value FROM catalogue_revision"))
        add_baby(old.parent_id, "Sibling", old.date_of_birth)
        update_baby(old.parent_id, old.id, name="Olly", date_of_birth=old.date_of_birth)
        db.session.commit()
        assert db.session.scalar(sa.text("SELECT value FROM catalogue_revision")) == revision
        # Born later than first given: 15 weeks at the first session, so it fits again.
        update_baby(old.parent_id, old.id, name="Olly",
                    date_of_birth=old.date_of_birth + timedelta(weeks=14))
    assert "(2 waiting)" in client.get("/classes").get_data(as_text=True)


def test_the_honest_count_costs_one_query_and_only_when_someone_waits(
    app, client, auth, narrowed, riverside, make_workshop, nothing_kept
):
    """The class page reads its waiting count with the class; it reads the waiting
    babies once more only when someone waits. The back office reads them in one query
    for every class with someone waiting."""
    quiet = make_workshop(centre=riverside, title="Quiet class", capacity=1)
    assert count_queries(app, client, f"/classes/{narrowed.id}") == count_queries(
        app, client, f"/classes/{quiet.id}"
    ) + 1
    auth.login("staff@example.org")
    one = count_queries(app, client, "/manage")
    with app.app_context():
        parent = db.session.scalar(sa.text("SELECT id FROM user_account WHERE email = "
                                           "'young@example.org'"))
        born = db.session.scalar(sa.select(Baby.date_of_birth).where(Baby.name == "Young"))
        for name in ("Twin", "Triplet"):  # the second waits
            booking.book_place(parent_id=parent, workshop_id=quiet.id, consent=True,
                               baby_id=add_baby(parent, name, born).id)
    page = flat(client.get("/manage").get_data(as_text=True))
    assert '<td data-label="Waiting">1</td>' in page[page.index("Quiet class"):]
    assert count_queries(app, client, "/manage") == one


def test_the_class_page_under_manage_says_the_same(app, client, auth, narrowed):
    auth.login("staff@example.org")
    page = flat(client.get(f"/manage/workshops/{narrowed.id}").get_data(as_text=True))
    assert "; 1 waiting (and 1 more whose baby no longer fits the ages)</dd>" in page


def _first_day(app, workshop) -> str:
    """The class's first session's local date, as the calendar's `date`."""
    with app.app_context():
        starts = db.session.scalar(sa.select(Workshop.first_starts_at)
                                   .where(Workshop.id == workshop.id))
        zone = db.session.scalar(sa.select(Centre.timezone)
                                 .where(Centre.id == workshop.centre_id))
    return to_local(starts, zone).date().isoformat()


@pytest.mark.parametrize("view", ["month", "week"])
def test_the_term_calendar_says_the_same(app, client, auth, narrowed, view):
    """Its fill line and bar count the line; the week, and the month's selected day,
    say how many more wait outside the ages, as the back office's list does."""
    auth.login("staff@example.org")
    day = _first_day(app, narrowed)
    page = flat(client.get("/manage/calendar", query_string={"view": view, "date": day})
                .get_data(as_text=True))
    fill = re.findall(r'<p class="cal-fill">([^<]*)', page)
    assert fill and fill[0].startswith("1 booked · 0 free · 1 waiting"), fill
    assert "1 waiting (and 1 more whose baby no longer fits the ages)</p>" in page
    waiting_bar = re.search(r'class="bar-waiting" x="[\d.]+" y="0" width="([\d.]+)"', page)
    assert waiting_bar.group(1) == "50.0"  # one booked, one waiting: half the bar each


def test_the_instructors_list_says_the_same(app, client, auth, narrowed):
    with app.app_context():
        email = db.session.scalar(sa.select(User.email)
                                  .where(User.id == narrowed.instructor_id))
    auth.login(email)
    page = flat(client.get("/teach").get_data(as_text=True))
    card = page[page.index("Tiny Strokes"):]
    assert '<span class="badge">1 waiting</span>' in card[:card.index("</li>")]


def test_the_calendar_and_the_instructors_list_read_the_line_once_and_only_when_someone_waits(
    app, client, auth, narrowed, riverside, make_workshop, nothing_kept
):
    """One more query for the waiting babies of every class shown with someone waiting
    (one class or two), none when nobody waits."""
    with app.app_context():
        teacher = db.session.get(User, narrowed.instructor_id)
        db.session.expunge(teacher)
    quiet = make_workshop(centre=riverside, instructor=teacher, title="Quiet class",
                          capacity=1)
    pages = {"staff@example.org": f"/manage/calendar?view=month&date={_first_day(app, narrowed)}",
             teacher.email: "/teach"}

    def counts():
        found = {}
        for email, url in pages.items():
            auth.login(email)
            found[email] = count_queries(app, client, url)
            auth.logout()
        return found

    one_waits = counts()
    with app.app_context():
        parent = db.session.scalar(sa.text("SELECT id FROM user_account WHERE email = "
                                           "'young@example.org'"))
        born = db.session.scalar(sa.select(Baby.date_of_birth).where(Baby.name == "Young"))
        for name in ("Twin", "Triplet"):  # the second waits
            booking.book_place(parent_id=parent, workshop_id=quiet.id, consent=True,
                               baby_id=add_baby(parent, name, born).id)
    assert counts() == one_waits
    with app.app_context():
        db.session.execute(sa.delete(Registration).where(Registration.status == WAITLISTED))
        db.session.commit()
    assert counts() == {email: n - 1 for email, n in one_waits.items()}


def test_the_demand_chart_counts_every_family_waiting(app, client, auth, narrowed):
    """Demand is for a time and an age band: a baby who no longer fits the class's ages
    still waits for a class then, in its own age band (Old, 28 weeks, and Young, 10)."""
    auth.login("staff@example.org")
    day = _first_day(app, narrowed)
    rows = list(csv.reader(io.StringIO(client.get(
        "/manage/charts/demand.csv", query_string={"date_from": day, "date_to": day}
    ).get_data(as_text=True))))
    waiting = rows[0].index("Waiting")
    assert sum(int(row[waiting]) for row in rows[1:]) == 2
    assert len(rows) == 3  # two age bands


def test_counts_read_by_dates_agree_with_each_babys_eligibility(
    app, riverside, make_user, make_workshop, make_baby
):
    """The counts read the waiting babies' dates grouped rather than each baby: they
    must judge as `eligibility` does, at the edges of the ages and for babies born
    early (whose age counts from the due date) or a little early (from birth)."""
    workshop = make_workshop(centre=riverside, capacity=1, min_age_weeks=8,
                             max_age_weeks=12, starts_in_days=14)
    parent = make_user("edges@example.org")
    with app.app_context():
        day = to_local(db.session.get(Workshop, workshop.id).first_starts_at,
                       riverside.timezone).date()
    births = [day - timedelta(weeks=w, days=d) for w, d in
              ((8, 0), (7, 6), (12, 6), (13, 0), (10, 0), (10, 3))]
    dues = [None, None, None, None, day - timedelta(weeks=7), day - timedelta(weeks=9, days=5)]
    babies = [make_baby(parent, name=f"Edge {n}", date_of_birth=born, due_date=due)
              for n, (born, due) in enumerate(zip(births, dues, strict=True))]
    with app.app_context():
        for baby in babies:
            db.session.add(Registration(parent_id=parent.id, workshop_id=workshop.id,
                                        baby_id=baby.id, status=WAITLISTED,
                                        waitlisted_at=utcnow()))
        db.session.commit()
        babies = [db.session.get(Baby, baby.id) for baby in babies]
        shown = db.session.get(Workshop, workshop.id)
        expected = sum(eligibility(b, shown).eligible for b in babies)
        assert 0 < expected < len(babies)
        assert waiting_counts([shown])[shown.id] == WaitingCount(
            expected, len(babies) - expected
        )
