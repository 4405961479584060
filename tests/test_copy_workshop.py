"""Run again: a workshop, or a whole term, copied to new dates as drafts (service and pages)."""

import re
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from booking.db import write_transaction
from booking.extensions import db
from booking.models import (
    Absence,
    Membership,
    ReferralCode,
    Registration,
    User,
    Workshop,
    WorkshopSession,
    workshop_topic,
)
from booking.services.accounts import api_tokens
from booking.services.booking import referrals
from booking.services.booking.book import book_place
from booking.services.booking.places import booking_closes_at
from booking.services.errors import Invalid
from booking.services.schedule import copy as copy_service
from booking.services.schedule.clashes import Clash
from booking.services.schedule.create import create_workshop
from booking.timefmt import to_local

LONDON = "Europe/London"


def weekday_on_or_after(day: date, weekday: int) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def autumn_tuesday() -> date:
    """A Tuesday in mid October next year: four weekly sessions span the end of BST."""
    return weekday_on_or_after(date(date.today().year + 1, 10, 10), 1)


def spring_tuesday() -> date:
    """A Tuesday in late March after that: four weekly sessions span the start of BST."""
    return weekday_on_or_after(date(date.today().year + 2, 3, 18), 1)


def local_starts(app, workshop_id):
    with app.app_context():
        return [
            to_local(s.starts_at, LONDON).replace(tzinfo=None)
            for s in db.session.scalars(
                sa.select(WorkshopSession)
                .where(WorkshopSession.workshop_id == workshop_id)
                .order_by(WorkshopSession.number)
            )
        ]


def count_workshops(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Workshop))


@pytest.fixture
def world(app, make_centre, make_user):
    """A London centre with staff and an instructor; another centre with its own staff."""
    centre = make_centre(name="Riverside Hub", timezone=LONDON)
    other = make_centre(name="Hilltop Clinic")
    make_user("staff@example.org", role="staff", centre=centre)
    make_user("other@example.org", role="staff", centre=other)
    parent = make_user("parent@example.org")
    teacher = make_user("teacher@example.org", name="Tess Teacher", role="instructor",
                        centre=centre)
    return {"centre": centre, "other": other, "teacher": teacher, "parent": parent}


def make_course(app, world, first_day, *, title="Baby massage", sessions=4, hour=10, **extra):
    """A course through create_workshop, its sessions at `hour` local time from first_day."""
    fields = {
        "centre_id": world["centre"].id,
        "instructor_id": world["teacher"].id,
        "kind": "course",
        "title": title,
        "first_session_local": datetime.combine(first_day, time(hour)),
        "sessions": sessions,
        "duration_minutes": 75,
        "capacity": 10,
        "min_age_weeks": 8,
        "price": Decimal("60.00"),
        "room": "Room 1",
        "publish": True,
        **extra,
    }
    fields.setdefault("max_age_weeks", 30)
    with app.app_context():
        with write_transaction():
            workshop = create_workshop(**fields, allow_clash=True)
        return workshop.id


def cancel_week(workshop_id: int, number: int) -> None:
    """Mark one week of a workshop cancelled, directly (the copy is what is tested)."""
    db.session.execute(
        sa.update(WorkshopSession)
        .where(WorkshopSession.workshop_id == workshop_id, WorkshopSession.number == number)
        .values(status="cancelled")
    )
    db.session.commit()


@pytest.fixture
def source(app, world, make_baby):
    """A published course in October with everything a copy keeps, and everything it
    leaves behind: bookings (one with a referral code), attendance, codes, counters."""
    workshop_id = make_course(
        app,
        world,
        autumn_tuesday(),
        description="Strokes for wind and sleep.",
        what_to_bring="A towel.",
        topics=("colic", "sleep"),
        min_places=3,
        held_places=2,
        late_join_until=2,
        cancellation_cutoff_hours=48,
        refund_fee="5.00",
        max_age_weeks=156,
        plan="four-week-course",
    )
    with app.app_context():
        sessions = db.session.scalars(
            sa.select(WorkshopSession)
            .where(WorkshopSession.workshop_id == workshop_id)
            .order_by(WorkshopSession.number)
        ).all()
        sessions[1].room = "Garden room"
        sessions[1].plan_title = "Week 2, our own way"
        sessions[1].ends_at = sessions[1].starts_at + timedelta(minutes=90)
        sessions[0].revision = 3
        sessions[0].absences = 1
        db.session.commit()
        code = referrals.create_codes(
            workshop_id, count=1, expires_at=datetime.now(UTC) + timedelta(days=30)
        )[0].code
    parent = world["parent"]
    for name, referral in (("Ada", code), ("Bea", None)):
        baby = make_baby(parent, name=name, age_weeks=10)
        with app.app_context():
            book_place(parent_id=parent.id, workshop_id=workshop_id, baby_id=baby.id,
                       consent=True, referral_code=referral)
    with app.app_context():
        workshop = db.session.get(Workshop, workshop_id)
        assert (workshop.confirmed_count, workshop.held_claimed) == (2, 1)
        # Paid by a deposit (set by hand: online payment is not set up in these tests).
        workshop.payment_mode, workshop.deposit = "deposit", 1500
        db.session.commit()
    return workshop_id


# --- the service ---------------------------------------------------------------------------


def test_copy_keeps_settings_plans_topics_and_is_a_draft(app, source):
    new_first = spring_tuesday()
    with app.app_context():
        copy = copy_service.copy_workshop(source, new_first)
        copy_id = copy.id
        old, new = db.session.get(Workshop, source), db.session.get(Workshop, copy_id)
        assert new.status == "draft" and new.id != old.id
        same = (
            "centre_id", "instructor_id", "kind", "title", "description", "what_to_bring",
            "capacity", "min_age_weeks", "max_age_weeks", "price", "payment_mode", "deposit",
            "refund_fee", "cancellation_cutoff_hours", "min_places", "held_places",
            "late_join_until", "plan_template",
        )
        assert {n: getattr(new, n) for n in same} == {n: getattr(old, n) for n in same}
        assert new.plan_template == "four-week-course" and new.payment_mode == "deposit"
        first = new.first_starts_at
        assert new.decision_at == first - timedelta(hours=48)
        assert new.held_until == first - timedelta(hours=48)
        assert (new.confirmed_count, new.held_claimed, new.run_confirmed) == (0, 0, False)
        topics = set(db.session.scalars(
            sa.select(workshop_topic.c.topic).where(workshop_topic.c.workshop_id == copy_id)
        ))
        assert topics == {"colic", "sleep"}
        pairs = list(zip(
            db.session.scalars(sa.select(WorkshopSession).where(
                WorkshopSession.workshop_id == source).order_by(WorkshopSession.number)),
            db.session.scalars(sa.select(WorkshopSession).where(
                WorkshopSession.workshop_id == copy_id).order_by(WorkshopSession.number)),
            strict=True,
        ))
        for old_s, new_s in pairs:
            assert (new_s.plan_title, new_s.plan_covers, new_s.plan_practice, new_s.room) == (
                old_s.plan_title, old_s.plan_covers, old_s.plan_practice, old_s.room)
            assert new_s.ends_at - new_s.starts_at == old_s.ends_at - old_s.starts_at
            assert (new_s.revision, new_s.absences, new_s.makeups_taken) == (0, 0, 0)
            assert new_s.status == "scheduled"
        assert pairs[1][1].plan_title == "Week 2, our own way"
        assert pairs[1][1].room == "Garden room"
        assert pairs[0][1].plan_title and pairs[0][1].plan_practice


def test_a_copy_holds_the_places_staff_set_after_the_unclaimed_were_released(app, source):
    """Two places held, one claimed with a code; the other goes to the public when the
    hold ends. Running the course again holds two again, not the one that was left."""
    with app.app_context():
        workshop = db.session.get(Workshop, source)
        release_at = workshop.held_until
        db.session.rollback()
        assert referrals.release_held_places(now=release_at + timedelta(minutes=1)) == 1
        db.session.expire_all()
        old = db.session.get(Workshop, source)
        assert (old.held_places, old.held_claimed, old.held_set) == (1, 1, 2)
        copy = copy_service.copy_workshop(source, spring_tuesday())
        assert (copy.held_places, copy.held_set, copy.held_claimed) == (2, 2, 0)
        assert copy.held_until == copy.first_starts_at - timedelta(hours=48)
        assert copy.places_left == copy.capacity - 2


def test_held_places_set_by_staff_are_remembered_as_set(app, source):
    with app.app_context():
        workshop = db.session.get(Workshop, source)
        until = workshop.held_until
        db.session.rollback()
        changed = referrals.set_held_places(source, 3, until)
        assert (changed.held_places, changed.held_set) == (3, 3)


def test_nothing_of_the_bookings_is_copied(app, source):
    with app.app_context():
        copy_id = copy_service.copy_workshop(source, spring_tuesday()).id
        for model in (Registration, ReferralCode):
            assert db.session.scalar(
                sa.select(sa.func.count()).select_from(model).where(model.workshop_id == copy_id)
            ) == 0
        assert db.session.scalar(
            sa.select(sa.func.count()).select_from(Absence)
            .join(WorkshopSession, WorkshopSession.id == Absence.session_id)
            .where(WorkshopSession.workshop_id == copy_id)
        ) == 0
        # the original is untouched
        old = db.session.get(Workshop, source)
        assert (old.confirmed_count, old.held_claimed, old.status) == (2, 1, "published")


def test_local_times_survive_the_clock_changes(app, source):
    """October (across the end of BST) to late March (across its start): 10:00 stays 10:00."""
    old = local_starts(app, source)
    assert [s.time() for s in old] == [time(10)] * 4
    new_first = spring_tuesday()
    with app.app_context():
        copy_id = copy_service.copy_workshop(source, new_first).id
        utc_hours = {
            s.starts_at.astimezone(UTC).hour
            for s in db.session.scalars(
                sa.select(WorkshopSession).where(WorkshopSession.workshop_id == copy_id)
            )
        }
    new = local_starts(app, copy_id)
    assert [s.date() for s in new] == [new_first + timedelta(weeks=i) for i in range(4)]
    assert [s.time() for s in new] == [time(10)] * 4
    assert utc_hours == {9, 10}  # GMT before the change, BST after it


def test_cancelled_sessions_stay_behind_and_a_copy_of_a_copy_works(app, world):
    first = date.today() + timedelta(days=10)
    workshop_id = make_course(app, world, first, sessions=5, late_join_until=5)
    with app.app_context():
        cancel_week(workshop_id, 2)
        copy = copy_service.copy_workshop(workshop_id, first + timedelta(weeks=10))
        assert copy.late_join_until == 4  # only four sessions in the copy
        again = copy_service.copy_workshop(copy.id, first + timedelta(weeks=20))
        again_id = again.id
    days = [s.date() for s in local_starts(app, again_id)]
    base = first + timedelta(weeks=20)
    assert days == [base, base + timedelta(weeks=2), base + timedelta(weeks=3),
                    base + timedelta(weeks=4)]


@pytest.mark.parametrize(
    ("new_first", "words"),
    [
        (date.today() - timedelta(days=7), "in the future"),
        (date.today(), "in the future"),
        (date(3000, 1, 6), "between the years"),
        (date(2999, 12, 24), "outside the years"),  # its last sessions would be in 3000
    ],
)
def test_dates_in_the_past_or_out_of_range_are_refused(app, world, new_first, words):
    workshop_id = make_course(app, world, date.today() + timedelta(days=3), hour=0)
    before = count_workshops(app)
    with app.app_context(), pytest.raises(Invalid) as refused:
        copy_service.copy_workshop(workshop_id, new_first)
    assert words in refused.value.fields["first_date"]
    assert count_workshops(app) == before


def test_minimum_numbers_need_time_to_decide_and_twins_are_refused(app, world):
    first = date.today() + timedelta(days=10)
    workshop_id = make_course(app, world, first, min_places=2)
    with app.app_context():
        with pytest.raises(Invalid) as refused:
            copy_service.copy_workshop(workshop_id, date.today() + timedelta(days=1))
        assert "48 hours" in refused.value.fields["first_date"]
        later = first + timedelta(weeks=8)
        copy_service.copy_workshop(workshop_id, later)
        with pytest.raises(Invalid) as refused:
            copy_service.copy_workshop(workshop_id, later, allow_clash=True)
        assert "already starts" in refused.value.fields["first_date"]


def test_held_places_need_their_release_time_still_ahead(app, world):
    """Unclaimed held places go public 48 hours before the first session: a class (or a
    copy) starting sooner than that would hold places already released, and its codes
    could not be made. Refused, naming why; nothing is written."""
    first = date.today() + timedelta(days=10)
    workshop_id = make_course(app, world, first, held_places=2)
    before = count_workshops(app)
    with app.app_context():
        with pytest.raises(Invalid) as refused:
            copy_service.copy_workshop(workshop_id, date.today() + timedelta(days=1))
        assert "held for referrals" in refused.value.fields["first_date"]
    with pytest.raises(Invalid) as refused:
        make_course(app, world, date.today() + timedelta(days=1), title="Soon", held_places=2)
    assert "more than 48 hours away" in refused.value.fields["held_places"]
    assert count_workshops(app) == before


def test_late_joining_names_the_same_session_in_the_copy(app, world):
    """Joining until week 3 of 4, week 2 cancelled: the copy has no week 2, so its old
    week 3 is its week 2, and joining runs until that one starts, as before."""
    first = date.today() + timedelta(days=10)
    workshop_id = make_course(app, world, first, sessions=4, late_join_until=3)
    with app.app_context():
        cancel_week(workshop_id, 2)
        copy = copy_service.copy_workshop(workshop_id, first + timedelta(weeks=10))
        assert copy.late_join_until == 2
        third = db.session.scalar(
            sa.select(WorkshopSession.starts_at).where(
                WorkshopSession.workshop_id == copy.id, WorkshopSession.number == 2
            )
        )
        assert booking_closes_at(copy) == third
        assert third - copy.first_starts_at == timedelta(weeks=2)


def test_a_clash_is_refused_unless_staff_keep_both(app, world):
    first = date.today() + timedelta(days=10)
    workshop_id = make_course(app, world, first)
    target = first + timedelta(weeks=8)
    # Another class in Room 1 in the copy's third week.
    make_course(app, world, target + timedelta(weeks=2), title="Baby yoga", sessions=1,
                kind="single")
    before = count_workshops(app)
    with app.app_context():
        with pytest.raises(Clash) as refused:
            copy_service.copy_workshop(workshop_id, target)
        assert "Baby yoga" in refused.value.message
        assert refused.value.found[0].busy.number == 3
    assert count_workshops(app) == before
    with app.app_context():
        copy = copy_service.copy_workshop(workshop_id, target, allow_clash=True)
        assert copy.status == "draft"
    assert count_workshops(app) == before + 1


def test_a_term_is_copied_all_or_nothing(app, world, make_workshop):
    start = date.today() + timedelta(days=14)
    a = make_course(app, world, start, title="Monday course")
    b = make_course(app, world, start + timedelta(days=2), title="Wednesday course", hour=14)
    make_course(app, world, start + timedelta(days=40), title="Later course")  # outside
    cancelled = make_workshop(centre=world["centre"], instructor=world["teacher"],
                              status="cancelled", starts_in_days=15)
    with app.app_context():
        plans = copy_service.plan_term(world["centre"].id, start, start + timedelta(days=7), 13)
        assert [p.source.id for p in plans] == [a, b]
        assert cancelled.id not in [p.source.id for p in plans]
    # A class in the Wednesday copy's room and time stops the whole term...
    make_course(app, world, start + timedelta(days=2, weeks=13), title="Blocker", sessions=2,
                hour=14)
    before = count_workshops(app)
    with app.app_context(), pytest.raises(Clash) as refused:
        copy_service.copy_term(world["centre"].id, start, start + timedelta(days=7), 13)
    assert "Blocker" in refused.value.message
    assert count_workshops(app) == before
    # ...unless staff keep both; then both are copied, 13 weeks on, as drafts.
    with app.app_context():
        copies = copy_service.copy_term(
            world["centre"].id, start, start + timedelta(days=7), 13, allow_clash=True
        )
        ids = [c.id for c in copies]
        assert [c.title for c in copies] == ["Monday course", "Wednesday course"]
        assert {c.status for c in copies} == {"draft"}
    assert count_workshops(app) == before + 2
    assert local_starts(app, ids[0])[0] == datetime.combine(start + timedelta(weeks=13),
                                                            time(10))


def test_a_term_with_one_bad_copy_copies_nothing(app, world, make_workshop):
    """A workshop that started three weeks ago, moved one week on, would be in the past."""
    make_workshop(centre=world["centre"], instructor=world["teacher"], starts_in_days=-21)
    make_course(app, world, date.today() + timedelta(days=3), title="Soon")
    before = count_workshops(app)
    with app.app_context(), pytest.raises(Invalid) as refused:
        copy_service.copy_term(
            world["centre"].id, date.today() - timedelta(days=30), date.today() + timedelta(days=5),
            1,
        )
    assert "in the future" in refused.value.fields["weeks_later"]
    assert count_workshops(app) == before


# --- the pages -----------------------------------------------------------------------------


def test_run_again_page_previews_then_copies(app, client, auth, world):
    first = date.today() + timedelta(days=10)
    workshop_id = make_course(app, world, first, sessions=3)
    auth.login("staff@example.org")
    page = client.get(f"/manage/workshops/{workshop_id}")
    assert f"/manage/workshops/{workshop_id}/copy" in page.get_data(as_text=True)
    page = client.get(f"/manage/workshops/{workshop_id}/copy")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    suggested = first + timedelta(weeks=3)  # same weekday, the week after the last session
    assert f'value="{suggested.isoformat()}"' in html
    assert "The copy’s sessions" in html and html.count("10:00") >= 3
    target = first + timedelta(weeks=6)
    before = count_workshops(app)
    preview = client.post(f"/manage/workshops/{workshop_id}/copy",
                          data={"first_date": target.isoformat(), "preview": "1"})
    assert preview.status_code == 200 and count_workshops(app) == before
    assert target.strftime("%-d %b %Y") in preview.get_data(as_text=True)
    done = client.post(f"/manage/workshops/{workshop_id}/copy",
                       data={"first_date": target.isoformat()})
    assert done.status_code == 302 and count_workshops(app) == before + 1
    new_page = client.get(done.headers["Location"])
    text = new_page.get_data(as_text=True)
    assert "Copied as a draft: check it, then publish" in text and "Draft" in text


@pytest.mark.parametrize(
    "value",
    ["", "next tuesday", "2026-02-30", "3000-01-01",
     (date.today() - timedelta(days=1)).isoformat()],
)
def test_run_again_page_refuses_bad_dates(app, client, auth, world, value):
    workshop_id = make_course(app, world, date.today() + timedelta(days=10))
    auth.login("staff@example.org")
    before = count_workshops(app)
    response = client.post(f"/manage/workshops/{workshop_id}/copy", data={"first_date": value})
    assert response.status_code == 422
    assert 'class="error"' in response.get_data(as_text=True)
    assert count_workshops(app) == before


def test_run_again_page_names_the_clash_and_keeps_both_when_ticked(app, client, auth, world):
    first = date.today() + timedelta(days=10)
    workshop_id = make_course(app, world, first, sessions=2)
    target = first + timedelta(weeks=5)
    make_course(app, world, target, title="Baby yoga", sessions=1, kind="single")
    auth.login("staff@example.org")
    page = client.get(f"/manage/workshops/{workshop_id}/copy?x=1")
    assert page.status_code == 200
    before = count_workshops(app)
    refused = client.post(f"/manage/workshops/{workshop_id}/copy",
                          data={"first_date": target.isoformat()})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 409 and count_workshops(app) == before
    assert "Baby yoga" in html and 'name="allow_clash"' in html and "keep both" in html
    kept = client.post(f"/manage/workshops/{workshop_id}/copy",
                       data={"first_date": target.isoformat(), "allow_clash": "y"})
    assert kept.status_code == 302 and count_workshops(app) == before + 1


def test_copy_term_pages(app, client, auth, world):
    start = date.today() + timedelta(days=14)
    make_course(app, world, start, title="Monday course")
    make_course(app, world, start + timedelta(days=1), title="Tuesday course", hour=14)
    centre_id = world["centre"].id
    auth.login("staff@example.org")
    assert client.get(f"/manage/centres/{centre_id}/copy-term").status_code == 200
    form = {"date_from": start.isoformat(), "date_to": (start + timedelta(days=6)).isoformat(),
            "weeks_later": "12"}
    before = count_workshops(app)
    preview = client.post(f"/manage/centres/{centre_id}/copy-term", data={**form, "preview": "1"})
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200 and count_workshops(app) == before
    assert "2 workshops would be copied" in text and "Tuesday course" in text
    done = client.post(f"/manage/centres/{centre_id}/copy-term", data=form)
    assert done.status_code == 302 and count_workshops(app) == before + 2
    result = client.get(done.headers["Location"])
    html = result.get_data(as_text=True)
    assert "Copied 2 workshops as drafts" in html
    ids = re.findall(r'href="/manage/workshops/(\d+)"', html)
    assert len(ids) == 2
    with app.app_context():
        assert {db.session.get(Workshop, int(i)).status for i in ids} == {"draft"}
    bad = client.get(f"/manage/centres/{centre_id}/copy-term/done?ids=1,x")
    assert bad.status_code == 400
    for ids in ("2147483648", "1,999999999999", "0"):  # a 500 on PostgreSQL beyond 2^31
        bad = client.get(f"/manage/centres/{centre_id}/copy-term/done?ids={ids}")
        assert bad.status_code == 400, ids


@pytest.mark.parametrize(
    "change",
    [{"weeks_later": "0"}, {"weeks_later": "lots"}, {"weeks_later": "999"},
     {"date_from": "2026-13-01"}, {"date_to": ""}, {"date_from": "3001-01-01"},
     {"date_from": "2030-02-01", "date_to": "2030-01-01"}],
)
def test_copy_term_page_refuses_bad_input(app, client, auth, world, change):
    make_course(app, world, date.today() + timedelta(days=14))
    auth.login("staff@example.org")
    form = {"date_from": date.today().isoformat(),
            "date_to": (date.today() + timedelta(days=30)).isoformat(), "weeks_later": "12",
            **change}
    before = count_workshops(app)
    response = client.post(f"/manage/centres/{world['centre'].id}/copy-term", data=form)
    assert response.status_code == 422
    assert 'class="error"' in response.get_data(as_text=True)
    assert count_workshops(app) == before


def test_only_staff_of_the_centre_may_copy(app, client, auth, world):
    workshop_id = make_course(app, world, date.today() + timedelta(days=10))
    centre_id = world["centre"].id
    target = (date.today() + timedelta(weeks=10)).isoformat()
    urls = [f"/manage/workshops/{workshop_id}/copy", f"/manage/centres/{centre_id}/copy-term",
            f"/manage/centres/{centre_id}/copy-term/done?ids={workshop_id}"]
    anonymous = client.get(urls[0])
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    before = count_workshops(app)
    for email, status in (("other@example.org", 404), ("parent@example.org", 403),
                          ("teacher@example.org", 403)):
        auth.login(email)
        for url in urls:
            assert client.get(url).status_code == status, (email, url)
        assert client.post(urls[0], data={"first_date": target}).status_code == status
        assert client.post(urls[1], data={"date_from": target, "date_to": target,
                                          "weeks_later": "2"}).status_code == status
        auth.logout()
    assert count_workshops(app) == before
    missing = client.get("/manage/workshops/999999/copy")
    assert missing.status_code == 302  # logged out: to the login page first


def test_copy_pages_are_valid_html(app, client, auth, world):
    from tests.html_checker import html_errors

    start = date.today() + timedelta(days=14)
    workshop_id = make_course(app, world, start)
    make_course(app, world, start + timedelta(weeks=6), title="Blocker", sessions=1,
                kind="single")
    auth.login("staff@example.org")
    centre_id = world["centre"].id
    pages = {
        "copy": client.get(f"/manage/workshops/{workshop_id}/copy"),
        "copy clash": client.post(f"/manage/workshops/{workshop_id}/copy",
                                  data={"first_date": (start + timedelta(weeks=6)).isoformat()}),
        "copy bad": client.post(f"/manage/workshops/{workshop_id}/copy",
                                data={"first_date": "2020-01-07"}),
        "term": client.get(f"/manage/centres/{centre_id}/copy-term"),
        "term bad": client.post(f"/manage/centres/{centre_id}/copy-term",
                                data={"weeks_later": "0"}),
    }
    done = client.post(f"/manage/centres/{centre_id}/copy-term", data={
        "date_from": start.isoformat(), "date_to": start.isoformat(), "weeks_later": "20"})
    assert done.status_code == 302
    pages["term done"] = client.get(done.headers["Location"])
    assert [r.status_code for r in pages.values()] == [200, 409, 422, 200, 422, 200]
    html = {label: r.get_data(as_text=True) for label, r in pages.items()}
    assert html_errors(html) == {label: [] for label in html}


def test_an_instructor_who_left_the_centre_is_left_off_the_copy(app, client, auth, world):
    first = date.today() + timedelta(days=10)
    workshop_id = make_course(app, world, first)
    with app.app_context():
        db.session.execute(
            sa.delete(Membership).where(Membership.user_id == world["teacher"].id)
        )
        db.session.commit()
    auth.login("staff@example.org")
    page = client.get(f"/manage/workshops/{workshop_id}/copy").get_data(as_text=True)
    assert "no longer teaches at Riverside Hub" in page
    done = client.post(f"/manage/workshops/{workshop_id}/copy",
                       data={"first_date": (first + timedelta(weeks=8)).isoformat()})
    assert done.status_code == 302
    with app.app_context():
        copy = db.session.scalar(sa.select(Workshop).order_by(Workshop.id.desc()).limit(1))
        assert copy.id != workshop_id and copy.instructor_id is None
        assert db.session.get(Workshop, workshop_id).instructor_id == world["teacher"].id
    # Nobody leads the copy yet: it stays a draft until staff choose an instructor.
    response = client.post(f"/manage/workshops/{copy.id}/publish")
    assert response.status_code == 409
    assert "Choose the instructor who leads this class" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Workshop, copy.id).status == "draft"
        staff_id = db.session.scalar(
            sa.select(User.id).where(User.email == "staff@example.org")
        )
        _, token = api_tokens.create_token(staff_id, "tests")
    response = client.patch(f"/api/v1/workshops/{copy.id}", json={"status": "published"},
                            headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 409
    assert "instructor_id" in response.get_json()["error"]["fields"]
