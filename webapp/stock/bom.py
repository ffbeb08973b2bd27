"""Bills of materials: the current version of a product's BOM, saving a new version (refusing a
loop), and what a quantity of a product needs of each material, level by level."""
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from .. import audit
from ..extensions import db
from ..statemachine import N_, TransitionError
from .models import BomLine, BomVersion, Material

# Deeper than any real product; a chain this long is treated as a loop.
MAX_LEVELS = 20


def current_bom(product_id: int) -> BomVersion | None:
    """The product's BOM in force (None: the product has no BOM; it is bought or taken from stock)."""
    return db.session.scalar(db.select(BomVersion).where(BomVersion.product_id == product_id,
                                                         BomVersion.current.is_(True)))


def material_of(product) -> Material | None:
    """The stock item of a product (its finished goods or sub-assembly), if it has one."""
    return db.session.scalar(db.select(Material).where(Material.product_id == product.id))


def _children(product_id: int) -> list[int]:
    """The products whose stock the product's current BOM uses (its sub-assemblies)."""
    bom = current_bom(product_id)
    if bom is None:
        return []
    return [line.material.product_id for line in bom.lines if line.material.product_id is not None]


def makes_loop(product_id: int, material_ids: list[int]) -> bool:
    """Whether a BOM for product_id with these materials would contain the product itself, at any level."""
    materials = db.session.scalars(db.select(Material).where(Material.id.in_(material_ids))).all()
    frontier = [m.product_id for m in materials if m.product_id is not None]
    seen: set[int] = set()
    for _level in range(MAX_LEVELS):
        if product_id in frontier:
            return True
        next_frontier = []
        for child in frontier:
            if child not in seen:
                seen.add(child)
                next_frontier.extend(_children(child))
        if not next_frontier:
            return False
        frontier = next_frontier
    return True


@dataclass(frozen=True)
class BomInput:
    """One line as typed: a material, its quantity per unit and its scrap allowance (percent)."""

    material_id: int
    quantity_per: Decimal
    scrap_percent: Decimal = Decimal("0")


def save_bom(product, lines: list[BomInput], user, note: str = "") -> BomVersion:
    """Make lines the product's BOM as a new version (the old one is kept, no longer current).
    Refuses an empty BOM, a material twice, a quantity not above zero and a loop (409)."""
    if not lines:
        raise TransitionError(409, N_("A bill of materials needs at least one line."))
    ids = [line.material_id for line in lines]
    if len(set(ids)) != len(ids):
        raise TransitionError(409, N_("A material is on the bill of materials twice; put it on one line."))
    if any(line.quantity_per <= 0 for line in lines):
        raise TransitionError(409, N_("Each line needs a quantity per unit above zero."))
    if any(not Decimal("0") <= line.scrap_percent < Decimal("100") for line in lines):
        raise TransitionError(409, N_("A scrap allowance is from 0 to under 100 %."))
    if db.session.scalar(db.select(db.func.count()).select_from(Material).where(Material.id.in_(ids))) != len(ids):
        raise TransitionError(409, N_("A material on the bill of materials does not exist."))
    if makes_loop(product.id, ids):
        raise TransitionError(409, N_("This bill of materials uses the product itself (a loop); remove that line."))
    # Two people saving the product's BOM at once: the second waits here for the first (PostgreSQL row
    # lock; SQLite's writers are one at a time already) and then numbers its version after the first's.
    db.session.execute(db.select(type(product).id).where(type(product).id == product.id).with_for_update())
    previous = db.session.scalar(db.select(BomVersion).where(BomVersion.product_id == product.id,
                                                             BomVersion.current.is_(True))
                                 .execution_options(populate_existing=True))
    number = (db.session.scalar(db.select(db.func.max(BomVersion.version)).where(
        BomVersion.product_id == product.id)) or 0) + 1
    if previous is not None:
        previous.current = False
        db.session.flush()
    bom = BomVersion(product_id=product.id, version=number, current=True, note=note,
                     created_by_id=getattr(user, "id", None))
    bom.lines = [BomLine(position=i, material_id=line.material_id, quantity_per=line.quantity_per,
                         scrap_percent=line.scrap_percent) for i, line in enumerate(lines, start=1)]
    db.session.add(bom)
    db.session.flush()
    audit.record("bom.saved", product, actor=user, entity_type="product",
                 after={"version": number, "lines": len(lines)})
    return bom


def needs(bom: BomVersion, quantity: Decimal) -> dict[int, Decimal]:
    """What quantity units of the BOM's product take of each of its materials (one level)."""
    out: dict[int, Decimal] = defaultdict(Decimal)
    for line in bom.lines:
        out[line.material_id] += line.need_for(quantity)
    return dict(out)


def explode(product_id: int, quantity: Decimal, available=None) -> dict[int, Decimal]:
    """What quantity of the product needs of bought materials, through every level: a sub-assembly
    is taken from its stock first (available(material_id) says how much may be used; None: none)
    and only the rest is exploded into its own BOM. A material with no BOM of its own is a leaf."""
    out: dict[int, Decimal] = defaultdict(Decimal)
    left: dict[int, Decimal] = {}

    def walk(pid: int, qty: Decimal, depth: int) -> None:
        bom = current_bom(pid)
        if bom is None or depth > MAX_LEVELS:
            return
        for line in bom.lines:
            need = line.need_for(qty)
            sub = line.material.product_id
            if sub is not None and current_bom(sub) is not None:
                if line.material_id not in left:
                    left[line.material_id] = max(available(line.material_id), Decimal("0")) if available else Decimal("0")
                from_stock = min(left[line.material_id], need)
                left[line.material_id] -= from_stock
                out[line.material_id] += from_stock
                if need > from_stock:
                    walk(sub, need - from_stock, depth + 1)
            else:
                out[line.material_id] += need

    walk(product_id, quantity, 0)
    return {k: v for k, v in out.items() if v > 0}
