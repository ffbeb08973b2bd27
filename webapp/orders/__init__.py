"""Stage 2: order terms, feasibility review, approval, countersignature, amendments, payments."""
from flask import Blueprint

from ..permissions import OFFICE, PRICE_ROLES
from ..registry import Domain, LinkPurpose, register
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
    from ..admin.models import get_settings  # one row, kept in the session's identity map
    return bool(user.roles & OFFICE) and get_settings().prices_for_all_staff


def may_review(department: str):
    """A department's feasibility sign-off: the role is checked here (403); the order's state and
    settings by the service (409)."""
    return lambda user, obj=None: department in user.roles


def _open_countersign_link(link):
    from ..public.views import open_countersign
    return open_countersign(link)


DOMAIN = register(Domain(
    name="orders", machines=(lifecycle.MACHINE,), labels=_labels,
    actions={"order.view": OFFICE, "order.create": frozenset({"sales"}), "order.edit": frozenset({"sales"}),
             "order.budget": frozenset({"finance"}), "payment.record": frozenset({"finance"})},
    state_rules={"order.edit": lambda o: o.status in lifecycle.EDITABLE,
                 "order.budget": lambda o: o.status in lifecycle.BUDGETABLE,
                 "payment.record": lambda o: o.status in lifecycle.PAYABLE},
    checks={"order.prices": may_see_prices, "order.review.*": lambda user, obj=None: False,
            **{f"order.review.{d}": may_review(d) for d in sorted(lifecycle.REVIEWERS)}},
    link_purposes=(LinkPurpose("order_countersign", _open_countersign_link),),
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
))


def init_app(app) -> None:
    """Attach the order pages under /orders."""
    from . import models, views  # noqa: F401  (routes and tables)
    app.register_blueprint(bp, url_prefix="/orders")
