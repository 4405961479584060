"""The health services: corrected ages, due dates, phones, questions, answers, clearance."""

from datetime import date, timedelta

import pytest

from booking.extensions import db
from booking.models import Baby, HealthForm, HealthRecord, Registration
from booking.services.accounts.babies import check_due_date
from booking.services.accounts.contact import check_phone, set_phone
from booking.services.booking.book import book_place
from booking.services.booking.places import age_text, eligibility
from booking.services.errors import Invalid, NotFound
from booking.services.health import answers, clearance, flags, questions
from booking.services.health.questions import PRODUCT_FORM


def all_no(form=PRODUCT_FORM, **yes):
    """Answers to every question of a form: no, except the given ones (key=details)."""
    raw = {q.key: {"answer": "no"} for q in form.questions}
    for key, details in yes.items():
        raw[key] = {"answer": "yes", "details": details}
    return raw


def test_corrected_age_decides_eligibility_and_is_said(app, make_user, make_baby, make_workshop):
    parent = make_user()
    # 12 weeks from birth, born 5 weeks early: 7 weeks corrected.
    baby = make_baby(parent, age_weeks=12, born_early_weeks=5)
    too_old_by_birth = make_workshop(min_age_weeks=6, max_age_weeks=9, starts_in_days=1)
    for_older = make_workshop(min_age_weeks=10, max_age_weeks=20, starts_in_days=1)
    with app.app_context():
        baby = db.session.get(Baby, baby.id)
        assert baby.is_premature
        day = date.today() + timedelta(days=1)
        assert age_text(baby, date.today()) == "12 weeks, 7 weeks corrected"
        fits = eligibility(baby, db.session.merge(too_old_by_birth))
        assert fits.eligible and fits.age_weeks == baby.corrected_age_weeks_on(day)
        refused = eligibility(baby, db.session.merge(for_older))
        assert not refused.eligible and "corrected" in refused.reason


def test_born_less_than_three_weeks_early_is_not_corrected(app, make_user, make_baby):
    parent = make_user()
    baby = make_baby(parent, age_weeks=12, due_date=date.today() - timedelta(weeks=12, days=-20))
    with app.app_context():
        baby = db.session.get(Baby, baby.id)
        assert not baby.is_premature
        assert baby.corrected_age_weeks_on(date.today()) is None
        assert age_text(baby, date.today()) == "12 weeks"


def test_due_dates_must_be_plausible():
    born = date(2026, 5, 1)
    assert check_due_date(None, born) is None
    assert check_due_date(born + timedelta(weeks=5), born) == born + timedelta(weeks=5)
    for bad in (born + timedelta(weeks=21), born - timedelta(weeks=7), "2026-06-01"):
        with pytest.raises(Invalid) as exc:
            check_due_date(bad, born, "baby_due_date")
        assert "baby_due_date" in exc.value.fields


def test_phone_numbers(app, make_user):
    assert check_phone("  07700   900123 ") == "07700 900123"
    assert check_phone("+44 (0)7700 900-123") == "+44 (0)7700 900-123"
    assert check_phone("") == ""
    for bad in ("12345", "call me", "0" * 16, "07700 900123 ext 4"):
        with pytest.raises(Invalid):
            check_phone(bad)
    user = make_user()
    with app.app_context():
        assert set_phone(user.id, "07700 900123") == "07700 900123"


def test_booking_a_new_premature_baby_records_due_date_and_consent_version(
    app, make_user, make_workshop
):
    parent = make_user()
    workshop = make_workshop(min_age_weeks=6, max_age_weeks=9, starts_in_days=2)
    born = date.today() - timedelta(weeks=12)
    with app.app_context():
        result = book_place(
            parent_id=parent.id,
            workshop_id=workshop.id,
            baby_name="Pip",
            baby_dob=born,
            baby_due_date=born + timedelta(weeks=5),
            consent=True,
        )
        registration = db.session.get(Registration, result.registration_id)
        assert registration.consent_key == PRODUCT_FORM.consent_key
        assert db.session.get(Baby, registration.baby_id).due_date == born + timedelta(weeks=5)


def test_a_booking_records_the_consent_of_its_centres_latest_form(
    app, make_user, make_baby, make_centre, make_workshop
):
    # The booking reads the form's version with the workshop it locks: the latest
    # version of this centre's own form, not another centre's, not an older one.
    centre, other = make_centre(), make_centre()
    workshop = make_workshop(centre=centre)
    with app.app_context():
        for centre_id, version in ((centre.id, 1), (centre.id, 3), (centre.id, 2), (other.id, 4)):
            db.session.add(HealthForm(centre_id=centre_id, version=version, questions=[],
                                      safety_note=""))
        db.session.commit()
    parent = make_user()
    with app.app_context():
        result = book_place(parent_id=parent.id, workshop_id=workshop.id,
                            baby_id=make_baby(parent, age_weeks=10).id, consent=True)
        registration = db.session.get(Registration, result.registration_id)
        assert registration.consent_key == questions.current_form(centre.id).consent_key
        assert registration.consent_key == f"centre-{centre.id}-v3/c1"


def test_answers_are_kept_with_consent_and_confirmed_for_each_booking(
    app, make_user, make_baby, make_workshop
):
    parent = make_user()
    baby = make_baby(parent, age_weeks=10)
    first = make_workshop(starts_in_days=3)
    second = make_workshop(centre=None, starts_in_days=40)
    with app.app_context():
        form = questions.current_form(first.centre_id)
        assert form.for_centre == first.centre_id and form.key == PRODUCT_FORM.key
        one = book_place(parent_id=parent.id, workshop_id=first.id, baby_id=baby.id, consent=True)
        with pytest.raises(Invalid) as exc:
            answers.save_answers(parent.id, baby.id, form, all_no(), "", consent=False)
        assert "consent" in exc.value.fields
        raw = all_no()
        del raw["hips"]
        with pytest.raises(Invalid) as exc:
            answers.save_answers(parent.id, baby.id, form, raw, "", consent=True)
        assert "q-hips" in exc.value.fields
        assert answers.record_of(baby.id) is None

        record = answers.save_answers(
            parent.id, baby.id, form, all_no(allergy="peanut"), "", consent=True,
            registration_id=one.registration_id,
        )
        assert record.revision == 1 and record.consent_key == PRODUCT_FORM.consent_key
        assert answers.health_check(parent.id, one.registration_id).done
        assert answers.shared_records([baby.id], first.centre_id)
        # Consent names one centre's staff: another centre sees nothing until asked.
        assert not answers.shared_records([baby.id], second.centre_id)

        two = book_place(parent_id=parent.id, workshop_id=second.id, baby_id=baby.id, consent=True)
        check = answers.health_check(parent.id, two.registration_id)
        assert check.can_confirm and check.needs_consent and not check.done
        assert answers.upcoming_unconfirmed(parent.id) == [two.registration_id]
        with pytest.raises(Invalid):
            answers.confirm_unchanged(parent.id, two.registration_id)
        # One tap (and the tick for the new centre): nothing changed.
        answers.confirm_unchanged(parent.id, two.registration_id, consent=True)
        assert answers.health_check(parent.id, two.registration_id).done
        assert answers.shared_records([baby.id], second.centre_id)
        assert answers.upcoming_unconfirmed(parent.id) == []

        # Saving the same answers again changes no revision; a change does, and the
        # other booking is asked to confirm again (one tap) before its class.
        same = answers.save_answers(
            parent.id, baby.id, form, all_no(allergy="peanut"), "", consent=False,
            registration_id=one.registration_id,
        )
        assert same.revision == 1
        changed = answers.save_answers(
            parent.id, baby.id, form, all_no(), "", consent=False,
            registration_id=one.registration_id,
        )
        assert changed.revision == 2
        assert answers.upcoming_unconfirmed(parent.id) == [two.registration_id]

        answers.forget_answers(parent.id, baby.id)
        assert answers.record_of(baby.id) is None
        assert not answers.shared_records([baby.id], first.centre_id)
        assert answers.upcoming_unconfirmed(parent.id) == [
            one.registration_id, two.registration_id
        ]


def test_another_parent_cannot_reach_a_booking_or_baby(app, make_user, make_baby, make_workshop):
    parent, other = make_user(), make_user()
    baby = make_baby(parent)
    workshop = make_workshop()
    with app.app_context():
        booked = book_place(parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id,
                            consent=True)
        with pytest.raises(NotFound):
            answers.health_check(other.id, booked.registration_id)
        with pytest.raises(NotFound):
            answers.save_answers(other.id, baby.id, PRODUCT_FORM, all_no(), "", consent=True)


def test_a_new_version_of_the_questions_asks_for_consent_again(
    app, make_user, make_baby, make_workshop
):
    parent = make_user()
    baby = make_baby(parent)
    workshop = make_workshop()
    staff = make_user(role="admin")
    with app.app_context():
        booked = book_place(parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id,
                            consent=True)
        product = questions.current_form(workshop.centre_id)
        answers.save_answers(parent.id, baby.id, product, all_no(), "", consent=True,
                             registration_id=booked.registration_id)
        from booking.models import User

        admin = db.session.get(User, staff.id)
        rows = [q.as_dict() for q in PRODUCT_FORM.questions] + [
            {"text": "Does your baby have reflux?", "kind": "tell", "flag": "Reflux"}
        ]
        form = questions.save_centre_form(admin, workshop.centre_id, rows, "Our own note.")
        assert form.key.startswith(f"centre-{workshop.centre_id}-v1")
        reflux = f"c{workshop.centre_id}_reflux"
        assert form.question(reflux) is not None and form.question("hips") is not None
        # Saving the same questions again makes no new version.
        assert questions.save_centre_form(admin, workshop.centre_id, rows, "Our own note.") == form
        check = answers.health_check(parent.id, booked.registration_id)
        assert check.needs_consent and [q.key for q in check.missing] == [reflux]
        with pytest.raises(Invalid):
            answers.confirm_unchanged(parent.id, booked.registration_id, consent=True)
        answers.save_answers(parent.id, baby.id, form, all_no(form), "", consent=True,
                             registration_id=booked.registration_id)
        assert answers.health_check(parent.id, booked.registration_id).done
        # A question reworded by staff is a new question: the old answer does not carry.
        reworded = [dict(r) for r in rows]
        reworded[0]["text"] = "Has your baby had a temperature this week?"
        second = questions.save_centre_form(admin, workshop.centre_id, reworded, "Changed.")
        assert second.version == 2 and second.questions[0].key != "unwell"
        check = answers.health_check(parent.id, booked.registration_id)
        assert check.needs_consent and [q.key for q in check.missing] == [
            second.questions[0].key
        ]
        # The earlier answer is still on record, shown to the parent to keep or change.
        assert "unwell" in [q.key for q in check.earlier]
        raw = all_no(second)
        raw["unwell"] = {"answer": "no"}
        answers.save_answers(parent.id, baby.id, second, raw, "", consent=True,
                             registration_id=booked.registration_id)
        assert answers.health_check(parent.id, booked.registration_id).done
        third = questions.save_centre_form(admin, workshop.centre_id, reworded, "Note 3.")
        check = answers.health_check(parent.id, booked.registration_id)
        assert third.version == 3 and check.needs_consent and not check.missing
        with pytest.raises(Invalid):
            answers.confirm_unchanged(parent.id, booked.registration_id)
        answers.confirm_unchanged(parent.id, booked.registration_id, consent=True)
        assert answers.health_check(parent.id, booked.registration_id).done


def test_bad_question_rows_are_named():
    with pytest.raises(Invalid) as exc:
        questions.check_questions([{"text": "Fine?", "kind": "tell"}, {"text": "x", "kind": "?"}])
    assert "question-2" in exc.value.fields
    with pytest.raises(Invalid):
        questions.check_questions([{"text": "  ", "kind": "tell"}])
    with pytest.raises(Invalid):  # only characters that take no room: no question
        questions.check_questions([{"text": "\u200b\u2060", "kind": "tell"}])
    for row, label in (({"text": "Reflux\u202e?", "kind": "tell"}, "The question"),
                       ({"text": "Reflux?", "kind": "tell", "flag": "\u202eevil"},
                        "The short label")):
        with pytest.raises(Invalid) as exc:
            questions.check_questions([row])
        message = exc.value.fields["question-1"]
        assert message.startswith(label) and "text-direction overrides" in message
    # A label of nothing to see gives way to the question's own words.
    labelled = questions.check_questions([{"text": "Reflux?", "kind": "tell", "flag": "\u200b"}])
    assert labelled[0].flag == "Reflux?"
    keys = [q.key for q in questions.check_questions(
        [{"text": "Same?", "kind": "tell"}, {"text": "Same?", "kind": "tell"}]
    )]
    assert len(set(keys)) == 2


def test_clearance_covers_the_answers_it_was_given_for(
    app, make_user, make_baby, make_workshop
):
    parent = make_user()
    baby = make_baby(parent)
    workshop = make_workshop()
    with app.app_context():
        from booking.models import User, Workshop

        instructor = db.session.get(User, db.session.get(Workshop, workshop.id).instructor_id)
        booked = book_place(parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id,
                            consent=True)
        form = questions.current_form(workshop.centre_id)
        answers.save_answers(parent.id, baby.id, form, all_no(), "", consent=True)
        with pytest.raises(Invalid):
            clearance.clear_booking(instructor, booked.registration_id, "GP letter seen")
        answers.save_answers(
            parent.id, baby.id, form, all_no(hips="Harness until May"), "", consent=False
        )
        registration = db.session.get(Registration, booked.registration_id)
        record = db.session.get(HealthRecord, answers.record_of(baby.id).id)
        assert flags.needs_clearance(registration, record)
        with pytest.raises(Invalid):
            clearance.clear_booking(instructor, booked.registration_id, "   ")
        from booking.models import Centre

        centre = db.session.get(Centre, workshop.centre_id)
        stranger = make_user(role="instructor", centre=centre)
        with pytest.raises(NotFound):
            clearance.clear_booking(db.session.get(User, stranger.id), booked.registration_id,
                                    "ok")
        clearance.clear_booking(instructor, booked.registration_id, "GP letter seen")
        db.session.expire_all()
        registration = db.session.get(Registration, booked.registration_id)
        assert not flags.needs_clearance(registration, answers.record_of(baby.id))
        answers.save_answers(
            parent.id, baby.id, form, all_no(hips="Harness again"), "", consent=False
        )
        db.session.expire_all()
        registration = db.session.get(Registration, booked.registration_id)
        assert flags.needs_clearance(registration, answers.record_of(baby.id))
        labels = flags.summary(registration, answers.record_of(baby.id)).labels
        assert labels[:2] == ["Needs clearance", "Hip dysplasia"]


def test_a_clearance_ends_when_no_answer_needs_one(app, make_user, make_baby, make_workshop):
    parent = make_user()
    baby = make_baby(parent)
    workshop = make_workshop()
    with app.app_context():
        from booking.models import User, Workshop

        instructor = db.session.get(User, db.session.get(Workshop, workshop.id).instructor_id)
        booked = book_place(parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id,
                            consent=True)
        form = questions.current_form(workshop.centre_id)
        answers.save_answers(parent.id, baby.id, form, all_no(hips=""), "", consent=True)
        clearance.clear_booking(instructor, booked.registration_id, "Physio letter seen")
        answers.save_answers(parent.id, baby.id, form, all_no(), "", consent=False)
        answers.save_answers(parent.id, baby.id, form, all_no(hips=""), "", consent=False)
        db.session.expire_all()
        registration = db.session.get(Registration, booked.registration_id)
        assert registration.cleared_at is None
        assert flags.needs_clearance(registration, answers.record_of(baby.id))


def test_answers_not_shared_with_a_centre_clear_nothing(app, make_user, make_baby, make_workshop):
    parent = make_user()
    baby = make_baby(parent)
    workshop = make_workshop()
    with app.app_context():
        from booking.models import User, Workshop

        instructor = db.session.get(User, db.session.get(Workshop, workshop.id).instructor_id)
        booked = book_place(parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id,
                            consent=True)
        # Answered outside any booking: kept, but not shared with the class's centre.
        answers.save_answers(parent.id, baby.id, PRODUCT_FORM, all_no(hips="x"), "",
                             consent=True)
        with pytest.raises(Invalid):
            clearance.clear_booking(instructor, booked.registration_id, "GP letter seen")


def test_each_centre_decides_what_a_yes_means_whatever_form_saved_it(
    app, make_user, make_baby, make_centre, make_workshop
):
    """One baby's answers serve every centre: a "yes" needs clearing where the class's
    centre says so now, whichever centre's form the parent last saved them through, and
    a change of kind by staff applies at once (the flag came and went with each save)."""
    parent = make_user()
    baby = make_baby(parent)
    strict_centre = make_centre(slug="strict", name="Strict Hub")
    strict = make_workshop(title="Strict class", centre=strict_centre)
    relaxed = make_workshop(title="Relaxed class")
    staff = make_user(role="admin")
    with app.app_context():
        from booking.models import User, Workshop

        admin = db.session.get(User, staff.id)
        rows = [q.as_dict() for q in PRODUCT_FORM.questions]
        for row in rows:
            if row["key"] == "skin":
                row["kind"] = "clearance"
        strict_form = questions.save_centre_form(admin, strict.centre_id, rows, "Strict note.")
        assert strict_form.question("skin").kind == "clearance"
        first = book_place(parent_id=parent.id, workshop_id=strict.id, baby_id=baby.id,
                           consent=True)
        second = book_place(parent_id=parent.id, workshop_id=relaxed.id, baby_id=baby.id,
                            consent=True)
        relaxed_form = questions.current_form(relaxed.centre_id)
        answers.save_answers(parent.id, baby.id, strict_form, all_no(skin="Eczema"), "",
                             consent=True, registration_id=first.registration_id)
        answers.save_answers(parent.id, baby.id, relaxed_form, all_no(skin="Eczema"), "",
                             consent=True, registration_id=second.registration_id)

        def labels(registration_id, centre_id):
            db.session.expire_all()
            registration = db.session.get(Registration, registration_id)
            return answers.summaries_for([registration], centre_id)[registration_id].labels

        # Saved last through the relaxed centre's form: the strict centre still asks for
        # a doctor's word, the relaxed one only wants to know.
        assert labels(first.registration_id, strict.centre_id)[:2] == [
            "Needs clearance", "Skin condition"]
        assert labels(second.registration_id, relaxed.centre_id) == ["Skin condition"]
        instructor = db.session.get(User, db.session.get(Workshop, strict.id).instructor_id)
        clearance.clear_booking(instructor, first.registration_id, "GP letter seen")
        assert labels(first.registration_id, strict.centre_id) == ["Skin condition"]
        # Saving again through the relaxed form keeps the strict centre's clearance.
        answers.save_answers(parent.id, baby.id, relaxed_form, all_no(skin="Eczema"), "",
                             consent=False, registration_id=second.registration_id)
        assert db.session.get(Registration, first.registration_id).cleared_at is not None
        # Staff of the relaxed centre now want a doctor's word on allergies: at once.
        relaxed_rows = [q.as_dict() for q in PRODUCT_FORM.questions]
        for row in relaxed_rows:
            if row["key"] == "allergy":
                row["kind"] = "clearance"
        answers.save_answers(parent.id, baby.id, relaxed_form,
                             all_no(skin="Eczema", allergy="Nuts in the family"), "",
                             consent=False, registration_id=second.registration_id)
        assert labels(second.registration_id, relaxed.centre_id)[0] != "Needs clearance"
        questions.save_centre_form(admin, relaxed.centre_id, relaxed_rows, "Allergies.")
        assert labels(second.registration_id, relaxed.centre_id)[:2] == [
            "Needs clearance", "Allergy: no nut oils"]


def test_the_roster_says_what_the_parent_has_still_to_answer_or_check(
    app, make_user, make_baby, make_centre, make_workshop
):
    """A question the centre added since, and answers changed after they were confirmed
    for this class, are said to the instructor (the roster said "confirmed for this
    class" and showed no sign of the unanswered question)."""
    parent = make_user()
    baby = make_baby(parent)
    here = make_workshop(title="Here")
    elsewhere = make_workshop(title="Elsewhere", centre=make_centre(slug="elsewhere"))
    staff = make_user(role="admin")
    with app.app_context():
        from booking.models import User

        first = book_place(parent_id=parent.id, workshop_id=here.id, baby_id=baby.id,
                           consent=True)
        second = book_place(parent_id=parent.id, workshop_id=elsewhere.id, baby_id=baby.id,
                            consent=True)
        form = questions.current_form(here.centre_id)
        answers.save_answers(parent.id, baby.id, form, all_no(), "", consent=True,
                             registration_id=first.registration_id)

        def seen():
            db.session.expire_all()
            registration = db.session.get(Registration, first.registration_id)
            return answers.summaries_for([registration], here.centre_id)[registration.id]

        assert (seen().unanswered, seen().changed_since_confirmed) == ((), False)
        # The parent changes an answer through the other class's page.
        answers.save_answers(parent.id, baby.id, questions.current_form(elsewhere.centre_id),
                             all_no(skin="Dry patches"), "", consent=True,
                             registration_id=second.registration_id)
        assert seen().changed_since_confirmed
        rows = [q.as_dict() for q in PRODUCT_FORM.questions] + [
            {"text": "Does your baby have reflux?", "kind": "tell", "flag": "Reflux"}]
        questions.save_centre_form(db.session.get(User, staff.id), here.centre_id, rows, "N")
        assert seen().unanswered == ("Reflux",)
        assert "Not answered: Reflux" in seen().labels
