"""Work centres, a product's routing as the office edits it, and each centre's capacity and load per
week on the firm's working calendar (what the load page, the board and the feasibility review read)."""
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from .. import audit
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..inputs import optional_row_id
from ..firm import CalendarDay
from ..i18n import firm_today
from ..statemachine import N_
from ..workdays import is_working_day
from . import DOMAIN
from .models import RoutingStep, WorkCentre, WorkOrder, WorkOrderOperation

# What the audit trail calls this module's changes (added to what the domain registered).
DOMAIN.events.update({
    "work_centre.created": N_("Work centre added"),
    "work_centre.changed": N_("Work centre changed"),
    "routing.saved": N_("Routing saved"),
})

# Limits a typed value must stay within: beyond them it is a typing error, not a real figure.
MAX_MINUTES = Decimal("10000")      # one piece taking a week of one shift is already absurd
MAX_PIECE_RATE = Decimal("10000")   # yuan a piece
MAX_HOURLY_RATE = Decimal("10000")  # yuan an hour
MAX_LEAD_DAYS = 365
OPEN_STATES = ("planned", "materials_ready", "in_progress", "blocked")


def week_start(day: date) -> date:
    """The Monday of day's week."""
    return day - timedelta(days=day.weekday())


def _overrides(start: date, end: date) -> dict[date, bool]:
    """The firm's calendar exceptions from start (inclusive) to end (exclusive), read once."""
    return {row.day: row.is_working for row in db.session.scalars(
        db.select(CalendarDay).where(CalendarDay.day >= start, CalendarDay.day < end))}


def working_days(start: date, end: date, overrides: dict[date, bool] | None = None) -> list[date]:
    """The firm's working days from start to end, both inclusive."""
    if end < start:
        return []
    overrides = _overrides(start, end + timedelta(days=1)) if overrides is None else overrides
    days, day = [], start
    while day <= end:
        if is_working_day(day, overrides):
            days.append(day)
        day += timedelta(days=1)
    return days


def weekly_capacity_hours(centre: WorkCentre, monday: date, overrides: dict[date, bool] | None = None) -> Decimal:
    """Hours the centre can work in the week starting monday: working days × hours a day × shifts."""
    days = len(working_days(monday, monday + timedelta(days=6), overrides))
    return Decimal(days) * Decimal(centre.hours_per_day or 0) * Decimal(centre.shifts or 0)


def _spread(hours: Decimal, start: date, end: date, overrides: dict[date, bool]) -> dict[date, Decimal]:
    """hours spread evenly over the working days from start to end, as hours per week (Monday);
    no working day in between: all of it in end's week (it must be done by then)."""
    days = working_days(start, end, overrides)
    if not days:
        return {week_start(end): hours}
    share = hours / len(days)
    weeks: dict[date, Decimal] = defaultdict(Decimal)
    for day in days:
        weeks[week_start(day)] += share
    return weeks


def operation_hours(operation, pieces: Decimal) -> Decimal:
    """Hours an operation takes for pieces."""
    return Decimal(pieces) * Decimal(operation.minutes_per_piece or 0) / 60


def _remaining(operation: WorkOrderOperation, work_order: WorkOrder, done_by_operation: dict) -> Decimal:
    """Pieces still to pass this operation: its own reports count once the floor reports per
    operation (an operation nobody reported yet has them all ahead); a work order reported without
    operations counts its good pieces for all of them."""
    if not any(op.id in done_by_operation for op in work_order.operations):
        return work_order.remaining
    return max(work_order.quantity - done_by_operation.get(operation.id, Decimal("0")), Decimal("0"))


def _done_by_operation(work_order_ids: list[int]) -> dict[int, Decimal]:
    """Good pieces reported per operation of these work orders."""
    from .models import ProgressReport
    if not work_order_ids:
        return {}
    rows = db.session.execute(
        db.select(ProgressReport.operation_id, db.func.sum(ProgressReport.good_qty))
        .where(ProgressReport.work_order_id.in_(work_order_ids), ProgressReport.operation_id.is_not(None))
        .group_by(ProgressReport.operation_id)).all()
    return {operation_id: Decimal(total or 0) for operation_id, total in rows}


@dataclass
class Cell:
    """One centre in one week: capacity, load (hours), and whose load it is."""

    capacity: Decimal = Decimal("0")
    load: Decimal = Decimal("0")
    this_order: Decimal = Decimal("0")
    work_orders: set = field(default_factory=set)

    @property
    def over(self) -> bool:
        """More load than capacity."""
        return self.load > self.capacity

    @property
    def percent(self) -> int:
        """Load as a share of capacity (0 with no capacity and no load)."""
        if self.capacity <= 0:
            return 0 if self.load <= 0 else 999
        return int((self.load * 100 / self.capacity).to_integral_value())


def load_table(first_monday: date, weeks: int, order=None) -> dict:
    """Per active work centre and week from first_monday: capacity, load of the open work orders
    (remaining pieces × minutes of each of their operations there, spread evenly over the working
    days from planned start, or today when later, to planned QC, or today when it is past), and of order when given (its work orders, or, before it
    has any, its lines' routings spread over the working days up to its delivery date)."""
    end = first_monday + timedelta(weeks=weeks)
    centres = list(db.session.scalars(db.select(WorkCentre).where(WorkCentre.active.is_(True))
                                      .order_by(WorkCentre.code)))
    mondays = [first_monday + timedelta(weeks=i) for i in range(weeks)]
    overrides = _overrides(first_monday - timedelta(days=366), end + timedelta(days=366))
    table = {c.id: {m: Cell(capacity=weekly_capacity_hours(c, m, overrides)) for m in mondays} for c in centres}
    work_orders = list(db.session.scalars(
        db.select(WorkOrder).where(WorkOrder.status.in_(OPEN_STATES))
        .options(selectinload(WorkOrder.operations), selectinload(WorkOrder.reports),
                 selectinload(WorkOrder.rejections)).order_by(WorkOrder.id)))
    done = _done_by_operation([w.id for w in work_orders])
    order_has_work = False
    today = firm_today()
    for work_order in work_orders:
        if work_order.planned_start is None or work_order.planned_qc is None:
            continue  # not planned yet: no week to place it in
        mine = order is not None and work_order.order_id == order.id
        order_has_work |= mine
        for operation in work_order.operations:
            if operation.work_centre_id not in table or operation.outsourced:
                continue
            hours = operation_hours(operation, _remaining(operation, work_order, done))
            if hours <= 0:
                continue
            # What is left is done from today on: a late work order's rest lands in this week,
            # one under way spreads its rest over its remaining working days.
            end = max(work_order.planned_qc, today)
            start = min(max(work_order.planned_start, today), end)
            for monday, share in _spread(hours, start, end, overrides).items():
                cell = table[operation.work_centre_id].get(monday)
                if cell is not None:
                    cell.load += share
                    cell.work_orders.add(work_order.id)
                    if mine:
                        cell.this_order += share
    if order is not None and not order_has_work:
        _add_unreleased(order, table, overrides)
    return {"centres": centres, "weeks": mondays, "cells": table}


def _add_unreleased(order, table: dict, overrides: dict[date, bool]) -> None:
    """An order without work orders (under review): its lines' routings × quantity, spread over the
    working days of the two weeks before its delivery date (the time the floor would have)."""
    if order.delivery_date is None:
        return
    end = order.delivery_date
    start = end - timedelta(days=13)
    for line in order.lines:
        if line.product_id is None:
            continue
        for step in db.session.scalars(db.select(RoutingStep).where(RoutingStep.product_id == line.product_id)):
            if step.work_centre_id not in table or step.outsourced:
                continue
            for monday, share in _spread(operation_hours(step, line.quantity), start, end, overrides).items():
                cell = table[step.work_centre_id].get(monday)
                if cell is not None:
                    cell.load += share
                    cell.this_order += share


def weekly_load_by_centre(order=None, weeks: int = 6) -> list[dict]:
    """The feasibility review's load: per week (around order's delivery week, or from this week
    without an order) and work centre, capacity and load in hours, the order's own share, and
    whether it is over. One dict per week: {"week", "is_delivery_week", "over", "centres": [{"code",
    "name", "capacity", "committed", "this_order", "over"}]}."""
    anchor = (order.delivery_date if order is not None and order.delivery_date else None) or firm_today()
    first = week_start(anchor) - timedelta(weeks=weeks // 2) if order is not None else week_start(anchor)
    data = load_table(first, weeks, order)
    result = []
    for monday in data["weeks"]:
        rows = []
        for centre in data["centres"]:
            cell = data["cells"][centre.id][monday]
            rows.append({"code": centre.code, "name": centre.name, "capacity": cell.capacity,
                         "committed": cell.load - cell.this_order, "this_order": cell.this_order,
                         "over": cell.over})
        result.append({"week": monday, "centres": rows, "over": any(r["over"] for r in rows),
                       "is_delivery_week": monday <= anchor < monday + timedelta(weeks=1)})
    return result


# --- work centres ----------------------------------------------------------------------------------

def save_centre(centre: WorkCentre | None, values: dict, user) -> WorkCentre:
    """Create (centre None) or change a work centre from checked values, audited."""
    created = centre is None
    if created:
        centre = WorkCentre()
        db.session.add(centre)
    for key in ("code", "name", "hours_per_day", "shifts", "hourly_rate", "active"):
        if key in values:
            setattr(centre, key, values[key])
    db.session.flush()
    audit.record("work_centre.created" if created else "work_centre.changed", centre, actor=user,
                 entity_type="work_centre",
                 after={"code": centre.code, "hours_per_day": str(centre.hours_per_day), "shifts": centre.shifts})
    return centre


# --- the routing editor ----------------------------------------------------------------------------

@dataclass
class StepInput:
    """One row of the routing editor as typed (strings), and its errors after checking."""

    position: str = ""
    name: str = ""
    work_centre_id: str = ""
    minutes_per_piece: str = ""
    piece_rate: str = ""
    outsourced: bool = False
    supplier_id: str = ""
    lead_days: str = ""
    remove: bool = False
    errors: dict = field(default_factory=dict)

    @property
    def blank(self) -> bool:
        """A spare row left empty."""
        return not (self.name.strip() or self.minutes_per_piece.strip() or self.piece_rate.strip())


def _number(row: StepInput, key: str, places: int, minimum, maximum, required: bool):
    """The row's number in key, or None with an error put on the row."""
    from ..forms import NumberError, parse_decimal
    raw = getattr(row, key).strip()
    if not raw:
        if required:
            row.errors[key] = N_("Enter a number, for example 12.5.")
        return None
    try:
        return parse_decimal(raw, places=places, minimum=minimum, maximum=maximum)
    except NumberError as error:
        row.errors[key] = str(error)
        return None


def check_steps(rows: list[StepInput], centre_ids: set[int], supplier_ids: set[int]) -> list[dict] | None:
    """The rows kept (not blank, not removed) as values in their new order (by typed position, then
    as listed), or None when any row has an error (put on the row, translated by the page)."""
    kept = []
    for index, row in enumerate(rows):
        if row.remove or row.blank:
            continue
        name = row.name.strip()
        if not name:
            row.errors["name"] = N_("Name the operation.")
        minutes = _number(row, "minutes_per_piece", 3, Decimal("0"), MAX_MINUTES, required=True)
        rate = _number(row, "piece_rate", 4, Decimal("0"), MAX_PIECE_RATE, required=False)
        lead = _number(row, "lead_days", 0, Decimal("0"), Decimal(MAX_LEAD_DAYS), required=False)
        position = _number(row, "position", 0, Decimal("1"), Decimal("999"), required=False)
        centre = optional_row_id(row.work_centre_id)
        if centre is not None and centre not in centre_ids:
            row.errors["work_centre_id"] = N_("Choose a work centre from the list.")
        supplier = optional_row_id(row.supplier_id)
        if supplier is not None and supplier not in supplier_ids:
            row.errors["supplier_id"] = N_("Choose a supplier from the list.")
        if row.outsourced and supplier is None and "supplier_id" not in row.errors:
            row.errors["supplier_id"] = N_("An outsourced operation needs its supplier.")
        if not row.outsourced and centre is None and "work_centre_id" not in row.errors:
            row.errors["work_centre_id"] = N_("Choose the work centre that does it.")
        kept.append((position if position is not None else Decimal(index + 1), index,
                     {"name": name[:100], "work_centre_id": centre, "minutes_per_piece": minutes,
                      "piece_rate": rate, "outsourced": row.outsourced,
                      "supplier_id": supplier if row.outsourced else None, "lead_days": int(lead or 0)}))
    if any(row.errors for row in rows):
        return None
    return [values for _, _, values in sorted(kept, key=lambda item: (item[0], item[1]))]


def save_routing(product, steps: list[dict], user) -> list[RoutingStep]:
    """Replace the product's routing with steps in order (positions 1, 2, …), audited. Work orders
    already made keep their own copy (routing.copy_routing)."""
    product_id = product.id
    old = list(db.session.scalars(db.select(RoutingStep).where(RoutingStep.product_id == product_id)))
    before = [{"name": s.name, "minutes": str(s.minutes_per_piece)} for s in old]
    for step in old:
        db.session.delete(step)
    db.session.flush()  # the unique (product, position) must be free before the new rows
    new = [RoutingStep(product_id=product_id, position=i + 1, **values) for i, values in enumerate(steps)]
    db.session.add_all(new)
    db.session.flush()
    audit.record("routing.saved", product, actor=user, entity_type="product",
                 before={"steps": before},
                 after={"steps": [{"name": s.name, "minutes": str(s.minutes_per_piece)} for s in new]})
    return new


def _feasibility_context(order) -> dict:
    """What the order's feasibility review shows from production: the load per work centre and week
    around its delivery (empty without work centres: the review keeps its firm-wide figure)."""
    has_centres = db.session.scalar(db.select(WorkCentre.id).where(WorkCentre.active.is_(True)).limit(1))
    return {"centre_load": weekly_load_by_centre(order) if has_centres else []}


# The orders domain (below this one) reads it through registry.page_context("order_feasibility", order).
DOMAIN.page_context["order_feasibility"] = _feasibility_context
