"""The cost sheet and closing the order. The order's status changes only through
orders.lifecycle.MACHINE ("close", whose guard is given close_blockers() as context)."""
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from .. import audit
from ..aftersales import FollowUp
from ..extensions import db
from ..i18n import day_bounds
from ..orders import lifecycle as order_lifecycle
from ..permissions import can
from ..statemachine import N_, TransitionError
from ..wallclock import utcnow
from ..workflow import transition
from . import overhead
from .models import CostCause, CostLine, CostLineCause, CostSheet

ZERO = Decimal("0")

# Order statuses in which finance may enter actual costs (approved, not closed or cancelled).


def sheet_for(order) -> CostSheet | None:
    """The order's saved cost sheet, if any."""
    return db.session.scalar(db.select(CostSheet).where(CostSheet.order_id == order.id))


def budgets(order) -> dict[str, Decimal]:
    """The approved budget per category (a category finance left unset counts as 0)."""
    return {c: v if v is not None else Decimal("0") for c, v in order.budget.items()}


def freight(order) -> Decimal:
    """The shipments' freight: what was typed on each of the order's shipments, summed in SQL
    (exact: money is stored in minor units)."""
    from ..shipping import Shipment
    total = db.session.scalar(db.select(db.func.sum(Shipment.cost)).where(Shipment.order_id == order.id))
    return total if total is not None else Decimal("0")


def _work_orders(order) -> list:
    from ..production import WorkOrder
    return list(db.session.scalars(db.select(WorkOrder).where(WorkOrder.order_id == order.id).order_by(WorkOrder.id)))


def recorded_costs(order) -> list[dict]:
    """Per work order, what the records say it cost so far: direct material from the stock ledger
    (issued less returned, at the moving average when it moved), direct labour from the reports
    (pieces × piece rate, or minutes × the work centre's hourly rate; operations without a rate
    named), outsourced operations (the suppliers' charges for batches received back) and the machine
    and labour hours overhead is allocated on."""
    from ..production import earnings, materials, outsourcing
    rows = []
    for w in _work_orders(order):
        labour = earnings.labour(w)
        machine_hours, labour_hours = overhead.work_order_hours(w)
        rows.append({"number": w.number, "id": w.id, "material": materials.material_cost(w.id),
                     "labour": labour.amount, "labour_missing": labour.missing,
                     "outsourcing": outsourcing.outsourcing_cost(w.id),
                     "machine_hours": machine_hours, "labour_hours": labour_hours})
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


def derived_actuals(order, recorded: list[dict] | None = None) -> dict[str, Decimal | None]:
    """What the records say each category cost (None: the app cannot know it, finance types it).

    Material: the work orders' issues less returns. Labour: their reports at piece or hourly rates,
    plus outsourced operations (work others did in place of the firm's workers). Overhead: the firm's
    allocation rule on the work orders' hours and direct cost (None while the firm has set no rule).
    Logistics: the shipments' freight and the return cases' freight. After-sales: the return cases'
    scrap and rework, the credits given to the customer, and what solving tickets cost."""
    from ..aftersales import ticket_costs
    from ..shipping import credits_on, return_costs
    recorded = recorded_costs(order) if recorded is None else recorded
    material = sum((r["material"] for r in recorded), ZERO)
    labour = sum((r["labour"] + r["outsourcing"] for r in recorded), ZERO)
    rules = overhead.rules()
    allocated = None
    if rules:
        direct = material + sum((r["labour"] for r in recorded), ZERO)
        allocated = overhead.allocate(overhead.Bases(
            sum((r["machine_hours"] for r in recorded), ZERO), sum((r["labour_hours"] for r in recorded), ZERO),
            direct), rules)
    returns = return_costs(order.id)
    return {"material": material, "labour": labour, "overhead": allocated,
            "logistics": freight(order) + returns.get("freight", ZERO),
            "aftersales": (sum((v for k, v in returns.items() if k != "freight"), ZERO) + credits_on(order.id)
                           + ticket_costs(order.id))}


def draft_sheet(order) -> CostSheet:
    """An unsaved sheet with the order's budget and what the records say, to show before finance
    saves anything."""
    derived = derived_actuals(order)
    return CostSheet(order_id=order.id, lines=[
        CostLine(position=i, category=c, budget=b, actual=derived.get(c),
                 source="derived" if derived.get(c) is not None else "manual", cause="")
        for i, (c, b) in enumerate(budgets(order).items(), start=1)])


def refresh_computed(sheet: CostSheet, order) -> None:
    """Bring the derived actuals up to date on a sheet that is not finalised (a finalised sheet keeps
    what it was finalised with); a line finance typed stays as typed."""
    if sheet.is_final:
        return
    derived = derived_actuals(order)
    for line in sheet.lines:
        if line.source == "derived":
            actual = derived.get(line.category)
            if line.actual != actual:  # only what changed is written
                line.actual = actual


@dataclass(frozen=True)
class CauseEntry:
    """One cause code given on a line: which, how much of the variance (None: all that is left), a note."""

    cause_id: int
    amount: Decimal | None
    note: str = ""


class CostSheetInvalid(Exception):
    """What finance typed cannot stand: messages (English msgids with their values) per category."""

    def __init__(self, errors: dict[str, list[tuple[str, dict]]]):
        super().__init__(errors)
        self.errors = errors


def active_causes() -> list[CostCause]:
    """The cause codes finance may pick, in the firm's order."""
    return list(db.session.scalars(db.select(CostCause).where(CostCause.active.is_(True))
                                   .order_by(CostCause.position, CostCause.id)))


def _check_causes(line: CostLine, entries: list[CauseEntry], causes: dict[int, CostCause]) -> list[tuple[str, dict]]:
    """Why entries cannot explain line's variance (empty when they can)."""
    if not entries:
        return []
    variance = line.variance
    if variance is None or variance == 0:
        return [(N_("This line has no variance: a cause explains a difference between budget and actual."), {})]
    problems = []
    if len({e.cause_id for e in entries}) != len(entries):
        problems.append((N_("Each cause may be given once on a line."), {}))
    if any(e.cause_id not in causes for e in entries):
        problems.append((N_("Choose a cause from the list."), {}))
    if any(e.amount is not None and e.amount <= 0 for e in entries):
        problems.append((N_("Give the part of the variance a cause explains as an amount above 0."), {}))
    typed = sum((e.amount for e in entries if e.amount is not None), ZERO)
    blanks = sum(1 for e in entries if e.amount is None)
    if typed > abs(variance):
        problems.append((N_("The causes explain %(typed)s, more than the variance of %(variance)s."),
                         {"typed": typed, "variance": abs(variance)}))
    elif blanks and abs(variance) - typed < Decimal("0.01") * blanks:
        # A blank takes what the others leave: with nothing left it would be kept as explaining ¥0.00.
        problems.append((N_("The other causes already explain the whole variance: give this cause an amount "
                            "or remove it."), {}))
    return problems


def save(order, actuals: dict[str, Decimal | None], notes: dict[str, str], user,
         causes: dict[str, list[CauseEntry]] | None = None) -> CostSheet:
    """Finance saves the sheet: a typed actual replaces what the records say (marked as typed, with
    who and when); a blank one uses the records where the app knows the category; each line's
    variance may be explained by cause codes with amounts and notes. While the sheet is not
    finalised its budget follows the order's (an amendment may change it)."""
    causes = causes or {}
    sheet = sheet_for(order)
    if sheet is not None and sheet.is_final:
        raise TransitionError(409, N_("The cost sheet is finalised and can no longer be changed."))
    if order.status not in order_lifecycle.COSTABLE:
        raise TransitionError(409, N_("The cost sheet of this order cannot be changed in its current state."))
    if sheet is None:
        sheet = CostSheet(order_id=order.id)
        db.session.add(sheet)
    derived = derived_actuals(order)
    lines = {line.category: line for line in sheet.lines}
    known = {c.id: c for c in db.session.scalars(db.select(CostCause))}
    errors = {}
    now = utcnow()
    for position, (category, budget) in enumerate(budgets(order).items(), start=1):
        line = lines.get(category)
        if line is None:
            line = CostLine(position=position, category=category)
            sheet.lines.append(line)
        typed = actuals.get(category)
        line.budget, line.cause = budget, notes.get(category, "")
        if typed is None and derived.get(category) is not None:
            line.actual, line.source, line.entered_by_id, line.entered_at = derived[category], "derived", None, None
        else:
            if typed is None:  # nothing typed and nothing the records know: nobody to name
                line.entered_by_id, line.entered_at = None, None
            elif line.source != "manual" or line.actual != typed:
                line.entered_by_id, line.entered_at = user.id, now
            line.actual, line.source = typed, "manual"
        entries = causes.get(category, [])
        problems = _check_causes(line, entries, known)
        if problems:
            errors[category] = problems
            continue
        _set_causes(line, entries)
    if errors:
        raise CostSheetInvalid(errors)
    sheet.updated_by_id = user.id
    sheet.updated_at = now
    db.session.flush()
    by_category = lines_by(sheet)
    audit.record("cost_sheet.saved", order, actor=user, entity_type="order", after={
        c: {"budget": str(line.budget), "actual": None if line.actual is None else str(line.actual),
            "source": line.source, "causes": {lc.cause.key or lc.cause.name: str(lc.amount) for lc in line.causes}}
        for c, line in by_category.items()})
    return sheet


def _set_causes(line: CostLine, entries: list[CauseEntry]) -> None:
    """Replace line's causes by entries; an entry without an amount takes what the others leave of
    the variance. Amounts carry the variance's sign (an overrun positive, a saving negative)."""
    if not entries:
        line.causes = []
        return
    sign = 1 if line.variance > 0 else -1
    typed = sum((e.amount for e in entries if e.amount is not None), ZERO)
    blanks = [e for e in entries if e.amount is None]
    left = abs(line.variance) - typed if entries else ZERO
    kept = {lc.cause_id: lc for lc in line.causes}
    line.causes = []
    for index, entry in enumerate(entries):
        if entry.amount is not None:
            amount = entry.amount
        else:  # the blank ones share what is left, the last taking the rounding
            share = (left / len(blanks)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            amount = left - share * (len(blanks) - 1) if entry is blanks[-1] else share
        lc = kept.get(entry.cause_id) or CostLineCause(cause_id=entry.cause_id)
        lc.amount, lc.note = sign * amount, entry.note
        line.causes.append(lc)


def causes_fit(line: CostLine) -> bool:
    """The line's saved causes still explain part of its variance, with its sign: a derived actual
    moves with the records after the causes were given (a saving may have become an overrun)."""
    if not line.causes:
        return True
    variance = line.variance
    if not variance:
        return False
    sign = 1 if variance > 0 else -1
    return all(c.amount * sign >= 0 for c in line.causes) and abs(line.explained) <= abs(variance)


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
    if not all(causes_fit(line) for line in sheet.lines):
        raise TransitionError(409, N_("The records have changed a line's variance since its causes were given: "
                                      "check the causes and save the cost sheet again."))
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
    from ..shipping import credits_on
    blockers = []
    if open_return_cases(order):
        blockers.append(N_("A return case is still open."))
    if open_tickets(order):
        blockers.append(N_("A ticket is still open."))
    # A return case's credit is money the customer no longer owes.
    if order.unpaid - credits_on(order.id) > 0:
        blockers.append(N_("The order is not fully paid (total including tax less payments and credits)."))
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


@dataclass(frozen=True)
class CauseTotal:
    """What one cause code cost across finalised cost sheets: its amount, on how many orders and lines."""

    cause: CostCause
    amount: Decimal
    orders: int
    lines: int


def finalised_between(first: date | None, last: date | None):
    """A condition on CostSheet: finalised, within [first, last] in the firm's time zone (either open)."""
    condition = CostSheet.finalised_at.is_not(None)
    if first is not None:
        condition &= CostSheet.finalised_at >= day_bounds(first, first)[0]
    if last is not None:
        condition &= CostSheet.finalised_at < day_bounds(last, last)[1]
    return condition


def cause_totals(first: date | None = None, last: date | None = None, customer_id: int | None = None) -> list[CauseTotal]:
    """The causes of cost variances across finalised cost sheets of the period (firm-local days,
    either end open), optionally of one customer's orders: the costliest first, in SQL."""
    from ..orders import Order
    query = (db.select(CostLineCause.cause_id, db.func.sum(CostLineCause.amount),
                       db.func.count(db.distinct(CostSheet.order_id)), db.func.count(CostLineCause.id))
             .join(CostLine, CostLine.id == CostLineCause.cost_line_id)
             .join(CostSheet, CostSheet.id == CostLine.cost_sheet_id)
             .where(finalised_between(first, last)).group_by(CostLineCause.cause_id))
    if customer_id is not None:
        query = query.join(Order, Order.id == CostSheet.order_id).where(Order.customer_id == customer_id)
    rows = db.session.execute(query).all()
    causes = {c.id: c for c in db.session.scalars(db.select(CostCause).where(CostCause.id.in_([r[0] for r in rows])))}
    totals = [CauseTotal(causes[cause_id], amount or ZERO, orders, lines) for cause_id, amount, orders, lines in rows]
    return sorted(totals, key=lambda t: (-t.amount, t.cause.position, t.cause.id))
