"""Sessions remember when they were cancelled, so that a family who pays for a held place is offered a share of exactly the weeks cancelled since they were asked to pay

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 05:35:00.000000

"""
from alembic import op
import sqlalchemy as sa

import booking.models.base


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('workshop_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancelled_at', booking.models.base.UTCDateTime(timezone=True),
                                      nullable=True))
    # Sessions cancelled before: their last change is the best record of it.
    op.execute(
        "UPDATE workshop_session SET cancelled_at = updated_at WHERE status = 'cancelled'"
    )


def downgrade():
    with op.batch_alter_table('workshop_session', schema=None) as batch_op:
        batch_op.drop_column('cancelled_at')
