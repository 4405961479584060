"""A class given to another instructor: the new one is emailed that it is theirs (its
sessions in the centre's time, who is booked, the roster link) and the one before that
it no longer is, each once, from the staff form, the API and the service alike; never for
a draft, nor when the instructor did not change. Families are not emailed: nothing they
were sent to keep (their calendar invites) names the instructor. Both instructors'
calendar feeds follow the class."""

import threading
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email import policy as email_policy
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from booking.db import write_transaction
from booking.extensions import db
from booking.mail import deferred
from booking.mail.sender import send_all_due
from booking.models import Baby, OutboxMessage, Registration, Workshop
from booking.models.outbox import SENT
from booking.models.registration import PENDING_PAYMENT
from booking.services.accounts import api_tokens, feed_tokens
from booking.services.booking import book as booking
from booking.services.notices import instructor_emails as instructor_emails_module
from booking.services.notices.invites import invite_for_registration
from booking.services.schedule.edit import edit_workshop, update_workshop

# The first session, 23:00 UTC in ten days: the next morning in Sydney.
FIRST = datetime.now(UTC).replace(hour=23, minute=0, second=0, microsecond=0) + timedelta(
    days=10
)


def sydney(weeks: int) -> str:
    """How an email writes the start of the session `weeks` after the first, in Sydney."""
    local = (FIRST + timedelta(weeks=weeks)).astimezone(ZoneInfo("Australia/Sydney"))
    return f"{local:%a} {local.day} {local:%b %Y}, {local:%H:%M}"
KINDS = ("instructor_assigned", "instructor_released")


def instructor_emails() -> list[OutboxMessage]:
    """The instructor-change emails, rendered (as the sender renders them first)."""
    db.session.rollback()
    deferred.render_notes()
    db.session.expire_all()
    return list(db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.kind.in_(KINDS)).order_by(OutboxMessage.id)
    ))


def by_recipient(messages) -> dict[str, OutboxMessage]:
    found = {m.recipient: m for m in messages}
    assert len(found) == len(messages), [m.recipient for m in messages]  # once each
    return found


@pytest.fixture
def world(app, make_centre, make_user, make_workshop, make_baby):
    """A Sydney centre, its staff, two instructors, and a published course of three
    weeks taught by the first, with two babies of one family and one of another booked."""
    centre = make_centre(name="Harbour Hub", timezone="Australia/Sydney",
                         contact_email="hub@example.org")
    staff = make_user("staff@example.org", role="staff", centre=centre)
    old = make_user("old@example.org", name="Olive Old", role="instructor", centre=centre)
    new = make_user("new@example.org", name="Nina New", role="instructor", centre=centre)
    course = make_workshop(centre=centre, instructor=old, sessions=3, starts_at=FIRST,
                           title="Calm baby")
    twins_parent, other_parent = make_user(), make_user("parent@example.org")
    with app.app_context():
        for parent, name in ((twins_parent, "Amy"), (twins_parent, "Bea"),
                             (other_parent, "Cal")):
            baby = make_baby(parent, name=name, age_weeks=12)
            booking.book_place(parent_id=parent.id, workshop_id=course.id, baby_id=baby.id,
                               consent=True)
        db.session.execute(sa.delete(OutboxMessage))  # the booking confirmations
        db.session.commit()
    return {"centre": centre, "staff": staff, "old": old, "new": new, "course": course,
            "other_parent": other_parent}


def edit_form(world, instructor) -> dict:
    return {
        "title": "Calm baby",
        "instructor_id": str(instructor.id),
        "min_age_weeks": "6",
        "max_age_weeks": "52",
        "price": "45",
        "cancellation_cutoff_hours": "24",
    }


def test_the_new_instructor_is_told_the_class_and_the_old_one_who_takes_it(ctx, world):
    update_workshop(world["course"].id, instructor_id=world["new"].id)
    emails = by_recipient(instructor_emails())
    assert set(emails) == {"new@example.org", "old@example.org"}  # no family emailed

    now_theirs = emails["new@example.org"]
    assert now_theirs.subject == "You now teach Calm baby at Harbour Hub"
    text = now_theirs.body_text
    assert "Hello Nina New," in text and "taking over from Olive Old" in text
    assert f"Week 1 of 3: {sydney(0)}" in text  # the centre's own time
    assert "Australia/Sydney" in text
    assert "Booked: 2 families (3 babies)." in text
    roster = f"/teach/workshops/{world['course'].id}"
    assert roster in text and roster in now_theirs.body_html
    assert now_theirs.reply_to == "hub@example.org"

    no_longer = emails["old@example.org"]
    assert no_longer.subject == "No longer yours to teach: Calm baby at Harbour Hub"
    assert "Hello Olive Old," in no_longer.body_text
    assert "Nina New teaches it now" in no_longer.body_text
    assert f"Week 3 of 3: {sydney(2)}" in no_longer.body_text

    assert send_all_due().sent == 2
    assert all(m.status == SENT for m in instructor_emails())
    assert send_all_due().sent == 0  # once


def test_families_calendar_invites_do_not_name_the_instructor(ctx, world):
    """Why families are not emailed: their invites show the class, the centre and the
    times, never who teaches it, so the change leaves their calendars right."""
    registration_id = db.session.scalar(
        sa.select(sa.func.min(sa.text("id"))).select_from(sa.table("registration"))
    )
    before = invite_for_registration(registration_id)
    assert "Olive" not in before
    update_workshop(world["course"].id, instructor_id=world["new"].id)
    after = invite_for_registration(registration_id)
    assert "Nina" not in after and "Olive" not in after
    recipients = {m.recipient for m in db.session.scalars(sa.select(OutboxMessage))}
    assert recipients == {"new@example.org", "old@example.org"}


def test_the_staff_form_emails_both_once_and_again_unchanged_nobody(
    ctx, client, auth, world
):
    auth.login("staff@example.org")
    url = f"/manage/workshops/{world['course'].id}/edit"
    assert client.post(url, data=edit_form(world, world["new"])).status_code == 302
    assert set(by_recipient(instructor_emails())) == {"new@example.org", "old@example.org"}
    # The same form sent again, or another detail changed: the instructor is the same.
    assert client.post(url, data=edit_form(world, world["new"])).status_code == 302
    changed = {**edit_form(world, world["new"]), "title": "Calm baby, spring"}
    assert client.post(url, data=changed).status_code == 302
    assert len(instructor_emails()) == 2


def test_the_api_emails_both_once_and_again_unchanged_nobody(ctx, client, world):
    token = api_tokens.create_token(world["staff"].id, "staff")[1]
    headers = {"Authorization": f"Bearer {token}"}
    url = f"/api/v1/workshops/{world['course'].id}"
    body = {"instructor_id": world["new"].id}
    assert client.patch(url, json=body, headers=headers).status_code == 200
    assert set(by_recipient(instructor_emails())) == {"new@example.org", "old@example.org"}
    assert client.patch(url, json=body, headers=headers).status_code == 200
    assert client.patch(url, json={"title": "Renamed"}, headers=headers).status_code == 200
    assert len(instructor_emails()) == 2


def test_no_instructor_cannot_be_given_and_tells_nobody(ctx, client, world):
    """A class is always led by an instructor: null is refused, nothing changes."""
    token = api_tokens.create_token(world["staff"].id, "staff")[1]
    response = client.patch(f"/api/v1/workshops/{world['course'].id}",
                            json={"instructor_id": None},
                            headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 422
    assert "instructor_id" in response.get_json()["error"]["fields"]
    assert db.session.get(Workshop, world["course"].id).instructor_id == world["old"].id
    assert instructor_emails() == []


def test_a_draft_given_to_another_instructor_tells_nobody(
    ctx, world, make_workshop
):
    draft = make_workshop(centre=world["centre"], instructor=world["old"], status="draft",
                          starts_at=FIRST + timedelta(weeks=8))
    update_workshop(draft.id, instructor_id=world["new"].id)
    edit_workshop(draft.id, fields={"instructor_id": world["old"].id})
    assert instructor_emails() == []


def test_a_draft_given_away_and_published_at_once_tells_the_new_instructor_only(
    ctx, world, make_workshop
):
    draft = make_workshop(centre=world["centre"], instructor=world["old"], status="draft",
                          starts_at=FIRST + timedelta(weeks=8))
    edit_workshop(draft.id, fields={"instructor_id": world["new"].id}, status="published")
    (email,) = instructor_emails()
    assert email.recipient == "new@example.org"
    assert "No place is confirmed yet." in email.body_text


def test_places_held_while_families_pay_are_counted(ctx, world):
    """Places held while families pay are on the roster: the new instructor is not told
    nobody is booked."""
    db.session.execute(
        sa.update(Registration)
        .where(Registration.workshop_id == world["course"].id)
        .values(status=PENDING_PAYMENT, confirmed_at=None,
                hold_expires_at=datetime.now(UTC) + timedelta(hours=12))
    )
    db.session.commit()
    update_workshop(world["course"].id, instructor_id=world["new"].id)
    told = by_recipient(instructor_emails())["new@example.org"]
    assert "No place is confirmed yet, 3 places held while families pay." in told.body_text
    assert "No place is confirmed yet, 3 places held while families pay." in told.body_html


def test_a_change_undone_before_the_emails_went_tells_nobody(ctx, world):
    course = world["course"].id
    update_workshop(course, instructor_id=world["new"].id)
    update_workshop(course, instructor_id=world["old"].id)
    assert instructor_emails() == []


def test_a_class_passed_on_twice_tells_the_first_who_has_it_now(ctx, world, make_user):
    third = make_user("third@example.org", name="Theo Third", role="instructor",
                      centre=world["centre"])
    course = world["course"].id
    update_workshop(course, instructor_id=world["new"].id)
    update_workshop(course, instructor_id=third.id)
    emails = by_recipient(instructor_emails())
    assert set(emails) == {"old@example.org", "third@example.org"}  # Nina never knew
    assert "Theo Third teaches it now" in emails["old@example.org"].body_text
    # Theo takes over from the one who had it, not from Nina, who never knew.
    assert "taking over from Olive Old" in emails["third@example.org"].body_text
    assert "Nina" not in emails["third@example.org"].body_text
    assert send_all_due().sent == 2
    # Once told, a later change is told in its turn.
    update_workshop(course, instructor_id=world["new"].id)
    later = [m for m in instructor_emails() if m.status != SENT]
    assert {m.recipient for m in later} == {"third@example.org", "new@example.org"}


def test_both_instructors_feeds_follow_the_class(app, client, world):
    """The public teaching feeds and the private feeds of both instructors change: the
    class leaves the old instructor's and joins the new one's (new ETags)."""
    with app.app_context():
        private = {key: feed_tokens.issue_feed_token(world[key].id) for key in ("old", "new")}
        db.session.commit()
    paths = {
        (key, kind): path
        for key in ("old", "new")
        for kind, path in (("public", f"/feeds/instructors/{world[key].id}.ics"),
                           ("private", f"/feeds/private/{private[key]}.ics"))
    }
    before = {name: client.get(path) for name, path in paths.items()}
    for (key, _), response in before.items():
        assert response.status_code == 200
        assert ("Calm baby" in response.get_data(as_text=True)) == (key == "old")
    with app.app_context():
        update_workshop(world["course"].id, instructor_id=world["new"].id)
    for name, path in paths.items():
        after = client.get(path, headers={"If-None-Match": before[name].headers["ETag"]})
        assert after.status_code == 200, name
        assert ("Calm baby" in after.get_data(as_text=True)) == (name[0] == "new"), name
    assert "Teaching: Calm baby" in client.get(paths[("new", "private")]).get_data(as_text=True)


def test_a_class_taken_back_to_draft_before_the_email_went_is_not_announced(
    ctx, world, make_workshop
):
    """The new instructor's email is written from the class as it is when it is sent:
    one back in draft by then is nobody's schedule, so nothing is sent; the instructor
    who lost it while it was published is still told."""
    quiet = make_workshop(centre=world["centre"], instructor=world["old"],
                          starts_at=FIRST + timedelta(weeks=8), title="Tummy time")
    update_workshop(quiet.id, instructor_id=world["new"].id)
    edit_workshop(quiet.id, status="draft")
    (email,) = instructor_emails()
    assert email.recipient == "old@example.org"
    assert email.subject == "No longer yours to teach: Tummy time at Harbour Hub"


def test_a_note_sent_while_the_change_is_undone_is_answered(app, ctx, world, monkeypatch):
    """Staff give the class to Nina, then put it back while the sender is rendering and
    sending Nina's "You now teach" note: the undo read the note as untold and deleted it
    once sent, so Nina was told the class was hers and never that it was not
    (PostgreSQL: SQLite runs one write at a time). The undo locks the notes it reads."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("two write transactions at once: PostgreSQL")
    course = world["course"].id
    update_workshop(course, instructor_id=world["new"].id)
    db.session.commit()
    read_untold = instructor_emails_module._unrendered_notes
    threads = []

    def sender():  # `outbox send --loop`, on its own connection
        with app.app_context():
            deferred.render_notes()
            send_all_due()
            db.session.remove()

    def read_then_send_meanwhile(workshop_id):
        notes = read_untold(workshop_id)
        threads.append(threading.Thread(target=sender))
        threads[-1].start()
        threads[-1].join(5)  # the notes locked: it waits for the undo to commit
        return notes

    monkeypatch.setattr(instructor_emails_module, "_unrendered_notes", read_then_send_meanwhile)
    update_workshop(course, instructor_id=world["old"].id)
    monkeypatch.undo()
    for thread in threads:
        thread.join(30)
    db.session.rollback()
    deferred.render_notes()
    send_all_due()
    to_nina = sorted(
        message["Subject"]
        for message in (
            message_from_bytes(path.read_bytes(), policy=email_policy.default)
            for path in Path(app.config["MAIL_DIR"]).rglob("*.eml")
        )
        if "new@example.org" in message["To"]
    )
    assert to_nina in ([], ["No longer yours to teach: Calm baby at Harbour Hub",
                            "You now teach Calm baby at Harbour Hub"]), to_nina


def test_a_class_given_back_to_its_told_instructor_is_not_taken_over_from_themselves(
    ctx, world
):
    """Olive was told the class is no longer hers; Nina's note waits for a retry. Given
    back to Olive, she is told it is hers again, not that she takes over from herself."""
    course = world["course"].id
    update_workshop(course, instructor_id=world["new"].id)
    with write_transaction():  # Nina's note waits for a retry after a failed render
        db.session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.kind == "instructor_assigned")
            .values(next_attempt_at=datetime.now(UTC) + timedelta(minutes=5), attempts=1)
        )
    deferred.render_notes()
    assert send_all_due().sent == 1  # Olive: "No longer yours to teach"
    update_workshop(course, instructor_id=world["old"].id)
    db.session.expire_all()
    to_olive = by_recipient(
        [m for m in instructor_emails() if m.kind == "instructor_assigned"]
    )["old@example.org"]
    assert "You now teach Calm baby" in to_olive.body_text
    assert "taking over from" not in to_olive.body_text


def test_the_waiting_count_is_the_line_families_are_told(ctx, world, make_user, make_baby):
    """A waiting baby who no longer fits the class's ages is skipped when a place comes
    free: the new instructor is told the line as families are numbered in it."""
    course = world["course"].id
    db.session.execute(sa.update(Workshop).where(Workshop.id == course).values(capacity=3))
    db.session.commit()
    parent = make_user("waiting@example.org")
    babies = [make_baby(parent, name=name, age_weeks=12) for name in ("Dot", "Eli")]
    for baby in babies:
        booking.book_place(parent_id=parent.id, workshop_id=course, baby_id=baby.id,
                           consent=True)
    db.session.execute(  # Eli's date of birth corrected: far older than the class takes
        sa.update(Baby).where(Baby.id == babies[1].id)
        .values(date_of_birth=babies[1].date_of_birth - timedelta(weeks=300))
    )
    db.session.commit()
    update_workshop(course, instructor_id=world["new"].id)
    told = by_recipient(instructor_emails())["new@example.org"]
    assert ", and 1 waiting." in told.body_text
