"""Piece-rate earnings (计件工资) per worker and period, and the labour cost of a work order.

A report's pay is its good pieces × its operation's piece rate; an operation with no piece rate is
paid by the hour: minutes × its work centre's hourly rate / 60. A rate that is missing (no piece
rate and no hourly rate, or a report without an operation) is shown as missing, never as 0."""
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy.orm import joinedload

from ..extensions import db
from ..i18n import firm_today
from .models import ProgressReport, WorkOrder, WorkOrderOperation
from .operations import day_bounds

ZERO = Decimal("0")
FEN = Decimal("0.01")


def fen(amount: Decimal) -> Decimal:
    """Rounded to the fen, half up."""
    return amount.quantize(FEN, rounding=ROUND_HALF_UP)


def basis(operation: WorkOrderOperation | None) -> str:
    """How an operation's work is paid: "piece", "time", or "missing" (no rate to pay it by)."""
    if operation is None:
        return "missing"
    if operation.piece_rate is not None:
        return "piece"
    if operation.work_centre is not None and operation.work_centre.hourly_rate:
        return "time"
    return "missing"


def pay(operation: WorkOrderOperation | None, good: Decimal, minutes: Decimal) -> Decimal | None:
    """What good pieces and minutes at this operation pay (unrounded), or None when no rate is set."""
    how = basis(operation)
    if how == "piece":
        return good * operation.piece_rate
    if how == "time":
        return minutes * operation.work_centre.hourly_rate / 60
    return None


@dataclass
class Line:
    """One worker's work at one operation of one work order in the period."""

    work_order: WorkOrder
    operation: WorkOrderOperation | None
    good: Decimal = ZERO
    scrap: Decimal = ZERO
    minutes: Decimal = ZERO
    reports: int = 0

    @property
    def basis(self) -> str:
        """"piece", "time" or "missing"."""
        return basis(self.operation)

    @property
    def amount(self) -> Decimal | None:
        """Its pay in fen (None: the rate is missing)."""
        value = pay(self.operation, self.good, self.minutes)
        return fen(value) if value is not None else None


@dataclass
class WorkerEarnings:
    """A worker's lines and totals for the period; `missing` counts the lines with no rate."""

    worker: object
    lines: list[Line] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        """The sum of the lines that have a rate (the missing ones are listed apart)."""
        return sum((line.amount for line in self.lines if line.amount is not None), ZERO)

    @property
    def missing(self) -> int:
        """How many of its lines have no rate."""
        return sum(1 for line in self.lines if line.amount is None)

    @property
    def good(self) -> Decimal:
        """Good pieces reported in the period."""
        return sum((line.good for line in self.lines), ZERO)

    @property
    def minutes(self) -> Decimal:
        """Minutes reported in the period."""
        return sum((line.minutes for line in self.lines), ZERO)


def earnings(first_day: date, last_day: date, worker_id: int | None = None) -> list[WorkerEarnings]:
    """Each worker's pay from the reports made from first_day to last_day (firm-local days, both
    included), by work order and operation; one worker's only when worker_id is given."""
    start, end = day_bounds(first_day, last_day)
    query = (db.select(ProgressReport)
             .where(ProgressReport.occurred_at >= start, ProgressReport.occurred_at < end)
             .options(joinedload(ProgressReport.worker), joinedload(ProgressReport.work_order))
             .order_by(ProgressReport.occurred_at, ProgressReport.id))
    if worker_id is not None:
        query = query.where(ProgressReport.worker_id == worker_id)
    reports = db.session.scalars(query).all()
    operation_ids = {r.operation_id for r in reports if r.operation_id is not None}
    operations = {o.id: o for o in db.session.scalars(
        db.select(WorkOrderOperation).where(WorkOrderOperation.id.in_(operation_ids))
        .options(joinedload(WorkOrderOperation.work_centre)))} if operation_ids else {}
    people: dict[int, WorkerEarnings] = {}
    lines: dict[tuple, Line] = {}
    for report in reports:
        person = people.setdefault(report.worker_id, WorkerEarnings(report.worker))
        key = (report.worker_id, report.work_order_id, report.operation_id)
        line = lines.get(key)
        if line is None:
            line = lines[key] = Line(report.work_order, operations.get(report.operation_id))
            person.lines.append(line)
        line.good += report.good_qty
        line.scrap += report.scrap_qty
        line.minutes += report.minutes or ZERO
        line.reports += 1
    for person in people.values():
        person.lines.sort(key=lambda line: (line.work_order.number, line.operation.position if line.operation else 0))
    return sorted(people.values(), key=lambda p: p.worker.name)


def periods(today: date | None = None) -> list[tuple[str, date, date]]:
    """A worker's periods on their phone: this week (Monday to today), last week, this month."""
    today = today or firm_today()
    monday = today - timedelta(days=today.weekday())
    return [("this_week", monday, today), ("last_week", monday - timedelta(days=7), monday - timedelta(days=1)),
            ("this_month", today.replace(day=1), today)]


@dataclass
class Labour:
    """A work order's labour cost and the operations whose reports have no rate to cost them by."""

    amount: Decimal
    missing: list[str]


def labour(work_order: WorkOrder) -> Labour:
    """Labour of a work order: good pieces × piece rate, or minutes × hourly rate / 60, over all its
    reports, rounded to the fen half up at the end; the operations with no rate are named."""
    operations = {o.id: o for o in work_order.operations}
    return labour_of((operations.get(report.operation_id), report.good_qty, report.minutes or ZERO)
                     for report in work_order.reports)


def labour_of(work) -> Labour:
    """labour() of work given as (operation or None, good pieces, minutes), a report or the sums of
    one operation's reports at a time (the KPI's facts): paid as it comes, rounded once at the end."""
    total, missing = ZERO, []
    for operation, good, minutes in work:
        value = pay(operation, good, minutes)
        if value is None:
            name = operation.name if operation is not None else ""
            if name not in missing:
                missing.append(name)
            continue
        total += value
    return Labour(fen(total), missing)


def labour_cost(work_order: WorkOrder) -> Decimal:
    """A work order's labour cost in yuan, to the fen (reports with no rate count nothing: see labour())."""
    return labour(work_order).amount
