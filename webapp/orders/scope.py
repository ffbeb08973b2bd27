"""The orders' side of the object scope (customers/scope.py): rows that belong to an order are seen
by whoever may see the order's customer."""
from sqlalchemy import true

from ..customers import is_scoped, scope_customers
from ..extensions import db
from .models import Order


def scope_orders(user, order_id_column):
    """A WHERE clause keeping the rows whose order user may see (true for everyone unscoped)."""
    if not is_scoped(user):
        return true()
    if order_id_column is Order.id:
        return scope_customers(user, Order.customer_id)
    return order_id_column.in_(db.select(Order.id).where(scope_customers(user, Order.customer_id)))
