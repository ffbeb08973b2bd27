"""Placeholder until the purchasing pages land (the helper's branch replaces this file)."""
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ..extensions import db
from .models import PurchaseOrder, PurchaseOrderLine, PurchaseRequest


@dataclass(frozen=True)
class Supply:
    purchase_order: PurchaseOrder
    line: PurchaseOrderLine
    expected: date | None
    outstanding: Decimal
    late: bool


def open_supply(material_id: int, today: date) -> list[Supply]:
    rows = db.session.execute(db.select(PurchaseOrder, PurchaseOrderLine).join(PurchaseOrderLine.purchase_order)
                              .where(PurchaseOrderLine.material_id == material_id,
                                     PurchaseOrder.status.in_(("sent", "partial")))).all()
    return [Supply(po, line, po.expected_date, line.outstanding * line.material.purchase_factor, po.late(today))
            for po, line in rows if line.outstanding > 0]


def request_shortage(material, quantity, *, needed_by=None, work_order_id=None, user=None):
    if quantity <= 0:
        return None
    request = db.session.scalar(db.select(PurchaseRequest).where(
        PurchaseRequest.material_id == material.id, PurchaseRequest.work_order_id == work_order_id,
        PurchaseRequest.status == "open"))
    if request is None:
        request = PurchaseRequest(material_id=material.id, quantity=quantity, needed_by=needed_by,
                                  work_order_id=work_order_id, created_by_id=getattr(user, "id", None))
        db.session.add(request)
    else:
        request.quantity = quantity
    db.session.flush()
    return request
