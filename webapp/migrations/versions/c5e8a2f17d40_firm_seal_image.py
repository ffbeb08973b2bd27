"""the firm's seal image for customers' PDF copies

Revision ID: c5e8a2f17d40
Revises: c5f1e8a2d417
Create Date: 2026-11-28 22:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c5e8a2f17d40'
down_revision = 'c5f1e8a2d417'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('firm_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seal_photo_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_firm_settings_seal_photo_id_photo', 'photo', ['seal_photo_id'], ['id'])


def downgrade():
    with op.batch_alter_table('firm_settings', schema=None) as batch_op:
        batch_op.drop_constraint('fk_firm_settings_seal_photo_id_photo', type_='foreignkey')
        batch_op.drop_column('seal_photo_id')
