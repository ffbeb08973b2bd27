"""Customer invoice fields and WeChat ID; requirement part number and drawing revision

Revision ID: c4e8a2f61d07
Revises: c5e8a2f17d40
Create Date: 2026-11-28 22:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4e8a2f61d07'
down_revision = 'c5e8a2f17d40'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_wechat', sa.String(length=60), server_default='', nullable=False))
        batch_op.add_column(sa.Column('tax_id', sa.String(length=20), server_default='', nullable=False))
        batch_op.add_column(sa.Column('invoice_title', sa.String(length=200), server_default='', nullable=False))
        batch_op.add_column(sa.Column('bank_name', sa.String(length=200), server_default='', nullable=False))
        batch_op.add_column(sa.Column('bank_account', sa.String(length=40), server_default='', nullable=False))

    with op.batch_alter_table('requirement', schema=None) as batch_op:
        batch_op.add_column(sa.Column('customer_part_no', sa.String(length=60), server_default='', nullable=False))
        batch_op.add_column(sa.Column('drawing_rev', sa.String(length=20), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('requirement', schema=None) as batch_op:
        batch_op.drop_column('drawing_rev')
        batch_op.drop_column('customer_part_no')

    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_column('bank_account')
        batch_op.drop_column('bank_name')
        batch_op.drop_column('invoice_title')
        batch_op.drop_column('tax_id')
        batch_op.drop_column('contact_wechat')
