"""Firm setting: whether production, warehouse, purchasing and QC staff see prices

Revision ID: c5e8a1f04b17
Revises: b7d4c1e9a203
Create Date: 2026-11-28 22:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = "c5e8a1f04b17"
down_revision = "b7d4c1e9a203"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("firm_settings") as batch:
        batch.add_column(sa.Column("prices_for_all_staff", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade():
    with op.batch_alter_table("firm_settings") as batch:
        batch.drop_column("prices_for_all_staff")
