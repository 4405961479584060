"""Immunisation dates: the babies page, doll days on bookings, registers and reminders."""

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from booking.extensions import db
from booking.models import Baby, OutboxMessage, WorkshopSession
from booking.services.booking.book import book_place
from booking.services.booking.reminders import send_reminders
from booking.services.courses.queries import is_doll_session, roster_flags
from booking.timefmt import to_local


def test_parent_sets_and_clears_an_immunisation_date(
    app, client, auth, make_user, make_baby
):
    parent = make_user(email="pat@example.org")
    baby = make_baby(parent, name="Ada", age_weeks=10)
    auth.login("pat@example.org")
    page = client.get(f"/account/babies/{baby.id}/immunisation")
    assert page.status_code == 200 and 'name="immunisation_date"' in page.get_data(as_text=True)
    day = date.today() + timedelta(days=3)
    response = client.post(
        f"/account/babies/{baby.id}/immunisation", data={"immunisation_date": day.isoformat()}
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Baby, baby.id).immunisation_date == day
    assert "Immunisations" in client.get("/account/babies").get_data(as_text=True)
    client.post(f"/account/babies/{baby.id}/immunisation", data={"immunisation_date": ""})
    with app.app_context():
        assert db.session.get(Baby, baby.id).immunisation_date is None


def test_bad_immunisation_dates_are_refused_next_to_the_field(
    app, client, auth, make_user, make_baby
):
    parent = make_user(email="pat@example.org")
    baby = make_baby(parent, name="Ada", age_weeks=10)
    auth.login("pat@example.org")
    cases = {
        (date.today() + timedelta(days=400)).isoformat(): "at most a year",
        (date.today() - timedelta(weeks=20)).isoformat(): "before Ada was born",
        "14/03/2025": "YYYY-MM-DD",
    }
    for value, message in cases.items():
        response = client.post(
            f"/account/babies/{baby.id}/immunisation", data={"immunisation_date": value}
        )
        assert response.status_code == 422, value
        assert message in response.get_data(as_text=True)
        assert 'id="immunisation_date-error"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Baby, baby.id).immunisation_date is None
    stranger = make_user(email="x@example.org")
    del stranger
    auth.logout()
    auth.login("x@example.org")
    response = client.post(
        f"/account/babies/{baby.id}/immunisation", data={"immunisation_date": "2025-01-01"}
    )
    assert response.status_code == 404


def test_doll_session_window_is_48_hours_after_a_jab_at_any_time_of_its_day(
    ctx, make_workshop, make_user, make_baby
):
    """The date has no time: a jab at 23:00 on Monday means no massage until 23:00 on
    Wednesday, so any session on Monday, Tuesday or Wednesday is a doll session."""
    workshop = make_workshop()
    parent = make_user()
    baby = make_baby(parent)
    session = db.session.scalar(
        sa.select(WorkshopSession).where(
            WorkshopSession.workshop_id == workshop.id, WorkshopSession.number == 1
        )
    )
    baby = db.session.get(Baby, baby.id)
    local_day = session.starts_at.astimezone(UTC).date()
    baby.immunisation_date = local_day - timedelta(days=1)
    assert is_doll_session(baby, session, "UTC")
    baby.immunisation_date = local_day
    assert is_doll_session(baby, session, "UTC")
    baby.immunisation_date = local_day - timedelta(days=2)
    assert is_doll_session(baby, session, "UTC")
    baby.immunisation_date = local_day - timedelta(days=3)
    assert not is_doll_session(baby, session, "UTC")
    # The day is the centre's: 00:30 in Sydney is still the previous day in UTC.
    sydney_day = to_local(session.starts_at, "Australia/Sydney").date()
    baby.immunisation_date = sydney_day - timedelta(days=2)
    assert is_doll_session(baby, session, "Australia/Sydney")
    baby.immunisation_date = sydney_day - timedelta(days=3)
    assert not is_doll_session(baby, session, "Australia/Sydney")
    baby.immunisation_date = local_day + timedelta(days=1)
    assert not is_doll_session(baby, session, "UTC")
    db.session.rollback()


def test_doll_day_on_bookings_register_roster_and_reminder(
    app, client, auth, make_centre, make_workshop, make_user, make_baby
):
    centre = make_centre()
    instructor = make_user(email="teach@example.org", role="instructor", centre=centre)
    starts = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=30)
    workshop = make_workshop(centre=centre, instructor=instructor, starts_at=starts)
    parent = make_user(email="pat@example.org")
    baby = make_baby(parent, name="Ada")
    with app.app_context():
        book_place(parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id, consent=True)
        stored = db.session.get(Baby, baby.id)
        stored.immunisation_date = starts.astimezone(UTC).date() - timedelta(days=1)
        db.session.commit()
        first = db.session.scalar(
            sa.select(WorkshopSession.id).where(
                WorkshopSession.workshop_id == workshop.id, WorkshopSession.number == 1
            )
        )
        flags = roster_flags(workshop.id)
        assert len(flags[first]["doll"]) == 1
        assert send_reminders() == 1
        reminder = db.session.scalar(
            sa.select(OutboxMessage).where(OutboxMessage.subject.startswith("Reminder"))
        )
        assert "practise on a doll this week" in reminder.body_text
        assert "Ada's immunisations" in reminder.body_text
    auth.login("pat@example.org")
    page = client.get("/account/bookings").get_data(as_text=True)
    assert "come and practise on a doll this week" in page
    auth.logout()
    auth.login("teach@example.org")
    register = client.get(f"/teach/sessions/{first}/register").get_data(as_text=True)
    assert "Immunisations: practise on a doll" in register


def test_roster_flags_doll_days_and_absences(
    app, client, auth, make_centre, make_workshop, make_user, make_baby
):
    centre = make_centre()
    instructor = make_user(email="teach@example.org", role="instructor", centre=centre)
    workshop = make_workshop(centre=centre, instructor=instructor, starts_in_days=7)
    parent = make_user()
    baby = make_baby(parent, name="Ada")
    with app.app_context():
        book_place(parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id, consent=True)
        first = db.session.scalar(
            sa.select(WorkshopSession).where(
                WorkshopSession.workshop_id == workshop.id, WorkshopSession.number == 1
            )
        )
        db.session.get(Baby, baby.id).immunisation_date = first.starts_at.date()
        db.session.commit()
    auth.login("teach@example.org")
    page = client.get(f"/teach/workshops/{workshop.id}").get_data(as_text=True)
    assert "Ada: immunisations, practise on a doll" in page
