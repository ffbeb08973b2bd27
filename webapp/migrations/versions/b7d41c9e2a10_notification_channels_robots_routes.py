"""Notification channels: group chat robots (WeCom, DingTalk), their events, and each event's
e-mail and SMS switches (issue 16)

Revision ID: b7d41c9e2a10
Revises: a7e1c2d3f416
Create Date: 2026-11-30 00:50:00

"""
from alembic import op
import sqlalchemy as sa

import webapp.db_types


# revision identifiers, used by Alembic.
revision = 'b7d41c9e2a10'
down_revision = 'a7e1c2d3f416'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'chat_robot',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('kind', sa.String(length=12), nullable=False),
        sa.Column('webhook_url', sa.String(length=500), nullable=False),
        sa.Column('secret', sa.String(length=200), server_default='', nullable=False),
        sa.Column('locale', sa.String(length=8), server_default='zh', nullable=False),
        sa.Column('enabled', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('created_at', webapp.db_types.UTCDateTime(), nullable=False),
        sa.Column('last_sent_at', webapp.db_types.UTCDateTime(), nullable=True),
        sa.Column('last_failed_at', webapp.db_types.UTCDateTime(), nullable=True),
        sa.Column('last_error', sa.String(length=300), server_default='', nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'robot_event',
        sa.Column('robot_id', sa.Integer(), nullable=False),
        sa.Column('event', sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(['robot_id'], ['chat_robot.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('robot_id', 'event'),
    )
    op.create_table(
        'notify_event',
        sa.Column('event', sa.String(length=80), nullable=False),
        sa.Column('email', sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column('sms', sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.PrimaryKeyConstraint('event'),
    )


def downgrade():
    op.drop_table('notify_event')
    op.drop_table('robot_event')
    op.drop_table('chat_robot')
