"""The issue's 'done when': from seed-demo, find a class for a premature baby by topic and
book a held place with the demo referral code although its public places are full."""

from datetime import date, timedelta

import sqlalchemy as sa

from booking.demo.data import DEMO_PASSWORD, DEMO_REFERRAL_CODE
from booking.extensions import db
from booking.models import ReferralCode, Registration, Workshop
from booking.services.booking.referrals import hash_code

TITLE = "Premature babies: gentle touch course"


def seed(runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output


def test_newcomer_finds_a_premature_class_and_books_a_held_place(app, client, runner):
    seed(runner)
    topic_page = client.get("/topics/premature").get_data(as_text=True)
    assert TITLE in topic_page
    found = client.get("/classes?topic=premature").get_data(as_text=True)
    assert TITLE in found
    with app.app_context():
        workshop = db.session.scalar(sa.select(Workshop).where(Workshop.title == TITLE))
        assert workshop.places_left == 0 and workshop.held_unclaimed == 2
        workshop_id = workshop.id
        code = db.session.scalar(sa.select(ReferralCode))
        assert code.code_hash == hash_code(DEMO_REFERRAL_CODE)
        assert code.workshop_id == workshop_id and code.used_at is None
    client.post("/login", data={"email": "parent@example.com", "password": DEMO_PASSWORD})
    page = client.get(f"/classes/{workshop_id}").get_data(as_text=True)
    assert 'name="referral_code"' in page
    dob = (date.today() - timedelta(weeks=8)).isoformat()
    response = client.post(
        f"/classes/{workshop_id}/book",
        data={"baby_name": "Pip", "baby_dob": dob, "consent": "y",
              "referral_code": DEMO_REFERRAL_CODE.lower()},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        registration = db.session.scalar(
            sa.select(Registration).where(
                Registration.workshop_id == workshop_id, Registration.held_place.is_(True)
            )
        )
        assert registration.status == "confirmed"
        workshop = db.session.get(Workshop, workshop_id)
        assert (workshop.confirmed_count, workshop.held_claimed) == (3, 1)
    again = client.post(
        f"/classes/{workshop_id}/book",
        data={"baby_name": "Bo", "baby_dob": dob, "consent": "y",
              "referral_code": DEMO_REFERRAL_CODE},
    )
    assert again.status_code == 422
    assert b"That referral code cannot be used for this class." in again.data
    seed(runner)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ReferralCode.id))) == 1
