"""Ids beyond what the database can hold name nothing: every route taking an id answers
404 for them (and form fields holding an id refuse them), never a server error.

The routes are read from the app's url map, so a new `<int:...>` rule is covered here
without being listed.
"""

import re

import pytest
import sqlalchemy as sa
from werkzeug.routing.converters import IntegerConverter

from booking.extensions import db
from booking.models import User
from booking.services.accounts import api_tokens
from booking.web.ids import IdConverter

# 0 and just past each integer width the databases store, and far past any of them.
HUGE_IDS = (0, 2**31, 2**63, 10**23)
ARGUMENT = re.compile(r"<(?:(?P<converter>[a-z]+)(?:\([^)]*\))?:)?(?P<name>[a-z_]+)>")
METHODS = ("GET", "POST", "PATCH", "PUT", "DELETE")


@pytest.fixture
def everyone(app, client, make_centre, make_user):
    """One logged-in user who is an admin, staff and an instructor (and so a parent too),
    with an API token, so that no role check answers before the id is looked at."""
    centre = make_centre()
    user = make_user(role="instructor", centre=centre)
    with app.app_context():
        db.session.execute(sa.update(User).where(User.id == user.id).values(is_admin=True))
        db.session.commit()
        token = api_tokens.create_token(user.id, "ids")[1]
    client.post("/login", data={"email": user.email, "password": "correct-horse-battery"})
    return {"slug": centre.slug, "token": token}


def id_rules(app):
    """Every rule with an integer argument, as (rule, methods)."""
    found = []
    for rule in app.url_map.iter_rules():
        if any(isinstance(conv, IntegerConverter) for conv in rule._converters.values()):
            found.append((rule, sorted(set(rule.methods) & set(METHODS))))
    return found


def fill(rule, huge: int, plausible: dict) -> str:
    """The rule's path with every integer argument `huge` and the others plausible."""

    def value(match):
        if isinstance(rule._converters[match["name"]], IntegerConverter):
            return str(huge)
        return plausible.get(match["name"], "anything")

    return ARGUMENT.sub(value, rule.rule)


def test_every_int_rule_uses_the_bounded_converter(app):
    """The app's `int` converter is the bounded one, so every id route is covered."""
    assert app.url_map.converters["int"] is IdConverter
    assert all(
        isinstance(conv, IdConverter)
        for rule, _ in id_rules(app)
        for conv in rule._converters.values()
        if isinstance(conv, IntegerConverter)
    )
    rules = {rule.rule for rule, _ in id_rules(app)}
    assert len(rules) >= 40
    assert "/classes/<int:workshop_id>/book" in rules


def test_huge_ids_are_not_found_on_every_route(app, client, everyone):
    """2^31, 2^63 and 10^23 (and 0) in any id position: 404, for every method."""
    plausible = {"slug": everyone["slug"], "token": "not-a-real-token"}
    headers = {"Authorization": f"Bearer {everyone['token']}"}
    checked = 0
    for rule, methods in id_rules(app):
        for huge in HUGE_IDS:
            url = fill(rule, huge, plausible)
            for method in methods:
                kwargs = {"headers": headers} if url.startswith("/api/") else {}
                if method != "GET":
                    kwargs["json" if url.startswith("/api/") else "data"] = {}
                response = client.open(url, method=method, **kwargs)
                assert response.status_code == 404, (method, url, response.status_code)
                checked += 1
    assert checked >= 4 * 60


@pytest.mark.parametrize("huge", HUGE_IDS)
def test_instructor_feed_with_a_huge_id_is_an_unknown_feed(client, huge):
    """The instructor feed takes its id as text (for the feeds' one 404 message) and
    reads it with the same bounds."""
    response = client.get(f"/feeds/instructors/{huge}.ics")
    assert response.status_code == 404
    assert b"no calendar feed at this address" in response.data


def test_a_real_id_still_reaches_its_view(client, make_workshop):
    """The bound changes nothing for ids that exist."""
    workshop = make_workshop()
    assert client.get(f"/classes/{workshop.id}").status_code == 200
    assert client.get(f"/instructors/{workshop.instructor_id}").status_code == 200
    assert client.get(f"/feeds/instructors/{workshop.instructor_id}.ics").status_code == 200


def test_digits_other_than_ascii_name_nothing(client, make_workshop):
    """Only ASCII digits are an id: Arabic-Indic digits are not read as a number."""
    make_workshop()
    assert client.get("/classes/\u0661").status_code == 404


@pytest.mark.parametrize("huge", [str(2**31), str(2**63), str(10**23), "0", "-1", "1e3"])
def test_booking_form_refuses_a_baby_id_beyond_any_record(
    app, client, auth, make_user, make_workshop, huge
):
    """A huge `baby_id` in the booking form is a field error (422), not a server error."""
    parent = make_user()
    workshop = make_workshop()
    auth.login(parent.email)
    response = client.post(
        f"/classes/{workshop.id}/book", data={"baby_id": huge, "consent": "y"}
    )
    assert response.status_code == 422
    assert b"Choose one of your babies" in response.data


@pytest.mark.parametrize("huge", [str(2**31), str(10**23)])
def test_id_fields_in_forms_refuse_huge_values(app, client, everyone, huge):
    """Other forms holding an id (a make-up's session, a role's centre) refuse it as 4xx."""
    with app.app_context():
        user_id = db.session.scalar(sa.select(User.id))
    response = client.post(
        f"/admin/users/{user_id}/roles/remove", data={"centre_id": huge, "role": "staff"}
    )
    assert response.status_code == 422
    response = client.post(
        f"/admin/users/{user_id}/roles", data={"centre_id": huge, "role": "staff"}
    )
    assert response.status_code == 422
    response = client.post("/account/makeups/1/book", data={"session_id": huge})
    assert 400 <= response.status_code < 500


@pytest.mark.parametrize(
    "query",
    [f"instructor={2**31}", f"instructor={10**23}", f"page={2**63}", f"age_weeks={10**23}"],
)
def test_catalogue_refuses_huge_numbers_in_the_query(client, query):
    """The catalogue's numeric parameters are bounded too: 400 naming the parameter."""
    assert client.get(f"/classes?{query}").status_code == 400
    response = client.get(f"/api/v1/workshops?{query}")
    assert response.status_code == 400
    assert response.get_json()["error"]["fields"]


def test_admin_user_list_page_is_bounded(client, everyone):
    """The admin user list's page number is bounded as well."""
    assert client.get(f"/admin/users?page={10**23}").status_code < 500
