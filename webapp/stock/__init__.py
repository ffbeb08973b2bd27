"""Stock: materials and their units, bills of materials, locations, lots, and the ledger of
movements that on-hand, reserved and available are computed from (never typed)."""
from flask import Blueprint

from ..registry import CapabilityToken, Domain, public_names, register
from ..statemachine import N_

bp = Blueprint("stock", __name__)

WAREHOUSE = frozenset({"warehouse"})


def may_see_prices(user, obj=None) -> bool:
    """Unit costs and stock values: the commercial roles always, other office staff where the firm's
    settings allow it (the same rule as the orders' prices, which this lower domain cannot import)."""
    from ..permissions import OFFICE, PRICE_ROLES
    if user.roles & PRICE_ROLES:
        return True
    from ..firm import get_settings
    return bool(user.roles & OFFICE) and get_settings().prices_for_all_staff


def _lot_by_token(session, value: str):
    from sqlalchemy import select
    from .models import Lot
    return session.scalar(select(Lot.id).where(Lot.token == value))


def _labels() -> dict:
    return {"lot_status": {"available": N_("Available"), "quarantine": N_("Waiting for inspection"),
                           "blocked": N_("Blocked")},
            "stocktake_status": {"counting": N_("Counting"), "submitted": N_("Waiting for approval"),
                                 "posted": N_("Posted")},
            "move_kind": {"receipt": N_("Receipt"), "issue": N_("Issue to work order"),
                          "return": N_("Return from the floor"), "scrap": N_("Scrap"), "adjust": N_("Adjustment"),
                          "count": N_("Stocktake correction"), "ship": N_("Shipment"),
                          "produce": N_("Made by work order"), "opening": N_("Opening stock")}}


def _fine(value) -> str:
    """A quantity of the finer scale (up to 6 decimals, 0.0042), without trailing zeros."""
    from decimal import Decimal

    from babel.numbers import format_decimal
    if value is None:
        return "—"
    return format_decimal(Decimal(value).normalize(), format="#,##0.######")

DOMAIN = register(Domain(
    name="stock",
    actions={
        "stock.view": frozenset({"warehouse", "purchasing", "production", "operations", "qc", "finance",
                                 "manager", "admin"}),
        # Receive, move, issue to and return from the floor, scrap (the warehouse and the floor's lead).
        "stock.move": frozenset({"warehouse", "production"}),
        # Materials, units and bills of materials.
        "material.manage": frozenset({"warehouse", "production", "purchasing", "manager", "admin"}),
        # Count a location, and approve its differences (a second person: a manager or operations).
        "stocktake.count": frozenset({"warehouse"}),
        "stocktake.approve": frozenset({"manager", "operations", "finance"}),
    },
    events={
        "stock.received": N_("Stock received"),
        "stock.scrapped": N_("Stock scrapped"),
        "stock.adjusted": N_("Stock adjusted"),
        "stock.relocated": N_("Stock moved to another location"),
        "material.saved": N_("Material saved"),
        "stocktake.started": N_("Stocktake started"),
        "stocktake.submitted": N_("Stocktake submitted"),
        "stocktake.reopened": N_("Stocktake reopened for a recount"),
        "stocktake.posted": N_("Stocktake approved and posted"),
    },
    checks={"stock.prices": may_see_prices},
    labels=_labels,
    template_globals={"fine": _fine},
    # A lot's label carries its secret token in /stock/l/<token> (opens the lot's page).
    capability_tokens=(CapabilityToken("lot", lambda endpoint, name: endpoint == "stock.lot_by_token",
                                       _lot_by_token),),
))


def init_app(app) -> None:
    """Attach the stock pages under /stock."""
    from . import models  # noqa: F401  (tables)
    from . import views  # noqa: F401  (pages)
    app.register_blueprint(bp, url_prefix="/stock")


# What other domains may import from this one: `from ..stock import <name>`.
_PUBLIC = {
    "Material": "models",
    "Lot": "models",
    "Location": "models",
    "StockMove": "models",
    "StockBalance": "models",
    "Reservation": "models",
    "BomVersion": "models",
    "BomLine": "models",
    "Stocktake": "models",
    "ledger": "ledger",
    "bom": "bom",
    "products": "products",
    "LOT_STATES": "models",
}
__all__ = ["bp", "DOMAIN", "init_app", *_PUBLIC]
__getattr__ = public_names(__name__, _PUBLIC)
