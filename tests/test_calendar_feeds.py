"""Feed content checked by three independent parsers: daylight saving, nasty text, history."""

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
import sqlalchemy as sa
import vobject
from ical.calendar_stream import IcsCalendarStream

from booking.calendar import feeds
from booking.extensions import db
from booking.models import Registration, Workshop, WorkshopSession
from booking.services.notices.invites import invite_for_registration
from booking.timefmt import local_to_utc


def _next_transition(tz_name: str, month: int) -> date:
    """The next day (after a week from now) in `month` on which the zone's offset changes."""
    tz = ZoneInfo(tz_name)
    day = date.today() + timedelta(days=8)
    while True:
        if day.month == month:
            before = datetime.combine(day, time(0), tz).utcoffset()
            after = datetime.combine(day + timedelta(days=1), time(0), tz).utcoffset()
            if before != after:
                return day
        day += timedelta(days=1)


def _weekly_local(app, workshop_id: int, first_local: datetime, tz_name: str) -> None:
    """Put the course's sessions weekly at the same local wall-clock time."""
    with app.app_context():
        sessions = db.session.scalars(
            sa.select(WorkshopSession)
            .where(WorkshopSession.workshop_id == workshop_id)
            .order_by(WorkshopSession.number)
        ).all()
        for i, session in enumerate(sessions):
            start = local_to_utc(first_local + timedelta(weeks=i), tz_name)
            session.starts_at = start
            session.ends_at = start + timedelta(hours=1)
        db.session.commit()


def _starts_by_parser(text: str) -> list[list[datetime]]:
    """Every event's start as a UTC instant, once per parser."""
    ical_events = IcsCalendarStream.calendar_from_ics(text).events
    vobj = vobject.readOne(text).contents.get("vevent", [])
    icalendar_events = icalendar.Calendar.from_ical(text).walk("VEVENT")
    return [
        [e.dtstart.astimezone(UTC) for e in ical_events],
        [e.dtstart.value.astimezone(UTC) for e in vobj],
        [e.decoded("DTSTART").astimezone(UTC) for e in icalendar_events],
    ]


@pytest.mark.parametrize(
    ("tz_name", "month"),
    [
        ("Europe/London", 3),
        ("Europe/London", 10),
        ("Australia/Sydney", 4),
        ("Australia/Sydney", 10),
    ],
)
def test_weekly_course_keeps_local_time_across_dst(
    app, client, make_centre, make_workshop, tz_name, month
):
    """10:00 local every week, while the UTC instant shifts by an hour at the change."""
    change = _next_transition(tz_name, month)
    centre = make_centre(slug="dst", timezone=tz_name)
    workshop = make_workshop(centre=centre, sessions=2)
    first_local = datetime.combine(change - timedelta(days=3), time(10, 0))
    _weekly_local(app, workshop.id, first_local, tz_name)
    text = client.get("/feeds/centres/dst.ics").get_data(as_text=True)
    tz = ZoneInfo(tz_name)
    for starts in _starts_by_parser(text):
        assert len(starts) == 2
        assert [s.astimezone(tz).time() for s in starts] == [time(10, 0), time(10, 0)]
        gap = starts[1] - starts[0]
        assert gap != timedelta(weeks=1)
        assert abs(gap - timedelta(weeks=1)) == timedelta(hours=1)
    assert "DTSTART:" in text and "TZID" not in text  # instants in UTC with Z


NASTY_CENTRE = 'The "Nest", Hub; Room 1\nBack door 🙂'
LONG_WORD = "Supercalifragilistic" * 10  # 200 characters


def _nasty(app, make_centre, make_workshop, make_user=None):
    centre = make_centre(
        slug="nasty",
        name=NASTY_CENTRE,
        address=f"Flat 2, 10 Long Road; {LONG_WORD}",
        town="Bath, Somerset",
    )
    return make_workshop(
        centre=centre,
        sessions=2,
        title="Massage; colic, wind 👶\\ and sleep",
        what_to_bring=f"Towel, oil; a blanket\nand {LONG_WORD}",
    )


def _assert_nasty_round_trip(text: str, workshop: Workshop) -> None:
    for line in text.split("\r\n"):
        assert len(line.encode("utf-8")) <= 75
    ical_event = IcsCalendarStream.calendar_from_ics(text).events[0]
    vobj_event = vobject.readOne(text).vevent
    event = icalendar.Calendar.from_ical(text).walk("VEVENT")[0]
    summary = f"{workshop.title} - week 1 of 2"
    assert ical_event.summary == vobj_event.summary.value == str(event["SUMMARY"])
    assert str(event["SUMMARY"]).startswith(summary)
    location = str(event["LOCATION"])
    assert location.startswith(NASTY_CENTRE + ", Flat 2, 10 Long Road; " + LONG_WORD)
    assert ical_event.location == vobj_event.location.value == location
    description = str(event["DESCRIPTION"])
    assert f"Towel, oil; a blanket\nand {LONG_WORD}" in description
    assert ical_event.description == vobj_event.description.value == description


def _unescape_text(raw: str) -> str:
    """RFC 5545 TEXT unescaping, for properties a parser hands back raw."""
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), raw)


def test_nasty_text_is_escaped_and_folded_in_feeds(app, client, make_centre, make_workshop):
    """Commas, semicolons, newlines, emoji and a 200-character word survive all parsers."""
    workshop = _nasty(app, make_centre, make_workshop)
    response = client.get("/feeds/centres/nasty.ics")
    text = response.get_data(as_text=True)
    _assert_nasty_round_trip(text, workshop)
    name = f"Baby massage classes at {NASTY_CENTRE}"
    cal = icalendar.Calendar.from_ical(text)
    # icalendar 7 reads X- and RFC 7986 properties back raw: unescape them as TEXT.
    assert _unescape_text(str(cal["X-WR-CALNAME"])) == name
    assert _unescape_text(str(cal["NAME"])) == name
    assert vobject.readOne(text).x_wr_calname.value == name
    assert IcsCalendarStream.calendar_from_ics(text).name == [name]
    assert "X-WR-CALNAME:Baby massage classes at The \"Nest\"\\, Hub\\; Room 1\\nBack" in text


def test_nasty_text_in_invites(app, make_centre, make_workshop, make_user, make_baby):
    """Invites escape the same text, and CN parameters with commas are quoted."""
    workshop = _nasty(app, make_centre, make_workshop)
    parent = make_user(email="odd@example.org", name='Jo "JJ" Smith, Jr; 🙂')
    baby = make_baby(parent, name="Bee")
    with app.app_context():
        registration = Registration(
            workshop_id=workshop.id, baby_id=baby.id, parent_id=parent.id, status="confirmed"
        )
        db.session.add(registration)
        db.session.commit()
        text = invite_for_registration(registration)
    _assert_nasty_round_trip(text, workshop)
    event = icalendar.Calendar.from_ical(text).walk("VEVENT")[0]
    organizer_cn = "The 'Nest', Hub; Room 1 Back door 🙂"
    attendee_cn = "Jo 'JJ' Smith, Jr; 🙂"
    assert event["ORGANIZER"].params["CN"] == organizer_cn
    assert event["ATTENDEE"].params["CN"] == attendee_cn
    assert str(event["ATTENDEE"]) == "mailto:odd@example.org"
    vevent = vobject.readOne(text).vevent
    assert vevent.organizer.params["CN"] == [organizer_cn]
    assert vevent.attendee.params["CN"] == [attendee_cn]
    strict = IcsCalendarStream.calendar_from_ics(text).events[0]
    assert strict.organizer.common_name == organizer_cn
    assert strict.attendees[0].common_name == attendee_cn


def test_feed_keeps_cancelled_history_and_drops_old_sessions(
    app, client, make_centre, make_workshop
):
    """Cancelled published workshops stay (CANCELLED); sessions long past drop out."""
    centre = make_centre(slug="history")
    cancelled = make_workshop(centre=centre, sessions=2, status="cancelled", title="Called off")
    make_workshop(centre=centre, sessions=1, starts_in_days=-(feeds.PAST_DAYS + 5), title="Old")
    make_workshop(centre=centre, sessions=1, starts_in_days=-3, title="Recent")
    text = client.get("/feeds/centres/history.ics").get_data(as_text=True)
    events = icalendar.Calendar.from_ical(text).walk("VEVENT")
    titles = sorted(str(e["SUMMARY"]) for e in events)
    assert titles == ["Called off - week 1 of 2", "Called off - week 2 of 2", "Recent"]
    for event in events:
        if str(event["SUMMARY"]).startswith("Called off"):
            assert event["STATUS"] == "CANCELLED"
            assert "cancelled" in str(event["DESCRIPTION"])
    assert cancelled.id


def test_a_draft_cancelled_stays_hidden(app, client, make_centre, make_workshop, make_user):
    """A class never shown to the public is not shown when it is cancelled either: not
    on its page, in the read API or in the centre's and instructor's feeds (a draft's
    title reached every subscriber as a cancelled event); one cancelled after it was
    published is still there, marked cancelled."""
    from booking.services.schedule.edit import cancel_workshop

    centre = make_centre(slug="drafts")
    teacher = make_user(role="instructor", centre=centre)
    draft = make_workshop(centre=centre, sessions=2, status="draft", title="Secret pilot",
                          instructor=teacher)
    shown = make_workshop(centre=centre, sessions=1, title="Called off", instructor=teacher)
    with app.app_context():
        cancel_workshop(draft.id, "Not going ahead")
        cancel_workshop(shown.id, "Instructor unwell")
    assert client.get(f"/classes/{draft.id}").status_code == 404
    assert client.get(f"/api/v1/workshops/{draft.id}").status_code == 404
    assert client.get(f"/classes/{shown.id}").status_code == 200
    for feed in ("/feeds/centres/drafts.ics", f"/feeds/instructors/{teacher.id}.ics"):
        text = client.get(feed).get_data(as_text=True)
        assert "Secret pilot" not in text, feed
        assert "SUMMARY:Called off" in text and "STATUS:CANCELLED" in text, feed


def test_feed_version_needs_no_rendering_and_follows_changes(app, make_centre, make_workshop):
    """The ETag changes when a session, workshop or centre changes, and only then."""
    centre = make_centre(slug="versions")
    workshop = make_workshop(centre=centre, sessions=2)
    with app.app_context():
        source = feeds.centre_feed("versions")
        first = feeds.feed_version(source)
        assert feeds.feed_version(feeds.centre_feed("versions")) == first
        db.session.get(Workshop, workshop.id).what_to_bring = "Just yourselves"
        db.session.commit()
        second = feeds.feed_version(feeds.centre_feed("versions"))
        assert second.etag != first.etag
        session = db.session.scalar(
            sa.select(WorkshopSession).where(WorkshopSession.workshop_id == workshop.id)
        )
        session.room = "Garden room"
        session.revision += 1
        db.session.commit()
        third = feeds.feed_version(feeds.centre_feed("versions"))
        assert third.etag not in (first.etag, second.etag)
        assert third.last_modified >= second.last_modified
        assert "Garden room" in feeds.render_feed(source)
        assert feeds.centre_feed("nope") is None


def test_unpublished_centre_hidden_from_instructor_feed(
    app, client, make_centre, make_user, make_workshop
):
    """An instructor's public feed leaves out classes at unpublished centres."""
    shown = make_centre(slug="shown")
    hidden = make_centre(slug="hidden-centre", published=False)
    teacher = make_user(role="instructor", centre=shown)
    make_workshop(centre=shown, instructor=teacher, sessions=1, title="Visible class")
    make_workshop(centre=hidden, instructor=teacher, sessions=1, title="Hidden class")
    text = client.get(f"/feeds/instructors/{teacher.id}.ics").get_data(as_text=True)
    assert "Visible class" in text and "Hidden class" not in text


def test_an_empty_feed_still_holds_a_component(client, make_centre):
    """RFC 5545 wants at least one component in a calendar: a feed with no class yet
    holds the UTC zone its events' times would be in, and parses everywhere."""
    make_centre(slug="new-hub")
    text = client.get("/feeds/centres/new-hub.ics").get_data(as_text=True)
    assert "BEGIN:VEVENT" not in text
    assert "BEGIN:VTIMEZONE\r\nTZID:UTC\r\n" in text
    icalendar.Calendar.from_ical(text)
    IcsCalendarStream.calendar_from_ics(text)
    vobject.readOne(text)
