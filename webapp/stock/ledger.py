"""The stock ledger: every change of stock is one movement posted here, which updates the lot's
balance row in its location and the material's moving-average valuation under row locks.

Nothing else writes StockBalance or a material's valuation. A movement is refused (409, a message
people read) rather than letting a balance go below zero. On SQLite a writing request already holds
the database's write lock (transaction.py); on PostgreSQL the material row is locked first
(SELECT ... FOR UPDATE), so two people issuing the last pieces of a lot are served one after the
other and the second sees what the first left.

Valuation is the moving average per material (docs/decisions.md): a receipt adds its value at its
price, anything going out leaves at the average of the moment, in fen. Customer-supplied material
(客供料, Material.customer_id) moves in quantity only and is never valued.
"""
import secrets
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .. import audit
from ..extensions import db
from ..statemachine import N_, TransitionError
from ..wallclock import utcnow
from .models import Location, Lot, Material, Reservation, StockBalance, StockMove

ZERO = Decimal("0")
FEN = Decimal("0.01")
MICRO = Decimal("0.000001")
# Movements that take stock in (their quantity is above zero) and those that take it out.
INWARD = frozenset({"receipt", "return", "produce", "opening"})
OUTWARD = frozenset({"issue", "scrap", "ship"})
# Out of a lot that is in quarantine or blocked, only these may go (a failed lot is scrapped or
# counted; it is never issued or shipped).
HELD_LOT_MAY = frozenset({"scrap", "adjust", "count"})
# The largest quantity one movement may carry: far beyond any real stock, well inside the column.
MOST = Decimal("1000000000")


@dataclass(frozen=True)
class Doc:
    """What a movement belongs to: its type, row id and number as people read it."""

    type: str = ""
    id: int | None = None
    ref: str = ""


def fen(value: Decimal) -> Decimal:
    """value rounded half up to the fen."""
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def lock_material(material_id: int) -> Material:
    """The material row, re-read and (on PostgreSQL) locked for this transaction."""
    return db.session.scalars(db.select(Material).where(Material.id == material_id).with_for_update()
                              .execution_options(populate_existing=True)).one()


def _balance(lot: Lot, location: Location) -> StockBalance:
    """The lot's balance row in location (made at its first movement there), re-read."""
    balance = db.session.scalars(
        db.select(StockBalance).where(StockBalance.lot_id == lot.id, StockBalance.location_id == location.id)
        .with_for_update().execution_options(populate_existing=True)).one_or_none()
    if balance is None:
        balance = StockBalance(material_id=lot.material_id, lot_id=lot.id, location_id=location.id, on_hand=ZERO)
        db.session.add(balance)
    return balance


def post(kind: str, lot: Lot, location: Location, quantity: Decimal, *, unit_cost: Decimal | None = None,
         doc: Doc = Doc(), work_order_id: int | None = None, reason: str = "", user=None) -> StockMove:
    """Post one movement of quantity (always given above zero; adjust and count take a sign) and
    return it. unit_cost is the price per stock unit of a receipt; everything else moves at the
    moving average."""
    if not isinstance(quantity, Decimal) or not quantity.is_finite():
        raise TransitionError(409, N_("Enter a quantity as a number."))
    quantity = quantity.quantize(MICRO, rounding=ROUND_HALF_UP)
    if kind in INWARD | OUTWARD and quantity <= 0:
        raise TransitionError(409, N_("Enter a quantity above zero."))
    if quantity == 0 or abs(quantity) > MOST:
        raise TransitionError(409, N_("This quantity is not possible."))
    signed = -quantity if kind in OUTWARD else quantity
    material = lock_material(lot.material_id)
    db.session.refresh(lot)
    if signed < 0 and lot.status != "available" and kind not in HELD_LOT_MAY:
        raise TransitionError(409, N_("This lot is held (waiting for inspection or blocked) and cannot be used."))
    balance = _balance(lot, location)
    if balance.on_hand + signed < 0:
        raise TransitionError(409, N_("There is not enough of this lot here: %(available)s %(unit)s left."),
                              available=_plain(balance.on_hand), unit=material.stock_unit)
    value, cost = _value(material, signed, unit_cost, kind)
    balance.on_hand += signed
    move = StockMove(kind=kind, material_id=material.id, lot_id=lot.id, location_id=location.id, quantity=signed,
                     unit_cost=cost, value=value, doc_type=doc.type, doc_id=doc.id, doc_ref=doc.ref[:60],
                     work_order_id=work_order_id, reason=reason, user_id=getattr(user, "id", None), at=utcnow())
    db.session.add(move)
    db.session.flush()
    if material.product_id is not None:
        _refresh_product(material)
    return move


def _plain(value: Decimal) -> str:
    """A quantity without trailing zeros, for a message."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _value(material: Material, signed: Decimal, unit_cost: Decimal | None, kind: str) -> tuple[Decimal, Decimal]:
    """The movement's value in fen and its unit cost, and the material's valuation after it. Only a
    receipt's price is the material's last price paid (a return comes back at what it went out at)."""
    if material.customer_id is not None:  # the customer's own material: quantity only
        return ZERO, ZERO
    if signed > 0:
        cost = unit_cost if unit_cost is not None else (material.avg_cost or material.last_cost)
        if cost < 0:
            raise TransitionError(409, N_("A price cannot be below zero."))
        value = fen(signed * cost)
        material.valued_qty += signed
        material.value += value
        if unit_cost is not None and kind == "receipt":
            material.last_cost = unit_cost
    else:
        out = -signed
        if out >= material.valued_qty:  # the last of it leaves with all the value that is left
            value = material.value
        else:
            value = fen(out * material.avg_cost)
        material.valued_qty = max(material.valued_qty - out, ZERO)
        material.value -= value
        cost, value = material.avg_cost, -value
        return value, cost  # the average changes only with what comes in
    if material.valued_qty > 0:
        material.avg_cost = (material.value / material.valued_qty).quantize(MICRO, rounding=ROUND_HALF_UP)
    return value, cost


def _refresh_product(material: Material) -> None:
    """Keep the product's on-hand figure (what lists and the scanner show) equal to its lots that may
    be used, in every location."""
    from ..customers import Product
    product = db.session.get(Product, material.product_id)
    product.on_hand = on_hand(material.id, usable_only=True).quantize(Decimal("0.001"))


def new_lot(material: Material, code: str = "", *, status: str | None = None, supplier_lot: str = "",
            work_order_id: int | None = None) -> Lot:
    """A lot of material: code as typed (the supplier's batch, 炉号) or one made from today's date."""
    code = (code or "").strip()[:60] or next_lot_code(material)
    if status is None:
        status = "quarantine" if material.inspect_on_receipt else "available"
    lot = Lot(material_id=material.id, code=code, token=secrets.token_urlsafe(18), status=status,
              supplier_lot=supplier_lot[:60], work_order_id=work_order_id)
    db.session.add(lot)
    db.session.flush()
    return lot


def next_lot_code(material: Material) -> str:
    """L<yymmdd>-<n>: the next free lot code of today for this material."""
    stem = f"L{utcnow():%y%m%d}-"
    taken = db.session.scalar(db.select(db.func.count()).select_from(Lot).where(
        Lot.material_id == material.id, Lot.code.like(stem + "%")))
    n = taken + 1
    while db.session.scalar(db.select(Lot.id).where(Lot.material_id == material.id, Lot.code == f"{stem}{n:02d}")):
        n += 1
    return f"{stem}{n:02d}"


def find_lot(material: Material, code: str) -> Lot | None:
    """The material's lot with this code, if any."""
    return db.session.scalar(db.select(Lot).where(Lot.material_id == material.id, Lot.code == code.strip()))


def receive(material: Material, quantity: Decimal, location: Location, *, unit_cost: Decimal | None,
            lot_code: str = "", supplier_lot: str = "", doc: Doc = Doc(), user=None, reason: str = "") -> StockMove:
    """Material in from outside (a supplier, or the customer for their own): into the lot of that
    code (a new one, waiting for inspection when the material asks for it). The material is locked
    first: two receipts at once never make the same lot twice."""
    material = lock_material(material.id)
    lot = find_lot(material, lot_code) if lot_code.strip() else None
    if lot is None:
        lot = new_lot(material, lot_code, supplier_lot=supplier_lot)
    elif lot.status == "blocked":
        raise TransitionError(409, N_("This lot is blocked; receive under a new lot code."))
    elif material.inspect_on_receipt and lot.status != "quarantine":
        # New goods are inspected before use: never slipped into a lot that already passed.
        raise TransitionError(409, N_("This lot already passed incoming inspection; receive under a new lot code."))
    move = post("receipt", lot, location, quantity, unit_cost=unit_cost, doc=doc, reason=reason, user=user)
    audit.record("stock.received", material, actor=user, entity_type="material",
                 after={"lot": lot.code, "quantity": str(quantity), "location": location.code, "ref": doc.ref})
    return move


# --- What there is -------------------------------------------------------------------------------

def on_hand(material_id: int, *, usable_only: bool = False) -> Decimal:
    """The material's stock in every lot and location. usable_only: only lots that may be used for
    anything — not held by an inspection, and not finished goods made for an order (those wait for
    that order's shipment)."""
    query = db.select(db.func.coalesce(db.func.sum(StockBalance.on_hand), 0)).where(
        StockBalance.material_id == material_id)
    if usable_only:
        query = query.join(Lot, Lot.id == StockBalance.lot_id).where(Lot.status == "available",
                                                                     Lot.work_order_id.is_(None))
    return _sum(query)


def _sum(query) -> Decimal:
    """A SUM over a Fine column as a Decimal (SQLAlchemy types the sum as its column: already scaled)."""
    return Decimal(db.session.scalar(query) or 0).quantize(MICRO)


def reserved(material_id: int, *, except_work_order: int | None = None) -> Decimal:
    """What released work orders still hold of the material."""
    where = [Reservation.material_id == material_id, Reservation.closed.is_(False),
             Reservation.quantity > Reservation.issued]
    if except_work_order is not None:
        where.append(Reservation.work_order_id != except_work_order)
    # Two sums, each typed as its column (a sum of a difference would come back unscaled).
    held = _sum(db.select(db.func.coalesce(db.func.sum(Reservation.quantity), 0)).where(*where))
    issued = _sum(db.select(db.func.coalesce(db.func.sum(Reservation.issued), 0)).where(*where))
    return held - issued


def available(material_id: int, *, except_work_order: int | None = None) -> Decimal:
    """Usable stock less what is reserved (may be below zero when reservations outrun stock)."""
    return on_hand(material_id, usable_only=True) - reserved(material_id, except_work_order=except_work_order)


def lots_with_stock(material_id: int, *, usable_only: bool = True) -> list[tuple[Lot, StockBalance]]:
    """The material's lots with stock, oldest first (first in, first out), with their balance rows;
    usable_only as in on_hand()."""
    query = (db.select(Lot, StockBalance).join(StockBalance, StockBalance.lot_id == Lot.id)
             .where(Lot.material_id == material_id, StockBalance.on_hand > 0).order_by(Lot.created_at, Lot.id,
                                                                                        StockBalance.id))
    if usable_only:
        query = query.where(Lot.status == "available", Lot.work_order_id.is_(None))
    return [tuple(row) for row in db.session.execute(query)]


def ledger_total(material_id: int) -> Decimal:
    """The sum of the material's movements (what its balance rows must add up to)."""
    return _sum(db.select(db.func.coalesce(db.func.sum(StockMove.quantity), 0)).where(
        StockMove.material_id == material_id))
