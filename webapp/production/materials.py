"""A work order's materials: what its bill of materials needs, reserved at release, issued to it by
lot (and returned), whether it waits for material, and the finished goods it makes.

The quantities live in the stock ledger (webapp/stock/ledger.py); this module says what the floor
needs of it. A shortage at release becomes a purchase request; a receipt that covers every material
reaches the "materials purchased" milestone by itself (signals.stock_received)."""
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from .. import audit
from ..extensions import db
from ..purchasing import services as purchasing
from ..statemachine import N_, TransitionError
from ..stock import Lot, Material, Reservation, StockMove, bom, ledger, products
from ..i18n import firm_today
from .models import WorkOrder

ZERO = Decimal("0")


def reserve(work_order: WorkOrder, user=None) -> list:
    """Hold what the work order's BOM needs (its version is kept on the work order) and ask purchasing
    for what is short. Run at release and again when the quantity changes (a split). Returns the
    purchase requests made or raised."""
    product = work_order.product
    if product is None:
        return []
    if work_order.bom_version_id is None:
        current = bom.current_bom(product.id)
        if current is None:
            return []
        work_order.bom_version_id = current.id
    version = _version(work_order)
    needs = bom.needs(version, work_order.quantity)
    held = {r.material_id: r for r in _reservations(work_order)}
    for material_id, need in needs.items():
        reservation = held.get(material_id)
        if reservation is None:
            db.session.add(Reservation(work_order_id=work_order.id, material_id=material_id, quantity=need))
        else:
            reservation.quantity = need
    db.session.flush()
    requests = []
    for row in status(work_order):
        if row.short <= 0 or row.customer_supplied:
            continue
        sub = row.material.product_id
        if sub is not None and bom.current_bom(sub) is not None:
            # A sub-assembly short is made, not bought: what its own BOM lacks is what to buy.
            for material_id, need in bom.explode(sub, row.short, ledger.available).items():
                leaf = db.session.get(Material, material_id)
                short = need - max(ledger.available(material_id), ZERO)
                if short > 0 and leaf.customer_id is None:
                    requests.append(purchasing.request_shortage(leaf, short, needed_by=work_order.planned_materials,
                                                                work_order_id=work_order.id, user=user))
            continue
        requests.append(purchasing.request_shortage(row.material, row.short, needed_by=work_order.planned_materials,
                                                    work_order_id=work_order.id, user=user))
    return [r for r in requests if r is not None]


def _version(work_order: WorkOrder):
    from ..stock import BomVersion
    return db.session.get(BomVersion, work_order.bom_version_id)


def _reservations(work_order: WorkOrder) -> list[Reservation]:
    return list(db.session.scalars(db.select(Reservation).where(Reservation.work_order_id == work_order.id)
                                   .order_by(Reservation.id)))


@dataclass
class MaterialRow:
    """One material of a work order, as the supervisor and the warehouse read it."""

    material: object
    need: Decimal
    issued: Decimal
    open: Decimal            # still held for this work order (need − issued)
    available: Decimal       # usable stock not held by other work orders
    short: Decimal           # what is missing for this work order
    incoming: Decimal        # on open purchase orders
    late: bool               # a purchase order it waits for is past its date
    expected: date | None    # the earliest date an open purchase order brings it
    customer_supplied: bool
    lots: list = field(default_factory=list)  # usable lots with their balances, oldest first

    @property
    def state(self) -> str:
        """issued / ready / ordered / late / short: one word for the row."""
        if self.open <= 0:
            return "issued"
        if self.short <= 0:
            return "ready"
        if self.incoming >= self.short:
            return "late" if self.late else "ordered"
        return "short"


def status(work_order: WorkOrder, with_lots: bool = False) -> list[MaterialRow]:
    """Line by line, whether the work order's materials are there."""
    today = firm_today()
    rows = []
    for reservation in _reservations(work_order):
        material = reservation.material
        open_qty = max(reservation.quantity - reservation.issued, ZERO)
        free = ledger.available(material.id, except_work_order=work_order.id)
        short = max(open_qty - max(free, ZERO), ZERO)
        supply = purchasing.open_supply(material.id, today)
        rows.append(MaterialRow(
            material=material, need=reservation.quantity, issued=reservation.issued, open=open_qty,
            available=free, short=short, incoming=sum((s.outstanding for s in supply), ZERO),
            late=any(s.late for s in supply), expected=min((s.expected_date for s in supply if s.expected_date), default=None),
            customer_supplied=material.customer_id is not None,
            lots=ledger.lots_with_stock(material.id) if with_lots else []))
    return rows


def waiting_for_material(work_order: WorkOrder) -> bool:
    """Whether some material of the work order is neither issued nor in stock."""
    return any(row.short > 0 for row in status(work_order))


def lot_by_code(text: str) -> Lot | None:
    """The lot a scanned label (its URL ends in /stock/l/<token>) or a typed lot code names."""
    text = (text or "").strip()
    if not text:
        return None
    if "/stock/l/" in text:
        token = text.rsplit("/stock/l/", 1)[1].split("?")[0].strip("/")[:40]
        return db.session.scalar(db.select(Lot).where(Lot.token == token))
    found = db.session.scalars(db.select(Lot).where(Lot.code == text[:60]).limit(2)).all()
    return found[0] if len(found) == 1 else None


def issue(work_order: WorkOrder, lot: Lot, quantity: Decimal, user, location=None) -> StockMove:
    """Issue quantity of lot to the work order (领料): only a material its BOM holds, never more than
    the lot has where it is, customer-supplied material only to that customer's orders."""
    reservation = _reservation_for(work_order, lot)
    material = lot.material
    if material.customer_id is not None and (work_order.order is None
                                             or material.customer_id != work_order.order.customer_id):
        raise TransitionError(409, N_("This material belongs to another customer and cannot go to this work order."))
    if work_order.status == "done":
        raise TransitionError(409, N_("This work order is done; nothing more can be issued to it."))
    location = location or _where(lot)
    move = ledger.post("issue", lot, location, quantity, doc=ledger.Doc("work_order", work_order.id, work_order.number),
                       work_order_id=work_order.id, user=user)
    reservation.issued += quantity
    audit.record("work_order.issued", work_order, actor=user,
                 after={"material": material.code, "lot": lot.code, "quantity": str(quantity)})
    return move


def return_to_stock(work_order: WorkOrder, lot: Lot, quantity: Decimal, user, location=None) -> StockMove:
    """Material the floor did not use goes back (退料): at most what was issued of that lot."""
    reservation = _reservation_for(work_order, lot)
    ledger.lock_material(lot.material_id)
    mine = (StockMove.work_order_id == work_order.id, StockMove.lot_id == lot.id)
    issued = -ledger._sum(db.select(db.func.coalesce(db.func.sum(StockMove.quantity), 0)).where(
        *mine, StockMove.kind.in_(("issue", "return"))))
    if quantity > issued:
        raise TransitionError(409, N_("That is more than was issued of this lot to this work order."))
    # It comes back at what it went out at (the average of this lot's issues to the work order), so
    # the work order's material cost nets to what it kept, whatever the average has done since.
    out_qty = -ledger._sum(db.select(db.func.coalesce(db.func.sum(StockMove.quantity), 0)).where(
        *mine, StockMove.kind == "issue"))
    out_value = -Decimal(db.session.scalar(db.select(db.func.coalesce(db.func.sum(StockMove.value), 0)).where(
        *mine, StockMove.kind == "issue")) or 0)
    unit_cost = (out_value / out_qty).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP) if out_qty > 0 else None
    if lot.material.customer_id is not None:
        unit_cost = None
    location = location or _where(lot, any_balance=True)
    move = ledger.post("return", lot, location, quantity, unit_cost=unit_cost,
                       doc=ledger.Doc("work_order", work_order.id, work_order.number),
                       work_order_id=work_order.id, user=user)
    reservation.issued = max(reservation.issued - quantity, ZERO)
    audit.record("work_order.returned", work_order, actor=user,
                 after={"material": lot.material.code, "lot": lot.code, "quantity": str(quantity)})
    return move


def _reservation_for(work_order: WorkOrder, lot: Lot) -> Reservation:
    reservation = db.session.scalar(db.select(Reservation).where(Reservation.work_order_id == work_order.id,
                                                                 Reservation.material_id == lot.material_id))
    if reservation is None:
        raise TransitionError(409, N_("This material is not on the work order's bill of materials."))
    return reservation


def _where(lot: Lot, any_balance: bool = False):
    """The location the lot has the most of (or the default one)."""
    balances = sorted((b for b in lot.balances if any_balance or b.on_hand > 0), key=lambda b: -b.on_hand)
    return balances[0].location if balances else products.default_location()


def material_cost(work_order_id: int) -> Decimal:
    """What the work order's materials cost, from the ledger: issued less returned, at the moving
    average of the moment (finance's direct material)."""
    value = db.session.scalar(db.select(db.func.coalesce(db.func.sum(StockMove.value), 0)).where(
        StockMove.work_order_id == work_order_id, StockMove.kind.in_(("issue", "return"))))
    return -Decimal(value or 0)


def close(work_order: WorkOrder) -> None:
    """The work order is done: what it did not take is free for others."""
    for reservation in _reservations(work_order):
        reservation.closed = True


def finish_goods(work_order: WorkOrder, user=None) -> Lot | None:
    """Finished goods of a work order that passed QC: its good quantity as a lot of the product,
    valued at its material cost per piece."""
    product = work_order.product
    if product is None or work_order.good <= 0:
        return None
    unit_cost = (material_cost(work_order.id) / work_order.good).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
    return products.produce(product, work_order.good, work_order.id, work_order.number, unit_cost, user,
                            for_stock=work_order.order_id is None)


def ready_for_materials(material) -> list[WorkOrder]:
    """Planned work orders holding this material whose every material is now in stock."""
    candidates = db.session.scalars(
        db.select(WorkOrder).join(Reservation, Reservation.work_order_id == WorkOrder.id)
        .where(Reservation.material_id == material.id, WorkOrder.status == "planned")
        .order_by(WorkOrder.planned_start, WorkOrder.id)).all()
    return [w for w in candidates if all(row.short <= 0 for row in status(w))]
