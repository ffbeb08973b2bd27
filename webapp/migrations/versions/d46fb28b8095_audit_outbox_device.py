"""The outbox device an audited action was replayed from (audit_event.actor_outbox_device_id)

Revision ID: d46fb28b8095
Revises: 5f316dad41dc
Create Date: 2026-11-29 01:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd46fb28b8095'
down_revision = '5f316dad41dc'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('actor_outbox_device_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_audit_event_actor_outbox_device_id_sync_device'),
                                    'sync_device', ['actor_outbox_device_id'], ['id'])


def downgrade():
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_audit_event_actor_outbox_device_id_sync_device'), type_='foreignkey')
        batch_op.drop_column('actor_outbox_device_id')
