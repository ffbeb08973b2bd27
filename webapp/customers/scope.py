"""Object scope: with the firm setting "sales reps see only their own customers and orders" on, a
user whose only office role is sales sees the customers they own and what belongs to them (orders,
requirements, and the shipments, work orders and tickets of those orders) — in the loader (through
the `visible` check this domain registers), the lists, My work and search alike."""
from sqlalchemy import true

from .. import permissions
from ..extensions import db
from ..firm import get_settings
from .models import Customer


def is_scoped(user) -> bool:
    """Whether user sees only their own customers: the firm's setting is on and sales is the only
    office role they have (a manager, finance or an admin who also sells sees everything)."""
    if user is None or not user.is_authenticated:
        return False
    if (set(user.roles) & permissions.OFFICE) != {"sales"}:
        return False
    return bool(get_settings().sales_own_customers_only)


def scope_customers(user, customer_id_column):
    """A WHERE clause keeping the rows whose customer user may see (true for everyone unscoped)."""
    if not is_scoped(user):
        return true()
    if customer_id_column is Customer.id:
        return Customer.owner_id == user.id
    return customer_id_column.in_(db.select(Customer.id).where(Customer.owner_id == user.id))


# How an object reaches its customer: itself, its own, or through what it was made for.
_PARENTS = ("order", "requirement", "work_order", "shipment", "ticket")


def customer_of(obj, depth: int = 3):
    """The customer an object belongs to (itself, its own, or its order's), or None."""
    if isinstance(obj, Customer):
        return obj
    customer = getattr(obj, "customer", None)
    if isinstance(customer, Customer):
        return customer
    for name in _PARENTS if depth else ():
        parent = getattr(obj, name, None)
        if parent is not None:
            return customer_of(parent, depth - 1)
    return None


def visible(user, obj) -> bool:
    """Whether obj is within user's scope (always, unless the firm scopes sales reps)."""
    if not is_scoped(user):
        return True
    customer = customer_of(obj)
    if customer is None:
        return True  # not a customer's object (a product, a setting): roles alone decide
    return customer.owner_id == user.id
