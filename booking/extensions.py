"""Flask extensions, created unbound and initialised in create_app()."""

import os
from collections.abc import Callable

import click
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from booking.models.base import Base

db = SQLAlchemy(model_class=Base)
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])

MIGRATIONS_DIR = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "migrations"
)


def init_migrations(app) -> None:
    """Flask-Migrate, for the `flask db` commands and `flask_migrate.upgrade()`.

    It loads Alembic (about 11 MB), so it is set up only when a `flask db` command runs
    (`MigrationCommands`); the web workers never migrate, and whoever migrates in code
    (the test suite, the benchmark) calls this first. Calling it twice is harmless.
    """
    if "migrate" not in app.extensions:
        from flask_migrate import Migrate

        Migrate(app, db, directory=MIGRATIONS_DIR)


class MigrationCommands(click.Group):
    """`flask db ...`: Flask-Migrate's commands, loaded (with Alembic) only when one is
    asked for, as click's lazily loaded subcommands are."""

    def __init__(self, app):
        super().__init__(name="db", help="Perform database migrations.")
        self._app = app
        # What Flask-Migrate's group goes through once loaded (the CLI's error handling).
        self.prepare: Callable[[click.Group], click.Group] = lambda group: group

    def _group(self) -> click.Group:
        init_migrations(self._app)
        from flask_migrate.cli import db as group

        return self.prepare(group)

    def make_context(self, info_name, args, parent=None, **extra):
        # Flask-Migrate's own group runs, with its options (-d, -x) and its callback.
        return self._group().make_context(info_name, args, parent=parent, **extra)

    def list_commands(self, ctx) -> list[str]:
        return self._group().list_commands(ctx)

    def get_command(self, ctx, cmd_name):
        return self._group().get_command(ctx, cmd_name)
