""""Ready for <day>?": a reminder before each session, its one-tap link, and what an
answer does (well, unwell: an absence with a make-up credit, immunised: a doll session)."""

import html
import re
import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import (
    Absence,
    Baby,
    MakeupCredit,
    OutboxMessage,
    Registration,
    SessionReadiness,
    WorkshopSession,
)
from booking.services.booking.book import book_place
from booking.services.booking.reminders import (
    due_session_reminders,
    send_reminders,
    session_reminder_key,
)
from booking.services.courses.absences import report_absence
from booking.services.health.answers import record_of, save_answers
from booking.services.health.questions import PRODUCT_FORM
from booking.services.health.readiness import (
    answer_readiness,
    doll_kind,
    doll_reasons,
    readiness_of,
    readiness_token,
    ready_link,
)
from booking.services.plans.evaluations import evaluation_token
from tests.html_checker import html_errors
from tests.mailtools import add_registration
from tests.makeup_helpers import book

LONDON = ZoneInfo("Europe/London")
READY_LINK = re.compile(r"https://classes\.example\.org(/ready/[A-Za-z0-9_.\-]+)")
BUTTON = '<button type="submit" name="status"'
# Words of the health questions and of the answers below: none may reach an email.
HEALTH_WORDS = re.compile(
    r"\b(fever|unwell|illness|hip|hips|dysplasia|harness|heart|allerg\w*|eczema|nut|"
    r"rash|skin)\b",
    re.IGNORECASE,
)


def outbox() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


def hour(hours: float) -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=hours)


def sessions_of(workshop_id: int) -> list[WorkshopSession]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(WorkshopSession)
            .where(WorkshopSession.workshop_id == workshop_id)
            .order_by(WorkshopSession.number)
        )
    )


def move(session_id: int, starts_at: datetime) -> None:
    """Put a session at another time (a test's shortcut past the scheduling service)."""
    session = db.session.get(WorkshopSession, session_id)
    session.starts_at, session.ends_at = starts_at, starts_at + timedelta(hours=1)
    db.session.commit()


def weekday(instant: datetime) -> str:
    return instant.astimezone(LONDON).strftime("%A")


def answers(**yes) -> dict:
    """Answers to the product's questions: no, except the given ones (key=details)."""
    raw = {q.key: {"answer": "no"} for q in PRODUCT_FORM.questions}
    for key, details in yes.items():
        raw[key] = {"answer": "yes", "details": details}
    return raw


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def family(make_user, make_baby):
    parent = make_user("pat@example.org", name="Pat Parent")
    return parent, make_baby(parent, name="Ada")


@pytest.fixture
def course(app, family, make_workshop):
    """Ada booked on a course of 4 whose first session is 3 days away; the ids."""
    parent, baby = family
    workshop = make_workshop(starts_at=hour(72), title="Baby massage")
    with app.app_context():
        registration = book(parent, baby, workshop)
        ids = [s.id for s in sessions_of(workshop.id)]
    return {"workshop": workshop, "registration": registration, "sessions": ids,
            "parent": parent, "baby": baby}


def ready_path(app, registration_id: int, session_id: int) -> str:
    with app.test_request_context():
        return f"/ready/{readiness_token(registration_id, session_id)}"


# --- reminders before each session ------------------------------------------------------


def test_a_reminder_before_each_session_each_once(app, ctx, family, make_workshop):
    parent, baby = family
    workshop = make_workshop(starts_at=hour(10), sessions=4)
    reg = add_registration(app, workshop, parent, baby)
    first, second, third, fourth = sessions_of(workshop.id)
    move(second.id, hour(34))  # two sessions within the next 48 hours
    assert send_reminders() == 2
    assert send_reminders() == 0
    keys = {m.dedupe_key: m for m in outbox()}
    assert set(keys) == {f"reminder:{reg}", f"reminder:{reg}:{second.id}"}
    later = keys[f"reminder:{reg}:{second.id}"]
    assert later.recipient == "pat@example.org"
    assert later.subject.startswith("Reminder: Baby massage at")
    assert "week 2 of 4" in later.subject and "for Ada" in later.subject
    assert f"Ready for {weekday(hour(34))}?" in later.body_text
    assert ready_path(app, reg, second.id) in later.body_text
    assert ready_path(app, reg, second.id) in later.body_html
    # The first reminder links to the first session's answer.
    assert ready_path(app, reg, first.id) in keys[f"reminder:{reg}"].body_text
    assert f"Ready for {weekday(hour(10))}?" in keys[f"reminder:{reg}"].body_text
    # Thirteen days on, week 3 comes within 48 hours: its reminder, once.
    later_on = datetime.now(UTC) + timedelta(days=13)
    assert send_reminders(now=later_on) == 1
    assert send_reminders(now=later_on) == 0
    assert outbox()[-1].dedupe_key == session_reminder_key(reg, third.id)


def test_no_reminder_for_a_missed_cancelled_or_started_session(
    app, ctx, family, make_workshop
):
    parent, baby = family
    workshop = make_workshop(starts_at=hour(72), sessions=4)
    with app.app_context():
        reg = book(parent, baby, workshop)
    first, second, third, fourth = sessions_of(workshop.id)
    report_absence(parent_id=parent.id, registration_id=reg, session_id=second.id)
    db.session.get(WorkshopSession, third.id).status = "cancelled"
    db.session.commit()
    start = datetime.now(UTC)
    assert send_reminders(now=start + timedelta(days=2)) == 1  # the first session's
    assert send_reminders(now=start + timedelta(days=9)) == 0  # week 2: they said so
    assert send_reminders(now=start + timedelta(days=16)) == 0  # week 3 is cancelled
    assert due_session_reminders(start + timedelta(days=23)) == [(reg, fourth.id)]
    assert due_session_reminders(start + timedelta(days=24, hours=1)) == []  # 4 started
    reminders = [m.dedupe_key for m in outbox() if (m.dedupe_key or "").startswith("reminder")]
    assert reminders == [f"reminder:{reg}"]


def test_no_session_reminder_for_a_cancelled_workshop_or_booking(
    app, ctx, make_user, make_baby, make_workshop
):
    started = hour(-24 * 6)  # week 2 is a day away
    for workshop_status, status in (("cancelled", "confirmed"), ("published", "cancelled")):
        parent = make_user()
        workshop = make_workshop(starts_at=started, status=workshop_status)
        add_registration(app, workshop, parent, make_baby(parent), status=status)
    assert send_reminders() == 0
    assert outbox() == []


def test_a_course_joined_late_gets_the_next_session_reminded(app, ctx, family, make_workshop):
    parent, baby = family
    workshop = make_workshop(starts_at=hour(-24 * 6), sessions=3)
    reg = add_registration(app, workshop, parent, baby)
    second = sessions_of(workshop.id)[1]
    assert send_reminders() == 1
    (message,) = outbox()
    assert message.dedupe_key == f"reminder:{reg}:{second.id}"
    assert "week 2 of 3" in message.body_text


def test_the_next_session_is_reminded_when_the_first_reminded_one_is_cancelled(
    app, ctx, family, make_workshop
):
    parent, baby = family
    workshop = make_workshop(starts_at=hour(10), sessions=3)
    reg = add_registration(app, workshop, parent, baby)
    first, second, _ = sessions_of(workshop.id)
    assert send_reminders() == 1
    db.session.get(WorkshopSession, first.id).status = "cancelled"
    db.session.commit()
    # Week 2 is now the first to run, but the first reminder was about week 1.
    assert send_reminders(now=datetime.now(UTC) + timedelta(days=6)) == 1
    assert outbox()[-1].dedupe_key == session_reminder_key(reg, second.id)


def test_concurrent_runs_queue_each_session_reminder_once(
    app, make_user, make_baby, make_workshop
):
    workshop = make_workshop(starts_at=hour(-24 * 6), capacity=12)
    regs = []
    for i in range(6):
        parent = make_user(f"p{i}@example.org")
        regs.append(add_registration(app, workshop, parent, make_baby(parent)))
    with app.app_context():
        second = sessions_of(workshop.id)[1].id
    barrier = threading.Barrier(3)
    errors = []

    def run():
        try:
            with app.app_context():
                barrier.wait()
                send_reminders()
                db.session.remove()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    with app.app_context():
        keys = sorted(m.dedupe_key for m in outbox())
        assert keys == sorted(session_reminder_key(r, second) for r in regs)
        assert due_session_reminders() == []


def test_reminders_say_nothing_of_health_answers(app, ctx, family, make_workshop):
    parent, baby = family
    save_answers(
        parent.id, baby.id, PRODUCT_FORM,
        answers(unwell="A fever since Tuesday", hips="Hip dysplasia, in a harness",
                allergy="Nut allergy", skin="Eczema"),
        "Heart murmur being checked", consent=True,
    )
    workshop = make_workshop(starts_at=hour(10), sessions=4)
    reg = add_registration(app, workshop, parent, baby)
    second = sessions_of(workshop.id)[1]
    move(second.id, hour(34))
    assert send_reminders() == 2
    for message in outbox():
        for text in (message.subject, message.body_text, message.body_html):
            assert HEALTH_WORDS.search(text) is None, HEALTH_WORDS.search(text)
        assert "/ready/" in message.body_text
        # The not-today answer makes it a doll session; the email does not say why.
        assert "comes to watch, and you practise the strokes on a doll" in message.body_text
        assert "immunisations in the 48 hours before" not in message.body_text
    assert {m.dedupe_key for m in outbox()} == {f"reminder:{reg}", f"reminder:{reg}:{second.id}"}


def test_an_immunisation_day_is_said_in_a_later_session_reminder(
    app, ctx, family, make_workshop
):
    parent, baby = family
    workshop = make_workshop(starts_at=hour(-24 * 6), sessions=3)
    add_registration(app, workshop, parent, baby)
    second = sessions_of(workshop.id)[1]
    db.session.get(Baby, baby.id).immunisation_date = second.starts_at.astimezone(LONDON).date()
    db.session.commit()
    assert send_reminders() == 1
    body = outbox()[0].body_text
    assert "Ada comes to watch, and you practise the strokes on a doll" in body
    assert "(immunisations in the 48 hours before)" in body


# --- the "Ready for <day>?" page ---------------------------------------------------------


def test_the_link_asks_with_three_buttons(app, client, course):
    first = course["sessions"][0]
    response = client.get(ready_path(app, course["registration"], first))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    text = page_text(response)
    with app.app_context():
        starts = db.session.get(WorkshopSession, first).starts_at
    assert f"Ready for {weekday(starts)}?" in text
    assert "Week 1 of 4" in text and "Baby massage" in text
    assert text.count(BUTTON) == 3
    assert "Ada is well: see you there" in text
    assert "Ada is unwell: we can't come" in text
    assert "Ada had immunisations: we'll watch and practise on a doll" in text
    assert "make-up credit for week 1" in text
    assert "/login" not in response.headers.get("Location", "")


def test_a_single_class_past_its_cut_off_does_not_offer_to_cancel(
    app, client, family, make_workshop
):
    """A single class in 5 hours, 24 hours' cut-off: the page no longer sends the parent
    to cancel "before the cut-off", which has passed; it says to tell the centre."""
    parent, baby = family
    single = make_workshop(starts_at=hour(5), kind="single", title="Colic class")
    with app.app_context():
        registration = book(parent, baby, single)
        (session_id,) = [s.id for s in sessions_of(single.id)]
    text = page_text(client.get(ready_path(app, registration, session_id)))
    assert "cancel this booking before the cut-off" not in text
    assert ("The cut-off for cancelling has passed: if Ada cannot come, please let the "
            "centre know") in text


def test_unwell_is_an_absence_with_a_credit_and_well_takes_it_back(app, client, course):
    reg, second = course["registration"], course["sessions"][1]
    path = ready_path(app, reg, second)
    response = client.post(path, data={"status": "unwell"})
    assert response.status_code == 200
    text = page_text(response)
    assert "Week 2 is now an absence" in text and "make-up credit for week 2" in text
    with app.app_context():
        absence = db.session.scalar(sa.select(Absence).where(Absence.registration_id == reg))
        assert absence.session_id == second
        credit = db.session.scalar(
            sa.select(MakeupCredit).where(MakeupCredit.absence_id == absence.id)
        )
        assert credit.week_number == 2 and credit.parent_id == course["parent"].id
        assert readiness_of([reg], [second]) == {(reg, second): "unwell"}
    # Reopening the link shows the answer; saying "well" takes the absence back.
    assert "Your answer" in page_text(client.get(path))
    response = client.post(path, data={"status": "well"})
    assert response.status_code == 200
    assert "we have recorded that Ada is well" in page_text(response)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Absence.id))) == 0
        assert db.session.scalar(sa.select(sa.func.count(MakeupCredit.id))) == 0
        assert db.session.get(WorkshopSession, second).absences == 0
        assert readiness_of([reg], [second]) == {(reg, second): "well"}


def test_immunised_makes_it_a_doll_session(app, client, course):
    reg, third = course["registration"], course["sessions"][2]
    response = client.post(ready_path(app, reg, third), data={"status": "immunised"})
    assert response.status_code == 200
    assert "Ada comes to watch" in page_text(response)
    with app.app_context():
        baby = db.session.get(Baby, course["baby"].id)
        session = db.session.get(WorkshopSession, third)
        status = readiness_of([reg], [third])[(reg, third)]
        assert status == "immunised"
        assert "Immunisations" in doll_reasons(
            baby, record_of(baby.id), status, session, "Europe/London"
        )
        assert db.session.scalar(sa.select(sa.func.count(Absence.id))) == 0


def test_well_with_a_not_today_answer_asks_to_update_them(app, client, course):
    parent, baby = course["parent"], course["baby"]
    with app.app_context():
        save_answers(parent.id, baby.id, PRODUCT_FORM,
                     answers(unwell="A fever since the weekend"), "", consent=True)
    path = ready_path(app, course["registration"], course["sessions"][1])
    before = page_text(client.get(path))
    assert "At this session:</strong> Ada comes to watch" in before
    text = page_text(client.post(path, data={"status": "well"}))
    assert "If anything in Ada's health answers has changed, please" in text
    assert "update the health answers</a>" in text
    assert f'href="/account/bookings/{course["registration"]}/health"' in text
    assert "At this session:" not in text
    # (Not a weekday: the page's title names the session's day, which may be any.)
    for word in ("fever", "since the weekend", "Unwell or fever"):
        assert word not in text
    # The instructor still sees the answer, marked for checking with the parent; the
    # parent is told nothing of a doll for the day.
    with app.app_context():
        session = db.session.get(WorkshopSession, course["sessions"][1])
        record = record_of(baby.id)
        baby_row = db.session.get(Baby, baby.id)
        assert doll_reasons(baby_row, record, "well", session, "Europe/London") == [
            "Unwell or fever (parent says well today: please check)"
        ]
        assert doll_kind(baby_row, record, "well", session, "Europe/London") == ""
        assert doll_kind(baby_row, record, None, session, "Europe/London") == "doll"


def test_after_well_the_reminder_says_nothing_of_a_doll(app, ctx, family, make_workshop):
    parent, baby = family
    save_answers(parent.id, baby.id, PRODUCT_FORM, answers(recovering="A broken arm"), "",
                 consent=True)
    workshop = make_workshop(starts_at=hour(10), sessions=4)
    reg = add_registration(app, workshop, parent, baby)
    first, second = sessions_of(workshop.id)[:2]
    move(second.id, hour(34))
    answer_readiness(reg, first.id, "well", parent_id=parent.id)
    assert ready_link(reg, first.id).doll == ""
    assert ready_link(reg, second.id).doll == "doll"
    assert send_reminders() == 2
    keys = {m.dedupe_key: m for m in outbox()}
    said_well = keys[f"reminder:{reg}"]
    not_yet = keys[session_reminder_key(reg, second.id)]
    for text in (said_well.body_text, said_well.body_html):
        assert "comes to watch" not in text and "At this session" not in text
    # A session with no answer yet still follows the health answer (without naming it).
    assert "comes to watch, and you practise the strokes on a doll" in not_yet.body_text
    for message in (said_well, not_yet):
        for text in (message.subject, message.body_text, message.body_html):
            assert HEALTH_WORDS.search(text) is None
            for words in ("broken arm", "Recovering", "injury"):
                assert words not in text


def test_a_bad_answer_is_refused(app, client, course):
    path = ready_path(app, course["registration"], course["sessions"][1])
    for data in ({"status": "maybe"}, {}):
        response = client.post(path, data=data)
        assert response.status_code == 422
        assert "Choose one of the answers." in page_text(response)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(SessionReadiness.id))) == 0


@pytest.mark.parametrize(
    "token_of",
    [
        lambda good: good[:-2] + ("AA" if not good.endswith("AA") else "BB"),
        lambda good: "not-a-token",
        lambda good: good.split(".")[0] + ".",
    ],
)
def test_a_tampered_link_is_not_found(app, client, course, token_of):
    good = ready_path(app, course["registration"], course["sessions"][1]).rsplit("/", 1)[1]
    for method in (client.get, client.post):
        response = method(f"/ready/{token_of(good)}", data={"status": "unwell"})
        assert response.status_code == 404
        assert "This link is not valid" in page_text(response)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Absence.id))) == 0


def test_a_link_signed_for_ids_no_database_holds_is_not_found(app, client, course):
    """Ids past 2^31 - 1 (the id columns are 32-bit integers: PostgreSQL refused the
    query), zero or negative, signed with the real key: 404, not 500."""
    for ids in ((2**31, 1), (course["registration"], 2**31), (2**63, 1),
                (course["registration"], 2**64), (0, 1), (-1, 1)):
        with app.test_request_context():
            path = "/ready/" + readiness_token(*ids)
        for method in (client.get, client.post):
            response = method(path, data={"status": "unwell"})
            assert response.status_code == 404, ids
            assert "This link is not valid" in page_text(response)
    with app.test_request_context():
        paths = ["/evaluate/" + evaluation_token(n) for n in (2**31, 2**63)]
    for path in paths:
        assert client.get(path).status_code == 404


def test_a_link_naming_another_booking_s_session_is_not_found(
    app, client, course, make_workshop
):
    other = make_workshop()
    with app.app_context():
        foreign = sessions_of(other.id)[0].id
    response = client.get(ready_path(app, course["registration"], foreign))
    assert response.status_code == 404


def test_the_logged_in_page_is_the_parent_s_own(app, client, auth, course, make_user):
    reg, second = course["registration"], course["sessions"][1]
    path = f"/account/bookings/{reg}/sessions/{second}/ready"
    assert client.get(path).status_code == 302  # to the login page
    make_user("other@example.org")
    auth.login("other@example.org")
    assert client.get(path).status_code == 404
    assert client.post(path, data={"status": "unwell"}).status_code == 404
    auth.logout()
    auth.login("pat@example.org")
    response = client.get(path)
    assert response.status_code == 200
    assert page_text(response).count(BUTTON) == 3
    assert client.post(path, data={"status": "unwell"}).status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.select(Absence.session_id)) == second


def test_refused_once_the_session_started_or_the_booking_ended(app, client, course):
    reg, first = course["registration"], course["sessions"][0]
    path = ready_path(app, reg, first)
    with app.app_context():
        move(first, hour(-1))
    response = client.post(path, data={"status": "unwell"})
    assert response.status_code == 422
    assert "has started" in page_text(response)
    assert BUTTON not in page_text(response)
    page = client.get(path)
    assert page.status_code == 200 and "has started" in page_text(page)
    second_path = ready_path(app, reg, course["sessions"][1])
    with app.app_context():
        db.session.get(Registration, reg).status = "cancelled"
        db.session.commit()
    response = client.post(second_path, data={"status": "unwell"})
    assert response.status_code == 422
    assert "no longer confirmed" in page_text(response)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Absence.id))) == 0
        assert db.session.scalar(sa.select(sa.func.count(SessionReadiness.id))) == 0


def test_a_single_class_cannot_be_made_up(app, client, family, make_workshop):
    parent, baby = family
    single = make_workshop(kind="single", starts_at=hour(72))
    with app.app_context():
        reg = book(parent, baby, single)
        session = sessions_of(single.id)[0].id
    response = client.post(ready_path(app, reg, session), data={"status": "unwell"})
    assert response.status_code == 200
    text = page_text(response)
    assert "A single class cannot be made up" in text
    assert f"/account/bookings/{reg}/cancel" in text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Absence.id))) == 0
        assert readiness_of([reg], [session]) == {(reg, session): "unwell"}


def test_taking_back_a_used_credit_is_a_conflict(
    app, client, course, make_workshop, make_user, make_baby
):
    from booking.models import Centre
    from booking.services.courses import makeups

    reg, second = course["registration"], course["sessions"][1]
    path = ready_path(app, reg, second)
    client.post(path, data={"status": "unwell"})
    with app.app_context():
        centre = db.session.get(Centre, course["workshop"].centre_id)
    other = make_workshop(centre=centre, starts_at=hour(80), title="Another")
    with app.app_context():
        credit = db.session.scalar(sa.select(MakeupCredit.id))
        makeups.book_makeup(parent_id=course["parent"].id, credit_id=credit,
                            session_id=sessions_of(other.id)[1].id)
    response = client.post(path, data={"status": "well"})
    assert response.status_code == 409
    assert "already been used" in page_text(response)
    with app.app_context():
        assert db.session.scalar(sa.select(Absence.session_id)) == second
        assert readiness_of([reg], [second]) == {(reg, second): "unwell"}


def test_fever_on_the_reminder_link_turns_thursday_into_an_absence(
    app, client, family, make_centre, make_workshop
):
    """The issue's end-to-end: a parent reports a fever through the reminder's link."""
    parent, baby = family
    today = datetime.now(LONDON).date()
    thursday = today + timedelta(days=(3 - today.weekday()) % 7 + 7)
    starts = datetime(thursday.year, thursday.month, thursday.day, 10, tzinfo=LONDON)
    workshop = make_workshop(starts_at=starts.astimezone(UTC) - timedelta(weeks=1), sessions=3)
    with app.app_context():
        reg = add_registration(app, workshop, parent, baby)
        week_2 = sessions_of(workshop.id)[1]
        assert week_2.starts_at == starts.astimezone(UTC)
        assert send_reminders(now=starts.astimezone(UTC) - timedelta(hours=30)) >= 1
        message = db.session.scalar(
            sa.select(OutboxMessage).where(
                OutboxMessage.dedupe_key == session_reminder_key(reg, week_2.id)
            )
        )
        assert "Ready for Thursday?" in message.body_text
        link = READY_LINK.search(message.body_text).group(1)
        week_2_id = week_2.id
    page = client.get(link)
    assert "Ready for Thursday?" in page_text(page)
    response = client.post(link, data={"status": "unwell"})
    assert response.status_code == 200
    assert "make-up credit for week 2" in page_text(response)
    with app.app_context():
        absence = db.session.scalar(sa.select(Absence))
        assert (absence.registration_id, absence.session_id) == (reg, week_2_id)
        assert db.session.scalar(
            sa.select(MakeupCredit).where(MakeupCredit.absence_id == absence.id)
        ).week_number == 2


def test_ready_pages_are_valid_html(app, client, auth, course):
    reg, second = course["registration"], course["sessions"][1]
    path = ready_path(app, reg, second)
    pages = {
        "question": client.get(path).get_data(as_text=True),
        "after unwell": client.post(path, data={"status": "unwell"}).get_data(as_text=True),
        "refused": client.post(path, data={"status": "maybe"}).get_data(as_text=True),
    }
    auth.login("pat@example.org")
    pages["logged in"] = client.get(
        f"/account/bookings/{reg}/sessions/{second}/ready"
    ).get_data(as_text=True)
    assert html_errors(pages) == {label: [] for label in pages}


def test_unwell_on_the_ready_page_frees_a_visitor_s_seat_for_the_family_waiting(
    app, client, family, make_workshop, make_user, make_baby
):
    """Two places: Ada's and a make-up visitor's in week 2, so a newcomer waits. Ada's
    parent answers "unwell" for week 2: the visitor takes Ada's seat that week, the
    second place is free again, and the family waiting gets it."""
    parent, baby = family
    workshop = make_workshop(starts_at=hour(72), capacity=2)
    waiting_parent = make_user("wait@example.org")
    with app.app_context():
        reg = book(parent, baby, workshop)
        week2 = sessions_of(workshop.id)[1].id
        db.session.execute(sa.update(WorkshopSession).where(WorkshopSession.id == week2)
                           .values(makeups_taken=1))
        db.session.commit()
        waiting = book_place(parent_id=waiting_parent.id, workshop_id=workshop.id,
                             baby_id=make_baby(waiting_parent, name="Wren").id, consent=True)
        assert waiting.position == 1
        waiting_id = waiting.registration.id
    assert client.post(ready_path(app, reg, week2), data={"status": "unwell"}).status_code == 200
    with app.app_context():
        assert db.session.get(Registration, waiting_id).status == "confirmed"
