"""Booking emails: what each says, to whom, in which zone, with which calendar invite."""

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from booking.db import write_transaction
from booking.extensions import db
from booking.models import OutboxMessage, Registration, User, Workshop, WorkshopSession
from booking.services.notices import emails as notify
from tests.mailtools import add_registration

BASE = "https://classes.example.org"


def outbox() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


def registration(registration_id: int) -> Registration:
    return db.session.get(Registration, registration_id)


@pytest.fixture
def booked(app, make_centre, make_user, make_baby, make_workshop):
    """A London course with one confirmed booking (Ada) and one waiting (Bo)."""
    centre = make_centre(name="Riverside Family Hub", slug="riverside", accessibility_notes="")
    teacher = make_user(
        "teacher@example.org", name="Tess Teacher", role="instructor", centre=centre
    )
    workshop = make_workshop(
        centre=centre,
        instructor=teacher,
        title="Baby massage for beginners",
        starts_at=datetime(2036, 1, 6, 10, 0, tzinfo=UTC),
        sessions=3,
    )
    parent = make_user("parent@example.org", name="Pat Parent")
    other = make_user("other@example.org", name="Olly Other")
    ada = make_baby(parent, name="Ada", date_of_birth=date(2035, 11, 1))
    bo = make_baby(other, name="Bo", date_of_birth=date(2035, 11, 1))
    confirmed = add_registration(app, workshop, parent, ada)
    waiting = add_registration(app, workshop, other, bo, status="waitlisted")
    return {
        "workshop": workshop,
        "confirmed": confirmed,
        "waiting": waiting,
        "teacher": teacher,
        "centre": centre,
    }


def test_booking_confirmed_email(ctx, booked):
    with write_transaction():
        notify.notify_booking_confirmed(registration(booked["confirmed"]))
    (message,) = outbox()
    assert message.recipient == "parent@example.org"
    assert message.subject == (
        "Booking confirmed: Baby massage for beginners at Riverside Family Hub for Ada"
    )
    # 10:00 UTC in January is 10:00 GMT in London; the zone is named.
    assert "Week 1 of 3: Sun 6 Jan 2036, 10:00\u201311:00 GMT" in message.body_text
    assert "(Europe/London)" in message.body_text
    assert "What to bring: A towel and some unscented oil." in message.body_text
    assert f"{BASE}/account/bookings" in message.body_text
    assert f"{BASE}/account/bookings/{booked['confirmed']}/invite.ics" in message.body_text
    assert f'href="{BASE}/classes/{booked["workshop"].id}"' in message.body_html
    assert "Tess Teacher" in message.body_text
    assert message.ics_method == "REQUEST"
    assert "METHOD:REQUEST" in message.ics
    assert message.ics.count("BEGIN:VEVENT") == 3


def test_times_are_in_the_centre_zone(app, ctx, make_centre, make_user, make_baby, make_workshop):
    centre = make_centre(timezone="Australia/Sydney", country="AU")
    workshop = make_workshop(centre=centre, starts_at=datetime(2036, 1, 6, 23, 0, tzinfo=UTC))
    parent = make_user()
    reg = add_registration(app, workshop, parent, make_baby(parent))
    with write_transaction():
        notify.notify_booking_confirmed(registration(reg))
    (message,) = outbox()
    # 23:00 UTC on 6 January is 10:00 the next morning in Sydney (daylight time).
    assert "Mon 7 Jan 2036, 10:00\u201311:00 AEDT" in message.body_text
    assert "(Australia/Sydney)" in message.body_text


def test_waitlisted_email_gives_the_position(ctx, booked):
    with write_transaction():
        notify.notify_waitlisted(registration(booked["waiting"]), 3)
    (message,) = outbox()
    assert message.recipient == "other@example.org"
    assert message.subject.startswith("On the waiting list (number 3): Baby massage for beginners")
    assert "waiting list: number 3" in message.body_text
    assert message.ics is None


def test_promoted_email_carries_the_invite(ctx, booked):
    with write_transaction():
        reg = registration(booked["waiting"])
        reg.status = "confirmed"
        reg.confirmed_at = datetime.now(UTC)
        notify.notify_promoted(reg)
    (message,) = outbox()
    assert message.recipient == "other@example.org"
    assert "you are booked" in message.subject and "for Bo" in message.subject
    assert message.ics_method == "REQUEST" and "METHOD:REQUEST" in message.ics


def test_cancelled_booking_that_had_a_place_gets_a_cancel(ctx, booked):
    with write_transaction():
        reg = registration(booked["confirmed"])
        reg.status = "cancelled"
        reg.cancelled_at = datetime.now(UTC)
        notify.notify_booking_cancelled(reg)
    (message,) = outbox()
    assert message.subject.startswith("Booking cancelled: Baby massage for beginners")
    assert message.ics_method == "CANCEL" and "METHOD:CANCEL" in message.ics
    assert "STATUS:CANCELLED" in message.ics


def test_cancelled_waiting_place_has_no_invite(ctx, booked):
    with write_transaction():
        reg = registration(booked["waiting"])
        reg.status = "cancelled"
        notify.notify_booking_cancelled(reg)
    (message,) = outbox()
    assert message.subject.startswith("Waiting-list place cancelled")
    assert message.ics is None and message.ics_method is None


@pytest.mark.parametrize(
    ("kind", "subject_start", "method"),
    [
        ("moved", "Time changed: Baby massage for beginners", "REQUEST"),
        ("room", "Room changed: Baby massage for beginners", "REQUEST"),
        ("cancelled", "Session cancelled: Baby massage for beginners", "CANCEL"),
    ],
)
def test_session_change_tells_confirmed_parents_and_the_instructor(
    ctx, booked, kind, subject_start, method
):
    with write_transaction():
        session = db.session.scalar(
            sa.select(WorkshopSession).where(
                WorkshopSession.workshop_id == booked["workshop"].id, WorkshopSession.number == 2
            )
        )
        if kind == "moved":
            session.starts_at += timedelta(hours=2)
            session.ends_at += timedelta(hours=2)
        elif kind == "room":
            session.room = "Garden Room"
        else:
            session.status = "cancelled"
        session.revision += 1
        notify.notify_session_changed(session, kind)
    messages = outbox()
    # The waiting parent is not told; the confirmed one and the instructor are.
    assert [m.recipient for m in messages] == ["parent@example.org", "teacher@example.org"]
    parent_mail, teacher_mail = messages
    assert parent_mail.subject.startswith(subject_start)
    assert "week 2 of 3" in parent_mail.subject
    assert parent_mail.ics_method == method and f"METHOD:{method}" in parent_mail.ics
    if kind == "cancelled":
        assert parent_mail.ics.count("BEGIN:VEVENT") == 1
        assert "is cancelled" in parent_mail.body_text
    if kind == "moved":
        assert "Sun 13 Jan 2036, 12:00\u201313:00 GMT" in parent_mail.subject
    if kind == "room":
        assert "Garden Room" in parent_mail.subject
    assert teacher_mail.subject.startswith("Your class - " + subject_start)
    assert teacher_mail.ics is None
    assert "1 confirmed family" in teacher_mail.body_text


def test_unknown_session_change_is_refused(ctx, booked):
    session = db.session.scalar(sa.select(WorkshopSession).limit(1))
    with pytest.raises(ValueError):
        notify.notify_session_changed(session, "renamed")


def test_workshop_cancelled_tells_everyone_with_alternatives(ctx, booked, make_workshop):
    alternative = make_workshop(
        centre=booked["centre"],
        title="Another baby massage course",
        starts_at=datetime(2036, 2, 3, 10, 0, tzinfo=UTC),
    )
    make_workshop(
        centre=booked["centre"],
        title="Crawlers club",
        min_age_weeks=30,
        starts_at=datetime(2036, 2, 3, 10, 0, tzinfo=UTC),
    )
    with write_transaction():
        regs = [registration(booked["confirmed"]), registration(booked["waiting"])]
        for reg in regs:
            reg.status = "cancelled"
        notify.notify_workshop_cancelled(
            db.session.get(Workshop, booked["workshop"].id),
            regs,
            reason="not enough bookings",
        )
    messages = outbox()
    assert [m.recipient for m in messages] == [
        "parent@example.org",
        "other@example.org",
        "teacher@example.org",
    ]
    had_place, waiting, teacher = messages
    assert had_place.subject.startswith("Class cancelled: Baby massage for beginners")
    assert "not enough bookings" in had_place.body_text
    assert had_place.ics_method == "CANCEL"
    assert waiting.ics is None
    assert "no longer on its waiting list" in waiting.body_text
    for message in (had_place, waiting):
        assert "Another baby massage course" in message.body_text
        assert f"{BASE}/classes/{alternative.id}" in message.body_text
        assert "Crawlers club" not in message.body_text
    assert "emailed 2 families" in teacher.body_text


def test_instructor_message_once_per_parent_and_escaped(app, ctx, booked, make_baby):
    parent = db.session.get(User, registration(booked["confirmed"]).parent_id)
    twin = make_baby(parent, name="Ada's twin")
    twin_reg = add_registration(app, booked["workshop"], parent, twin)
    with write_transaction():
        regs = [registration(i) for i in (booked["confirmed"], twin_reg, booked["waiting"])]
        notify.notify_instructor_message(
            db.session.get(Workshop, booked["workshop"].id),
            "Bring a <b>blanket</b>",
            "It is cold in the hall.\n<script>alert(1)</script>",
            regs,
        )
    messages = outbox()
    assert sorted(m.recipient for m in messages) == ["other@example.org", "parent@example.org"]
    message = messages[0]
    assert message.subject == (
        "Baby massage for beginners at Riverside Family Hub: Bring a <b>blanket</b>"
    )
    assert "<script>alert(1)</script>" in message.body_text
    assert "<script>" not in message.body_html
    assert "&lt;script&gt;" in message.body_html


def test_nothing_is_queued_when_the_change_rolls_back(ctx, booked):
    with pytest.raises(RuntimeError):
        with write_transaction():
            notify.notify_booking_confirmed(registration(booked["confirmed"]))
            raise RuntimeError("the booking failed after all")
    assert outbox() == []


def test_deleted_accounts_get_no_email(ctx, booked):
    with write_transaction():
        db.session.get(User, registration(booked["confirmed"]).parent_id).deleted_at = datetime.now(
            UTC
        )
    with write_transaction():
        assert notify.notify_booking_confirmed(registration(booked["confirmed"])) is None
    assert outbox() == []


def test_long_or_multiline_subjects_are_made_safe(ctx, booked):
    with write_transaction():
        workshop = db.session.get(Workshop, booked["workshop"].id)
        workshop.title = "Baby massage\r\nBcc: everyone@example.org " + "x" * 150
        notify.notify_instructor_message(
            workshop, "Hello\nthere " + "y" * 150, "Body", [registration(booked["confirmed"])]
        )
    (message,) = outbox()
    assert "\n" not in message.subject and "\r" not in message.subject
    assert len(message.subject) == 300 and message.subject.endswith("\u2026")


def test_the_instructor_is_not_told_of_zero_families_emailed(ctx, make_centre, make_user,
                                                              make_workshop):
    """A class nobody has booked yet: the email said "We have emailed the 0 confirmed
    families and updated their calendars"."""
    centre = make_centre(name="Quiet Hub", slug="quiet")
    teacher = make_user("quiet@example.org", name="Quinn", role="instructor", centre=centre)
    workshop = make_workshop(centre=centre, instructor=teacher, sessions=2,
                             starts_at=datetime(2036, 1, 6, 10, 0, tzinfo=UTC))
    with write_transaction():
        session = db.session.scalar(
            sa.select(WorkshopSession).where(WorkshopSession.workshop_id == workshop.id,
                                             WorkshopSession.number == 2))
        session.room = "Garden Room"
        session.revision += 1
        notify.notify_session_changed(session, "room")
    (teacher_mail,) = outbox()
    said = " ".join(teacher_mail.body_text.split())
    assert "No family is booked on this class yet, so no one else has been emailed." in said
    assert "0 confirmed" not in said


def test_a_place_held_while_its_family_pays_is_emailed_and_counted_apart(
    app, ctx, booked, make_user, make_baby
):
    """The instructor read "We have emailed the 2 confirmed families" with one emailed:
    the count was the class's places, a place held while its family pays among them.
    That family is emailed now (without an invite: they have none yet), and the
    instructor's count names them apart from the confirmed ones."""
    payer = make_user("payer@example.org", name="Pia Payer")
    cy = make_baby(payer, name="Cy", date_of_birth=date(2035, 11, 1))
    add_registration(app, booked["workshop"], payer, cy, status="pending_payment",
                     hold_expires_at=datetime(2035, 12, 1, tzinfo=UTC))
    with write_transaction():
        db.session.get(Workshop, booked["workshop"].id).confirmed_count += 1  # its place
        session = db.session.scalar(
            sa.select(WorkshopSession).where(
                WorkshopSession.workshop_id == booked["workshop"].id, WorkshopSession.number == 2
            )
        )
        session.room = "Garden Room"
        session.revision += 1
        notify.notify_session_changed(session, "room")
    messages = outbox()
    assert [m.recipient for m in messages] == [
        "parent@example.org", "payer@example.org", "teacher@example.org"
    ]
    assert messages[0].ics_method == "REQUEST"
    assert messages[1].ics is None and messages[1].ics_method is None
    for body in (messages[2].body_text, messages[2].body_html):
        assert ("We have emailed the 1 confirmed family and the 1 family holding a place "
                "while they pay, and updated the calendars of all but those still to pay, "
                "who get their calendar invite once they have paid.") in " ".join(body.split())
