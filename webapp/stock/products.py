"""A product's own stock in the ledger: its material row, finished goods a work order produces, and
goods taken out for a shipment (first in, first out)."""
from decimal import Decimal

from ..extensions import db
from ..statemachine import N_, TransitionError
from . import ledger
from .models import Location, Lot, Material, StockMove

# The location made when a firm has none yet (the first receipt, the first finished goods).
DEFAULT_LOCATION = ("MAIN", "主仓库")


def default_location() -> Location:
    """The first active location (made when there is none)."""
    location = db.session.scalar(db.select(Location).where(Location.active.is_(True)).order_by(Location.id))
    if location is None:
        location = Location(code=DEFAULT_LOCATION[0], name=DEFAULT_LOCATION[1])
        db.session.add(location)
        db.session.flush()
    return location


def material_for_product(product, opening_cost: Decimal = Decimal("0")) -> Material:
    """The product's stock item, made at first use. A product that had an on-hand figure before the
    ledger existed gets it as an opening lot, so nothing on the shelf is lost (docs/decisions.md); it is
    valued at opening_cost a unit (0 unless the caller knows better)."""
    material = db.session.scalar(db.select(Material).where(Material.product_id == product.id))
    if material is not None:
        return material
    # Two requests touching a product for the first time at once: the second waits here (PostgreSQL
    # row lock; SQLite's write lock already serialises them) and then finds the first one's material.
    from ..customers import Product
    db.session.execute(db.select(Product.id).where(Product.id == product.id).with_for_update())
    material = db.session.scalar(db.select(Material).where(Material.product_id == product.id)
                                 .execution_options(populate_existing=True))
    if material is not None:
        return material
    material = Material(code=_free_code(product.model), name=product.name, stock_unit=product.unit,
                        purchase_unit=product.unit, product_id=product.id, is_demo=product.is_demo)
    db.session.add(material)
    db.session.flush()
    open_legacy_stock(material, product, opening_cost)
    return material


def open_legacy_stock(material: Material, product, opening_cost: Decimal = Decimal("0")) -> None:
    """The on-hand figure a product had before the ledger (typed when it was created) becomes an
    OPENING lot of its material, once: a material that already has movements keeps what it has."""
    legacy = product.on_hand or Decimal("0")
    if legacy <= 0 or db.session.scalar(db.select(StockMove.id).where(StockMove.material_id == material.id).limit(1)):
        return
    lot = ledger.new_lot(material, "OPENING", status="available")
    # No reason text: the movement's kind says what it is, in the reader's language.
    ledger.post("opening", lot, default_location(), legacy, unit_cost=opening_cost)


def _free_code(model: str) -> str:
    """The product's model as a material code, made unique if a material already has it."""
    code, n = model[:60], 1
    while db.session.scalar(db.select(Material.id).where(Material.code == code)):
        n += 1
        code = f"{model[:55]}-{n}"
    return code


def take_product(product, quantity: Decimal, doc: ledger.Doc, user=None, lots: list[Lot] | None = None) -> list:
    """Take quantity of product out for a shipment, from the given lots or the oldest usable ones
    first; refuse (409) more than there is. Returns the movements (their lots are the batches)."""
    material = material_for_product(product)
    ledger.lock_material(material.id)
    if lots is not None:  # the finished goods of the order's own work orders
        wanted = {lot.id for lot in lots}
        rows = [row for row in ledger.lots_with_stock(material.id, usable_only=False)
                if row[0].id in wanted and row[0].status == "available"]
    else:
        rows = ledger.lots_with_stock(material.id)
    if sum((balance.on_hand for _lot, balance in rows), Decimal("0")) < quantity:
        raise TransitionError(409, N_("There is not enough stock on hand for this quantity."))
    moves, left = [], quantity
    for lot, balance in rows:
        if left <= 0:
            break
        take = min(left, balance.on_hand)
        moves.append(ledger.post("ship", lot, balance.location, take, doc=doc, user=user))
        left -= take
    return moves


def made_lots(work_order_ids: list[int]) -> list[Lot]:
    """The finished-goods lots the work orders made."""
    if not work_order_ids:
        return []
    return list(db.session.scalars(db.select(Lot).where(Lot.work_order_id.in_(work_order_ids)).order_by(Lot.id)))


def produce(product, quantity: Decimal, work_order_id: int, number: str, unit_cost: Decimal, user=None,
            for_stock: bool = False) -> Lot:
    """Finished goods a work order made (passed QC): a lot named after the work order, valued at what
    its materials cost per piece. An order's goods wait for its shipment (the lot names the work order);
    for_stock (a stocking instruction's) they are free stock at once (the movement still names it)."""
    material = ledger.lock_material(material_for_product(product).id)
    lot = ledger.find_lot(material, number) or ledger.new_lot(material, number, status="available",
                                                              work_order_id=None if for_stock else work_order_id)
    ledger.post("produce", lot, default_location(), quantity, unit_cost=unit_cost,
                doc=ledger.Doc("work_order", work_order_id, number), work_order_id=work_order_id, user=user)
    return lot
