"""Where each derived actual of the cost sheet comes from: the rows behind the number, for finance
to check it (the drill-down of each category)."""
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..statemachine import N_
from . import overhead

ZERO = Decimal("0")


@dataclass(frozen=True)
class Column:
    """A column of a drill-down: its header (a msgid the page translates) and how its values show:
    "when" (a time), "money", "qty", "percent" or "text" (already in the reader's words)."""

    header: str
    kind: str = "text"


@dataclass
class Source:
    """The rows behind one category: a table (a value per column, None shown as a dash), a total,
    and notes (msgids) on what the records lack."""

    columns: list[Column] = field(default_factory=list)
    rows: list[list] = field(default_factory=list)
    total: Decimal | None = None
    notes: list[str] = field(default_factory=list)


# The kinds of rows a drill-down names, in the reader's language (translated when a page is drawn).
WORDS = {"issue": N_("Issued"), "return": N_("Returned"), "return_case": N_("Return case"), "outsourced": N_("Outsourced operations"),
         "freight": N_("Freight"), "scrap": N_("Scrap"), "rework": N_("Rework"), "credit": N_("Credit"),
         "ticket_parts": N_("Ticket: spare parts"), "ticket_freight": N_("Ticket: freight"),
         "ticket_visit": N_("Ticket: technician's visit"), "ticket_other": N_("Ticket: other")}


def word(key: str) -> str:
    """A row's kind in the reader's words."""
    return _(WORDS[key]) if key in WORDS else key


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
    rows = [[m.at, numbers[m.work_order_id], word(m.kind), m.material.name, m.lot.code if m.lot else "", -m.quantity,
             -m.value] for m in moves]
    return Source([Column(N_("When"), "when"), Column(N_("Work order")), Column(N_("Movement")), Column(N_("Material")),
                   Column(N_("Lot")), Column(N_("Quantity"), "qty"), Column(N_("Cost"), "money")],
                  rows, sum((r[-1] for r in rows), ZERO))


def labour(order) -> Source:
    """What each worker's reports at each operation of the order's work orders pay (one row per work
    order, operation and worker: a long order has thousands of reports, a phone shows a few dozen
    rows), and what suppliers charged for outsourced operations."""
    from ..production import earnings, outsourcing
    rows, missing, total = [], [], ZERO
    for w in _work_orders(order):
        # The total is the work orders' labour as the sheet derives it (rounded once per work order):
        # the rows' pay, each rounded to the fen, may add up to a fen or two less or more.
        charged = outsourcing.outsourcing_cost(w.id)
        total += earnings.labour(w).amount + charged
        operations = {o.id: o for o in w.operations}
        groups: dict[tuple, list] = {}
        for report in sorted(w.reports, key=lambda r: (r.occurred_at, r.id)):
            operation = operations.get(report.operation_id)
            pay = earnings.pay(operation, report.good_qty, report.minutes or ZERO)
            if pay is None:
                missing.append(operation.name if operation is not None else w.number)
            key = (report.operation_id, report.operation, report.worker_id)
            row = groups.get(key)
            if row is None:  # last report, work order, operation, worker, reports, good, minutes, pay
                row = groups[key] = [report.occurred_at, w.number, operation.name if operation else report.operation,
                                     report.worker.name if report.worker else "", 0, ZERO, ZERO, ZERO]
            row[0] = report.occurred_at
            row[4] += 1
            row[5] += report.good_qty
            row[6] += report.minutes or ZERO
            row[7] = None if pay is None or row[7] is None else row[7] + earnings.fen(pay)
        rows.extend(groups.values())
        if charged:
            rows.append([None, w.number, word("outsourced"), "", None, None, None, charged])
    notes = [N_("Reports at an operation without a piece rate or an hourly rate count nothing: set the rate.")] if missing else []
    return Source([Column(N_("Last report"), "when"), Column(N_("Work order")), Column(N_("Operation")),
                   Column(N_("Worker")), Column(N_("Reports"), "qty"), Column(N_("Good"), "qty"),
                   Column(N_("Minutes"), "qty"), Column(N_("Cost"), "money")],
                  rows, total, notes)


def overhead_source(order) -> Source:
    """The firm's rules, the hours and direct cost they apply to, and what each allocates."""
    from . import services
    recorded = services.recorded_costs(order)
    bases = overhead.Bases(sum((r["machine_hours"] for r in recorded), ZERO),
                           sum((r["labour_hours"] for r in recorded), ZERO),
                           sum((r["material"] + r["labour"] for r in recorded), ZERO))
    rows = [[_(overhead.BASES[rule.basis]), rule.rate, rule.share, bases.of(rule.basis), overhead.allocate(bases, [rule])]
            for rule in overhead.rules()]
    notes = [] if rows else [N_("The firm has set no overhead rule: finance types the overhead.")]
    # The share's header has no "%": the page translates headers with Jinja's gettext, which formats
    # every msgid with %, so a lone "%" answered 500 as soon as the firm set a rule.
    return Source([Column(N_("Basis")), Column(N_("Rate"), "qty"), Column(N_("Share of overhead"), "percent"),
                   Column(N_("Base"), "qty"), Column(N_("Overhead"), "money")],
                  rows, overhead.allocate(bases) if rows else None, notes)


def logistics(order) -> Source:
    """The freight of each shipment and of the return cases."""
    from ..shipping import Shipment, return_cost_rows
    rows = [[s.dispatched_at or s.created_at, s.number, s.carrier or "", s.cost or ZERO]
            for s in db.session.scalars(db.select(Shipment).where(Shipment.order_id == order.id).order_by(Shipment.id))]
    # A return case's freight: the case in the shipment's column, its note (who carried it) as the carrier.
    rows += [[c.created_at, word("return_case"), c.note, c.amount] for c in return_cost_rows(order.id) if c.kind == "freight"]
    return Source([Column(N_("When"), "when"), Column(N_("Shipment")), Column(N_("Carrier")), Column(N_("Freight"), "money")],
                  rows, sum((r[-1] for r in rows), ZERO))


def aftersales(order) -> Source:
    """The return cases' scrap and rework costs, the credits given, and the tickets' costs."""
    from ..aftersales import ticket_cost_rows
    from ..shipping import return_cost_rows, return_credit_rows
    rows = [[c.created_at, word(c.kind), c.note, c.amount] for c in return_cost_rows(order.id) if c.kind != "freight"]
    rows += [[c.created_at, word("credit"), c.note, c.amount] for c in return_credit_rows(order.id)]
    rows += [[c.created_at, word(f"ticket_{c.kind}"), f"{c.ticket.subject} · {c.note}" if c.note else c.ticket.subject,
              c.amount] for c in ticket_cost_rows(order.id)]
    rows.sort(key=lambda r: r[0])
    return Source([Column(N_("When"), "when"), Column(N_("Kind")), Column(N_("Note")), Column(N_("Amount"), "money")],
                  rows, sum((r[-1] for r in rows), ZERO))


SOURCES = {"material": material, "labour": labour, "overhead": overhead_source, "logistics": logistics,
           "aftersales": aftersales}


def sources_of(order, category: str) -> Source:
    """The rows behind category's derived actual."""
    return SOURCES[category](order)
