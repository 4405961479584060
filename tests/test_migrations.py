"""The migrations build exactly the schema the models describe."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from booking.extensions import MIGRATIONS_DIR, db
from booking.services.ops import migration_heads


def test_models_and_migrations_agree(app):
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_naming_convention_names_constraints(app):
    with app.app_context():
        names = {c.name for c in db.metadata.tables["workshop"].constraints}
    assert "ck_workshop_confirmed_within_capacity" in names
    assert "pk_workshop" in names


def test_flask_db_commands_run(tmp_path):
    """`flask db ...` loads Flask-Migrate only when asked, and its commands run with
    their own options (the group's -d) on a new database."""
    from booking import create_app

    url = "sqlite:///" + str(tmp_path / "cli.sqlite3")
    runner = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True}).test_cli_runner()
    for args in (["db", "upgrade"], ["db", "heads"], ["db", "-d", "migrations", "current"],
                 ["db", "check"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, (args, result.output, result.exception)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        found = {conn.scalar(sa.text("SELECT version_num FROM alembic_version"))}
    assert found == migration_heads(MIGRATIONS_DIR)
    engine.dispose()
