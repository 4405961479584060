"""Anonymising old data: purge_expired() and `flask purge-expired`."""

from datetime import UTC, date, datetime, timedelta

import pytest

from booking.extensions import db
from booking.mail.sender import requeue_failed
from booking.models import Baby, OutboxMessage, Registration, Workshop
from booking.services.booking.book import book_place
from booking.services.errors import Invalid, NotFound
from booking.services.privacy.erase import erase_user, purge_expired


def _registration(workshop, baby, status="confirmed", notes=""):
    registration = Registration(
        workshop_id=workshop.id,
        baby_id=baby.id,
        parent_id=baby.parent_id,
        status=status,
        notes=notes,
        confirmed_at=datetime.now(UTC) - timedelta(days=500),
    )
    db.session.add(registration)
    if status == "confirmed":
        db.session.get(Workshop, workshop.id).confirmed_count += 1
    db.session.commit()
    return registration.id


@pytest.fixture
def history(ctx, make_user, make_baby, make_workshop, make_centre):
    """Old and recent classes, with babies in one, the other, or both."""
    centre = make_centre()
    teacher = make_user(role="instructor", centre=centre)
    old = make_workshop(centre=centre, instructor=teacher, starts_in_days=-500, sessions=4)
    recent = make_workshop(centre=centre, instructor=teacher, starts_in_days=-60, sessions=4)
    upcoming = make_workshop(centre=centre, instructor=teacher, starts_in_days=10, sessions=4)
    parent = make_user(email="p@example.org")
    only_old = make_baby(parent, name="Olive", date_of_birth=date(2023, 3, 17))
    old_and_recent = make_baby(parent, name="Rory", date_of_birth=date(2023, 4, 9))
    old_and_upcoming = make_baby(parent, name="Umi", date_of_birth=date(2023, 5, 2))
    never_booked = make_baby(parent, name="Nell", date_of_birth=date(2023, 1, 5))
    with_notes = {
        "old_olive": _registration(old, only_old, notes="Olive has reflux"),
        "old_rory": _registration(old, old_and_recent, notes="Rory is shy"),
        "recent_rory": _registration(recent, old_and_recent, notes="Rory still shy"),
        "old_umi": _registration(old, old_and_upcoming, status="cancelled", notes="Umi ill"),
        "upcoming_umi": _registration(upcoming, old_and_upcoming, notes="Umi back"),
    }
    return {
        "babies": {
            "olive": only_old.id,
            "rory": old_and_recent.id,
            "umi": old_and_upcoming.id,
            "nell": never_booked.id,
        },
        "registrations": with_notes,
        "old": old.id,
        "upcoming": upcoming.id,
    }


def test_purge_anonymises_old_data_only_and_is_idempotent(history):
    confirmed_before = db.session.get(Workshop, history["old"]).confirmed_count

    assert purge_expired(days=365) == 4  # Olive + three old bookings with notes
    db.session.expire_all()

    babies = {key: db.session.get(Baby, id_) for key, id_ in history["babies"].items()}
    assert babies["olive"].name == "Erased"
    assert babies["olive"].date_of_birth == date(2023, 3, 1)
    assert babies["rory"].name == "Rory", "a class within the retention time keeps the baby"
    assert babies["umi"].name == "Umi", "an upcoming booking keeps the baby"
    assert babies["nell"].name == "Nell", "no booking at all: nothing to date it by"

    notes = {
        key: db.session.get(Registration, id_).notes
        for key, id_ in history["registrations"].items()
    }
    assert notes == {
        "old_olive": "",
        "old_rory": "",
        "recent_rory": "Rory still shy",
        "old_umi": "",
        "upcoming_umi": "Umi back",
    }
    assert db.session.get(Workshop, history["old"]).confirmed_count == confirmed_before
    assert db.session.get(Registration, history["registrations"]["old_olive"]).status == (
        "confirmed"
    )

    assert purge_expired(days=365) == 0


def test_a_baby_anonymised_for_good_is_no_longer_among_the_parents_babies(history):
    """Kept only for counts by age (no name, born on "the 1st"), a baby anonymised after
    the retention time is not listed to its parent as "Erased, born 1 Mar 2023", offered
    to book with that made-up date, or opened to edit."""
    from booking.services.accounts.babies import get_baby, list_babies

    parent_id = db.session.get(Baby, history["babies"]["olive"]).parent_id
    assert "Olive" in [b.name for b in list_babies(parent_id)]
    purge_expired(days=365)
    db.session.expire_all()
    assert sorted(b.name for b in list_babies(parent_id)) == ["Nell", "Rory", "Umi"]
    with pytest.raises(NotFound):
        get_baby(parent_id, history["babies"]["olive"])
    assert get_baby(parent_id, history["babies"]["rory"]).name == "Rory"
    with pytest.raises(NotFound):  # nor booked by its old number
        book_place(parent_id=parent_id, workshop_id=history["upcoming"],
                   baby_id=history["babies"]["olive"], consent=True)


def test_purge_redacts_old_sent_emails_only(ctx):
    long_ago = datetime.now(UTC) - timedelta(days=400)
    db.session.add_all(
        [
            OutboxMessage(
                recipient="p@example.org",
                subject="Booking confirmed for Olive",
                body_text="Olive's place",
                status="sent",
                sent_at=long_ago,
                created_at=long_ago,
            ),
            OutboxMessage(
                recipient="p@example.org",
                subject="Booking confirmed for Rory",
                body_text="Rory's place",
                status="sent",
                sent_at=datetime.now(UTC),
            ),
        ]
    )
    db.session.commit()
    assert purge_expired() == 1
    subjects = sorted(m.subject for m in db.session.scalars(db.select(OutboxMessage)))
    assert subjects == ["(removed for privacy)", "Booking confirmed for Rory"]
    assert purge_expired() == 0


def test_purge_redacts_old_emails_given_up_on_too(ctx):
    """An email the sender gave up on (a recipient refused, say) was never sent, so it
    has no send time: it loses its content by when it was written, as a sent one does
    (it kept a family's and a baby's names for ever)."""
    long_ago = datetime.now(UTC) - timedelta(days=800)
    db.session.add_all([
        OutboxMessage(recipient="f@example.org", subject="Reminder for Isla",
                      body_text="Dear Fiona, Isla's class", body_html="<p>Isla</p>",
                      status="failed", created_at=long_ago),
        OutboxMessage(recipient="f@example.org", subject="Reminder for Ada",
                      body_text="Ada's class", status="failed"),
    ])
    db.session.commit()
    assert purge_expired() == 1
    rows = {m.subject: m for m in db.session.scalars(db.select(OutboxMessage))}
    assert set(rows) == {"(removed for privacy)", "Reminder for Ada"}
    gone = rows["(removed for privacy)"]
    assert (gone.body_text, gone.body_html, gone.status) == ("", "", "failed")
    assert purge_expired() == 0
    # Its content gone, it is never queued again to be sent empty.
    found, missing = requeue_failed((gone.id,))
    assert found == [] and missing == [gone.id]


def test_purge_uses_the_configured_days(app, history):
    app.config["PURGE_AFTER_DAYS"] = 1000
    assert purge_expired() == 0
    assert purge_expired(days=30) > 0


def test_purge_keeps_an_erased_baby_as_it_is(history):
    parent_id = db.session.get(Baby, history["babies"]["olive"]).parent_id
    erase_user(parent_id)
    purge_expired(days=365)
    assert purge_expired(days=365) == 0


@pytest.mark.parametrize("days", [0, -5, "12", True, 36_501, 10**12])
def test_purge_refuses_a_meaningless_retention_time(ctx, days):
    with pytest.raises(Invalid):
        purge_expired(days=days)


def test_purge_command(runner, history):
    result = runner.invoke(args=["purge-expired", "--days", "365"])
    assert result.exit_code == 0, result.output
    assert "Anonymised 4 records" in result.output
    assert "1 baby, 3 bookings, 0 sent emails" in result.output
    again = runner.invoke(args=["purge-expired"])
    assert again.exit_code == 0
    assert "Anonymised 0 records" in again.output


def test_purge_command_rejects_bad_days(runner):
    result = runner.invoke(args=["purge-expired", "--days", "zero"])
    assert result.exit_code == 2
    assert "--days" in result.output
    assert runner.invoke(args=["purge-expired", "--days", "0"]).exit_code == 2
    # More than a century (the cut-off would fall before the year 1): refused, no traceback.
    result = runner.invoke(args=["purge-expired", "--days", "1000000"])
    assert result.exit_code == 2 and "--days" in result.output


def test_purge_command_refuses_a_configured_retention_beyond_a_century(app, runner):
    app.config["PURGE_AFTER_DAYS"] = 99_999_999_999
    result = runner.invoke(args=["purge-expired"])
    assert result.exit_code == 1
    assert "from 1 to 36500" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
