"""Outsourced operations (外协): a batch of a work order's pieces sent to a supplier for one
operation (heat treatment, plating) with its own document and due date, and received back — good,
scrap and what it cost. The operation's good pieces are what came back good."""
from datetime import date, timedelta
from decimal import Decimal

from .. import audit
from ..extensions import db
from ..i18n import firm_today
from ..numbering import next_yearly_number
from ..statemachine import N_, TransitionError
from ..wallclock import utcnow
from .models import OutsourceTransfer, ProgressReport, WorkOrderOperation

ZERO = Decimal("0")
MOST = Decimal("1000000000")


def passed_before(operation: WorkOrderOperation) -> Decimal:
    """What the operation may have at most: the good pieces of the operation before it (what came
    back good, if that one is outsourced too), or the work order's quantity for the first."""
    previous = db.session.scalar(db.select(WorkOrderOperation).where(
        WorkOrderOperation.work_order_id == operation.work_order_id,
        WorkOrderOperation.position < operation.position).order_by(WorkOrderOperation.position.desc()).limit(1))
    if previous is None:
        return operation.work_order.quantity
    return good_of(previous)


def good_of(operation: WorkOrderOperation) -> Decimal:
    """An operation's good pieces: received back good (outsourced) or reported good."""
    if operation.outsourced:
        total = db.session.scalar(db.select(db.func.sum(OutsourceTransfer.received_good)).where(
            OutsourceTransfer.operation_id == operation.id))
    else:
        total = db.session.scalar(db.select(db.func.sum(ProgressReport.good_qty)).where(
            ProgressReport.operation_id == operation.id))
    return Decimal(total or 0)


def sent_of(operation: WorkOrderOperation) -> Decimal:
    """What has been sent out for the operation so far."""
    return Decimal(db.session.scalar(db.select(db.func.sum(OutsourceTransfer.sent_qty)).where(
        OutsourceTransfer.operation_id == operation.id)) or 0)


def lock(operation_id: int) -> WorkOrderOperation:
    """The operation's row, re-read and (on PostgreSQL) locked: two sends at once are served in turn."""
    return db.session.scalars(db.select(WorkOrderOperation).where(WorkOrderOperation.id == operation_id)
                              .with_for_update().execution_options(populate_existing=True)).one()


def send_out(operation: WorkOrderOperation, quantity: Decimal, due_date: date | None, user,
             note: str = "") -> OutsourceTransfer:
    """Send quantity pieces to the operation's supplier: never more than the operation before has
    passed and is not already out (409 with how many may go)."""
    operation = lock(operation.id)
    if not operation.outsourced:
        raise TransitionError(409, N_("This operation is done in the firm, not sent out."))
    if operation.work_order.status in ("done", "qc"):
        raise TransitionError(409, N_("This work order is finished; nothing more is sent out for it."))
    if not isinstance(quantity, Decimal) or not quantity.is_finite() or not ZERO < quantity <= MOST:
        raise TransitionError(422, N_("Enter a quantity above zero."))
    may = passed_before(operation) - sent_of(operation)
    if quantity > may:
        raise TransitionError(409, N_("At most %(n)s pieces may go: that is what the operation before passed and is not out yet."),
                              n=_plain(max(may, ZERO)))
    if due_date is not None and due_date < firm_today():
        raise TransitionError(422, N_("The due date cannot be in the past."))
    transfer = OutsourceTransfer(number=next_yearly_number(OutsourceTransfer.number, "OS", firm_today().year),
                                 operation_id=operation.id, supplier_id=operation.supplier_id, sent_qty=quantity,
                                 sent_by_id=user.id, due_date=due_date, note=note[:2000], sent_at=utcnow())
    db.session.add(transfer)
    db.session.flush()
    audit.record("work_order.outsourced", operation.work_order, actor=user,
                 after={"transfer": transfer.number, "operation": operation.name, "quantity": str(quantity),
                        "due": due_date.isoformat() if due_date else None})
    return transfer


def receive_back(transfer: OutsourceTransfer, good: Decimal, scrap: Decimal, cost: Decimal, user,
                 note: str = "") -> OutsourceTransfer:
    """The batch is back: good and scrap pieces (together no more than were sent) and what the
    supplier charged. A batch is received once (a second time: 409, nothing changed)."""
    transfer = db.session.scalars(db.select(OutsourceTransfer).where(OutsourceTransfer.id == transfer.id)
                                  .with_for_update().execution_options(populate_existing=True)).one()
    if transfer.received_at is not None:
        raise TransitionError(409, N_("This batch was already received back."))
    for value in (good, scrap, cost):
        if not isinstance(value, Decimal) or not value.is_finite() or value < 0 or value > MOST:
            raise TransitionError(422, N_("Enter quantities and a cost of zero or more."))
    if good + scrap > transfer.sent_qty:
        raise TransitionError(409, N_("Good and scrap together are more than the %(n)s pieces sent."),
                              n=_plain(transfer.sent_qty))
    if good + scrap <= 0:
        raise TransitionError(422, N_("Enter the good or scrap pieces that came back."))
    transfer.received_good, transfer.received_scrap, transfer.cost = good, scrap, cost
    transfer.received_at, transfer.received_by_id = utcnow(), user.id
    if note:
        transfer.note = (transfer.note + "\n" + note).strip()[:2000]
    audit.record("work_order.outsource_received", transfer.operation.work_order, actor=user,
                 after={"transfer": transfer.number, "good": str(good), "scrap": str(scrap), "cost": str(cost)})
    return transfer


def open_transfers(today: date | None = None) -> list[OutsourceTransfer]:
    """Batches out and not back, the latest due first-late."""
    return list(db.session.scalars(db.select(OutsourceTransfer).where(OutsourceTransfer.received_at.is_(None))
                                   .order_by(OutsourceTransfer.due_date.is_(None), OutsourceTransfer.due_date,
                                             OutsourceTransfer.id)))


def late(transfer: OutsourceTransfer, today: date | None = None) -> bool:
    """Out past its due date."""
    today = today or firm_today()
    return transfer.received_at is None and transfer.due_date is not None and transfer.due_date < today


def default_due(operation: WorkOrderOperation) -> date:
    """Today plus the routing's lead days for the operation (a week if none is known)."""
    from .models import RoutingStep
    step = db.session.scalar(db.select(RoutingStep).where(
        RoutingStep.product_id == operation.work_order.item.product_id, RoutingStep.position == operation.position))
    return firm_today() + timedelta(days=(step.lead_days if step and step.lead_days else 7))


def outsourcing_cost(work_order_id: int) -> Decimal:
    """What the work order's outsourced operations cost (received batches)."""
    return Decimal(db.session.scalar(db.select(db.func.sum(OutsourceTransfer.cost))
                                     .join(WorkOrderOperation, WorkOrderOperation.id == OutsourceTransfer.operation_id)
                                     .where(WorkOrderOperation.work_order_id == work_order_id)) or 0)


def _plain(value: Decimal) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
