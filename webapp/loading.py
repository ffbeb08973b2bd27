"""One way to load an object for a view: 404 when there is no such row (or the user may not know of
it), 403 when the user's roles may not do the action, 409 when the object's state does not allow it,
and a row lock for writers on PostgreSQL.

Object scope is asked here too: a domain that limits who sees what registers a `visible(user, obj)`
check (webapp/registry.py); the customers domain does, for the firm setting "sales reps see only
their own customers and orders" (webapp/customers/scope.py, which the lists and search use too).
An object out of scope answers 404, like a missing row.
"""
import enum

from flask import abort, request
from flask_login import current_user

from . import permissions, registry
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
    if obj is not None and user is not None and user.is_authenticated and not registry.visible(user, obj):
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
    if where is not None and not lock:
        # A reader finds the row by its other column in one statement, with its eager loads.
        obj = db.session.scalars(db.select(model).where(where).options(*options).limit(1)).unique().first()
    else:
        if where is not None:
            object_id = db.session.scalar(db.select(key_column).where(where).limit(1))
            if object_id is None:
                abort(404)
        # SQLite's writer holds the whole database from BEGIN IMMEDIATE (transaction.py): a row lock
        # would be one more statement that locks nothing more.
        if lock and db.session.get_bind().dialect.name != "sqlite":
            db.session.execute(db.select(key_column).where(key_column == object_id).with_for_update())
        obj = db.session.get(model, object_id, options=list(options), populate_existing=lock)
    if obj is None:
        abort(404)
    if action is not None:  # None: a customer's link authorised the request, not a user's roles
        require_on(action, obj)
    if states is not None and obj.status not in states:
        raise TransitionError(409, refusal)
    return obj
