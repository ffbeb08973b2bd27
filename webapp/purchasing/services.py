"""Purchasing: requests from shortages, purchase orders to suppliers, and receipts against them that
add stock through the ledger (stock units there, purchase units on the order).

Units: a request and everything the ledger knows are in the material's stock unit; a purchase order
line is in its purchase unit (Material.purchase_factor stock units make one purchase unit). A
request becomes a line rounded UP to the purchase unit's third decimal (never order less than the
shortage). A receipt is typed in either unit and converted.

Concurrency: a receipt locks the purchase order row and re-reads its line (SELECT … FOR UPDATE on
PostgreSQL; SQLite serialises writers with BEGIN IMMEDIATE), so two receipts of the same line at
once are served one after the other and never add up to more than was ordered. Purchase order
numbers PO-<yyyy>-<nnnn> are the year's highest plus one, taken under a transaction-long advisory
lock on PostgreSQL (the write lock on SQLite); the unique number column is the last guard.
"""
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from .. import audit, signals
from ..extensions import db
from ..numbering import next_yearly_number
from ..i18n import firm_today
from ..statemachine import N_, TransitionError
from ..stock import Location, Material, ledger
from ..wallclock import utcnow
from .models import PurchaseOrder, PurchaseOrderLine, PurchaseRequest, Supplier

ZERO = Decimal("0")
MICRO = Decimal("0.000001")
# A purchase order line's quantity: the purchase unit to the thousandth.
PURCHASE_PLACES = Decimal("0.001")
# Far beyond any real purchase, well inside the column (the ledger's own limit).
MOST = ledger.MOST
OPEN_PO = ("sent", "partial")


def _check_quantity(quantity) -> Decimal:
    """quantity as a Decimal above zero and within reason, or a 409 people can read."""
    if not isinstance(quantity, Decimal) or not quantity.is_finite():
        raise TransitionError(409, N_("Enter a quantity as a number."))
    if quantity <= 0:
        raise TransitionError(409, N_("Enter a quantity above zero."))
    if quantity > MOST:
        raise TransitionError(409, N_("This quantity is not possible."))
    return quantity


def plain(value: Decimal) -> str:
    """A quantity without trailing zeros, for a message."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def to_purchase_units(material: Material, stock_quantity: Decimal) -> Decimal:
    """A quantity in stock units as purchase units, rounded up to the thousandth."""
    factor = material.purchase_factor or Decimal("1")
    return (stock_quantity / factor).quantize(PURCHASE_PLACES, rounding=ROUND_CEILING)


def to_stock_units(material: Material, purchase_quantity: Decimal) -> Decimal:
    """A quantity in purchase units as stock units (to the millionth)."""
    factor = material.purchase_factor or Decimal("1")
    return (purchase_quantity * factor).quantize(MICRO, rounding=ROUND_HALF_UP)


# --- purchase requests -------------------------------------------------------------------------

def request_shortage(material: Material, quantity: Decimal, *, needed_by: date | None = None,
                     work_order_id: int | None = None, user=None, note: str = "") -> PurchaseRequest | None:
    """Ask to buy quantity (stock units) of material: one open request per material and work order
    (None: a request typed by hand). An open one is raised to the new quantity (never lowered:
    what a purchaser already plans with stays) and keeps the earlier needed-by date. None when
    nothing is short, and for customer-supplied material (the customer sends it; nobody buys it)."""
    if not isinstance(quantity, Decimal) or not quantity.is_finite() or quantity <= 0:
        return None
    if material.customer_id is not None:
        return None
    quantity = _check_quantity(quantity.quantize(MICRO, rounding=ROUND_CEILING))
    ledger.lock_material(material.id)  # two shortages of one material at once: one request
    query = db.select(PurchaseRequest).where(PurchaseRequest.material_id == material.id,
                                             PurchaseRequest.status == "open")
    query = query.where(PurchaseRequest.work_order_id.is_(None) if work_order_id is None
                        else PurchaseRequest.work_order_id == work_order_id)
    existing = db.session.scalars(query.order_by(PurchaseRequest.id).with_for_update()).first()
    if existing is not None:
        before = existing.quantity
        if quantity > existing.quantity:
            existing.quantity = quantity
        if needed_by and (existing.needed_by is None or needed_by < existing.needed_by):
            existing.needed_by = needed_by
        if existing.quantity != before:
            audit.record("purchase_request.raised", existing, actor=user, entity_type="purchase_request",
                         before={"quantity": str(before)}, after={"quantity": str(existing.quantity)})
        return existing
    request = PurchaseRequest(material_id=material.id, quantity=quantity, needed_by=needed_by,
                              work_order_id=work_order_id, status="open", note=(note or "")[:2000],
                              created_by_id=getattr(user, "id", None))
    db.session.add(request)
    db.session.flush()
    audit.record("purchase_request.created", request, actor=user, entity_type="purchase_request",
                 after={"material": material.code, "quantity": str(quantity), "work_order": work_order_id})
    return request


def cancel_request(request: PurchaseRequest, user) -> None:
    """Drop an open request (bought elsewhere, no longer needed)."""
    if request.status != "open":
        raise TransitionError(409, N_("Only an open purchase request can be cancelled."))
    request.status = "cancelled"
    audit.record("purchase_request.cancelled", request, actor=user, entity_type="purchase_request")


@dataclass
class NeedRow:
    """What to buy of one material: its open requests and the numbers beside them (stock units)."""

    material: Material
    requests: list
    need: Decimal
    available: Decimal
    incoming: Decimal
    supplier: Supplier | None

    @property
    def shortage(self) -> Decimal:
        """What neither stock nor open purchase orders cover."""
        return max(self.need - max(self.available, ZERO) - self.incoming, ZERO)

    @property
    def needed_by(self) -> date | None:
        """The earliest date any of its requests needs it."""
        dates = [r.needed_by for r in self.requests if r.needed_by]
        return min(dates) if dates else None


def what_to_buy() -> list[NeedRow]:
    """Open requests grouped by material, the most urgent first."""
    requests = db.session.scalars(db.select(PurchaseRequest).where(PurchaseRequest.status == "open")
                                  .order_by(PurchaseRequest.needed_by, PurchaseRequest.id)).all()
    by_material: dict[int, list] = {}
    for request in requests:
        by_material.setdefault(request.material_id, []).append(request)
    rows = []
    for material_id, group in by_material.items():
        material = group[0].material
        rows.append(NeedRow(material, group, sum((r.quantity for r in group), ZERO), ledger.available(material_id),
                            incoming(material_id), suggested_supplier(material_id)))
    rows.sort(key=lambda row: (row.needed_by is None, row.needed_by or date.max, row.material.code))
    return rows


def suggested_supplier(material_id: int) -> Supplier | None:
    """The supplier this material was last ordered from."""
    return db.session.scalar(db.select(Supplier).join(PurchaseOrder, PurchaseOrder.supplier_id == Supplier.id)
                             .join(PurchaseOrderLine, PurchaseOrderLine.purchase_order_id == PurchaseOrder.id)
                             .where(PurchaseOrderLine.material_id == material_id, PurchaseOrder.status != "cancelled")
                             .order_by(PurchaseOrder.created_at.desc(), PurchaseOrder.id.desc()).limit(1))


# --- what open purchase orders bring ------------------------------------------------------------

@dataclass(frozen=True)
class SupplyRow:
    """One open purchase order line of a material: when it is expected and what it still brings."""

    purchase_order: PurchaseOrder
    line: PurchaseOrderLine
    expected_date: date | None
    outstanding: Decimal  # stock units
    late: bool


def _open_lines(material_id: int):
    return db.session.execute(
        db.select(PurchaseOrderLine, PurchaseOrder).join(PurchaseOrder)
        .where(PurchaseOrderLine.material_id == material_id, PurchaseOrder.status.in_(OPEN_PO))
        .order_by(PurchaseOrder.expected_date, PurchaseOrder.id, PurchaseOrderLine.position))


def open_supply(material_id: int, today: date | None = None) -> list[SupplyRow]:
    """What open (sent or partly received) purchase orders still bring of the material, in stock
    units, by expected date; late ones are past their expected date."""
    today = today or firm_today()
    rows = []
    for line, order in _open_lines(material_id):
        if line.outstanding > 0:
            rows.append(SupplyRow(order, line, order.expected_date, to_stock_units(line.material, line.outstanding),
                                  order.late(today)))
    return rows


def incoming(material_id: int) -> Decimal:
    """What open purchase orders still bring of the material, in stock units."""
    return sum((row.outstanding for row in open_supply(material_id)), ZERO)


def late_purchase_orders(today: date | None = None) -> list[PurchaseOrder]:
    """Open purchase orders past their expected date, the longest late first."""
    today = today or firm_today()
    return list(db.session.scalars(db.select(PurchaseOrder).where(
        PurchaseOrder.status.in_(OPEN_PO), PurchaseOrder.expected_date < today)
        .order_by(PurchaseOrder.expected_date, PurchaseOrder.id)))


# --- purchase orders ---------------------------------------------------------------------------

@dataclass(frozen=True)
class LineInput:
    """A line to order: quantity and price in the material's purchase unit."""

    material: Material
    quantity: Decimal
    unit_price: Decimal = ZERO


def next_number(year: int) -> str:
    """PO-<yyyy>-<nnnn>: the year's next free number (webapp/numbering.py)."""
    return next_yearly_number(PurchaseOrder.number, "PO", year)


def create_purchase_order(supplier: Supplier, expected_date: date | None, lines=(), user=None, requests=(),
                          *, prices: dict | None = None, note: str = "") -> PurchaseOrder:
    """A draft purchase order to supplier: the lines given (LineInput, purchase units) and one line
    per material of the requests (their stock quantities summed and rounded up to purchase units,
    priced from prices[material_id] per purchase unit or the last price paid); the requests become
    "ordered" and point to their line."""
    prices = prices or {}
    requests = list(requests)
    if requests:  # re-read under lock: two purchasers ordering the same request at once
        fresh = db.session.scalars(db.select(PurchaseRequest).where(
            PurchaseRequest.id.in_([r.id for r in requests])).with_for_update()
            .execution_options(populate_existing=True)).all()
        if len(fresh) != len(requests) or any(r.status != "open" for r in fresh):
            raise TransitionError(409, N_("A selected purchase request was already ordered or cancelled."))
        requests = sorted(fresh, key=lambda r: r.id)
    wanted: list[tuple[LineInput, list]] = []
    for item in lines:
        item = item if isinstance(item, LineInput) else LineInput(*item)
        wanted.append((item, []))
    grouped: dict[int, list] = {}
    for request in requests:
        grouped.setdefault(request.material_id, []).append(request)
    for material_id, group in grouped.items():
        material = group[0].material
        price = prices.get(material_id)
        if price is None:
            price = (material.last_cost * (material.purchase_factor or 1)).quantize(MICRO)
        total = sum((r.quantity for r in group), ZERO)
        wanted.append((LineInput(material, to_purchase_units(material, total), price), group))
    if not wanted:
        raise TransitionError(409, N_("Add at least one line to the purchase order."))
    for item, _group in wanted:
        _check_quantity(item.quantity)
        if item.material.customer_id is not None:
            raise TransitionError(409, N_("%(material)s is supplied by the customer and is not bought."),
                                  material=item.material.code)
        if not isinstance(item.unit_price, Decimal) or not item.unit_price.is_finite() or item.unit_price < 0:
            raise TransitionError(409, N_("A price cannot be below zero."))
    order = PurchaseOrder(number=next_number((firm_today()).year), supplier_id=supplier.id, status="draft",
                          expected_date=expected_date, note=(note or "")[:2000], created_by_id=getattr(user, "id", None))
    db.session.add(order)
    for position, (item, group) in enumerate(wanted, start=1):
        line = PurchaseOrderLine(position=position, material_id=item.material.id,
                                 quantity=item.quantity.quantize(MICRO), unit_price=item.unit_price.quantize(MICRO),
                                 received=ZERO)
        order.lines.append(line)
        db.session.flush()
        for request in group:
            request.status = "ordered"
            request.purchase_order_line_id = line.id
    db.session.flush()
    audit.record("purchase_order.created", order, actor=user, entity_type="purchase_order",
                 after={"number": order.number, "supplier": supplier.name,
                        "lines": [[line.material.code, str(line.quantity)] for line in order.lines],
                        "requests": [r.id for r in requests]})
    return order


def send(order: PurchaseOrder, user) -> None:
    """The purchase order goes to the supplier: draft → sent (it now counts as coming)."""
    if order.status != "draft":
        raise TransitionError(409, N_("Only a draft purchase order can be sent."))
    order.status, order.sent_at = "sent", utcnow()
    audit.record("purchase_order.sent", order, actor=user, entity_type="purchase_order",
                 after={"number": order.number})


def cancel(order: PurchaseOrder, user, reason: str = "") -> None:
    """Cancel a draft or sent purchase order nothing was received against; its requests are open
    again (the need is still there)."""
    if order.status not in ("draft", "sent") or any(line.received > 0 for line in order.lines):
        raise TransitionError(409, N_("Only a purchase order nothing was received against can be cancelled."))
    order.status = "cancelled"
    line_ids = [line.id for line in order.lines]
    for request in db.session.scalars(db.select(PurchaseRequest).where(
            PurchaseRequest.purchase_order_line_id.in_(line_ids))):
        request.status, request.purchase_order_line_id = "open", None
    audit.record("purchase_order.cancelled", order, actor=user, entity_type="purchase_order",
                 after={"number": order.number}, note=reason or None)


# --- receipts ----------------------------------------------------------------------------------

def _lock_order(order_id: int) -> PurchaseOrder:
    """The purchase order row, locked (PostgreSQL) and re-read with its lines."""
    db.session.execute(db.select(PurchaseOrder.id).where(PurchaseOrder.id == order_id).with_for_update())
    order = db.session.get(PurchaseOrder, order_id, populate_existing=True)
    for line in order.lines:
        db.session.refresh(line)
    return order


def receive(line: PurchaseOrderLine, quantity: Decimal, unit: str, location: Location, lot_code: str = "",
            supplier_lot: str = "", user=None, unit_price: Decimal | None = None):
    """Receive quantity (in unit: the material's purchase or stock unit) against a purchase order
    line into a lot at location, priced at unit_price per purchase unit (the line's price if None).
    Returns the ledger's movement (its lot is the new or topped-up lot)."""
    order = _lock_order(line.purchase_order_id)
    line = db.session.get(PurchaseOrderLine, line.id)
    material = line.material
    if order.status not in OPEN_PO:
        raise TransitionError(409, N_("Goods can only be received against a sent purchase order."))
    if unit not in (material.purchase_unit, material.stock_unit):
        raise TransitionError(409, N_("Unit mismatch: receive %(material)s in %(purchase_unit)s or %(stock_unit)s."),
                              material=material.code, purchase_unit=material.purchase_unit,
                              stock_unit=material.stock_unit)
    quantity = _check_quantity(quantity)
    factor = material.purchase_factor or Decimal("1")
    # The purchase unit first: a material bought and stocked under one name converts by its factor.
    stock_quantity = to_stock_units(material, quantity) if unit == material.purchase_unit else quantity.quantize(MICRO)
    if stock_quantity <= 0:
        raise TransitionError(409, N_("Enter a quantity above zero."))
    open_stock = to_stock_units(material, line.outstanding)
    if stock_quantity > open_stock:
        raise TransitionError(409, N_("That is more than is still open on this line: %(open)s %(unit)s "
                                      "(%(open_stock)s %(stock_unit)s)."),
                              open=plain(line.outstanding), unit=material.purchase_unit,
                              open_stock=plain(open_stock), stock_unit=material.stock_unit)
    price = line.unit_price if unit_price is None else unit_price
    if not isinstance(price, Decimal) or not price.is_finite() or price < 0:
        raise TransitionError(409, N_("A price cannot be below zero."))
    unit_cost = (price / factor).quantize(MICRO, rounding=ROUND_HALF_UP)
    move = ledger.receive(material, stock_quantity, location, unit_cost=unit_cost, lot_code=lot_code or "",
                          supplier_lot=supplier_lot or "", doc=ledger.Doc("po_line", line.id, order.number), user=user)
    # What the line now has: exactly all of it when the rest arrived, else the stock quantity back in
    # purchase units (to the millionth).
    line.received = line.quantity if stock_quantity == open_stock else \
        min(line.received + (stock_quantity / factor).quantize(MICRO, rounding=ROUND_HALF_UP), line.quantity)
    order.status = "received" if all(each.received >= each.quantity for each in order.lines) else "partial"
    audit.record("purchase_order.received", order, actor=user, entity_type="purchase_order",
                 after={"number": order.number, "material": material.code, "quantity": str(quantity), "unit": unit,
                        "stock_quantity": str(stock_quantity), "lot": move.lot.code if move.lot else lot_code,
                        "location": location.code, "status": order.status})
    db.session.flush()
    signals.stock_received.send(material)
    return move


def receive_customer_material(material: Material, quantity: Decimal, location: Location, lot_code: str = "",
                              supplier_lot: str = "", user=None):
    """Receive material the customer supplies (客供料), without a purchase order: quantity in its
    stock unit, never valued (the ledger keeps its value at zero)."""
    if material.customer_id is None:
        raise TransitionError(409, N_("%(material)s is not customer-supplied material: receive it against "
                                      "its purchase order."), material=material.code)
    quantity = _check_quantity(quantity)
    move = ledger.receive(material, quantity.quantize(MICRO), location, unit_cost=None, lot_code=lot_code or "",
                          supplier_lot=supplier_lot or "",
                          doc=ledger.Doc("customer_supply", material.customer_id,
                                         getattr(material.customer, "abbreviation", "") or ""), user=user)
    signals.stock_received.send(material)
    return move
