"""Stage 6: the cost sheet (成本核算表) and closing the order."""
from flask import Blueprint

from ..registry import Domain, public_names, register
from ..statemachine import N_
from . import quote_lifecycle

# Who sees and prices quotations.
QUOTE_ROLES = frozenset({"sales", "finance", "manager", "operations"})

bp = Blueprint("costing", __name__)


def _labels() -> dict:
    from .forms import CATEGORY_LABELS
    return {"category": CATEGORY_LABELS}


def _quotes_of_requirement(requirement) -> dict:
    """The requirement page lists the quotations made from it (and offers a new one when confirmed)."""
    from .quote_services import quotes_of_requirement
    return {"quotes": quotes_of_requirement(requirement)}


def _quote_of_order(order) -> dict:
    """The order page links to the quotation it was made from."""
    from .quote_services import quote_of_order
    return {"quote": quote_of_order(order)}


def _story():
    """What this domain tells in an order's whole story (imported when a story is told)."""
    from .story import PART
    return PART


# Finance and the manager always see what orders cost; the firm chooses which other roles do
# (FirmSettings.cost_roles): a small firm lets sales see it to quote, a larger one keeps it to finance.
ALWAYS_SEE_COSTS = frozenset({"finance", "manager"})
COST_ROLE_CHOICES = ("operations", "sales", "production", "purchasing", "admin")


def may_see_costs(user, obj=None) -> bool:
    """Cost data (cost sheets, cause totals, cost KPIs) for finance, the manager and the roles the firm allows."""
    if user.roles & ALWAYS_SEE_COSTS:
        return True
    from ..firm import get_settings
    allowed = {r for r in (get_settings().cost_roles or "").split(",") if r in COST_ROLE_CHOICES}
    return bool(user.roles & allowed)


DOMAIN = register(Domain(
    name="costing", labels=_labels, machines=(quote_lifecycle.MACHINE,),
    actions={"costsheet.edit": frozenset({"finance"}), "costsheet.finalise": frozenset({"finance"}),
             "order.close_override": frozenset({"manager"}),
             "costing.settings": frozenset({"finance", "manager", "admin"}),
             # Quotations (报价): who prices them, and who records the customer's answer.
             "quote.view": QUOTE_ROLES, "quote.edit": QUOTE_ROLES,
             "quote.accept": frozenset({"sales", "manager"})},
    events={"cost_sheet.saved": N_("Cost sheet saved"), "cost_sheet.finalised": N_("Cost sheet finalised"),
            "order.close_override": N_("Closed by a manager's override"),
            "costing.settings_saved": N_("Cost settings saved"), "costing.causes_saved": N_("Cause codes saved"),
            "quote.created": N_("Quotation drawn up"), "quote.saved": N_("Quotation changed and estimated again"),
            "quote.send": N_("Quotation sent to the customer"), "quote.accept": N_("Accepted by the customer"),
            "quote.reject": N_("Rejected by the customer"), "quote.expire": N_("Quotation expired"),
            "quote.cancel": N_("Quotation cancelled"), "quote.revise": N_("Quotation taken back to revise")},
    checks={"costsheet.view": may_see_costs},
    page_context={"requirement": _quotes_of_requirement, "order": _quote_of_order},
    story=_story,
))


def init_app(app) -> None:
    """Attach the cost sheet pages."""
    from . import export_views, models, overhead, settings_views, signals, views  # noqa: F401  (routes, tables, what it does on a new shipment)
    from . import quote_models, quote_views  # noqa: F401  (the quotations' tables and pages)
    app.register_blueprint(bp)


# What other domains may import from this one: `from ..costing import <name>` (tests/test_architecture.py
# refuses any other reach into the package).
_PUBLIC = {"CostCause": "models", "ensure_builtin_causes": "models", "CostLine": "models", "CostSheet": "models", "CostLineCause": "models",
           "cause_totals": "services", "finalised_between": "services", "derived_actuals": "services"}
__all__ = ["bp", "DOMAIN", "init_app", "may_see_costs", "overhead_estimate", *_PUBLIC]
__getattr__ = public_names(__name__, _PUBLIC)


def overhead_estimate(machine_hours, labour_hours, direct_cost):
    """The overhead the firm's rule expects for these hours and direct cost (quotations)."""
    from .overhead import estimate
    return estimate(machine_hours, labour_hours, direct_cost)
