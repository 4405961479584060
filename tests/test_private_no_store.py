"""No page with personal data or a secret is kept by a browser or a shared cache:
every GET under /account, /teach, /manage, /admin, /password/reset and /feeds/private,
and anything rendered for a logged-in user, says `Cache-Control: no-store` (a private
feed says `private` and keeps its ETag revalidation for calendar apps)."""

import re

import pytest
import sqlalchemy as sa

from booking.db import write_transaction
from booking.extensions import db
from booking.mail.deferred import render_notes
from booking.models import OutboxMessage
from booking.services.accounts import passwords_reset
from tests.test_authorization_matrix import FEED_SECRET, _build_world, _client

# Who may open the pages under each prefix.
ROLE_FOR_PREFIX = {
    "/account": "parent",
    "/teach": "instructor",
    "/manage": "staff",
    "/admin": "admin",
    "/password/reset": "anonymous",
    "/feeds/private": "anonymous",
}
# Which of the world's rows fills each URL argument.
ARGUMENT_IDS = {
    "workshop_id": "workshop",
    "session_id": "session",
    "registration_id": "reg",
    "payment_id": "payment",
    "centre_id": "centre",
    "user_id": "parent",
    "baby_id": "baby",
    "sheet_id": "sheet",
    "makeup_id": "makeup",
}


@pytest.fixture
def world(app):
    built = _build_world(app)
    with app.app_context():
        with write_transaction():
            passwords_reset.request_password_reset("parent@example.org")
        render_notes()  # as the sender does first: the reset email gets its link
        # The reset email: the newest row.
        body = db.session.scalar(
            sa.select(OutboxMessage.body_text).order_by(OutboxMessage.id.desc()).limit(1)
        )
        built["reset_token"] = re.search(r"/password/reset/(\S+)", body).group(1)
        db.session.remove()
    return built


def _private_get_rules(app):
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        prefix = next(
            (p for p in ROLE_FOR_PREFIX if rule.rule == p or rule.rule.startswith(p + "/")),
            None,
        )
        if prefix is not None:
            yield rule, ROLE_FOR_PREFIX[prefix]


# Pages about one particular row of the world rather than the usual one.
SPECIAL_IDS = {
    # the choice after the centre cancelled a week of a paid course
    "/choice": {"registration_id": "paid_reg", "session_id": "cancelled_session"},
}


def _path(rule, world) -> str:
    values = {}
    names = dict(ARGUMENT_IDS)
    for marker, special in SPECIAL_IDS.items():
        if marker in rule.rule:
            names.update(special)
    for argument in rule.arguments:
        if argument in (rule.defaults or {}):
            continue  # set by the rule itself, such as each chart's own CSV address
        if argument == "token":
            values[argument] = (
                FEED_SECRET if rule.rule.startswith("/feeds/") else world["reset_token"]
            )
        else:
            values[argument] = world["ids"][names[argument]]
    return rule.build(values)[1]


def test_every_private_page_says_no_store(app, world):
    walked = []
    for rule, role in _private_get_rules(app):
        path = _path(rule, world)
        response = _client(app, world, role).get(path)
        where = f"GET {path} as {role}"
        assert response.status_code == 200, f"{where}: {response.status_code}"
        cache = response.headers.get("Cache-Control", "")
        if rule.rule.startswith("/feeds/private/"):
            assert "private" in cache and "public" not in cache, where
            assert response.headers.get("ETag"), where
        else:
            assert "no-store" in cache, f"{where}: {cache!r}"
        walked.append(rule.rule)
    assert "/account/calendar" in walked and "/account/bookings" in walked
    assert "/teach/workshops/<int:workshop_id>" in walked
    assert "/teach/sessions/<int:session_id>/register" in walked
    assert "/manage/workshops/<int:workshop_id>/registrations" in walked
    assert "/admin/users" in walked and "/password/reset/<token>" in walked


def test_refusals_and_missing_pages_under_private_prefixes_are_not_stored(app, world):
    anonymous = _client(app, world, "anonymous")
    assert "no-store" in anonymous.get("/account/bookings").headers["Cache-Control"]
    assert "no-store" in anonymous.get("/feeds/private/wrong.ics").headers["Cache-Control"]
    assert "no-store" in anonymous.get("/password/reset/wrong").headers["Cache-Control"]
    other = _client(app, world, "other_staff")
    ids = world["ids"]
    refused = other.get(f"/manage/workshops/{ids['workshop']}/registrations")
    assert refused.status_code in (403, 404)
    assert "no-store" in refused.headers["Cache-Control"]


def test_public_pages_are_not_stored_for_a_logged_in_user_only(app, world):
    path = f"/classes/{world['ids']['workshop']}"
    anonymous = _client(app, world, "anonymous").get(path)
    assert anonymous.headers["Cache-Control"] == "public, max-age=5"
    signed_in = _client(app, world, "parent").get(path)
    assert signed_in.status_code == 200
    assert signed_in.headers["Cache-Control"] == "no-store"
    booking_form = _client(app, world, "parent").get(f"{path}/book")
    assert booking_form.headers["Cache-Control"] == "no-store"


def test_static_files_keep_their_own_caching_for_a_logged_in_user(app, world):
    response = _client(app, world, "parent").get("/static/css/site.css")
    response.close()
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
