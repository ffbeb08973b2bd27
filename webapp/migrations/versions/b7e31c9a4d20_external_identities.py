"""Staff sign-in with WeChat Work or DingTalk: the accounts an admin linked to people (issue 16)

Revision ID: b7e31c9a4d20
Revises: 2d7c2163dd74
Create Date: 2026-11-30 00:30:00

"""
from alembic import op
import sqlalchemy as sa

import webapp.db_types


# revision identifiers, used by Alembic.
revision = 'b7e31c9a4d20'
down_revision = '2d7c2163dd74'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'external_identity',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('provider', sa.String(length=20), nullable=False),
        sa.Column('external_id', sa.String(length=128), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('linked_at', webapp.db_types.UTCDateTime(), nullable=False),
        sa.Column('linked_by_id', sa.Integer(), nullable=True),
        sa.Column('last_sign_in_at', webapp.db_types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['linked_by_id'], ['user.id'], ),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('provider', 'external_id', name='uq_external_identity_account'),
        sa.UniqueConstraint('user_id', 'provider', name='uq_external_identity_user_provider'),
    )
    with op.batch_alter_table('external_identity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_external_identity_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('external_identity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_external_identity_user_id'))
    op.drop_table('external_identity')
