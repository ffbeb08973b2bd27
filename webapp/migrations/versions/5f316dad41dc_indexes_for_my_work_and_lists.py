"""Indexes for My work's bounded queries, the lists' keyset pages and the order page's weekly load

Revision ID: 5f316dad41dc
Revises: 2eb5ece8b872
Create Date: 2026-11-29 01:15:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '5f316dad41dc'
down_revision = '2eb5ece8b872'
branch_labels = None
depends_on = None

INDEXES = [
    ("ix_order_status_updated_at", "order", ["status", "updated_at"]),
    ("ix_order_status_created_at", "order", ["status", "created_at"]),
    ("ix_order_status_delivery_date", "order", ["status", "delivery_date"]),
    ("ix_requirement_status_updated_at", "requirement", ["status", "updated_at"]),
    ("ix_requirement_status_created_at", "requirement", ["status", "created_at"]),
    ("ix_work_order_owner_id_status", "work_order", ["owner_id", "status"]),
    ("ix_work_order_status_created_at", "work_order", ["status", "created_at"]),
    ("ix_anomaly_resolved_at_reported_at", "anomaly", ["resolved_at", "reported_at"]),
    ("ix_shipment_status_created_at", "shipment", ["status", "created_at"]),
    ("ix_return_case_status_due_at", "return_case", ["status", "due_at"]),
    ("ix_follow_up_status_due_at", "follow_up", ["status", "due_at"]),
    ("ix_ticket_status_first_response_due_at", "ticket", ["status", "first_response_due_at"]),
    ("ix_sync_conflict_resolved_at", "sync_conflict", ["resolved_at"]),
]


def upgrade():
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade():
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
