"""Customer owner and the firm setting "sales reps see only their own customers and orders"

Revision ID: 2eb5ece8b872
Revises: d1a7c3e5f902
Create Date: 2026-11-29 01:20:00
"""
import sqlalchemy as sa
from alembic import op

revision = "2eb5ece8b872"
down_revision = "d1a7c3e5f902"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("customer") as batch:
        batch.add_column(sa.Column("owner_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_customer_owner_id_user", "user", ["owner_id"], ["id"])
        batch.create_index("ix_customer_owner_id", ["owner_id"])
    with op.batch_alter_table("firm_settings") as batch:
        batch.add_column(sa.Column("sales_own_customers_only", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    # Who owns an existing customer: the rep of its first order, else of its first requirement,
    # else whoever first saved it (the audit trail) — the closest thing to "created by" there is.
    op.execute("""
        UPDATE customer SET owner_id = COALESCE(
            (SELECT o.sales_rep_id FROM "order" o WHERE o.customer_id = customer.id ORDER BY o.id LIMIT 1),
            (SELECT r.sales_rep_id FROM requirement r WHERE r.customer_id = customer.id ORDER BY r.id LIMIT 1),
            (SELECT a.actor_user_id FROM audit_event a WHERE a.entity_type = 'customer'
                AND a.entity_id = customer.id AND a.action = 'customer.saved' ORDER BY a.id LIMIT 1))
    """)


def downgrade():
    with op.batch_alter_table("firm_settings") as batch:
        batch.drop_column("sales_own_customers_only")
    with op.batch_alter_table("customer") as batch:
        batch.drop_index("ix_customer_owner_id")
        batch.drop_constraint("fk_customer_owner_id_user", type_="foreignkey")
        batch.drop_column("owner_id")
