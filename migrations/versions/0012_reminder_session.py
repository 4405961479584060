"""Bookings remember which session their first reminder was about, at which revision

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 12:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    # Reminders sent before this keep both empty: for them, the session starting first
    # counts as reminded of when the reminder went within its 48 hours, as before.
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminder_session_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reminder_revision', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_registration_reminder_session_id_workshop_session'),
            'workshop_session', ['reminder_session_id'], ['id'], ondelete='SET NULL',
        )


def downgrade():
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_registration_reminder_session_id_workshop_session'),
            type_='foreignkey',
        )
        batch_op.drop_column('reminder_revision')
        batch_op.drop_column('reminder_session_id')
