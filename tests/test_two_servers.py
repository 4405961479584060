"""Two web servers (separate gunicorn processes on separate ports) on one PostgreSQL
database and one Redis keep the promises one server keeps: a booking storm across both
never overbooks, rate limits are counted once for both, two outbox workers send each
email once, and a session moved through one is in the other's centre feed within the
page cache's interval.

Runs on PostgreSQL only (TEST_DATABASE_URL), with the Redis at 127.0.0.1:6379: SQLite
is one file on one machine, the very thing several servers do not share.
"""

import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import icalendar
import psycopg
import pytest
import redis
import requests
import sqlalchemy as sa
from limits import parse_many

from booking import create_app
from booking.db import write_transaction
from booking.extensions import db
from booking.models import (
    Baby,
    Centre,
    InstructorProfile,
    Membership,
    OutboxMessage,
    Registration,
    User,
    Workshop,
    WorkshopSession,
)
from booking.passwords import hash_password
from booking.services.schedule.create import create_workshop
from booking.web.auth.login_limits import LOGIN_FAILURES_PER_PAIR
from config import normalise_database_url
from tests.mailtools import SmtpServer, free_port

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
REDIS = "redis://127.0.0.1:6379"
PAGE_CACHE_SECONDS = 2
PASSWORD = "two-servers-pass-1234"
PARENTS = 6  # with the failed logins below, under the 20 logins a minute per address
BABIES = 3
CAPACITY = 4
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
# What a server process must not inherit from the test run's environment.
INHERITED = re.compile(
    r"^(DATABASE_URL|TEST_DATABASE_URL|SECRET_KEY|BOOKING_ENV|BASE_URL|PROXY_HOPS|MAIL_|STRIPE_"
    r"|RATELIMIT_|PAGE_CACHE_|LISTING_CACHE_|PAYMENT_|PURGE_|LOG_FORMAT|METRICS_|READY_|PROMETHEUS_|POSTCODES_)"
)

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"),
    reason="two servers share a PostgreSQL database and Redis: set TEST_DATABASE_URL "
    "(SQLite is one file on one machine)",
)


def _server_url():
    return sa.make_url(normalise_database_url(os.environ["TEST_DATABASE_URL"]))


def _admin(url):
    conninfo = url.set(drivername="postgresql", database="postgres")
    return psycopg.connect(conninfo.render_as_string(hide_password=False), autocommit=True)


def _claim_redis_db() -> int:
    """An empty Redis database number of this run's own (its keys are ours to flush)."""
    try:
        redis.Redis.from_url(REDIS, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        pytest.fail(f"TEST_DATABASE_URL is set but Redis does not answer at {REDIS}: {exc}")
    for number in range(1, 16):
        store = redis.Redis.from_url(f"{REDIS}/{number}")
        if store.dbsize() == 0 and store.set("two-servers-test", "claimed", nx=True):
            return number
    pytest.fail("no empty Redis database (1-15) for the two-server test")


def _flask(env, *args, timeout=60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )


class Server:
    """One gunicorn server (its own process, port and page cache)."""

    def __init__(self, env, log_path: Path):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.log = open(log_path, "wb")  # closed in stop()
        self.process = subprocess.Popen(
            [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{self.port}", "--workers", "1",
             "--threads", "4", "--log-level", "warning", "wsgi:app"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )

    def wait_until_up(self) -> None:
        for _ in range(300):
            if self.process.poll() is not None:
                break
            try:
                if requests.get(self.base + "/centres", timeout=10).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        pytest.fail(f"server on {self.port} did not start: {self.log_path.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.log.close()


def _seed(url: str) -> dict:
    """A centre, its instructor and staff, parents (with a phone number, so the
    booking form asks for nothing else) with their babies, and one published course."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url,
                      "RATELIMIT_ENABLED": False})
    password_hash = hash_password(PASSWORD)
    run = uuid.uuid4().hex[:8]
    with app.app_context():
        centre = Centre(slug=f"two-{run}", name="Two Servers Hub", address="1 High Street",
                        town="Bristol", postcode="BS1 4DJ", country="GB",
                        timezone="Europe/London", contact_email="hub@example.org",
                        published=True)
        db.session.add(centre)

        def person(email, role=None):
            user = User(email=email, name=email.split("@")[0].title(),
                        password_hash=password_hash, phone="07700 900123")
            db.session.add(user)
            db.session.flush()
            if role:
                db.session.add(Membership(user_id=user.id, centre_id=centre.id, role=role))
            return user

        db.session.flush()
        instructor = person("teacher@example.org", "instructor")
        db.session.add(InstructorProfile(user_id=instructor.id, display_name="Teacher"))
        person("staff@example.org", "staff")
        parents = []
        dob = datetime.now(UTC).date() - timedelta(weeks=10)
        for i in range(PARENTS):
            parent = person(f"parent{i}-{run}@example.org")
            babies = [Baby(parent_id=parent.id, name=f"Baby {i}-{b}",
                           name_key=Baby.key_for(f"Baby {i}-{b}"), date_of_birth=dob)
                      for b in range(BABIES)]
            db.session.add_all(babies)
            db.session.flush()
            parents.append((parent.email, [baby.id for baby in babies]))
        person(f"guesser-{run}@example.org")
        db.session.commit()
        first = (datetime.now() + timedelta(days=10)).replace(hour=10, minute=0, second=0,
                                                              microsecond=0)
        with write_transaction():
            workshop = create_workshop(
                centre_id=centre.id, instructor_id=instructor.id, kind="course",
                title="Baby massage", first_session_local=first, sessions=4,
                duration_minutes=60, capacity=CAPACITY, min_age_weeks=6, max_age_weeks=52,
                price=Decimal("45.00"), publish=True, allow_clash=True,
            )
        second = db.session.scalar(sa.select(WorkshopSession).where(
            WorkshopSession.workshop_id == workshop.id, WorkshopSession.number == 2))
        seeded = {
            "centre": centre.slug,
            "workshop": workshop.id,
            "session": second.id,
            "session_start": second.starts_at,
            "parents": parents,
            "guesser": f"guesser-{run}@example.org",
        }
        db.session.remove()
        db.engine.dispose()
    return seeded


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """Two servers on a fresh, migrated PostgreSQL database and a Redis database of
    their own; everything is stopped and dropped afterwards."""
    server_url = _server_url()
    name = f"booking_two_{uuid.uuid4().hex[:12]}"
    logs = tmp_path_factory.mktemp("two-servers")
    with _admin(server_url) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    redis_db, servers = None, []
    try:
        redis_db = _claim_redis_db()
        url = server_url.set(database=name).render_as_string(hide_password=False)
        env = {key: value for key, value in os.environ.items() if not INHERITED.match(key)}
        env.update(
            DATABASE_URL=url,
            SECRET_KEY=uuid.uuid4().hex,
            RATELIMIT_ENABLED="1",
            RATELIMIT_STORAGE_URI=f"{REDIS}/{redis_db}",
            PAGE_CACHE_SECONDS=str(PAGE_CACHE_SECONDS),
            BASE_URL="https://classes.example.org",
        )
        upgraded = _flask(env, "db", "upgrade")
        assert upgraded.returncode == 0, upgraded.stderr
        seeded = _seed(url)
        servers = [Server(env, logs / f"server-{n}.log") for n in (1, 2)]
        made = _flask(env, "api-token", "create", "staff@example.org", "--name", "two servers")
        assert made.returncode == 0, made.stderr
        for server in servers:
            server.wait_until_up()
        yield {**seeded, "env": env, "url": url, "servers": servers,
               "token": made.stdout.strip()}
    finally:
        for server in servers:
            server.stop()
        if redis_db is not None:
            redis.Redis.from_url(f"{REDIS}/{redis_db}").flushdb()
        with _admin(server_url) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _csrf(response) -> str:
    match = CSRF_RE.search(response.text)
    assert match, f"no csrf_token on {response.url}"
    return match.group(1)


def _login(http, base, email, password=PASSWORD):
    token = _csrf(http.get(base + "/login", timeout=30))
    return http.post(base + "/login", data={"email": email, "password": password,
                                            "csrf_token": token},
                     allow_redirects=False, timeout=30)


def _database(cluster):
    return sa.create_engine(cluster["url"])


@pytest.fixture(scope="module")
def storm(cluster):
    """Every parent logs in on one server, then all at once book their babies through
    both servers in turn (the first baby twice, once on each, as a double submit); the
    status of every answer."""
    bases = [server.base for server in cluster["servers"]]
    workshop = cluster["workshop"]
    page = f"/classes/{workshop}"
    ready = threading.Barrier(PARENTS)
    answers, errors = [], []

    def parent(index, email, babies):
        try:
            http = requests.Session()
            assert _login(http, bases[index % 2], email).status_code == 302
            token = _csrf(http.get(bases[(index + 1) % 2] + page, timeout=30))
            ready.wait(timeout=60)
            for number, baby in enumerate([babies[0], *babies]):
                base = bases[(index + number) % 2]
                response = http.post(base + page + "/book", allow_redirects=False, timeout=60,
                                     data={"baby_id": baby, "consent": "y", "csrf_token": token})
                answers.append(response.status_code)
        except Exception as exc:  # re-raised in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=parent, args=(i, email, babies))
               for i, (email, babies) in enumerate(cluster["parents"])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    if errors:
        raise errors[0]
    return answers


def test_a_booking_storm_across_both_servers_never_overbooks(cluster, storm):
    workshop = cluster["workshop"]
    assert storm == [302] * (PARENTS * (BABIES + 1))
    engine = _database(cluster)
    with engine.connect() as conn:
        statuses = Counter(conn.scalars(sa.select(Registration.status).where(
            Registration.workshop_id == workshop)))
        taken = conn.scalar(sa.select(Workshop.confirmed_count).where(Workshop.id == workshop))
    engine.dispose()
    assert statuses == {"confirmed": CAPACITY, "waitlisted": PARENTS * BABIES - CAPACITY}
    assert taken == CAPACITY


def test_rate_limits_are_counted_once_across_both_servers(cluster):
    """Wrong passwords for one account from one address, alternately on each server:
    refused at the limit itself, not at twice the limit."""
    limit = parse_many(LOGIN_FAILURES_PER_PAIR)[0].amount
    bases = [server.base for server in cluster["servers"]]
    http = requests.Session()
    answers = [
        _login(http, bases[attempt % 2], cluster["guesser"], "wrong-password").status_code
        for attempt in range(limit + 1)
    ]
    assert answers == [401] * limit + [429]


def test_a_session_moved_on_one_server_is_in_the_other_servers_feed(cluster):
    one, other = cluster["servers"]
    feed = f"{other.base}/feeds/centres/{cluster['centre']}.ics"
    uid_start = f"session-{cluster['session']}@"

    def start_in_feed(response):
        events = icalendar.Calendar.from_ical(response.content).walk("VEVENT")
        return next(e.decoded("DTSTART") for e in events if str(e["UID"]).startswith(uid_start))

    before = requests.get(feed, timeout=30)  # the other server now holds a copy
    assert before.status_code == 200
    assert start_in_feed(before) == cluster["session_start"]
    moved_to = cluster["session_start"] + timedelta(days=1, hours=1)
    response = requests.patch(
        f"{one.base}/api/v1/sessions/{cluster['session']}",
        json={"starts_at": moved_to.isoformat()},
        headers={"Authorization": f"Bearer {cluster['token']}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    # Any request asked once the other server's copy has had its interval (and a second
    # to spare) gets the moved session, however long it then takes to answer.
    time.sleep(PAGE_CACHE_SECONDS + 1)
    assert start_in_feed(requests.get(feed, timeout=30)) == moved_to


def test_two_outbox_workers_send_each_email_once(cluster, storm):
    """Every email the bookings and the move queued, sent by two workers at once."""
    engine = _database(cluster)
    with engine.connect() as conn:
        queued = set(conn.scalars(sa.select(OutboxMessage.id)))
    assert len(queued) >= PARENTS * BABIES  # a confirmation or waiting-list email each
    with SmtpServer() as smtp:
        env = {**cluster["env"], "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(smtp.port)}
        command = [str(BIN / "flask"), "--app", "wsgi", "outbox", "send", "--batch", "5"]
        workers = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True) for _ in range(2)]
        reports = [worker.communicate(timeout=120) for worker in workers]
        assert [worker.returncode for worker in workers] == [0, 0], reports
        ids = Counter(
            int(re.match(r"<outbox-(\d+)-", message["Message-ID"]).group(1))
            for message in smtp.messages
        )
    with engine.connect() as conn:
        statuses = Counter(conn.scalars(sa.select(OutboxMessage.status)))
    engine.dispose()
    assert set(ids) == queued
    assert set(ids.values()) == {1}
    sent = sum(int(re.search(r"Sent (\d+)", out).group(1)) for out, _ in reports)
    assert sent == len(queued)
    assert statuses == {"sent": len(queued)}
