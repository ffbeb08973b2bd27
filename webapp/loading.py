"""One way to load an object for a view: 404 when there is no such row (or the user may not know of
it), 403 when the user's roles may not do the action, 409 when the object's state does not allow it,
and a row lock for writers on PostgreSQL.

Object scope lives here too: with the firm setting "sales reps see only their own customers and
orders" on, a user whose only office role is sales sees the customers they own and what belongs to
them (orders, requirements, and the shipments, work orders and tickets of those orders) — in the
loader, the lists and search alike, each asking `visible()` or `scope_customers()` here.
"""
import enum

from flask import abort, request
from flask_login import current_user
from sqlalchemy import true

from . import permissions
from .extensions import db
from .statemachine import N_, TransitionError

# Methods that change something: their loads lock the row they load (PostgreSQL; SQLite serialises
# writers with BEGIN IMMEDIATE already).
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class Verdict(enum.Enum):
    """What authorize() says, and the status a view answers for it."""

    ALLOWED = 200
    HIDDEN = 404  # out of the user's scope: answered like a missing row, so existence does not leak
    FORBIDDEN = 403  # the user's roles may not do the action
    WRONG_STATE = 409  # the roles may, the object's state does not allow it now

    def __bool__(self) -> bool:
        return self is Verdict.ALLOWED


# The edit pages of a frozen record answer 403, as they always did: the page is not offered at all
# (its button is hidden), so the user-visible answer stays "not allowed" rather than a conflict.
STATE_AS_FORBIDDEN = frozenset({"requirement.edit", "order.edit"})
STATE_MESSAGE = N_("This order is not in a state that allows this.")


def _roles_may(user, action: str) -> bool:
    """Whether user's roles may do action in some state (the state not considered)."""
    if ":" in action:
        machine_name, name = action.split(":", 1)
        return bool(set(user.roles) & permissions.MACHINES[machine_name].transitions[name].roles)
    return permissions.can(user, action)  # without an object no state rule applies


def authorize(user, action: str, obj=None) -> Verdict:
    """Say whether user may do action on obj, and if not, why (scope, role or state)."""
    if obj is not None and user is not None and user.is_authenticated and not visible(user, obj):
        return Verdict.HIDDEN
    if permissions.can(user, action, obj):
        return Verdict.ALLOWED
    if obj is None or user is None or not user.is_authenticated or not user.is_active:
        return Verdict.FORBIDDEN
    return Verdict.WRONG_STATE if _roles_may(user, action) else Verdict.FORBIDDEN


def state_message(action: str, obj) -> str:
    """The message a refusal for the object's state shows (the machine's own, where it has one)."""
    if ":" in action:
        machine_name, name = action.split(":", 1)
        try:
            permissions.MACHINES[machine_name].check(obj, name, current_user.roles)
        except TransitionError as error:
            return error.message
    return STATE_MESSAGE


def require_on(action: str, obj) -> None:
    """Answer 404/403/409 for the current user doing action on obj, unless it is allowed."""
    verdict = authorize(current_user, action, obj)
    if verdict is Verdict.ALLOWED:
        return
    if verdict is Verdict.WRONG_STATE and action not in STATE_AS_FORBIDDEN:
        raise TransitionError(409, state_message(action, obj))
    abort(404 if verdict is Verdict.HIDDEN else 403)


def writing() -> bool:
    """Whether the current request may change something (its loads lock their rows)."""
    return request.method in UNSAFE_METHODS


def load(model, object_id, action: str | None, *, options=(), lock: bool | None = None,
         where=None, states=None, refusal: str = STATE_MESSAGE):
    """Load model's row object_id for the current user doing action: 404, 403 or 409 otherwise.

    Writers (lock None: an unsafe method) lock the row first, so two people acting on the same
    object at once see each other's work; the object is then read afresh with options (eager loads
    are kept out of the locking statement: PostgreSQL refuses FOR UPDATE on the outer side of a
    join). `where` finds the row by another column instead of object_id (404 when none has it);
    `states`, where given, are the only states the object may be in for this view (else 409 with
    the message id refusal)."""
    lock = writing() if lock is None else lock
    key_column = model.__mapper__.primary_key[0]
    if where is not None:
        object_id = db.session.scalar(db.select(key_column).where(where).limit(1))
        if object_id is None:
            abort(404)
    if lock:
        db.session.execute(db.select(key_column).where(key_column == object_id).with_for_update())
    obj = db.session.get(model, object_id, options=list(options), populate_existing=lock)
    if obj is None:
        abort(404)
    if action is not None:  # None: a customer's link authorised the request, not a user's roles
        require_on(action, obj)
    if states is not None and obj.status not in states:
        raise TransitionError(409, refusal)
    return obj


# --- object scope ------------------------------------------------------------------------------

def is_scoped(user) -> bool:
    """Whether user sees only their own customers: the firm's setting is on and sales is the only
    office role they have (a manager, finance or an admin who also sells sees everything)."""
    if user is None or not user.is_authenticated:
        return False
    if (set(user.roles) & permissions.OFFICE) != {"sales"}:
        return False
    from .admin.models import get_settings  # one row, kept in the session's identity map
    return bool(get_settings().sales_own_customers_only)


def scope_customers(user, customer_id_column):
    """A WHERE clause keeping the rows whose customer user may see (true for everyone unscoped)."""
    if not is_scoped(user):
        return true()
    from .customers.models import Customer
    if customer_id_column is Customer.id:
        return Customer.owner_id == user.id
    return customer_id_column.in_(db.select(Customer.id).where(Customer.owner_id == user.id))


def scope_orders(user, order_id_column):
    """A WHERE clause keeping the rows whose order user may see (true for everyone unscoped)."""
    if not is_scoped(user):
        return true()
    from .orders.models import Order
    if order_id_column is Order.id:
        return scope_customers(user, Order.customer_id)
    return order_id_column.in_(db.select(Order.id).where(scope_customers(user, Order.customer_id)))


# How an object reaches its customer: itself, its own, or through what it was made for.
_PARENTS = ("order", "requirement", "work_order", "shipment", "ticket")


def customer_of(obj, depth: int = 3):
    """The customer an object belongs to (itself, its own, or its order's), or None."""
    from .customers.models import Customer
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
