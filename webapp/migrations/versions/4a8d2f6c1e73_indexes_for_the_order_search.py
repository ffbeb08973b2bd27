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
    ("ix_order_lower_number", "order", ["lower(number)"]),
    ("ix_order_lower_customer_po", "order", ["lower(customer_po)"]),
]


def upgrade():
    # On PostgreSQL the expressions are kept in the "C" collation, the one the search's prefix ranges
    # compare in (main/views.py): under a database's linguistic collation (en_US.UTF-8, zh_CN.UTF-8)
    # a range up to q + U+10FFFF is not sure to hold every string that starts with q.
    collate = ' COLLATE "C"' if op.get_bind().dialect.name == "postgresql" else ""
    for name, table, columns in INDEXES:
        op.create_index(name, table, [sa.text(c + collate) if "(" in c else c for c in columns], unique=False)


def downgrade():
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
