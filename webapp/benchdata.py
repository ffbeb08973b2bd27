"""Years of history for the benchmark: `flask bench-data --orders N` adds N orders on top of the demo
firm, with what such a firm would have kept about them — work orders and about ten progress reports
an order, shipments with their events and signed receipts, invoices and payments, sign-offs, stock
movements and audit rows — most of them closed long ago, a few thousand still open. Written with bulk inserts
through the models' tables, a few thousand orders at a time, so 100,000 orders take minutes."""
import json
import random
import secrets
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select, text

from .audit import AuditEvent
from .auth.models import User
from .customers.models import Customer, Product
from .extensions import db
from .firm import get_settings
from .orders.models import Approval, FeasibilityReview, Order, OrderLine, OrderNumberCounter, Payment
from .production.models import ProgressReport, WorkOrder
from .receivables.models import Invoice
from .shipping.models import DeliveryReceipt, ReceiptLine, Shipment, ShipmentEvent, ShipmentLine
from .stock.models import StockBalance, StockMove

# The share of orders in each status: most long closed, a few percent still moving.
STATUS_SHARES = [("closed", .70), ("delivered", .17), ("cancelled", .05), ("shipped", .02),
                 ("in_production", .015), ("ready_to_ship", .008), ("effective", .007),
                 ("awaiting_countersign", .004), ("pending_approval", .004), ("in_review", .004),
                 ("draft", .005), ("on_hold", .003)]
# Statuses whose orders were made on the floor (work orders and reports) and shipped.
MADE = {"in_production", "ready_to_ship", "shipped", "delivered", "closed", "on_hold"}
SHIPPED = {"shipped", "delivered", "closed"}
SETTLED = {"delivered", "closed"}
REVIEWED = {"pending_approval", "awaiting_countersign", "effective", "in_production", "ready_to_ship",
            "shipped", "delivered", "closed", "on_hold"}
OPEN = {"draft", "in_review", "pending_approval", "awaiting_countersign", "effective", "in_production",
        "ready_to_ship", "on_hold"}
YEARS = 5
CHUNK = 2000  # orders per batch: each batch's rows are inserted and committed together
TABLES = (Order, OrderLine, FeasibilityReview, Approval, Payment, WorkOrder, ProgressReport, Shipment,
          ShipmentLine, ShipmentEvent, DeliveryReceipt, ReceiptLine, Invoice, StockMove, AuditEvent)


def _statuses(count: int, rng: random.Random) -> list[str]:
    """count statuses in the shares above, shuffled."""
    out = []
    for status, share in STATUS_SHARES:
        out += [status] * round(count * share)
    out += ["closed"] * (count - len(out))
    rng.shuffle(out)
    return out[:count]


class _Ids:
    """The next free id of each table (ids are given here, so that children can name their parent)."""

    def __init__(self):
        self.next = {model: (db.session.scalar(select(func.max(model.id))) or 0) + 1 for model in TABLES}

    def take(self, model) -> int:
        """A fresh id for a row of model."""
        value = self.next[model]
        self.next[model] = value + 1
        return value


def generate(orders: int, seed: int = 17, echo=print) -> dict[str, int]:
    """Add `orders` orders with their history to the current database (demo firm loaded first) and
    return how many rows each table got. Order numbers follow the firm's pattern per customer and
    month, and the number counters are moved past them, so the app numbers on without a clash."""
    rng = random.Random(seed)
    settings = get_settings()
    snapshot = json.dumps(settings.snapshot())
    zone = ZoneInfo(settings.timezone or "Asia/Shanghai")
    pattern = settings.number_pattern or "{yyyy}{mm}-{abbr}-{seq:03d}"
    customers = db.session.execute(select(Customer.id, Customer.abbreviation)).all()
    products = db.session.execute(select(Product.id, Product.model, Product.name, Product.unit)).all()
    staff = db.session.execute(select(User.id, User.roles_csv).where(User.active.is_(True))).all()
    people = [row.id for row in staff]
    workers = [row.id for row in staff if "worker" in row.roles_csv.split(",")] or people
    balances = db.session.execute(select(StockBalance.material_id, StockBalance.lot_id,
                                         StockBalance.location_id)).all()
    if not customers or not people:
        raise RuntimeError("Load the demo firm first (flask demo): the history needs its customers and people.")
    demo_customers = db.session.scalar(select(func.count()).select_from(Customer).where(Customer.is_demo.is_(True)))
    if not settings.demo_loaded or not demo_customers:
        # A real firm's database (no demo firm, or the demo removed at going live): years of made-up
        # orders would be mixed into its books, past undoing.
        raise RuntimeError("This database holds a real firm (no demo firm loaded): bench-data only adds "
                           "history to a database made with flask demo.")
    counters = {(row.customer_id, row.period): row.last for row in db.session.scalars(select(OrderNumberCounter))}
    touched_counters = set()
    ids = _Ids()
    totals: dict[str, int] = defaultdict(int)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    statuses = _statuses(orders, rng)
    for start in range(0, orders, CHUNK):
        rows = defaultdict(list)
        for status in statuses[start:start + CHUNK]:
            _one_order(rng, status, now, rows, ids, customers, products, people, workers, balances, snapshot,
                       zone, pattern, counters, touched_counters)
        for model in TABLES:
            if rows[model]:
                db.session.execute(insert(model.__table__), rows[model])
                totals[model.__tablename__] += len(rows[model])
        db.session.commit()
        echo(f"  {min(start + CHUNK, orders)} of {orders} orders written")
    _save_counters(counters, touched_counters)
    _advance_sequences()
    db.session.commit()
    return dict(totals)


def _one_order(rng, status, now, rows, ids, customers, products, people, workers, balances, snapshot, zone,
               pattern, counters, touched_counters) -> None:
    """Append one order in status with its history to rows (per model)."""
    if status in OPEN or status == "shipped":
        created = now - timedelta(days=rng.uniform(1, 90))
    else:
        created = now - timedelta(days=rng.uniform(60, 365 * YEARS))
    created = created.replace(microsecond=0)
    delivery = (created + timedelta(days=rng.randint(20, 60))).date()
    customer_id, abbr = rng.choice(customers)
    rep = rng.choice(people)
    order_id = ids.take(Order)
    number = None
    if status != "draft":
        local = created.astimezone(zone)
        period = local.strftime("%Y%m")
        serial = counters.get((customer_id, period), 0) + 1
        counters[(customer_id, period)] = serial
        touched_counters.add((customer_id, period))
        number = pattern.format(yyyy=local.strftime("%Y"), mm=local.strftime("%m"), abbr=abbr, seq=serial)
    lines, total_excl = [], Decimal("0")
    for position in range(1, rng.choice((1, 1, 2)) + 1):
        product_id, model, name, unit = rng.choice(products)
        quantity = Decimal(rng.choice((50, 100, 200, 500, 1000, 2000, 5000)))
        price = Decimal(rng.randint(200, 20000)) / 100
        line_id = ids.take(OrderLine)
        lines.append((line_id, quantity))
        total_excl += quantity * price
        rows[OrderLine].append(dict(
            id=line_id, order_id=order_id, position=position, product_id=product_id, customer_part_no="",
            model=model, description=name, drawing_rev="", quantity=quantity, unit=unit, unit_price=price,
            unit_price_incl=(price * Decimal("1.13")).quantize(Decimal("0.01"))))
    total_excl = total_excl.quantize(Decimal("0.01"))
    tax = (total_excl * Decimal("0.13")).quantize(Decimal("0.01"))
    finished = created + timedelta(days=rng.randint(25, 70))
    updated = finished if status in SETTLED or status == "cancelled" else created + timedelta(days=rng.uniform(0, 1))
    rows[Order].append(dict(
        id=order_id, number=number, customer_id=customer_id, customer_po=f"PO{order_id}" if rng.random() < .6 else "",
        kind="manufacturing", currency="CNY", tax_rate=Decimal("13"), prepayment_pct=Decimal("30"), credit_days=30,
        credit_basis="net", exchange_rate=Decimal("1"), delivery_date=delivery, delivery_place="",
        delivery_method="delivery", breach_liability="", notes="", total_excl=total_excl, total_tax=tax,
        total=total_excl + tax, status=status, hold_from="in_production" if status == "on_hold" else None,
        settings_snapshot=None if status == "draft" else snapshot, version=1,
        signed_version=1 if status in MADE or status in ("effective",) else None, review_round=1,
        sales_rep_id=rep, created_at=created, updated_at=updated,
        approved_at=created + timedelta(days=2) if status in REVIEWED and status != "pending_approval" else None,
        effective_at=created + timedelta(days=3) if status in MADE or status == "effective" else None))
    audit = rows[AuditEvent]
    audit.append(_audit(ids, "order.created", "order", order_id, rep, created, None, {"status": "draft"}))
    if status == "draft":
        return
    if status == "cancelled":
        audit.append(_audit(ids, "order.cancel", "order", order_id, rep, updated, "in_review", "cancelled"))
        return
    if status in REVIEWED:
        for department in ("production", "finance", "warehouse"):
            rows[FeasibilityReview].append(dict(
                id=ids.take(FeasibilityReview), order_id=order_id, round=1, department=department, verdict="agree",
                note="", reviewer_id=rng.choice(people), at=created + timedelta(hours=rng.randint(2, 30))))
        for role in ("manager", "finance"):
            if status != "pending_approval":
                rows[Approval].append(dict(
                    id=ids.take(Approval), order_id=order_id, round=1, role=role, decision="approve", note="",
                    user_id=rng.choice(people), at=created + timedelta(days=2)))
        audit.append(_audit(ids, "order.numbered", "order", order_id, None, created + timedelta(days=2),
                            None, {"number": number}))
    deposit = ((total_excl + tax) * Decimal("0.3")).quantize(Decimal("0.01"))
    if status in MADE or status == "effective":
        rows[Payment].append(dict(
            id=ids.take(Payment), order_id=order_id, kind="deposit", amount=deposit,
            received_on=(created + timedelta(days=3)).date(), reference="",
            recorded_by_id=rep, recorded_at=created + timedelta(days=3)))
    if status in SETTLED:
        # Invoiced on delivery and paid in full (the rest after the deposit): years of settled accounts.
        rows[Invoice].append(dict(
            id=ids.take(Invoice), order_id=order_id, shipment_id=None, milestone="", kind="vat_special",
            number=f"B{order_id:09d}", issued_on=finished.date(), due_on=(finished + timedelta(days=30)).date(),
            tax_rate=Decimal("13"), amount=total_excl + tax, tax_amount=tax, note="", voided_at=None,
            void_reason="", recorded_by_id=rep, recorded_at=finished))
        rows[Payment].append(dict(
            id=ids.take(Payment), order_id=order_id, kind="receipt", amount=total_excl + tax - deposit,
            received_on=(finished + timedelta(days=25)).date(), reference="", recorded_by_id=rep,
            recorded_at=finished + timedelta(days=25)))
    if status not in MADE:
        audit.append(_audit(ids, "order.status", "order", order_id, rep, updated, "in_review", status))
        return
    reports_left = rng.randint(7, 15)  # about ten an order: a million at 100,000
    done = status != "in_production"
    for index, (line_id, quantity) in enumerate(lines, start=1):
        wo_id = ids.take(WorkOrder)
        start = created + timedelta(days=4)
        reports = reports_left if index == len(lines) else max(1, reports_left // 2)
        reports_left -= reports
        made = quantity if done else (quantity * Decimal(rng.randint(10, 80)) / 100).quantize(Decimal("1"))
        rows[WorkOrder].append(dict(
            id=wo_id, number=f"{number}-W{index:02d}", token=secrets.token_urlsafe(18), order_id=order_id,
            order_line_id=line_id, quantity=quantity, owner_id=rng.choice(workers),
            status="done" if done else "in_progress", purpose="",
            planned_materials=(start + timedelta(days=1)).date(), planned_start=(start + timedelta(days=2)).date(),
            planned_qc=(start + timedelta(days=12)).date(), actual_materials=start + timedelta(days=1),
            actual_start=start + timedelta(days=2), actual_qc=start + timedelta(days=14) if done else None,
            actual_done=start + timedelta(days=15) if done else None, created_at=start))
        share = (made / reports).quantize(Decimal("1"))
        for r in range(reports):
            good = share if r < reports - 1 else made - share * (reports - 1)
            at = start + timedelta(days=2 + r, hours=rng.randint(0, 8))
            rows[ProgressReport].append(dict(
                id=ids.take(ProgressReport), work_order_id=wo_id, good_qty=max(good, Decimal("0")),
                scrap_qty=Decimal(rng.choice((0, 0, 0, 1, 2))), note="", operation="", minutes=Decimal("0"),
                scrap_reason="", worker_id=rng.choice(workers), occurred_at=at, received_at=at))
        if balances:
            material_id, lot_id, location_id = rng.choice(balances)
            for kind, sign in (("receipt", 1), ("issue", -1)):  # in and straight out: the balances stay as they are
                rows[StockMove].append(dict(
                    id=ids.take(StockMove), kind=kind, material_id=material_id, lot_id=lot_id,
                    location_id=location_id, quantity=sign * quantity, unit_cost=Decimal("0"), value=Decimal("0"),
                    doc_type="work_order" if kind == "issue" else "", doc_id=wo_id if kind == "issue" else None,
                    doc_ref=f"{number}-W{index:02d}" if kind == "issue" else "", work_order_id=wo_id
                    if kind == "issue" else None, reason="", user_id=rng.choice(people), at=start))
        audit.append(_audit(ids, "work_order.created", "work_order", wo_id, rep, start, None, {"status": "planned"}))
    if status not in SHIPPED:
        audit.append(_audit(ids, "order.status", "order", order_id, rep, updated, "effective", status))
        return
    parts = 2 if rng.random() < .1 else 1
    for part in range(1, parts + 1):
        shipment_id = ids.take(Shipment)
        delivered = status in SETTLED
        sent = created + timedelta(days=20 + part)
        rows[Shipment].append(dict(
            id=shipment_id, number=f"{number}-S{part}", order_id=order_id, method="delivery", carrier="SF Express",
            tracking_no=f"SF{order_id:09d}{part}", eta=(sent + timedelta(days=3)).date(), cost=Decimal("120"),
            status="delivered" if delivered else "dispatched", created_by_id=rep, created_at=sent - timedelta(days=1),
            packed_at=sent - timedelta(hours=5), dispatched_at=sent, dispatch_note="",
            delivered_at=sent + timedelta(days=2) if delivered else None))
        shipment_lines = []
        for line_id, quantity in lines:
            qty = quantity if parts == 1 else (quantity / 2).quantize(Decimal("1")) if part == 1 \
                else quantity - (quantity / 2).quantize(Decimal("1"))
            sl_id = ids.take(ShipmentLine)
            shipment_lines.append((sl_id, qty))
            rows[ShipmentLine].append(dict(
                id=sl_id, shipment_id=shipment_id, order_line_id=line_id, quantity=qty, batch="",
                checked_at=sent - timedelta(hours=6), checked_by_id=rep, from_stock=False))
        kinds = [("picked_up", 0), ("in_transit", 20)] + ([("delivered", 46)] if delivered else [])
        for kind, hours in kinds:
            rows[ShipmentEvent].append(dict(
                id=ids.take(ShipmentEvent), shipment_id=shipment_id, kind=kind, reason="",
                occurred_at=sent + timedelta(hours=hours), recorded_at=sent + timedelta(hours=hours), place="",
                note="", source="carrier", user_id=None, dedupe_key=None))
        if delivered:
            receipt_id = ids.take(DeliveryReceipt)
            rows[DeliveryReceipt].append(dict(
                id=receipt_id, shipment_id=shipment_id, signer_name="收货人", signer_relation="", strokes_json=None,
                signature_svg=None, stamped_photo_id=None, consent_text="", consent_version="bench",
                note_json="{}", note_sha256="0" * 64, taken_on="customer", signed_at=sent + timedelta(days=2),
                ip_address="", user_agent="", has_exception=False))
            for sl_id, qty in shipment_lines:
                rows[ReceiptLine].append(dict(id=ids.take(ReceiptLine), receipt_id=receipt_id,
                                              shipment_line_id=sl_id, received_qty=qty, condition="ok", note=""))
        audit.append(_audit(ids, "shipment.dispatch", "shipment", shipment_id, rep, sent, "packed", "dispatched"))
    audit.append(_audit(ids, "order.status", "order", order_id, rep, updated, "ready_to_ship", status))


def _audit(ids, action, entity_type, entity_id, actor, at, before, after) -> dict:
    """An audit row (before/after given as a status, or as a dict)."""
    def dump(value):
        if value is None:
            return None
        return json.dumps(value if isinstance(value, dict) else {"status": value}, sort_keys=True)
    return dict(id=ids.take(AuditEvent), at=at, actor_user_id=actor, actor_kind="user" if actor else "system",
                action=action, entity_type=entity_type, entity_id=entity_id, before=dump(before), after=dump(after))


def _save_counters(counters: dict, touched: set) -> None:
    """Move each customer's monthly number counter past the numbers given."""
    existing = {(row.customer_id, row.period): row for row in db.session.scalars(select(OrderNumberCounter))}
    new = []
    for key in touched:
        if key in existing:
            existing[key].last = counters[key]
        else:
            new.append(dict(customer_id=key[0], period=key[1], last=counters[key]))
    if new:
        db.session.execute(insert(OrderNumberCounter.__table__), new)


def _advance_sequences() -> None:
    """On PostgreSQL, move each table's id sequence past the ids given here (SQLite needs nothing)."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for model in TABLES:
        table = model.__table__.name
        db.session.execute(text(
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
            f"(SELECT coalesce(max(id), 1) FROM \"{table}\"))"))
