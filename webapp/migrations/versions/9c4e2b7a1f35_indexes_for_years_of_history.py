"""Indexes for years of history: a work order's good and scrap summed from the index alone

The worker's page and every progress post sum a work order's reports in SQL (they loaded every
report); with the quantities in the index the database reads no table row for the sum.

Revision ID: 9c4e2b7a1f35
Revises: b7e31c9a4d20
Create Date: 2026-11-30 04:10:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '9c4e2b7a1f35'
down_revision = 'b7e31c9a4d20'
branch_labels = None
depends_on = None

INDEXES = [
    ("ix_progress_report_work_order_sums", "progress_report", ["work_order_id", "operation_id", "good_qty", "scrap_qty"]),
]


def upgrade():
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade():
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
