"""Where rate limits are counted: shared by every worker (Redis) when `make run` can, in
each worker's memory otherwise, and never a 500 when the shared store stops answering."""

import uuid

import pytest
import redis

from booking import create_app, serve
from booking.extensions import db, limiter
from config import load_config

LOCAL_REDIS = "redis://127.0.0.1:6379"


def _limited_app(app, storage_uri):
    config = {
        key: app.config[key]
        for key in ("TESTING", "SQLALCHEMY_DATABASE_URI", "WTF_CSRF_ENABLED", "MAIL_SERVER",
                    "MAIL_DIR", "BASE_URL")
    }
    return create_app({**config, "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": storage_uri})


@pytest.fixture
def app_on(app):
    """Make apps with rate limits on over a given storage; put the limiter back after."""
    made = []

    def make(storage_uri):
        made.append(_limited_app(app, storage_uri))
        return made[-1]

    yield make
    # The limiter is one object for every app: leave it counting in memory again, as the
    # other tests expect, and forget that a store was found dead.
    limiter._storage_dead = False
    _limited_app(app, "memory://")
    limiter.enabled = False
    for each in made:
        with each.app_context():
            db.session.remove()
            db.engine.dispose()


def _login(client, email, password="wrong-password", address="203.0.113.9"):
    return client.post(
        "/login",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def test_counts_are_kept_in_redis_where_every_worker_sees_them(app_on, make_user):
    store = redis.Redis.from_url(LOCAL_REDIS, socket_connect_timeout=0.5)
    try:
        store.ping()
    except redis.RedisError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    email = f"shared-{uuid.uuid4().hex}@example.org"
    make_user(email=email)
    client = app_on(LOCAL_REDIS).test_client()
    try:
        assert _login(client, email).status_code == 401
        keys = [key.decode() for key in store.scan_iter(match=f"*{email}*")]
        # The failure is counted for the account with this address, and for the account.
        assert any("|address:203.0.113.9" in key for key in keys)
        assert any("login-failures-account" in key for key in keys)
        assert {int(store.get(key)) for key in keys} == {1}
    finally:
        for key in store.scan_iter(match=f"*{email}*"):
            store.delete(key)


def test_a_dead_store_falls_back_to_memory_and_never_gives_500(app_on, make_user):
    make_user(email="p@example.org")
    client = app_on("redis://127.0.0.1:1").test_client()
    statuses = [_login(client, "p@example.org").status_code for _ in range(11)]
    # Still limited, now in this worker's memory.
    assert statuses == [401] * 10 + [429]
    assert client.get("/password/forgot").status_code == 200


def test_redis_settings_time_out_quickly(monkeypatch, tmp_path):
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", LOCAL_REDIS)
    config = load_config(str(tmp_path))
    assert config["RATELIMIT_STORAGE_OPTIONS"]["socket_timeout"] <= 1
    assert config["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] is True
    monkeypatch.delenv("RATELIMIT_STORAGE_URI")
    assert load_config(str(tmp_path))["RATELIMIT_STORAGE_OPTIONS"] == {}


def test_make_run_shares_counts_through_the_local_redis(monkeypatch):
    monkeypatch.setattr(serve, "redis_answers", lambda uri: uri == serve.LOCAL_REDIS)
    uri, workers, note = serve.choose_ratelimit_storage({})
    assert (uri, workers) == (serve.LOCAL_REDIS, 2)
    assert "shared by the workers" in note


def test_make_run_without_redis_runs_one_worker_and_says_why(monkeypatch):
    monkeypatch.setattr(serve, "redis_answers", lambda uri: False)
    uri, workers, note = serve.choose_ratelimit_storage({})
    assert (uri, workers) == (None, 1)
    assert note.startswith("WARNING:") and "each worker's memory" in note
    uri, workers, note = serve.choose_ratelimit_storage({"RATELIMIT_STORAGE_URI": "memory://"})
    assert workers == 1 and "memory://" in note


def test_make_run_keeps_an_explicit_store_and_never_prints_its_password(monkeypatch):
    monkeypatch.setattr(serve, "redis_answers", lambda uri: False)
    given = "redis://:s3cret@cache.internal:6379/2"
    uri, workers, note = serve.choose_ratelimit_storage({"RATELIMIT_STORAGE_URI": given})
    assert (uri, workers) == (given, 2)
    assert "s3cret" not in note and "cache.internal:6379/2" in note


def test_redis_answers_is_false_when_nothing_listens():
    assert serve.redis_answers("redis://127.0.0.1:1") is False
