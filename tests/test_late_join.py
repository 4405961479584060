"""Late joining (rule 10): a course can be joined until session `late_join_until` starts."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import Registration, Workshop, WorkshopSession
from booking.services.booking.book import book_place, cancel_registration
from booking.services.errors import Invalid
from booking.services.schedule import sessions
from booking.timefmt import format_local


def started_course(make_workshop, **fields):
    first = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=2)
    return make_workshop(starts_at=first, sessions=4, **fields)


def test_course_can_be_joined_until_the_late_join_session(
    ctx, make_workshop, make_user, make_baby
):
    open_course = started_course(make_workshop, late_join_until=2)
    closed_course = started_course(make_workshop)
    parent = make_user()
    baby = make_baby(parent)
    result = book_place(
        parent_id=parent.id, workshop_id=open_course.id, baby_id=baby.id, consent=True
    )
    assert result.confirmed
    with pytest.raises(Invalid, match="closed"):
        book_place(
            parent_id=parent.id, workshop_id=closed_course.id, baby_id=baby.id, consent=True
        )


def test_waiting_list_is_promoted_only_while_joining_is_open(
    ctx, make_workshop, make_user, make_baby
):
    course = started_course(make_workshop, late_join_until=2, capacity=1)
    first, second = make_user(), make_user()
    holder = book_place(
        parent_id=first.id, workshop_id=course.id, baby_id=make_baby(first).id, consent=True
    ).registration
    waiting = book_place(
        parent_id=second.id, workshop_id=course.id, baby_id=make_baby(second).id, consent=True
    ).registration
    assert waiting.status == "waitlisted"
    cancel_registration(holder.id, actor_id=first.id, on_behalf=True)
    assert db.session.get(Registration, waiting.id).status == "confirmed"


def test_class_page_says_until_when_one_can_join(client, make_workshop):
    course = started_course(make_workshop, late_join_until=3)
    page = client.get(f"/classes/{course.id}").get_data(as_text=True)
    assert "You can still join until week 3 starts" in page
    single = make_workshop(kind="single")
    page = client.get(f"/classes/{single.id}").get_data(as_text=True)
    assert "Booking closes when the class starts" in page


def test_class_page_after_the_cut_off_is_closed(client, app, make_workshop):
    course = started_course(make_workshop, late_join_until=1)
    page = client.get(f"/classes/{course.id}").get_data(as_text=True)
    assert "Booking for this class closed" in page
    with app.app_context():
        assert db.session.get(Workshop, course.id).late_join_until == 1


def test_a_cancelled_late_join_week_does_not_keep_the_course_open(
    ctx, client, make_workshop, make_user, make_baby
):
    """Joining until week 3, and week 3 is cancelled: joining runs until the next week
    that will run, and with none after it, a course whose last session has begun is not
    joined (nor listed)."""
    from booking.services.booking.places import booking_closed_reason, booking_closes_at
    from booking.services.schedule.sessions import cancel_session
    from tests.makeup_helpers import session_of

    course = started_course(make_workshop, late_join_until=3, title="Late joiners")
    week3, week4 = session_of(course, 3), session_of(course, 4)
    cancel_session(week3.id)
    kept = db.session.get(Workshop, course.id)
    assert booking_closes_at(kept) == week4.starts_at
    assert booking_closed_reason(kept) is None
    # Week 4 goes too: week 2 is now the last week that runs, and joining ends as it
    # begins.
    cancel_session(week4.id)
    kept = db.session.get(Workshop, course.id)
    week2 = session_of(course, 2)
    assert booking_closes_at(kept) == week2.starts_at
    later = week2.starts_at + timedelta(minutes=1)
    assert booking_closed_reason(kept, later) is not None


def _listed_everywhere(client, workshop, slug) -> dict[str, bool]:
    """Whether the class is in the public lists: the search, the API, the centre page
    and the embed."""
    href = f"/classes/{workshop.id}\""
    ids = [i["id"] for i in client.get(f"/api/v1/workshops?centre={slug}").get_json()["items"]]
    return {
        "classes": href in client.get(f"/classes?centre={slug}").get_data(as_text=True),
        "api": workshop.id in ids,
        "centre": href in client.get(f"/centres/{slug}").get_data(as_text=True),
        "embed": f"/classes/{workshop.id}" in client.get(f"/embed/centres/{slug}").get_data(
            as_text=True),
    }


@pytest.mark.parametrize(
    "cancelled", ["the late-join week", "the late-join week and all after it", "week 1, now past"]
)
def test_a_course_still_open_to_join_is_listed(ctx, client, make_centre, make_workshop, make_user,
                                               make_baby, cancelled):
    """The lists show a course exactly while booking takes it: joining until week 3 with
    week 3 cancelled runs until week 4; a course whose cancelled week 1 is past starts at
    week 2."""
    from booking.services.schedule.sessions import cancel_session
    from booking.services.schedule.span import refresh_span
    from tests.makeup_helpers import session_of

    centre = make_centre()
    if cancelled.startswith("the late-join week"):
        # Week 1 began two days ago; joining until week 3, and with week 4 cancelled too,
        # until the last week that runs, week 2, starts.
        course = started_course(make_workshop, centre=centre, late_join_until=3)
        cancel_session(session_of(course, 3).id)
        if cancelled.endswith("all after it"):
            cancel_session(session_of(course, 4).id)
    else:
        first = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=5)
        course = make_workshop(centre=centre, starts_at=first - timedelta(weeks=1), sessions=4)
        week1 = session_of(course, 1)
        week1.status = "cancelled"
        refresh_span(db.session.get(Workshop, course.id))
        db.session.commit()
    assert _listed_everywhere(client, course, centre.slug) == dict.fromkeys(
        ("classes", "api", "centre", "embed"), True)
    parent = make_user()
    assert book_place(parent_id=parent.id, workshop_id=course.id, consent=True,
                      baby_id=make_baby(parent).id).confirmed


def test_a_class_under_way_shows_booking_closed_not_places(ctx, client, make_centre,
                                                           make_workshop):
    """Its first session is running and it takes nobody late: the lists (where it stays
    while it runs) say booking has closed, with no places and no Book link."""
    centre = make_centre()
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=20)
    course = make_workshop(centre=centre, starts_at=start, sessions=4, capacity=6)
    embed = client.get(f"/embed/centres/{centre.slug}").get_data(as_text=True)
    search = client.get(f"/classes?centre={centre.slug}").get_data(as_text=True)
    page = client.get(f"/classes/{course.id}").get_data(as_text=True)
    for text in (embed, search, page):
        assert "Booking has closed" in text and "places left" not in text
    assert ">Book<" not in embed


def test_a_family_waiting_for_a_course_under_way_still_sees_its_place_in_line(
    app, client, auth, make_workshop, make_user, make_baby
):
    """Week 1 has run but week 2 can still be joined: the family waiting is shown under
    "Waiting for a place", with its position and the way to leave, not under "Past"."""
    course = started_course(make_workshop, late_join_until=2, capacity=1)
    holder, waiter = make_user(), make_user(email="waiting@example.org")
    with app.app_context():
        book_place(parent_id=holder.id, workshop_id=course.id, baby_id=make_baby(holder).id,
                   consent=True)
        waiting = book_place(parent_id=waiter.id, workshop_id=course.id,
                             baby_id=make_baby(waiter, name="Bea").id, consent=True)
        assert waiting.status == "waitlisted"
    auth.login("waiting@example.org")
    page = client.get("/account/bookings").get_data(as_text=True)
    waiting_part = page[page.index("Waiting for a place"):]
    assert "Number 1 on the waiting list" in waiting_part
    assert f"/account/bookings/{waiting.registration_id}/cancel" in waiting_part
    assert 'id="past-heading"' not in page[:page.index("Number 1 on the waiting list")]


def test_a_late_joiners_confirmation_says_when_they_join_and_that_the_cut_off_passed(
    ctx, make_workshop, make_user, make_baby
):
    """Week 1 ran two days ago: the email does not say the course "starts" on a past
    date, nor promise a cancellation the bookings page refuses."""
    import sqlalchemy as sa

    from booking.mail.deferred import render_notes
    from booking.models import OutboxMessage

    course = started_course(make_workshop, late_join_until=2)
    parent = make_user()
    book_place(parent_id=parent.id, workshop_id=course.id, baby_id=make_baby(parent).id,
               consent=True)
    render_notes()
    db.session.expire_all()
    (message,) = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.subject.startswith("Booking confirmed"))
    ).all()
    text = " ".join(message.body_text.split())
    assert "The course began " in text and "you join from week 2 of 4, " in text
    assert "It starts" not in text
    assert "The cut-off for cancelling (24 hours before the class began) has passed" in text
    assert "You can cancel up to" not in text
    html = " ".join(message.body_html.split())
    assert "you join from week 2 of 4" in html and "has passed" in html


def test_the_class_page_names_the_week_that_closes_joining(app, client, make_workshop):
    """Week 2, the last week to join by, cancelled: the page said "until week 2 starts"
    with week 3's date."""
    course = make_workshop(sessions=4, late_join_until=2)
    with app.app_context():
        week2 = db.session.scalar(sa.select(WorkshopSession).where(
            WorkshopSession.workshop_id == course.id, WorkshopSession.number == 2))
        sessions.cancel_session(week2.id)
        week3 = db.session.scalar(sa.select(WorkshopSession).where(
            WorkshopSession.workshop_id == course.id, WorkshopSession.number == 3))
        when = format_local(week3.starts_at, "Europe/London")
    page = " ".join(client.get(f"/classes/{course.id}").get_data(as_text=True).split())
    assert f"You can still join until week 3 starts: {when}." in page
