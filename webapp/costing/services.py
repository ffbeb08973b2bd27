"""The cost sheet and closing the order. The order's status changes only through
orders.lifecycle.MACHINE ("close", whose guard is given close_blockers() as context)."""
from decimal import Decimal

from .. import audit
from ..aftersales import FollowUp
from ..extensions import db
from ..orders import lifecycle as order_lifecycle
from ..permissions import can
from ..statemachine import N_, TransitionError
from ..wallclock import utcnow
from ..workflow import transition
from .models import CostLine, CostSheet

# Order statuses in which finance may enter actual costs (approved, not closed or cancelled).


def sheet_for(order) -> CostSheet | None:
    """The order's saved cost sheet, if any."""
    return db.session.scalar(db.select(CostSheet).where(CostSheet.order_id == order.id))


def budgets(order) -> dict[str, Decimal]:
    """The approved budget per category (a category finance left unset counts as 0)."""
    return {c: v if v is not None else Decimal("0") for c, v in order.budget.items()}


def freight(order) -> Decimal:
    """The logistics actual: the freight typed on each of the order's shipments, summed in SQL
    (exact: money is stored in minor units)."""
    from ..shipping import Shipment
    total = db.session.scalar(db.select(db.func.sum(Shipment.cost)).where(Shipment.order_id == order.id))
    return total if total is not None else Decimal("0")


def recorded_costs(order) -> list[dict]:
    """Per work order, what the records say it cost so far, for finance to read beside the sheet:
    direct material from the stock ledger (issued less returned, at the moving average when it
    moved), direct labour from the reports (pieces × piece rate, or minutes × the work centre's
    hourly rate; operations without a rate named) and outsourced operations (the suppliers' charges
    for batches received back)."""
    from ..production import WorkOrder, earnings, materials, outsourcing
    work_orders = db.session.scalars(db.select(WorkOrder).where(WorkOrder.order_id == order.id)
                                     .order_by(WorkOrder.id)).all()
    rows = []
    for w in work_orders:
        labour = earnings.labour(w)
        rows.append({"number": w.number, "material": materials.material_cost(w.id), "labour": labour.amount,
                     "labour_missing": labour.missing, "outsourcing": outsourcing.outsourcing_cost(w.id)})
    return rows


def return_case_costs(order) -> dict:
    """What the order's return cases cost (freight, scrap, rework) and credited, for finance to read
    beside the after-sales line of the sheet (empty when nothing was recorded)."""
    from ..shipping import credits_on, return_costs
    costs = return_costs(order.id)
    credited = credits_on(order.id)
    if not any(costs.values()) and not credited:
        return {}
    return {"costs": costs, "total": sum(costs.values(), Decimal("0")), "credited": credited}


# Categories whose actual comes from the records rather than from finance's typing.
COMPUTED = {"logistics": freight}


def draft_sheet(order) -> CostSheet:
    """An unsaved sheet with the order's budget, to show before finance saves anything."""
    return CostSheet(order_id=order.id, lines=[
        CostLine(position=i, category=c, budget=b, actual=COMPUTED[c](order) if c in COMPUTED else None, cause="")
        for i, (c, b) in enumerate(budgets(order).items(), start=1)])


def refresh_computed(sheet: CostSheet, order) -> None:
    """Bring the computed actuals (logistics: the shipments' freight) up to date on a sheet that is
    not finalised; a finalised sheet keeps what it was finalised with."""
    if sheet.is_final:
        return
    for line in sheet.lines:
        if line.category in COMPUTED:
            actual = COMPUTED[line.category](order)
            if line.actual != actual:  # kept up to date when a shipment is made: a page view writes nothing
                line.actual = actual


def save(order, actuals: dict[str, Decimal | None], causes: dict[str, str], user) -> CostSheet:
    """Finance enters the actual cost and the cause of the variance per category; while the sheet
    is not finalised its budget follows the order's (an amendment may change it)."""
    sheet = sheet_for(order)
    if sheet is not None and sheet.is_final:
        raise TransitionError(409, N_("The cost sheet is finalised and can no longer be changed."))
    if order.status not in order_lifecycle.COSTABLE:
        raise TransitionError(409, N_("The cost sheet of this order cannot be changed in its current state."))
    if sheet is None:
        sheet = CostSheet(order_id=order.id)
        db.session.add(sheet)
    lines = {line.category: line for line in sheet.lines}
    for position, (category, budget) in enumerate(budgets(order).items(), start=1):
        line = lines.get(category)
        if line is None:
            line = CostLine(position=position, category=category)
            sheet.lines.append(line)
        line.budget, line.actual, line.cause = budget, actuals.get(category), causes.get(category, "")
    refresh_computed(sheet, order)
    sheet.updated_by_id = user.id
    sheet.updated_at = utcnow()
    db.session.flush()
    by_category = lines_by(sheet)
    audit.record("cost_sheet.saved", order, actor=user, entity_type="order", after={
        c: {"budget": str(line.budget), "actual": None if line.actual is None else str(line.actual)}
        for c, line in by_category.items()})
    return sheet


def lines_by(sheet: CostSheet) -> dict[str, CostLine]:
    """The sheet's lines by category."""
    return {line.category: line for line in sheet.lines}


def finalise(order, user) -> CostSheet:
    """Finance finalises the sheet once every actual is in; it no longer changes."""
    sheet = sheet_for(order)
    if sheet is not None and sheet.is_final:
        raise TransitionError(409, N_("The cost sheet is already finalised."))
    if order.status not in order_lifecycle.COSTABLE:
        raise TransitionError(409, N_("The cost sheet of this order cannot be changed in its current state."))
    if sheet is not None:
        refresh_computed(sheet, order)
    if sheet is None or not sheet.complete:
        raise TransitionError(409, N_("Enter the actual cost of every category before finalising."))
    sheet.finalised_at, sheet.finalised_by_id = utcnow(), user.id
    audit.record("cost_sheet.finalised", order, actor=user, entity_type="order", after={
        "budget": str(sheet.budget_total), "actual": str(sheet.actual_total),
        "variance": str(sheet.variance),
        "variance_rate": None if sheet.variance_rate is None else str(sheet.variance_rate)})
    return sheet


def settlement_blockers(order) -> list[str]:
    """What is still open with the customer (English msgids): a return case, a ticket, money.
    A manager may close over these with a reason; nobody closes over the others."""
    from ..aftersales import open_return_cases, open_tickets
    blockers = []
    if open_return_cases(order):
        blockers.append(N_("A return case is still open."))
    if open_tickets(order):
        blockers.append(N_("A ticket is still open."))
    if order.unpaid > 0:
        blockers.append(N_("The order is not fully paid (total including tax less payments)."))
    return blockers


def close_blockers(order, override: bool = False) -> list[str]:
    """What keeps the order from closing (English msgids): delivered, followed up, costed, and
    (unless a manager overrides them) nothing open with the customer."""
    blockers = []
    if order.status not in order_lifecycle.SETTLED:
        blockers.append(N_("The order has not been delivered yet."))
    follow_up = db.session.scalar(db.select(FollowUp).where(FollowUp.order_id == order.id))
    if follow_up is None or follow_up.status != "done":
        blockers.append(N_("The follow-up call has not been recorded yet."))
    sheet = sheet_for(order)
    if sheet is None or not sheet.is_final:
        blockers.append(N_("The cost sheet has not been finalised yet."))
    if not override:
        blockers.extend(settlement_blockers(order))
    return blockers


def close(order, user, override_reason: str | None = None) -> str:
    """Close the order (finance or manager): refused with the first blocker while any remains. A
    manager's override_reason closes over what is still open with the customer; the reason and what
    it overrode are kept on the order and in the audit trail."""
    if override_reason is not None and not can(user, "order.close_override"):
        raise TransitionError(403, N_("Only a manager may close an order with something still open."))
    overridden = settlement_blockers(order) if override_reason is not None else []
    blockers = close_blockers(order, override=override_reason is not None)
    checked = order_lifecycle.MACHINE.check(order, "close", user.roles, context={"blockers": blockers})
    if overridden:
        order.close_override = override_reason
        audit.record("order.close_override", order, actor=user, note=override_reason,
                     after={"overridden": overridden, "unpaid": str(order.unpaid)})
    return transition(order, order_lifecycle.MACHINE, "close", user, note=override_reason or None,
                      checked=checked)
