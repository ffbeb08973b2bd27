"""Purchasing: suppliers, purchase requests from shortages, purchase orders and their receipts
(which add stock through the ledger)."""
from flask import Blueprint

from ..registry import Domain, public_names, register
from ..statemachine import N_

bp = Blueprint("purchasing", __name__)

PO_STATE_LABELS = {"draft": N_("Draft"), "sent": N_("Sent"), "partial": N_("Partly received"),
                   "received": N_("Received"), "cancelled": N_("Cancelled")}
REQUEST_STATE_LABELS = {"open": N_("Open"), "ordered": N_("Ordered"), "cancelled": N_("Cancelled")}


def _labels() -> dict:
    return {"purchase_order": PO_STATE_LABELS, "purchase_request": REQUEST_STATE_LABELS}


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
        "purchase_order.cancelled": N_("Purchase order cancelled"),
        "purchase_request.created": N_("Purchase request created"),
        "purchase_request.raised": N_("Purchase request raised"),
        "purchase_request.cancelled": N_("Purchase request cancelled"),
        "supplier.saved": N_("Supplier saved"),
    },
    labels=_labels,
))


def init_app(app) -> None:
    """Attach the purchasing pages under /purchasing."""
    from . import models, signals, tasks, views  # noqa: F401  (tables, answers, the daily late-order task, pages)
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
