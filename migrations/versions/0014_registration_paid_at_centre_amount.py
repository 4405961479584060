"""Bookings remember how much was marked paid at the centre, so that a place moved to a class of another price still owes, or is owed, the difference

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 19:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    # Empty for marks made before: they stand for the class's fee at the centre, as then.
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paid_at_centre_minor', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('paid_at_centre_moved_minor', sa.Integer(),
                                      nullable=True))
        batch_op.add_column(sa.Column('paid_online_moved_minor', sa.Integer(),
                                      nullable=True))


def downgrade():
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.drop_column('paid_online_moved_minor')
        batch_op.drop_column('paid_at_centre_moved_minor')
        batch_op.drop_column('paid_at_centre_minor')
