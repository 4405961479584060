"""The parent's side of health answers: a due date at booking (corrected ages), the health
questions asked once with consent and confirmed in one tap for the next course, a changed
text asking again, the contact phone number, and nobody else reaching any of it."""

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import Baby, HealthConsent, HealthRecord, Registration, User
from booking.services.health import answers
from booking.services.health.questions import PRODUCT_FORM, current_form, save_centre_form
from tests.html_checker import html_errors

BORN = date.today() - timedelta(weeks=12)
DUE = BORN + timedelta(days=35)  # born 5 weeks early: 7 weeks corrected today


@pytest.fixture
def parent(make_user, auth):
    """A logged-in parent with no phone number yet."""
    user = make_user(email="pat@example.org", name="Pat Parent")
    auth.login("pat@example.org")
    return user


def text(response) -> str:
    return response.get_data(as_text=True)


def health_data(form=PRODUCT_FORM, *, consent=True, skip=(), other="", **yes) -> dict:
    """The questionnaire as a parent posts it: "no" to everything but `yes` (key=details)."""
    data = {f"q-{q.key}": "no" for q in form.questions if q.key not in skip}
    for key, details in yes.items():
        data[f"q-{key}"] = "yes"
        data[f"q-{key}-details"] = details
    data["other"] = other
    if consent:
        data["consent"] = "y"
    return data


def book_new_baby(client, workshop_id, **extra):
    data = {
        "baby_id": "new",
        "baby_name": "Pip",
        "baby_dob": BORN.isoformat(),
        "baby_due_date": DUE.isoformat(),
        "consent": "y",
        **extra,
    }
    return client.post(f"/classes/{workshop_id}/book", data=data)


def registration_of(app, workshop_id) -> Registration | None:
    with app.app_context():
        registration = db.session.scalar(
            sa.select(Registration).where(Registration.workshop_id == workshop_id)
        )
        if registration is not None:
            db.session.expunge(registration)
        return registration


def record_of(app, baby_id) -> HealthRecord | None:
    with app.app_context():
        record = answers.record_of(baby_id)
        if record is not None:
            db.session.expunge(record)
        return record


def is_done(app, parent_id, registration_id) -> bool:
    with app.app_context():
        return answers.health_check(parent_id, registration_id).done


def shared_with(app, baby_id, centre_id) -> bool:
    """Whether the centre's instructors and staff may read the baby's answers."""
    with app.app_context():
        return baby_id in answers.shared_records([baby_id], centre_id)


def test_a_baby_born_early_is_booked_by_corrected_age(client, app, parent, make_workshop):
    # 12 weeks from birth at the first session, 7 weeks corrected.
    young = make_workshop(title="Little ones", min_age_weeks=6, max_age_weeks=9, starts_in_days=1)
    older = make_workshop(title="Big ones", min_age_weeks=10, max_age_weeks=20, starts_in_days=1)
    also_young = make_workshop(min_age_weeks=6, max_age_weeks=9, starts_in_days=1)

    page = text(client.get(f"/classes/{young.id}"))
    assert 'name="baby_due_date"' in page and 'type="date"' in page
    assert "Only if your baby was born 3 or more weeks early" in page

    response = book_new_baby(client, young.id)
    registration = registration_of(app, young.id)
    assert registration is not None and registration.status == "confirmed"
    assert response.status_code == 302
    with app.app_context():
        baby = db.session.get(Baby, registration.baby_id)
        assert baby.due_date == DUE and baby.is_premature

    # By birth Pip fits the older class, but corrected not: refused with the reason, and
    # the classes that would fit are counted by corrected age.
    refused = client.post(
        f"/classes/{older.id}/book", data={"baby_id": str(registration.baby_id), "consent": "y"}
    )
    assert refused.status_code == 422
    page = text(refused)
    assert "corrected for being born early" in page
    assert "/classes?age_weeks=7" in page
    assert registration_of(app, older.id) is None

    # The form shows the age at the first session, corrected.
    page = text(client.get(f"/classes/{also_young.id}"))
    assert re.search(r"12 weeks, 7 weeks corrected, at the first session", page)


def test_a_baby_not_yet_at_their_due_date_is_offered_no_age_filter_link(
    client, app, parent, make_workshop
):
    """Born a week ago, due in 8 weeks: refused by a class for 0 to 20 weeks, with the
    reason, but not sent to "classes for a baby of 0 weeks", which lists that same
    class (no age in weeks describes a baby before their due date)."""
    tiny = make_workshop(title="Tiny touch", min_age_weeks=0, max_age_weeks=20,
                         starts_in_days=7)
    today = date.today()
    refused = client.post(f"/classes/{tiny.id}/book", data={
        "baby_id": "new", "baby_name": "Tiny", "baby_dob": (today - timedelta(days=7)),
        "baby_due_date": (today + timedelta(weeks=8)), "consent": "y",
    })
    assert refused.status_code == 422
    page = text(refused)
    assert "short of the due date at the first session" in page
    assert "age_weeks=" not in page
    assert registration_of(app, tiny.id) is None


def test_a_due_date_that_cannot_be_right_is_refused_beside_its_field(
    client, app, parent, make_workshop
):
    workshop = make_workshop()
    response = book_new_baby(
        client, workshop.id, baby_due_date=(BORN + timedelta(weeks=30)).isoformat()
    )
    assert response.status_code == 422
    page = text(response)
    assert 'id="baby_due_date-error"' in page and "more than 20 weeks after" in page
    assert registration_of(app, workshop.id) is None


def test_health_questions_asked_once_then_one_tap_for_the_next_course(
    client, app, parent, make_centre, make_workshop
):
    centre = make_centre(name="Riverside Hub")
    first = make_workshop(centre=centre, title="First course", min_age_weeks=6,
                          max_age_weeks=30)
    second = make_workshop(centre=centre, title="Second course", min_age_weeks=6,
                           max_age_weeks=30, starts_in_days=40)
    response = book_new_baby(client, first.id)
    registration = registration_of(app, first.id)
    health_url = f"/account/bookings/{registration.id}/health"
    assert response.headers["Location"] == health_url

    # The full questionnaire, with the consent that names who sees the answers.
    page = text(client.get(health_url))
    assert "Booked: Pip has a place in First course" in page
    assert "One more step" in page
    assert f"<legend>{PRODUCT_FORM.questions[0].text}</legend>" in page
    assert 'name="q-unwell" id="q-unwell-yes" value="yes"' in page
    assert 'name="q-unwell-details"' in page and "If yes, tell us more" in page
    assert 'name="other"' in page and 'name="consent"' in page
    assert "I agree that these answers about Pip&#39;s health are kept" in page
    assert "never sent by email" in page
    assert "Nothing has changed" not in page

    # The bookings page asks for them.
    bookings = text(client.get("/account/bookings"))
    assert "Health questions for Pip: answer them before the class" in bookings
    assert health_url in bookings

    # No consent: refused beside the box, nothing kept.
    refused = client.post(health_url, data=health_data(consent=False, allergy="Peanuts"))
    assert refused.status_code == 422
    page = text(refused)
    assert 'id="consent-error"' in page and "Please tick to agree" in page
    assert "Peanuts" in page  # what was typed is shown again
    assert record_of(app, registration.baby_id) is None

    # A question left out: refused, naming it.
    refused = client.post(health_url, data=health_data(skip=("hips",)))
    assert refused.status_code == 422
    page = text(refused)
    hips = PRODUCT_FORM.question("hips").text
    assert 'id="q-hips-error"' in page and 'href="#q-hips-yes"' in page
    assert f"{hips}: Choose yes or no." in page
    assert record_of(app, registration.baby_id) is None

    saved = client.post(
        health_url, data=health_data(allergy="Peanuts", other="Likes a warm room")
    )
    assert saved.status_code == 302
    # On to the booking's confirmation, with its "Add to calendar" buttons.
    assert saved.headers["Location"] == f"/account/bookings/{registration.id}/booked"
    record = record_of(app, registration.baby_id)
    assert record is not None and record.consent_key == PRODUCT_FORM.consent_key
    assert is_done(app, parent.id, registration.id)
    assert shared_with(app, registration.baby_id, centre.id)
    bookings = text(client.get("/account/bookings"))
    assert "health answers are saved" in bookings
    assert "Peanuts" not in bookings  # the details never travel in a flashed message
    assert "Health questions for Pip" not in bookings

    # The next course at the same centre: one tap, nothing asked again. Saving the
    # answers confirmed only the booking in hand, so this one still waits for its tap.
    response = client.post(
        f"/classes/{second.id}/book", data={"baby_id": str(registration.baby_id), "consent": "y"}
    )
    second_registration = registration_of(app, second.id)
    second_url = f"/account/bookings/{second_registration.id}/health"
    assert response.headers["Location"] == second_url
    bookings = text(client.get("/account/bookings"))
    assert "Confirm Pip's health answers for this class" in bookings
    page = text(client.get(second_url))
    assert "Nothing has changed" in page and "Update the answers" in page
    assert "Peanuts" in page and "Likes a warm room" in page
    assert 'name="q-unwell"' not in page and 'name="consent"' not in page
    assert not is_done(app, parent.id, second_registration.id)

    confirmed = client.post(second_url, data={"action": "confirm"})
    assert confirmed.status_code == 302
    assert confirmed.headers["Location"] == f"/account/bookings/{second_registration.id}/booked"
    assert is_done(app, parent.id, second_registration.id)
    assert record_of(app, registration.baby_id).revision == record.revision
    assert "confirmed" in text(client.get("/account/bookings"))

    # Asked to update: the whole questionnaire, filled in, consent not needed again.
    page = text(client.get(f"{second_url}?update=1"))
    assert 'id="q-allergy-yes" value="yes" checked' in page
    assert "Peanuts" in page and "you need not tick it again" in page
    changed = client.post(second_url, data=health_data(consent=False, other="Likes a warm room"))
    assert changed.status_code == 302
    assert record_of(app, registration.baby_id).revision == record.revision + 1
    assert is_done(app, parent.id, second_registration.id)
    # The changed answers confirm only the booking they were given for: the first
    # course asks for its own one tap before its class.
    assert not is_done(app, parent.id, registration.id)
    bookings = text(client.get("/account/bookings"))
    assert "Confirm Pip's health answers for this class" in bookings
    assert client.post(health_url, data={"action": "confirm"}).status_code == 302
    assert is_done(app, parent.id, registration.id)


def test_a_class_at_another_centre_asks_to_share_the_answers_with_it(
    client, app, parent, make_centre, make_workshop
):
    home, other = make_centre(name="Riverside Hub"), make_centre(name="Harbour Clinic")
    first = make_workshop(centre=home, min_age_weeks=6, max_age_weeks=30)
    elsewhere = make_workshop(centre=other, min_age_weeks=6, max_age_weeks=30,
                              starts_in_days=40)
    book_new_baby(client, first.id)
    registration = registration_of(app, first.id)
    baby_id = registration.baby_id
    url = f"/account/bookings/{registration.id}/health"
    assert client.post(url, data=health_data(allergy="Peanuts")).status_code == 302
    assert shared_with(app, baby_id, home.id)
    # The consent named Riverside Hub: Harbour Clinic sees nothing yet.
    assert not shared_with(app, baby_id, other.id)

    client.post(f"/classes/{elsewhere.id}/book", data={"baby_id": str(baby_id), "consent": "y"})
    far = registration_of(app, elsewhere.id)
    far_url = f"/account/bookings/{far.id}/health"
    assert "Confirm Pip's health answers for this class" in text(
        client.get("/account/bookings")
    )
    # One tap still, with the consent that names the new centre's staff.
    page = text(client.get(far_url))
    assert "Nothing has changed" in page and "Peanuts" in page
    assert 'name="q-unwell"' not in page
    assert 'name="consent"' in page and "the staff of Harbour Clinic" in page
    refused = client.post(far_url, data={"action": "confirm"})
    assert refused.status_code == 422
    page = text(refused)
    assert 'id="consent-error"' in page and "Please tick to agree" in page
    assert not is_done(app, parent.id, far.id)
    assert not shared_with(app, baby_id, other.id)

    assert client.post(far_url, data={"action": "confirm", "consent": "y"}).status_code == 302
    assert is_done(app, parent.id, far.id)
    assert shared_with(app, baby_id, other.id)
    assert is_done(app, parent.id, registration.id), "the first booking stays confirmed"
    with app.app_context():
        consents = db.session.scalars(
            sa.select(HealthConsent).where(HealthConsent.baby_id == baby_id)
        ).all()
        assert {c.centre_id for c in consents} == {home.id, other.id}
        assert {c.consent_key for c in consents} == {PRODUCT_FORM.consent_key}


def test_a_new_version_of_the_centres_questions_asks_for_consent_again(
    client, app, parent, make_centre, make_user, make_workshop
):
    centre = make_centre(name="Riverside Hub")
    staff = make_user(role="staff", centre=centre)
    workshop = make_workshop(centre=centre, min_age_weeks=6, max_age_weeks=30)
    book_new_baby(client, workshop.id)
    registration = registration_of(app, workshop.id)
    url = f"/account/bookings/{registration.id}/health"
    assert client.post(url, data=health_data()).status_code == 302
    assert "Nothing has changed" in text(client.get(url))

    with app.app_context():
        rows = [q.as_dict() for q in PRODUCT_FORM.questions]
        form = save_centre_form(
            db.session.get(User, staff.id), centre.id, rows, "Our own note: no nut oils here."
        )
    assert not is_done(app, parent.id, registration.id)
    assert "Our own note: no nut oils here." in text(client.get(f"/classes/{workshop.id}"))
    # The same questions with a new note: the answers stand, the text is agreed again.
    bookings = text(client.get("/account/bookings"))
    assert "Confirm Pip's health answers for this class" in bookings

    page = text(client.get(url))
    assert "Our own note: no nut oils here." in page
    assert "the staff of Riverside Hub" in page
    # One tap is not enough now: the text changed, so it needs the consent tick too.
    assert "Nothing has changed" in page and 'name="consent"' in page
    refused = client.post(url, data={"action": "confirm"})
    assert refused.status_code == 422 and 'id="consent-error"' in text(refused)
    assert not is_done(app, parent.id, registration.id)
    update = text(client.get(f"{url}?update=1"))
    assert "are new to you for this centre" in update
    assert "you need not tick it again" not in update
    refused = client.post(url, data=health_data(form, consent=False))
    assert refused.status_code == 422 and 'id="consent-error"' in text(refused)
    assert not is_done(app, parent.id, registration.id)
    confirmed = client.post(url, data={"action": "confirm", "consent": "y"})
    assert confirmed.status_code == 302
    assert is_done(app, parent.id, registration.id)
    assert record_of(app, registration.baby_id).consent_key == form.consent_key
    with app.app_context():
        assert answers.consent_for(registration.baby_id, centre.id).consent_key == (
            form.consent_key
        )

    # Saving the same questions again is no new version: nothing is asked again.
    with app.app_context():
        again = save_centre_form(
            db.session.get(User, staff.id), centre.id, rows, "Our own note: no nut oils here."
        )
        assert again.key == form.key
    assert is_done(app, parent.id, registration.id)

    # A new question: the questionnaire, with the answers so far filled in.
    with app.app_context():
        added = save_centre_form(
            db.session.get(User, staff.id), centre.id,
            rows + [{"text": "Does your baby have reflux?", "kind": "tell", "flag": "Reflux"}],
            "Our own note: no nut oils here.",
        )
    reflux = f"c{centre.id}_reflux"
    assert added.question(reflux) is not None
    assert "Health questions for Pip have changed" in text(client.get("/account/bookings"))
    page = text(client.get(url))
    assert "Nothing has changed" not in page
    assert f'name="q-{reflux}"' in page and 'id="q-hips-no" value="no" checked' in page
    assert client.post(url, data=health_data(added)).status_code == 302
    assert is_done(app, parent.id, registration.id)


def test_the_babys_own_health_page(client, app, parent, make_baby, make_workshop):
    baby = make_baby(parent, name="Rae", age_weeks=10)
    url = f"/account/babies/{baby.id}/health"
    assert url in text(client.get("/account/babies"))
    page = text(client.get(url))
    assert "Rae's health questions" in page and 'name="q-heart"' in page
    # No class booked: nothing to confirm; the answers are saved for later.
    assert client.post(url, data=health_data(consent=False)).status_code == 422
    response = client.post(url, data=health_data(skin="Dry patches"))
    assert response.status_code == 302 and response.headers["Location"] == "/account/babies"
    page = text(client.get(url))
    assert "Dry patches" in page and "Update the answers" in page
    assert "Nothing has changed" not in page

    # Kept outside any booking: shared with no centre.
    with app.app_context():
        assert answers.consent_for(baby.id, None) is not None

    # Booked: the one tap (with the consent for the class's centre) confirms them.
    workshop = make_workshop(min_age_weeks=6, max_age_weeks=30)
    client.post(f"/classes/{workshop.id}/book", data={"baby_id": str(baby.id), "consent": "y"})
    registration = registration_of(app, workshop.id)
    assert not is_done(app, parent.id, registration.id)
    assert not shared_with(app, baby.id, workshop.centre_id)
    page = text(client.get(url))
    assert "Nothing has changed" in page and 'name="consent"' in page
    refused = client.post(url, data={"action": "confirm"})
    assert refused.status_code == 422 and 'id="consent-error"' in text(refused)
    assert not is_done(app, parent.id, registration.id)
    assert client.post(url, data={"action": "confirm", "consent": "y"}).status_code == 302
    assert is_done(app, parent.id, registration.id)
    assert shared_with(app, baby.id, workshop.centre_id)


@pytest.mark.parametrize("bad", ["\u202eenon", "none\x9b", "a\u2066b"])
def test_free_text_answers_keep_no_hidden_controls(client, app, parent, make_baby, bad):
    """What the instructor reads (a question's details, "anything else") may not hold
    control characters or text-direction overrides; line breaks are kept."""
    baby = make_baby(parent, name="Rae", age_weeks=10)
    url = f"/account/babies/{baby.id}/health"
    for data, field in ((health_data(other=bad), "other"),
                        (health_data(skin=bad), "q-skin-details")):
        response = client.post(url, data=data)
        assert response.status_code == 422
        assert f'id="{field}-error"' in text(response)
        assert "text-direction overrides" in text(response)
        assert record_of(app, baby.id) is None
    response = client.post(url, data=health_data(other="Sleeps best\nafter a bath"))
    assert response.status_code == 302
    assert record_of(app, baby.id).other == "Sleeps best\nafter a bath"


def test_the_parent_deletes_the_answers_and_every_consent(
    client, app, parent, make_workshop
):
    workshop = make_workshop(min_age_weeks=6, max_age_weeks=30)
    book_new_baby(client, workshop.id)
    registration = registration_of(app, workshop.id)
    baby_id = registration.baby_id
    url = f"/account/bookings/{registration.id}/health"
    assert client.post(url, data=health_data(heart="Murmur")).status_code == 302
    assert is_done(app, parent.id, registration.id)
    page = text(client.get(f"/account/babies/{baby_id}/health"))
    delete_url = f"/account/babies/{baby_id}/health/delete"
    assert f'action="{delete_url}"' in page and "Delete Pip's health answers" in page

    assert client.get(delete_url).status_code == 405
    response = client.post(delete_url)
    assert response.status_code == 302 and response.headers["Location"] == "/account/babies"
    babies = text(client.get("/account/babies"))
    assert "health answers are deleted" in babies and "Murmur" not in babies
    assert record_of(app, baby_id) is None
    assert not shared_with(app, baby_id, workshop.centre_id)
    with app.app_context():
        assert db.session.scalar(
            sa.select(sa.func.count(HealthConsent.id)).where(HealthConsent.baby_id == baby_id)
        ) == 0
        assert current_form(workshop.centre_id).for_centre == workshop.centre_id
    # Asked again before the class, from the start.
    assert not is_done(app, parent.id, registration.id)
    assert "Health questions for Pip: answer them before the class" in text(
        client.get("/account/bookings")
    )


def test_another_parent_reaches_no_health_page(
    client, app, auth, parent, make_user, make_workshop
):
    workshop = make_workshop()
    book_new_baby(client, workshop.id)
    registration = registration_of(app, workshop.id)
    client.post(f"/account/bookings/{registration.id}/health", data=health_data(heart="Murmur"))
    auth.logout()
    make_user(email="other@example.org")
    auth.login("other@example.org")
    for url in (
        f"/account/bookings/{registration.id}/health",
        f"/account/babies/{registration.baby_id}/health",
    ):
        response = client.get(url)
        assert response.status_code == 404
        assert "Murmur" not in text(response)
        assert client.post(url, data=health_data()).status_code == 404
        assert client.post(url, data={"action": "confirm"}).status_code == 404
    refused = client.post(f"/account/babies/{registration.baby_id}/health/delete")
    assert refused.status_code == 404
    record = record_of(app, registration.baby_id)
    assert record.revision == 1 and "Murmur" in str(record.answers)
    assert client.get("/account/bookings/999999/health").status_code == 404
    auth.logout()
    assert client.get(f"/account/babies/{registration.baby_id}/health").status_code == 302


def phone_of(app, user_id) -> str | None:
    with app.app_context():
        return db.session.get(User, user_id).phone


def test_phone_asked_at_the_first_booking_and_editable(client, app, parent, make_workshop):
    workshop = make_workshop()
    page = text(client.get(f"/classes/{workshop.id}"))
    assert 'name="phone"' in page and "used for nothing else" in page

    refused = book_new_baby(client, workshop.id, phone="call me")
    assert refused.status_code == 422
    assert 'id="phone-error"' in text(refused)
    assert registration_of(app, workshop.id) is None
    assert not phone_of(app, parent.id)

    assert book_new_baby(client, workshop.id, phone=" 07700  900123 ").status_code == 302
    assert registration_of(app, workshop.id) is not None
    assert phone_of(app, parent.id) == "07700 900123"
    # Asked once: the form no longer offers it.
    other = make_workshop()
    assert 'name="phone"' not in text(client.get(f"/classes/{other.id}"))

    assert "/account/details" in text(client.get("/account/bookings"))
    page = text(client.get("/account/details"))
    assert 'value="07700 900123"' in page
    bad = client.post("/account/details", data={"phone": "12"})
    assert bad.status_code == 422 and 'id="phone-error"' in text(bad)
    assert phone_of(app, parent.id) == "07700 900123"
    assert client.post("/account/details", data={"phone": "+44 7700 900456"}).status_code == 302
    assert phone_of(app, parent.id) == "+44 7700 900456"
    assert client.post("/account/details", data={"phone": ""}).status_code == 302
    assert not phone_of(app, parent.id)


def test_booking_without_a_phone_field_still_works(client, app, parent, make_workshop):
    workshop = make_workshop()
    assert book_new_baby(client, workshop.id).status_code == 302
    assert registration_of(app, workshop.id).status == "confirmed"
    assert not phone_of(app, parent.id)


def test_babies_pages_keep_a_due_date_and_say_the_corrected_age(client, app, parent):
    response = client.post(
        "/account/babies",
        data={"name": "Kit", "date_of_birth": BORN.isoformat(), "due_date": DUE.isoformat()},
    )
    assert response.status_code == 302
    with app.app_context():
        baby = db.session.scalar(sa.select(Baby).where(Baby.parent_id == parent.id))
        assert baby.due_date == DUE
        baby_id = baby.id
    page = text(client.get("/account/babies"))
    assert "12 weeks, 7 weeks corrected" in page
    edit = text(client.get(f"/account/babies/{baby_id}/edit"))
    assert f'value="{DUE.isoformat()}"' in edit
    bad = client.post(
        f"/account/babies/{baby_id}/edit",
        data={"name": "Kit", "date_of_birth": BORN.isoformat(),
              "due_date": (BORN - timedelta(weeks=8)).isoformat()},
    )
    assert bad.status_code == 422 and 'id="due_date-error"' in text(bad)
    cleared = client.post(
        f"/account/babies/{baby_id}/edit", data={"name": "Kit", "date_of_birth": BORN.isoformat()}
    )
    assert cleared.status_code == 302
    with app.app_context():
        assert db.session.get(Baby, baby_id).due_date is None
    assert "corrected" not in text(client.get("/account/babies"))


def test_health_and_details_pages_are_valid_html(client, app, parent, make_workshop):
    first = make_workshop(min_age_weeks=6, max_age_weeks=30)
    second = make_workshop(min_age_weeks=6, max_age_weeks=30, starts_in_days=40)
    pages = {"booking form with the phone": text(client.get(f"/classes/{first.id}/book"))}
    book_new_baby(client, first.id)
    registration = registration_of(app, first.id)
    url = f"/account/bookings/{registration.id}/health"
    baby_url = f"/account/babies/{registration.baby_id}/health"
    pages["refused answers"] = text(
        client.post(url, data=health_data(consent=False, skip=("hips",), heart="Murmur"))
    )
    client.post(url, data=health_data(allergy="Peanuts"))
    client.post(f"/classes/{second.id}/book",
                data={"baby_id": str(registration.baby_id), "consent": "y"})
    pages["bookings with a prompt"] = text(client.get("/account/bookings"))
    app.config["WTF_CSRF_ENABLED"] = True
    pages["questionnaire"] = text(client.get(f"{url}?update=1"))
    pages["one tap"] = text(client.get(url))
    pages["baby's questions"] = text(client.get(baby_url))
    pages["babies"] = text(client.get("/account/babies"))
    pages["details"] = text(client.get("/account/details"))
    assert 'name="csrf_token"' in pages["details"]
    errors = html_errors(pages)
    invalid = {label: problems for label, problems in errors.items() if problems}
    assert not invalid, "\n".join(
        f"{label}:\n  " + "\n  ".join(problems) for label, problems in invalid.items()
    )


def test_consent_is_never_recorded_to_a_note_or_questions_the_page_did_not_show(
    client, app, parent, make_centre, make_user, make_workshop
):
    """Staff publish a new note (or questions) while a parent's page is open: the
    booking form's consent, and the health page's answers and consent, are refused and
    the new words shown, rather than recorded as agreed to a version never read."""
    centre = make_centre(name="Riverside Hub")
    staff = make_user(role="staff", centre=centre)
    workshop = make_workshop(centre=centre, min_age_weeks=6, max_age_weeks=30)
    shown = text(client.get(f"/classes/{workshop.id}"))
    note_seen = re.search(r'name="note_seen" value="([0-9a-f]+)"', shown)[1]
    rows = [q.as_dict() for q in PRODUCT_FORM.questions]

    def publish(note):
        with app.app_context():
            return save_centre_form(db.session.get(User, staff.id), centre.id, rows, note)

    publish("New note: no oils at all this term.")
    refused = book_new_baby(client, workshop.id, note_seen=note_seen)
    assert refused.status_code == 409
    page = text(refused)
    assert "changed its health and safety note while this page was open" in page
    assert "New note: no oils at all this term." in page
    assert re.search(r'<input[^>]*name="consent"[^>]*>', page)[0].count("checked") == 0
    assert registration_of(app, workshop.id) is None
    fresh = re.search(r'name="note_seen" value="([0-9a-f]+)"', page)[1]
    assert fresh != note_seen
    assert book_new_baby(client, workshop.id, note_seen=fresh).status_code == 302
    registration = registration_of(app, workshop.id)
    assert registration.consent_key == f"centre-{centre.id}-v1/c1"

    url = f"/account/bookings/{registration.id}/health"
    form_seen = re.search(r'name="form_seen" value="([^"]+)"', text(client.get(url)))[1]
    assert form_seen == f"centre-{centre.id}-v1/c1"
    publish("A second note.")
    stale = client.post(url, data={**health_data(), "form_seen": form_seen})
    assert stale.status_code == 409 and "A second note." in text(stale)
    with app.app_context():
        assert answers.record_of(registration.baby_id) is None
    current = re.search(r'name="form_seen" value="([^"]+)"', text(stale))[1]
    assert client.post(url, data={**health_data(), "form_seen": current}).status_code == 302
    with app.app_context():
        consent = db.session.scalar(sa.select(HealthConsent))
        assert consent.consent_key == f"centre-{centre.id}-v2/c1"
