"""Referral-code attempts on the booking form are rate limited per account and per IP."""

from datetime import UTC, datetime, timedelta

import pytest

from booking.services.booking.referrals import new_code
from tests.conftest import PASSWORD, rate_limited_app


@pytest.fixture
def limited_client(app):
    """A client of an app created with rate limits on, on the test database."""
    with rate_limited_app(app) as limited:
        yield limited.test_client()


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
