"""Make-ups count the invite updates sent beyond their session's revision, so that an update for a class's weeks renumbered outranks the last invite

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 01:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    # 0 for make-ups booked before: their invites' SEQUENCE was the session's revision.
    with op.batch_alter_table('makeup_booking', schema=None) as batch_op:
        batch_op.add_column(sa.Column('invite_sequence', sa.Integer(), server_default='0',
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('makeup_booking', schema=None) as batch_op:
        batch_op.drop_column('invite_sequence')
