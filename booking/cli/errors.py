"""One line, not a traceback, when a command cannot use the database.

A database that does not answer (PostgreSQL down, a wrong host or port), cannot be
opened (a SQLite file whose folder is missing) or lacks this version's tables (never
migrated, or migrated by an older version) is an operator's error, not the code's:
every command says so as `Error: ...` and exits with status 1, naming the database
without its password, so that cron mails one line rather than a stack.
"""

import functools
import os

import click
import sqlalchemy as sa
from flask import current_app, has_app_context

from booking.db import UNAVAILABLE, driver_words, not_migrated, unusable
from booking.extensions import MigrationCommands

NOT_MIGRATED = "run `flask db upgrade` to make or update its tables"


def one_line_errors(command: click.Command) -> click.Command:
    """`command`, and for a group each of its commands, with a database that cannot be
    used turned into a one-line `Error: ...` (click's ClickException, exit status 1).
    Flask-Migrate's `db` commands, loaded only when one runs, are wrapped then. Wrapping
    a command twice changes nothing (every app made in one process registers them)."""
    if isinstance(command, MigrationCommands):
        command.prepare = one_line_errors
    if isinstance(command, click.Group):
        for subcommand in command.commands.values():
            one_line_errors(subcommand)
    if command.callback is not None and not getattr(command.callback, "one_line", False):
        command.callback = _translated(command.callback)
    return command


def _translated(callback):
    @functools.wraps(callback)
    def run(*args, **kwargs):
        try:
            return callback(*args, **kwargs)
        except (*UNAVAILABLE, sa.exc.ProgrammingError) as exc:
            if not unusable(exc):
                raise  # a fault in the code's SQL keeps its traceback
            raise click.ClickException(database_trouble(exc)) from exc

    run.one_line = True
    return run


def database_trouble(exc: sa.exc.DBAPIError) -> str:
    """What went wrong, in one line: the database's URL (its password hidden) and the
    first line of the driver's own words, with what to do when its tables are not this
    version's."""
    reason = driver_words(exc)
    if not_migrated(exc):
        reason += f" ({NOT_MIGRATED})"
    if not has_app_context():
        return f"The database cannot be used: {reason}."
    url = sa.engine.make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if url.password:
        reason = reason.replace(str(url.password), "***")
    path = url.database or ""
    folder = "" if path.startswith("file:") else os.path.dirname(path)
    if url.get_backend_name() == "sqlite" and folder and not os.path.isdir(folder):
        reason += f" (the folder {folder} does not exist)"
    label = url.set(drivername=url.get_backend_name()).render_as_string(hide_password=True)
    return f"The database {label} cannot be used: {reason}."
