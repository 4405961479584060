"""On PostgreSQL a request whose transaction only read ends it with COMMIT, so psycopg
keeps its prepared statements (it forgets them at every ROLLBACK) and PostgreSQL plans a
page's queries once per connection; anything written outside a use case's transaction,
or a request that failed, is still rolled back."""

import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import Centre


@pytest.fixture
def ends(app):
    """How each transaction ended: "commit" or "rollback", in order."""
    seen: list[str] = []
    with app.app_context():
        engine = db.engine
    listeners = [("commit", lambda conn: seen.append("commit")),
                 ("rollback", lambda conn: seen.append("rollback"))]
    for name, listener in listeners:
        sa.event.listen(engine, name, listener)
    yield seen
    for name, listener in listeners:
        sa.event.remove(engine, name, listener)


@pytest.fixture
def routes(app):
    """Routes that write without a use case's transaction, fail, or count the prepared
    statements of their connection."""

    @app.get("/_test/write")
    def write_outside():
        db.session.add(Centre(slug="written", name="Written", address="1 Road",
                              town="Leeds", postcode="LS1 1AA", timezone="Europe/London",
                              published=True))
        db.session.flush()
        return "flushed"

    @app.get("/_test/fail")
    def fail_after_reading():
        db.session.scalar(sa.select(sa.func.count(Centre.id)))
        raise RuntimeError("a bug")

    @app.get("/_test/prepared")
    def prepared():
        return str(db.session.scalar(sa.text("SELECT count(*) FROM pg_prepared_statements")))


def _is_postgresql(app) -> bool:
    with app.app_context():
        return db.engine.dialect.name == "postgresql"


def test_a_page_that_only_read_commits_on_postgresql(app, client, make_workshop, ends):
    workshop = make_workshop()
    ends.clear()
    assert client.get(f"/classes/{workshop.id}").status_code == 200
    expected = "commit" if _is_postgresql(app) else "rollback"
    assert ends and ends[-1] == expected


def test_what_was_written_outside_a_use_case_is_rolled_back(app, client, routes, ends):
    assert client.get("/_test/write").status_code == 200
    assert ends[-1] == "rollback"
    with app.app_context():
        assert db.session.scalar(sa.select(Centre).where(Centre.slug == "written")) is None


def test_a_request_that_failed_is_rolled_back(app, client, routes, ends):
    with pytest.raises(RuntimeError):  # the tests' app lets an error through
        client.get("/_test/fail")
    assert ends[-1] == "rollback"


def test_prepared_statements_outlive_requests_on_postgresql(app, client, routes, make_workshop):
    if not _is_postgresql(app):
        pytest.skip("prepared statements are psycopg's")
    workshop = make_workshop()
    for _ in range(8):  # psycopg prepares a query from its fifth run on a connection
        assert client.get(f"/classes/{workshop.id}").status_code == 200
    assert int(client.get("/_test/prepared").get_data(as_text=True)) > 0
