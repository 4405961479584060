"""The demo shows courses as they really run: an absence and a make-up, a doll day,
and a workshop that `run-decisions` cancels for too few bookings."""

import sqlalchemy as sa

from booking.demo.seed import seed_demo
from booking.extensions import db
from booking.models import Absence, Baby, MakeupBooking, OutboxMessage, Registration, Workshop
from booking.services.schedule.decisions import run_decisions


def test_demo_makeup_immunisation_and_at_risk_workshop(ctx, runner):
    seed_demo()
    seed_demo()
    assert db.session.scalar(sa.select(sa.func.count(Absence.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(MakeupBooking.id))) == 1
    assert db.session.scalar(
        sa.select(sa.func.count(Baby.id)).where(Baby.immunisation_date.is_not(None))
    ) == 1
    result = runner.invoke(args=["run-decisions"])
    assert result.exit_code == 0, result.output
    assert "Cancelled below their minimum: 1" in result.output
    db.session.expire_all()
    at_risk = db.session.scalar(
        sa.select(Workshop).where(Workshop.title == "Baby massage: weekend course")
    )
    assert at_risk.status == "cancelled"
    mail = db.session.scalar(
        sa.select(OutboxMessage).where(OutboxMessage.subject.startswith("Class cancelled"))
    )
    assert "instead" in mail.body_text
    assert run_decisions().cancelled == []


def test_demo_parent_misses_week_two_and_makes_it_up(app, client, auth, runner):
    """The issue's journey on the demo data, through the pages, feed and registers."""
    from icalendar import Calendar

    from booking.models import MakeupCredit, User, WorkshopSession
    from booking.services.accounts.feed_tokens import issue_feed_token

    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        parent = db.session.scalar(sa.select(User).where(User.email == "parent@example.com"))
        token = issue_feed_token(parent.id)
        ids = {}
        for title in ("Baby massage: five-week course", "Baby massage: Thursday afternoon course"):
            workshop = db.session.scalar(sa.select(Workshop).where(Workshop.title == title))
            ids[title] = db.session.scalar(
                sa.select(WorkshopSession.id).where(
                    WorkshopSession.workshop_id == workshop.id, WorkshopSession.number == 2
                )
            )
        registration_id = db.session.scalar(
            sa.select(Registration.id)
            .join(Baby, Baby.id == Registration.baby_id)
            .where(Registration.parent_id == parent.id, Baby.name == "Leo")
        )
    week2, target = ids.values()
    assert auth.login("parent@example.com", "demo-pass-1234").status_code == 302
    page = client.get("/account/bookings").get_data(as_text=True)
    absence = f"/account/bookings/{registration_id}/sessions/{week2}/absence"
    assert f'action="{absence}"' in page
    response = client.post(absence, follow_redirects=True)
    assert "make-up credit for week 2" in response.get_data(as_text=True)
    with app.app_context():
        credit_id = db.session.scalar(
            sa.select(MakeupCredit.id).where(
                MakeupCredit.parent_id == parent.id, MakeupCredit.used_at.is_(None)
            )
        )
    response = client.post(
        f"/account/makeups/{credit_id}/book", data={"session_id": target},
        follow_redirects=True,
    )
    assert "make-up session is booked" in response.get_data(as_text=True)

    feed = client.get(f"/feeds/private/{token}.ics")
    events = {str(e["summary"]): e for e in Calendar.from_ical(feed.get_data()).walk("VEVENT")}
    assert events["Baby massage: five-week course - week 2 of 5 (Leo)"]["status"] == "CANCELLED"
    made_up = "Make-up: Baby massage: Thursday afternoon course - week 2 of 5 (Leo)"
    assert events[made_up]["status"] == "CONFIRMED"

    auth.logout()
    auth.login("instructor@example.com", "demo-pass-1234")
    register = client.get(f"/teach/sessions/{week2}/register").get_data(as_text=True)
    assert register.count("can&#39;t come") + register.count("can't come") >= 2  # Leo, Olive
    register = client.get(f"/teach/sessions/{target}/register").get_data(as_text=True)
    assert "Make-up from another course" in register
    assert "Leo" in register and "Olive" in register
