"""Cost sheet filled from the records: cause codes per line, the overhead rule, who sees costs, tickets' costs (issue 14)

Revision ID: 37154db72a33
Revises: 9f7604fbdbb7
Create Date: 2026-11-29 17:34:40.246143

"""
from alembic import op
import sqlalchemy as sa

import webapp.db_types


# revision identifiers, used by Alembic.
revision = '37154db72a33'
down_revision = '9f7604fbdbb7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('cost_cause',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=30), nullable=True),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cost_cause')),
    sa.UniqueConstraint('key', name=op.f('uq_cost_cause_key'))
    )
    op.create_table('overhead_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('basis', sa.String(length=20), nullable=False),
    sa.Column('rate', webapp.db_types.Fine(), nullable=False),
    sa.Column('share', webapp.db_types.Percent(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_overhead_rule')),
    sa.UniqueConstraint('basis', name=op.f('uq_overhead_rule_basis'))
    )
    op.create_table('cost_line_cause',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cost_line_id', sa.Integer(), nullable=False),
    sa.Column('cause_id', sa.Integer(), nullable=False),
    sa.Column('amount', webapp.db_types.Money(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['cause_id'], ['cost_cause.id'], name=op.f('fk_cost_line_cause_cause_id_cost_cause')),
    sa.ForeignKeyConstraint(['cost_line_id'], ['cost_line.id'], name=op.f('fk_cost_line_cause_cost_line_id_cost_line')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cost_line_cause')),
    sa.UniqueConstraint('cost_line_id', 'cause_id', name=op.f('uq_cost_line_cause_cost_line_id'))
    )
    op.create_table('ticket_cost',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('amount', webapp.db_types.Money(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', webapp.db_types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_ticket_cost_created_by_id_user')),
    sa.ForeignKeyConstraint(['order_id'], ['order.id'], name=op.f('fk_ticket_cost_order_id_order')),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], name=op.f('fk_ticket_cost_ticket_id_ticket')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_cost'))
    )
    with op.batch_alter_table('ticket_cost', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_cost_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_cost_ticket_id'), ['ticket_id'], unique=False)

    with op.batch_alter_table('cost_line_cause', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cost_line_cause_cause_id'), ['cause_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cost_line_cause_cost_line_id'), ['cost_line_id'], unique=False)

    with op.batch_alter_table('cost_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=10), server_default='manual', nullable=False))
        batch_op.add_column(sa.Column('entered_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('entered_at', webapp.db_types.UTCDateTime(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_cost_line_entered_by_id_user'), 'user', ['entered_by_id'], ['id'])

    with op.batch_alter_table('firm_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cost_roles', sa.String(length=120), server_default='operations,sales', nullable=False))

    # The logistics actual was always the shipments' freight: those lines came from the records.
    op.execute("UPDATE cost_line SET source = 'derived' WHERE category = 'logistics'")
    # The cause codes every firm starts with (their names are translated in the app by key).
    cause = sa.table('cost_cause', sa.column('key', sa.String), sa.column('name', sa.String),
                     sa.column('active', sa.Boolean), sa.column('position', sa.Integer))
    op.bulk_insert(cause, [{'key': key, 'name': '', 'active': True, 'position': (i + 1) * 10} for i, key in enumerate(
        ('price_increase', 'rework', 'scrap', 'delay_overtime', 'expedited_freight', 'quantity_change',
         'estimating_error', 'other'))])


def downgrade():
    with op.batch_alter_table('firm_settings', schema=None) as batch_op:
        batch_op.drop_column('cost_roles')

    with op.batch_alter_table('cost_line', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_cost_line_entered_by_id_user'), type_='foreignkey')
        batch_op.drop_column('entered_at')
        batch_op.drop_column('entered_by_id')
        batch_op.drop_column('source')

    with op.batch_alter_table('cost_line_cause', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cost_line_cause_cost_line_id'))
        batch_op.drop_index(batch_op.f('ix_cost_line_cause_cause_id'))

    op.drop_table('cost_line_cause')
    with op.batch_alter_table('ticket_cost', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_cost_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_ticket_cost_order_id'))
    op.drop_table('ticket_cost')
    op.drop_table('overhead_rule')
    op.drop_table('cost_cause')
    # ### end Alembic commands ###
