"""A centre's time zone set wrongly, corrected with "keep the classes at the same local
times": every session still to come keeps its wall-clock time in the new zone, so it
moves in time (booking rule 8: revisions go up, calendars are updated and everyone booked
is emailed, once per class)."""

import re
from datetime import UTC, datetime, timedelta

import icalendar
import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import Centre, OutboxMessage, Workshop, WorkshopSession
from booking.services.catalogue import centres
from booking.services.courses import absences, makeups
from booking.services.errors import Conflict
from booking.timefmt import format_local, local_to_utc, to_local
from tests.makeup_helpers import book


def _sessions(workshop_id) -> list[WorkshopSession]:
    db.session.expire_all()
    return list(db.session.scalars(
        sa.select(WorkshopSession).where(WorkshopSession.workshop_id == workshop_id)
        .order_by(WorkshopSession.number)
    ))


def _emails(recipient: str) -> list[OutboxMessage]:
    return list(db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.recipient == recipient)
        .order_by(OutboxMessage.id)
    ))


def _wall(session, zone) -> tuple:
    start, end = to_local(session.starts_at, zone), to_local(session.ends_at, zone)
    return start.date(), start.time(), end.time()


def _miss_week_two_and_make_it_up(parent, registration_id, home, visited) -> None:
    """The parent reports an absence from week 2 of `home` and makes it up in week 2 of
    `visited`."""
    week_two = [s.id for s in _sessions(home.id) if s.number == 2][0]
    credit = absences.report_absence(parent_id=parent.id, registration_id=registration_id,
                                     session_id=week_two)
    target = [s for s in _sessions(visited.id) if s.number == 2][0]
    makeups.book_makeup(parent_id=parent.id, credit_id=credit.id, session_id=target.id)


def _later_hour(days: int) -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=days)


def test_sessions_keep_their_local_times_and_everyone_booked_is_told_once(
    ctx, make_centre, make_workshop, make_user, make_baby
):
    centre = make_centre(name="Harbour Rooms", timezone="Europe/London")
    teacher = make_user("teacher@example.org", role="instructor", centre=centre)
    # Weekly from 10:00 London time, across the end of daylight saving in some years.
    course = make_workshop(centre=centre, instructor=teacher, sessions=5,
                           starts_at=_later_hour(9).replace(hour=10), title="Tuesday course")
    draft = make_workshop(centre=centre, instructor=teacher, status="draft", title="Draft")
    elsewhere = make_workshop(instructor=teacher, title="Elsewhere")
    parent = make_user(email="pat@example.org")
    book(parent, make_baby(parent, name="Ada"), course)
    before = {w.id: _sessions(w.id) for w in (course, draft, elsewhere)}
    walls = {w: [_wall(s, "Europe/London") for s in ss] for w, ss in before.items()}
    instants = {w: [s.starts_at for s in ss] for w, ss in before.items()}
    revisions = {w: [s.revision for s in ss] for w, ss in before.items()}
    sent = {who: len(_emails(who)) for who in (parent.email, teacher.email)}

    saved = centres.update_centre(centre.id, timezone="Australia/Sydney", keep_local_times=True)

    assert saved.zone_moved.kept_local and saved.zone_moved.classes_told == 1
    assert saved.zone_moved.sessions == 5 + 4
    for workshop in (course, draft):
        after = _sessions(workshop.id)
        assert [_wall(s, "Australia/Sydney") for s in after] == walls[workshop.id]
        assert all(s.starts_at != old for s, old in zip(after, instants[workshop.id],
                                                         strict=True))
        assert [s.revision for s in after] == [r + 1 for r in revisions[workshop.id]]
        row = db.session.get(Workshop, workshop.id)
        assert row.first_starts_at == after[0].starts_at
        assert row.last_ends_at == after[-1].ends_at
    # Another centre's class keeps everything.
    assert [s.starts_at for s in _sessions(elsewhere.id)] == instants[elsewhere.id]
    # One email per family and one for the instructor: the published class only.
    (update,) = _emails(parent.email)[sent[parent.email]:]
    assert update.subject.startswith("Times changed: Tuesday course")
    assert update.ics_method == "REQUEST"
    assert "The time zone of Harbour Rooms has been corrected" in update.body_text
    events = icalendar.Calendar.from_ical(update.ics).walk("VEVENT")
    starts = sorted(e.decoded("DTSTART").astimezone(UTC) for e in events)
    assert starts == [s.starts_at for s in _sessions(course.id)]
    (told,) = _emails(teacher.email)[sent[teacher.email]:]
    assert "Tuesday course" in told.subject and "Draft" not in told.subject


def test_a_make_up_visitor_is_told_of_the_new_time(
    ctx, make_centre, make_workshop, make_user, make_baby
):
    centre = make_centre(timezone="Europe/London")
    home = make_workshop(centre=centre, title="Monday course")
    visited = make_workshop(centre=centre, title="Thursday course", starts_in_days=10)
    parent = make_user(email="visitor@example.org")
    _miss_week_two_and_make_it_up(parent, book(parent, make_baby(parent, name="Ada"), home),
                                  home, visited)
    sent = len(_emails(parent.email))
    centres.update_centre(centre.id, timezone="America/New_York", keep_local_times=True)
    subjects = [m.subject for m in _emails(parent.email)[sent:]]
    assert any(s.startswith("Time changed for your make-up: Thursday course") for s in subjects)
    assert any(s.startswith("Times changed: Monday course") for s in subjects)
    assert len(subjects) == 2


def test_a_single_class_is_told_as_one_session(ctx, make_centre, make_workshop, make_user,
                                              make_baby):
    centre = make_centre(name="Quay Rooms", timezone="Europe/London")
    single = make_workshop(centre=centre, kind="single", title="Drop-in")
    parent = make_user(email="single@example.org")
    book(parent, make_baby(parent), single)
    sent = len(_emails(parent.email))
    centres.update_centre(centre.id, timezone="Europe/Berlin", keep_local_times=True)
    (update,) = _emails(parent.email)[sent:]
    (session,) = _sessions(single.id)
    when = format_local(session.starts_at, "Europe/Berlin")
    text = " ".join(update.body_text.split())
    day_and_start = when.rsplit(" ", 1)[0]  # the email gives the end too: 17:00-18:00
    assert (f"The time zone of Quay Rooms has been corrected, so Drop-in now starts at the "
            f"local time it was planned for: {day_and_start}") in text
    assert "The attached update changes it in your calendar." in text
    assert "every session" not in text


def test_without_the_choice_nothing_moves_and_nobody_is_emailed(
    ctx, make_centre, make_workshop, make_user, make_baby
):
    centre = make_centre(timezone="Europe/London")
    course = make_workshop(centre=centre)
    parent = make_user()
    book(parent, make_baby(parent), course)
    starts = [s.starts_at for s in _sessions(course.id)]
    emails = db.session.scalar(sa.select(sa.func.count(OutboxMessage.id)))
    saved = centres.update_centre(centre.id, timezone="America/New_York")
    assert not saved.zone_moved.kept_local
    assert [s.starts_at for s in _sessions(course.id)] == starts
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == emails


def test_a_zone_with_the_same_clocks_moves_nothing(ctx, make_centre, make_workshop, make_user,
                                                   make_baby):
    centre = make_centre(timezone="Europe/London")
    course = make_workshop(centre=centre)
    parent = make_user()
    book(parent, make_baby(parent), course)
    before = [(s.starts_at, s.revision) for s in _sessions(course.id)]
    emails = len(_emails(parent.email))
    saved = centres.update_centre(centre.id, timezone="Europe/Dublin", keep_local_times=True)
    assert saved.zone_moved.kept_local and saved.zone_moved.classes_told == 0
    assert [(s.starts_at, s.revision) for s in _sessions(course.id)] == before
    assert len(_emails(parent.email)) == emails


def test_a_session_that_would_have_started_already_refuses_the_change(
    ctx, make_centre, make_workshop, make_user, make_baby
):
    """Sydney's clocks are 10 or 11 hours ahead of London's: a session three hours away in
    London would, at the same local time in Sydney, have begun hours ago."""
    centre = make_centre(timezone="Europe/London")
    soon = make_workshop(centre=centre, kind="single", title="Soon",
                         starts_at=datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3))
    parent = make_user()
    book(parent, make_baby(parent), soon)
    starts = [s.starts_at for s in _sessions(soon.id)]
    emails = db.session.scalar(sa.select(sa.func.count(OutboxMessage.id)))
    with pytest.raises(Conflict) as refused:
        centres.update_centre(centre.id, timezone="Australia/Sydney", keep_local_times=True)
    assert "Soon, session 1, would have started already" in refused.value.message
    assert set(refused.value.fields) == {"timezone"}
    db.session.rollback()
    assert db.session.scalar(sa.select(Centre.timezone).where(Centre.id == centre.id)) == (
        "Europe/London"
    )
    assert [s.starts_at for s in _sessions(soon.id)] == starts
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == emails
    # Without keeping local times the same zone is saved: nothing moves.
    assert centres.update_centre(centre.id, timezone="Australia/Sydney").zone_moved.sessions == 1


def test_a_minimum_numbers_decision_moved_into_the_past_refuses_the_change(
    ctx, make_centre, make_workshop
):
    centre = make_centre(timezone="Europe/London")
    course = make_workshop(centre=centre, min_places=3, title="Needs three",
                           starts_at=_later_hour(0) + timedelta(hours=53))
    decision = db.session.get(Workshop, course.id).decision_at
    assert decision > datetime.now(UTC)
    with pytest.raises(Conflict) as refused:
        centres.update_centre(centre.id, timezone="Australia/Sydney", keep_local_times=True)
    assert "Needs three needs at least 3 booked by its decision time" in refused.value.message
    db.session.rollback()
    assert db.session.get(Workshop, course.id).decision_at == decision
    # Westward the first session, and the decision with it, move later.
    saved = centres.update_centre(centre.id, timezone="America/New_York",
                                  keep_local_times=True)
    assert saved.zone_moved.kept_local
    row = db.session.get(Workshop, course.id)
    shift = row.first_starts_at - course.first_starts_at
    assert shift > timedelta(0) and row.decision_at == decision + shift


def test_the_staff_page_offers_the_choice_and_says_what_it_did(
    app, client, auth, make_centre, make_workshop, make_user, make_baby
):
    centre = make_centre(name="Harbour Rooms", timezone="Europe/London")
    course = make_workshop(centre=centre, sessions=3)
    parent = make_user()
    with app.app_context():
        book(parent, make_baby(parent), course)
    make_user("staff@example.org", role="staff", centre=centre)
    auth.login("staff@example.org")
    page = client.get(f"/manage/centres/{centre.id}")
    assert 'name="keep_local_times"' in page.text
    form = {"name": "Harbour Rooms", "address": "1 High Street", "town": "Bristol",
            "postcode": "BS1 4DJ", "country": "GB", "timezone": "Australia/Sydney",
            "keep_local_times": "y"}
    with app.app_context():
        walls = [_wall(s, "Europe/London") for s in _sessions(course.id)]
    page = client.post(f"/manage/centres/{centre.id}", data=form, follow_redirects=True)
    text = " ".join(page.text.split())
    assert ("The time zone is now Australia/Sydney: its 3 sessions still to come keep their "
            "local times") in text
    assert "the families booked in 1 class, make-up visitors and instructors" in text
    with app.app_context():
        assert [_wall(s, "Australia/Sydney") for s in _sessions(course.id)] == walls
    # The box is not left ticked for the next change.
    box = re.search(r'<input[^>]*name="keep_local_times"[^>]*>',
                    client.get(f"/manage/centres/{centre.id}").text).group(0)
    assert "checked" not in box


def test_a_refusal_is_shown_under_the_time_zone(
    app, client, auth, make_centre, make_workshop, make_user
):
    centre = make_centre(name="Harbour Rooms", timezone="Europe/London")
    make_workshop(centre=centre, kind="single", title="Soon",
                  starts_at=datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3))
    make_user("staff@example.org", role="staff", centre=centre)
    auth.login("staff@example.org")
    form = {"name": "Harbour Rooms", "address": "1 High Street", "town": "Bristol",
            "postcode": "BS1 4DJ", "country": "GB", "timezone": "Australia/Sydney",
            "keep_local_times": "y"}
    page = client.post(f"/manage/centres/{centre.id}", data=form)
    assert page.status_code == 409
    assert "would have started already" in page.text
    with app.app_context():
        assert db.session.get(Centre, centre.id).timezone == "Europe/London"


def test_a_new_address_and_time_zone_saved_together_email_each_family_once(
    ctx, make_centre, make_workshop, make_user, make_baby
):
    centre = make_centre(name="Harbour Rooms", address="1 Quay", timezone="Europe/London")
    teacher = make_user("teacher@example.org", role="instructor", centre=centre)
    course = make_workshop(centre=centre, instructor=teacher, sessions=4, title="Monday course",
                           starts_at=_later_hour(9).replace(hour=10))
    visited = make_workshop(centre=centre, instructor=teacher, starts_in_days=10,
                            title="Thursday course")
    parent = make_user(email="pat@example.org")
    _miss_week_two_and_make_it_up(parent, book(parent, make_baby(parent, name="Ada"), course),
                                  course, visited)
    revisions = [s.revision for s in _sessions(course.id)]
    sent = {who: len(_emails(who)) for who in (parent.email, teacher.email)}

    saved = centres.update_centre(centre.id, name="Harbour House", address="5 Harbour Walk",
                                  timezone="Australia/Sydney", keep_local_times=True)

    assert saved.classes_told == 2  # both classes know where they meet now
    assert saved.zone_moved.kept_local and saved.zone_moved.classes_told == 2
    # The family: one email for the booking (every week's new time, and where it meets)
    # and one for the make-up, not a second pair for the new address.
    new = _emails(parent.email)[sent[parent.email]:]
    assert sorted(m.subject.split(":")[0] for m in new) == [
        "Time changed for your make-up", "Times changed"]
    update = next(m for m in new if m.subject.startswith("Times changed: Monday course"))
    text = " ".join(update.body_text.split())
    assert "The time zone of Harbour House has been corrected" in text
    assert "It meets at Harbour House, 5 Harbour Walk" in text
    assert "It meets at <strong>Harbour House, 5 Harbour Walk" in update.body_html
    events = icalendar.Calendar.from_ical(update.ics).walk("VEVENT")
    assert events and all("5 Harbour Walk" in str(e["LOCATION"]) for e in events)
    # Each session's revision went up for its new place, then again as it moved.
    assert [s.revision for s in _sessions(course.id)] == [r + 2 for r in revisions]
    assert all(int(e["SEQUENCE"]) >= 2 for e in events)
    visit = next(m for m in new if "make-up" in m.subject)
    assert "It meets at Harbour House, 5 Harbour Walk" in " ".join(visit.body_text.split())
    assert "5 Harbour Walk" in str(
        icalendar.Calendar.from_ical(visit.ics).walk("VEVENT")[0]["LOCATION"])
    # The instructor: one email per class.
    told = _emails(teacher.email)[sent[teacher.email]:]
    assert [m.subject.split(":")[0] for m in told] == ["Your class - Times changed"] * 2


def test_a_new_address_with_a_zone_of_the_same_clocks_is_told_as_a_new_place(
    ctx, make_centre, make_workshop, make_user, make_baby
):
    centre = make_centre(name="Harbour Rooms", address="1 Quay", timezone="Europe/London")
    course = make_workshop(centre=centre)
    parent = make_user(email="pat@example.org")
    book(parent, make_baby(parent), course)
    revisions = [s.revision for s in _sessions(course.id)]
    sent = len(_emails(parent.email))
    saved = centres.update_centre(centre.id, address="5 Harbour Walk",
                                  timezone="Europe/Dublin", keep_local_times=True)
    assert saved.classes_told == 1 and saved.zone_moved.classes_told == 0
    (update,) = _emails(parent.email)[sent:]
    assert update.subject.startswith("Where it meets has changed: ")
    assert [s.revision for s in _sessions(course.id)] == [r + 1 for r in revisions]


def test_an_instructor_busy_elsewhere_at_the_kept_local_time_is_a_clash(
    app, client, auth, make_centre, make_workshop, make_user, make_baby
):
    """Sessions that keep their local times move in time, as a session moved by hand
    does: one that would then find its instructor teaching at another centre is
    refused as a clash, naming it, with nothing changed, unless staff keep both."""
    centre = make_centre(name="Harbour Rooms", timezone="Europe/London")
    elsewhere = make_centre(name="Sydney Hub", timezone="Australia/Sydney")
    teacher = make_user("teacher@example.org", name="Tess Teacher", role="instructor",
                        centre=centre)
    course = make_workshop(centre=centre, instructor=teacher, sessions=3, title="Course",
                           starts_at=_later_hour(9).replace(hour=10))
    parent = make_user()
    with app.app_context():
        book(parent, make_baby(parent), course)
        first = _sessions(course.id)[0]
        moved_to = to_local(first.starts_at, "Europe/London").replace(tzinfo=None)
    # At Sydney Hub, Tess teaches at the instant 10:00 at Harbour Rooms becomes.
    make_workshop(centre=elsewhere, instructor=teacher, kind="single", title="Drop-in",
                  starts_at=local_to_utc(moved_to + timedelta(minutes=30),
                                         "Australia/Sydney"))
    make_user("staff@example.org", role="staff", centre=centre)
    auth.login("staff@example.org")
    with app.app_context():
        before = [(s.starts_at, s.revision) for s in _sessions(course.id)]
        emails = db.session.scalar(sa.select(sa.func.count(OutboxMessage.id)))
    form = {"name": "Harbour Rooms", "address": "1 High Street", "town": "Bristol",
            "postcode": "BS1 4DJ", "country": "GB", "timezone": "Australia/Sydney",
            "keep_local_times": "y"}
    page = client.post(f"/manage/centres/{centre.id}", data=form)
    assert page.status_code == 409
    text = " ".join(page.text.split())
    assert "Tess Teacher is already teaching \u201cDrop-in\u201d" in text
    assert 'name="allow_clash"' in page.text and "This clashes" in text
    with app.app_context():
        assert db.session.get(Centre, centre.id).timezone == "Europe/London"
        assert [(s.starts_at, s.revision) for s in _sessions(course.id)] == before
        assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == emails

    page = client.post(f"/manage/centres/{centre.id}", data={**form, "allow_clash": "y"},
                       follow_redirects=True)
    assert "keep their local times" in " ".join(page.text.split())
    with app.app_context():
        assert db.session.get(Centre, centre.id).timezone == "Australia/Sydney"
        assert _sessions(course.id)[0].starts_at != before[0][0]
    # A time zone saved without keeping local times moves nothing, so checks nothing.
    with app.app_context():
        saved = centres.update_centre(centre.id, timezone="Europe/London")
        assert not saved.zone_moved.kept_local
