"""Home-practice sheets: after each session, the week's sheet for every family on it
(absent ones too, and those who made the week up), once, by email and under /account."""

import email
import os
import re
import threading
from datetime import UTC, datetime, timedelta
from email.policy import default

import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.mail.context import ONE_PAGE_CHARACTERS
from booking.mail.sender import send_all_due
from booking.models import MakeupBooking, OutboxMessage, PracticeSheet, WorkshopSession
from booking.services.courses import absences, makeups
from booking.services.plans.practice import (
    makeup_practice_key,
    practice_key,
    send_practice_sheets,
)
from booking.services.plans.templates import TEMPLATES
from tests.html_checker import html_errors
from tests.mailtools import add_registration
from tests.makeup_helpers import book, session_of

PLANS = {
    1: ("Week 1: legs and feet", "Asking permission, and the legs.", "- Kneading\n- Milking"),
    2: (
        "Week 2: tummy, for wind and colic",
        "Clockwise circles around the tummy, and the sun and moon stroke.",
        "Warm your hands and rest them on the tummy first.\n\n"
        "- Clockwise circles with flat fingers, about five times\n"
        "- Legs up to the tummy, held gently for a count of ten",
    ),
    3: ("Week 3: chest and arms", "Open book strokes across the chest.", "Open book."),
}
SUBJECT = "Week 2 at home: tummy, for wind and colic"
# Words of the health questions and answers: none may reach a sheet's email.
HEALTH_WORDS = re.compile(r"hip|allerg|eczema|reflux|condition|clearance", re.IGNORECASE)


def set_plan(workshop, number, title, covers="", practice=""):
    """Write one session's plan columns directly."""
    db.session.execute(
        sa.update(WorkshopSession)
        .where(WorkshopSession.workshop_id == workshop.id, WorkshopSession.number == number)
        .values(plan_title=title, plan_covers=covers, plan_practice=practice)
    )
    db.session.commit()


def sheets() -> list[PracticeSheet]:
    db.session.rollback()  # a fresh read, seeing what other threads committed
    return list(db.session.scalars(sa.select(PracticeSheet).order_by(PracticeSheet.id)))


def practice_emails() -> list[OutboxMessage]:
    db.session.rollback()  # a fresh read, seeing what other threads committed
    return list(
        db.session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.dedupe_key.like("practice:%"))
            .order_by(OutboxMessage.id)
        )
    )


@pytest.fixture
def course(ctx, make_centre, make_workshop, make_user, make_baby):
    """A 4-week course with plans and three families, Bea saying she will miss week 2;
    Dan, from a Thursday course at the same centre with no plans before week 3, makes
    week 2 up in it."""
    centre = make_centre()
    home = make_workshop(centre=centre, capacity=6, starts_in_days=7, sessions=4)
    other = make_workshop(
        centre=centre, capacity=4, starts_in_days=8, sessions=4, title="Thursday class"
    )
    for number, plan in PLANS.items():
        set_plan(home, number, *plan)
    set_plan(other, 3, "Week 3: chest, arms and hands")
    families = {}
    for name, baby_name in (("Ann", "Ada"), ("Bea", "Bo"), ("Cat", "Cy"), ("Dan", "Di")):
        parent = make_user(f"{name.lower()}@example.org", name=name)
        baby = make_baby(parent, name=baby_name)
        families[name] = (parent, book(parent, baby, other if name == "Dan" else home))
    bea, bea_reg = families["Bea"]
    absences.report_absence(
        parent_id=bea.id, registration_id=bea_reg, session_id=session_of(home, 2).id
    )
    dan, dan_reg = families["Dan"]
    credit = absences.report_absence(
        parent_id=dan.id, registration_id=dan_reg, session_id=session_of(other, 2).id
    )
    makeup = makeups.book_makeup(
        parent_id=dan.id, credit_id=credit.id, session_id=session_of(home, 2).id
    )
    week2 = session_of(home, 2)
    # An hour after week 2 ends: week 1 ended more than a week before, so it is history.
    after_week2 = week2.ends_at + timedelta(hours=1)
    return {
        "home": home,
        "other": other,
        "families": families,
        "week2": week2.id,
        "makeup": makeup.id,
        "now": after_week2,
    }


def test_after_week_two_every_family_gets_the_sheet_once(ctx, course):
    families, week2 = course["families"], course["week2"]
    assert send_practice_sheets(course["now"]) == 4
    assert send_practice_sheets(course["now"]) == 0
    assert send_practice_sheets(course["now"] + timedelta(minutes=30)) == 0

    written = {sheet.dedupe_key: sheet for sheet in sheets()}
    booked = {name: families[name][1] for name in ("Ann", "Bea", "Cat")}
    assert set(written) == {practice_key(reg, week2) for reg in booked.values()} | {
        makeup_practice_key(course["makeup"])
    }
    for sheet in written.values():
        assert (sheet.week_number, sheet.weeks) == (2, 4)
        assert sheet.title == PLANS[2][0]
        assert sheet.covers == PLANS[2][1] and sheet.practice == PLANS[2][2]
        assert sheet.session_id == week2
        assert sheet.workshop_title == "Baby massage"
    # Bea said she would miss week 2: the week is not lost.
    bea_sheet = written[practice_key(booked["Bea"], week2)]
    assert bea_sheet.parent_id == families["Bea"][0].id
    assert bea_sheet.next_title == PLANS[3][0]
    # Dan made week 2 up: that week's sheet, and what comes next in his own course.
    dan_sheet = written[makeup_practice_key(course["makeup"])]
    assert dan_sheet.parent_id == families["Dan"][0].id
    assert dan_sheet.registration_id == families["Dan"][1]
    assert dan_sheet.next_title == "Week 3: chest, arms and hands"
    # Week 1 of the Thursday course ended within the week but has no plan: no sheet.
    assert [s.parent_id for s in written.values()].count(families["Dan"][0].id) == 1

    emails = practice_emails()
    assert sorted(m.dedupe_key for m in emails) == sorted(written)
    assert sorted(m.recipient for m in emails) == [
        "ann@example.org", "bea@example.org", "cat@example.org", "dan@example.org"
    ]
    for message in emails:
        assert message.subject == SUBJECT
        sheet = written[message.dedupe_key]
        for body in (message.body_text, message.body_html):
            assert f"https://classes.example.org/account/practice/{sheet.id}" in body
            assert "Clockwise circles with flat fingers" in body
            assert "48 hours after immunisations" in body
            assert "arching their back" in body
            assert "no nut oils" in body and "no fragrance" in body
            assert "A few calm minutes are enough to start with" in body
            assert "Chest and arms" in body or "Chest, arms and hands" in body
            assert not HEALTH_WORDS.search(body)
        assert "<li>Clockwise circles with flat fingers, about five times</li>" in (
            message.body_html
        )
        assert message.reply_to == "centre1@example.org"


def test_unplanned_weeks_wait_and_history_send_nothing(ctx, course):
    week2_end = course["now"] - timedelta(hours=1)
    # Week 2 without a plan sends nothing at all.
    set_plan(course["home"], 2, "")
    assert send_practice_sheets(course["now"]) == 0
    assert sheets() == [] and practice_emails() == []
    set_plan(course["home"], 2, *PLANS[2])
    # Just before week 2 ends, only week 1 (which ended a week before) is still fresh.
    assert send_practice_sheets(week2_end - timedelta(minutes=1)) == 3
    assert {s.week_number for s in sheets()} == {1}
    # A first run more than a week after week 2 sends week 3, just ended, never week 2.
    assert send_practice_sheets(week2_end + timedelta(days=7, minutes=1)) == 3
    assert sorted({s.week_number for s in sheets()}) == [1, 3]


@pytest.mark.parametrize("change", ["session cancelled", "class cancelled", "booking cancelled"])
def test_no_sheet_for_a_session_or_booking_that_did_not_run(ctx, course, change):
    home = course["home"]
    if change == "session cancelled":
        db.session.execute(
            sa.update(WorkshopSession)
            .where(WorkshopSession.id == course["week2"])
            .values(status="cancelled")
        )
    elif change == "class cancelled":
        db.session.execute(
            sa.text("UPDATE workshop SET status = 'cancelled' WHERE id = :id"), {"id": home.id}
        )
    else:
        ann_reg = course["families"]["Ann"][1]
        db.session.execute(
            sa.text("UPDATE registration SET status = 'cancelled' WHERE id = :id"),
            {"id": ann_reg},
        )
    db.session.commit()
    sent = send_practice_sheets(course["now"])
    if change == "booking cancelled":
        assert sent == 3
        assert course["families"]["Ann"][0].id not in {s.parent_id for s in sheets()}
    else:
        # The make-up was into the same session, so it is off too.
        assert sent == 0


def test_twins_get_one_sheet(ctx, make_workshop, make_user, make_baby):
    parent = make_user("twins@example.org")
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    workshop = make_workshop(starts_at=start, sessions=3)
    set_plan(workshop, 1, *PLANS[1])
    booked = start - timedelta(days=2)
    add_registration(ctx, workshop, parent, make_baby(parent, name="Ada"), confirmed_at=booked)
    add_registration(ctx, workshop, parent, make_baby(parent, name="Ava"), confirmed_at=booked)
    assert send_practice_sheets() == 1
    assert send_practice_sheets() == 0
    (message,) = practice_emails()
    assert message.subject == "Week 1 at home: legs and feet"


def test_the_twins_sheet_names_both_babies(ctx, make_workshop, make_user, make_baby):
    """One sheet for the family, naming every baby it brought to the session: not a
    brother booked after it, nor one whose place was cancelled."""
    parent = make_user("twins@example.org")
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    workshop = make_workshop(starts_at=start, sessions=3)
    set_plan(workshop, 1, *PLANS[1])
    booked = start - timedelta(days=2)
    for name in ("Amy", "Bea"):
        add_registration(ctx, workshop, parent, make_baby(parent, name=name),
                         confirmed_at=booked)
    add_registration(ctx, workshop, parent, make_baby(parent, name="Cal"))  # after week 1
    add_registration(ctx, workshop, parent, make_baby(parent, name="Dot"),
                     confirmed_at=booked, status="cancelled")
    assert send_practice_sheets() == 1
    (message,) = practice_emails()
    for body in (message.body_text, message.body_html):
        assert "to take home and practise with Amy and Bea: legs and feet." in body
        assert "Cal" not in body and "Dot" not in body


def test_twins_making_up_a_week_are_both_named(ctx, course, make_baby):
    """Dan brings his twins to the make-up: one sheet, naming both."""
    dan, dan_reg = course["families"]["Dan"]
    twin = make_baby(dan, name="Dee")
    other, home = course["other"], course["home"]
    twin_reg = book(dan, twin, other)
    credit = absences.report_absence(
        parent_id=dan.id, registration_id=twin_reg, session_id=session_of(other, 2).id
    )
    makeups.book_makeup(parent_id=dan.id, credit_id=credit.id,
                        session_id=session_of(home, 2).id)
    assert send_practice_sheets(course["now"]) == 4
    (message,) = [m for m in practice_emails() if m.recipient == "dan@example.org"]
    assert "practise with Di and Dee: tummy, for wind and colic." in message.body_text


def test_a_family_who_joined_after_a_week_gets_no_sheet_of_it(ctx, make_workshop, make_user,
                                                              make_baby):
    """A course joined late (late_join_until 3): the weeks that ended before the place was
    the family's were not theirs, so neither are those weeks' sheets."""
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=2)
    workshop = make_workshop(starts_at=start, sessions=4, late_join_until=3)
    set_plan(workshop, 1, *PLANS[1])
    early, late = make_user("early@example.org"), make_user("late@example.org")
    add_registration(ctx, workshop, early, make_baby(early), confirmed_at=start - timedelta(days=3))
    late_id = add_registration(ctx, workshop, late, make_baby(late))  # booked just now
    assert send_practice_sheets() == 1
    assert [m.recipient for m in practice_emails()] == ["early@example.org"]
    from booking.services.plans.practice import send_registration_sheet

    assert send_registration_sheet(late_id, session_of(workshop, 1).id) is False
    assert len(sheets()) == 1


def test_next_week_is_the_next_week_even_before_its_plan_is_written(ctx, course):
    """Week 3 has no plan yet: the sheet after week 2 names no next week rather than
    announcing week 4's."""
    set_plan(course["home"], 3, "")
    set_plan(course["home"], 4, "Week 4: back and face", "The back.", "Back strokes.")
    assert send_practice_sheets(course["now"]) == 4
    written = {sheet.dedupe_key: sheet for sheet in sheets()}
    bea_sheet = written[practice_key(course["families"]["Bea"][1], course["week2"])]
    assert bea_sheet.next_title == ""
    assert "Back and face" not in practice_emails()[0].body_text
    # Dan's own course (the Thursday one) has its week 3 planned: he is told of that.
    assert written[makeup_practice_key(course["makeup"])].next_title == (
        "Week 3: chest, arms and hands"
    )


def test_two_runs_at_once_send_each_sheet_once(app, course):
    barrier = threading.Barrier(2)
    results = []

    def run():
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                results.append(send_practice_sheets(course["now"]))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert sum(results) == 4, results
    assert len(sheets()) == 4 and len(practice_emails()) == 4


def test_sent_sheets_land_in_the_mail_folder(app, course):
    send_practice_sheets(course["now"])
    send_all_due()  # the sheets, with the bookings' own emails
    folder = app.config["MAIL_DIR"]
    found = []
    for name in os.listdir(folder):
        with open(os.path.join(folder, name), "rb") as handle:
            message = email.message_from_bytes(handle.read(), policy=default)
        if message["Subject"] == SUBJECT:
            found.append(message["To"])
            assert "Clockwise circles" in message.get_body(("plain",)).get_content()
    assert sorted(found) == [f"{name}@example.org" for name in ("ann", "bea", "cat", "dan")]


def test_account_pages_show_own_sheets_only(app, client, auth, course):
    send_practice_sheets(course["now"])
    by_parent = {sheet.parent_id: sheet for sheet in sheets()}
    ann, dan = course["families"]["Ann"][0], course["families"]["Dan"][0]
    ann_sheet, dan_sheet = by_parent[ann.id], by_parent[dan.id]

    auth.login("ann@example.org")
    bookings = client.get("/account/bookings").get_data(as_text=True)
    assert 'href="/account/practice">Home practice</a>' in bookings
    listing = client.get("/account/practice")
    assert listing.status_code == 200
    page = listing.get_data(as_text=True)
    assert f'href="/account/practice/{ann_sheet.id}"' in page
    assert "Week 2 of 4: tummy, for wind and colic" in page
    assert f"/account/practice/{dan_sheet.id}" not in page
    sheet_page = client.get(f"/account/practice/{ann_sheet.id}")
    assert sheet_page.status_code == 200
    html = sheet_page.get_data(as_text=True)
    assert "<h1 id=\"sheet-heading\">Week 2 at home: tummy, for wind and colic</h1>" in html
    print_css = r'<link rel="stylesheet" href="[^"]*/css/print-sheet\.css" media="print">'
    assert re.search(print_css, html)
    for words in ("Clockwise circles with flat fingers", "Within an hour of a feed",
                  "arching their back", "no nut oils",
                  "A few calm minutes are enough to start with",
                  "Chest and arms."):
        assert words in html
    # Another family's sheet, and one that does not exist, are not found.
    assert client.get(f"/account/practice/{dan_sheet.id}").status_code == 404
    assert client.get("/account/practice/999999").status_code == 404
    pages = {"list": page, "sheet": html}
    auth.logout()

    # Dan's made-up week sits with his own course, saying where he made it up.
    auth.login("dan@example.org")
    dan_page = client.get("/account/practice").get_data(as_text=True)
    assert "<h2 id=\"course-1\">Thursday class</h2>" in dan_page
    assert "made up at Baby massage" in dan_page
    assert client.get(f"/account/practice/{dan_sheet.id}").status_code == 200
    assert client.get(f"/account/practice/{ann_sheet.id}").status_code == 404
    pages["made up"] = dan_page
    auth.logout()

    assert client.get("/account/practice").status_code == 302  # to the login page
    assert html_errors(pages) == {label: [] for label in pages}


def test_print_stylesheet_fits_a_page_without_navigation(client):
    css = client.get("/static/css/print-sheet.css")
    text = css.get_data(as_text=True)
    css.close()
    assert css.status_code == 200
    assert "@page" in text and "A4" in text
    assert ".site-header" in text and "nav" in text and "display: none" in text


def test_empty_list_says_what_will_come(client, auth, make_user):
    make_user("new@example.org")
    auth.login("new@example.org")
    page = client.get("/account/practice").get_data(as_text=True)
    assert "No sheets yet" in page


def test_commands_send_sheets_once(app, runner, make_workshop, make_user, make_baby):
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    workshop = make_workshop(starts_at=start, sessions=3)
    parent = make_user("pat@example.org")
    add_registration(app, workshop, parent, make_baby(parent),
                     confirmed_at=start - timedelta(days=1))
    with app.app_context():
        set_plan(workshop, 1, *PLANS[1])
    first = runner.invoke(args=["send-practice"])
    assert first.exit_code == 0, first.output
    assert "Sent 1 home-practice sheet." in first.output
    assert "to evaluate their course." in first.output
    second = runner.invoke(args=["send-reminders"])
    assert second.exit_code == 0, second.output
    assert "Queued 0 reminders." in second.output
    assert "Sent 0 home-practice sheets." in second.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(PracticeSheet.id))) == 1
        assert db.session.scalar(sa.select(sa.func.count(MakeupBooking.id))) == 0


def test_loop_runs_the_same_pass_until_stopped(app, runner, monkeypatch):
    passes = []

    def twice(name, one_pass, interval):
        passes.append((name, interval))
        one_pass()
        one_pass()

    monkeypatch.setattr("booking.cli.mail.run_until_stopped", twice)
    result = runner.invoke(args=["send-reminders", "--loop", "--interval", "5"])
    assert result.exit_code == 0, result.output
    assert passes == [("Reminders", 5.0)]
    # Quiet passes print nothing; the loop says when it starts and stops.
    assert "Queued" not in result.output and "stopped" in result.output


def test_every_week_gives_the_feeding_wait_every_sheet_gives():
    """A sheet says "Within an hour of a feed" under "When not to massage": no week's
    practice may tell the same parent a shorter wait on the same page (week 2 said 45
    minutes)."""
    from booking.mail.context import PRACTICE_CARE
    from booking.services.plans.templates import TEMPLATES

    assert any("an hour of a feed" in line for line in PRACTICE_CARE.when_not)
    for template in TEMPLATES:
        for week in template.weeks:
            for said in re.findall(r"[^.:]*after a feed[^.]*", week.practice):
                assert "an hour" in said, (template.slug, week.title, said)


def test_a_long_sheet_does_not_claim_to_fit_one_page(client, auth, course):
    """A plan near the 6,000 characters allowed printed on three pages under "it fits on
    one A4 sheet"."""
    send_practice_sheets(course["now"])
    ann = course["families"]["Ann"][0]
    sheet = next(s for s in sheets() if s.parent_id == ann.id)
    auth.login("ann@example.org")
    url = f"/account/practice/{sheet.id}"
    assert "it fits on one A4 sheet" in client.get(url).get_data(as_text=True)
    db.session.execute(sa.update(PracticeSheet).where(PracticeSheet.id == sheet.id)
                       .values(practice="Stroke gently. " * 350))
    db.session.commit()
    page = client.get(url).get_data(as_text=True)
    assert "it fits on one A4 sheet" not in page
    assert "this week's plan is long, so it takes more than one A4 sheet" in page


def test_every_template_week_is_said_to_fit_one_page():
    """The product's own weeks always print on one page."""
    longest = max(len(w.covers) + len(w.practice) for t in TEMPLATES for w in t.weeks)
    assert longest <= ONE_PAGE_CHARACTERS
