"""Stage 6: the cost sheet (成本核算表) and closing the order."""
from flask import Blueprint

from ..registry import Domain, public_names, register
from ..statemachine import N_

bp = Blueprint("costing", __name__)


def _labels() -> dict:
    from .forms import CATEGORY_LABELS
    return {"category": CATEGORY_LABELS}


def _story():
    """What this domain tells in an order's whole story (imported when a story is told)."""
    from .story import PART
    return PART


DOMAIN = register(Domain(
    name="costing", labels=_labels,
    actions={"costsheet.view": frozenset({"finance", "manager", "operations", "sales"}),
             "costsheet.edit": frozenset({"finance"}), "costsheet.finalise": frozenset({"finance"}),
             "order.close_override": frozenset({"manager"})},
    events={"cost_sheet.saved": N_("Cost sheet saved"), "cost_sheet.finalised": N_("Cost sheet finalised"),
            "order.close_override": N_("Closed by a manager's override")},
    story=_story,
))


def init_app(app) -> None:
    """Attach the cost sheet pages."""
    from . import models, signals, views  # noqa: F401  (routes, tables, what it does on a new shipment)
    app.register_blueprint(bp)


# What other domains may import from this one: `from ..costing import <name>` (tests/test_architecture.py
# refuses any other reach into the package).
_PUBLIC = {
    "CostSheet": "models",
    "CostLine": "models",
}
__all__ = ["bp", "DOMAIN", "init_app", *_PUBLIC]
__getattr__ = public_names(__name__, _PUBLIC)
