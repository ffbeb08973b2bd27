"""Who may do what: the one place views, loaders and templates ask.

Transitions are named "<machine>:<transition>" and take their roles and state rules from the
domain's lifecycle table; plain actions, their state rules and the actions answered by a function
of their own are what each domain registered (webapp/registry.py). This module imports no domain.
"""
from functools import wraps

from flask import abort
from flask_login import current_user

from . import registry
from .registry import MACHINES  # noqa: F401  (every registered machine, by name)

OFFICE = frozenset({"admin", "sales", "operations", "production", "purchasing", "warehouse", "qc",
                    "finance", "manager", "aftersales"})

# Prices, budgets and margins: the commercial roles always see them. Production, warehouse,
# purchasing and QC judge capacity, stock and quality — they see quantities and dates, and prices
# only where the firm's settings allow it (FirmSettings.prices_for_all_staff).
PRICE_ROLES = frozenset({"sales", "finance", "manager", "admin", "operations", "aftersales"})


def can(user, action: str, obj=None) -> bool:
    """Return whether user may do action (on obj, when the action concerns one)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if ":" in action:
        machine_name, name = action.split(":", 1)
        return MACHINES[machine_name].allowed(obj, name, user.roles)
    check = registry.action_check(action) or registry.action_check(action.rsplit(".", 1)[0] + ".*")
    if check is not None:
        return bool(check(user, obj))
    roles = registry.action_roles(action)
    if roles is None:
        raise KeyError(action)  # a typo in an action's name must fail loudly, not deny quietly
    if not user.roles & roles:
        return False
    rule = registry.state_rule(action)
    return rule is None or obj is None or rule(obj)


def can_see_photo(user, kind: str, order=None) -> bool:
    """Whether user may see a photo of kind (an entity type of photos.Photo) kept for order."""
    # Photos are evidence of what happened to an order. Staff who may see the order see them all; so
    # do the people whose own pages show them without the order (a worker the floor's photos, the
    # warehouse a shipment's): the viewers each domain registered for its kinds of photos. Photos
    # kept with an offline action that could not be applied (no order) are for whoever settles those.
    registered = registry.photo_kind(kind)
    if registered is None:
        return False
    action = registered.viewers
    if can(user, action, order if registered.order_of is not None else None):
        return True
    return order is not None and can(user, "order.view", order)


# A shared phone can be handed only to people whose roles are all floor roles: a 4-digit PIN must
# never open an office account.
SWITCHABLE = frozenset({"worker", "courier", "warehouse", "qc", "production"})


# The people whose work is scanning: work-order and badge QR codes on the floor, packing lists and
# shipments in the warehouse and on the road. Their phones keep the scanner's 1 MB decoder for use
# without signal, fetched once per device (static/js/outbox/pages.js); an office person who opens the
# scanner loads it on that page only.
SCANNING_ROLES = SWITCHABLE


def scans(user) -> bool:
    """Whether user's work is scanning (their phone keeps the scanner's decoder)."""
    return bool(user is not None and user.is_authenticated and user.roles & SCANNING_ROLES)


def can_switch_to(person) -> bool:
    """Whether a shared phone may be switched to person by badge or PIN."""
    return bool(person.roles) and person.roles <= SWITCHABLE


# What a floor device (a shared phone a supervisor enrolled) opens. With nobody switched in: the
# switch screen and what it needs; once a worker switched in, the worker pages too — never an
# office page, whatever the worker's roles (a production supervisor switching in by PIN included).
# The installable app's files (pwa.*) and the certificate pages (tls.*) are always open.
FLOOR_OPEN = frozenset({"auth.switch", "auth.badge", "auth.set_language", "auth.enrol", "auth.enrol_qr",
                        "main.health", "static",
                        # the scanner reads a badge's QR; with nobody in it opens only this app's links
                        "scan.scan", "scan.resolve"})
FLOOR_WORKER_PAGES = frozenset({
    "main.home", "production.index", "production.floor", "production.report", "production.move",
    "production.anomaly", "production.photo", "scan.scan", "scan.resolve", "sync.enrol", "sync.manifest",
    # A process card's operation, the worker's own piece-rate earnings, taking material to the job.
    "production.operation_floor", "production.operation_report", "production.my_earnings",
    "production.work_order_materials", "production.issue_material",
    "auth.logout",  # on a floor phone: hand the phone back (the worker switches out)
})


def floor_allows(endpoint: str | None, someone_in: bool) -> bool:
    """Whether a floor device opens endpoint, with or without a worker switched in."""
    if endpoint is None:
        return True  # no such page: the 404 says so
    if endpoint in FLOOR_OPEN or endpoint.startswith(("pwa.", "tls.")):
        return True
    return someone_in and endpoint in FLOOR_WORKER_PAGES


def require(action: str, obj=None) -> None:
    """Abort with 403 unless the current user may do action."""
    if not can(current_user, action, obj):
        abort(403)


def requires(action: str):
    """Decorate a view so that only users who may do action reach it."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            require(action)
            return view(*args, **kwargs)
        return wrapped
    return decorator
