"""Workshops remember the places staff chose to hold

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 16:55:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('workshop', schema=None) as batch_op:
        batch_op.add_column(sa.Column('held_set', sa.Integer(), server_default='0', nullable=False))
    # What is held now is the best record of what was chosen: once released, only the
    # claimed places remain, which is what a copy took before.
    op.execute("UPDATE workshop SET held_set = held_places")


def downgrade():
    with op.batch_alter_table('workshop', schema=None) as batch_op:
        batch_op.drop_column('held_set')
