"""Stock: materials and their units, bills of materials, locations, lots, and the ledger of
movements that on-hand, reserved and available are computed from (never typed)."""
from flask import Blueprint

from ..registry import Domain, public_names, register

bp = Blueprint("stock", __name__)

WAREHOUSE = frozenset({"warehouse"})

DOMAIN = register(Domain(
    name="stock",
    actions={
        "stock.view": frozenset({"warehouse", "purchasing", "production", "operations", "qc", "finance",
                                 "manager", "admin", "worker"}),
        # Receive, move, issue to and return from the floor, scrap (the warehouse and the floor's lead).
        "stock.move": frozenset({"warehouse", "production"}),
        # Materials, units and bills of materials.
        "material.manage": frozenset({"warehouse", "production", "purchasing", "manager", "admin"}),
        # Count a location, and approve its differences (a second person: a manager or operations).
        "stocktake.count": frozenset({"warehouse"}),
        "stocktake.approve": frozenset({"manager", "operations", "finance"}),
    },
    events={
        "stock.received": "Stock received",
    },
))


def init_app(app) -> None:
    """Attach the stock pages under /stock."""
    from . import models  # noqa: F401  (tables)
    try:
        from . import views  # noqa: F401
    except ImportError:  # pragma: no cover  (views come with the pages)
        pass
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
}
__all__ = ["bp", "DOMAIN", "init_app", *_PUBLIC]
__getattr__ = public_names(__name__, _PUBLIC)
