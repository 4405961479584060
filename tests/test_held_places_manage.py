"""Staff pages for held places, referral codes and workshop topics, through real forms."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import ReferralCode, Workshop, workshop_topic
from booking.services.booking import referrals
from booking.services.booking.book import book_place
from booking.services.schedule import edit, sessions
from booking.services.schedule.queries import workshop_sessions


@pytest.fixture
def world(make_centre, make_user, make_workshop):
    """A centre with staff and a workshop of 4 places; staff of another centre."""
    centre = make_centre(name="Riverside Hub")
    other = make_centre(name="Hilltop Clinic")
    staff = make_user("staff@example.org", role="staff", centre=centre)
    make_user("other@example.org", role="staff", centre=other)
    workshop = make_workshop(centre=centre, capacity=4, starts_in_days=14)
    return {"centre": centre, "staff": staff, "workshop": workshop}


def reload(app, workshop_id):
    with app.app_context():
        w = db.session.get(Workshop, workshop_id)
        db.session.expunge(w)
        return w


def release_date():
    return (datetime.now(UTC) + timedelta(days=7)).date().isoformat()


def test_staff_hold_places_and_create_codes_shown_once(app, client, auth, world):
    w = world["workshop"]
    auth.login("staff@example.org")
    page = client.get(f"/manage/workshops/{w.id}/referrals")
    assert page.status_code == 200 and b"Held places and referral codes" in page.data
    # A place held while its family pays counts as taken, and is not called confirmed.
    assert f"0 of {w.capacity} taken (confirmed, or held while a family pays)" in page.text
    response = client.post(
        f"/manage/workshops/{w.id}/held-places",
        data={"held_places": "2", "held_until_date": release_date(), "held_until_time": "18:00"},
    )
    assert response.status_code == 302
    saved = reload(app, w.id)
    assert saved.held_places == 2 and saved.held_until is not None and saved.places_left == 2
    response = client.post(
        f"/manage/workshops/{w.id}/referrals",
        data={"count": "2", "label": "Health visitor team North"},
    )
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    codes = re.findall(r"<code>([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})</code>",
                       response.get_data(as_text=True))
    assert len(codes) == 2
    listing = client.get(f"/manage/workshops/{w.id}/referrals").get_data(as_text=True)
    assert "Health visitor team North" in listing
    assert codes[0] not in listing and codes[0][:4] in listing


def test_bad_held_places_are_refused_next_to_the_field(app, client, auth, world):
    w = world["workshop"]
    auth.login("staff@example.org")
    response = client.post(
        f"/manage/workshops/{w.id}/held-places",
        data={"held_places": "9", "held_until_date": release_date()},
    )
    assert response.status_code == 422
    assert b"At most 4 places can be held" in response.data
    response = client.post(f"/manage/workshops/{w.id}/held-places", data={"held_places": "1"})
    assert response.status_code == 422 and b"Give a date" in response.data
    response = client.post(f"/manage/workshops/{w.id}/held-places", data={"held_places": "x"})
    assert response.status_code == 422
    # More digits than a number here has (a float could not even hold 1 and 309 zeros).
    for number in ("1" + "0" * 15, "1" + "0" * 309):
        response = client.post(f"/manage/workshops/{w.id}/held-places",
                               data={"held_places": number, "held_until_date": release_date()})
        assert response.status_code == 422 and b"That number is too large." in response.data
        response = client.post(f"/manage/workshops/{w.id}/referrals", data={"count": number})
        assert response.status_code == 422 and b"That number is too large." in response.data
    assert reload(app, w.id).held_places == 0


@pytest.mark.parametrize("zone", ["Europe/London", "America/New_York", "Europe/Paris"])
def test_dates_outside_the_years_kept_are_refused_not_a_server_error(
    app, client, auth, make_centre, make_user, make_workshop, zone
):
    centre = make_centre(timezone=zone)
    make_user("far@example.org", role="staff", centre=centre)
    w = make_workshop(centre=centre, capacity=4, starts_in_days=14)
    auth.login("far@example.org")
    for day, clock in (("9999-12-31", "23:59"), ("0001-01-01", "00:00")):
        for held in ("2", "0"):
            response = client.post(
                f"/manage/workshops/{w.id}/held-places",
                data={"held_places": held, "held_until_date": day, "held_until_time": clock},
            )
            assert response.status_code == 422, (day, held)
            assert b"Release date must be a date between the years 1970 and 2999" in (
                response.data
            )
    if zone == "America/New_York":
        # The last minute of 2999 there is in 3000 in UTC: refused by the service.
        response = client.post(
            f"/manage/workshops/{w.id}/held-places",
            data={"held_places": "2", "held_until_date": "2999-12-31", "held_until_time": "23:59"},
        )
        assert response.status_code == 422
        assert b"The release time must be a date between the years 1970 and 2999" in (
            response.data
        )
    saved = reload(app, w.id)
    assert saved.held_places == 0 and saved.held_until is None
    # With places held, a code's last day is held to the same years.
    client.post(
        f"/manage/workshops/{w.id}/held-places",
        data={"held_places": "2", "held_until_date": release_date(), "held_until_time": "9:00"},
    )
    response = client.post(
        f"/manage/workshops/{w.id}/referrals", data={"count": "1", "expires_on": "9999-12-31"}
    )
    assert response.status_code == 422
    assert b"Valid until must be a date between the years 1970 and 2999" in response.data
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ReferralCode.id))) == 0


def test_the_service_refuses_release_times_outside_the_years_kept(ctx, world):
    w = world["workshop"]
    for year in (1, 9999):
        when = datetime(year, 6, 1, 9, tzinfo=UTC)
        with pytest.raises(referrals.Invalid) as caught:
            referrals.set_held_places(w.id, 0, when)
        assert "between the years 1970 and 2999" in caught.value.fields["held_until"]
    referrals.set_held_places(w.id, 2, datetime.now(UTC) + timedelta(days=3))
    with pytest.raises(referrals.Invalid) as caught:
        referrals.create_codes(w.id, expires_at=datetime(9999, 1, 1, tzinfo=UTC))
    assert "between the years 1970 and 2999" in caught.value.fields["expires_at"]


def test_a_release_time_after_bookings_close_is_refused(app, client, auth, world):
    """Held places released once no one can book any more would never go public."""
    w = world["workshop"]  # first session in 14 days, at Europe/London
    auth.login("staff@example.org")
    first = w.first_starts_at.astimezone(UTC)
    page = client.get(f"/manage/workshops/{w.id}/referrals").get_data(as_text=True)
    assert "move up, before bookings close (" in page
    for day, clock in (
        ((first + timedelta(days=1)).date().isoformat(), "09:00"),
        ((first + timedelta(days=60)).date().isoformat(), "09:00"),
    ):
        response = client.post(
            f"/manage/workshops/{w.id}/held-places",
            data={"held_places": "2", "held_until_date": day, "held_until_time": clock},
        )
        assert response.status_code == 422, day
        assert b"The release time must be before bookings close" in response.data
    saved = reload(app, w.id)
    assert saved.held_places == 0 and saved.held_until is None
    # The day before the class starts is fine, and so is no release time when no
    # unclaimed place is held.
    day_before = (first - timedelta(days=1)).date().isoformat()
    response = client.post(
        f"/manage/workshops/{w.id}/held-places",
        data={"held_places": "2", "held_until_date": day_before, "held_until_time": "09:00"},
    )
    assert response.status_code == 302
    assert reload(app, w.id).held_places == 2


def test_the_release_time_may_run_to_the_late_join_session(ctx, make_workshop):
    """With late joining up to week 3, bookings close when week 3 starts."""
    w = make_workshop(capacity=4, starts_in_days=3, late_join_until=3)
    first = w.first_starts_at
    referrals.set_held_places(w.id, 2, first + timedelta(days=8))  # before week 3
    with pytest.raises(referrals.Invalid) as caught:
        referrals.set_held_places(w.id, 2, first + timedelta(days=14))  # week 3 itself
    assert "before bookings close" in caught.value.fields["held_until"]
    # Dropping every held place needs no release time at all, and one given then is not
    # kept: the page would announce a release that never comes.
    referrals.set_held_places(w.id, 0, first + timedelta(days=30))
    assert db.session.get(Workshop, w.id).held_until is None


def test_a_release_left_after_a_sooner_close_is_brought_forward(ctx, make_workshop):
    """Late joining cut from week 3 to week 1, or week 3 moved to the first week's day
    after: the release goes to 48 hours before the new close, never later."""
    w = make_workshop(capacity=4, starts_in_days=10, late_join_until=3)
    first = w.first_starts_at
    referrals.set_held_places(w.id, 2, first + timedelta(days=8))  # week 3 closes
    edit.update_workshop(w.id, late_join_until=1)
    assert db.session.get(Workshop, w.id).held_until == first - timedelta(hours=48)
    # Back to week 3 and a release after week 2; then week 3 moved to before it.
    edit.update_workshop(w.id, late_join_until=3)
    referrals.set_held_places(w.id, 2, first + timedelta(days=9))
    third = workshop_sessions(w.id)[2]
    new_start = (first + timedelta(days=8, hours=3)).astimezone(UTC).replace(tzinfo=None)
    sessions.move_session(third.id, new_start)
    kept = db.session.get(Workshop, w.id)
    closes = workshop_sessions(w.id)[2].starts_at
    assert closes < first + timedelta(days=9)
    assert kept.held_until == closes - timedelta(hours=48)
    # A release well before the close is left as it was.
    referrals.set_held_places(w.id, 2, first - timedelta(days=3))
    edit.update_workshop(w.id, late_join_until=1)
    assert db.session.get(Workshop, w.id).held_until == first - timedelta(days=3)


def test_once_bookings_closed_no_place_can_be_held_for_release(ctx, make_workshop):
    """Any release time is too late then: the message says so, not "in the future"."""
    started = make_workshop(capacity=4, starts_at=datetime.now(UTC).replace(
        minute=0, second=0, microsecond=0) - timedelta(days=1))
    for when in (datetime.now(UTC) - timedelta(hours=1), datetime.now(UTC) + timedelta(days=1)):
        with pytest.raises(referrals.Invalid) as caught:
            referrals.set_held_places(started.id, 2, when)
        assert "Bookings closed" in caught.value.fields["held_places"]
        assert "hold at most the 0 already claimed" in caught.value.fields["held_places"]


def test_codes_need_held_places_and_can_be_revoked(app, client, auth, world):
    w = world["workshop"]
    auth.login("staff@example.org")
    response = client.post(f"/manage/workshops/{w.id}/referrals", data={"count": "1"})
    assert response.status_code == 422 and b"Hold some places first" in response.data
    client.post(
        f"/manage/workshops/{w.id}/held-places",
        data={"held_places": "1", "held_until_date": release_date()},
    )
    assert client.post(f"/manage/workshops/{w.id}/referrals", data={"count": "1"}).status_code \
        == 201
    with app.app_context():
        code_id = db.session.scalar(sa.select(ReferralCode.id))
    response = client.post(f"/manage/workshops/{w.id}/referrals/{code_id}/revoke")
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(ReferralCode, code_id).revoked_at is not None
    assert b"Revoked" in client.get(f"/manage/workshops/{w.id}/referrals").data
    assert client.post(f"/manage/workshops/{w.id}/referrals/999999/revoke").status_code == 404


def test_other_centres_staff_and_parents_cannot_see_codes(app, client, auth, world, make_user):
    w = world["workshop"]
    auth.login("other@example.org")
    assert client.get(f"/manage/workshops/{w.id}/referrals").status_code == 404
    assert client.post(f"/manage/workshops/{w.id}/referrals", data={"count": "1"}).status_code \
        == 404
    auth.logout()
    make_user("parent@example.org")
    auth.login("parent@example.org")
    assert client.get(f"/manage/workshops/{w.id}/referrals").status_code == 403
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ReferralCode.id))) == 0


def test_staff_change_a_workshops_topics(app, client, auth, world):
    w = world["workshop"]
    auth.login("staff@example.org")
    assert client.get(f"/manage/workshops/{w.id}/topics").status_code == 200
    response = client.post(f"/manage/workshops/{w.id}/topics",
                           data={"topics": ["twins", "premature"]})
    assert response.status_code == 302
    with app.app_context():
        rows = db.session.scalars(
            sa.select(workshop_topic.c.topic).where(workshop_topic.c.workshop_id == w.id)
        )
        assert sorted(rows) == ["premature", "twins"]
    response = client.post(f"/manage/workshops/{w.id}/topics", data={"topics": ["astrology"]})
    assert response.status_code == 422
    assert client.post(f"/manage/workshops/{w.id}/topics", data={}).status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(workshop_topic)) == 0


def test_manage_workshop_page_links_to_held_places(client, auth, world):
    auth.login("staff@example.org")
    page = client.get(f"/manage/workshops/{world['workshop'].id}").get_data(as_text=True)
    assert f"/manage/workshops/{world['workshop'].id}/referrals" in page
    assert f"/manage/workshops/{world['workshop'].id}/topics" in page


def test_used_code_shows_its_booking(app, client, auth, world, make_user, make_baby):
    w = world["workshop"]
    with app.app_context():
        referrals.set_held_places(w.id, 1, datetime.now(UTC) + timedelta(days=3))
        code = referrals.create_codes(w.id, label="Family workers")[0].code
    parent = make_user("mum@example.org")
    baby = make_baby(parent)
    auth.login("mum@example.org")
    response = client.post(
        f"/classes/{w.id}/book",
        data={"baby_id": str(baby.id), "consent": "y", "referral_code": code},
    )
    assert response.status_code == 302
    auth.logout()
    auth.login("staff@example.org")
    page = client.get(f"/manage/workshops/{w.id}/referrals").get_data(as_text=True)
    assert "Used" in page and "booking " in page


def test_release_time_names_its_zone_once(app, client, auth, world):
    """'14:00 GMT', never '14:00 GMT GMT'."""
    from booking.timefmt import format_local

    w = world["workshop"]
    auth.login("staff@example.org")
    client.post(
        f"/manage/workshops/{w.id}/held-places",
        data={"held_places": "1", "held_until_date": release_date(), "held_until_time": "14:00"},
    )
    saved = reload(app, w.id)
    page = client.get(f"/manage/workshops/{w.id}/referrals").get_data(as_text=True)
    shown = re.search(r"go to the public at ([^<]+)</dd>", page).group(1).strip()
    assert shown == format_local(saved.held_until, "Europe/London")
    assert shown.endswith(("14:00 GMT", "14:00 BST"))


def test_held_places_make_the_staff_overview_full_as_the_public_page_does(
    app, client, auth, world, make_user, make_baby
):
    """Two of four places booked and two held for referrals: the public sees 'Full', and
    so does the staff overview, not a class with room to spare."""
    w = world["workshop"]
    with app.app_context():
        for name in ("Ada", "Bea"):
            parent = make_user()
            baby = make_baby(parent, name=name)
            book_place(parent_id=parent.id, workshop_id=w.id, baby_id=baby.id, consent=True)
        referrals.set_held_places(w.id, 2, datetime.now(UTC) + timedelta(days=7))
    public = client.get("/").get_data(as_text=True)
    assert re.search(r'<span class="badge full">Full\b', public)
    assert "place left" not in public and "places left" not in public
    auth.login("staff@example.org")
    overview = client.get("/manage").get_data(as_text=True)
    assert '<span class="badge full">Full</span> 2 of 4 booked · 2 held for referrals' in overview


def test_capacity_cannot_crowd_out_the_places_held(ctx, make_workshop, make_user, make_baby):
    """Rule 11: 2 confirmed and 2 held of 4. Capacity 3 would leave a referred family's
    code unusable and the public count below zero: refused; 4 stays."""
    from booking.services.booking import waitlist
    from booking.services.errors import CapacityRefused

    w = make_workshop(capacity=4, starts_in_days=10)
    for _ in range(2):
        parent = make_user()
        book_place(parent_id=parent.id, workshop_id=w.id, baby_id=make_baby(parent).id,
                   consent=True)
    referrals.set_held_places(w.id, 2, w.first_starts_at - timedelta(days=3))
    with pytest.raises(CapacityRefused) as caught:
        waitlist.change_capacity(w.id, 3)
    assert "2 more are held for referrals" in caught.value.message
    assert db.session.get(Workshop, w.id).capacity == 4


def test_capacity_cannot_go_below_a_minimum_still_to_reach(ctx, make_workshop):
    """Rule 12: a class that needs 6 to run, with capacity 4, could never run."""
    from booking.services.booking import waitlist
    from booking.services.errors import CapacityRefused

    w = make_workshop(capacity=8, starts_in_days=10, min_places=6)
    with pytest.raises(CapacityRefused) as caught:
        waitlist.change_capacity(w.id, 4)
    assert "needs 6 places confirmed to run" in caught.value.message
    waitlist.change_capacity(w.id, 6)
    assert db.session.get(Workshop, w.id).capacity == 6
