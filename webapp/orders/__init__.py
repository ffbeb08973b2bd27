"""Stage 2: order terms, feasibility review, approval, countersignature, amendments, payments."""
from flask import Blueprint

from ..permissions import OFFICE, PRICE_ROLES
from ..registry import Domain, LinkPurpose, public_names, register
from ..statemachine import N_
from . import lifecycle

bp = Blueprint("orders", __name__)


def _labels() -> dict:
    from .forms import METHOD_CHOICES, PAYMENT_KIND_LABELS, VERDICT_LABELS
    return {"verdict": VERDICT_LABELS, "method": dict(METHOD_CHOICES), "payment_kind": PAYMENT_KIND_LABELS}


def may_see_prices(user, obj=None) -> bool:
    """Prices for the commercial roles; for other office staff where the firm's settings allow it."""
    if user.roles & PRICE_ROLES:
        return True
    from ..firm import get_settings  # one row, kept in the session's identity map
    return bool(user.roles & OFFICE) and get_settings().prices_for_all_staff


def may_review(department: str):
    """A department's feasibility sign-off: the role is checked here (403); the order's state and
    settings by the service (409)."""
    return lambda user, obj=None: department in user.roles


def _open_countersign_link(link):
    from .customer_link import open_countersign
    return open_countersign(link)


def _countersign_copy(link):
    from .customer_link import countersign_copy
    return countersign_copy(link)


def _orders_of_requirement(requirement) -> dict:
    """The requirement page lists the orders made from the requirement (and offers to draw one up
    only when there is none)."""
    from ..extensions import db
    from .models import Order
    return {"orders": db.session.scalars(db.select(Order).where(Order.requirement_id == requirement.id)).all()}


DOMAIN = register(Domain(
    name="orders", machines=(lifecycle.MACHINE,), labels=_labels,
    actions={"order.view": OFFICE, "order.create": frozenset({"sales"}), "order.edit": frozenset({"sales"}),
             "order.budget": frozenset({"finance"}), "payment.record": frozenset({"finance"})},
    state_rules={"order.edit": lambda o: o.status in lifecycle.EDITABLE,
                 "order.budget": lambda o: o.status in lifecycle.BUDGETABLE,
                 "payment.record": lambda o: o.status in lifecycle.PAYABLE},
    checks={"order.prices": may_see_prices, "order.review.*": lambda user, obj=None: False,
            **{f"order.review.{d}": may_review(d) for d in sorted(lifecycle.REVIEWERS)}},
    link_purposes=(LinkPurpose("order_countersign", _open_countersign_link, copy=_countersign_copy),),
    events={
        "order.created": N_("Order drawn up"),
        "order.edited": N_("Order edited"),
        "order.budget": N_("Cost budget set"),
        "order.numbered": N_("Order number assigned"),
        "order.payment": N_("Payment recorded"),
        "order.review": N_("Feasibility sign-off"),
        "order.approve": N_("Approved"),
        "order.reject": N_("Rejected"),
        "order.eta_changed": N_("Expected date changed"),
        "order.link_renewed": N_("New customer link"),
        "order.link_revoked": N_("Customer link withdrawn"),
        # What the order's timeline says happened (a transition's own label is what a button says).
        "order.submit": N_("Submitted for review"),
        "order.override_concern": N_("Concern overridden"),
        "order.countersign": N_("Countersigned by the customer"),
        "order.start_production": N_("Released to production"),
    },
    events_saying_state=frozenset({"order.start_production"}),
    page_context={"requirement": _orders_of_requirement},
))


def init_app(app) -> None:
    """Attach the order pages under /orders, and the customer's countersign pages to the customer
    links' blueprint (before it is registered: public comes later in webapp.domains())."""
    from . import customer_link, models, signals, views  # noqa: F401  (routes, tables, answers to signals)
    app.register_blueprint(bp, url_prefix="/orders")


# What other domains may import from this one: `from ..orders import <name>` (tests/test_architecture.py
# refuses any other reach into the package).
_PUBLIC = {
    "lifecycle": "lifecycle",
    "submit_order": "services",
    "new_order": "services",
    "recalculate": "services",
    "Order": "models",
    "OrderLine": "models",
    "Payment": "models",
    "OrderVersion": "models",
    "Countersignature": "models",
    "BUDGET_CATEGORIES": "models",
    "METHOD_CHOICES": "forms",
    "scope_orders": "scope",
    "signature_for": "customer_link",
    "numbered_under": "work",
    "order_customer": "work",
    "order_item": "work",
    "orders_in": "work",
    "orders_list_url": "work",
    "record_payment": "services",
    "PAYMENT_KIND_LABELS": "forms",
}
__all__ = ["bp", "DOMAIN", "init_app", "may_see_prices", *_PUBLIC]
__getattr__ = public_names(__name__, _PUBLIC)
