"""API tokens; idempotency keys and kept conflicts unique per credential (a phone, a link, an API token) (issue 16)

Revision ID: a7e1c2d3f416
Revises: 4c0aa5f2225a
Create Date: 2026-11-30 01:00:00

"""
from alembic import op
import sqlalchemy as sa

import webapp.db_types


# revision identifiers, used by Alembic.
revision = 'a7e1c2d3f416'
down_revision = '4c0aa5f2225a'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'api_token',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('scope', sa.String(length=10), nullable=False),
        sa.Column('secret_hash', sa.String(length=64), nullable=False),
        sa.Column('prefix', sa.String(length=16), nullable=False),
        sa.Column('created_at', webapp.db_types.UTCDateTime(), nullable=False),
        sa.Column('expires_at', webapp.db_types.UTCDateTime(), nullable=True),
        sa.Column('last_used_at', webapp.db_types.UTCDateTime(), nullable=True),
        sa.Column('revoked_at', webapp.db_types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_api_token_user_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_token')),
        sa.UniqueConstraint('secret_hash', name=op.f('uq_api_token_secret_hash')),
    )
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_token_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('idempotency_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('credential', sa.String(length=40), server_default='', nullable=False))
    # The keys stored so far were a phone's (device_id) or a link's (no device).
    op.execute("UPDATE idempotency_record SET credential = 'device:' || device_id WHERE device_id IS NOT NULL")
    op.execute("UPDATE idempotency_record SET credential = 'link' WHERE device_id IS NULL")
    with op.batch_alter_table('idempotency_record', schema=None) as batch_op:
        batch_op.drop_constraint('uq_idempotency_record_key', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_idempotency_record_credential'), ['credential', 'key'])
    # The conflicts kept from replays, likewise per credential.
    with op.batch_alter_table('sync_conflict', schema=None) as batch_op:
        batch_op.add_column(sa.Column('credential', sa.String(length=40), server_default='', nullable=False))
    op.execute("UPDATE sync_conflict SET credential = 'device:' || device_id WHERE device_id IS NOT NULL")
    op.execute("UPDATE sync_conflict SET credential = 'link' WHERE device_id IS NULL")
    with op.batch_alter_table('sync_conflict', schema=None) as batch_op:
        batch_op.drop_constraint('uq_sync_conflict_key', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_sync_conflict_credential'), ['credential', 'key'])


def downgrade():
    with op.batch_alter_table('sync_conflict', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_sync_conflict_credential'), type_='unique')
        batch_op.create_unique_constraint('uq_sync_conflict_key', ['key'])
        batch_op.drop_column('credential')
    with op.batch_alter_table('idempotency_record', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_idempotency_record_credential'), type_='unique')
        batch_op.create_unique_constraint('uq_idempotency_record_key', ['key'])
        batch_op.drop_column('credential')
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_token_user_id'))
    op.drop_table('api_token')
