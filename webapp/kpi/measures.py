"""The six KPIs of the template, computed from what the app recorded (definitions: docs/kpis.md).

Each KPI reads its facts for a whole window of periods with a fixed number of queries (joins and
GROUP BY in SQL, never a query per order), then sorts them into periods by a firm-local date; a
period's number is the measure of its facts. A period without facts has no number (None), which
the pages show as "no data", never as 0 %."""
import json
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy.orm import aliased, joinedload

from .. import clocks
from ..aftersales import Survey
from ..costing import CostLine, CostSheet
from ..customers import Customer, Product
from ..extensions import db
from ..firm import get_settings
from ..i18n import firm_today, local_date, local_dates
from ..orders import Order, OrderLine, OrderVersion
from ..production import (OutsourceTransfer, ProgressReport, QcRejection, WorkOrder,
                          WorkOrderOperation, earnings)
from ..requirements import Requirement, RequirementRound
from ..shipping import DeliveryReceipt, ReceiptLine, ShipmentLine
from ..stock import BomLine, StockMove
from ..wallclock import utcnow
from .periods import Period

ZERO = Decimal("0")
RATE = Decimal("0.0001")  # a rate to 0.01 %, shown to 0.1 %
SCORE = Decimal("0.01")
FEN = Decimal("0.01")
# Orders that promise goods by a date: made to order and retail (a service project is accepted, not delivered).
DELIVERING_KINDS = ("manufacturing", "retail")
IDS_AT_ONCE = 5000  # ids bound as parameters in one statement (SQLite allows 32,766)


@dataclass
class Measure:
    """A period's number: numerator / denominator (value None: no data in the period)."""

    numerator: Decimal
    denominator: Decimal
    value: Decimal | None
    extra: dict = field(default_factory=dict)


def ratio(numerator: Decimal, denominator: Decimal, places: Decimal = RATE) -> Decimal | None:
    """numerator / denominator rounded half up, None when there is nothing to divide by."""
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(places, rounding=ROUND_HALF_UP)


def in_period(facts: list, period: Period) -> list:
    """The facts whose day falls in period."""
    return [f for f in facts if period.contains(f.day)]


def per_period(facts: list, periods: list[Period]) -> dict[Period, list]:
    """in_period of each of periods (consecutive, oldest first) in one pass over the facts (asking
    each period in turn went over every fact twelve times per card)."""
    firsts = [p.first for p in periods]
    out = {p: [] for p in periods}
    for fact in facts:
        index = bisect_right(firsts, fact.day) - 1
        if index >= 0 and periods[index].contains(fact.day):
            out[periods[index]].append(fact)
    return out


# --- 1. 需求响应及时率 ------------------------------------------------------------------------------

@dataclass
class ResponseFact:
    """One requirement record and when the firm first sent it to the customer."""

    day: date
    requirement_id: int
    product: str
    customer: str
    created_at: datetime
    due_at: datetime
    sent_at: datetime | None
    on_time: bool


def response_facts(start: datetime, end: datetime, customers: list[int] | None = None) -> list[ResponseFact]:
    """Requirements taken down from start to end that can be judged: sent to the customer, or not
    sent with the promise already run out (cancelled ones never sent, and those still within their
    promise, are left out)."""
    # The first sending of the window's records only (grouping every round of the history cost a
    # scan of them all on each view).
    first_sent = (db.select(RequirementRound.requirement_id, db.func.min(RequirementRound.sent_at).label("sent"))
                  .where(RequirementRound.requirement_id.in_(
                      db.select(Requirement.id).where(Requirement.created_at >= start, Requirement.created_at < end)))
                  .group_by(RequirementRound.requirement_id).subquery())
    query = (db.select(Requirement.id, Requirement.product, Requirement.status, Requirement.created_at,
                       Customer.name, first_sent.c.sent)
             .join(Customer, Customer.id == Requirement.customer_id)
             .outerjoin(first_sent, first_sent.c.requirement_id == Requirement.id)
             .where(Requirement.created_at >= start, Requirement.created_at < end)
             .order_by(Requirement.created_at))
    if customers is not None:
        query = query.where(Requirement.customer_id.in_(customers))
    rows = db.session.execute(query).all()
    if not rows:
        return []
    # The calendar once for all the clocks: 24 working hours never span more than a few weeks.
    calendar = clocks.calendar(local_date(start) - timedelta(days=1), local_date(end) + timedelta(days=60))
    now, out, day_of = utcnow(), [], local_dates()
    for req_id, product, status, created_at, customer, sent in rows:
        due = clocks.REQUIREMENT_RESPONSE.due(created_at, calendar)
        if sent is None and (status == "cancelled" or due > now):
            continue
        sent_at = _aware(sent)
        out.append(ResponseFact(day_of(created_at), req_id, product, customer, created_at, due, sent_at,
                                sent_at is not None and sent_at <= due))
    return out


def _aware(value):
    """A timestamp from an aggregate (MIN over a UTCDateTime column comes back without its type)."""
    if value is None or isinstance(value, datetime) and value.tzinfo is not None:
        return value
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    from datetime import timezone
    return value.replace(tzinfo=timezone.utc)


def response_measure(facts: list[ResponseFact]) -> Measure:
    """Answered on time / judged."""
    on_time = sum(1 for f in facts if f.on_time)
    return Measure(Decimal(on_time), Decimal(len(facts)), ratio(on_time, len(facts)))


# --- 2. 交付准时率 --------------------------------------------------------------------------------

@dataclass
class DeliveryFact:
    """One order line due on its originally promised date, and when its whole quantity arrived."""

    day: date  # the originally promised date
    order_id: int
    order_number: str | None
    customer: str
    line: str
    quantity: Decimal
    promised: date
    current: date | None  # the date promised now (after amendments), for the reader
    delivered_on: date | None  # the local date the last piece needed was signed for in good order
    on_time: bool
    days_late: int


def original_dates(order_ids: list[int]) -> dict[int, date | None]:
    """The delivery date of each order's first frozen version (what was approved and signed)."""
    rows = []
    for at in range(0, len(order_ids), IDS_AT_ONCE):  # SQLite's limit on bound parameters
        chunk = order_ids[at:at + IDS_AT_ONCE]
        first = (db.select(OrderVersion.order_id, db.func.min(OrderVersion.version).label("v"))
                 .where(OrderVersion.order_id.in_(chunk)).group_by(OrderVersion.order_id).subquery())
        rows += db.session.execute(db.select(OrderVersion.order_id, OrderVersion.terms_json).join(
            first, (first.c.order_id == OrderVersion.order_id) & (first.c.v == OrderVersion.version))).all()
    out = {}
    for order_id, terms in rows:
        text = json.loads(terms).get("delivery_date")
        out[order_id] = date.fromisoformat(text) if text else None
    return out


def delivery_facts(first: date, last: date, customers: list[int] | None = None) -> list[DeliveryFact]:
    """Lines of approved, not cancelled orders whose originally promised date is from first to last,
    leaving out those not due yet and not delivered."""
    query = (db.select(Order.id, Order.number, Order.delivery_date, Order.version, Customer.name)
             .join(Customer, Customer.id == Order.customer_id)
             .where(Order.approved_at.is_not(None), Order.status != "cancelled", Order.kind.in_(DELIVERING_KINDS),
                    # An amended order's date may have moved out of the window: its first version decides.
                    db.or_(Order.delivery_date.between(first, last), Order.version > 1)))
    if customers is not None:
        query = query.where(Order.customer_id.in_(customers))
    orders = {row[0]: row for row in db.session.execute(query).all()}
    originals = original_dates([oid for oid, row in orders.items() if row[3] > 1])
    promised = {}
    for oid, row in orders.items():
        day = originals.get(oid, row[2]) if row[3] > 1 else row[2]
        if day is not None and first <= day <= last:
            promised[oid] = day
    if not promised:
        return []
    # The lines and receipts of the promised orders, a few thousand orders at a time (a year's orders
    # as bound parameters at once would pass SQLite's limit on them).
    lines, received = [], defaultdict(list)
    ordered_ids = sorted(promised)
    for at in range(0, len(ordered_ids), IDS_AT_ONCE):
        chunk = ordered_ids[at:at + IDS_AT_ONCE]
        mine = db.session.execute(
            db.select(OrderLine.id, OrderLine.order_id, OrderLine.position, OrderLine.model, OrderLine.quantity)
            .where(OrderLine.order_id.in_(chunk)).order_by(OrderLine.order_id, OrderLine.position)).all()
        lines += mine
        for line_id, qty, signed_at in db.session.execute(
                db.select(ShipmentLine.order_line_id, ReceiptLine.received_qty, DeliveryReceipt.signed_at)
                .join(ReceiptLine, ReceiptLine.shipment_line_id == ShipmentLine.id)
                .join(DeliveryReceipt, DeliveryReceipt.id == ReceiptLine.receipt_id)
                # The chunk's lines by a subquery: their ids bound one by one could pass the limit again.
                .where(ShipmentLine.order_line_id.in_(db.select(OrderLine.id).where(OrderLine.order_id.in_(chunk))),
                       ReceiptLine.condition == "ok")
                .order_by(DeliveryReceipt.signed_at)).all():
            received[line_id].append((qty, signed_at))
    today, out, day_of = firm_today(), [], local_dates()
    for line_id, order_id, position, model, quantity in lines:
        total, delivered_on = ZERO, None
        for qty, signed_at in received[line_id]:
            total += qty
            if total >= quantity:
                delivered_on = day_of(signed_at)
                break
        due = promised[order_id]
        if delivered_on is None and due >= today:
            continue  # not due yet: it may still arrive on time
        late = ((delivered_on or today) - due).days
        _oid, number, current, _version, customer = orders[order_id]
        out.append(DeliveryFact(due, order_id, number, customer, f"{position}. {model}", quantity, due,
                                current, delivered_on, delivered_on is not None and delivered_on <= due,
                                max(late, 0)))
    return out


def delivery_measure(facts: list[DeliveryFact]) -> Measure:
    """Lines delivered whole by the original date / lines due."""
    on_time = sum(1 for f in facts if f.on_time)
    return Measure(Decimal(on_time), Decimal(len(facts)), ratio(on_time, len(facts)))


# --- 3. 客户满意度 -------------------------------------------------------------------------------

@dataclass
class SurveyFact:
    """One answered survey: its three ratings (1 to 5)."""

    day: date
    order_id: int
    order_number: str | None
    customer: str
    requirement_response: int
    delivery_timeliness: int
    service_quality: int
    suggestions: str

    @property
    def total(self) -> int:
        return self.requirement_response + self.delivery_timeliness + self.service_quality

    @property
    def average(self) -> Decimal:
        return (Decimal(self.total) / 3).quantize(SCORE, rounding=ROUND_HALF_UP)


def survey_facts(start: datetime, end: datetime, customers: list[int] | None = None) -> list[SurveyFact]:
    """Surveys answered from start to end with all three ratings."""
    query = (db.select(Survey.order_id, Order.number, Customer.name, Survey.requirement_response,
                       Survey.delivery_timeliness, Survey.service_quality, Survey.suggestions, Survey.answered_at)
             .join(Order, Order.id == Survey.order_id).join(Customer, Customer.id == Order.customer_id)
             .where(Survey.answered_at >= start, Survey.answered_at < end,
                    Survey.requirement_response.is_not(None), Survey.delivery_timeliness.is_not(None),
                    Survey.service_quality.is_not(None))
             .order_by(Survey.answered_at))
    if customers is not None:
        query = query.where(Order.customer_id.in_(customers))
    day_of = local_dates()
    return [SurveyFact(day_of(at), oid, number, customer, a, b, c, suggestions or "")
            for oid, number, customer, a, b, c, suggestions, at in db.session.execute(query).all()]


def survey_measure(facts: list[SurveyFact]) -> Measure:
    """Sum of all ratings / number of ratings: the mean score out of 5; and each question's mean."""
    total = sum(f.total for f in facts)
    count = 3 * len(facts)
    extra = {name: ratio(sum(getattr(f, name) for f in facts), len(facts), SCORE)
             for name in ("requirement_response", "delivery_timeliness", "service_quality")}
    extra["satisfied"] = ratio(sum(1 for f in facts if f.average >= 4), len(facts))
    extra["surveys"] = len(facts)
    return Measure(Decimal(total), Decimal(count), ratio(total, count, SCORE), extra)


# --- 4. 订单成本偏差率 -----------------------------------------------------------------------------

@dataclass
class CostFact:
    """One finalised cost sheet's totals."""

    day: date
    order_id: int
    order_number: str | None
    customer: str
    currency: str
    budget: Decimal
    actual: Decimal

    @property
    def variance(self) -> Decimal:
        return self.actual - self.budget

    @property
    def rate(self) -> Decimal | None:
        return ratio(self.variance, self.budget)

    @property
    def over(self) -> bool:
        return self.actual > self.budget


def cost_facts(start: datetime, end: datetime, customers: list[int] | None = None) -> list[CostFact]:
    """Cost sheets finalised from start to end with every actual entered and a budget above 0."""
    totals = (db.select(CostLine.cost_sheet_id, db.func.sum(CostLine.budget).label("budget"),
                        db.func.sum(CostLine.actual).label("actual"), db.func.count(CostLine.id).label("lines"),
                        db.func.count(CostLine.actual).label("entered"))
              .where(CostLine.cost_sheet_id.in_(  # the window's sheets' lines, not the whole history's
                  db.select(CostSheet.id).where(CostSheet.finalised_at >= start, CostSheet.finalised_at < end)))
              .group_by(CostLine.cost_sheet_id).subquery())
    query = (db.select(CostSheet.order_id, Order.number, Customer.name, Order.currency, totals.c.budget,
                       totals.c.actual, totals.c.lines, totals.c.entered, CostSheet.finalised_at)
             .join(totals, totals.c.cost_sheet_id == CostSheet.id)
             .join(Order, Order.id == CostSheet.order_id).join(Customer, Customer.id == Order.customer_id)
             .where(CostSheet.finalised_at >= start, CostSheet.finalised_at < end)
             .order_by(CostSheet.finalised_at))
    if customers is not None:
        query = query.where(Order.customer_id.in_(customers))
    out = []
    # Budgets and actuals are the firm's costs, in its currency, whatever the order's currency.
    firm_currency, day_of = get_settings().currency, local_dates()
    for oid, number, customer, _order_currency, budget, actual, lines, entered, at in db.session.execute(query).all():
        budget, actual = Decimal(budget or 0).quantize(FEN), Decimal(actual or 0).quantize(FEN)
        if lines != entered or budget <= 0:
            continue
        out.append(CostFact(day_of(at), oid, number, customer, firm_currency, budget, actual))
    return out


def cost_measure(facts: list[CostFact]) -> Measure:
    """Σ |actual − budget| / Σ budget; and the share of orders over budget."""
    deviation = sum((abs(f.variance) for f in facts), ZERO)
    budget = sum((f.budget for f in facts), ZERO)
    over = sum(1 for f in facts if f.over)
    return Measure(deviation, budget, ratio(deviation, budget),
                   {"over": over, "orders": len(facts), "over_share": ratio(over, len(facts))})


# --- 5. 资源浪费率 and 6. 边际成本: work orders finished in the period ------------------------------

@dataclass
class WorkFact:
    """One work order that passed QC: what it made, scrapped and cost."""

    day: date
    work_order_id: int
    number: str
    order_id: int | None
    order_number: str | None
    customer: str
    product_id: int | None
    product: str
    good: Decimal
    scrap: Decimal
    issued_value: Decimal  # material issued less returned, at its cost
    standard_value: Decimal  # what the good pieces hold by the BOM, at the same cost
    material: Decimal
    labour: Decimal
    outsourced: Decimal
    labour_missing: list[str]

    @property
    def variable(self) -> Decimal:
        return self.material + self.labour + self.outsourced


def work_facts(start: datetime, end: datetime, customers: list[int] | None = None) -> list[WorkFact]:
    """Work orders done (QC passed) from start to end, with good and scrap pieces, material issued
    and standard, labour and outsourcing: a fixed number of queries for any number of them, each
    reading only the window's work orders (by the (status, actual_done) index), with the sums that
    WorkOrder.good, WorkOrder.scrap and earnings.labour make of their reports made by the database
    (no report, rejection or work order loaded as an object)."""
    LineProduct, StockProduct = aliased(Product), aliased(Product)
    conditions = [WorkOrder.status == "done", WorkOrder.actual_done >= start, WorkOrder.actual_done < end]
    if customers is not None:
        conditions += [WorkOrder.order_id.in_(db.select(Order.id).where(Order.customer_id.in_(customers)))]
    rows = db.session.execute(
        db.select(WorkOrder.id, WorkOrder.number, WorkOrder.order_id, Order.number, Customer.name,
                  WorkOrder.bom_version_id, WorkOrder.actual_done, WorkOrder.order_line_id, OrderLine.model,
                  LineProduct.id, LineProduct.model, LineProduct.name,
                  StockProduct.id, StockProduct.model, StockProduct.name)
        .outerjoin(Order, Order.id == WorkOrder.order_id).outerjoin(Customer, Customer.id == Order.customer_id)
        .outerjoin(OrderLine, OrderLine.id == WorkOrder.order_line_id)
        .outerjoin(LineProduct, LineProduct.id == OrderLine.product_id)
        .outerjoin(StockProduct, StockProduct.id == WorkOrder.product_id)
        .where(*conditions).order_by(WorkOrder.actual_done, WorkOrder.id)).all()
    if not rows:
        return []
    chosen = db.select(WorkOrder.id).where(*conditions).scalar_subquery()
    sums = _work_sums(chosen)
    moves = defaultdict(dict)  # work order -> material -> (net quantity, net value)
    for wo_id, material_id, qty, value in db.session.execute(
            db.select(StockMove.work_order_id, StockMove.material_id, db.func.sum(StockMove.quantity),
                      db.func.sum(StockMove.value))
            .where(StockMove.work_order_id.in_(chosen), StockMove.kind.in_(("issue", "return")))
            .group_by(StockMove.work_order_id, StockMove.material_id)).all():
        moves[wo_id][material_id] = (-Decimal(qty or 0), -Decimal(value or 0))
    bom_ids = {row[5] for row in rows if row[5]}
    per_unit = defaultdict(dict)
    if bom_ids:
        for bom_id, material_id, qty in db.session.execute(
                db.select(BomLine.bom_id, BomLine.material_id, BomLine.quantity_per)
                .where(BomLine.bom_id.in_(bom_ids))).all():
            per_unit[bom_id][material_id] = per_unit[bom_id].get(material_id, ZERO) + Decimal(qty)
    outsourced = dict(db.session.execute(
        db.select(WorkOrderOperation.work_order_id, db.func.sum(OutsourceTransfer.cost))
        .join(WorkOrderOperation, WorkOrderOperation.id == OutsourceTransfer.operation_id)
        .where(WorkOrderOperation.work_order_id.in_(chosen)).group_by(WorkOrderOperation.work_order_id)).all())
    out, day_of = [], local_dates()
    for (wo_id, number, order_id, order_number, customer, bom_id, done_at, line_id, line_model,
         line_pid, line_pmodel, line_pname, stock_pid, stock_pmodel, stock_pname) in rows:
        good, scrap, labour = sums[wo_id]
        issued = standard = ZERO
        for material_id, (qty, value) in moves[wo_id].items():
            issued += value
            need = per_unit[bom_id].get(material_id, ZERO) * good if bom_id else ZERO
            if qty > 0 and need > 0:
                standard += min(need, qty) * value / qty  # at the cost of what was issued
        # WorkOrder.product: the line's product, or (no line) the stocking instruction's
        pid, pmodel, pname = (line_pid, line_pmodel, line_pname) if line_id is not None else (
            stock_pid, stock_pmodel, stock_pname)
        out.append(WorkFact(
            day_of(done_at), wo_id, number, order_id, order_number if order_id is not None else None,
            customer if order_id is not None else "", pid,
            f"{pmodel} {pname}" if pid is not None else (line_model if line_id is not None else stock_pmodel),
            good, scrap, issued.quantize(FEN), standard.quantize(FEN), issued.quantize(FEN), labour.amount,
            Decimal(outsourced.get(wo_id) or 0).quantize(FEN), labour.missing))
    return out


def _work_sums(chosen) -> dict[int, tuple[Decimal, Decimal, "earnings.Labour"]]:
    """Good, scrap and labour of each work order of the select chosen, as WorkOrder.good,
    WorkOrder.scrap and earnings.labour count them, from sums per work order and operation."""
    reported = defaultdict(dict)  # work order -> operation id -> (good, scrap, first report id, minutes)
    for wo_id, op_id, good, scrap, first, minutes in db.session.execute(
            db.select(ProgressReport.work_order_id, ProgressReport.operation_id, db.func.sum(ProgressReport.good_qty),
                      db.func.sum(ProgressReport.scrap_qty), db.func.min(ProgressReport.id),
                      db.func.sum(ProgressReport.minutes))
            .where(ProgressReport.work_order_id.in_(chosen))
            .group_by(ProgressReport.work_order_id, ProgressReport.operation_id)):
        reported[wo_id][op_id] = (good or ZERO, scrap or ZERO, first, minutes or ZERO)
    rejected, rejected_scrap = defaultdict(lambda: ZERO), defaultdict(lambda: ZERO)
    for wo_id, disposition, quantity in db.session.execute(
            db.select(QcRejection.work_order_id, QcRejection.disposition, db.func.sum(QcRejection.quantity))
            .where(QcRejection.work_order_id.in_(chosen))
            .group_by(QcRejection.work_order_id, QcRejection.disposition)):
        rejected[wo_id] += quantity or ZERO
        if disposition == "scrap":
            rejected_scrap[wo_id] += quantity or ZERO
    operations = defaultdict(list)  # work order -> its operations by position
    for operation in db.session.scalars(
            db.select(WorkOrderOperation).where(WorkOrderOperation.work_order_id.in_(chosen))
            .options(joinedload(WorkOrderOperation.work_centre))
            .order_by(WorkOrderOperation.work_order_id, WorkOrderOperation.position, WorkOrderOperation.id)):
        operations[operation.work_order_id].append(operation)
    outsourced_ids = [o.id for ops in operations.values() for o in ops if o.outsourced]
    received = {}
    if outsourced_ids:
        received = {op_id: (Decimal(good or 0), Decimal(scrap or 0)) for op_id, good, scrap in db.session.execute(
            db.select(OutsourceTransfer.operation_id, db.func.sum(OutsourceTransfer.received_good),
                      db.func.sum(OutsourceTransfer.received_scrap))
            .where(OutsourceTransfer.operation_id.in_(db.select(WorkOrderOperation.id).where(
                WorkOrderOperation.work_order_id.in_(chosen), WorkOrderOperation.outsourced.is_(True))))
            .group_by(OutsourceTransfer.operation_id))}
    out = {}
    for wo_id in set(reported) | set(operations) | set(rejected):
        ops, mine = operations.get(wo_id, []), reported.get(wo_id, {})
        if ops:
            last = ops[-1]
            good = (received.get(last.id, (ZERO, ZERO))[0] if last.outsourced
                    else mine.get(last.id, (ZERO, ZERO, None, ZERO))[0])
        else:
            good = sum((g for g, _s, _f, _m in mine.values()), ZERO)
        scrap = (sum((s for _g, s, _f, _m in mine.values()), ZERO)
                 + sum((received.get(o.id, (ZERO, ZERO))[1] for o in ops if o.outsourced), ZERO)
                 + rejected_scrap[wo_id])
        by_id = {o.id: o for o in ops}
        # Each operation's reports at once, in the order of its first report (earnings.labour goes
        # report by report and rounds only the total: pieces × rate and minutes × rate / 60 add up alike).
        labour = earnings.labour_of((by_id.get(op_id), op_good, minutes) for op_id, (op_good, _scrap, _first, minutes)
                                    in sorted(mine.items(), key=lambda item: item[1][2]))
        out[wo_id] = (good - rejected[wo_id], scrap, labour)
    return _Sums(out)


class _Sums(dict):
    """_work_sums' answers; a work order with no reports, operations or rejections made nothing."""

    def __missing__(self, wo_id):
        return ZERO, ZERO, earnings.Labour(earnings.fen(ZERO), [])


def waste_measure(facts: list[WorkFact]) -> Measure:
    """Scrap pieces / (good + scrap pieces); and material lost: (issued − standard) / issued, at cost."""
    scrap = sum((f.scrap for f in facts), ZERO)
    made = sum((f.good + f.scrap for f in facts), ZERO)
    issued = sum((f.issued_value for f in facts), ZERO)
    standard = sum((f.standard_value for f in facts), ZERO)
    return Measure(scrap, made, ratio(scrap, made),
                   {"issued": issued, "standard": standard, "lost": issued - standard,
                    "material_rate": ratio(issued - standard, issued)})


def marginal_measure(facts: list[WorkFact], product_id: int | None = None) -> Measure:
    """Σ variable cost / Σ good pieces of one product's work orders (all products' by product)."""
    mine = [f for f in facts if f.product_id is not None and (product_id is None or f.product_id == product_id)]
    cost = sum((f.variable for f in mine), ZERO)
    units = sum((f.good for f in mine), ZERO)
    return Measure(cost, units, ratio(cost, units, FEN) if product_id is not None else None,
                   {"material": sum((f.material for f in mine), ZERO), "labour": sum((f.labour for f in mine), ZERO),
                    "outsourced": sum((f.outsourced for f in mine), ZERO)})


def by_product(facts: list[WorkFact]) -> list[dict]:
    """Each product's units, variable cost and cost per unit, most units first."""
    groups = defaultdict(list)
    for f in facts:
        if f.product_id is not None:
            groups[(f.product_id, f.product)].append(f)
    rows = []
    for (pid, name), mine in groups.items():
        m = marginal_measure(mine, pid)
        rows.append({"product_id": pid, "product": name, "units": m.denominator, "cost": m.numerator,
                     "unit_cost": m.value, **m.extra})
    return sorted(rows, key=lambda r: (-r["units"], r["product"]))
