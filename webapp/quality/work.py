"""Quality's work for My work: lots waiting for incoming inspection, and work orders waiting for
their final inspection (both open the quality page, where the inspection starts)."""
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from sqlalchemy.orm import joinedload, selectinload

from ..extensions import db
from ..orders import Order, numbered_under
from ..production import WorkOrder
from ..stock import Lot
from ..work_items import DUE_PLANNED, WorkItem, work_item


def _quality_list() -> str:
    return url_for("quality.index")


def lot_item(lot: Lot, user) -> WorkItem:
    """A received lot waiting in quarantine for its incoming inspection."""
    return WorkItem(_("Incoming inspection waiting"), f"{lot.material.code} · {lot.code}",
                    url_for("quality.index") + f"#lot-{lot.id}", lot.created_at, "act", detail=lot.material.name)


def final_item(work_order: WorkOrder, user) -> WorkItem:
    """A work order waiting for its final inspection."""
    number = numbered_under(work_order.number, work_order.order) if work_order.order else work_order.number
    return WorkItem(_("Final inspection waiting"), number,
                    url_for("quality.index") + f"#wo-{work_order.id}", work_order.actual_qc or work_order.created_at,
                    "act", customer=work_order.made_for, detail=work_order.item.model,
                    due=work_order.planned_qc, due_kind=DUE_PLANNED)


work_item("quality.incoming", action="quality.inspect", label=lazy_gettext("Incoming inspection waiting"),
          query=lambda user: (db.select(Lot).where(Lot.status == "quarantine").options(joinedload(Lot.material))
                              .order_by(Lot.created_at, Lot.id)),
          build=lot_item, more_url=_quality_list)
work_item("quality.final", action="quality.inspect", label=lazy_gettext("Final inspection waiting"),
          query=lambda user: (db.select(WorkOrder).where(WorkOrder.status == "qc").options(
              joinedload(WorkOrder.line),
              joinedload(WorkOrder.order).options(joinedload(Order.customer), selectinload(Order.lines)))
              .order_by(WorkOrder.created_at, WorkOrder.id)),
          build=final_item, more_url=_quality_list)
