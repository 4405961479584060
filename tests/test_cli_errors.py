"""The operator commands answer an operator's mistake in one line, not a traceback: a
database that cannot be reached or opened or lacks this version's tables, a malformed
setting, an id too large to be
any email's, a mail server that does not answer (which a single `outbox send` reports
in its exit status, so that cron notices)."""

import os
import signal
import sqlite3
import sys
from pathlib import Path

import click
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask.cli import cli as flask_cli

from booking.cli.errors import one_line_errors
from booking.cli.loop import run_until_stopped
from booking.db import write_transaction
from booking.extensions import db
from booking.mail.outbox import queue_email
from booking.models import OutboxMessage
from tests.mailtools import free_port
from tests.ops_helpers import another_app

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "not-to-be-printed"

COMMANDS = [
    ["db", "upgrade"],
    ["seed-demo"],
    ["outbox", "send"],
    ["outbox", "retry-failed", "--id", "3"],
    ["run-decisions"],
    ["payments", "run"],
    ["send-reminders"],
    ["send-practice"],
    ["purge-expired"],
    ["api-token", "create", "staff@example.org"],
    ["create-user", "new@example.org", "--name", "New", "--password", "long-enough-pw"],
]


def _missing_sqlite(tmp_path) -> tuple[str, str]:
    missing = tmp_path / "no-such-folder" / "booking.sqlite3"
    return f"sqlite:///{missing}", f"sqlite:///{missing}"


def _closed_postgres(tmp_path) -> tuple[str, str]:
    port = free_port()  # on loopback, nothing listening: refused at once
    return (
        f"postgresql+psycopg://booking:{PASSWORD}@127.0.0.1:{port}/booking",
        f"postgresql://booking:***@127.0.0.1:{port}/booking",
    )


@pytest.mark.parametrize("database", [_missing_sqlite, _closed_postgres],
                         ids=["sqlite-folder-missing", "postgresql-refused"])
@pytest.mark.parametrize("args", COMMANDS, ids=lambda args: " ".join(args[:2]))
def test_a_database_that_cannot_be_used_is_one_line(app, tmp_path, database, args):
    url, shown = database(tmp_path)
    with another_app(app, SQLALCHEMY_DATABASE_URI=url) as other:
        result = other.test_cli_runner().invoke(args=args)
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    lines = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert lines == [lines[0]] and lines[0].startswith(f"Error: The database {shown} "), (
        result.output
    )
    assert "Traceback" not in result.output
    assert PASSWORD not in result.output


@pytest.mark.parametrize("args", [a for a in COMMANDS if a != ["db", "upgrade"]],
                         ids=lambda args: " ".join(args[:2]))
def test_a_database_without_this_versions_tables_is_one_line(app, new_database, args):
    """A database never migrated (on PostgreSQL a traceback before): what to do, in one
    line, and nothing made in it."""
    url = new_database()
    with another_app(app, SQLALCHEMY_DATABASE_URI=url) as other:
        result = other.test_cli_runner().invoke(args=args)
        with other.app_context():
            tables = sa.inspect(db.engine).get_table_names()
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, result.output
    shown = sa.make_url(url)
    assert lines[0].startswith(f"Error: The database {shown.get_backend_name()}:"), lines[0]
    assert shown.database in lines[0]
    assert " cannot be used: " in lines[0]
    assert lines[0].endswith("(run `flask db upgrade` to make or update its tables)."), lines[0]
    assert tables == []


class _DriverError(Exception):
    """A driver's error with a SQLSTATE, as psycopg's are."""

    def __init__(self, message: str, sqlstate: str):
        super().__init__(message)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(("sqlstate", "one_line"), [
    ("42P01", True),   # undefined table
    ("42703", True),   # undefined column: tables of an older version
    ("42601", False),  # a syntax error is the code's, and keeps its traceback
])
def test_only_a_missing_table_or_column_reads_as_not_migrated(app, sqlstate, one_line):
    refused = sa.exc.ProgrammingError("SELECT 1", {}, _DriverError("column x does not exist",
                                                                   sqlstate))

    def command():
        raise refused

    wrapped = one_line_errors(click.Command("refusing", callback=command))
    with app.app_context():
        if one_line:
            with pytest.raises(click.ClickException, match=r"flask db upgrade"):
                wrapped.callback()
        else:
            with pytest.raises(sa.exc.ProgrammingError):
                wrapped.callback()


def _stopping_after(refusals: list[Exception]):
    """A worker's pass that raises each of `refusals` in turn, then stops the loop as
    SIGTERM would; the passes it ran."""
    passes = []

    def one_pass():
        passes.append(len(passes))
        if refusals:
            raise refusals.pop(0)
        os.kill(os.getpid(), signal.SIGTERM)

    return one_pass, passes


def test_a_loop_worker_waits_for_the_tables(app, caplog):
    """A worker started before the migrations ran says what to do and tries again."""
    missing = sa.exc.ProgrammingError("SELECT", {}, _DriverError(
        'relation "outbox_message" does not exist\nLINE 2: FROM outbox_message\n     ^',
        "42P01",
    ))
    one_pass, passes = _stopping_after([missing])
    with app.app_context():
        run_until_stopped("outbox", one_pass, 0.01)
    assert passes == [0, 1]
    assert ("outbox: the database lacks this version's tables (run `flask db upgrade` to "
            'make or update its tables): relation "outbox_message" does not exist'
            ) in caplog.text
    assert "LINE 2" not in caplog.text  # the driver's first line alone


def test_a_loop_worker_stops_on_an_error_in_its_own_sql(app):
    wrong = sa.exc.ProgrammingError("SELEC", {}, _DriverError("syntax error", "42601"))
    one_pass, passes = _stopping_after([wrong])
    with app.app_context(), pytest.raises(sa.exc.ProgrammingError):
        run_until_stopped("outbox", one_pass, 0.01)
    assert passes == [0]


def test_a_sqlite_database_in_a_missing_folder_says_so(app, tmp_path):
    url, _ = _missing_sqlite(tmp_path)
    with another_app(app, SQLALCHEMY_DATABASE_URI=url) as other:
        result = other.test_cli_runner().invoke(args=["run-decisions"])
    assert result.output.strip() == (
        f"Error: The database {url} cannot be used: unable to open database file "
        f"(the folder {tmp_path / 'no-such-folder'} does not exist)."
    )


def test_restoring_into_a_sqlite_database_that_cannot_be_opened_is_one_line(app, tmp_path):
    backup = tmp_path / "booking-20260101-000000.sqlite3"
    with sqlite3.connect(backup) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        conn.execute("INSERT INTO alembic_version VALUES ('0001')")
    conn.close()
    url, shown = _missing_sqlite(tmp_path)
    with another_app(app, SQLALCHEMY_DATABASE_URI=url) as other:
        result = other.test_cli_runner().invoke(args=["backup", "restore", str(backup)])
    assert result.exit_code == 1, result.output
    assert result.output.startswith(f"Error: The database {shown} cannot be used"), (
        result.output
    )


def _flask(monkeypatch, tmp_path, *args, **env):
    """`flask --app wsgi ARGS` as an operator runs it, with `env` set: the app is made by
    importing wsgi.py afresh."""
    monkeypatch.chdir(ROOT)
    monkeypatch.delitem(sys.modules, "wsgi", raising=False)
    for name in ("BOOKING_ENV", "SECRET_KEY", "PROXY_HOPS", "PAGE_CACHE_SECONDS",
                 "MAIL_PORT", "LOG_FORMAT", "METRICS_ALLOW", "FLASK_APP"):
        monkeypatch.delenv(name, raising=False)
    env.setdefault("DATABASE_URL", f"sqlite:///{tmp_path / 'booking.sqlite3'}")
    return CliRunner().invoke(flask_cli, ["--app", "wsgi", *args], env=env)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"BOOKING_ENV": "production"},
         "SECRET_KEY (at least 16 characters) is required in production"),
        ({"BOOKING_ENV": "prod"}, "BOOKING_ENV must be 'development' or 'production'"),
        ({"PROXY_HOPS": "abc"}, "PROXY_HOPS must be a whole number, not 'abc'"),
        ({"PAGE_CACHE_SECONDS": "abc"}, "PAGE_CACHE_SECONDS must be a whole number, not 'abc'"),
        ({"MAIL_PORT": "abc"}, "MAIL_PORT must be a whole number, not 'abc'"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT must be one of json, text, not 'xml'"),
        ({"METRICS_ALLOW": "everyone"},
         "METRICS_ALLOW: 'everyone' is not an IP address or network"),
        ({"DATABASE_URL": "mysql://booking:secret@db/booking"},
         "DATABASE_URL's scheme 'mysql' is not supported: use "
         "sqlite:////PATH/TO/FILE.sqlite3 or postgresql://USER:PASSWORD@HOST/NAME"),
        ({"DATABASE_URL": "postgresql+psycopg2://booking:secret@db/booking"},
         "DATABASE_URL's scheme 'postgresql+psycopg2' is not supported"),
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL is not a database URL"),
    ],
    ids=lambda value: ",".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, dict) else "",
)
def test_a_malformed_setting_is_one_line(monkeypatch, tmp_path, env, message):
    result = _flask(monkeypatch, tmp_path, "run-decisions", **env)
    assert result.exit_code == 1, result.output
    assert result.output.startswith(f"Error: {message}"), result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert "secret" not in result.output


def test_good_settings_still_run_the_command(monkeypatch, tmp_path, database_url):
    result = _flask(monkeypatch, tmp_path, "run-decisions", DATABASE_URL=database_url)
    assert result.exit_code == 0, result.output
    assert "Cancelled below their minimum: 0" in result.output


def test_an_id_too_large_for_any_email_is_left_alone(runner):
    """Ids are 32-bit on PostgreSQL, and SQLite takes no number beyond 64 bits: such an
    id is no failed email, said as for any other."""
    result = runner.invoke(args=["outbox", "retry-failed", "--id", "99999999999999999999",
                                 "--id", "2147483648"])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    for message_id in ("2147483648", "99999999999999999999"):
        assert f"#{message_id} is not a failed email that can be sent again" in result.output
    assert "Queued 0 failed emails named again" in result.output


def _queue_one():
    with write_transaction():
        queue_email("family@example.org", "password_reset", "Reset", name="Family",
                    hours=2, reset_url="https://classes.example.org/password/reset/x")


def test_outbox_send_exits_75_when_the_mail_server_cannot_be_reached(app, runner):
    """Cron notices (EX_TEMPFAIL), and the emails wait for the next run."""
    with app.app_context():
        _queue_one()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port())
    result = runner.invoke(args=["outbox", "send"])
    assert result.exit_code == 75, result.output  # EX_TEMPFAIL
    assert "Sent 0, will retry 1, failed 0." in result.output
    assert (f"Error: the mail server 127.0.0.1:{app.config['MAIL_PORT']} could not be "
            "reached") in result.output
    with app.app_context():
        assert list(db.session.scalars(sa.select(OutboxMessage.status))) == ["pending"]

    nothing_due = runner.invoke(args=["outbox", "send"])
    assert nothing_due.exit_code == 0, nothing_due.output
