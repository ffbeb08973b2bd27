"""What purchasing answers when another domain asks (webapp/signals.py)."""
from .. import signals
from ..extensions import db
from .models import PurchaseOrder, PurchaseOrderLine


@signals.material_on_order.connect
def lines_still_to_come(material, **_extra) -> bool:
    """Whether a draft, sent or partly received purchase order still has the material to come (its
    quantities are in the purchase unit: the unit and conversion must not change under it)."""
    return db.session.scalar(db.select(PurchaseOrderLine.id).join(PurchaseOrder).where(
        PurchaseOrderLine.material_id == material.id, PurchaseOrder.status.in_(("draft", "sent", "partial")),
        PurchaseOrderLine.received < PurchaseOrderLine.quantity).limit(1)) is not None
