"""What stops the app from starting: a setting it cannot run with.

`config.py` reads the settings; the app factory and the parts that read a setting of
their own (the page cache, the logs, the metrics page) raise SettingsError for one they
cannot run with, its message naming the setting. `flask --app wsgi ...` prints it as one
line, `Error: <message>`.
"""

import sqlalchemy as sa

# The databases the product runs on: SQLite (pysqlite) and PostgreSQL (psycopg 3).
DATABASES = {"sqlite": "pysqlite", "postgresql": "psycopg"}
EXAMPLES = "sqlite:////PATH/TO/FILE.sqlite3 or postgresql://USER:PASSWORD@HOST/NAME"


class SettingsError(RuntimeError):
    """A setting the app cannot start with; the message says which, and why."""


def check_database_url(database_url: str) -> None:
    """Refuse a DATABASE_URL for another database (or another driver) than the product
    runs on, rather than fail later on a missing driver. The message never repeats the
    URL, which may hold a password."""
    try:
        url = sa.engine.make_url(database_url)
    except sa.exc.ArgumentError as exc:
        raise SettingsError(f"DATABASE_URL is not a database URL: use {EXAMPLES}") from exc
    backend, _, driver = url.drivername.partition("+")
    if backend not in DATABASES or driver not in ("", DATABASES[backend]):
        raise SettingsError(
            f"DATABASE_URL's scheme {url.drivername!r} is not supported: use {EXAMPLES}"
        )
