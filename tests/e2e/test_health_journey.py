"""Before the first stroke, in a real browser with JavaScript on and off: a parent books a
course for a baby born five weeks early (eligible only by corrected age), gives a phone
number, answers the health questions with explicit consent (hip dysplasia in treatment),
and confirms them in one tap for a second course; the instructor sees the corrected age,
the phone and the flag on the roster and the register, and clears the flag with a note."""

from datetime import date, timedelta

from tests.conftest import PASSWORD


def test_premature_baby_health_questions_and_clearance(
    app, visitor, make_workshop, make_centre, make_user
):
    centre = make_centre(name="Riverside Family Hub", town="London")
    instructor = make_user(email="ina@example.org", name="Ina Instructor",
                           role="instructor", centre=centre)
    # 12 weeks old by birth, 7 weeks corrected: fits 6-9 weeks only by corrected age.
    course = make_workshop(centre=centre, instructor=instructor, title="First strokes",
                           min_age_weeks=6, max_age_weeks=9, starts_in_days=3)
    later = make_workshop(centre=centre, instructor=instructor, title="Second steps",
                          min_age_weeks=6, max_age_weeks=20, starts_in_days=30)
    make_user(email="pat@example.org", name="Pat Parent")
    born = date.today() + timedelta(days=3) - timedelta(weeks=12)

    parent = visitor()
    page = parent.page
    parent.login("pat@example.org", PASSWORD)
    parent.goto(f"/classes/{course.id}")
    page.get_by_label("New baby's first name or nickname").fill("Pip")
    page.get_by_label("New baby's date of birth").fill(born.isoformat())
    page.get_by_label("New baby's due date (optional)").fill(
        (born + timedelta(weeks=5)).isoformat()
    )
    page.get_by_label("Contact phone number (optional)").fill("07700 900123")
    page.get_by_label("I have read the health and safety note", exact=False).check()
    parent.submit("Book a place")

    # The questionnaire, asked once: consent is required and names who sees the answers.
    assert "/health" in page.url
    parent.fits_phone()
    for legend in page.locator("fieldset legend").all_inner_texts():
        group = page.get_by_role("group", name=legend)
        answer = "Yes" if "hip dysplasia" in legend else "No"
        group.get_by_label(answer, exact=True).check()
    page.get_by_role("group", name="hip dysplasia", exact=False).get_by_label(
        "If yes, tell us more"
    ).fill("Pavlik harness until last month")
    parent.submit("Save the answers")
    assert "/health" in page.url and "Please tick to agree" in page.content()
    assert "instructor of each class Pip is booked on" in page.content()
    page.locator("#consent").check()
    parent.submit("Save the answers")
    assert page.url.endswith("/booked")  # the confirmation, with "Add to calendar"
    assert "Health questions for Pip" not in page.content()

    # A second course: the saved answers are confirmed in one tap.
    parent.goto(f"/classes/{later.id}")
    page.get_by_label("Pip, born", exact=False).check()
    page.get_by_label("I have read the health and safety note", exact=False).check()
    parent.submit("Book a place")
    assert "/health" in page.url
    parent.submit("Nothing has changed")
    assert page.url.endswith("/booked")

    # The instructor: corrected age, phone and the flag, then clearing it.
    teacher = visitor()
    desk = teacher.page
    teacher.login("ina@example.org", PASSWORD)
    teacher.goto(f"/teach/workshops/{course.id}")
    roster = desk.content()
    assert "12 weeks, 7 weeks corrected" in roster
    assert "07700 900123" in roster and "Needs clearance" in roster
    desk.get_by_label("What you checked", exact=False).fill("GP letter seen")
    teacher.submit("Mark cleared")
    assert "Needs clearance" not in desk.content() and "Cleared" in desk.content()
    teacher.follow("Register")
    register = desk.content()
    assert "corrected" in register and "07700 900123" in register
    assert "Pavlik harness" in register  # the details, one tap away
