"""Review meetings and improvement actions (issue 14)

Revision ID: 4728c34eb5cf
Revises: 37154db72a33
Create Date: 2026-11-29 17:42:58.819383

"""
from alembic import op
import sqlalchemy as sa

import webapp.db_types


# revision identifiers, used by Alembic.
revision = '4728c34eb5cf'
down_revision = '37154db72a33'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('period', sa.String(length=10), nullable=True),
    sa.Column('first', sa.Date(), nullable=True),
    sa.Column('last', sa.Date(), nullable=True),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('findings', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', webapp.db_types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', webapp.db_types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_review_created_by_id_user')),
    sa.ForeignKeyConstraint(['order_id'], ['order.id'], name=op.f('fk_review_order_id_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review'))
    )
    with op.batch_alter_table('review', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_held_on'), ['held_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_order_id'), ['order_id'], unique=False)

    op.create_table('improvement_action',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('done_note', sa.Text(), nullable=False),
    sa.Column('done_by_id', sa.Integer(), nullable=True),
    sa.Column('done_at', webapp.db_types.UTCDateTime(), nullable=True),
    sa.Column('reminded_on', sa.Date(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', webapp.db_types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', webapp.db_types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_improvement_action_created_by_id_user')),
    sa.ForeignKeyConstraint(['done_by_id'], ['user.id'], name=op.f('fk_improvement_action_done_by_id_user')),
    sa.ForeignKeyConstraint(['owner_id'], ['user.id'], name=op.f('fk_improvement_action_owner_id_user')),
    sa.ForeignKeyConstraint(['review_id'], ['review.id'], name=op.f('fk_improvement_action_review_id_review'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_improvement_action'))
    )
    with op.batch_alter_table('improvement_action', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_improvement_action_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_improvement_action_review_id'), ['review_id'], unique=False)
        batch_op.create_index('ix_improvement_action_status_due', ['status', 'due_date'], unique=False)

    op.create_table('review_attendee',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['review_id'], ['review.id'], name=op.f('fk_review_attendee_review_id_review'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_review_attendee_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_attendee'))
    )
    with op.batch_alter_table('review_attendee', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_attendee_review_id'), ['review_id'], unique=False)

    op.create_table('improvement_action_cause',
    sa.Column('action_id', sa.Integer(), nullable=False),
    sa.Column('cause_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['action_id'], ['improvement_action.id'], name=op.f('fk_improvement_action_cause_action_id_improvement_action'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['cause_id'], ['cost_cause.id'], name=op.f('fk_improvement_action_cause_cause_id_cost_cause')),
    sa.PrimaryKeyConstraint('action_id', 'cause_id', name=op.f('pk_improvement_action_cause'))
    )


def downgrade():
    op.drop_table('improvement_action_cause')
    with op.batch_alter_table('review_attendee', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_attendee_review_id'))

    op.drop_table('review_attendee')
    with op.batch_alter_table('improvement_action', schema=None) as batch_op:
        batch_op.drop_index('ix_improvement_action_status_due')
        batch_op.drop_index(batch_op.f('ix_improvement_action_review_id'))
        batch_op.drop_index(batch_op.f('ix_improvement_action_owner_id'))

    op.drop_table('improvement_action')
    with op.batch_alter_table('review', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_order_id'))
        batch_op.drop_index(batch_op.f('ix_review_held_on'))

    op.drop_table('review')
