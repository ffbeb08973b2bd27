"""Service projects (deliverables, progress, acceptance, rework) and retail orders (issue 13)

Revision ID: b13c0de5a1e5
Revises: 2900fcba926f
Create Date: 2026-11-29 14:40:00

"""
from alembic import op
import sqlalchemy as sa

import webapp.db_types


# revision identifiers, used by Alembic.
revision = 'b13c0de5a1e5'
down_revision = '2900fcba926f'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=15), server_default='manufacturing', nullable=False))
    with op.batch_alter_table('firm_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retail_quick', sa.Boolean(), server_default=sa.true(), nullable=False))
    op.create_table('deliverable',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('order_line_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('progress_pct', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('accepted_at', webapp.db_types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['order.id'], name=op.f('fk_deliverable_order_id_order')),
    sa.ForeignKeyConstraint(['order_line_id'], ['order_line.id'], name=op.f('fk_deliverable_order_line_id_order_line')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deliverable')),
    sa.UniqueConstraint('order_id', 'position', name='uq_deliverable_order_id_position')
    )
    with op.batch_alter_table('deliverable', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deliverable_order_id'), ['order_id'], unique=False)
    op.create_table('milestone',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('deliverable_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('done_at', webapp.db_types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['deliverable_id'], ['deliverable.id'], name=op.f('fk_milestone_deliverable_id_deliverable')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_milestone'))
    )
    with op.batch_alter_table('milestone', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_milestone_deliverable_id'), ['deliverable_id'], unique=False)
    op.create_table('deliverable_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('deliverable_id', sa.Integer(), nullable=False),
    sa.Column('milestone_id', sa.Integer(), nullable=True),
    sa.Column('percent', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('at', webapp.db_types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['deliverable_id'], ['deliverable.id'], name=op.f('fk_deliverable_report_deliverable_id_deliverable')),
    sa.ForeignKeyConstraint(['milestone_id'], ['milestone.id'], name=op.f('fk_deliverable_report_milestone_id_milestone')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_deliverable_report_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deliverable_report'))
    )
    with op.batch_alter_table('deliverable_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deliverable_report_deliverable_id'), ['deliverable_id'], unique=False)
    op.create_table('deliverable_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('stored_name', sa.String(length=100), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['deliverable_report.id'], name=op.f('fk_deliverable_file_report_id_deliverable_report')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deliverable_file')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_deliverable_file_stored_name'))
    )
    with op.batch_alter_table('deliverable_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deliverable_file_report_id'), ['report_id'], unique=False)
    op.create_table('acceptance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('link_id', sa.Integer(), nullable=False),
    sa.Column('signer_name', sa.String(length=100), nullable=False),
    sa.Column('strokes_json', sa.Text(), nullable=False),
    sa.Column('signature_svg', sa.Text(), nullable=False),
    sa.Column('consent_text', sa.Text(), nullable=False),
    sa.Column('consent_version', sa.String(length=20), nullable=False),
    sa.Column('decisions_json', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('signed_at', webapp.db_types.UTCDateTime(), nullable=False),
    sa.Column('ip_address', sa.String(length=64), nullable=False),
    sa.Column('user_agent', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['link_id'], ['access_link.id'], name=op.f('fk_acceptance_link_id_access_link')),
    sa.ForeignKeyConstraint(['order_id'], ['order.id'], name=op.f('fk_acceptance_order_id_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_acceptance'))
    )
    with op.batch_alter_table('acceptance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_acceptance_order_id'), ['order_id'], unique=False)
    op.create_table('acceptance_decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('acceptance_id', sa.Integer(), nullable=False),
    sa.Column('deliverable_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(length=10), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['acceptance_id'], ['acceptance.id'], name=op.f('fk_acceptance_decision_acceptance_id_acceptance')),
    sa.ForeignKeyConstraint(['deliverable_id'], ['deliverable.id'], name=op.f('fk_acceptance_decision_deliverable_id_deliverable')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_acceptance_decision'))
    )
    with op.batch_alter_table('acceptance_decision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_acceptance_decision_acceptance_id'), ['acceptance_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_acceptance_decision_deliverable_id'), ['deliverable_id'], unique=False)
    op.create_table('rework_case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('deliverable_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('opened_at', webapp.db_types.UTCDateTime(), nullable=False),
    sa.Column('due_at', webapp.db_types.UTCDateTime(), nullable=False),
    sa.Column('done_at', webapp.db_types.UTCDateTime(), nullable=True),
    sa.Column('done_by_id', sa.Integer(), nullable=True),
    sa.Column('done_note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['deliverable_id'], ['deliverable.id'], name=op.f('fk_rework_case_deliverable_id_deliverable')),
    sa.ForeignKeyConstraint(['done_by_id'], ['user.id'], name=op.f('fk_rework_case_done_by_id_user')),
    sa.ForeignKeyConstraint(['order_id'], ['order.id'], name=op.f('fk_rework_case_order_id_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rework_case'))
    )
    with op.batch_alter_table('rework_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rework_case_deliverable_id'), ['deliverable_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rework_case_order_id'), ['order_id'], unique=False)
        batch_op.create_index('ix_rework_case_status_due_at', ['status', 'due_at'], unique=False)
    op.create_table('retail_order',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('shop_order_no', sa.String(length=60), nullable=True),
    sa.Column('receiver_name', sa.String(length=100), nullable=False),
    sa.Column('receiver_phone', sa.String(length=40), nullable=False),
    sa.Column('store', sa.String(length=100), nullable=False),
    sa.Column('created_at', webapp.db_types.UTCDateTime(), nullable=False),
    sa.Column('import_batch', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['order.id'], name=op.f('fk_retail_order_order_id_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retail_order')),
    sa.UniqueConstraint('order_id', name=op.f('uq_retail_order_order_id')),
    sa.UniqueConstraint('shop_order_no', name='uq_retail_order_shop_order_no')
    )


def downgrade():
    op.drop_table('retail_order')
    with op.batch_alter_table('rework_case', schema=None) as batch_op:
        batch_op.drop_index('ix_rework_case_status_due_at')
        batch_op.drop_index(batch_op.f('ix_rework_case_order_id'))
        batch_op.drop_index(batch_op.f('ix_rework_case_deliverable_id'))
    op.drop_table('rework_case')
    with op.batch_alter_table('acceptance_decision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_acceptance_decision_deliverable_id'))
        batch_op.drop_index(batch_op.f('ix_acceptance_decision_acceptance_id'))
    op.drop_table('acceptance_decision')
    with op.batch_alter_table('acceptance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_acceptance_order_id'))
    op.drop_table('acceptance')
    with op.batch_alter_table('deliverable_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deliverable_file_report_id'))
    op.drop_table('deliverable_file')
    with op.batch_alter_table('deliverable_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deliverable_report_deliverable_id'))
    op.drop_table('deliverable_report')
    with op.batch_alter_table('milestone', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_milestone_deliverable_id'))
    op.drop_table('milestone')
    with op.batch_alter_table('deliverable', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deliverable_order_id'))
    op.drop_table('deliverable')
    with op.batch_alter_table('firm_settings', schema=None) as batch_op:
        batch_op.drop_column('retail_quick')
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.drop_column('kind')
