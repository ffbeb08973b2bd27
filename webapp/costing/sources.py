"""Where each derived actual of the cost sheet comes from: the rows behind the number, for finance
to check it (the drill-down of each category)."""
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy.orm import joinedload

from ..extensions import db
from ..statemachine import N_
from . import overhead

ZERO = Decimal("0")


@dataclass
class Source:
    """The rows behind one category: a table (headers are msgids the template translates) and a total."""

    headers: list[str] = field(default_factory=list)
    rows: list[list] = field(default_factory=list)
    total: Decimal | None = None
    notes: list[str] = field(default_factory=list)


def _work_orders(order):
    from ..production import WorkOrder
    return list(db.session.scalars(db.select(WorkOrder).where(WorkOrder.order_id == order.id).order_by(WorkOrder.id)))


def material(order) -> Source:
    """Every issue and return of the order's work orders, at its value in the ledger."""
    from ..stock import StockMove
    numbers = {w.id: w.number for w in _work_orders(order)}
    moves = db.session.scalars(db.select(StockMove).options(joinedload(StockMove.material), joinedload(StockMove.lot))
                               .where(StockMove.work_order_id.in_(list(numbers)), StockMove.kind.in_(("issue", "return")))
                               .order_by(StockMove.at, StockMove.id)).all()
    rows = [[m.at, numbers[m.work_order_id], m.kind, m.material.name, m.lot.code if m.lot else "", -m.quantity, -m.value]
            for m in moves]
    return Source([N_("When"), N_("Work order"), N_("Movement"), N_("Material"), N_("Lot"), N_("Quantity"), N_("Cost")], rows,
                  sum((r[-1] for r in rows), ZERO))


def labour(order) -> Source:
    """Every report of the order's work orders with what it pays, and what suppliers charged for
    outsourced operations."""
    from ..production import earnings, outsourcing
    rows, missing = [], []
    for w in _work_orders(order):
        operations = {o.id: o for o in w.operations}
        for report in sorted(w.reports, key=lambda r: (r.occurred_at, r.id)):
            operation = operations.get(report.operation_id)
            pay = earnings.pay(operation, report.good_qty, report.minutes or ZERO)
            if pay is None:
                missing.append(operation.name if operation is not None else w.number)
            rows.append([report.occurred_at, w.number, operation.name if operation else report.operation,
                         report.worker.name if report.worker else "", report.good_qty, report.minutes or ZERO,
                         None if pay is None else earnings.fen(pay)])
        charged = outsourcing.outsourcing_cost(w.id)
        if charged:
            rows.append([None, w.number, "outsourced", "", None, None, charged])
    total = sum((r[-1] for r in rows if r[-1] is not None), ZERO)
    notes = [N_("Reports at an operation without a piece rate or an hourly rate count nothing: set the rate.")] if missing else []
    return Source([N_("When"), N_("Work order"), N_("Operation"), N_("Worker"), N_("Good"), N_("Minutes"), N_("Pay")], rows, total, notes)


def overhead_source(order) -> Source:
    """The firm's rules, the hours and direct cost they apply to, and what each allocates."""
    from . import services
    recorded = services.recorded_costs(order)
    bases = overhead.Bases(sum((r["machine_hours"] for r in recorded), ZERO),
                           sum((r["labour_hours"] for r in recorded), ZERO),
                           sum((r["material"] + r["labour"] for r in recorded), ZERO))
    rows = []
    for rule in overhead.rules():
        rows.append([overhead.BASES[rule.basis], rule.rate, rule.share, bases.of(rule.basis),
                     overhead.allocate(bases, [rule])])
    notes = [] if rows else [N_("The firm has set no overhead rule: finance types the overhead.")]
    return Source([N_("Basis"), N_("Rate"), N_("Share %"), N_("Base"), N_("Overhead")], rows,
                  overhead.allocate(bases) if rows else None, notes)


def logistics(order) -> Source:
    """The freight of each shipment and of the return cases."""
    from ..shipping import Shipment, return_cost_rows
    rows = [[s.dispatched_at or s.created_at, s.number, s.carrier or "", s.cost or ZERO]
            for s in db.session.scalars(db.select(Shipment).where(Shipment.order_id == order.id).order_by(Shipment.id))]
    rows += [[c.created_at, "return", c.note, c.amount] for c in return_cost_rows(order.id) if c.kind == "freight"]
    return Source([N_("When"), N_("Shipment"), N_("Carrier"), N_("Freight")], rows, sum((r[-1] for r in rows), ZERO))


def aftersales(order) -> Source:
    """The return cases' scrap and rework costs, the credits given, and the tickets' costs."""
    from ..aftersales import ticket_cost_rows
    from ..shipping import return_cost_rows, return_credit_rows
    rows = [[c.created_at, c.kind, c.note, c.amount] for c in return_cost_rows(order.id) if c.kind != "freight"]
    rows += [[c.created_at, "credit", c.note, c.amount] for c in return_credit_rows(order.id)]
    rows += [[c.created_at, f"ticket_{c.kind}", f"{c.ticket.subject} · {c.note}" if c.note else c.ticket.subject, c.amount]
             for c in ticket_cost_rows(order.id)]
    rows.sort(key=lambda r: r[0])
    return Source([N_("When"), N_("Kind"), N_("Note"), N_("Amount")], rows, sum((r[-1] for r in rows), ZERO))


SOURCES = {"material": material, "labour": labour, "overhead": overhead_source, "logistics": logistics,
           "aftersales": aftersales}


def sources_of(order, category: str) -> Source:
    """The rows behind category's derived actual."""
    return SOURCES[category](order)
