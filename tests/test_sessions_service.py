"""Schedule changes by staff, called directly: edit, publish, cancel, add, move, cancel."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import OutboxMessage, Registration, User, Workshop, WorkshopSession
from booking.services.booking import book as booking
from booking.services.errors import Conflict, Invalid, NotFound
from booking.services.schedule import create, edit, sessions
from booking.timefmt import to_local
from tests.clock_changes import next_week_at


def outbox(recipient=None) -> list[OutboxMessage]:
    query = sa.select(OutboxMessage).order_by(OutboxMessage.id)
    if recipient:
        query = query.where(OutboxMessage.recipient == recipient)
    return list(db.session.scalars(query))


def session_rows(workshop_id) -> list[WorkshopSession]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(WorkshopSession)
            .where(WorkshopSession.workshop_id == workshop_id)
            .order_by(WorkshopSession.number)
        )
    )


def fresh(workshop_id) -> Workshop:
    db.session.expire_all()
    return db.session.get(Workshop, workshop_id)


@pytest.fixture
def booked(make_user, make_baby):
    """book(workshop) -> a confirmed (or waiting) registration of a new parent and baby."""

    def book(workshop, name="Ada"):
        parent = make_user()
        baby = make_baby(parent, name=name, age_weeks=12)
        result = booking.book_place(
            parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id, consent=True
        )
        return result.registration, parent

    return book


def next_weekday_local(weeks: int = 2) -> datetime:
    return (datetime.now() + timedelta(weeks=weeks)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )


def test_update_workshop_changes_details_and_checks_them(
    ctx, make_workshop, make_user, make_centre
):
    workshop = make_workshop()
    other_centre_instructor = make_user(role="instructor", centre=make_centre())
    edit.update_workshop(
        workshop.id, title="  Calm  baby ", price="12.5", min_age_weeks=8, max_age_weeks=30
    )
    changed = fresh(workshop.id)
    assert (changed.title, changed.price, changed.min_age_weeks) == (
        "Calm baby",
        Decimal("12.50"),
        8,
    )
    with pytest.raises(Invalid) as err:
        edit.update_workshop(workshop.id, min_age_weeks=40, price="-1", title="")
    assert set(err.value.fields) == {"max_age_weeks", "price", "title"}
    with pytest.raises(Invalid) as err:
        edit.update_workshop(workshop.id, instructor_id=other_centre_instructor.id)
    assert "instructor_id" in err.value.fields
    with pytest.raises(Invalid) as err:
        edit.update_workshop(workshop.id, kind="single", capacity=3)
    assert set(err.value.fields) == {"kind", "capacity"}
    assert fresh(workshop.id).title == "Calm baby"


def test_update_workshop_accepts_an_instructor_of_the_centre(
    ctx, make_workshop, make_user, make_centre
):
    centre = make_centre()
    workshop = make_workshop(centre=centre)
    second = make_user(role="instructor", centre=centre)
    edit.update_workshop(workshop.id, instructor_id=str(second.id))
    assert fresh(workshop.id).instructor_id == second.id


def test_publish_and_unpublish(ctx, make_workshop, booked):
    workshop = make_workshop(status="draft")
    edit.publish_workshop(workshop.id)
    assert fresh(workshop.id).status == "published"
    edit.unpublish_workshop(workshop.id)
    assert fresh(workshop.id).status == "draft"
    edit.publish_workshop(workshop.id)
    booked(workshop)
    with pytest.raises(Conflict, match="1 booked and 0 waiting"):
        edit.unpublish_workshop(workshop.id)
    assert fresh(workshop.id).status == "published"
    with pytest.raises(NotFound):
        edit.publish_workshop(999999)


def test_cancel_workshop_cancels_everything_and_tells_everyone(ctx, make_workshop, booked):
    workshop = make_workshop(capacity=1)
    first, first_parent = booked(workshop)
    waiting, waiting_parent = booked(workshop, name="Bo")
    assert waiting.status == "waitlisted"
    before = len(outbox())
    edit.cancel_workshop(workshop.id, reason="Instructor unwell")
    changed = fresh(workshop.id)
    assert changed.status == "cancelled" and changed.confirmed_count == 0
    regs = db.session.scalars(sa.select(Registration).order_by(Registration.id)).all()
    assert [r.status for r in regs] == ["cancelled", "cancelled"]
    assert all(r.invite_sequence == 1 for r in regs)
    assert all(s.status == "cancelled" and s.revision == 1 for s in session_rows(workshop.id))
    recipients = {m.recipient for m in outbox()[before:]}
    assert {first_parent.email, waiting_parent.email} <= recipients
    assert len(recipients) == 3  # and the instructor
    with pytest.raises(Conflict):
        edit.cancel_workshop(workshop.id)
    with pytest.raises(Conflict):
        edit.update_workshop(workshop.id, title="Back again")


def test_move_session_bumps_revision_and_tells_parents_and_instructor(ctx, make_workshop, booked):
    workshop = make_workshop(sessions=3)
    _, parent = booked(workshop)
    third = session_rows(workshop.id)[2]
    before = len(outbox())
    new_local = next_weekday_local(weeks=5)
    sessions.move_session(third.id, new_local, 90, "Garden room")
    rows = session_rows(workshop.id)
    moved = next(s for s in rows if s.id == third.id)
    assert moved.revision == 1
    assert moved.number == 3
    assert moved.ends_at - moved.starts_at == timedelta(minutes=90)
    assert moved.room == "Garden room"
    changed = fresh(workshop.id)
    assert changed.last_ends_at == moved.ends_at
    assert changed.first_starts_at == rows[0].starts_at
    queued = outbox()[before:]
    assert {m.recipient for m in queued} == {parent.email, _instructor_email(workshop)}
    assert any("Time changed" in m.subject for m in queued)


def test_a_session_does_not_overtake_another_of_a_published_course(ctx, make_workshop,
                                                                    booked):
    """Week 2 moved after week 3 would swap their numbers under the families, who are
    told only of the move: refused, naming week 3 and what to do instead. A draft being
    put together is reordered freely."""
    workshop = make_workshop(sessions=3)
    booked(workshop)
    second = session_rows(workshop.id)[1]
    before = len(outbox())
    with pytest.raises(Invalid) as refused:
        sessions.move_session(second.id, next_weekday_local(weeks=5))
    assert "cannot move past session 3" in refused.value.fields["starts_local"]
    assert "add a session after the last one" in refused.value.message
    assert [s.number for s in session_rows(workshop.id)] == [1, 2, 3]
    assert session_rows(workshop.id)[1].id == second.id and len(outbox()) == before
    draft = make_workshop(sessions=3, status="draft", title="Draft course")
    db.session.rollback()  # a fresh read, seeing the draft written in its own context
    draft_second = session_rows(draft.id)[1]
    sessions.move_session(draft_second.id, next_weekday_local(weeks=5), allow_clash=True)
    assert session_rows(draft.id)[2].id == draft_second.id


def test_adding_a_session_tells_parents_and_instructor(ctx, make_workshop, booked):
    workshop = make_workshop(sessions=2)
    _, parent = booked(workshop)
    before = len(outbox())
    added = sessions.add_session(workshop.id, next_weekday_local(weeks=6), 60, "Hall")
    queued = outbox()[before:]
    assert {m.recipient for m in queued} == {parent.email, _instructor_email(workshop)}
    to_parent = next(m for m in queued if m.recipient == parent.email)
    assert to_parent.subject.startswith("Session added:")
    assert "week 3 of 3" in to_parent.subject
    assert "has a new session: week 3 of 3" in to_parent.body_text
    assert "adds it to your calendar" in to_parent.body_text
    assert to_parent.ics_method == "REQUEST"
    assert f"session-{added.id}-registration-" in to_parent.ics


def test_changing_a_drafts_sessions_tells_nobody(ctx, make_workshop):
    """A draft being put together: adding, moving or cancelling its sessions emails
    nobody, the instructor included."""
    workshop = make_workshop(sessions=3, status="draft")
    before = len(outbox())
    sessions.add_session(workshop.id, next_weekday_local(weeks=6), 60)
    first, second = session_rows(workshop.id)[:2]
    sessions.move_session(first.id, next_weekday_local(weeks=8))
    sessions.move_session(second.id, None, room="Blue room")
    sessions.cancel_session(second.id)
    assert len(outbox()) == before
    moved = db.session.get(WorkshopSession, first.id, populate_existing=True)
    assert moved.revision == 1  # calendars still see the change


def _instructor_email(workshop) -> str:
    return db.session.get(User, workshop.instructor_id).email


def test_room_change_only_is_a_room_email_and_no_change_is_nothing(ctx, make_workshop, booked):
    workshop = make_workshop(sessions=2)
    _, parent = booked(workshop)
    first = session_rows(workshop.id)[0]
    before = len(outbox())
    sessions.move_session(first.id, None, None, "Room 2")
    assert session_rows(workshop.id)[0].revision == 1
    subjects = [m.subject for m in outbox(parent.email)]
    assert any(s.startswith("Room changed") for s in subjects)
    count = len(outbox())
    assert count > before
    sessions.move_session(first.id, None, None, "Room 2")
    assert session_rows(workshop.id)[0].revision == 1
    assert len(outbox()) == count


def test_move_session_converts_local_time_across_daylight_saving(ctx, make_centre, make_workshop):
    year = datetime.now(UTC).year + 1
    london = make_centre(timezone="Europe/London")
    sydney = make_centre(timezone="Australia/Sydney")
    start = datetime(year, 3, 1, 10, tzinfo=UTC)
    w_london = make_workshop(centre=london, sessions=1, starts_at=start)
    w_sydney = make_workshop(centre=sydney, sessions=1, starts_at=start)
    s_london = session_rows(w_london.id)[0]
    s_sydney = session_rows(w_sydney.id)[0]
    # 10:00 London on 1 April is BST (UTC+1); 10:00 Sydney on 1 April is AEDT (UTC+11)
    sessions.move_session(s_london.id, datetime(year, 4, 1, 10, 0))
    sessions.move_session(s_sydney.id, datetime(year, 4, 1, 10, 0))
    # after the April change Sydney is AEST (UTC+10)
    w2 = make_workshop(centre=sydney, sessions=1, starts_at=start)
    sessions.move_session(session_rows(w2.id)[0].id, datetime(year, 4, 10, 10, 0))
    assert session_rows(w_london.id)[0].starts_at == datetime(year, 4, 1, 9, tzinfo=UTC)
    assert session_rows(w_sydney.id)[0].starts_at == datetime(year, 3, 31, 23, tzinfo=UTC)
    assert session_rows(w2.id)[0].starts_at == datetime(year, 4, 10, 0, tzinfo=UTC)
    # the duration is kept when not given
    moved = session_rows(w_london.id)[0]
    assert moved.ends_at - moved.starts_at == timedelta(minutes=60)


def test_move_session_refuses_bad_times(ctx, make_workshop):
    workshop = make_workshop(sessions=2)
    rows = session_rows(workshop.id)
    with pytest.raises(Invalid) as err:
        sessions.move_session(rows[0].id, datetime.now() - timedelta(days=1))
    assert "starts_local" in err.value.fields
    with pytest.raises(Invalid) as err:
        sessions.move_session(rows[0].id, next_weekday_local(), duration_minutes=0)
    assert "duration_minutes" in err.value.fields
    other_local = to_local(rows[1].starts_at, "Europe/London").replace(tzinfo=None)
    with pytest.raises(Invalid, match="overlaps"):
        sessions.move_session(rows[0].id, other_local + timedelta(minutes=30))
    with pytest.raises(NotFound):
        sessions.move_session(999999, next_weekday_local())
    assert [s.revision for s in session_rows(workshop.id)] == [0, 0]


def test_cancel_session(ctx, make_workshop, booked):
    workshop = make_workshop(sessions=2)
    _, parent = booked(workshop)
    first, second = session_rows(workshop.id)
    sessions.cancel_session(first.id)
    rows = session_rows(workshop.id)
    assert (rows[0].status, rows[0].revision) == ("cancelled", 1)
    assert fresh(workshop.id).first_starts_at == second.starts_at
    assert any("Session cancelled" in m.subject for m in outbox(parent.email))
    with pytest.raises(Conflict):
        sessions.cancel_session(first.id)
    with pytest.raises(Conflict, match="only remaining session"):
        sessions.cancel_session(second.id)


def test_add_session_renumbers_by_time_and_keeps_span(ctx, make_workshop):
    workshop = make_workshop(sessions=2, starts_in_days=14, status="draft")
    earlier = (datetime.now() + timedelta(days=5)).replace(
        hour=9, minute=30, second=0, microsecond=0
    )
    added = sessions.add_session(workshop.id, earlier, 45, "Hall")
    rows = session_rows(workshop.id)
    assert [s.number for s in rows] == [1, 2, 3]
    assert rows[0].id == added.id and rows[0].room == "Hall"
    assert fresh(workshop.id).first_starts_at == rows[0].starts_at
    with pytest.raises(Invalid):
        sessions.add_session(workshop.id, earlier - timedelta(days=30), 45)
    single = make_workshop(kind="single")
    with pytest.raises(Conflict):
        sessions.add_session(single.id, next_weekday_local(weeks=6), 60)


def test_add_workshop_creates_in_its_own_transaction(ctx, make_workshop):
    # At 14:00 UTC, never at the new course's 10:00 local, whatever the hour of the run.
    existing = make_workshop(starts_at=next_week_at(14))
    local = next_weekday_local(weeks=3)
    created = create.add_workshop(
        centre_id=existing.centre_id,
        instructor_id=existing.instructor_id,
        kind="course",
        title="Spring course",
        first_session_local=local,
        sessions=4,
        duration_minutes=60,
        capacity=6,
        min_age_weeks=6,
        max_age_weeks=30,
        price=Decimal("40"),
    )
    assert len(session_rows(created.id)) == 4
    assert date.today() < fresh(created.id).first_starts_at.date()


def test_a_published_course_adds_sessions_only_after_its_last(ctx, make_workshop):
    """Families know a published course's weeks by number (and plans and make-up credits
    keep them): a session added before the last, even a cancelled last, would renumber
    them. Refused, naming the last session; after it, the new one is the next week."""
    workshop = make_workshop(sessions=3, starts_in_days=14)
    rows = session_rows(workshop.id)
    sessions.cancel_session(rows[-1].id)
    between = datetime.now() + timedelta(days=14 + 7 + 3)
    with pytest.raises(Invalid) as refused:
        sessions.add_session(workshop.id, between.replace(hour=11, minute=0), 60)
    assert "new session goes after its last one (session 3, " in refused.value.message
    assert [(s.number, s.status) for s in session_rows(workshop.id)] == [
        (1, "scheduled"), (2, "scheduled"), (3, "cancelled")
    ]
    after = datetime.now() + timedelta(days=14 + 21)
    added = sessions.add_session(workshop.id, after.replace(hour=11, minute=0), 60)
    assert added.number == 4
