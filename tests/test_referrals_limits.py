"""Referral-code attempts on the booking form are rate limited per account and per IP."""

from datetime import UTC, datetime, timedelta

import pytest

from booking import create_app
from booking.extensions import db, limiter
from booking.services.booking.referrals import new_code
from tests.conftest import PASSWORD


@pytest.fixture
def limited_client(app):
    """A client of an app created with rate limits on, on the test database."""
    config = {
        key: app.config[key]
        for key in ("TESTING", "SQLALCHEMY_DATABASE_URI", "WTF_CSRF_ENABLED", "MAIL_SERVER",
                    "MAIL_DIR", "BASE_URL")
    }
    limited = create_app(
        {**config, "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"}
    )
    limiter.reset()
    yield limited.test_client()
    limiter.reset()
    limiter.enabled = False
    with limited.app_context():
        db.session.remove()
        db.engine.dispose()


def test_code_guessing_is_limited_but_ordinary_booking_is_not(
    limited_client, make_user, make_baby, make_workshop
):
    workshop = make_workshop(
        capacity=3, held_places=1, held_until=datetime.now(UTC) + timedelta(days=2)
    )
    parent = make_user("guesser@example.org")
    baby = make_baby(parent)
    limited_client.post("/login", data={"email": parent.email, "password": PASSWORD})
    form = {"baby_id": str(baby.id), "consent": "y"}
    statuses = [
        limited_client.post(
            f"/classes/{workshop.id}/book", data={**form, "referral_code": new_code()}
        ).status_code
        for _ in range(11)
    ]
    assert statuses[:10] == [422] * 10
    assert statuses[10] == 429
    booked = limited_client.post(f"/classes/{workshop.id}/book", data=form)
    assert booked.status_code == 302
