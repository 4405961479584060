"""Babies' name keys recognise a name however its accents and invisible characters
were typed

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 10:10:00.000000

"""
import unicodedata

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

# As Baby.key_for was when this migration was written (a migration keeps its own copy).
_NO_ROOM = frozenset(
    "\u00ad\u034f\u180e\u200b\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff"
)


def _key(name):
    composed = unicodedata.normalize("NFC", name)
    visible = "".join(ch for ch in composed if ch not in _NO_ROOM)
    return " ".join(visible.split()).casefold()


def upgrade():
    baby = sa.table(
        "baby",
        sa.column("id", sa.Integer),
        sa.column("parent_id", sa.Integer),
        sa.column("name", sa.String),
        sa.column("name_key", sa.String),
        sa.column("date_of_birth", sa.Date),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(baby.c.id, baby.c.parent_id, baby.c.name, baby.c.name_key,
                  baby.c.date_of_birth).order_by(baby.c.id)
    ).all()
    taken = {(r.parent_id, r.name_key, r.date_of_birth) for r in rows}
    for row in rows:
        key = _key(row.name)[:80]
        if key == row.name_key or (row.parent_id, key, row.date_of_birth) in taken:
            # Already so, or another baby of the parent holds that key (a baby saved
            # twice before keys compared this way): that one keeps it.
            continue
        taken.discard((row.parent_id, row.name_key, row.date_of_birth))
        taken.add((row.parent_id, key, row.date_of_birth))
        bind.execute(baby.update().where(baby.c.id == row.id).values(name_key=key))


def downgrade():
    # The keys of the newer form still recognise every name the older one did.
    pass
