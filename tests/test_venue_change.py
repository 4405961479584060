"""A centre's new name or address is a new place for every session still to come there
(booking rule 8): revisions go up, calendars are updated and everyone is emailed."""

from datetime import UTC, datetime, timedelta

import icalendar
import sqlalchemy as sa

from booking.extensions import db
from booking.models import OutboxMessage, WorkshopSession
from booking.services.catalogue import centres
from booking.services.courses import absences, makeups
from booking.timefmt import format_local
from tests.makeup_helpers import book


def _revisions(workshop_id) -> list[int]:
    db.session.expire_all()
    return list(db.session.scalars(
        sa.select(WorkshopSession.revision).where(WorkshopSession.workshop_id == workshop_id)
        .order_by(WorkshopSession.number)
    ))


def _emails(recipient: str) -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.recipient == recipient)
        .order_by(OutboxMessage.id)
    ))


def test_a_new_address_reaches_every_calendar_and_everyone_booked(
    ctx, make_centre, make_workshop, make_user, make_baby
):
    centre = make_centre(name="Riverside Hub", address="1 Quay")
    teacher = make_user("teacher@example.org", role="instructor", centre=centre)
    course = make_workshop(centre=centre, instructor=teacher, sessions=4, capacity=4)
    other = make_workshop(centre=centre, instructor=teacher, sessions=4, capacity=4,
                          starts_in_days=8, title="Thursday class")
    draft = make_workshop(centre=centre, instructor=teacher, status="draft", title="Draft")
    parent = make_user(email="pat@example.org")
    baby = make_baby(parent, name="Ada")
    registration_id = book(parent, baby, course)
    credit = absences.report_absence(
        parent_id=parent.id, registration_id=registration_id,
        session_id=db.session.scalar(sa.select(WorkshopSession.id).where(
            WorkshopSession.workshop_id == course.id, WorkshopSession.number == 2)),
    )
    makeups.book_makeup(parent_id=parent.id, credit_id=credit.id, session_id=db.session.scalar(
        sa.select(WorkshopSession.id).where(WorkshopSession.workshop_id == other.id,
                                            WorkshopSession.number == 2)))
    before = (_revisions(course.id), _revisions(draft.id), len(_emails(parent.email)))

    # A change that is not of the place tells nobody.
    centres.update_centre(centre.id, description="Now with a garden.")
    assert (_revisions(course.id), _revisions(draft.id), len(_emails(parent.email))) == before

    centres.update_centre(centre.id, address="5 Harbour Walk")
    assert _revisions(course.id) == [r + 1 for r in before[0]]
    assert _revisions(draft.id) == before[1]  # nobody is booked on a draft
    new = _emails(parent.email)[before[2]:]
    assert len(new) == 2  # one for the booking (all its weeks), one for the make-up
    booking_email = next(m for m in new if "make-up" not in m.subject)
    assert booking_email.subject.startswith("Where it meets has changed: ")
    assert "now meets at Riverside Hub, 5 Harbour Walk" in booking_email.body_text
    assert booking_email.ics_method == "REQUEST"
    events = icalendar.Calendar.from_ical(booking_email.ics).walk("VEVENT")
    assert events and all("5 Harbour Walk" in str(e["LOCATION"]) for e in events)
    assert all(int(e["SEQUENCE"]) >= 1 for e in events)
    visit = next(m for m in new if "make-up" in m.subject)
    assert visit.subject.startswith("Where it meets changed for your make-up")
    assert "is now at: Riverside Hub, 5 Harbour Walk" in visit.body_text
    assert "5 Harbour Walk" in str(
        icalendar.Calendar.from_ical(visit.ics).walk("VEVENT")[0]["LOCATION"])
    to_teacher = [m for m in _emails("teacher@example.org") if "has changed" in m.subject]
    assert len(to_teacher) == 2  # one per class still to come there
    assert "We have emailed the 1 confirmed family" in next(
        m.body_text for m in to_teacher if course.title in m.subject)
    # The Thursday class has no family of its own, but a visitor in week 2: counted.
    assert "the 1 family making up a missed week in it" in next(
        m.body_text for m in to_teacher if "Thursday class" in m.subject)


def test_the_staff_page_says_who_was_told_and_only_then(app, client, auth, make_centre,
                                                       make_workshop, make_user):
    busy = make_centre(name="Riverside Hub")
    empty = make_centre(name="Hilltop Clinic")
    make_workshop(centre=busy)
    make_user("staff@example.org", role="staff", centre=busy)
    make_user("other@example.org", role="staff", centre=empty)
    form = {"address": "9 New Road", "town": "Bristol", "postcode": "BS1 4DJ",
            "country": "GB", "timezone": "Europe/London"}
    auth.login("other@example.org")
    page = client.post(f"/manage/centres/{empty.id}", data=form | {"name": "Hilltop Clinic"},
                       follow_redirects=True)
    assert "profile is saved." in page.text and "emailed" not in page.text
    auth.logout()
    auth.login("staff@example.org")
    page = client.post(f"/manage/centres/{busy.id}", data=form | {"name": "Riverside Hub"},
                       follow_redirects=True)
    assert "Where its class still to come meet has changed" in " ".join(page.text.split())
    with app.app_context():
        assert centres.update_centre(busy.id, description="A garden too.").classes_told == 0


def test_a_new_address_leaves_the_weeks_gone_by_where_they_were(
    ctx, make_centre, make_workshop, make_user, make_baby
):
    """The update put every week of the course at the new address, those already over
    too (same SEQUENCE, newer DTSTAMP): a calendar then showed week 1 somewhere it never
    met."""
    centre = make_centre(name="Riverside Hub", address="1 Quay")
    course = make_workshop(centre=centre, sessions=4, capacity=4)
    parent = make_user(email="pat@example.org")
    book(parent, make_baby(parent, name="Ada"), course)
    week1 = db.session.scalar(sa.select(WorkshopSession).where(
        WorkshopSession.workshop_id == course.id, WorkshopSession.number == 1))
    week2 = db.session.scalar(sa.select(WorkshopSession).where(
        WorkshopSession.workshop_id == course.id, WorkshopSession.number == 2))
    # Week 1 has met (nine days ago), week 2 is under way; the others are still to come.
    week1.starts_at -= timedelta(days=16)
    week1.ends_at -= timedelta(days=16)
    now = datetime.now(UTC)
    week2.starts_at, week2.ends_at = now - timedelta(minutes=30), now + timedelta(minutes=30)
    db.session.commit()
    begun = (f"session-{week1.id}-", f"session-{week2.id}-")
    before = len(_emails(parent.email))

    centres.update_centre(centre.id, address="5 Harbour Walk")
    (update,) = _emails(parent.email)[before:]
    assert update.ics_method == "REQUEST"
    events = icalendar.Calendar.from_ical(update.ics).walk("VEVENT")
    assert len(events) == 2
    assert not any(str(e["UID"]).startswith(begun) for e in events)
    assert all("5 Harbour Walk" in str(e["LOCATION"]) for e in events)


def test_a_new_time_zone_is_explained_to_staff_and_moves_nothing(
    app, client, auth, make_centre, make_workshop, make_user, make_baby
):
    """Sessions keep their moment in time (so every calendar stays right as it is and
    nobody is emailed), and the staff page says their local times now read otherwise."""
    centre = make_centre(name="Harbour Rooms", timezone="Europe/London")
    course = make_workshop(centre=centre, sessions=3)
    make_workshop(centre=make_centre(name="Elsewhere"), sessions=2)  # not this centre's
    make_user("staff@example.org", role="staff", centre=centre)
    with app.app_context():
        starts = [s.starts_at for s in db.session.scalars(
            sa.select(WorkshopSession).where(WorkshopSession.workshop_id == course.id)
            .order_by(WorkshopSession.starts_at))]
        emails = db.session.scalar(sa.select(sa.func.count(OutboxMessage.id)))
    form = {"name": "Harbour Rooms", "address": "1 High Street", "town": "Bristol",
            "postcode": "BS1 4DJ", "country": "GB", "timezone": "Australia/Sydney"}
    auth.login("staff@example.org")
    page = client.post(f"/manage/centres/{centre.id}", data=form, follow_redirects=True)
    text = " ".join(page.text.split())
    assert "The time zone is now Australia/Sydney: its 3 sessions still to come" in text
    assert (f"the next, {format_local(starts[0], 'Europe/London')} before, is "
            f"{format_local(starts[0], 'Australia/Sydney')} now") in text.replace("&#39;", "'")
    with app.app_context():
        assert [s.starts_at for s in db.session.scalars(
            sa.select(WorkshopSession).where(WorkshopSession.workshop_id == course.id)
            .order_by(WorkshopSession.starts_at))] == starts
        assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == emails
    # Saved again with the same zone, or another change, says nothing of it.
    page = client.post(f"/manage/centres/{centre.id}", data=form, follow_redirects=True)
    assert "profile is saved." in page.text and "time zone is now" not in page.text
    with app.app_context():
        assert centres.update_centre(centre.id, description="Quiet room.").zone_moved is None
        # A centre with nothing still to come changes zone with nothing to say.
        empty = make_centre(name="Empty Hall")
        assert centres.update_centre(empty.id, timezone="Europe/Dublin").zone_moved is None
    single = make_centre(name="Single Room", timezone="Europe/London")
    make_workshop(centre=single, sessions=1, kind="single")
    make_user("single@example.org", role="staff", centre=single)
    auth.logout()
    auth.login("single@example.org")
    page = client.post(f"/manage/centres/{single.id}", data=form | {"name": "Single Room"},
                       follow_redirects=True)
    assert ("its one session still to come keeps its moment in time" in
            " ".join(page.text.split()))
