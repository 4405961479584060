"""The migrations build exactly the schema the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from booking.extensions import db


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
