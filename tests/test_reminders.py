"""Reminders before a class's first session: queued once, whatever runs when."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import OutboxMessage, Registration, WorkshopSession
from booking.services.booking.reminders import due_reminders, send_reminders
from tests.mailtools import add_registration


def outbox() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


def soon(hours: float) -> datetime:
    return datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=hours)


@pytest.fixture
def family(make_user, make_baby):
    parent = make_user("parent@example.org", name="Pat Parent")
    return parent, make_baby(parent, name="Ada")


def test_reminder_queued_once_with_what_to_bring(app, ctx, family, make_workshop):
    parent, baby = family
    workshop = make_workshop(starts_at=soon(24), what_to_bring="A towel and a spare nappy.")
    reg = add_registration(app, workshop, parent, baby)
    assert send_reminders() == 1
    assert send_reminders() == 0
    (message,) = outbox()
    assert message.recipient == "parent@example.org"
    assert message.dedupe_key == f"reminder:{reg}"
    assert message.subject.startswith("Reminder: Baby massage at")
    assert "What to bring: A towel and a spare nappy." in message.body_text
    assert "Where: " in message.body_text and "High Street" in message.body_text
    assert "(Europe/London)" in message.body_text
    assert db.session.get(Registration, reg).reminder_sent_at is not None


@pytest.mark.parametrize(
    ("hours", "status", "workshop_status"),
    [
        (72, "confirmed", "published"),  # too far ahead
        (-1, "confirmed", "published"),  # already started
        (24, "waitlisted", "published"),
        (24, "cancelled", "published"),
        (24, "confirmed", "cancelled"),
    ],
)
def test_no_reminder_when_not_due(app, ctx, family, make_workshop, hours, status, workshop_status):
    parent, baby = family
    workshop = make_workshop(starts_at=soon(hours), status=workshop_status)
    add_registration(app, workshop, parent, baby, status=status)
    assert send_reminders() == 0
    assert outbox() == []


def test_first_session_cancelled_reminds_before_the_next(app, ctx, family, make_workshop):
    parent, baby = family
    workshop = make_workshop(starts_at=soon(-24 * 6), sessions=3)
    add_registration(app, workshop, parent, baby)
    first = db.session.scalar(
        sa.select(WorkshopSession).where(
            WorkshopSession.workshop_id == workshop.id, WorkshopSession.number == 1
        )
    )
    first.status = "cancelled"
    db.session.commit()
    # Session 2 starts in 24 hours: that is now the first to run.
    assert send_reminders() == 1
    assert "(week 2 of 3)" in outbox()[0].body_text


def test_command_is_safe_to_run_twice(app, runner, family, make_workshop):
    parent, baby = family
    workshop = make_workshop(starts_at=soon(30))
    add_registration(app, workshop, parent, baby)
    first = runner.invoke(args=["send-reminders"])
    second = runner.invoke(args=["send-reminders"])
    assert first.exit_code == 0 and "Queued 1 reminder." in first.output
    assert second.exit_code == 0 and "Queued 0 reminders." in second.output
    with app.app_context():
        assert len(outbox()) == 1


def test_concurrent_runs_queue_each_reminder_once(app, make_user, make_baby, make_workshop):
    workshop = make_workshop(starts_at=soon(20), capacity=12)
    regs = []
    for i in range(8):
        parent = make_user(f"p{i}@example.org")
        regs.append(add_registration(app, workshop, parent, make_baby(parent)))
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
        assert keys == sorted(f"reminder:{r}" for r in regs)
        assert due_reminders() == []


def _session(workshop, number) -> WorkshopSession:
    return db.session.scalar(
        sa.select(WorkshopSession).where(
            WorkshopSession.workshop_id == workshop.id, WorkshopSession.number == number
        )
    )


def test_a_family_missing_week_one_is_reminded_of_the_week_they_come_to(
    app, ctx, family, make_workshop
):
    """They told us ahead they will miss week 1: no "starts Friday" for it, and the
    first reminder (what to bring, the Ready link) is about week 2, once."""
    from booking.services.courses.absences import report_absence

    parent, baby = family
    workshop = make_workshop(starts_at=soon(24), sessions=3, what_to_bring="A towel.")
    reg = add_registration(app, workshop, parent, baby)
    db.session.rollback()  # a fresh read, seeing the row written in its own context
    week1, week2 = _session(workshop, 1), _session(workshop, 2)
    report_absence(parent_id=parent.id, registration_id=reg, session_id=week1.id)
    db.session.execute(sa.delete(OutboxMessage))
    db.session.commit()
    assert send_reminders() == 0
    before_week2 = week2.starts_at - timedelta(hours=24)
    assert send_reminders(before_week2) == 1
    assert send_reminders(before_week2 + timedelta(hours=1)) == 0
    (message,) = outbox()
    assert message.dedupe_key == f"reminder:{reg}"
    assert "(week 2 of 3)" in message.body_text and "What to bring: A towel." in message.body_text
    from booking.services.health.readiness import readiness_token

    assert readiness_token(reg, week2.id) in message.body_text


@pytest.mark.parametrize("kind", ["single", "course"])
def test_a_session_moved_after_its_reminder_is_reminded_again(app, ctx, family, make_workshop,
                                                             kind):
    """Reminded 40 hours ahead, then moved three days later: the family is reminded
    again before the new time, once."""
    from booking.services.schedule.sessions import move_session
    from booking.timefmt import to_local

    parent, baby = family
    if kind == "single":
        workshop = make_workshop(starts_at=soon(40), kind="single")
    else:
        workshop = make_workshop(starts_at=soon(40 - 24 * 7), sessions=3)
    add_registration(app, workshop, parent, baby)
    assert send_reminders() == 1
    moved = _session(workshop, 1 if kind == "single" else 2)
    from booking.models import Centre, Workshop

    tz_name = db.session.get(Centre, db.session.get(Workshop, workshop.id).centre_id).timezone
    new_local = to_local(moved.starts_at, tz_name).replace(tzinfo=None) + timedelta(days=3)
    move_session(moved.id, new_local, allow_clash=True)
    db.session.expire_all()
    new_start = db.session.get(WorkshopSession, moved.id).starts_at
    assert send_reminders(new_start - timedelta(hours=60)) == 0  # not yet
    assert send_reminders(new_start - timedelta(hours=24)) == 1
    assert send_reminders(new_start - timedelta(hours=23)) == 0
    reminders = [m for m in outbox() if (m.dedupe_key or "").startswith("reminder:")]
    assert len(reminders) == 2
    assert reminders[-1].subject.startswith("Reminder:")


@pytest.mark.parametrize("kind", ["single", "course"])
def test_a_first_session_moved_by_hours_after_its_reminder_is_reminded_again(
    app, ctx, family, make_workshop, kind
):
    """Reminded 40 hours ahead, then moved three hours later the same day: the reminder
    named the old time, so the family is reminded of the new one, once."""
    from booking.models import Centre, Workshop
    from booking.services.schedule.sessions import move_session
    from booking.timefmt import to_local

    parent, baby = family
    if kind == "single":
        workshop = make_workshop(starts_at=soon(40), kind="single")
    else:
        workshop = make_workshop(starts_at=soon(40), sessions=3)
    reg = add_registration(app, workshop, parent, baby)
    assert send_reminders() == 1
    assert send_reminders() == 0
    first = _session(workshop, 1)
    tz_name = db.session.get(Centre, db.session.get(Workshop, workshop.id).centre_id).timezone
    new_local = to_local(first.starts_at, tz_name).replace(tzinfo=None) + timedelta(hours=3)
    move_session(first.id, new_local, allow_clash=True)
    db.session.expire_all()
    assert send_reminders() == 1
    assert send_reminders() == 0
    reminders = [m for m in outbox() if (m.dedupe_key or "").startswith("reminder:")]
    assert [m.dedupe_key for m in reminders] == [
        f"reminder:{reg}", f"reminder:{reg}:{first.id}:1"
    ]
    booking = db.session.get(Registration, reg)
    assert (booking.reminder_session_id, booking.reminder_revision) == (first.id, 0)


def test_a_reminder_sent_before_sessions_were_named_keeps_its_first_session(
    app, ctx, family, make_workshop
):
    """A booking reminded before reminders named their session (both empty): its
    first session, unmoved, is not reminded of again."""
    parent, baby = family
    workshop = make_workshop(starts_at=soon(30), sessions=2)
    reg = add_registration(app, workshop, parent, baby)
    assert send_reminders() == 1
    booking = db.session.get(Registration, reg)
    booking.reminder_session_id = booking.reminder_revision = None
    db.session.commit()
    assert send_reminders() == 0


@pytest.mark.parametrize(("hours", "said"), [
    (40, "Please cancel so a waiting family can have the place"),
    (20, "Please tell the centre (the cut-off for cancelling online has passed)"),
])
def test_a_reminder_asks_to_cancel_only_before_the_cut_off(
    app, ctx, family, make_workshop, hours, said
):
    """24 hours' cut-off: a reminder 40 hours ahead says to cancel; one 20 hours ahead
    (a booking made late) says to tell the centre, as cancelling online is refused."""
    parent, baby = family
    workshop = make_workshop(starts_at=soon(hours), cancellation_cutoff_hours=24)
    add_registration(app, workshop, parent, baby)
    assert send_reminders() == 1
    (message,) = outbox()
    assert said in " ".join(message.body_text.split())
