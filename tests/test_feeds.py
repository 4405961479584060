"""Calendar feeds over HTTP: public and private feeds, validators, tokens, invites."""

import re

import icalendar
import sqlalchemy as sa
import vobject
from ical.calendar_stream import IcsCalendarStream

from booking.extensions import db
from booking.models import Registration, User, Workshop, WorkshopSession
from booking.models.token import hash_secret


def _parse(text):
    """Parse with all three parsers; return icalendar's VEVENTs."""
    strict = IcsCalendarStream.calendar_from_ics(text)
    loose = vobject.readOne(text)
    cal = icalendar.Calendar.from_ical(text)
    events = list(cal.walk("VEVENT"))
    assert len(strict.events) == len(events) == len(loose.contents.get("vevent", []))
    return cal, events


def _book(app, workshop, parent, baby):
    with app.app_context():
        registration = Registration(
            workshop_id=workshop.id, baby_id=baby.id, parent_id=parent.id, status="confirmed"
        )
        db.session.add(registration)
        db.session.commit()
        return registration.id


def _move_session(app, workshop_id, number, hours=1, cancel=False):
    """Simulate a session move (or cancellation) as the back office would."""
    from datetime import timedelta

    with app.app_context():
        session = db.session.scalar(
            sa.select(WorkshopSession).where(
                WorkshopSession.workshop_id == workshop_id, WorkshopSession.number == number
            )
        )
        session.starts_at += timedelta(hours=hours)
        session.ends_at += timedelta(hours=hours)
        if cancel:
            session.status = "cancelled"
        session.revision += 1
        db.session.commit()
        return session.id


def _private_token(client, auth, email):
    """Log in, create the calendar link through the page and return its token."""
    auth.login(email)
    page = client.get("/account/calendar")
    assert b"Create my calendar link" in page.data
    response = client.post("/account/calendar", follow_redirects=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    match = re.search(r"https://classes\.example\.org/feeds/private/([A-Za-z0-9_-]+)\.ics", html)
    assert match, html
    assert f"webcal://classes.example.org/feeds/private/{match.group(1)}.ics" in html
    return match.group(1)


def test_centre_feed_lists_sessions_with_headers(client, make_centre, make_workshop):
    """A centre's feed: one VEVENT per session, stable UIDs, public caching, metadata."""
    centre = make_centre(slug="riverside", name="Riverside Hub")
    workshop = make_workshop(centre=centre, sessions=5)
    make_workshop(centre=centre, status="draft", title="Secret draft")
    response = client.get("/feeds/centres/riverside.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert response.headers["Content-Disposition"] == 'inline; filename="riverside.ics"'
    assert response.headers["ETag"].startswith('"') and response.last_modified is not None
    text = response.get_data(as_text=True)
    assert "Secret draft" not in text
    cal, events = _parse(text)
    assert str(cal["X-WR-CALNAME"]) == "Baby massage classes at Riverside Hub"
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H" in text
    assert "X-PUBLISHED-TTL:PT1H" in text
    assert len(events) == 5
    assert str(events[1]["SUMMARY"]) == "Baby massage - week 2 of 5"
    assert str(events[0]["UID"]).startswith("session-") and str(events[0]["UID"]).endswith(
        "@classes.example.org"
    )
    assert f"https://classes.example.org/classes/{workshop.id}" in str(events[0]["DESCRIPTION"])
    assert "Riverside Hub" in str(events[0]["LOCATION"])
    assert all(e["STATUS"] == "CONFIRMED" for e in events)


def test_feed_is_byte_identical_and_304(client, make_workshop, make_centre):
    """Two requests give the same bytes; If-None-Match gives 304, If-Modified-Since
    alone never does (a class leaving the feed changes none of its dates)."""
    centre = make_centre(slug="stable")
    make_workshop(centre=centre)
    first = client.get("/feeds/centres/stable.ics")
    second = client.get("/feeds/centres/stable.ics")
    assert first.data == second.data
    assert first.headers["ETag"] == second.headers["ETag"]
    etag = first.headers["ETag"]
    cached = client.get("/feeds/centres/stable.ics", headers={"If-None-Match": etag})
    assert cached.status_code == 304
    assert cached.data == b""
    assert cached.headers["ETag"] == etag
    stale = client.get("/feeds/centres/stable.ics", headers={"If-None-Match": '"other"'})
    assert stale.status_code == 200
    since = client.get(
        "/feeds/centres/stable.ics",
        headers={"If-Modified-Since": first.headers["Last-Modified"]},
    )
    assert since.status_code == 200 and since.data == first.data


def test_a_class_leaving_a_feed_is_never_answered_304(app, client, make_workshop,
                                                       make_centre):
    """Unpublishing a class changes no date of the classes still in the centre's feed:
    a client asking If-Modified-Since alone is sent the feed again, without the class."""
    from booking.services.schedule.edit import unpublish_workshop

    centre = make_centre(slug="leaving")
    make_workshop(centre=centre, title="Stays")
    leaving = make_workshop(centre=centre, title="Leaves", starts_in_days=3)
    first = client.get("/feeds/centres/leaving.ics")
    assert "Leaves" in first.get_data(as_text=True)
    with app.app_context():
        unpublish_workshop(leaving.id)
    again = client.get(
        "/feeds/centres/leaving.ics",
        headers={"If-Modified-Since": first.headers["Last-Modified"]},
    )
    assert again.status_code == 200
    assert "Leaves" not in again.get_data(as_text=True)
    assert again.headers["ETag"] != first.headers["ETag"]


def test_a_new_address_reaches_clients_that_go_by_last_modified(app, client, make_workshop,
                                                                 make_centre):
    """The centre moves: its events' LOCATION changes while their sessions do not. An
    event carries no LAST-MODIFIED that would stay put, so no client keeps the old one."""
    from booking.services.catalogue.centres import update_centre

    centre = make_centre(slug="moving")
    make_workshop(centre=centre)
    first = client.get("/feeds/centres/moving.ics").get_data(as_text=True)
    with app.app_context():
        update_centre(centre.id, address="99 New Road", postcode="BS2 0AA")
    second = client.get("/feeds/centres/moving.ics").get_data(as_text=True)
    _, before = _parse(first)
    _, after = _parse(second)
    assert "99 New Road" not in str(before[0]["LOCATION"])
    assert "99 New Road" in str(after[0]["LOCATION"])
    assert all("LAST-MODIFIED" not in event for event in before + after)


def test_moved_and_cancelled_sessions_keep_uid_and_raise_sequence(
    app, client, make_workshop, make_centre
):
    """A move changes the time and SEQUENCE under the same UID; a cancel stays, CANCELLED."""
    centre = make_centre(slug="moves")
    workshop = make_workshop(centre=centre, sessions=3)
    before = client.get("/feeds/centres/moves.ics")
    _, old = _parse(before.get_data(as_text=True))
    _move_session(app, workshop.id, 2, hours=2)
    _move_session(app, workshop.id, 3, hours=0, cancel=True)
    after = client.get(
        "/feeds/centres/moves.ics", headers={"If-None-Match": before.headers["ETag"]}
    )
    assert after.status_code == 200
    assert after.headers["ETag"] != before.headers["ETag"]
    _, new = _parse(after.get_data(as_text=True))
    assert [e["UID"] for e in new] == [e["UID"] for e in old]
    assert new[1]["SEQUENCE"] == 1 and old[1]["SEQUENCE"] == 0
    shift = new[1].decoded("DTSTART") - old[1].decoded("DTSTART")
    assert shift.total_seconds() == 2 * 3600
    assert new[2]["STATUS"] == "CANCELLED" and new[2]["SEQUENCE"] == 1
    assert new[0]["STATUS"] == "CONFIRMED" and new[0]["SEQUENCE"] == 0


def test_unknown_feeds_are_404_with_one_message(client, make_centre, make_user):
    """Unknown slug, unpublished centre, non-instructor, bad id, bad token: same 404."""
    make_centre(slug="hidden", published=False)
    parent = make_user(role="parent")
    bodies = set()
    for path in (
        "/feeds/centres/nope.ics",
        "/feeds/centres/hidden.ics",
        f"/feeds/instructors/{parent.id}.ics",
        "/feeds/instructors/999999.ics",
        "/feeds/instructors/abc.ics",
        "/feeds/private/not-a-token.ics",
        "/feeds/private/" + "A" * 43 + ".ics",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        bodies.add(response.get_data(as_text=True))
    assert len(bodies) == 1
    assert "no calendar feed at this address" in bodies.pop()


def test_instructor_feed_has_no_personal_data(
    app, client, make_centre, make_user, make_workshop, make_baby
):
    """An instructor's public feed lists their sessions but no parents or babies."""
    centre = make_centre()
    teacher = make_user(role="instructor", centre=centre, name="Mo Teacher")
    workshop = make_workshop(centre=centre, instructor=teacher, sessions=2)
    make_workshop(centre=centre, sessions=1)  # someone else's
    parent = make_user(email="secret.parent@example.org", name="Secret Parent")
    _book(app, workshop, parent, make_baby(parent, name="Zebedee"))
    response = client.get(f"/feeds/instructors/{teacher.id}.ics")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Zebedee" not in text and "secret.parent" not in text and "booked" not in text
    _, events = _parse(text)
    assert len(events) == 2


def test_private_parent_feed_and_reset(
    app, client, auth, make_user, make_workshop, make_baby
):
    """A parent's feed holds their confirmed bookings with the baby's name; reset kills it."""
    parent = make_user(email="parent@example.org")
    mine = make_workshop(sessions=2, title="Colic clinic")
    other = make_workshop(sessions=1, title="Not booked")
    _book(app, mine, parent, make_baby(parent, name="Ada"))
    token = _private_token(client, auth, "parent@example.org")
    with app.app_context():
        stored = db.session.get(User, parent.id).feed_token_hash
    assert stored == hash_secret(token) and token not in stored
    assert len(token) >= 43
    # Shown again, the same link, on every visit.
    assert f"/feeds/private/{token}.ics" in client.get("/account/calendar").get_data(as_text=True)
    response = client.get(f"/feeds/private/{token}.ics")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, max-age=0"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    text = response.get_data(as_text=True)
    assert other.title not in text
    _, events = _parse(text)
    assert [str(e["SUMMARY"]) for e in events] == [
        "Colic clinic - week 1 of 2 (Ada)",
        "Colic clinic - week 2 of 2 (Ada)",
    ]
    reset = client.post("/account/calendar/reset", follow_redirects=True)
    assert b"The old link no longer works" in reset.data
    assert client.get(f"/feeds/private/{token}.ics").status_code == 404
    new_token = re.search(r"/feeds/private/([A-Za-z0-9_-]+)\.ics", reset.get_data(as_text=True))
    assert new_token and new_token.group(1) != token
    assert client.get(f"/feeds/private/{new_token.group(1)}.ics").status_code == 200


def test_private_feed_changes_when_booking_cancelled(
    app, client, auth, make_user, make_workshop, make_baby
):
    """Cancelling a booking changes the private feed's ETag and removes its sessions."""
    parent = make_user(email="p2@example.org")
    registration_id = _book(app, make_workshop(sessions=2), parent, make_baby(parent))
    token = _private_token(client, auth, "p2@example.org")
    first = client.get(f"/feeds/private/{token}.ics")
    with app.app_context():
        registration = db.session.get(Registration, registration_id)
        registration.status = "cancelled"
        db.session.commit()
    second = client.get(
        f"/feeds/private/{token}.ics", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert second.status_code == 200
    _, events = _parse(second.get_data(as_text=True))
    assert events == []


def test_private_feed_changes_when_a_baby_is_renamed(
    app, client, auth, make_user, make_workshop, make_baby
):
    """Renaming a baby changes the private feed's ETag even when the names' count,
    lengths, first and last stay the same; If-Modified-Since alone is no 304 either."""
    from booking.models import Baby

    parent = make_user(email="p3@example.org")
    workshop = make_workshop(sessions=1, title="Calm baby")
    babies = [make_baby(parent, name=name) for name in ("Ada", "Eve", "Zoe")]
    for baby in babies:
        _book(app, workshop, parent, baby)
    token = _private_token(client, auth, "p3@example.org")
    first = client.get(f"/feeds/private/{token}.ics")
    assert "(Ada and Eve and Zoe)" in first.get_data(as_text=True)
    same = client.get(
        f"/feeds/private/{token}.ics", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert same.status_code == 304
    with app.app_context():
        db.session.get(Baby, babies[1].id).name = "Fay"
        db.session.commit()
    second = client.get(
        f"/feeds/private/{token}.ics", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert second.status_code == 200
    assert second.headers["ETag"] != first.headers["ETag"]
    assert "(Ada and Fay and Zoe)" in second.get_data(as_text=True)
    by_date = client.get(
        f"/feeds/private/{token}.ics",
        headers={"If-Modified-Since": first.headers["Last-Modified"]},
    )
    assert by_date.status_code == 200


def test_private_instructor_feed_shows_numbers_booked(
    app, client, auth, make_centre, make_user, make_workshop, make_baby
):
    """An instructor's private feed shows how many places are booked."""
    centre = make_centre()
    teacher = make_user(email="teach@example.org", role="instructor", centre=centre)
    workshop = make_workshop(centre=centre, instructor=teacher, sessions=1, capacity=6)
    with app.app_context():
        db.session.get(Workshop, workshop.id).confirmed_count = 3
        db.session.commit()
    token = _private_token(client, auth, "teach@example.org")
    text = client.get(f"/feeds/private/{token}.ics").get_data(as_text=True)
    _, events = _parse(text)
    assert len(events) == 1
    assert "3 booked of 6 places" in str(events[0]["DESCRIPTION"])
    assert str(events[0]["SUMMARY"]).startswith("Teaching: ")


def test_calendar_page_needs_login_and_post(client, auth, make_user):
    """The calendar page needs a login, and a GET never creates a link."""
    assert client.get("/account/calendar").status_code == 302
    assert client.post("/account/calendar").status_code == 302
    user = make_user(email="looker@example.org")
    auth.login("looker@example.org")
    client.get("/account/calendar")
    client.get("/account/calendar")
    assert client.get("/account/calendar/reset").status_code == 405
    with client.application.app_context():
        assert db.session.get(User, user.id).feed_token_hash is None


def test_booking_invite_download(app, client, auth, make_user, make_workshop, make_baby):
    """A parent downloads their own booking's calendar file; others get 404."""
    parent = make_user(email="own@example.org")
    stranger = make_user(email="stranger@example.org")
    registration_id = _book(app, make_workshop(sessions=3), parent, make_baby(parent))
    auth.login("stranger@example.org")
    assert client.get(f"/account/bookings/{registration_id}/invite.ics").status_code == 404
    auth.logout()
    auth.login("own@example.org")
    response = client.get(f"/account/bookings/{registration_id}/invite.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    cal, events = _parse(response.get_data(as_text=True))
    assert cal["METHOD"] == "PUBLISH"
    assert len(events) == 3
    assert client.get("/account/bookings/999999/invite.ics").status_code == 404
    assert stranger.id != parent.id


def test_private_instructor_feed_follows_what_they_teach(
    app, client, auth, make_centre, make_user, make_workshop
):
    """A class given to an instructor joins their private feed at once (a new ETag), and
    one they no longer teach, or all of them once they stop being an instructor, leave it."""
    from booking.models import Membership

    centre = make_centre()
    teacher = make_user(email="mo@example.org", role="instructor", centre=centre)
    first_class = make_workshop(centre=centre, instructor=teacher, sessions=1, title="Calm baby")
    other = make_user(role="instructor", centre=centre)
    second_class = make_workshop(centre=centre, instructor=other, sessions=1, title="Tummy time")
    token = _private_token(client, auth, "mo@example.org")
    path = f"/feeds/private/{token}.ics"
    first = client.get(path)
    assert "Teaching: Calm baby" in first.get_data(as_text=True)
    assert "Tummy time" not in first.get_data(as_text=True)
    with app.app_context():
        db.session.get(Workshop, second_class.id).instructor_id = teacher.id
        db.session.commit()
    given = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert given.status_code == 200
    assert "Teaching: Tummy time" in given.get_data(as_text=True)
    with app.app_context():
        db.session.get(Workshop, first_class.id).instructor_id = other.id
        db.session.commit()
    taken = client.get(path, headers={"If-None-Match": given.headers["ETag"]})
    assert taken.status_code == 200
    assert "Calm baby" not in taken.get_data(as_text=True)
    with app.app_context():
        db.session.execute(sa.delete(Membership).where(Membership.user_id == teacher.id))
        db.session.commit()
    stopped = client.get(path, headers={"If-None-Match": taken.headers["ETag"]})
    assert stopped.status_code == 200
    text = stopped.get_data(as_text=True)
    assert "Tummy time" not in text and "classes you teach" not in text
    _, events = _parse(text)
    assert events == []


def test_a_private_feed_changed_while_rendering_is_not_kept(
    app, client, auth, make_user, make_workshop, make_baby, monkeypatch
):
    """The parent's own rows are read again after rendering: text rendered after a baby
    was renamed is not kept under the ETag of the old name, so when the old name comes
    back, so does its text (not the name it had meanwhile)."""
    from booking.calendar import feeds
    from booking.models import Baby

    parent = make_user(email="p4@example.org")
    baby = make_baby(parent, name="Ada")
    _book(app, make_workshop(sessions=1, title="Calm baby"), parent, baby)
    token = _private_token(client, auth, "p4@example.org")
    render_feed = feeds.render_feed

    def rename(name):
        with app.app_context():
            db.session.get(Baby, baby.id).name = name
            db.session.commit()

    def rename_then_render(source):
        # After the ETag was worked out for "Ada", in the request's own session (on
        # SQLite another session's commit would not be seen by this read).
        db.session.get(Baby, baby.id).name = "Bea"
        db.session.commit()
        return render_feed(source)

    monkeypatch.setattr(feeds, "render_feed", rename_then_render)
    assert "(Bea)" in client.get(f"/feeds/private/{token}.ics").get_data(as_text=True)
    monkeypatch.setattr(feeds, "render_feed", render_feed)
    rename("Ada")
    again = client.get(f"/feeds/private/{token}.ics").get_data(as_text=True)
    assert "(Ada)" in again and "(Bea)" not in again
