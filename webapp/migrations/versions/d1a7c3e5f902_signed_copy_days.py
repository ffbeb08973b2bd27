"""How long a used customer link shows the read-only copy of what was signed

Revision ID: d1a7c3e5f902
Revises: c4e8a2f61d07
Create Date: 2026-11-28 22:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd1a7c3e5f902'
down_revision = 'c4e8a2f61d07'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('firm_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signed_copy_days', sa.Integer(), server_default='365', nullable=False))


def downgrade():
    with op.batch_alter_table('firm_settings', schema=None) as batch_op:
        batch_op.drop_column('signed_copy_days')
