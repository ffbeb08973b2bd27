"""Purchasing: suppliers, purchase requests from shortages, purchase orders and their receipts
(which add stock through the ledger)."""
from flask import Blueprint

from ..registry import Domain, public_names, register
from ..statemachine import N_

bp = Blueprint("purchasing", __name__)

DOMAIN = register(Domain(
    name="purchasing",
    actions={
        "purchase.view": frozenset({"purchasing", "warehouse", "production", "operations", "finance", "manager",
                                    "admin"}),
        "purchase.manage": frozenset({"purchasing", "manager"}),
        "purchase.receive": frozenset({"warehouse", "purchasing"}),
    },
    events={
        "purchase_order.created": N_("Purchase order created"),
        "purchase_order.sent": N_("Purchase order sent"),
        "purchase_order.received": N_("Goods received"),
    },
))


def init_app(app) -> None:
    """Attach the purchasing pages under /purchasing."""
    from . import models  # noqa: F401  (tables)
    try:
        from . import views  # noqa: F401
    except ImportError:  # pragma: no cover  (views come with the pages)
        pass
    app.register_blueprint(bp, url_prefix="/purchasing")


_PUBLIC = {
    "Supplier": "models",
    "PurchaseRequest": "models",
    "PurchaseOrder": "models",
    "PurchaseOrderLine": "models",
    "services": "services",
}
__all__ = ["bp", "DOMAIN", "init_app", *_PUBLIC]
__getattr__ = public_names(__name__, _PUBLIC)
