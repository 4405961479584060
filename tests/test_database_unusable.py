"""A database that cannot be used (it does not answer, or lacks this version's tables)
answers 503 with Retry-After and a page that reads nothing from it, never a 500; any
other SQL error is still the code's fault."""

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from booking.errors import RETRY_AFTER_SECONDS, UNREACHABLE, UPDATING
from booking.web.api.openapi import WITHOUT_DATABASE, openapi_document
from tests.html_checker import html_errors
from tests.ops_helpers import another_app


def assert_unavailable(response, message: str) -> None:
    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    if response.mimetype == "application/json":
        error = response.get_json()["error"]
        assert error["code"] == "unavailable"
        assert error["message"] == message
        assert error["fields"] == {}  # the document's Error, as every API refusal
    else:
        assert response.mimetype == "text/html"
        page = response.get_data(as_text=True)
        assert "<h1>Back in a minute</h1>" in page
        assert message.replace("'", "&#39;") in page
        assert "Traceback" not in page


def test_a_database_without_this_versions_tables_says_the_site_is_being_updated(
    app, new_database, caplog
):
    with another_app(app, SQLALCHEMY_DATABASE_URI=new_database()) as updating:
        client = updating.test_client()
        for path in ("/classes", "/classes/1", "/centres/centre-1", "/feeds/centres/x.ics"):
            assert_unavailable(client.get(path), UPDATING)
        assert_unavailable(client.get("/api/v1/workshops"), UPDATING)
        # A form sent meanwhile is told the same (nothing could be saved).
        assert_unavailable(
            client.post("/login", data={"email": "a@example.org", "password": "x" * 12}),
            UPDATING,
        )
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 503
    logged = [r.getMessage() for r in caplog.records if r.name == "booking.errors"]
    assert logged and all("its tables are not this version's" in m for m in logged)
    assert all(r.exc_info is None for r in caplog.records if r.name == "booking.errors")


def test_a_database_that_cannot_be_opened_says_so_and_when_to_try_again(app, tmp_path):
    missing = tmp_path / "no-such-folder" / "booking.sqlite3"
    with another_app(app, SQLALCHEMY_DATABASE_URI=f"sqlite:///{missing}") as broken:
        client = broken.test_client()
        assert_unavailable(client.get("/classes"), UNREACHABLE)
        assert_unavailable(client.get("/api/v1/workshops"), UNREACHABLE)
        page = client.get("/classes?town=Bristol").get_data(as_text=True)
        assert 'href="http://localhost/classes?town=Bristol">Try again</a>' in page
        assert html_errors({"unavailable": page}) == {"unavailable": []}
        assert not missing.parent.exists()


@pytest.fixture
def database_gone(monkeypatch):
    """Every statement from now on fails as a database that went away does."""

    def refuse(*args, **kwargs):
        raise sa.exc.OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    def go():
        monkeypatch.setattr(Session, "_execute_internal", refuse)

    return go


def test_a_logged_in_parent_gets_the_page_without_their_menu(
    client, auth, make_user, database_gone
):
    """The page must not read the user (or anything else): the menu of a logged-in
    person would, and fail again while the error is answered."""
    make_user(email="parent@example.org")
    auth.login("parent@example.org")
    assert client.get("/account/bookings").status_code == 200
    database_gone()
    response = client.get("/account/bookings")
    assert_unavailable(response, UNREACHABLE)
    assert "My bookings</a>" not in response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers


def test_any_other_sql_error_is_still_a_fault(app, client, monkeypatch):
    def faulty(*args, **kwargs):
        raise sa.exc.ProgrammingError("SELEC 1", {}, Exception('syntax error at "SELEC"'))

    monkeypatch.setattr(Session, "_execute_internal", faulty)
    with pytest.raises(sa.exc.ProgrammingError):  # the test app lets faults through
        client.get("/classes")
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    response = client.get("/classes")
    assert response.status_code == 500
    assert "Retry-After" not in response.headers


def test_the_api_document_declares_the_503_where_the_database_is_read():
    for item in openapi_document()["paths"].values():
        for operation in item.values():
            answers = operation["responses"]
            if operation["operationId"] in WITHOUT_DATABASE:
                assert "503" not in answers
            else:
                assert "Retry-After" in answers["503"]["headers"], operation["operationId"]
