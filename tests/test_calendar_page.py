"""`/account/calendar`: the private feed link shown on every visit, the same each time,
replaced by "Make a new link", stopped by "Stop the link"; a link from before links
were derived is offered a replacement rather than shown."""

import re

import pytest

from booking.extensions import db
from booking.models import User
from booking.models.token import hash_secret, new_secret
from tests.html_checker import html_errors

LINK = re.compile(r"https://classes\.example\.org/feeds/private/([A-Za-z0-9_-]{43})\.ics")


@pytest.fixture
def parent(make_user, auth):
    """A logged-in parent."""
    user = make_user(email="pat@example.org", name="Pat Parent")
    auth.login("pat@example.org")
    return user


def text(response) -> str:
    return response.get_data(as_text=True)


def shown_token(client) -> str | None:
    """The token of the https link the page shows, checking the webcal twin is there."""
    page = text(client.get("/account/calendar"))
    match = LINK.search(page)
    if match is None:
        return None
    assert f"webcal://classes.example.org/feeds/private/{match.group(1)}.ics" in page
    assert "webcal%3A%2F%2Fclasses.example.org%2Ffeeds%2Fprivate%2F" + match.group(1) in page
    return match.group(1)


def test_the_link_is_shown_on_every_visit_until_replaced_or_stopped(app, client, parent):
    assert shown_token(client) is None
    assert "Create my calendar link" in text(client.get("/account/calendar"))
    made = client.post("/account/calendar")
    assert made.headers["Location"] == "/account/calendar"
    token = shown_token(client)
    assert token and shown_token(client) == token  # the same link, visit after visit
    assert client.get(f"/feeds/private/{token}.ics").status_code == 200
    with app.app_context():
        stored = db.session.get(User, parent.id).feed_token_hash
    assert stored == hash_secret(token)

    reset = client.post("/account/calendar/reset", follow_redirects=True)
    assert "The old link no longer works" in text(reset)
    new = shown_token(client)
    assert new and new != token
    assert client.get(f"/feeds/private/{token}.ics").status_code == 404
    assert client.get(f"/feeds/private/{new}.ics").status_code == 200

    stopped = client.post("/account/calendar/stop", follow_redirects=True)
    assert "Your calendar link is stopped" in text(stopped)
    assert "You have no calendar link yet" in text(stopped)
    assert shown_token(client) is None
    assert client.get(f"/feeds/private/{new}.ics").status_code == 404
    client.post("/account/calendar")
    again = shown_token(client)
    assert again not in (None, token, new)


def test_an_old_random_link_is_offered_a_replacement(app, client, parent):
    legacy = new_secret()
    with app.app_context():
        db.session.get(User, parent.id).feed_token_hash = hash_secret(legacy)
        db.session.commit()
    page = text(client.get("/account/calendar"))
    assert "You have a calendar link" in page and ">Make a link<" in page
    assert shown_token(client) is None
    assert client.get(f"/feeds/private/{legacy}.ics").status_code == 200  # still works
    client.post("/account/calendar/reset")
    token = shown_token(client)
    assert token is not None
    assert client.get(f"/feeds/private/{legacy}.ics").status_code == 404


def test_the_posts_need_a_login_and_a_fresh_form(app, client, auth, parent, make_user):
    client.post("/account/calendar")
    token = shown_token(client)
    app.config["WTF_CSRF_ENABLED"] = True
    for path in ("/account/calendar", "/account/calendar/reset", "/account/calendar/stop"):
        refused = client.post(path)
        assert refused.status_code == 400, path
        assert "This form had expired" in text(refused)
    assert shown_token(client) == token  # nothing changed
    assert client.get("/account/calendar/stop").status_code == 405
    app.config["WTF_CSRF_ENABLED"] = False
    auth.logout()
    assert client.post("/account/calendar/stop").status_code == 302  # to the login
    assert client.get(f"/feeds/private/{token}.ics").status_code == 200


def test_an_instructor_gets_the_same_kind_of_link(client, auth, make_centre, make_user):
    centre = make_centre()
    make_user(email="ina@example.org", role="instructor", centre=centre)
    auth.login("ina@example.org")
    client.post("/account/calendar")
    token = shown_token(client)
    assert token and shown_token(client) == token
    assert "the classes you teach are in it too" in text(client.get("/account/calendar"))


def test_the_page_is_valid_html_in_each_state(app, client, parent):
    app.config["WTF_CSRF_ENABLED"] = True
    pages = {"no link": text(client.get("/account/calendar"))}
    app.config["WTF_CSRF_ENABLED"] = False
    client.post("/account/calendar")
    app.config["WTF_CSRF_ENABLED"] = True
    pages["a link"] = text(client.get("/account/calendar"))
    with app.app_context():
        db.session.get(User, parent.id).feed_token_hash = hash_secret(new_secret())
        db.session.commit()
    pages["an old link"] = text(client.get("/account/calendar"))
    assert LINK.search(pages["a link"]) and not LINK.search(pages["an old link"])
    errors = html_errors(pages)
    invalid = {label: problems for label, problems in errors.items() if problems}
    assert not invalid, "\n".join(
        f"{label}:\n  " + "\n  ".join(problems) for label, problems in invalid.items()
    )
