"""Health at a glance for instructors and staff: phones, corrected ages and flags on the
roster, the register and the staff's bookings page; clearing a booking that needs a
doctor's word; the roster CSV and the API without the parents' own words; the
centre's health questions page."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import Baby, MakeupCredit, Registration, User, WorkshopSession
from booking.services.accounts import api_tokens
from booking.services.booking.book import book_place
from booking.services.booking.places import age_text
from booking.services.courses.absences import report_absence
from booking.services.courses.makeups import book_makeup
from booking.services.health.access import SHOWN_AFTER_END
from booking.services.health.answers import confirm_unchanged, save_answers
from booking.services.health.questions import PRODUCT_FORM, current_form
from booking.services.health.readiness import answer_readiness
from booking.timefmt import to_local
from tests.health_helpers import seen_on
from tests.html_checker import html_errors

HIPS_WORDS = "Pavlik harness until March, Dr Okafor"
CHANGED_HIPS_WORDS = "Harness off, splint at night since May"
OTHER_WORDS = "Grandma rubs almond oil on her feet"
PHONE = "07700 900123"
CORRECTED = re.compile(r"\d+ weeks, \d+ weeks corrected")


def all_no(**yes):
    """Answers to the product's questions: no, except the given ones (key=details)."""
    raw = {q.key: {"answer": "no"} for q in PRODUCT_FORM.questions}
    for key, details in yes.items():
        raw[key] = {"answer": "yes", "details": details}
    return raw


@pytest.fixture
def world(app, make_centre, make_user, make_workshop, make_baby):
    """A centre with its instructor and staff, another instructor, staff of another
    centre, an admin, and a parent whose baby (born 5 weeks early) is booked."""
    centre = make_centre(slug="bristol", name="Bristol Hub")
    elsewhere = make_centre(slug="bath", name="Bath Studio")
    people = {
        "teacher": make_user(email="teacher@example.org", role="instructor", centre=centre),
        "other_teacher": make_user(email="other@example.org", role="instructor", centre=centre),
        "staff": make_user(email="staff@example.org", role="staff", centre=centre),
        "far_staff": make_user(email="far@example.org", role="staff", centre=elsewhere),
        "admin": make_user(email="admin@example.org", role="admin"),
        "parent": make_user(email="pat@example.org", name="Pat Parent"),
    }
    course = make_workshop(centre=centre, instructor=people["teacher"], sessions=4,
                           starts_in_days=7, title="Monday massage")
    baby = make_baby(people["parent"], name="Ada", age_weeks=12, born_early_weeks=5)
    with app.app_context():
        db.session.get(User, people["parent"].id).phone = PHONE
        db.session.commit()
        result = book_place(parent_id=people["parent"].id, workshop_id=course.id,
                            baby_id=baby.id, consent=True)
        assert result.confirmed
        registration_id = result.registration.id
        sessions = db.session.scalars(
            sa.select(WorkshopSession.id)
            .where(WorkshopSession.workshop_id == course.id)
            .order_by(WorkshopSession.number)
        ).all()
    return {"centre": centre, "elsewhere": elsewhere, "course": course, "baby": baby,
            "registration": registration_id, "sessions": sessions, **people}


def answer(app, world, other="", **yes):
    """The parent answers the questions of the course's centre (the product's) for the
    booking, agreeing to share them with that centre."""
    with app.app_context():
        save_answers(world["parent"].id, world["baby"].id, current_form(world["centre"].id),
                     all_no(**yes), other, consent=True, registration_id=world["registration"])


def page(client, auth, email, url, status=200):
    """Log in as `email` and GET `url`; its text."""
    auth.logout()
    auth.login(email)
    response = client.get(url)
    assert response.status_code == status, url
    return response.get_data(as_text=True)


def roster_url(world):
    return f"/teach/workshops/{world['course'].id}"


def register_url(world, number=1):
    return f"/teach/sessions/{world['sessions'][number - 1]}/register"


def manage_url(world):
    return f"/manage/workshops/{world['course'].id}/registrations"


def test_corrected_age_and_phone_on_roster_register_and_bookings_page(
    app, client, auth, world
):
    with app.app_context():
        baby = db.session.get(Baby, world["baby"].id)
        session = db.session.get(WorkshopSession, world["sessions"][0])
        expected = age_text(baby, to_local(session.starts_at, "Europe/London").date())
    assert CORRECTED.fullmatch(expected)
    roster = page(client, auth, "teacher@example.org", roster_url(world))
    assert expected in roster
    assert f'<a href="tel:07700900123">{PHONE}</a>' in roster
    register = page(client, auth, "teacher@example.org", register_url(world))
    assert expected in register
    assert f'<a href="tel:07700900123">{PHONE}</a>' in register
    assert "Health questions not answered" in register
    bookings = page(client, auth, "staff@example.org", manage_url(world))
    assert f"{expected} at the first session" in bookings
    assert "tel:07700900123" in bookings


def test_a_phone_is_a_dash_when_there_is_none(app, client, auth, world):
    with app.app_context():
        db.session.get(User, world["parent"].id).phone = ""
        db.session.commit()
    register = page(client, auth, "teacher@example.org", register_url(world))
    assert "tel:" not in register
    assert '<td data-label="Phone">—</td>' in register


def test_a_hip_answer_needs_clearance_until_the_instructor_clears_it(
    app, client, auth, world
):
    answer(app, world, other=OTHER_WORDS, hips=HIPS_WORDS, allergy="Nut allergy, Dad")
    roster = page(client, auth, "teacher@example.org", roster_url(world))
    assert "Needs clearance" in roster
    assert "Allergy: no nut oils" in roster and "Hip dysplasia" in roster
    assert "<details" in roster and HIPS_WORDS in roster and OTHER_WORDS in roster
    assert "Mark cleared" in roster
    register = page(client, auth, "teacher@example.org", register_url(world))
    assert "Needs clearance" in register and "Allergy: no nut oils" in register
    assert HIPS_WORDS in register  # one tap away in a details element, never on paper
    assert "Mark cleared" not in register

    url = f"/teach/registrations/{world['registration']}/clearance"
    refused = client.post(url, data={"note": "  "})
    assert refused.status_code == 422
    assert "GP letter seen" in refused.get_data(as_text=True)
    assert 'aria-invalid="true"' in refused.get_data(as_text=True)
    for note in ("\u200b\u2060", "GP letter \u202eneeS"):
        refused = client.post(url, data={"note": note})
        assert refused.status_code == 422 and 'aria-invalid="true"' in refused.get_data(
            as_text=True
        )

    response = client.post(url, data={"note": "GP letter seen, harness check fine",
                                      "seen": seen_on(roster, world["registration"])})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(roster_url(world))
    roster = client.get(roster_url(world)).get_data(as_text=True)
    assert "Needs clearance" not in roster and "Mark cleared" not in roster
    assert "Cleared " in roster and "GP letter seen, harness check fine" in roster
    register = client.get(register_url(world)).get_data(as_text=True)
    assert "Needs clearance" not in register and "Cleared " in register

    # A changed answer is not covered by the clearance: the flag comes back.
    answer(app, world, other=OTHER_WORDS, hips=CHANGED_HIPS_WORDS, allergy="Nut allergy, Dad")
    register = client.get(register_url(world)).get_data(as_text=True)
    assert "Needs clearance" in register and CHANGED_HIPS_WORDS in register
    roster = client.get(roster_url(world)).get_data(as_text=True)
    assert "Needs clearance" in roster and "Mark cleared" in roster
    assert "which have changed since" in roster


def test_answers_changed_since_the_page_showed_them_are_not_cleared(app, client, auth, world):
    """The parent changes an answer while the roster is open: "Mark cleared" from that
    page would clear words nobody read. Refused, and the page shows the new words."""
    answer(app, world, hips=HIPS_WORDS)
    for who, url, action in (
        ("teacher@example.org", roster_url(world), "/teach"),
        ("staff@example.org", manage_url(world), "/manage"),
    ):
        answer(app, world, hips=HIPS_WORDS)
        shown = page(client, auth, who, url)
        changed = f"{CHANGED_HIPS_WORDS}, seen by {action[1:]}"
        answer(app, world, hips=changed)
        with app.app_context():
            before = db.session.get(Registration, world["registration"]).cleared_fingerprint
        post = f"{action}/registrations/{world['registration']}/clearance"
        for seen in (seen_on(shown, world["registration"]), "", "0" * 64):
            refused = client.post(post, data={"note": "GP letter seen", "seen": seen})
            assert refused.status_code == 409, who
            text = refused.get_data(as_text=True)
            assert "changed after the page showed them" in text and changed in text
        with app.app_context():
            kept = db.session.get(Registration, world["registration"])
            assert kept.cleared_fingerprint == before
        again = client.get(url).get_data(as_text=True)
        assert "Needs clearance" in again
        response = client.post(post, data={"note": "GP letter seen",
                                           "seen": seen_on(again, world["registration"])})
        assert response.status_code == 302, who
        assert "Needs clearance" not in client.get(url).get_data(as_text=True)


def test_nothing_to_clear_is_a_message_not_a_500(app, client, auth, world):
    answer(app, world)
    auth.login("teacher@example.org")
    response = client.post(f"/teach/registrations/{world['registration']}/clearance",
                           data={"note": "GP letter seen"})
    assert response.status_code == 422
    assert "Nothing in this baby" in response.get_data(as_text=True)


def test_other_instructors_and_centres_get_404(app, client, auth, world):
    answer(app, world, hips=HIPS_WORDS)
    registration = world["registration"]
    page(client, auth, "other@example.org", roster_url(world), 404)
    assert client.get(register_url(world)).status_code == 404
    assert client.get(f"{roster_url(world)}/roster.csv").status_code == 404
    assert client.post(f"/teach/registrations/{registration}/clearance",
                       data={"note": "GP letter seen"}).status_code == 404
    assert client.post("/teach/registrations/999999/clearance",
                       data={"note": "GP letter seen"}).status_code == 404
    page(client, auth, "far@example.org", manage_url(world), 404)
    assert client.post(f"/manage/registrations/{registration}/clearance",
                       data={"note": "GP letter seen"}).status_code == 404
    with app.app_context():
        assert db.session.get(Registration, registration).cleared_at is None


def test_staff_of_the_centre_see_the_details_and_clear(app, client, auth, world):
    answer(app, world, other=OTHER_WORDS, hips=HIPS_WORDS)
    bookings = page(client, auth, "staff@example.org", manage_url(world))
    assert "Needs clearance" in bookings and "Hip dysplasia" in bookings
    assert HIPS_WORDS in bookings and OTHER_WORDS in bookings
    assert "shown to the class's instructor" not in bookings.replace("&#39;", "'")
    url = f"/manage/registrations/{world['registration']}/clearance"
    assert client.post(url, data={"note": ""}).status_code == 422
    response = client.post(url, data={"note": "Physio letter seen",
                                      "seen": seen_on(bookings, world["registration"])})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(manage_url(world))
    bookings = client.get(manage_url(world)).get_data(as_text=True)
    assert "Needs clearance" not in bookings and "Physio letter seen" in bookings
    assert "Cleared " in bookings
    roster = page(client, auth, "teacher@example.org", roster_url(world))
    assert "by Staff: Physio letter seen" in roster  # who cleared it, and why


def test_an_admin_without_membership_does_not_see_the_answers(app, client, auth, world):
    answer(app, world, other=OTHER_WORDS, hips=HIPS_WORDS)
    bookings = page(client, auth, "admin@example.org", manage_url(world))
    assert "Ada" in bookings and "tel:07700900123" in bookings
    assert HIPS_WORDS not in bookings and OTHER_WORDS not in bookings
    assert "Needs clearance" not in bookings and "Hip dysplasia" not in bookings
    assert "shown to the class's instructor and the centre's staff" in bookings.replace(
        "&#39;", "'"
    )
    response = client.post(f"/manage/registrations/{world['registration']}/clearance",
                           data={"note": "GP letter seen"})
    assert response.status_code == 404


def test_roster_csv_has_phone_and_flag_labels_but_no_parents_words(app, client, auth, world):
    answer(app, world, other=OTHER_WORDS, hips=HIPS_WORDS, allergy="Nut allergy, Dad")
    auth.login("teacher@example.org")
    response = client.get(f"{roster_url(world)}/roster.csv")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    for words in (HIPS_WORDS, OTHER_WORDS, "Nut allergy, Dad", "Pavlik", "almond"):
        assert words not in text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 1
    row = rows[0]
    assert row["Phone"] == PHONE
    flags = row["Flags"].split("; ")
    assert flags[0] == "Needs clearance"
    # The parent described the allergy: the flag says where their words are, since "no
    # nut oils" alone may not name what this baby must avoid.
    assert {"Hip dysplasia", "Allergy: no nut oils (see Health details)",
            "Something else: see Health details"} <= set(flags)
    assert "See notes" not in flags  # the Notes column holds other notes
    with app.app_context():
        baby = db.session.get(Baby, world["baby"].id)
        session = db.session.get(WorkshopSession, world["sessions"][0])
        day = to_local(session.starts_at, "Europe/London").date()
        assert row["Corrected age in weeks at first session"] == str(
            baby.corrected_age_weeks_on(day)
        )
        assert int(row["Age in weeks at first session"]) == baby.age_weeks_on(day)


def test_roster_csv_without_answers_says_so(app, client, auth, world):
    auth.login("teacher@example.org")
    text = client.get(f"{roster_url(world)}/roster.csv").get_data(as_text=True)
    row = next(csv.DictReader(io.StringIO(text)))
    assert row["Flags"] == "Health questions not answered"


def test_api_registrations_carry_corrected_age_and_no_health(app, client, world, make_baby,
                                                             make_user):
    answer(app, world, other=OTHER_WORDS, hips=HIPS_WORDS, allergy="Nut allergy, Dad")
    with app.app_context():
        token = api_tokens.create_token(world["staff"].id, "staff")[1]
    response = client.get(f"/api/v1/workshops/{world['course'].id}/registrations",
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    for words in (HIPS_WORDS, OTHER_WORDS, "Nut allergy", "Hip dysplasia", "nut oils",
                  "clearance", PHONE, "Needs"):
        assert words not in text
    item = response.get_json()["items"][0]
    assert set(item["baby"]) == {"name", "date_of_birth", "age_weeks_at_first_session",
                                 "corrected_age_weeks_at_first_session"}
    corrected = item["baby"]["corrected_age_weeks_at_first_session"]
    assert corrected == item["baby"]["age_weeks_at_first_session"] - 5
    document = client.get("/api/v1/openapi.json").get_data(as_text=True)
    assert "corrected_age_weeks_at_first_session" in document


def test_api_corrected_age_is_null_when_not_premature(app, client, world, make_baby,
                                                      make_user, make_workshop):
    course = make_workshop(centre=world["centre"], instructor=world["teacher"])
    parent = make_user()
    baby = make_baby(parent, name="Bo", age_weeks=10)
    with app.app_context():
        book_place(parent_id=parent.id, workshop_id=course.id, baby_id=baby.id, consent=True)
        token = api_tokens.create_token(world["staff"].id, "staff")[1]
    response = client.get(f"/api/v1/workshops/{course.id}/registrations",
                          headers={"Authorization": f"Bearer {token}"})
    baby_reply = response.get_json()["items"][0]["baby"]
    assert baby_reply["corrected_age_weeks_at_first_session"] is None


def test_not_today_answer_is_a_doll_session_and_well_asks_the_instructor_to_check(
    app, client, auth, world
):
    answer(app, world, unwell="Temperature on Sunday")
    register = page(client, auth, "teacher@example.org", register_url(world))
    assert "Doll today" in register and "Check today" not in register
    assert "Unwell or fever: practise on a doll" in register
    roster = client.get(roster_url(world)).get_data(as_text=True)
    assert "Ada: unwell or fever, practise on a doll" in roster
    with app.app_context():
        answer_readiness(world["registration"], world["sessions"][0], "well")
    # The parent's "well" for the day does not hide the health answer: the instructor
    # sees both and checks with the parent before massage.
    register = client.get(register_url(world)).get_data(as_text=True)
    assert "Doll today" not in register and "Check today" in register
    assert "Unwell or fever (parent says well today: please check)" in register
    assert "practise on a doll" not in register
    roster = client.get(roster_url(world)).get_data(as_text=True)
    assert "Ada: unwell or fever (parent says well today: please check)</span>" in roster
    assert "please check), practise on a doll" not in roster
    # Other sessions, with no answer for the day, still follow the health answer.
    assert "Ada: unwell or fever, practise on a doll" in roster  # weeks 2 to 4
    later = client.get(register_url(world, 2)).get_data(as_text=True)
    assert "Doll today" in later and "Check today" not in later


def test_an_unwell_answer_for_the_day_shows(app, client, auth, world):
    answer(app, world)
    with app.app_context():
        answer_readiness(world["registration"], world["sessions"][1], "unwell")
    register = page(client, auth, "teacher@example.org", register_url(world, 2))
    assert "Unwell (told us)" in register
    roster = client.get(roster_url(world)).get_data(as_text=True)
    assert "Ada: Unwell (told us)" in roster
    assert "Unwell (told us)" not in client.get(register_url(world, 1)).get_data(as_text=True)


def test_makeup_attendees_get_phone_age_and_flags(
    app, client, auth, world, make_workshop
):
    answer(app, world, hips=HIPS_WORDS)
    other = make_workshop(centre=world["centre"], instructor=world["other_teacher"],
                          sessions=4, starts_in_days=8, title="Tuesday massage")
    with app.app_context():
        credit = report_absence(parent_id=world["parent"].id,
                                registration_id=world["registration"],
                                session_id=world["sessions"][1])
        target = db.session.scalar(
            sa.select(WorkshopSession.id).where(
                WorkshopSession.workshop_id == other.id, WorkshopSession.number == 2
            )
        )
        book_makeup(parent_id=world["parent"].id, credit_id=credit.id, session_id=target)
        assert db.session.scalar(sa.select(MakeupCredit.used_at)) is not None
    register = page(client, auth, "other@example.org", f"/teach/sessions/{target}/register")
    assert "Make-up from another course" in register
    assert "tel:07700900123" in register
    assert CORRECTED.search(register)
    assert "Needs clearance" in register and "Hip dysplasia" in register


def test_health_questions_page_saves_versions(app, client, auth, world):
    url = f"/manage/centres/{world['centre'].id}/health-questions"
    text = page(client, auth, "staff@example.org", url)
    assert "product-1" in text and "Hip dysplasia" in text
    assert text.count('name="questions-') >= 4 * (len(PRODUCT_FORM.questions) + 3)
    assert "Use the product&#39;s questions" not in text  # already the product's
    manage = client.get("/manage").get_data(as_text=True)
    assert url in manage

    rows = {
        "questions-0-key": "hips", "questions-0-text": "Hip dysplasia in treatment?",
        "questions-0-kind": "clearance", "questions-0-flag": "Hips",
        "questions-1-key": "", "questions-1-text": "Does your baby have reflux?",
        "questions-1-kind": "tell", "questions-1-flag": "Reflux",
        "questions-2-key": "", "questions-2-text": "", "questions-2-kind": "tell",
        "questions-2-flag": "",
        "safety_note": "Bring a towel. No massage after a feed.",
    }
    centre_id = world["centre"].id
    response = client.post(url, data=rows)
    assert response.status_code == 302
    with app.app_context():
        form = current_form(centre_id)
        assert form.key == f"centre-{centre_id}-v1" and form.for_centre == centre_id
        # Reworded, the hips question is a new question with the centre's own key (an
        # answer to the product's never carries over to it); so is the new one.
        assert [q.key for q in form.questions] == [f"c{centre_id}_hips", f"c{centre_id}_reflux"]
        assert [q.flag for q in form.questions] == ["Hips", "Reflux"]
        assert form.safety_note == "Bring a towel. No massage after a feed."
    text = client.get(url).get_data(as_text=True)
    assert f"centre-{world['centre'].id}-v1" in text and "Reflux" in text

    bad = dict(rows, **{"questions-1-kind": "maybe"})
    response = client.post(url, data=bad)
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "Question 2: Choose what a yes to this question means." in text
    assert 'aria-describedby="questions-1-error"' in text
    empty = {"questions-0-text": "", "questions-0-kind": "tell", "safety_note": ""}
    assert client.post(url, data=empty).status_code == 422
    # The note parents agree to cannot hide its words behind a direction override.
    turned = dict(rows, safety_note="No massage with a fever \u202e.won ti od")
    response = client.post(url, data=turned)
    assert response.status_code == 422
    assert "text-direction overrides (it has U+202E)" in response.get_data(as_text=True)
    with app.app_context():
        assert current_form(world["centre"].id).version == 1

    response = client.post(url, data={"action": "reset"})
    assert response.status_code == 302
    with app.app_context():
        form = current_form(world["centre"].id)
        assert form.version == 2
        assert [q.key for q in form.questions] == [q.key for q in PRODUCT_FORM.questions]
    # The same questions again: no new version, so no parent is asked to agree again.
    assert client.post(url, data={"action": "reset"}).status_code == 302
    with app.app_context():
        assert current_form(world["centre"].id).version == 2

    # A row with the words of a question asked so far keeps its key.
    kept = {
        "questions-0-key": "", "questions-0-text": PRODUCT_FORM.question("hips").text,
        "questions-0-kind": "clearance", "questions-0-flag": "Hips",
        "questions-1-key": "", "questions-1-text": "Does your baby have reflux?",
        "questions-1-kind": "tell", "questions-1-flag": "Reflux",
        "safety_note": "",
    }
    assert client.post(url, data=kept).status_code == 302
    with app.app_context():
        form = current_form(centre_id)
        assert form.version == 3
        assert [q.key for q in form.questions] == ["hips", f"c{centre_id}_reflux"]


def test_health_questions_saved_from_a_page_left_open_do_not_undo_another_save(
    app, client, auth, world
):
    """Tab B changed the note and saved; tab A, opened before, added a question and
    saved: version 2 had A's question and none of B's changes, unannounced."""
    url = f"/manage/centres/{world['centre'].id}/health-questions"
    text = page(client, auth, "staff@example.org", url)
    seen = re.search(r'name="version_seen" type="hidden" value="(\d+)"', text).group(1)
    assert seen == "0"  # the product's questions
    row = {"questions-0-key": "", "questions-0-text": "Does your baby have reflux?",
           "questions-0-kind": "tell", "questions-0-flag": "Reflux"}
    tab_b = dict(row, safety_note="Bring a towel. No massage with a fever.", version_seen=seen)
    assert client.post(url, data=tab_b).status_code == 302
    tab_a = dict(row, **{"questions-1-key": "", "questions-1-text": "Any hip problems?",
                         "questions-1-kind": "tell", "questions-1-flag": "Hips"},
                 safety_note="", version_seen=seen)
    refused = client.post(url, data=tab_a)
    assert refused.status_code == 409
    text = refused.get_data(as_text=True)
    assert "Someone saved these questions (version 1) since you opened this page" in text
    assert "No massage with a fever." in text  # what is asked now, to change again
    # The form refused holds what is asked now and its version, so saving it works.
    assert re.search(r'name="version_seen" type="hidden" value="1"', text)
    assert "Any hip problems?" not in text
    assert client.post(url, data=dict(tab_a, version_seen="x")).status_code == 409
    # Digits to str.isdigit() that are not to int(): out of date too, never a 500.
    for seen in ("\u00b2", "\u2460", "\u0661", "9" * 40):
        assert client.post(url, data=dict(tab_a, version_seen=seen)).status_code == 409, seen
    with app.app_context():
        form = current_form(world["centre"].id)
        assert (form.version, form.safety_note) == (1, "Bring a towel. No massage with a fever.")
    again = dict(tab_a, version_seen="1")
    assert client.post(url, data=again).status_code == 302
    with app.app_context():
        assert len(current_form(world["centre"].id).questions) == 2


def test_health_questions_page_is_for_the_centres_staff(app, client, auth, world):
    url = f"/manage/centres/{world['centre'].id}/health-questions"
    page(client, auth, "far@example.org", url, 404)
    assert client.post(url, data={"action": "reset"}).status_code == 404
    page(client, auth, "pat@example.org", url, 403)
    page(client, auth, "staff@example.org", "/manage/centres/999999/health-questions", 404)
    with app.app_context():
        form = current_form(world["centre"].id)
        assert (form.key, form.questions) == (PRODUCT_FORM.key, PRODUCT_FORM.questions)
        assert not form.is_centres_own and form.for_centre == world["centre"].id


def test_another_centre_sees_nothing_until_the_parent_shares_the_answers_with_it(
    app, client, auth, world, make_user, make_workshop
):
    answer(app, world, other=OTHER_WORDS, hips=HIPS_WORDS)
    bath_teacher = make_user(email="bath@example.org", role="instructor",
                             centre=world["elsewhere"])
    bath = make_workshop(centre=world["elsewhere"], instructor=bath_teacher,
                         starts_in_days=40, title="Bath course")
    with app.app_context():
        booked = book_place(parent_id=world["parent"].id, workshop_id=bath.id,
                            baby_id=world["baby"].id, consent=True)
        registration_id = booked.registration.id
    bath_roster = f"/teach/workshops/{bath.id}"
    bath_bookings = f"/manage/workshops/{bath.id}/registrations"

    # Answered and shared with Bristol Hub only: Bath Studio's instructor and staff see
    # the baby as not answered, and there is nothing for them to clear.
    roster = page(client, auth, "bath@example.org", bath_roster)
    assert "Ada" in roster and "Health questions not answered" in roster
    for words in (HIPS_WORDS, OTHER_WORDS, "Hip dysplasia", "Needs clearance"):
        assert words not in roster
    csv_text = client.get(f"{bath_roster}/roster.csv").get_data(as_text=True)
    assert next(csv.DictReader(io.StringIO(csv_text)))["Flags"] == (
        "Health questions not answered"
    )
    refused = client.post(f"/teach/registrations/{registration_id}/clearance",
                          data={"note": "GP letter seen"})
    assert refused.status_code == 422
    bookings = page(client, auth, "far@example.org", bath_bookings)
    assert "Health questions not answered" in bookings and HIPS_WORDS not in bookings
    # Bristol's instructor still reads them.
    assert HIPS_WORDS in page(client, auth, "teacher@example.org", roster_url(world))

    # The parent agrees to share them with Bath Studio (one tap, with the consent).
    with app.app_context():
        assert confirm_unchanged(world["parent"].id, registration_id, consent=True) == 1
    roster = page(client, auth, "bath@example.org", bath_roster)
    assert "Needs clearance" in roster and HIPS_WORDS in roster and OTHER_WORDS in roster
    bookings = page(client, auth, "far@example.org", bath_bookings)
    assert "Needs clearance" in bookings and HIPS_WORDS in bookings
    # Still not the Bristol course's roster: that is not Bath's instructor's class.
    page(client, auth, "bath@example.org", roster_url(world), 404)


def test_health_is_shown_until_two_weeks_after_the_last_session(
    app, client, auth, world, make_workshop
):
    assert SHOWN_AFTER_END == timedelta(days=14)
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    past = {}
    for label, ended_days_ago in (("recent", 13), ("old", 15)):
        workshop = make_workshop(
            centre=world["centre"], instructor=world["teacher"], sessions=2,
            starts_at=hour - timedelta(days=ended_days_ago + 7, hours=1),
            title=f"Past course {label}",
        )
        with app.app_context():
            db.session.add(Registration(
                workshop_id=workshop.id, baby_id=world["baby"].id,
                parent_id=world["parent"].id, status="confirmed",
            ))
            db.session.commit()
        past[label] = workshop.id
    answer(app, world, hips=HIPS_WORDS)

    recent = page(client, auth, "teacher@example.org", f"/teach/workshops/{past['recent']}")
    assert "Needs clearance" in recent and HIPS_WORDS in recent
    old = client.get(f"/teach/workshops/{past['old']}").get_data(as_text=True)
    assert "Ada" in old
    for words in (HIPS_WORDS, "Needs clearance", "Hip dysplasia",
                  "Health questions not answered"):
        assert words not in old
    bookings = page(client, auth, "staff@example.org",
                    f"/manage/workshops/{past['old']}/registrations")
    assert "Ada" in bookings and HIPS_WORDS not in bookings
    assert "Needs clearance" not in bookings
    assert HIPS_WORDS in page(client, auth, "staff@example.org",
                              f"/manage/workshops/{past['recent']}/registrations")


def test_print_stylesheet_keeps_details_off_paper(client):
    response = client.get("/static/css/print-register.css")
    css = response.get_data(as_text=True)
    response.close()
    assert re.search(r"details\.health-details[^{]*\{[^}]*display: none", css)


def test_pages_with_health_flags_are_valid_html(app, client, auth, world):
    answer(app, world, other=OTHER_WORDS, hips=HIPS_WORDS, unwell="Temperature")
    pages = {
        "roster": page(client, auth, "teacher@example.org", roster_url(world)),
        "register": client.get(register_url(world)).get_data(as_text=True),
        "roster with a refused clearance": client.post(
            f"/teach/registrations/{world['registration']}/clearance", data={"note": ""}
        ).get_data(as_text=True),
        "bookings": page(client, auth, "staff@example.org", manage_url(world)),
    }
    url = f"/manage/centres/{world['centre'].id}/health-questions"
    pages["questions"] = client.get(url).get_data(as_text=True)
    pages["questions refused"] = client.post(
        url, data={"questions-0-text": "Reflux?", "questions-0-kind": "maybe"}
    ).get_data(as_text=True)
    errors = html_errors(pages)
    assert set(errors) == set(pages)
    invalid = {label: problems for label, problems in errors.items() if problems}
    assert not invalid, invalid


def test_health_flags_load_in_a_bounded_number_of_queries(
    app, client, auth, world, make_user, make_baby
):
    """The roster, register, CSV and bookings page run as many queries with 6 answered
    (and some cleared) babies as with 2."""
    from booking.services.health.clearance import clear_booking
    from tests.test_query_counts import count_queries

    def add_family(i):
        parent = make_user(email=f"family{i}@example.org")
        baby = make_baby(parent, name=f"Baby {i}", age_weeks=14, born_early_weeks=4)
        with app.app_context():
            db.session.get(User, parent.id).phone = f"07700 90000{i}"
            db.session.commit()
            result = book_place(parent_id=parent.id, workshop_id=world["course"].id,
                                baby_id=baby.id, consent=True)
            save_answers(parent.id, baby.id, current_form(world["centre"].id),
                         all_no(hips=f"Harness {i}", unwell=f"Cold {i}"), f"Note {i}",
                         consent=True, registration_id=result.registration.id)
            if i % 2:
                clearer = world["teacher"] if i % 4 == 1 else world["staff"]
                clear_booking(db.session.get(User, clearer.id), result.registration.id,
                              f"Letter {i}")

    urls = {
        "teacher@example.org": [roster_url(world), register_url(world),
                                f"{roster_url(world)}/roster.csv"],
        "staff@example.org": [manage_url(world)],
    }
    counts, added = {}, 0
    for size in (2, 6):
        while added < size:
            add_family(added)
            added += 1
        for email, paths in urls.items():
            auth.logout()
            auth.login(email)
            for path in paths:
                counts.setdefault(path, []).append(count_queries(app, client, path))
    for path, (few, many) in counts.items():
        assert few == many, f"{path}: {few} queries with 2 families, {many} with 6"


def test_going_back_to_the_products_questions_from_a_page_left_open_is_refused(
    app, client, auth, world
):
    """Tab A showed version 1 with its "Use the product's questions" button; tab B saved
    version 2; A's button threw B's questions away unseen."""
    url = f"/manage/centres/{world['centre'].id}/health-questions"
    page(client, auth, "staff@example.org", url)
    first = {"questions-0-key": "", "questions-0-text": "Does your baby have reflux?",
             "questions-0-kind": "tell", "questions-0-flag": "Reflux", "safety_note": "",
             "version_seen": "0"}
    assert client.post(url, data=first).status_code == 302
    text = client.get(url).get_data(as_text=True)
    assert re.search(r'name="action" value="reset">\s*<input type="hidden" '
                     r'name="version_seen" value="1">', text)
    second = dict(first, safety_note="Bring a towel.", version_seen="1")
    assert client.post(url, data=second).status_code == 302
    refused = client.post(url, data={"action": "reset", "version_seen": "1"})
    assert refused.status_code == 409
    text = refused.get_data(as_text=True)
    assert ("Someone saved these questions (version 2) since you opened this page, so they "
            "were not replaced by the product&#39;s questions") in text
    assert re.search(r'name="action" value="reset">\s*<input type="hidden" '
                     r'name="version_seen" value="2">', text)
    with app.app_context():
        assert current_form(world["centre"].id).safety_note == "Bring a towel."
    assert client.post(url, data={"action": "reset", "version_seen": "x"}).status_code == 409
    assert client.post(url, data={"action": "reset", "version_seen": "2"}).status_code == 302
    with app.app_context():
        form = current_form(world["centre"].id)
        assert form.version == 3 and form.questions == PRODUCT_FORM.questions


def test_an_allergy_the_parent_described_points_to_their_words(app, client, auth, world):
    """"Allergy: no nut oils" alone would send an instructor holding the printed register
    to a sunflower oil for a baby allergic to it: a described allergy says where to read
    what it is; one answered without words keeps the flag as it is."""
    answer(app, world, allergy="Sunflower oil: hives")
    register = page(client, auth, "teacher@example.org", register_url(world))
    assert "Allergy: no nut oils (see Health details)" in register
    assert "Sunflower oil: hives" in register  # one tap away, on screen
    answer(app, world, allergy="  ")
    register = page(client, auth, "teacher@example.org", register_url(world))
    assert "Allergy: no nut oils" in register and "(see Health details)" not in register
