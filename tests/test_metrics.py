"""/metrics: Prometheus text for the addresses in METRICS_ALLOW only; requests by
endpoint, bookings and promotions counted once committed, rate-limit refusals, the
email queue. The registry lives as long as the process, so tests read differences."""

from datetime import timedelta

import pytest
from sqlalchemy.exc import OperationalError

from booking.db import note_committed, write_transaction
from booking.extensions import db
from booking.models import OutboxMessage
from booking.models.base import utcnow
from booking.models.outbox import FAILED
from booking.services import ops
from booking.services.booking.book import book_place, cancel_registration
from tests.ops_helpers import another_app, app_wide_limit, metric

BOOKINGS = "booking_bookings_total"
REQUESTS = "booking_http_requests_total"


@pytest.fixture
def parent(make_user, auth):
    user = make_user(email="metrics-parent@example.org", name="Pat Parent")
    auth.login(user.email)
    return user


def test_a_booking_through_the_form_is_counted(client, parent, make_baby, make_workshop):
    workshop = make_workshop()
    baby = make_baby(parent)
    url = f"/classes/{workshop.id}/book"
    before = metric(client, BOOKINGS, status="confirmed")
    posts = metric(client, REQUESTS, endpoint="account.book", status="302")
    response = client.post(url, data={"baby_id": str(baby.id), "consent": "y"})
    assert response.status_code == 302
    assert metric(client, BOOKINGS, status="confirmed") == before + 1
    assert metric(client, REQUESTS, endpoint="account.book", status="302") == posts + 1
    # The same booking again finds the first one, and a refused one books nothing.
    client.post(url, data={"baby_id": str(baby.id), "consent": "y"})
    assert client.post(url, data={"baby_id": str(baby.id)}).status_code == 422
    assert metric(client, BOOKINGS, status="confirmed") == before + 1


def test_waiting_and_promotion_are_counted(ctx, client, make_workshop, make_user, make_baby):
    workshop = make_workshop(capacity=1)
    first, second = make_user(), make_user()
    waited = metric(client, BOOKINGS, status="waitlisted")
    promoted = metric(client, "booking_waitlist_promotions_total")
    place = book_place(
        parent_id=first.id, workshop_id=workshop.id, baby_id=make_baby(first).id, consent=True
    )
    book_place(
        parent_id=second.id, workshop_id=workshop.id, baby_id=make_baby(second).id, consent=True
    )
    assert metric(client, BOOKINGS, status="waitlisted") == waited + 1
    assert metric(client, "booking_waitlist_promotions_total") == promoted
    cancel_registration(place.registration_id, actor_id=first.id)
    assert metric(client, "booking_waitlist_promotions_total") == promoted + 1


def test_only_committed_work_is_counted(ctx, client):
    """A rolled-back transaction, or a savepoint rolled back inside one that commits,
    counts nothing; the rest of the committed one counts once."""
    before = metric(client, BOOKINGS, status="confirmed")
    with pytest.raises(RuntimeError):
        with write_transaction():
            note_committed("booking.confirmed")
            raise RuntimeError("rolled back")
    with write_transaction():
        note_committed("booking.confirmed")
        with pytest.raises(RuntimeError):
            with write_transaction():
                note_committed("booking.confirmed", 5)
                raise RuntimeError("savepoint rolled back")
        with write_transaction():
            note_committed("booking.confirmed")
        assert metric(client, BOOKINGS, status="confirmed") == before  # not yet committed
    assert metric(client, BOOKINGS, status="confirmed") == before + 2


def test_requests_are_counted_by_endpoint_not_path(client, make_workshop):
    workshop = make_workshop()
    before = metric(client, REQUESTS, endpoint="public.workshop_detail", status="200")
    for _ in range(2):
        assert client.get(f"/classes/{workshop.id}").status_code == 200
    client.get("/no-such-page-anywhere")
    assert metric(client, REQUESTS, endpoint="public.workshop_detail", status="200") == before + 2
    page = client.get("/metrics").get_data(as_text=True)
    assert 'booking_http_request_duration_seconds_bucket{endpoint="public.workshop_detail"' in page
    assert 'endpoint="unmatched",status="404"' in page
    assert f"/classes/{workshop.id}" not in page and "no-such-page" not in page


def test_a_rate_limit_refusal_is_counted(app):
    with app_wide_limit(app, "2 per minute") as limited:
        client = limited.test_client()
        before = metric(client, "booking_rate_limited_total", endpoint="public.centres")
        address = {"REMOTE_ADDR": "198.51.100.8"}
        statuses = [client.get("/centres", environ_base=address).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        assert metric(client, "booking_rate_limited_total", endpoint="public.centres") == before + 1


def test_the_email_queue_is_measured_when_scraped(app, client):
    now = utcnow()
    with app.app_context():
        for waited, status in ((30, "pending"), (5, "pending"), (90, FAILED)):
            db.session.add(
                OutboxMessage(
                    recipient="someone@example.org", subject="s", body_text="b",
                    status=status, created_at=now - timedelta(minutes=waited),
                )
            )
        db.session.commit()
    assert metric(client, "booking_outbox_pending_messages") == 2
    assert metric(client, "booking_outbox_failed_messages") == 1
    assert 30 * 60 <= metric(client, "booking_outbox_oldest_pending_seconds") < 31 * 60


def test_other_addresses_are_refused(client):
    response = client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert response.status_code == 403
    assert "booking_http_requests_total" not in response.get_data(as_text=True)
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
    ok = client.get("/metrics")
    assert ok.status_code == 200 and ok.headers["Cache-Control"] == "no-store"
    assert ok.mimetype == "text/plain"


def test_allowed_networks_and_the_address_behind_a_proxy(app):
    with another_app(app, METRICS_ALLOW="10.0.0.0/8, 192.0.2.1", PROXY_HOPS=1) as proxied:
        client = proxied.test_client()
        # The proxy (127.0.0.1) forwards for the real client: the client's address counts.
        assert client.get("/metrics", headers={"X-Forwarded-For": "10.1.2.3"}).status_code == 200
        assert client.get("/metrics", headers={"X-Forwarded-For": "192.0.2.1"}).status_code == 200
        assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.5"}).status_code == 403
        assert client.get("/metrics").status_code == 403  # localhost is not in this list


def test_a_wrong_allow_list_stops_the_start(app):
    with pytest.raises(RuntimeError, match="METRICS_ALLOW"):
        with another_app(app, METRICS_ALLOW="127.0.0.1,not-an-address"):
            pass


def test_metrics_still_answer_when_the_database_does_not(client, monkeypatch):
    def down():
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    assert metric(client, "booking_database_up") == 1
    monkeypatch.setattr(ops, "_outbox_backlog", down)
    response = client.get("/metrics")
    assert response.status_code == 200
    assert "booking_database_up 0.0" in response.text
    assert "booking_outbox_pending_messages" not in response.text
    assert "booking_http_requests_total" in response.text
