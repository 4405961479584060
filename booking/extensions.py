"""Flask extensions, created unbound and initialised in create_app()."""

import os

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

    It loads Alembic (about 11 MB), so create_app calls this only under the `flask`
    command; the web workers never migrate, and whoever migrates in code (the test
    suite, the benchmark) calls it first. Calling it twice is harmless.
    """
    if "migrate" not in app.extensions:
        from flask_migrate import Migrate

        Migrate(app, db, directory=MIGRATIONS_DIR)
