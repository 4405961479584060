"""Class and workshop booking for infant-massage centres."""

import os

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from booking.settings import SettingsError, check_database_url
from config import engine_options, load_config


def create_app(test_config: dict | None = None) -> Flask:
    """Build the application: config, extensions, blueprints, errors, CLI. Raises
    SettingsError for a setting it cannot start with."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=os.path.join(os.path.dirname(__file__), "..", "templates"),
        static_folder=os.path.join(os.path.dirname(__file__), "..", "static"),
    )
    os.makedirs(app.instance_path, exist_ok=True)
    try:
        app.config.from_mapping(load_config(app.instance_path))
    except RuntimeError as exc:  # a malformed setting, named in the message
        raise SettingsError(str(exc)) from exc
    if test_config:
        app.config.from_mapping(test_config)
        if "SQLALCHEMY_ENGINE_OPTIONS" not in test_config:  # those of the database given
            app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(
                app.config["SQLALCHEMY_DATABASE_URI"]
            )
    check_database_url(app.config["SQLALCHEMY_DATABASE_URI"])

    if app.config["PROXY_HOPS"] > 0:
        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    from booking import catalogue_revision as _revision  # noqa: F401  (counts changes)
    from booking import db as _db  # (SQLite settings, write turns, read-only commits)
    from booking import extensions

    extensions.db.init_app(app)
    _db.init_app(app)  # read-only requests end with COMMIT on PostgreSQL
    app.cli.add_command(extensions.MigrationCommands(app))  # Alembic only when used
    extensions.csrf.init_app(app)
    extensions.limiter.init_app(app)

    from booking import auth_setup, errors, security, templating

    auth_setup.init_app(app)
    security.init_app(app)
    templating.init_app(app)
    errors.init_app(app)

    from booking.web import register_blueprints

    register_blueprints(app)

    from booking import cli

    cli.init_app(app)

    from booking import page_cache

    page_cache.init_app(app)

    from booking import observability

    observability.init_app(app)  # last: it wraps the whole app, page cache included
    return app
