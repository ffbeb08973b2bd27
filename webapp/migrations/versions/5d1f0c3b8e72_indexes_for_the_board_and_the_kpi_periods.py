"""Indexes for the KPI dashboard's periods: each fact query reads only its periods' rows

The dashboard read the work orders done, the cost sheets finalised, the surveys answered and the
requirement records taken down in its window of periods by columns with no index (a scan of the
whole history on each view), and looked up the receipts of the order lines due through a column
with none.

Revision ID: 5d1f0c3b8e72
Revises: 9c4e2b7a1f35
Create Date: 2026-11-30 07:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '5d1f0c3b8e72'
down_revision = '9c4e2b7a1f35'
branch_labels = None
depends_on = None

INDEXES = [
    ("ix_work_order_status_actual_done", "work_order", ["status", "actual_done"]),
    ("ix_cost_sheet_finalised_at", "cost_sheet", ["finalised_at"]),
    ("ix_survey_answered_at", "survey", ["answered_at"]),
    ("ix_requirement_created_at", "requirement", ["created_at"]),
    ("ix_receipt_line_shipment_line_id", "receipt_line", ["shipment_line_id"]),
]


def upgrade():
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade():
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
