"""What happens on the floor. Every work-order status change goes through lifecycle.MACHINE."""
import secrets
from datetime import timedelta
from decimal import Decimal

from flask import g
from flask_babel import force_locale
from flask_babel import gettext as _

from .. import audit
from ..db_types import utcnow
from ..extensions import db
from ..notify import mail
from ..orders import lifecycle as order_lifecycle
from ..photos import save_photos
from ..statemachine import N_, TransitionError
from ..workflow import transition
from . import lifecycle
from .models import Anomaly, ProgressReport, WorkOrder

# Default plan, counted back from the delivery date (days).
PLAN_OFFSETS = {"planned_materials": 14, "planned_start": 10, "planned_qc": 3}


def create_work_orders(order, user) -> list[WorkOrder]:
    """One work order per order line, planned back from the delivery date."""
    if order.work_orders:
        return list(order.work_orders)
    created = []
    for index, line in enumerate(order.lines, start=1):
        work_order = WorkOrder(order=order, line=line, quantity=line.quantity,
                               number=f"{order.number}-W{index:02d}", token=secrets.token_urlsafe(18))
        if order.delivery_date:
            for field, days in PLAN_OFFSETS.items():
                setattr(work_order, field, order.delivery_date - timedelta(days=days))
        db.session.add(work_order)
        created.append(work_order)
    db.session.flush()
    for work_order in created:
        audit.record("work_order.created", order, actor=user, entity_type="order",
                     after={"work_order": work_order.number, "quantity": str(work_order.quantity)})
    return created


def split(work_order: WorkOrder, quantity: Decimal, user) -> WorkOrder:
    """Move part of a work order's quantity to a new work order."""
    if work_order.status in ("qc", "done"):
        raise TransitionError(409, N_("A work order in QC or done cannot be split."))
    if not Decimal("0") < quantity < work_order.quantity - work_order.good:
        raise TransitionError(409, N_("Split off less than what is still to make."))
    siblings = db.session.scalar(db.select(db.func.count()).select_from(WorkOrder).where(
        WorkOrder.order_id == work_order.order_id))
    new = WorkOrder(order_id=work_order.order_id, order_line_id=work_order.order_line_id,
                    quantity=quantity, number=f"{work_order.order.number}-W{siblings + 1:02d}",
                    token=secrets.token_urlsafe(18), planned_materials=work_order.planned_materials,
                    planned_start=work_order.planned_start, planned_qc=work_order.planned_qc)
    work_order.quantity -= quantity
    db.session.add(new)
    db.session.flush()
    audit.record("work_order.split", work_order.order, actor=user, entity_type="order",
                 after={"from": work_order.number, "to": new.number, "quantity": str(quantity)})
    return new


def move(work_order: WorkOrder, name: str, user, note: str | None = None) -> str:
    """Apply a work-order transition, stamp its milestone, and move the order on when all are done."""
    status = transition(work_order, lifecycle.MACHINE, name, user, note=note,
                        detail={"number": work_order.number})
    now = utcnow()
    if name == "materials_ready":
        work_order.actual_materials = now
    elif name == "start" and work_order.actual_start is None:
        work_order.actual_start = now
    elif name == "finish":
        work_order.actual_qc = now
    elif name == "pass_qc":
        work_order.actual_done = now
        order = work_order.order
        db.session.flush()
        if order.status == "in_production" and order.all_work_done:
            transition(order, order_lifecycle.MACHINE, "complete_production", roles={"system"},
                       actor_kind="system", detail={"work_orders": len(order.work_orders)})
    elif name == "unblock":
        work_order.blocked_from = None
    return status


def report(work_order: WorkOrder, user, good: Decimal, scrap: Decimal, note: str, files,
           occurred_at=None, operation: str = "") -> ProgressReport:
    """Record good and scrap quantity (starting the job if it had not started)."""
    if good < 0 or scrap < 0 or good + scrap <= 0:
        raise TransitionError(409, N_("Report a good or scrap quantity above zero."))
    if work_order.status in ("planned", "materials_ready"):
        move(work_order, "start", user)
    if work_order.status != "in_progress":
        raise TransitionError(409, N_("Progress can be reported only while the work is in progress."))
    if good > work_order.remaining:
        raise TransitionError(409, N_("That is more good pieces than are still to make."))
    device = g.get("device")
    entry = ProgressReport(work_order=work_order, good_qty=good, scrap_qty=scrap, note=note,
                           operation=operation, worker_id=user.id,
                           device_id=device.id if device is not None else None,
                           occurred_at=occurred_at or utcnow())
    db.session.add(entry)
    db.session.flush()
    save_photos(files, "progress", entry.id, user)
    audit.record("work_order.progress", work_order, actor=user,
                 after={"good": str(good), "scrap": str(scrap), "total_good": str(work_order.good)})
    return entry


def raise_anomaly(work_order: WorkOrder, user, kind: str, severity: str, note: str, contingency: str,
                  new_eta, eta_reason: str, files, reported_at=None) -> Anomaly:
    """Record an anomaly; a blocking one stops the job; a new ETA moves the order's date and the
    customer is told."""
    anomaly = Anomaly(work_order=work_order, kind=kind, severity=severity, note=note,
                      contingency=contingency, new_eta=new_eta, eta_reason=eta_reason,
                      reported_by_id=user.id)
    if reported_at is not None:  # recorded offline: when it happened, by the phone's clock
        anomaly.reported_at = reported_at
    db.session.add(anomaly)
    db.session.flush()
    save_photos(files, "anomaly", anomaly.id, user)
    audit.record("work_order.anomaly", work_order, actor=user, note=note,
                 after={"kind": kind, "severity": severity, "new_eta": new_eta.isoformat() if new_eta else None})
    if severity == "blocking" and work_order.status != "blocked":
        work_order.blocked_from = work_order.status
        move(work_order, "block", user, note=note)
    if new_eta is not None:
        order = work_order.order
        before = order.revised_date or order.delivery_date
        order.revised_date = new_eta
        audit.record("order.eta_changed", order, actor=user, note=eta_reason,
                     before={"date": before.isoformat() if before else None},
                     after={"date": new_eta.isoformat()})
        contact = order.requirement.contact_email if order.requirement else order.customer.contact_email
        with force_locale(order.customer.locale or "zh"):
            mail.queue(contact or order.customer.contact_email,
                       _("Order %(number)s: new expected date %(date)s", number=order.number,
                         date=new_eta.isoformat()),
                       _("Hello,\n\nWe are sorry: order %(number)s will be ready on %(date)s instead of the "
                         "date agreed.\nReason: %(reason)s\n", number=order.number,
                         date=new_eta.isoformat(), reason=eta_reason))
    return anomaly


def resolve_anomaly(anomaly: Anomaly, user, resolution: str) -> None:
    """Close an anomaly with what was done."""
    if anomaly.resolved_at is not None:
        raise TransitionError(409, N_("This anomaly is already resolved."))
    anomaly.resolved_at, anomaly.resolution = utcnow(), resolution
    audit.record("work_order.anomaly_resolved", anomaly.work_order, actor=user, note=resolution)
