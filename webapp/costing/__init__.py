"""Stage 6: the cost sheet (成本核算表) and closing the order."""
from flask import Blueprint

from ..registry import Domain, register
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


DOMAIN = register(Domain(
    name="costing", labels=_labels, machines=(quote_lifecycle.MACHINE,),
    actions={"costsheet.view": frozenset({"finance", "manager", "operations", "sales"}),
             "costsheet.edit": frozenset({"finance"}), "costsheet.finalise": frozenset({"finance"}),
             "order.close_override": frozenset({"manager"}),
             # Quotations (报价): who prices them, and who records the customer's answer.
             "quote.view": QUOTE_ROLES, "quote.edit": QUOTE_ROLES,
             "quote.accept": frozenset({"sales", "manager"})},
    events={"cost_sheet.saved": N_("Cost sheet saved"), "cost_sheet.finalised": N_("Cost sheet finalised"),
            "order.close_override": N_("Closed by a manager's override"),
            "quote.created": N_("Quotation drawn up"), "quote.saved": N_("Quotation changed and estimated again"),
            "quote.send": N_("Quotation sent to the customer"), "quote.accept": N_("Accepted by the customer"),
            "quote.reject": N_("Rejected by the customer"), "quote.expire": N_("Quotation expired"),
            "quote.cancel": N_("Quotation cancelled"), "quote.revise": N_("Quotation taken back to revise")},
    page_context={"requirement": _quotes_of_requirement, "order": _quote_of_order},
    story=_story,
))


def init_app(app) -> None:
    """Attach the cost sheet pages."""
    from . import models, signals, views  # noqa: F401  (routes, tables, what it does on a new shipment)
    from . import quote_models, quote_views  # noqa: F401  (the quotations' tables and pages)
    app.register_blueprint(bp)


# What other domains may import from this one: `from ..costing import <name>` (tests/test_architecture.py
# refuses any other reach into the package).
__all__ = ["bp", "DOMAIN", "init_app"]
