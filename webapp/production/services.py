"""What happens on the floor. Every work-order status change goes through lifecycle.MACHINE."""
import secrets
from decimal import Decimal

from flask import g

from .. import audit
from ..clocks import shift_working_days
from ..extensions import db
from ..i18n import firm_today
from ..notify import Recipient, notify
from ..numbering import next_yearly_number
from ..orders import lifecycle as order_lifecycle
from ..photos import save_photos
from ..statemachine import N_, TransitionError
from ..wallclock import utcnow
from ..workflow import transition
from . import lifecycle, materials, notices, routing  # noqa: F401  (notices: the messages notify() sends)
from . import operations as ops
from .models import QC_DISPOSITIONS, Anomaly, ProgressReport, QcRejection, WorkOrder

# Default plan, counted back from the delivery date (days).
# Milestones planned back from the delivery date, in the firm's working days (clocks.shift_working_days):
# a plan never asks for materials on a Sunday or a holiday.
PLAN_OFFSETS = {"planned_materials": 10, "planned_start": 8, "planned_qc": 2}
# The most a stocking instruction may make (a typo such as an extra zero is caught, not planned).
MAX_STOCKING = Decimal("1000000")


def lines_without_work_orders(order) -> list:
    """The order's lines that have no work order (taken from stock, or not planned yet)."""
    planned = {w.order_line_id for w in order.work_orders}
    return [line for line in order.lines if line.id not in planned]


def covered_by_stock(line) -> bool:
    """Whether the line's product has its whole quantity on hand (then it ships from stock)."""
    return line.product is not None and line.product.on_hand >= line.quantity


def create_work_orders(order, user, at_release: bool = False) -> list[WorkOrder]:
    """One work order per order line that has none, planned back from the delivery date.

    At release a line whose product has the whole quantity on hand gets no work order: it is taken
    from stock when it ships. Later (the supervisor's "Create work orders") every line still without
    one gets one, for what has not already shipped from stock (e.g. the stock went elsewhere)."""
    created = []
    taken = {w.number for w in order.work_orders}
    sequence = len(order.work_orders)
    for line in lines_without_work_orders(order):
        if at_release and covered_by_stock(line):
            audit.record("work_order.from_stock", order, actor=user, entity_type="order",
                         after={"line": line.position, "model": line.model, "quantity": str(line.quantity)})
            continue
        shipped = sum((sline.quantity for shipment in order.shipments for sline in shipment.lines
                       if sline.order_line_id == line.id), Decimal("0"))
        if line.quantity - shipped <= 0:
            continue
        sequence += 1
        while f"{order.number}-W{sequence:02d}" in taken:
            sequence += 1
        work_order = WorkOrder(order=order, line=line, quantity=line.quantity - shipped,
                               number=f"{order.number}-W{sequence:02d}", token=secrets.token_urlsafe(18))
        taken.add(work_order.number)
        if order.delivery_date:
            for field, days in PLAN_OFFSETS.items():
                setattr(work_order, field, shift_working_days(order.delivery_date, -days))
        db.session.add(work_order)
        created.append(work_order)
    db.session.flush()
    for work_order in created:
        audit.record("work_order.created", order, actor=user, entity_type="order",
                     after={"work_order": work_order.number, "quantity": str(work_order.quantity)})
        _release(work_order, user)
    return created


def _release(work_order: WorkOrder, user) -> None:
    """A new work order gets its operations (each with a process-card QR) and its BOM's materials held
    (a shortage asks purchasing); with every material in stock it is ready at once."""
    routing.copy_routing(work_order)
    materials.reserve(work_order, user)
    _materials_there(work_order)


def create_stocking(product, quantity: Decimal, due, purpose: str, user, owner=None) -> WorkOrder:
    """A stocking instruction (备货指令): a work order with no customer order that makes quantity of
    product for stock by the due date, numbered BH-<year>-<serial> and planned back from due like an
    order's work order. Its good pieces become free stock when QC passes them."""
    if product is None:
        raise TransitionError(409, N_("Choose a product from the catalogue."))
    if not Decimal("0") < quantity <= MAX_STOCKING:
        raise TransitionError(409, N_("Enter a quantity above zero and at most %(max)s."), max=f"{MAX_STOCKING:,}")
    if due is not None and due < firm_today():
        raise TransitionError(409, N_("The due date has passed; choose today or a later day."))
    work_order = WorkOrder(product_id=product.id, quantity=quantity, purpose=(purpose or "")[:200],
                           owner_id=owner.id if owner is not None else None, token=secrets.token_urlsafe(18),
                           number=next_yearly_number(WorkOrder.number, "BH", firm_today().year))
    if due is not None:
        for field, days in PLAN_OFFSETS.items():
            setattr(work_order, field, max(shift_working_days(due, -days), firm_today()))
    db.session.add(work_order)
    db.session.flush()
    audit.record("work_order.created", work_order, actor=user,
                 after={"work_order": work_order.number, "product": product.model, "quantity": str(quantity),
                        "due": due.isoformat() if due else None, "stocking": True})
    _release(work_order, user)
    return work_order


def _materials_there(work_order: WorkOrder) -> None:
    """A work order whose materials are all in stock already reaches "materials purchased"."""
    if work_order.bom_version_id is not None and work_order.status == "planned" \
            and not materials.waiting_for_material(work_order):
        move(work_order, "materials_ready", None, system=True)


def split(work_order: WorkOrder, quantity: Decimal, user) -> WorkOrder:
    """Move part of a work order's quantity to a new work order."""
    if work_order.status in ("qc", "done"):
        raise TransitionError(409, N_("A work order in QC or done cannot be split."))
    if not Decimal("0") < quantity < work_order.quantity - work_order.good:
        raise TransitionError(409, N_("Split off less than what is still to make."))
    if work_order.stocking:  # a stocking instruction splits into another instruction
        number = next_yearly_number(WorkOrder.number, "BH", firm_today().year)
    else:
        siblings = db.session.scalar(db.select(db.func.count()).select_from(WorkOrder).where(
            WorkOrder.order_id == work_order.order_id))
        number = f"{work_order.order.number}-W{siblings + 1:02d}"
    new = WorkOrder(order_id=work_order.order_id, order_line_id=work_order.order_line_id,
                    product_id=work_order.product_id, purpose=work_order.purpose, owner_id=work_order.owner_id,
                    quantity=quantity, number=number,
                    token=secrets.token_urlsafe(18), planned_materials=work_order.planned_materials,
                    planned_start=work_order.planned_start, planned_qc=work_order.planned_qc)
    work_order.quantity -= quantity
    db.session.add(new)
    db.session.flush()
    if work_order.stocking:
        audit.record("work_order.split", work_order, actor=user,
                     after={"from": work_order.number, "to": new.number, "quantity": str(quantity)})
    else:
        audit.record("work_order.split", work_order.order, actor=user, entity_type="order",
                     after={"from": work_order.number, "to": new.number, "quantity": str(quantity)})
    new.bom_version_id = work_order.bom_version_id
    routing.copy_routing(new)
    materials.reserve(work_order, user)
    materials.reserve(new, user)
    return new


def move(work_order: WorkOrder, name: str, user, note: str | None = None, system: bool = False) -> str:
    """Apply a work-order transition, stamp its milestone, and move the order on when all are done.
    system: the app itself moves it (materials received reach "materials purchased")."""
    detail = {"number": work_order.number}
    if name == "pass_qc":  # the quantity QC passed, for the order's timeline
        detail["good"] = str(work_order.good)
    if system:
        checked = lifecycle.MACHINE.check(work_order, name, {"system"}, context={"system": True})
        status = transition(work_order, lifecycle.MACHINE, name, roles={"system"}, actor_kind="system",
                            note=note, detail=detail, checked=checked)
    else:
        status = transition(work_order, lifecycle.MACHINE, name, user, note=note, detail=detail)
    now = utcnow()
    if name == "materials_ready":
        work_order.actual_materials = now
    elif name == "start" and work_order.actual_start is None:
        work_order.actual_start = now
    elif name == "finish":
        work_order.actual_qc = now
    elif name == "pass_qc":
        work_order.actual_done = now
        materials.finish_goods(work_order, user)  # the good pieces become a finished-goods lot
        materials.close(work_order)
        order = work_order.order
        db.session.flush()
        if order is not None and order.status == "in_production" and order.all_work_done:
            transition(order, order_lifecycle.MACHINE, "complete_production", roles={"system"},
                       actor_kind="system", detail={"work_orders": len(order.work_orders)})
    elif name == "unblock":
        work_order.blocked_from = None
    return status


def fail_qc(work_order: WorkOrder, user, quantity: Decimal, disposition: str, note: str = "") -> QcRejection:
    """QC rejects quantity pieces (to rework or scrap): they stop counting as good, and the work order
    goes back to the floor, where finishing is refused until that many more good pieces are reported."""
    checked = lifecycle.MACHINE.check(work_order, "fail_qc", user.roles)
    rejection = _reject(work_order, user, quantity, disposition, note)
    transition(work_order, lifecycle.MACHINE, "fail_qc", user, note=note or None, checked=checked,
               detail={"number": work_order.number, "rejected": str(quantity), "disposition": disposition,
                       "good": str(work_order.good)})
    return rejection


def reject_pieces(work_order: WorkOrder, user, quantity: Decimal, disposition: str, note: str = "") -> QcRejection:
    """An in-process inspection rejects pieces (rework or scrap) while the work goes on: they stop
    counting as good, without moving the work order's state."""
    rejection = _reject(work_order, user, quantity, disposition, note)
    audit.record("work_order.fail_qc", work_order, actor=user, note=note or None,
                 after={"number": work_order.number, "rejected": str(quantity), "disposition": disposition,
                        "good": str(work_order.good), "in_process": True})
    return rejection


def _reject(work_order: WorkOrder, user, quantity: Decimal, disposition: str, note: str) -> QcRejection:
    """Record rejected pieces (rework or scrap, at most the good quantity): they stop counting as good."""
    if disposition not in QC_DISPOSITIONS:
        raise TransitionError(409, N_("Choose rework or scrap for the rejected pieces."))
    if work_order.status == "done":  # its good pieces are a finished-goods lot now, perhaps shipped
        raise TransitionError(409, N_("The work order has passed QC: its pieces are finished goods now and are "
                                      "dealt with in stock."))
    if not Decimal("0") < quantity <= work_order.good:
        raise TransitionError(409, N_("Reject more than zero and at most the good quantity."))
    rejection = QcRejection(work_order=work_order, quantity=quantity, disposition=disposition, note=note,
                            inspector_id=user.id)
    db.session.add(rejection)
    db.session.flush()
    return rejection


def report(work_order: WorkOrder, user, good: Decimal, scrap: Decimal, note: str, files,
           occurred_at=None, operation: str = "", step=None, minutes: Decimal = Decimal("0"),
           scrap_reason: str = "") -> ProgressReport:
    """Record good and scrap quantity (starting the job if it had not started).

    A work order with operations counts the report against step (a WorkOrderOperation), or, when
    none is named (a phone's post queued before operations existed), its first open operation; an
    operation's good pieces may not pass what the previous operation passed (operations.check).
    minutes: time spent; scrap_reason: one of operations.SCRAP_REASONS (or free text)."""
    if good < 0 or scrap < 0 or good + scrap <= 0:
        raise TransitionError(409, N_("Report a good or scrap quantity above zero."))
    if minutes < 0 or minutes > ops.MAX_MINUTES:
        raise TransitionError(409, N_("Enter the minutes spent, from 0 to %(max)s."), max=str(ops.MAX_MINUTES))
    if step is not None and step.work_order_id != work_order.id:
        raise TransitionError(409, N_("This operation belongs to another work order."))
    if step is None and work_order.operations:
        step = ops.first_open(work_order)
    if work_order.status in ("planned", "materials_ready"):
        move(work_order, "start", user)
    if work_order.status != "in_progress":
        raise TransitionError(409, N_("Progress can be reported only while the work is in progress."))
    if step is not None:
        ops.check(step, good)
        if step is work_order.operations[-1] and good > work_order.remaining:
            raise TransitionError(409, N_("That is more good pieces than are still to make."))
    elif good > work_order.remaining:
        raise TransitionError(409, N_("That is more good pieces than are still to make."))
    device = g.get("login_session")
    entry = ProgressReport(work_order=work_order, good_qty=good, scrap_qty=scrap, note=note,
                           operation=step.name[:60] if step is not None else operation,
                           operation_id=step.id if step is not None else None,
                           minutes=minutes, scrap_reason=(scrap_reason or "")[:200] if scrap else "",
                           worker_id=user.id, device_id=device.id if device is not None else None,
                           occurred_at=occurred_at or utcnow())
    db.session.add(entry)
    db.session.flush()
    save_photos(files, "progress", entry.id, user)
    after = {"good": str(good), "scrap": str(scrap), "total_good": str(work_order.good), "report": entry.id}
    if step is not None:
        after.update({"operation": step.name, "operation_good": str(ops.good_of(step))})
    if minutes:
        after["minutes"] = str(minutes)
    if scrap and scrap_reason:
        after["scrap_reason"] = scrap_reason
    audit.record("work_order.progress", work_order, actor=user, after=after)
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
                 after={"kind": kind, "severity": severity, "new_eta": new_eta.isoformat() if new_eta else None,
                        "anomaly": anomaly.id})
    if severity == "blocking" and work_order.status != "blocked":
        work_order.blocked_from = work_order.status
        move(work_order, "block", user, note=note)
    if new_eta is not None and work_order.order is not None:  # stock has no customer to tell
        order = work_order.order
        before = order.revised_date or order.delivery_date
        order.revised_date = new_eta
        audit.record("order.eta_changed", order, actor=user, note=eta_reason,
                     before={"date": before.isoformat() if before else None},
                     after={"date": new_eta.isoformat()})
        notify("order.eta_changed", [Recipient.customer_of(order)], order=order, new_eta=new_eta, reason=eta_reason)
    return anomaly


def resolve_anomaly(anomaly: Anomaly, user, resolution: str) -> None:
    """Close an anomaly with what was done."""
    if anomaly.resolved_at is not None:
        raise TransitionError(409, N_("This anomaly is already resolved."))
    anomaly.resolved_at, anomaly.resolution = utcnow(), resolution
    audit.record("work_order.anomaly_resolved", anomaly.work_order, actor=user, note=resolution,
                 after={"anomaly": anomaly.id})
