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


def test_babies_saved_before_get_name_keys_of_the_new_form(tmp_path):
    """Migration 0011: a name saved decomposed or with a zero-width space gets the key
    it has today; where a parent holds the same baby twice, the first keeps the key."""
    import unicodedata

    from booking import create_app

    url = "sqlite:///" + str(tmp_path / "keys.sqlite3")
    runner = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True}).test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "0010"]).exit_code == 0
    engine = sa.create_engine(url)
    decomposed = unicodedata.normalize("NFD", "Zo\u00eb")
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO user_account (id, email, name, phone, password_hash, is_admin, created_at,"
            " session_version) VALUES (1, 'p@example.org', 'P', '', 'x', false, '2026-01-01', 0)"))
        for baby_id, name in ((1, decomposed), (2, "Ada\u200b"), (3, "Ada")):
            conn.execute(sa.text(
                "INSERT INTO baby (id, parent_id, name, name_key, date_of_birth, notes,"
                " created_at) VALUES (:id, 1, :name, :key, '2026-09-01', '', '2026-09-02')"),
                {"id": baby_id, "name": name, "key": " ".join(name.split()).casefold()})
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    with engine.connect() as conn:
        keys = dict(conn.execute(sa.text("SELECT id, name_key FROM baby")).all())
    engine.dispose()
    assert keys[1] == "zo\u00eb"  # composed now
    assert keys[2] == "ada\u200b" and keys[3] == "ada"  # the plain "Ada" kept "ada"


def test_sqlite_migrations_keep_the_rows_that_refer_to_a_rebuilt_table(tmp_path):
    """SQLite rebuilds a table to change it; with foreign keys enforced, dropping the old
    `workshop` deleted every session and booking through ON DELETE CASCADE. Down to
    0002 and up again, the demo's sessions, bookings and babies are all still there."""
    from booking import create_app

    url = "sqlite:///" + str(tmp_path / "kept.sqlite3")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    engine = sa.create_engine(url)

    def counts():
        with engine.connect() as conn:
            return {
                table: conn.scalar(sa.text(f"SELECT count(*) FROM {table}"))  # noqa: S608
                for table in ("workshop", "workshop_session", "registration", "baby",
                              "membership")
            }

    seeded = counts()
    assert min(seeded.values()) > 0, seeded
    for args in (["db", "downgrade", "0002"], ["db", "upgrade"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, (args, result.output, result.exception)
        assert counts() == seeded, args
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
    engine.dispose()
