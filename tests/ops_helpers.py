"""Helpers for the operations tests: a second app made from the test app's settings,
one with an app-wide rate limit, and a metric read from the /metrics page."""

from contextlib import contextmanager

from prometheus_client.parser import text_string_to_metric_families

from booking import create_app
from booking.extensions import db, limiter

_KEPT = ("TESTING", "SQLALCHEMY_DATABASE_URI", "WTF_CSRF_ENABLED", "MAIL_SERVER", "MAIL_DIR",
         "BASE_URL", "RATELIMIT_ENABLED")


@contextmanager
def another_app(app, **settings):
    """An app on the test app's database with `settings` changed; disposed after."""
    other = create_app({**{key: app.config[key] for key in _KEPT}, **settings})
    try:
        yield other
    finally:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


@contextmanager
def app_wide_limit(app, limit: str):
    """An app where every route not exempt allows `limit` requests per address. The
    limiter is one object for every app: its app-wide limit and counts are put back."""
    limiter.reset()
    try:
        with another_app(
            app, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://",
            RATELIMIT_APPLICATION=limit,
        ) as limited:
            yield limited
    finally:
        limiter.limit_manager.set_application_limits([])
        limiter.reset()
        limiter.enabled = False


def metric(client, name: str, **labels) -> float:
    """One sample's value on the /metrics page (0 when it is not there yet)."""
    response = client.get("/metrics")
    assert response.status_code == 200
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0
