"""Course evaluations: asked once at the end of a course, answered from the emailed link
without logging in, summarised for the instructor and the centre (with a CSV for
commissioners), quoted on public pages only with consent, and forgotten on erasure."""

import csv
import html
import io
import json
import re
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import (
    Evaluation,
    OutboxMessage,
    PracticeSheet,
    Registration,
    Workshop,
    WorkshopSession,
)
from booking.services.plans.evaluations import (
    ask_for_evaluations,
    due_evaluations,
    evaluation_key,
    evaluation_token,
)
from booking.services.privacy.erase import erase_user, purge_counts
from booking.timefmt import to_local
from tests.html_checker import html_errors
from tests.mailtools import add_registration

LINK = re.compile(r"https://classes\.example\.org(/evaluate/[A-Za-z0-9_.\-]+)")
JSONLD = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)


def hour(hours: float) -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=hours)


def outbox() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


def evaluation_of(registration_id: int) -> Evaluation | None:
    db.session.expire_all()
    return db.session.scalar(
        sa.select(Evaluation).where(Evaluation.registration_id == registration_id)
    )


def settle() -> None:
    """End the test's read transaction, so that requests (which share the test's app
    context and session) see rows committed since, such as a user just made."""
    db.session.commit()


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def last_end(workshop_id: int) -> datetime:
    return db.session.scalar(
        sa.select(sa.func.max(WorkshopSession.ends_at)).where(
            WorkshopSession.workshop_id == workshop_id
        )
    )


@pytest.fixture
def course(app, make_centre, make_user, make_baby, make_workshop):
    """A 3-week course whose last session ended 10 days ago, led by Ines at Centre
    Leafy: three confirmed families (Ada, Ben, Cleo), one cancelled, one waiting."""
    centre = make_centre(slug="leafy", name="Leafy Family Hub")
    ines = make_user("ines@example.org", name="Ines Teacher", role="instructor", centre=centre)
    workshop = make_workshop(
        centre=centre, instructor=ines, starts_at=hour(-24 * 24), sessions=3,
        title="Baby massage course",
    )
    regs = {}
    for name in ("Ada", "Ben", "Cleo", "Dot", "Eve"):
        parent = make_user(f"{name.lower()}.parent@example.org", name=f"{name} Parent")
        status = {"Dot": "cancelled", "Eve": "waitlisted"}.get(name, "confirmed")
        regs[name] = add_registration(
            app, workshop, parent, make_baby(parent, name=name), status=status
        )
    return {"centre": centre, "instructor": ines, "workshop": workshop, "regs": regs}


def link_of(registration_id: int) -> str:
    message = db.session.scalar(
        sa.select(OutboxMessage).where(
            OutboxMessage.dedupe_key == evaluation_key(registration_id)
        )
    )
    return LINK.search(message.body_text).group(1)


def answer(client, path, before="2", after="4", helped="", public=False):
    data = {"confidence_before": before, "confidence_after": after, "helped": helped}
    if public:
        data["public"] = "y"
    return client.post(path, data=data)


@pytest.fixture
def answered(app, ctx, client, course):
    """Everyone asked; Ada (2 -> 4, consented words) and Ben (3 -> 4, private words)
    answered, Cleo did not."""
    assert ask_for_evaluations() == 3
    regs = course["regs"]
    ok = answer(client, link_of(regs["Ada"]), "2", "4",
                "The tummy strokes settled her wind in the evenings.", public=True)
    assert ok.status_code == 200
    ok = answer(client, link_of(regs["Ben"]), "3", "4", "Our private words about home.")
    assert ok.status_code == 200
    settle()
    return course


# --- asking once -----------------------------------------------------------------------


def test_each_confirmed_family_is_asked_once_when_the_course_has_ended(ctx, course):
    regs = course["regs"]
    end = last_end(course["workshop"].id)
    assert ask_for_evaluations(now=end - timedelta(minutes=1)) == 0, "not before the end"
    assert outbox() == []

    assert ask_for_evaluations() == 3
    messages = outbox()
    confirmed = [regs[n] for n in ("Ada", "Ben", "Cleo")]
    assert sorted(m.dedupe_key for m in messages) == sorted(
        evaluation_key(r) for r in confirmed
    )
    by_key = {m.dedupe_key: m for m in messages}
    ada = by_key[evaluation_key(regs["Ada"])]
    assert ada.recipient == "ada.parent@example.org"
    assert ada.subject == "How did Baby massage course go?"
    assert "Ada" in ada.body_text and LINK.search(ada.body_text)
    assert LINK.search(ada.body_html)
    # Nothing about the family beyond the baby's first name.
    assert "Ada Parent" not in ada.body_text + ada.body_html
    assert "ada.parent@" not in ada.body_text + ada.body_html
    evaluations = db.session.scalars(sa.select(Evaluation)).all()
    assert sorted(e.registration_id for e in evaluations) == sorted(confirmed)
    assert all(e.answered_at is None for e in evaluations)

    assert ask_for_evaluations() == 0
    assert len(outbox()) == 3
    assert due_evaluations() == []


def test_a_parent_of_twins_is_asked_once(app, ctx, course, make_user, make_baby):
    """Twins are one family: one email and one evaluation, whichever run asks."""
    parent = make_user("twins.parent@example.org")
    first = add_registration(app, course["workshop"], parent, make_baby(parent, name="Ivy"))
    add_registration(app, course["workshop"], parent, make_baby(parent, name="Ian"))
    assert ask_for_evaluations() == 4
    assert ask_for_evaluations() == 0
    to_twins = [m for m in outbox() if m.recipient == "twins.parent@example.org"]
    assert [m.dedupe_key for m in to_twins] == [evaluation_key(first)]
    assert due_evaluations() == []


def test_the_twins_request_and_page_name_both_babies(app, ctx, client, course, make_user,
                                                   make_baby):
    """One request for the family, asking about every baby it still has on the course
    (not one whose place was cancelled)."""
    parent = make_user("twins.parent@example.org")
    first = add_registration(app, course["workshop"], parent, make_baby(parent, name="Amy"))
    add_registration(app, course["workshop"], parent, make_baby(parent, name="Bea"))
    add_registration(app, course["workshop"], parent, make_baby(parent, name="Cal"),
                     status="cancelled")
    assert ask_for_evaluations() == 4
    (message,) = [m for m in outbox() if m.recipient == "twins.parent@example.org"]
    for body in (message.body_text, message.body_html):
        assert "We hope you and Amy and Bea enjoyed it" in body
        assert "how confident you felt massaging Amy and Bea before the course" in body
        assert "Cal" not in body
    settle()
    text = page_text(client.get(link_of(first)))
    assert "How confident did you feel massaging Amy and Bea before the course?" in text
    assert "How confident do you feel massaging Amy and Bea now?" in text
    assert "Cal" not in text


def test_a_single_class_is_not_asked(app, ctx, make_user, make_baby, make_workshop):
    """The evaluation asks about a course, before and after its weeks: a single drop-in
    class is never asked, by a run or by asking its booking directly."""
    from booking.services.plans.evaluations import ask_one

    parent = make_user("drop.in@example.org")
    single = make_workshop(kind="single", starts_at=hour(-24 * 3))
    registration = add_registration(app, single, parent, make_baby(parent))
    assert due_evaluations() == []
    assert ask_for_evaluations() == 0
    assert ask_one(registration) is False
    assert outbox() == [] and evaluation_of(registration) is None


def test_old_courses_cancelled_ones_and_courses_still_running_are_not_asked(
    app, ctx, make_user, make_baby, make_workshop
):
    parent = make_user("pat@example.org")
    baby = make_baby(parent, name="Pip")
    old = make_workshop(starts_at=hour(-24 * 60), sessions=3)
    cancelled = make_workshop(starts_at=hour(-24 * 20), sessions=3, status="cancelled")
    running = make_workshop(starts_at=hour(-24 * 8), sessions=3)
    for workshop in (old, cancelled, running):
        add_registration(app, workshop, parent, baby)
    assert ask_for_evaluations() == 0
    assert outbox() == []
    # Once the running course's last session has ended, it is asked.
    end = last_end(running.id)
    assert ask_for_evaluations(now=end + timedelta(hours=1)) == 1
    assert db.session.scalar(sa.select(Evaluation.workshop_id)) == running.id


def test_the_last_scheduled_session_counts_and_a_cancelled_one_does_not(
    app, ctx, make_user, make_baby, make_workshop
):
    parent = make_user("pat@example.org")
    workshop = make_workshop(starts_at=hour(-24 * 8), sessions=3)
    registration = add_registration(app, workshop, parent, make_baby(parent))
    assert ask_for_evaluations() == 0
    # Week 3 (in six days) is cancelled: the course ended with week 2, yesterday.
    db.session.execute(
        sa.update(WorkshopSession)
        .where(WorkshopSession.workshop_id == workshop.id, WorkshopSession.number == 3)
        .values(status="cancelled")
    )
    db.session.commit()
    assert ask_for_evaluations() == 1
    assert evaluation_of(registration) is not None


def test_concurrent_runs_ask_each_family_once(app, make_user, make_baby, make_workshop):
    workshop = make_workshop(starts_at=hour(-24 * 20), sessions=3, capacity=12)
    regs = []
    for i in range(6):
        parent = make_user(f"p{i}@example.org")
        regs.append(add_registration(app, workshop, parent, make_baby(parent)))
    barrier = threading.Barrier(3)
    errors, counts = [], []

    def run():
        try:
            with app.app_context():
                barrier.wait()
                counts.append(ask_for_evaluations())
                db.session.remove()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sum(counts) == 6
    with app.app_context():
        assert sorted(m.dedupe_key for m in outbox()) == sorted(evaluation_key(r) for r in regs)
        assert db.session.scalar(sa.select(sa.func.count(Evaluation.id))) == 6


# --- the link --------------------------------------------------------------------------


def test_the_link_asks_and_saves_without_login(ctx, client, course):
    ask_for_evaluations()
    reg = course["regs"]["Ada"]
    path = link_of(reg)

    page = client.get(path)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "private, no-store"
    text = page_text(page)
    assert "How confident did you feel massaging Ada before the course?" in text
    assert "How confident do you feel massaging Ada now?" in text
    assert "<legend>" in text and "not at all" in text and ": very" in text
    assert "What helped most?" in text
    assert (
        "You may show my words on the instructor's and the centre's pages (without my name)"
        in text
    )

    saved = answer(client, path, "1", "4", "  Singing while we did the legs.  ", public=True)
    assert saved.status_code == 200
    assert saved.headers["Cache-Control"] == "private, no-store"
    assert "Thank you" in page_text(saved)
    evaluation = evaluation_of(reg)
    assert (evaluation.confidence_before, evaluation.confidence_after) == (1, 4)
    assert evaluation.helped == "Singing while we did the legs."
    assert evaluation.public is True
    assert evaluation.answered_at is not None

    # Changed later from the same link: the form shows the answers given.
    again = page_text(client.get(path))
    assert 'value="4" checked' in again and "Singing while we did the legs." in again
    changed = answer(client, path, "2", "5", "", public=False)
    assert changed.status_code == 200
    evaluation = evaluation_of(reg)
    assert (evaluation.confidence_before, evaluation.confidence_after) == (2, 5)
    assert (evaluation.helped, evaluation.public) == ("", False)


def test_a_tampered_or_unasked_link_is_not_found(ctx, client, course):
    ask_for_evaluations()
    path = link_of(course["regs"]["Ada"])
    tampered = path[:-3] + ("abc" if not path.endswith("abc") else "xyz")
    response = client.get(tampered)
    assert response.status_code == 404
    assert "This evaluation link is not valid" in page_text(response)
    assert client.post(tampered, data={"confidence_before": "2"}).status_code == 404
    # A genuine token for a booking that was never asked (the cancelled one).
    with client.application.test_request_context():
        unasked = f"/evaluate/{evaluation_token(course['regs']['Dot'])}"
    assert client.get(unasked).status_code == 404
    assert client.get("/evaluate/not-a-token").status_code == 404


@pytest.mark.parametrize(
    "before, after, helped, field",
    [
        ("", "4", "", "confidence_before"),
        ("0", "4", "", "confidence_before"),
        ("3", "6", "", "confidence_after"),
        ("3", "four", "", "confidence_after"),
        ("\u00b2", "4", "", "confidence_before"),
        ("1" * 4301, "4", "", "confidence_before"),  # past int()'s digit limit
        ("3", "0" * 5000 + "4", "", "confidence_after"),
        ("3", "4", "x" * 1001, "helped"),
        ("3", "4", "Singing \u202ereversed", "helped"),  # the words may be shown publicly
        ("3", "4", "Singing\x9b", "helped"),
    ],
)
def test_bad_answers_are_refused_beside_the_field(ctx, client, course, before, after,
                                                 helped, field):
    ask_for_evaluations()
    reg = course["regs"]["Ada"]
    response = answer(client, link_of(reg), before, after, helped, public=True)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert f'id="{field}-error"' in body
    assert f'aria-describedby="{field}-hint {field}-error"' in body
    evaluation = evaluation_of(reg)
    assert evaluation.answered_at is None and evaluation.confidence_before is None
    assert evaluation.helped == "" and evaluation.public is False


# --- results ---------------------------------------------------------------------------


def test_the_instructor_sees_rate_and_gain_and_every_word(client, auth, answered):
    auth.login("ines@example.org")
    response = client.get("/teach/evaluations")
    assert response.status_code == 200
    text = page_text(response)
    assert "Baby massage course" in text
    assert "67%" in text  # 2 of 3 answered
    assert "2.5" in text and "4.0" in text and "+1.5" in text
    assert "The tummy strokes settled her wind in the evenings." in text
    assert "Our private words about home." in text
    assert "Ada Parent" not in text and "ada.parent@" not in text
    assert 'href="/teach/evaluations"' in client.get("/teach").get_data(as_text=True)


def test_another_instructor_does_not_see_them(client, auth, make_user, answered):
    make_user("other@example.org", role="instructor", centre=answered["centre"])
    auth.login("other@example.org")
    text = page_text(client.get("/teach/evaluations"))
    assert "Baby massage course" not in text and "67%" not in text
    assert "private words" not in text and "tummy strokes" not in text


def test_staff_see_per_course_and_per_instructor_with_a_csv(
    client, auth, make_user, make_centre, answered
):
    make_user("staff@example.org", role="staff", centre=answered["centre"])
    auth.login("staff@example.org")
    text = page_text(client.get("/manage/evaluations"))
    assert "Baby massage course" in text and "Ines Teacher" in text
    assert "67%" in text and "+1.5" in text
    assert "Our private words about home." in text
    assert "Per instructor at Leafy Family Hub" in text
    assert 'href="/manage/evaluations"' in client.get("/manage").get_data(as_text=True)

    centre_id = answered["centre"].id
    response = client.get(f"/manage/centres/{centre_id}/evaluations.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "private, no-store"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:2] == ["Course", "Instructor"]
    workshop = db.session.get(Workshop, answered["workshop"].id)
    first_day = to_local(workshop.first_starts_at, "Europe/London").date().isoformat()
    last_day = to_local(workshop.last_ends_at, "Europe/London").date().isoformat()
    assert rows[1] == [
        "Baby massage course", "Ines Teacher", first_day, last_day,
        "3", "2", "67", "2.5", "4.0", "1.5",
    ]
    assert rows[2] == ["All courses", "", "", "", "3", "2", "67", "2.5", "4.0", "1.5"]
    assert len(rows) == 3
    assert "private words" not in response.get_data(as_text=True)

    # Staff of another centre see neither.
    make_user("far@example.org", role="staff", centre=make_centre(name="Far away"))
    settle()
    auth.logout()
    auth.login("far@example.org")
    assert client.get(f"/manage/centres/{centre_id}/evaluations.csv").status_code == 404
    assert "Baby massage course" not in page_text(client.get("/manage/evaluations"))


def test_csv_cells_are_safe_from_formulas(app, ctx, client, auth, make_user, make_baby,
                                          make_workshop, course):
    sly = make_workshop(centre=course["centre"], instructor=course["instructor"],
                        starts_at=hour(-24 * 16), sessions=2, title="=HYPERLINK(\"x\")")
    parent = make_user("sly@example.org")
    add_registration(app, sly, parent, make_baby(parent))
    ask_for_evaluations()
    make_user("staff@example.org", role="staff", centre=course["centre"])
    settle()
    auth.login("staff@example.org")
    body = client.get(
        f"/manage/centres/{course['centre'].id}/evaluations.csv"
    ).get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(body)))
    assert ["'=HYPERLINK(\"x\")"] == [r[0] for r in rows if "HYPERLINK" in r[0]]


def test_an_admin_who_is_not_staff_there_sees_only_consented_words(
    client, auth, make_user, answered
):
    make_user("admin@example.org", role="admin")
    auth.login("admin@example.org")
    text = page_text(client.get("/manage/evaluations"))
    assert "67%" in text
    assert "The tummy strokes settled her wind in the evenings." in text
    assert "Our private words about home." not in text


# --- public quotes ---------------------------------------------------------------------


def _jsonld(text: str) -> dict:
    return json.loads(JSONLD.search(text).group(1))


def test_a_consented_quote_shows_on_the_instructor_and_centre_pages(client, answered):
    for path in (f"/instructors/{answered['instructor'].id}", "/centres/leafy"):
        response = client.get(path)
        assert response.status_code == 200
        text = page_text(response)
        assert "The tummy strokes settled her wind in the evenings." in text
        assert "Our private words about home." not in text
        assert "Ada Parent" not in text
        # As the evaluation page promises: the words, the course and the month.
        month = to_local(last_end(answered["workshop"].id), "Europe/London")
        assert f"A parent, Baby massage course, {month:%B %Y}" in text
        data = _jsonld(text)
        reviews = [node for node in data["@graph"] if node["@type"] == "Review"]
        assert len(reviews) == 1
        review = reviews[0]
        assert review["reviewBody"] == "The tummy strokes settled her wind in the evenings."
        assert review["author"] == {"@type": "Person", "name": "A parent"}
        assert review["datePublished"] == date.today().isoformat()
        kind = "Person" if path.startswith("/instructors") else "Organization"
        assert review["itemReviewed"]["@type"] == kind
        assert "private words" not in JSONLD.search(text).group(1)


def test_a_quote_shows_at_once_on_pages_kept_before_it(app, client, ctx, course):
    """Centre and instructor pages are kept by the catalogue's revision: words a family
    agrees to show move it, so they are on those pages at once."""
    app.config["LISTING_CACHE_SECONDS"] = 10**9
    ask_for_evaluations()
    paths = (f"/instructors/{course['instructor'].id}", "/centres/leafy")
    for path in paths:
        assert "What parents said" not in page_text(client.get(path))
    ok = answer(client, link_of(course["regs"]["Ada"]), "2", "4", "Calmer evenings.",
                public=True)
    assert ok.status_code == 200
    for path in paths:
        text = page_text(client.get(path))
        assert "Calmer evenings." in text, path
        assert "Calmer evenings." in JSONLD.search(text).group(1)


def test_a_quoted_course_title_is_escaped(client, ctx, course):
    db.session.execute(
        sa.update(Workshop)
        .where(Workshop.id == course["workshop"].id)
        .values(title="Massage <b>& more</b>")
    )
    db.session.commit()
    ask_for_evaluations()
    answer(client, link_of(course["regs"]["Ada"]), "2", "4", "Calmer evenings.", public=True)
    body = client.get("/centres/leafy").get_data(as_text=True)
    assert "A parent, Massage &lt;b&gt;&amp; more&lt;/b&gt;, " in body
    assert "<b>& more</b>" not in body


def test_without_consent_nothing_is_quoted(client, ctx, course):
    ask_for_evaluations()
    answer(client, link_of(course["regs"]["Ada"]), "2", "4", "Only for the instructor.")
    for path in (f"/instructors/{course['instructor'].id}", "/centres/leafy"):
        text = page_text(client.get(path))
        assert "Only for the instructor." not in text
        assert "What parents said" not in text
        assert not [n for n in _jsonld(text)["@graph"] if n["@type"] == "Review"]


# --- privacy ---------------------------------------------------------------------------


def _sheet(registration_id: int, **fields) -> int:
    registration = db.session.get(Registration, registration_id)
    sheet = PracticeSheet(
        dedupe_key=f"practice:{registration_id}:1",
        parent_id=registration.parent_id,
        baby_id=registration.baby_id,
        registration_id=registration_id,
        workshop_title="Baby massage course",
        week_number=2,
        weeks=3,
        session_day=date.today() - timedelta(days=17),
        title="Week 2: tummy, for wind and colic",
        **fields,
    )
    db.session.add(sheet)
    db.session.commit()
    return sheet.id


def test_erasure_blanks_the_words_and_deletes_practice_sheets(client, answered):
    reg = answered["regs"]["Ada"]
    path = link_of(reg)
    sheet = _sheet(reg)
    parent_id = db.session.get(Registration, reg).parent_id
    erase_user(parent_id)
    evaluation = evaluation_of(reg)
    assert (evaluation.helped, evaluation.public) == ("", False)
    assert (evaluation.confidence_before, evaluation.confidence_after) == (2, 4)
    assert db.session.get(PracticeSheet, sheet) is None
    assert client.get(path).status_code == 404
    # Ben's words are untouched, and the figures still count Ada's numbers.
    assert evaluation_of(answered["regs"]["Ben"]).helped == "Our private words about home."
    assert "tummy strokes" not in page_text(
        client.get(f"/instructors/{answered['instructor'].id}")
    )


def test_the_export_holds_practice_sheets_and_evaluations(client, auth, answered):
    reg = answered["regs"]["Ada"]
    _sheet(reg)
    auth.login("ada.parent@example.org")
    data = client.get("/account/export.json").get_json()
    assert data["practice_sheets"] == [
        {
            "workshop_title": "Baby massage course",
            "week_number": 2,
            "title": "Week 2: tummy, for wind and colic",
            "session_day": (date.today() - timedelta(days=17)).isoformat(),
            "created_at": data["practice_sheets"][0]["created_at"],
        }
    ]
    assert data["practice_sheets"][0]["created_at"]
    [evaluation] = data["evaluations"]
    assert evaluation["workshop"] == "Baby massage course"
    assert (evaluation["confidence_before"], evaluation["confidence_after"]) == (2, 4)
    assert evaluation["helped"] == "The tummy strokes settled her wind in the evenings."
    assert evaluation["public"] is True and evaluation["answered_at"]


def test_purge_blanks_the_words_of_expired_courses(answered):
    reg = answered["regs"]["Ada"]
    _sheet(reg)
    ended = db.session.get(Workshop, answered["workshop"].id).last_ends_at
    counts = purge_counts(now=ended + timedelta(days=30), days=365)
    assert (counts.evaluations, counts.sheets) == (0, 0)
    counts = purge_counts(now=ended + timedelta(days=400), days=365)
    assert (counts.evaluations, counts.sheets) == (2, 1)
    assert evaluation_of(reg).helped == "" and evaluation_of(reg).confidence_after == 4
    assert db.session.scalar(sa.select(sa.func.count(PracticeSheet.id))) == 0
    again = purge_counts(now=ended + timedelta(days=400), days=365)
    assert (again.evaluations, again.sheets) == (0, 0)


# --- valid HTML ------------------------------------------------------------------------


def test_evaluation_pages_are_valid_html(app, client, auth, make_user, answered):
    path = link_of(answered["regs"]["Cleo"])
    pages = {
        "question": client.get(path).get_data(as_text=True),
        "refused": answer(client, path, "9", "", "x" * 1001).get_data(as_text=True),
        "thank you": answer(client, path, "3", "5", "Eye contact.").get_data(as_text=True),
        "changing": client.get(path).get_data(as_text=True),
        "instructor page": client.get(
            f"/instructors/{answered['instructor'].id}"
        ).get_data(as_text=True),
        "centre page": client.get("/centres/leafy").get_data(as_text=True),
    }
    auth.login("ines@example.org")
    pages["teach"] = client.get("/teach/evaluations").get_data(as_text=True)
    auth.logout()
    make_user("staff@example.org", role="staff", centre=answered["centre"])
    settle()
    auth.login("staff@example.org")
    pages["manage"] = client.get("/manage/evaluations").get_data(as_text=True)
    assert html_errors(pages) == {label: [] for label in pages}



def test_a_booking_cancelled_after_it_was_asked_has_no_evaluation_page(ctx, client, course):
    ask_for_evaluations()
    reg = course["regs"]["Ada"]
    path = link_of(reg)
    assert client.get(path).status_code == 200
    db.session.execute(
        sa.update(Registration).where(Registration.id == reg).values(status="cancelled")
    )
    db.session.commit()
    assert client.get(path).status_code == 404
    assert answer(client, path, public=True).status_code == 404
    assert evaluation_of(reg).answered_at is None
