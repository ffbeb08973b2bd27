"""A work order's operations (工序) on the floor: how many each has passed, the rule that an
operation passes no more than the one before it, and the good pieces per firm-local day.

A work order without operations counts its reports as it always did; one with operations counts
the good pieces of its last operation (models.WorkOrder.good)."""
from datetime import date, timedelta
from decimal import Decimal

from ..extensions import db
from ..i18n import day_bounds, local_dates  # day_bounds: the floor's pages import it from here
from ..statemachine import N_, TransitionError
from .models import OutsourceTransfer, ProgressReport, WorkOrder, WorkOrderOperation

ZERO = Decimal("0")
# Why pieces were scrapped: a short list the worker taps, and "other" with the note.
SCRAP_REASONS = ("material", "machining", "setup", "handling", "other")
# More minutes than a day has in one report is a typing mistake (a report covers one sitting).
MAX_MINUTES = Decimal("1440")


def good_of(operation: WorkOrderOperation) -> Decimal:
    """An operation's cumulative good pieces: its reports', or what came back from outsourcing."""
    return operation.good


def scrap_of(operation: WorkOrderOperation) -> Decimal:
    """An operation's cumulative scrap."""
    return operation.scrap


def previous_of(operation: WorkOrderOperation) -> WorkOrderOperation | None:
    """The operation before this one (None for the first)."""
    before = [o for o in operation.work_order.operations if o.position < operation.position]
    return before[-1] if before else None


def allowed(operation: WorkOrderOperation) -> Decimal:
    """How many good pieces this operation may have in all: what the previous one passed (the first:
    the work order's quantity), plus what QC rejected (those pieces are made or reworked again)."""
    previous = previous_of(operation)
    work_order = operation.work_order
    base = good_of(previous) if previous is not None else work_order.quantity
    return base + work_order.rejected


def first_open(work_order: WorkOrder) -> WorkOrderOperation | None:
    """The first operation with fewer good pieces than the work order's quantity (else the last):
    where a report without an operation (a phone's old queued post) counts."""
    if not work_order.operations:
        return None
    for operation in work_order.operations:
        if good_of(operation) < work_order.quantity:
            return operation
    return work_order.operations[-1]


def check(operation: WorkOrderOperation, good: Decimal) -> None:
    """Refuse good pieces beyond what the previous operation passed (409, naming how many)."""
    if operation.outsourced:
        raise TransitionError(409, N_("%(name)s is outsourced: its pieces are counted when they come back "
                                      "from the supplier."), name=operation.name)
    done, limit = good_of(operation), allowed(operation)
    if done + good <= limit:
        return
    previous = previous_of(operation)
    if previous is None:
        raise TransitionError(409, N_("That is more good pieces than are still to make: %(done)s of "
                                      "%(limit)s are done."), done=_text(done), limit=_text(limit))
    raise TransitionError(409, N_("The previous operation (%(previous)s) passed %(passed)s pieces and this one "
                                  "has %(done)s good: at most %(left)s more."),
                          previous=previous.name, passed=_text(good_of(previous)), done=_text(done),
                          left=_text(max(limit - done, ZERO)))


def _text(value: Decimal) -> str:
    """A quantity as the message shows it (no trailing zeros)."""
    from ..templating import quantity
    return quantity(value)


def progress(work_order: WorkOrder) -> list[dict]:
    """Each operation with its good and scrap pieces and what the previous one passed."""
    rows, passed = [], work_order.quantity
    for operation in work_order.operations:
        good = good_of(operation)
        rows.append({"operation": operation, "good": good, "scrap": scrap_of(operation),
                     "previous": passed, "first": operation is work_order.operations[0]})
        passed = good
    return rows


def actual_by_day(work_order: WorkOrder, first_day: date, last_day: date, every_day: bool = True
                  ) -> dict[date, Decimal]:
    """Good pieces per firm-local day from first_day to last_day (every day present, 0 when none):
    of the work order's last operation, or of the work order itself when it has no operations. An
    outsourced last operation counts its pieces on the day they were received back. every_day=False:
    only the days with pieces (a running total over years need not hold a zero for every day)."""
    if last_day < first_day:
        return {}
    days = ({first_day + timedelta(days=n): ZERO for n in range((last_day - first_day).days + 1)}
            if every_day else {})
    start, end = day_bounds(first_day, last_day)
    last = work_order.operations[-1] if work_order.operations else None
    if last is not None and last.outsourced:
        rows = db.session.execute(db.select(OutsourceTransfer.received_at, OutsourceTransfer.received_good)
                                  .where(OutsourceTransfer.operation_id == last.id,
                                         OutsourceTransfer.received_at >= start,
                                         OutsourceTransfer.received_at < end)).all()
    else:
        query = db.select(ProgressReport.occurred_at, ProgressReport.good_qty).where(
            ProgressReport.work_order_id == work_order.id, ProgressReport.occurred_at >= start,
            ProgressReport.occurred_at < end)
        if last is not None:
            query = query.where(ProgressReport.operation_id == last.id)
        rows = db.session.execute(query).all()
    day_of = local_dates()
    for at, good in rows:
        day = day_of(at)
        if first_day <= day <= last_day:
            days[day] = days.get(day, ZERO) + Decimal(good or 0)
    return days


def actual_by_day_of(work_orders: list[WorkOrder], first_day: date, last_day: date) -> dict[int, dict[date, Decimal]]:
    """actual_by_day(every_day=False) of many work orders at once, by work order id: two questions to
    the database however many rows the daily sheet has (their operations loaded already)."""
    out: dict[int, dict[date, Decimal]] = {w.id: {} for w in work_orders}
    if last_day < first_day or not work_orders:
        return out
    start, end = day_bounds(first_day, last_day)
    outsourced, counted_by_op, whole = _what_counts(work_orders)
    rows = []
    if outsourced:
        rows += [(outsourced[op_id], at, good) for op_id, at, good in db.session.execute(
            db.select(OutsourceTransfer.operation_id, OutsourceTransfer.received_at, OutsourceTransfer.received_good)
            .where(OutsourceTransfer.operation_id.in_(list(outsourced)), OutsourceTransfer.received_at >= start,
                   OutsourceTransfer.received_at < end))]
    if counted_by_op or whole:
        reports = db.session.execute(
            db.select(ProgressReport.work_order_id, ProgressReport.operation_id, ProgressReport.occurred_at,
                      ProgressReport.good_qty)
            .where(ProgressReport.work_order_id.in_(sorted(whole | set(counted_by_op.values()))),
                   ProgressReport.occurred_at >= start, ProgressReport.occurred_at < end))
        rows += [(wid, at, good) for wid, op_id, at, good in reports
                 if wid in whole or counted_by_op.get(op_id) == wid]
    day_of = local_dates()  # the zone read once: thousands of reports on a busy sheet
    for wid, at, good in rows:
        day = day_of(at)
        if first_day <= day <= last_day:
            out[wid][day] = out[wid].get(day, ZERO) + Decimal(good or 0)
    return out


def _what_counts(work_orders: list[WorkOrder]) -> tuple[dict[int, int], dict[int, int], set[int]]:
    """Whose pieces make each work order's good count (their operations loaded already): the last
    operation's transfers back when it is outsourced, its reports when it is not (both keyed by
    operation id, to the work order's id), and every report of a work order without operations."""
    last_of = {w.id: (w.operations[-1] if w.operations else None) for w in work_orders}
    outsourced = {op.id: wid for wid, op in last_of.items() if op is not None and op.outsourced}
    counted_by_op = {op.id: wid for wid, op in last_of.items() if op is not None and not op.outsourced}
    whole = {wid for wid, op in last_of.items() if op is None}
    return outsourced, counted_by_op, whole


def good_before(work_orders: list[WorkOrder], first_day: date, since: date) -> dict[int, Decimal]:
    """Each work order's good pieces from since up to (not including) first_day, firm-local days, as
    actual_by_day_of would add them up, but summed by the database: the daily sheet's cumulative
    start, which once read every report of every open work order's history."""
    out = {w.id: ZERO for w in work_orders}
    if first_day <= since or not work_orders:
        return out
    start, end = day_bounds(since, first_day - timedelta(days=1))
    outsourced, counted_by_op, whole = _what_counts(work_orders)
    sums = []
    if outsourced:
        sums += [(outsourced[op_id], good) for op_id, good in db.session.execute(
            db.select(OutsourceTransfer.operation_id, db.func.sum(OutsourceTransfer.received_good))
            .where(OutsourceTransfer.operation_id.in_(list(outsourced)), OutsourceTransfer.received_at >= start,
                   OutsourceTransfer.received_at < end).group_by(OutsourceTransfer.operation_id))]
    if counted_by_op:
        sums += [(counted_by_op[op_id], good) for op_id, good in db.session.execute(
            db.select(ProgressReport.operation_id, db.func.sum(ProgressReport.good_qty))
            .where(ProgressReport.operation_id.in_(list(counted_by_op)), ProgressReport.occurred_at >= start,
                   ProgressReport.occurred_at < end).group_by(ProgressReport.operation_id))]
    if whole:
        sums += db.session.execute(
            db.select(ProgressReport.work_order_id, db.func.sum(ProgressReport.good_qty))
            .where(ProgressReport.work_order_id.in_(list(whole)), ProgressReport.occurred_at >= start,
                   ProgressReport.occurred_at < end).group_by(ProgressReport.work_order_id)).all()
    for wid, good in sums:
        out[wid] += Decimal(good or 0)
    return out
