"""Floor devices (device_session.kind, no active person until a worker switches in) and one-time
floor enrolment codes

Revision ID: c5f1e8a2d417
Revises: c5e8a1f04b17
Create Date: 2026-11-28 22:00:00

"""
from alembic import op
import sqlalchemy as sa

import webapp.db_types


# revision identifiers, used by Alembic.
revision = 'c5f1e8a2d417'
down_revision = "c5e8a1f04b17"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('device_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=10), server_default='personal', nullable=False))
        batch_op.alter_column('user_id', existing_type=sa.Integer(), nullable=True)

    op.create_table('floor_enrolment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', webapp.db_types.UTCDateTime(), nullable=False),
    sa.Column('expires_at', webapp.db_types.UTCDateTime(), nullable=False),
    sa.Column('used_at', webapp.db_types.UTCDateTime(), nullable=True),
    sa.Column('device_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_floor_enrolment_created_by_id_user')),
    sa.ForeignKeyConstraint(['device_id'], ['device_session.id'], name=op.f('fk_floor_enrolment_device_id_device_session')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_floor_enrolment')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_floor_enrolment_token_hash'))
    )
    with op.batch_alter_table('floor_enrolment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_floor_enrolment_code_hash'), ['code_hash'], unique=False)


def downgrade():
    with op.batch_alter_table('floor_enrolment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_floor_enrolment_code_hash'))
    op.drop_table('floor_enrolment')
    # Floor devices end (audit events still name them, so the rows stay); one with nobody switched
    # in falls back to the supervisor who enrolled it, only to fill the column.
    op.execute("UPDATE device_session SET revoked_at = last_seen_at, revoked_reason = 'downgrade' "
               "WHERE kind = 'floor' AND revoked_at IS NULL")
    op.execute("UPDATE device_session SET user_id = login_user_id WHERE user_id IS NULL")
    with op.batch_alter_table('device_session', schema=None) as batch_op:
        batch_op.alter_column('user_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('kind')
