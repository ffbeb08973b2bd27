"""Indexes for the order search: each customer's orders newest first, order and PO numbers by prefix

The search read every order (lower(column) LIKE '%q%' over numbers, PO numbers and customer names);
it now matches the customers first and takes their newest orders from (customer_id, created_at, id),
and numbers by prefix from indexes on lower(number) and lower(customer_po) (expression indexes:
SQLite 3.9+ and PostgreSQL both build them with plain CREATE INDEX).

Revision ID: 4a8d2f6c1e73
Revises: 5d1f0c3b8e72
Create Date: 2026-11-30 07:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4a8d2f6c1e73'
down_revision = '5d1f0c3b8e72'
branch_labels = None
depends_on = None

INDEXES = [
    ("ix_order_customer_id_created_at", "order", ["customer_id", "created_at", "id"]),
    ("ix_order_lower_number", "order", [sa.text("lower(number)")]),
    ("ix_order_lower_customer_po", "order", [sa.text("lower(customer_po)")]),
]


def upgrade():
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade():
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
