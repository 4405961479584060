"""A feed's events are written without building icalendar components (`event_text`):
the bytes must be exactly what the library writes for the same event, whatever the text
(escapes, folding across multi-byte characters, a backslash at a fold)."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import icalendar
import pytest
import sqlalchemy as sa
from icalendar.parser import Contentline

from booking.calendar import feeds
from booking.calendar.build import (
    escape_text,
    event_text,
    fold_line,
    new_calendar,
    session_event,
    session_uid,
    to_text,
)
from booking.extensions import db
from booking.models import WorkshopSession
from booking.models.workshop import CANCELLED, PUBLISHED

START = datetime(2027, 3, 28, 0, 30, 5, 123456, tzinfo=UTC)

LONG = "x" * 72
TEXTS = [
    "Baby massage",
    "",
    "Commas, semicolons; and a back\\slash",
    "Line one\nline two\r\nline three\rline four and \\N literal",
    LONG + "\\tail",  # a backslash just before the 75th octet moves to the next line
    LONG + "a\\b",
    LONG + "^^caret" * 9,
    "Zoë's café, Ångström Straße " * 6,
    "おやすみ赤ちゃん " * 12,  # three octets each: folds between characters
    "🙂 baby 👶 " * 15,  # four octets each
    "x" * 73 + "é" + "y" * 80,  # a two-octet character across the fold
    "a" * 300,
]


def _objects(text: str, *, cancelled_session=False, status=PUBLISHED, room="", course=True):
    centre = SimpleNamespace(name=f"Centre {text}"[:120], full_address=f"1 Road, {text}"[:200])
    workshop = SimpleNamespace(
        id=42, title=text or "Untitled", status=status, is_course=course,
        what_to_bring=text,
    )
    session = SimpleNamespace(
        id=7, number=2, is_cancelled=cancelled_session, room=room, plan_title=text[:90],
        starts_at=START, ends_at=START + timedelta(hours=1),
        updated_at=START - timedelta(days=3),
    )
    return session, workshop, centre


def _both(session, workshop, centre, **kwargs) -> tuple[str, str]:
    kwargs = {"total": 5, "uid": "session-7@example.org", "sequence": 3,
              "stamp": START - timedelta(days=1), **kwargs}
    fast = event_text(session, workshop, centre, **kwargs)
    library = session_event(session, workshop, centre, **kwargs).to_ical().decode("utf-8")
    return fast, library


@pytest.mark.parametrize("text", TEXTS)
def test_event_text_is_what_the_library_writes(app, text):
    with app.app_context():
        for options in (
            {},
            {"cancelled_session": True, "room": text},
            {"status": CANCELLED, "course": False},
        ):
            session, workshop, centre = _objects(text, **options)
            for extra in (None, [text, "3 booked of 12 places."]):
                fast, library = _both(session, workshop, centre, summary=text or None,
                                      extra=extra)
                assert fast == library
                assert fast.startswith("BEGIN:VEVENT\r\n")
                assert fast.endswith("END:VEVENT\r\n")
            fast, library = _both(session, workshop, centre, cancelled=True)
            assert fast == library


@pytest.mark.parametrize("text", TEXTS)
def test_escape_and_fold_match_the_library(text):
    if "\\N" not in text:  # the library alone reads a backslash before N as a line break
        assert escape_text(text) == icalendar.vText(text).to_ical().decode("utf-8")
    read_back = icalendar.Event.from_ical(
        f"BEGIN:VEVENT\r\nSUMMARY:{escape_text(text)}\r\nEND:VEVENT\r\n"
    )["SUMMARY"]
    assert str(read_back) == text.replace("\r\n", "\n").replace("\r", "\n")
    line = f"DESCRIPTION:{escape_text(text)}"
    assert fold_line(line) == Contentline(line).to_ical().decode("utf-8")
    for physical in fold_line(line).split("\r\n"):
        assert len(physical.encode("utf-8")) <= 75


def test_a_feed_is_the_same_bytes_as_one_built_from_components(app, make_centre,
                                                                make_workshop):
    """The whole feed, against a calendar built with icalendar's components and
    serialised by the library (events placed by it, not spliced in)."""
    centre = make_centre(name="Zoë's; place, with commas", timezone="Europe/London")
    make_workshop(centre, title="Baby massage " + "long title " * 8,
                  what_to_bring="A towel, oil; and a \\ blanket")
    make_workshop(centre, kind="single", title="Drop-in")
    with app.test_request_context():
        source = feeds.centre_feed(centre.slug)
        fast = feeds.render_feed(source)
        events = feeds._sessions(source)
        cal = new_calendar(source.name, source.description, feed=True)
        cal.add("x-wr-timezone", source.timezone)
        for session, workshop, place in events:
            cal.add_component(session_event(
                session, workshop, place, total=db.session.scalar(sa.select(sa.func.count()).where(
                    WorkshopSession.workshop_id == workshop.id)),
                uid=session_uid(session.id), sequence=session.revision,
                stamp=session.updated_at,
            ))
        assert fast == to_text(cal)
    assert fast.count("BEGIN:VEVENT") == 5
    parsed = icalendar.Calendar.from_ical(fast)
    assert [e["summary"] for e in parsed.walk("VEVENT")][0].startswith("Baby massage long")


def test_a_backslash_before_an_n_is_kept_in_feeds_and_invites(app):
    """A room "Block A\\North wing": the library alone would write a line break and
    lose the N."""
    text = "Block A\\North wing, \\Nursery"
    with app.app_context():
        session, workshop, centre = _objects(text, room=text)
        fast, library = _both(session, workshop, centre, summary=text)
        assert fast == library
        event = icalendar.Event.from_ical(fast)
        assert str(event["SUMMARY"]) == text
        assert f"Room: {text}" in str(event["LOCATION"])


def test_an_emailed_invite_keeps_a_line_separator_inside_its_value():
    """U+2028 in a description (a multi-line field) is a character, not a line end: the
    emailed invite keeps it inside the value, where every parser reads it."""
    from booking.mail.message import Outgoing, build_message

    ics = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//x//EN\r\nBEGIN:VEVENT\r\n"
        "UID:1@example.org\r\nDTSTAMP:20270101T000000Z\r\n"
        "DESCRIPTION:Bring a towel\u2028(and a spare)\r\nEND:VEVENT\r\nEND:VCALENDAR\n"
    )
    item = Outgoing(id=1, recipient="p@example.org", subject="s", body_text="t",
                    body_html="", ics=ics, ics_method="REQUEST",
                    created_at=START)
    message = build_message(item, "Classes <classes@example.org>")
    part = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    data = part.get_payload(decode=True).decode("utf-8")
    assert "\r\n(and a spare)" not in data and data.endswith("END:VCALENDAR\r\n")
    assert "\n" not in data.replace("\r\n", "")
    event = icalendar.Calendar.from_ical(data).walk("VEVENT")[0]
    assert str(event["DESCRIPTION"]) == "Bring a towel\u2028(and a spare)"
