"""Purchasing's work for My work: purchasers see open requests and late purchase orders; the
warehouse sees purchase orders due today or late, to receive."""
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..i18n import firm_today
from ..work_items import DUE_PLANNED, WorkItem, work_item
from . import DOMAIN
from .models import PurchaseOrder, PurchaseRequest

# Who My work asks to buy, and who to receive (added to what this domain registered).
DOMAIN.actions.update({
    "purchase.buy": frozenset({"purchasing"}),
    "purchase.expect": frozenset({"warehouse"}),
})


def open_requests(user):
    """Open purchase requests, the earliest needed first (index status, needed_by)."""
    return (db.select(PurchaseRequest).where(PurchaseRequest.status == "open")
            .options(joinedload(PurchaseRequest.material))
            .order_by(PurchaseRequest.needed_by.is_(None), PurchaseRequest.needed_by, PurchaseRequest.id))


def request_item(purchase_request: PurchaseRequest, user) -> WorkItem:
    """One request to turn into a purchase order."""
    material = purchase_request.material
    return WorkItem(_("To buy"), material.code, url_for("purchasing.index"), purchase_request.created_at, "act",
                    detail=f"{material.name} · {purchase_request.quantity.normalize():f} {material.stock_unit}",
                    due=purchase_request.needed_by, due_kind=DUE_PLANNED)


def late_orders(user):
    """Sent purchase orders past their expected date (index status, expected_date)."""
    return (db.select(PurchaseOrder).where(PurchaseOrder.status.in_(("sent", "partial")),
                                           PurchaseOrder.expected_date < firm_today())
            .options(joinedload(PurchaseOrder.supplier)).order_by(PurchaseOrder.expected_date, PurchaseOrder.id))


def late_item(order: PurchaseOrder, user) -> WorkItem:
    """A late purchase order to chase."""
    return WorkItem(_("Purchase order late"), order.number, url_for("purchasing.order", order_id=order.id),
                    order.created_at, "act", detail=order.supplier.name, due=order.expected_date,
                    due_kind=DUE_PLANNED, blocking=False)


def due_orders(user):
    """Sent purchase orders expected today or before, to receive."""
    return (db.select(PurchaseOrder).where(PurchaseOrder.status.in_(("sent", "partial")),
                                           PurchaseOrder.expected_date <= firm_today())
            .options(joinedload(PurchaseOrder.supplier)).order_by(PurchaseOrder.expected_date, PurchaseOrder.id))


def due_item(order: PurchaseOrder, user) -> WorkItem:
    """Goods to expect and receive."""
    return WorkItem(_("Goods to receive"), order.number, url_for("purchasing.order", order_id=order.id),
                    order.created_at, "act", detail=order.supplier.name, due=order.expected_date,
                    due_kind=DUE_PLANNED)


def _orders_list(show: str):
    return lambda: url_for("purchasing.orders", show=show)


work_item("purchase.request", action="purchase.buy", label=lazy_gettext("To buy"), query=open_requests,
          build=request_item, more_url=lambda: url_for("purchasing.index"))
work_item("purchase.late", action="purchase.buy", label=lazy_gettext("Purchase order late"), query=late_orders,
          build=late_item, more_url=_orders_list("late"))
work_item("purchase.due", action="purchase.expect", label=lazy_gettext("Goods to receive"), query=due_orders,
          build=due_item, more_url=_orders_list("open"))
