"""Stocking instructions: a work order with no customer order, for a product kept in stock (issue 12)

Revision ID: a9d3e6f1c204
Revises: 7726c9c835f8
Create Date: 2026-11-29 14:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a9d3e6f1c204'
down_revision = '7726c9c835f8'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('work_order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('product_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('purpose', sa.String(length=200), nullable=False, server_default=''))
        batch_op.alter_column('order_id', existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column('order_line_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_foreign_key(batch_op.f('fk_work_order_product_id_product'), 'product', ['product_id'], ['id'])
        batch_op.create_check_constraint('line_or_product', 'order_line_id IS NOT NULL OR product_id IS NOT NULL')


def downgrade():
    # Stocking instructions have no order to fall back to: they go with the columns.
    op.execute("DELETE FROM work_order WHERE order_id IS NULL")
    with op.batch_alter_table('work_order', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_work_order_line_or_product'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_work_order_product_id_product'), type_='foreignkey')
        batch_op.alter_column('order_line_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('order_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('purpose')
        batch_op.drop_column('product_id')
