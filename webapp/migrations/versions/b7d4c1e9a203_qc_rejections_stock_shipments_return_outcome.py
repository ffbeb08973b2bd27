"""QC rejections, shipment lines from stock, return-case outcome, order close override

Revision ID: b7d4c1e9a203
Revises: b3d7a41c9e02
Create Date: 2026-11-28 19:00:00

"""
from alembic import op
import sqlalchemy as sa

import webapp.db_types


# revision identifiers, used by Alembic.
revision = 'b7d4c1e9a203'
down_revision = 'b3d7a41c9e02'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('qc_rejection',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('work_order_id', sa.Integer(), nullable=False),
    sa.Column('quantity', webapp.db_types.Quantity(), nullable=False),
    sa.Column('disposition', sa.String(length=10), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('inspector_id', sa.Integer(), nullable=False),
    sa.Column('at', webapp.db_types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['inspector_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['work_order_id'], ['work_order.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('qc_rejection', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_qc_rejection_work_order_id'), ['work_order_id'], unique=False)

    with op.batch_alter_table('shipment_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('from_stock', sa.Boolean(), server_default='0', nullable=False))

    with op.batch_alter_table('return_case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('outcome', sa.String(length=20), server_default='', nullable=False))
        batch_op.add_column(sa.Column('close_note', sa.Text(), server_default='', nullable=False))
        batch_op.create_foreign_key('fk_return_case_closed_by_id_user', 'user', ['closed_by_id'], ['id'])

    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('close_override', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.drop_column('close_override')

    with op.batch_alter_table('return_case', schema=None) as batch_op:
        batch_op.drop_constraint('fk_return_case_closed_by_id_user', type_='foreignkey')
        batch_op.drop_column('close_note')
        batch_op.drop_column('outcome')
        batch_op.drop_column('closed_by_id')

    with op.batch_alter_table('shipment_line', schema=None) as batch_op:
        batch_op.drop_column('from_stock')

    with op.batch_alter_table('qc_rejection', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_qc_rejection_work_order_id'))

    op.drop_table('qc_rejection')
