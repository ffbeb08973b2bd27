"""A product's routing (its operations in order) and a work order's copy of it."""
import secrets

from ..extensions import db
from .models import RoutingStep, WorkOrder, WorkOrderOperation


def routing_of(product_id: int) -> list[RoutingStep]:
    """The product's operations in order (empty: the product has no routing)."""
    return list(db.session.scalars(db.select(RoutingStep).where(RoutingStep.product_id == product_id)
                                   .order_by(RoutingStep.position)))


def copy_routing(work_order: WorkOrder) -> list[WorkOrderOperation]:
    """Give a new work order its own operations from its product's routing (a later change of the
    routing does not change a work order already made)."""
    product_id = work_order.product.id if work_order.product is not None else None
    if product_id is None or work_order.operations:
        return list(work_order.operations)
    operations = [WorkOrderOperation(work_order_id=work_order.id, position=step.position, name=step.name,
                                     token=secrets.token_urlsafe(18), work_centre_id=step.work_centre_id,
                                     minutes_per_piece=step.minutes_per_piece, piece_rate=step.piece_rate,
                                     outsourced=step.outsourced, supplier_id=step.supplier_id)
                  for step in routing_of(product_id)]
    db.session.add_all(operations)
    db.session.flush()
    return operations
