"""/healthz and /readyz: JSON, 200 or 503, never cached, never rate limited, no cookie
and nothing about anyone."""

import os
import subprocess
import sys
from datetime import timedelta

import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import OutboxMessage, Registration
from booking.models.base import utcnow
from booking.models.registration import PENDING_PAYMENT
from tests.ops_helpers import another_app, app_wide_limit

CHECKS = {"database", "migrations", "outbox", "payments"}


def queue_email(app, *, waited: timedelta, retry_in: timedelta | None = None, **fields):
    """A pending email created `waited` ago, due then (or retried `retry_in` from now)."""
    now = utcnow()
    with app.app_context():
        db.session.add(
            OutboxMessage(
                recipient=fields.get("recipient", "someone@example.org"),
                subject="Your booking",
                body_text="Hello",
                created_at=now - waited,
                next_attempt_at=now + retry_in if retry_in else now - waited,
                attempts=1 if retry_in else 0,
            )
        )
        db.session.commit()


def assert_plain_answer(response) -> None:
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers
    assert response.mimetype == "application/json"
    assert len(response.headers["X-Request-ID"]) == 32


def test_healthz_answers_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert_plain_answer(response)


def test_readyz_on_a_fresh_database_is_ready(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == CHECKS
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["migrations"]["found"] == body["checks"]["migrations"]["expected"]
    assert body["checks"]["outbox"]["oldest_due_seconds"] == 0
    assert_plain_answer(response)


def test_an_email_waiting_too_long_makes_readyz_fail(app, client):
    app.config["READY_OUTBOX_MAX_AGE_SECONDS"] = 300
    queue_email(app, waited=timedelta(minutes=4))
    assert client.get("/readyz").status_code == 200
    queue_email(app, waited=timedelta(minutes=20), recipient="pat.parent@example.org")
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "failing"
    assert body["checks"]["outbox"]["ok"] is False
    assert body["checks"]["outbox"]["oldest_due_seconds"] >= 20 * 60
    assert body["checks"]["database"]["ok"] and body["checks"]["migrations"]["ok"]
    assert "pat.parent" not in response.get_data(as_text=True)
    assert_plain_answer(response)


def test_an_email_waiting_for_its_retry_is_not_stuck(app, client):
    """An old message whose next attempt is later (its recipient's server said "try
    again") is not due: the worker is not behind."""
    queue_email(app, waited=timedelta(hours=3), retry_in=timedelta(minutes=30))
    assert client.get("/readyz").status_code == 200


@pytest.fixture
def old_revision(app):
    """The database's alembic revision set to another one for the test, then put back."""
    with app.app_context():
        kept = db.session.scalar(sa.text("SELECT version_num FROM alembic_version"))
        db.session.execute(sa.text("UPDATE alembic_version SET version_num = 'older'"))
        db.session.commit()
    yield kept
    with app.app_context():
        db.session.execute(
            sa.text("UPDATE alembic_version SET version_num = :kept"), {"kept": kept}
        )
        db.session.commit()


def test_a_database_behind_the_migrations_makes_readyz_fail(client, old_revision):
    response = client.get("/readyz")
    assert response.status_code == 503
    migrations = response.get_json()["checks"]["migrations"]
    assert migrations == {"ok": False, "expected": [old_revision], "found": ["older"]}


def test_a_hold_nobody_ended_makes_readyz_fail(app, client, make_workshop, make_user, make_baby):
    """A place held for payment long past its deadline: the payments worker is not
    running."""
    workshop = make_workshop()
    parent = make_user()
    baby = make_baby(parent)
    app.config["READY_OUTBOX_MAX_AGE_SECONDS"] = 600
    with app.app_context():
        db.session.add(
            Registration(
                workshop_id=workshop.id, baby_id=baby.id, parent_id=parent.id,
                status=PENDING_PAYMENT, hold_expires_at=utcnow() - timedelta(minutes=5),
            )
        )
        db.session.commit()
    assert client.get("/readyz").status_code == 200
    with app.app_context():
        db.session.execute(
            sa.update(Registration).values(hold_expires_at=utcnow() - timedelta(minutes=30))
        )
        db.session.commit()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["payments"]["ok"] is False
    assert response.get_json()["checks"]["outbox"]["ok"] is True


def test_an_unreachable_database_makes_readyz_fail_not_crash(app, tmp_path):
    missing = tmp_path / "no-such-folder" / "booking.sqlite3"
    with another_app(app, SQLALCHEMY_DATABASE_URI=f"sqlite:///{missing}") as broken:
        client = broken.test_client()
        response = client.get("/readyz")
        assert response.status_code == 503
        checks = response.get_json()["checks"]
        assert set(checks) == CHECKS and not any(check["ok"] for check in checks.values())
        assert client.get("/healthz").status_code == 200


def test_readyz_is_never_served_from_the_page_cache(app):
    with another_app(app, PAGE_CACHE_SECONDS=5) as cached:
        client = cached.test_client(use_cookies=False)
        assert client.get("/readyz").status_code == 200
        queue_email(app, waited=timedelta(hours=1))
        assert client.get("/readyz").status_code == 503
        assert client.get("/healthz").headers["Cache-Control"] == "no-store"


def test_health_checks_are_not_rate_limited(app):
    with app_wide_limit(app, "2 per minute") as limited:
        client = limited.test_client()
        address = {"REMOTE_ADDR": "198.51.100.7"}
        for _ in range(5):
            assert client.get("/healthz", environ_base=address).status_code == 200
            assert client.get("/readyz", environ_base=address).status_code == 200
        # The limit is really on: any other page is refused on the third request.
        statuses = [client.get("/centres", environ_base=address).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]


def test_a_signed_in_poll_sets_no_cookie(client, auth, make_user):
    user = make_user()
    auth.login(user.email)
    for url in ("/healthz", "/readyz"):
        response = client.get(url)
        assert response.status_code == 200
        assert_plain_answer(response)


def _script(directory, name: str, revision: str, down) -> None:
    (directory / "versions" / f"{name}.py").write_text(
        f'"""{name}"""\nrevision: str = {revision!r}\ndown_revision = {down!r}\n'
        "branch_labels = None\ndepends_on = None\n\n\ndef upgrade():\n    pass\n"
    )


def test_readyz_knows_the_heads_alembic_knows(tmp_path):
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from booking.extensions import MIGRATIONS_DIR
    from booking.services.ops import migration_heads

    def alembic_heads(directory: str) -> frozenset[str]:
        config = Config()
        config.set_main_option("script_location", directory)
        return frozenset(ScriptDirectory.from_config(config).get_heads())

    assert migration_heads(MIGRATIONS_DIR) == alembic_heads(MIGRATIONS_DIR)
    # Two branches, one of them merged back, and a second head left open.
    (tmp_path / "versions").mkdir()
    (tmp_path / "script.py.mako").write_text("")
    _script(tmp_path, "a", "a1", None)
    _script(tmp_path, "b", "b1", "a1")
    _script(tmp_path, "c", "c1", "a1")
    _script(tmp_path, "m", "m1", ("b1", "c1"))
    _script(tmp_path, "d", "d1", "a1")
    assert migration_heads(str(tmp_path)) == alembic_heads(str(tmp_path)) == {"m1", "d1"}


def _in_a_worker(app, code: str) -> str:
    """The last line `code` prints, run in a new Python on the app's database after
    importing the app as a web worker does (`from wsgi import app`) and asking /readyz."""
    code = "from wsgi import app\napp.test_client().get('/readyz')\n" + code
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"]}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


def test_serving_pages_never_loads_alembic(app):
    """Alembic (with Mako and Pygments) is only for `flask db`: a web worker that
    imports the app and answers /readyz has none of it in memory."""
    loaded = _in_a_worker(app, "import sys\nprint(sorted({m.split('.')[0] for m in "
                               "sys.modules} & {'alembic', 'flask_migrate', 'mako', "
                               "'pygments'}))\n")
    assert loaded == "[]"


def test_a_worker_freezes_what_it_starts_with(app):
    """The objects made while starting (modules, models, routes) are frozen once the app
    is built: the collector's full passes, which stop every thread of a worker, walk only
    what requests have made since, not the ~150,000 objects the worker started with."""
    line = _in_a_worker(app, "import gc\nprint(gc.get_freeze_count(), len(gc.get_objects()))\n")
    frozen, tracked = map(int, line.split())
    assert frozen > 5 * tracked, (frozen, tracked)


def test_a_postgresql_connection_gives_up_in_seconds(tmp_path, monkeypatch):
    """A database host that stops answering fails requests (and /readyz) after
    PG_CONNECT_TIMEOUT seconds, not the system's TCP timeout; a connect_timeout in
    DATABASE_URL is kept as given; SQLite has no such setting."""
    from booking import create_app
    from config import PG_CONNECT_TIMEOUT, load_config

    monkeypatch.setenv("DATABASE_URL", "postgresql://booking@db.example.org/booking")
    options = load_config(str(tmp_path))["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options == {"hide_parameters": True,
                       "connect_args": {"connect_timeout": PG_CONNECT_TIMEOUT}}
    monkeypatch.setenv("DATABASE_URL", "postgresql://db.example.org/booking?connect_timeout=2")
    assert "connect_args" not in load_config(str(tmp_path))["SQLALCHEMY_ENGINE_OPTIONS"]
    # An app given another database than the environment's gets that one's options.
    monkeypatch.setenv("DATABASE_URL", "postgresql://booking@db.example.org/booking")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'other.sqlite3'}"})
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"] == {"hide_parameters": True}
    with app.app_context():
        assert db.session.scalar(sa.text("SELECT 1")) == 1
