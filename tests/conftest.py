"""Fixtures: an app on a fresh database (SQLite, or PostgreSQL via TEST_DATABASE_URL),
its client and CLI runner, an `auth` helper and factories for the domain."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest
import sqlalchemy as sa

from booking import create_app, revision_cache
from booking.db import write_transaction
from booking.extensions import db, init_migrations, limiter
from booking.models import (
    Baby,
    Centre,
    InstructorProfile,
    Membership,
    User,
    Workshop,
    WorkshopSession,
)
from booking.models.base import utcnow
from booking.models.workshop import DRAFT, PUBLISHED
from booking.passwords import hash_password
from booking.services.schedule.create import create_workshop
from booking.services.schedule.span import refresh_span
from booking.services.schedule.workshop_input import check_workshop
from booking.timefmt import to_local
from config import normalise_database_url

PASSWORD = "correct-horse-battery"
# Hashing with argon2's default cost in every factory call would dominate the suite.
_PASSWORD_HASH = hash_password(PASSWORD)


def _postgres_url() -> str | None:
    raw = os.environ.get("TEST_DATABASE_URL")
    return normalise_database_url(raw) if raw else None


@pytest.fixture
def new_database(app, tmp_path):
    """Make new, empty databases of the app's kind (a new SQLite file, or a new
    PostgreSQL database dropped afterwards); each call gives one's URL."""
    url = sa.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    made = []

    def make() -> str:
        if url.get_backend_name() == "sqlite":
            return f"sqlite:///{tmp_path / f'new-{uuid.uuid4().hex[:8]}.sqlite3'}"
        name = f"booking_new_{uuid.uuid4().hex[:12]}"
        with _postgres_server(url) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        made.append(name)
        return url.set(database=name).render_as_string(hide_password=False)

    yield make
    for name in made:
        with _postgres_server(url) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _postgres_server(url):
    conninfo = url.set(drivername="postgresql", database="postgres")
    return psycopg.connect(conninfo.render_as_string(hide_password=False), autocommit=True)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """A database of its own for this test run, built by the migrations."""
    server_url = _postgres_url()
    created = None
    if server_url:
        url = sa.make_url(server_url)
        name = f"booking_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        except sa.exc.OperationalError as exc:  # pragma: no cover - CI must notice
            pytest.exit(f"TEST_DATABASE_URL is set but PostgreSQL is unreachable: {exc}", 3)
        created = (admin, name)
        test_url = url.set(database=name).render_as_string(hide_password=False)
    else:
        test_url = "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite3")

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": test_url})
    init_migrations(app)
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        _DATABASE_USED.append(db.engine.dialect.name)
        db.engine.dispose()
    yield test_url
    if created:
        admin, name = created
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


_DATABASE_USED: list[str] = []


def pytest_report_header(config):
    """Say which database the suite runs on."""
    return "database: " + ("postgresql" if _postgres_url() else "sqlite")


def pytest_terminal_summary(terminalreporter):
    """Say, even under -q, which database the tests actually ran against."""
    if _DATABASE_USED:
        terminalreporter.write_line("database: " + _DATABASE_USED[0])


def _empty_tables() -> None:
    # DELETE, not TRUNCATE: on PostgreSQL, TRUNCATE of every table costs far more than
    # deleting the few rows a test leaves behind. Tests never rely on particular ids.
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def stripe_server():
    """A localstripe (a stateful fake Stripe with a Stripe.js stand-in) for this run,
    on a free port; its base URL."""
    port = _free_port()
    launcher = os.path.join(os.path.dirname(__file__), "localstripe_server.py")
    process = subprocess.Popen(
        [sys.executable, launcher, "--port", str(port), "--from-scratch"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            with urllib.request.urlopen(base + "/js.stripe.com/v3/", timeout=0.5):
                break
        except OSError:
            if process.poll() is not None:
                pytest.fail("localstripe did not start")
            time.sleep(0.05)
    else:
        process.kill()
        pytest.fail("localstripe did not answer")
    yield base
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def stripe(app, stripe_server):
    """Online payment switched on for the app, against the run's localstripe; its base URL."""
    from tests.payment_helpers import stripe_settings

    app.config.update(stripe_settings(stripe_server))
    return stripe_server


@pytest.fixture
def app(database_url, tmp_path):
    """The app on an empty database, with mail written under a temporary folder."""
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "MAIL_SERVER": None,
            "MAIL_DIR": str(tmp_path / "mail"),
            "BASE_URL": "https://classes.example.org",
            "SERVER_NAME": None,
            "POSTCODES_API_URL": "http://127.0.0.1:9",  # never the internet
        }
    )
    with app.app_context():
        _empty_tables()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@contextmanager
def rate_limited_app(app, **config):
    """Another app on `app`'s database and mail folder with its rate limits on (as in
    production, counted in memory from zero), closed again afterwards. Flask-Limiter
    installs its after-request hook (which counts failed attempts) only in apps created
    with limits enabled."""
    keys = ("TESTING", "SQLALCHEMY_DATABASE_URI", "WTF_CSRF_ENABLED", "MAIL_SERVER",
            "MAIL_DIR", "BASE_URL", "POSTCODES_API_URL")
    limited = create_app({
        **{key: app.config[key] for key in keys},
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": "memory://",
        **config,
    })
    limiter.reset()
    try:
        yield limited
    finally:
        limiter.reset()
        limiter.enabled = False
        with limited.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def steady_listing_clock(monkeypatch):
    """The listing cache's clock stopped at the test's start. A kept listing's key names
    the quarter hour and LISTING_CACHE_SECONDS' period it was rendered in, so two requests
    a test expects to share one must not fall either side of such a boundary."""
    now = utcnow()
    monkeypatch.setattr(revision_cache, "utcnow", lambda: now)
    return now


@pytest.fixture
def nothing_kept(app):
    """Listings and feeds rendered afresh on every request (LISTING_CACHE_SECONDS=0):
    what a test counts is what a render reads, not a kept page's one statement."""
    app.config["LISTING_CACHE_SECONDS"] = 0


@pytest.fixture
def client(app):
    """A test client."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A CLI runner for the flask commands."""
    return app.test_cli_runner()


@pytest.fixture
def ctx(app):
    """An application context, for calling services directly."""
    with app.app_context():
        yield app


class AuthActions:
    """Log in and out through the real forms."""

    def __init__(self, client):
        self._client = client

    def login(self, email: str, password: str = PASSWORD):
        return self._client.post("/login", data={"email": email, "password": password})

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(client):
    """Log the test client in and out."""
    return AuthActions(client)


def _commit(obj):
    db.session.add(obj)
    db.session.commit()
    return obj


@pytest.fixture
def make_centre(app):
    """Create a centre: make_centre(slug=..., timezone=...)."""
    counter = {"n": 0}

    def make(**fields) -> Centre:
        counter["n"] += 1
        n = counter["n"]
        values = {
            "slug": f"centre-{n}",
            "name": f"Centre {n}",
            "address": f"{n} High Street",
            "town": "Bristol",
            "postcode": "BS1 4DJ",
            "country": "GB",
            "timezone": "Europe/London",
            "contact_email": f"centre{n}@example.org",
            "published": True,
        }
        values.update(fields)
        with app.app_context():
            centre = _commit(Centre(**values))
            db.session.refresh(centre)
            db.session.expunge(centre)
        return centre

    return make


@pytest.fixture
def make_user(app):
    """Create a user: make_user(email, role='parent'|'instructor'|'staff'|'admin', centre=...)."""
    counter = {"n": 0}

    def make(email=None, name=None, role="parent", centre=None, password=None) -> User:
        counter["n"] += 1
        email = email or f"user{counter['n']}@example.org"
        with app.app_context():
            user = User(
                email=email.lower(),
                name=name or email.split("@")[0].title(),
                password_hash=hash_password(password) if password else _PASSWORD_HASH,
                is_admin=role == "admin",
            )
            _commit(user)
            if role in ("staff", "instructor"):
                centre_id = centre.id if centre is not None else None
                assert centre_id, "staff and instructors need a centre"
                db.session.add(Membership(user_id=user.id, centre_id=centre_id, role=role))
                if role == "instructor":
                    db.session.add(InstructorProfile(user_id=user.id, display_name=user.name))
                db.session.commit()
            db.session.refresh(user)
            user_id = user.id
            db.session.expunge(user)
        user.id = user_id
        return user

    return make


@pytest.fixture
def make_baby(app):
    """Create a baby: make_baby(parent, name='Ada', age_weeks=10, due_date=None);
    `born_early_weeks=5` sets the due date that many weeks after the birth."""

    def make(
        parent, name="Ada", age_weeks=10, date_of_birth=None, due_date=None, born_early_weeks=0
    ) -> Baby:
        dob = date_of_birth or (date.today() - timedelta(weeks=age_weeks))
        if born_early_weeks:
            due_date = dob + timedelta(weeks=born_early_weeks)
        with app.app_context():
            baby = _commit(
                Baby(
                    parent_id=parent.id,
                    name=name,
                    name_key=Baby.key_for(name),
                    date_of_birth=dob,
                    due_date=due_date,
                )
            )
            db.session.refresh(baby)
            db.session.expunge(baby)
        return baby

    return make


# The keywords of make_workshop that create_workshop takes under the same name.
_SERVICE_FIELDS = frozenset(
    {
        "kind",
        "title",
        "capacity",
        "min_age_weeks",
        "max_age_weeks",
        "price",
        "description",
        "what_to_bring",
        "min_places",
        "held_places",
        "late_join_until",
        "cancellation_cutoff_hours",
    }
)


def _create_through_service(centre_id, instructor_id, values, times, duration_minutes):
    """The workshop as create_workshop builds it, or None when the service would refuse
    the request or schedule it otherwise (its weekly sessions keep the centre's local
    time, so across a clock change they are not a week apart in UTC)."""
    status = values["status"]
    if status not in (PUBLISHED, DRAFT) or not set(values) <= _SERVICE_FIELDS | {"status"}:
        return None  # a cancelled workshop, or a value only a later use case sets
    if not times:
        return None
    timezone = db.session.scalar(sa.select(Centre.timezone).where(Centre.id == centre_id))
    data = {
        **{name: value for name, value in values.items() if name != "status"},
        "centre_id": centre_id,
        "instructor_id": instructor_id,
        "first_session_local": to_local(times[0][0], timezone).replace(tzinfo=None),
        "sessions": len(times),
        "duration_minutes": duration_minutes,
        "publish": status == PUBLISHED,
    }
    clean, errors = check_workshop(data)
    if errors or clean["times"] != times:
        return None
    return create_workshop(**data, allow_clash=True)


def _insert_for_test(centre_id, instructor_id, values, times):
    """A workshop in a state create_workshop refuses by design: sessions already under
    way or over, a capacity outside its range, a course of fewer than two sessions, a
    duplicate, an instructor from elsewhere, a cancelled workshop, or values such as
    decision_at and held_until that later use cases set. The rows are inserted as
    asked; the span is derived from the sessions by the services' refresh_span, as
    every change to a workshop's sessions does."""
    workshop = Workshop(centre_id=centre_id, instructor_id=instructor_id, **values)
    db.session.add(workshop)
    db.session.flush()
    for number, (start, end) in enumerate(times, start=1):
        db.session.add(
            WorkshopSession(workshop_id=workshop.id, number=number, starts_at=start, ends_at=end)
        )
    db.session.flush()
    refresh_span(workshop)
    return workshop


@pytest.fixture
def make_workshop(app, make_centre, make_user):
    """Create a workshop with weekly sessions.

    make_workshop(centre=None, instructor=None, sessions=4, starts_in_days=7,
                  capacity=8, status='published', **fields)

    Built by create_workshop whenever the service accepts the request as asked; a state
    it refuses by design is inserted directly (see _insert_for_test). Either way the
    sessions are `starts_at` (or `starts_in_days` from now, on the hour) and every week
    after, and the workshop's span comes from its sessions.
    """

    def make(
        centre=None,
        instructor=None,
        sessions=None,
        starts_at=None,
        starts_in_days=7,
        duration_minutes=60,
        **fields,
    ) -> Workshop:
        centre = centre or make_centre()
        instructor = instructor or make_user(role="instructor", centre=centre)
        kind = fields.get("kind", "course")
        count = sessions if sessions is not None else (4 if kind == "course" else 1)
        first = starts_at or (
            datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
            + timedelta(days=starts_in_days)
        )
        length = timedelta(minutes=duration_minutes)
        times = [(first + timedelta(weeks=i), first + timedelta(weeks=i) + length)
                 for i in range(count)]
        values = {
            "title": "Baby massage",
            "kind": kind,
            "capacity": 8,
            "min_age_weeks": 6,
            "max_age_weeks": 52,
            "price": Decimal("45.00"),
            "status": "published",
            "description": "Gentle strokes for you and your baby.",
            "what_to_bring": "A towel and some unscented oil.",
        }
        values.update(fields)
        with app.app_context():
            with write_transaction():
                workshop = _create_through_service(
                    centre.id, instructor.id, values, times, duration_minutes
                ) or _insert_for_test(centre.id, instructor.id, values, times)
                if not centre.published:  # as if an admin hid the centre afterwards
                    db.session.execute(
                        sa.update(Centre).where(Centre.id == centre.id).values(published=False)
                    )
            db.session.refresh(workshop)
            db.session.expunge(workshop)
        return workshop

    return make
