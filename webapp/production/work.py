"""The floor's work for My work: a person's own open work orders, work orders waiting for material,
and anomalies to resolve (line-stopping ones first). Inspections waiting are quality's (quality/work.py)."""
from datetime import date

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from sqlalchemy.orm import joinedload, selectinload

from ..extensions import db
from ..orders import Order
from ..orders import numbered_under
from . import DOMAIN
from ..work_items import DUE_DELIVERY, DUE_ETA, DUE_PLANNED, WorkItem, work_item
from . import lifecycle
from .models import Anomaly, WorkOrder

# Who sees the work orders they own on My work, and who is asked to inspect.
# The actions My work asks about, added to what this domain registered (webapp/registry.py).
DOMAIN.actions.update({
    "workorder.own": lifecycle.FLOOR | {"qc"},
    # Resolving is for production; operations follows anomalies on the production list.
    "anomaly.follow": frozenset({"production"}),
    # Work orders whose materials are not all in stock (the supervisor and the warehouse follow them).
    "material.follow": frozenset({"production", "warehouse"}),
})

# A work order still in its owner's hands.
OWNER_OPEN_STATES = frozenset({"planned", "materials_ready", "in_progress", "blocked"})

def _naming() -> tuple:
    """What naming a work order needs: its line, its order and the order's customer."""
    return (joinedload(WorkOrder.line),
            joinedload(WorkOrder.order).options(joinedload(Order.customer), selectinload(Order.lines)))


def work_order_ref(work_order: WorkOrder) -> str:
    """How the floor names a work order: its number, which carries the order's."""
    if work_order.order is None:  # a stocking instruction's number stands alone
        return work_order.number
    return numbered_under(work_order.number, work_order.order)


def next_milestone(work_order: WorkOrder) -> date | None:
    """The planned date of the work order's next milestone not yet reached."""
    if not work_order.actual_materials and work_order.planned_materials:
        return work_order.planned_materials
    if not work_order.actual_start and work_order.planned_start:
        return work_order.planned_start
    if not work_order.actual_qc:
        return work_order.planned_qc
    return None


def _common(work_order: WorkOrder) -> dict:
    return {"customer": work_order.made_for, "detail": work_order.item.model}


def own_work_orders(user):
    """The user's open work orders, blocked ones first (index work_order_owner_status)."""
    return (db.select(WorkOrder).where(WorkOrder.owner_id == user.id,
                                       WorkOrder.status.in_(sorted(OWNER_OPEN_STATES)))
            .options(*_naming()).order_by((WorkOrder.status != "blocked"), WorkOrder.created_at, WorkOrder.id))


def own_item(work_order: WorkOrder, user) -> WorkItem:
    """One of the user's own work orders."""
    return WorkItem(_("Your work order"), work_order_ref(work_order),
                    url_for("production.floor", token=work_order.token), work_order.created_at, "act",
                    due=next_milestone(work_order), due_kind=DUE_PLANNED,
                    blocking=work_order.status == "blocked", **_common(work_order))


def anomaly_item(anomaly: Anomaly, user) -> WorkItem:
    """An anomaly not resolved yet; a blocking one stops the line."""
    work_order, order = anomaly.work_order, anomaly.work_order.order
    return WorkItem(
        _("Anomaly to resolve"), work_order_ref(work_order), url_for("production.floor", token=work_order.token),
        anomaly.reported_at, "act", customer=work_order.made_for, blocking=anomaly.severity == "blocking",
        detail=anomaly.note[:80], **_anomaly_due(anomaly, order))


def _anomaly_due(anomaly: Anomaly, order) -> dict:
    """An anomaly is due by its new ETA, else the order's date (a stocking instruction's: its QC plan)."""
    if order is None:
        return {"due": anomaly.new_eta or anomaly.work_order.planned_qc, "due_kind": DUE_PLANNED}
    return {"due": anomaly.new_eta or order.revised_date or order.delivery_date,
            "due_kind": DUE_ETA if anomaly.new_eta or order.revised_date else DUE_DELIVERY}


def _production_list() -> str:
    return url_for("production.index")


work_item("workorder.own", action="workorder.own", label=lazy_gettext("Your work order"),
          query=own_work_orders, build=own_item, more_url=_production_list)
work_item("anomaly.open", action="anomaly.follow", label=lazy_gettext("Anomaly to resolve"),
          query=lambda user: (db.select(Anomaly).where(Anomaly.resolved_at.is_(None))
                              .options(joinedload(Anomaly.work_order).options(*_naming()))
                              .order_by((Anomaly.severity != "blocking"), Anomaly.reported_at, Anomaly.id)),
          build=anomaly_item, more_url=_production_list)


def waiting_for_material():
    """Work orders with a bill of materials still planned: a receipt covering their materials moves
    them to "materials purchased" by itself, so these are the ones whose materials are not there."""
    return (db.select(WorkOrder).where(WorkOrder.status == "planned", WorkOrder.bom_version_id.is_not(None))
            .options(*_naming()).order_by(WorkOrder.planned_materials, WorkOrder.id))


def material_item(work_order: WorkOrder, user) -> WorkItem:
    """A work order waiting for its materials."""
    return WorkItem(_("Waiting for material"), work_order_ref(work_order),
                    url_for("production.work_order_materials", token=work_order.token), work_order.created_at,
                    "wait", due=work_order.planned_materials, due_kind=DUE_PLANNED, **_common(work_order))


def _waiting_list() -> str:
    return url_for("production.index", waiting="material")


work_item("workorder.material", action="material.follow", label=lazy_gettext("Waiting for material"),
          query=lambda user: waiting_for_material(), build=material_item, more_url=_waiting_list)
