"""Deleting an account: POST /account/delete and erase_user()."""

from datetime import UTC, datetime, timedelta

import pytest

from booking.extensions import db
from booking.models import (
    ApiToken,
    Baby,
    InstructorProfile,
    Membership,
    OutboxMessage,
    PasswordResetToken,
    Registration,
    User,
    Workshop,
)
from booking.models.token import hash_secret
from booking.services.booking.book import book_place
from booking.services.errors import Invalid
from booking.services.privacy.erase import erase_user, erased_email
from tests.conftest import PASSWORD


def _book(app, parent, workshop, baby):
    with app.app_context():
        return book_place(
            parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id, consent=True
        ).registration.id


@pytest.fixture
def full_class(app, make_user, make_baby, make_workshop):
    """A one-place class: the leaver holds the place, another parent is waiting."""
    leaver = make_user(email="leaver@example.org", name="Lee Leaver")
    waiting = make_user(email="waiting@example.org", name="Wyn Waiting")
    workshop = make_workshop(capacity=1, title="Small group")
    leaver_baby = make_baby(leaver, name="Luna", age_weeks=10)
    waiting_baby = make_baby(waiting, name="Wren", age_weeks=10)
    held = _book(app, leaver, workshop, leaver_baby)
    queued = _book(app, waiting, workshop, waiting_baby)
    return {
        "leaver": leaver,
        "workshop": workshop,
        "held": held,
        "queued": queued,
        "leaver_baby": leaver_baby,
    }


def _delete(client, password=PASSWORD, confirm=True):
    data = {"password": password}
    if confirm:
        data["confirm"] = "y"
    return client.post("/account/delete", data=data)


def test_wrong_password_refuses_and_changes_nothing(app, client, auth, full_class):
    auth.login("leaver@example.org")
    response = _delete(client, password="not-my-password")
    assert response.status_code in (400, 422)
    page = response.get_data(as_text=True)
    assert 'id="password-error"' in page
    assert "not your current password" in page
    with app.app_context():
        user = db.session.get(User, full_class["leaver"].id)
        assert user.email == "leaver@example.org" and user.deleted_at is None
        assert db.session.get(Registration, full_class["held"]).status == "confirmed"
        assert db.session.get(Baby, full_class["leaver_baby"].id).name == "Luna"
    assert client.get("/account/privacy").status_code == 200, "still logged in"


def test_missing_confirmation_refuses(app, client, auth, full_class):
    auth.login("leaver@example.org")
    response = _delete(client, confirm=False)
    assert response.status_code == 422
    assert 'id="confirm-error"' in response.get_data(as_text=True)
    # A script's "no" for the box is not a yes either.
    for no in ("no", "n", "0", "off", "false"):
        response = client.post("/account/delete", data={"password": PASSWORD, "confirm": no})
        assert response.status_code == 422, no
    with app.app_context():
        assert db.session.get(User, full_class["leaver"].id).deleted_at is None


def test_delete_needs_login(client):
    response = _delete(client)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_delete_frees_the_place_promotes_and_erases(app, client, auth, full_class):
    workshop_id = full_class["workshop"].id
    auth.login("leaver@example.org")
    response = _delete(client)
    assert response.status_code == 302
    follow = client.get(response.headers["Location"])
    assert "account has been deleted" in follow.get_data(as_text=True)
    assert client.get("/account/privacy").status_code == 302, "logged out"

    with app.app_context():
        held = db.session.get(Registration, full_class["held"])
        queued = db.session.get(Registration, full_class["queued"])
        workshop = db.session.get(Workshop, workshop_id)
        assert held.status == "cancelled"
        assert held.cancel_reason == "Account deleted"
        assert queued.status == "confirmed"
        assert workshop.confirmed_count == 1
        registrations = db.session.scalars(
            db.select(Registration).where(Registration.workshop_id == workshop_id)
        ).all()
        assert len(registrations) == 2, "booking rows are kept for the counts"
        promoted = db.session.scalars(
            db.select(OutboxMessage).where(OutboxMessage.recipient == "waiting@example.org")
        ).all()
        assert any("place came up" in m.subject for m in promoted)
        assert not db.session.scalars(
            db.select(OutboxMessage).where(OutboxMessage.recipient == "leaver@example.org")
        ).all()

        user = db.session.get(User, full_class["leaver"].id)
        assert user.email == erased_email(user.id)
        assert user.name == "Erased account"
        assert user.password_hash == "" and user.phone == ""
        assert user.deleted_at is not None
        baby = db.session.get(Baby, full_class["leaver_baby"].id)
        assert baby.name == "Erased" and baby.name_key == f"erased-{baby.id}"
        assert baby.date_of_birth.day == 1
        assert baby.notes == "" and baby.immunisation_date is None

    assert auth.login("leaver@example.org").status_code == 401
    assert auth.login(erased_email(full_class["leaver"].id)).status_code == 401


def test_erase_removes_roles_tokens_and_pending_mail(ctx, make_user, make_centre, make_baby):
    centre = make_centre()
    staff = make_user(email="staff@example.org", role="staff", centre=centre)
    baby = make_baby(staff, name="Kit")
    db.session.add_all(
        [
            ApiToken(user_id=staff.id, name="laptop", token_hash=hash_secret("a")),
            PasswordResetToken(
                user_id=staff.id,
                token_hash=hash_secret("b"),
                expires_at=datetime.now(UTC) + timedelta(hours=1),
            ),
            OutboxMessage(recipient="staff@example.org", subject="Pending", body_text="x"),
            OutboxMessage(
                recipient="staff@example.org",
                subject="Sent about Kit",
                body_text="Kit's place",
                status="sent",
                sent_at=datetime.now(UTC),
            ),
        ]
    )
    user = db.session.get(User, staff.id)
    user.feed_token_hash = hash_secret("feed")
    user.phone = "07700 900123"
    version = user.session_version
    db.session.commit()

    erase_user(staff.id)

    db.session.expire_all()
    user = db.session.get(User, staff.id)
    assert user.feed_token_hash is None and user.phone == ""
    assert user.session_version == version + 1
    assert not user.is_active
    for model in (ApiToken, PasswordResetToken):
        assert not db.session.scalars(db.select(model).where(model.user_id == staff.id)).all()
    assert not db.session.scalars(
        db.select(Membership).where(Membership.user_id == staff.id)
    ).all()
    messages = db.session.scalars(db.select(OutboxMessage)).all()
    assert [(m.status, m.recipient) for m in messages] == [("sent", erased_email(staff.id))]
    assert "Kit" not in messages[0].subject + messages[0].body_text
    assert db.session.get(Baby, baby.id).name == "Erased"


def test_last_admin_cannot_be_erased(ctx, make_user):
    admin = make_user(email="admin@example.org", role="admin")
    with pytest.raises(Invalid, match="only admin"):
        erase_user(admin.id)
    assert db.session.get(User, admin.id).deleted_at is None

    make_user(email="second@example.org", role="admin")
    erase_user(admin.id)
    db.session.expire_all()
    assert db.session.get(User, admin.id).deleted_at is not None


def test_last_admin_sees_why_next_to_the_form(app, client, auth, make_user):
    make_user(email="admin@example.org", role="admin")
    auth.login("admin@example.org")
    response = _delete(client)
    assert response.status_code == 422
    assert "only admin account" in response.get_data(as_text=True)


@pytest.mark.parametrize("status", ["published", "draft"])
def test_instructor_with_classes_to_come_is_refused(ctx, make_workshop, make_user, make_centre,
                                                    status):
    """A draft too (as when the centre takes the role away): published later, it would
    have nobody to teach it."""
    centre = make_centre()
    teacher = make_user(email="teach@example.org", role="instructor", centre=centre)
    make_workshop(centre=centre, instructor=teacher, status=status)
    with pytest.raises(Invalid, match="another instructor"):
        erase_user(teacher.id)


def test_instructor_whose_classes_have_run_or_were_cancelled_may_go(
    ctx, make_workshop, make_user, make_centre
):
    centre = make_centre()
    teacher = make_user(email="teach@example.org", role="instructor", centre=centre)
    make_workshop(centre=centre, instructor=teacher, status="cancelled")
    make_workshop(centre=centre, instructor=teacher, status="draft", starts_in_days=-30,
                  sessions=2)  # a draft whose dates have passed
    make_workshop(centre=centre, instructor=teacher, starts_in_days=-30, sessions=2)  # ran
    erase_user(teacher.id)


def test_instructor_profile_is_anonymised(ctx, make_user, make_centre):
    teacher = make_user(email="teach@example.org", role="instructor", centre=make_centre())
    erase_user(teacher.id)
    profile = db.session.scalar(
        db.select(InstructorProfile).where(InstructorProfile.user_id == teacher.id)
    )
    assert profile.display_name == "Former instructor" and profile.bio == ""


def test_waiting_entry_is_cancelled_without_freeing_a_place(
    app, make_user, make_baby, make_workshop
):
    first = make_user(email="first@example.org")
    second = make_user(email="second@example.org")
    workshop = make_workshop(capacity=1)
    _book(app, first, workshop, make_baby(first, name="A"))
    queued = _book(app, second, workshop, make_baby(second, name="B"))
    with app.app_context():
        erase_user(second.id)
        assert db.session.get(Registration, queued).status == "cancelled"
        assert db.session.get(Workshop, workshop.id).confirmed_count == 1


def test_past_bookings_stay_counted_with_notes_cleared(ctx, make_user, make_baby, make_workshop):
    parent = make_user(email="past@example.org")
    baby = make_baby(parent, name="Pip")
    past = make_workshop(starts_in_days=-60)
    registration = Registration(
        workshop_id=past.id,
        baby_id=baby.id,
        parent_id=parent.id,
        status="confirmed",
        notes="Pip has eczema",
        confirmed_at=datetime.now(UTC) - timedelta(days=70),
    )
    db.session.add(registration)
    db.session.get(Workshop, past.id).confirmed_count = 1
    db.session.commit()

    erase_user(parent.id)

    db.session.expire_all()
    kept = db.session.get(Registration, registration.id)
    assert kept.status == "confirmed" and kept.notes == ""
    assert db.session.get(Workshop, past.id).confirmed_count == 1
