"""Stock, read only: materials with what is on hand, reserved and available (the ledger's own sums),
and their lots with the balance in each location. Valuation is null without the stock price right."""
from flask_login import current_user
from marshmallow import Schema, fields, post_dump, validate
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...loading import load
from ...permissions import can, require
from ...stock import LOT_STATES, Lot, Material, StockBalance, ledger
from ..core import ListQuery, operation, page_of, sort_field
from ..schemas import DecimalString, Qty, Stamp


class MaterialOut(Schema):
    """A stocked material (物料) with its balances in its stock unit; avg_cost and value (the firm's
    own stock at the moving average) null without the right to see stock values."""

    id = fields.Integer(required=True)
    code = fields.String(required=True)
    name = fields.String()
    stock_unit = fields.String()
    purchase_unit = fields.String()
    purchase_factor = Qty(metadata={"description": "Stock units in one purchase unit."})
    product_id = fields.Integer(allow_none=True, metadata={"description": "Set for a product the firm makes."})
    customer_id = fields.Integer(allow_none=True, metadata={"description": "Set for customer-supplied material (客供料)."})
    active = fields.Boolean()
    on_hand = Qty(metadata={"description": "In every lot and location."})
    reserved = Qty(metadata={"description": "What released work orders still hold."})
    available = Qty(metadata={"description": "Usable stock (not held by inspection, not made for an order) less "
                                             "reserved; may be below zero."})
    avg_cost = DecimalString(allow_none=True, metadata={"description": "Moving average per stock unit."})
    value = DecimalString(allow_none=True, metadata={"description": "The firm's own stock of it, valued."})
    created_at = Stamp()

    @post_dump
    def hide_values(self, data, **_kwargs):
        """Stock values are prices: null for an owner the stock pages do not show them to."""
        if not can(current_user, "stock.prices"):
            data["avg_cost"] = data["value"] = None
        return data


def _with_balances(material: Material) -> dict:
    """The material's fields and its balances as the stock pages count them (stock/ledger.py)."""
    row = {name: getattr(material, name) for name in MaterialOut._declared_fields
           if name not in ("on_hand", "reserved", "available")}
    row.update(on_hand=ledger.on_hand(material.id), reserved=ledger.reserved(material.id),
               available=ledger.available(material.id))
    return row


class MaterialQuery(ListQuery):
    """Filters of the material list."""

    q = fields.String(validate=validate.Length(1, 100), metadata={"description": "Part of the code or name."})
    active = fields.Boolean()
    sort = sort_field(["code", "name", "id"])


@operation("GET", "/stock/materials", tag="Stock", summary="List materials with balances", query=MaterialQuery,
           response=MaterialOut, many=True)
def list_materials(query):
    """Materials with on hand, reserved and available, by code unless sorted otherwise."""
    require("stock.view")
    select = db.select(Material)
    if query.get("q"):
        pattern = "%" + query["q"].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        select = select.where(db.or_(Material.code.ilike(pattern, escape="\\"),
                                     Material.name.ilike(pattern, escape="\\")))
    if query.get("active") is not None:
        select = select.where(Material.active.is_(query["active"]))
    page = page_of(select, Material, {"code": Material.code, "name": Material.name, "id": Material.id}, query)
    page.rows = [_with_balances(material) for material in page.rows]
    return page


@operation("GET", "/stock/materials/<int:material_id>", tag="Stock", summary="Get a material with balances",
           response=MaterialOut)
def get_material(material_id: int):
    """One material with its balances."""
    return _with_balances(load(Material, material_id, "stock.view"))


class BalanceOut(Schema):
    """What a lot has in one location."""

    location_id = fields.Integer(required=True)
    location_code = fields.Function(lambda balance: balance.location.code, metadata={"type": "string"})
    on_hand = Qty()


class LotOut(Schema):
    """A lot (batch, 炉号) of a material: its status, where it came from, what it has where."""

    id = fields.Integer(required=True)
    material_id = fields.Integer(required=True)
    code = fields.String(required=True)
    status = fields.String(metadata={"description": "available, quarantine (waiting for inspection) or blocked."})
    supplier_lot = fields.String()
    work_order_id = fields.Integer(allow_none=True, metadata={"description": "The work order that made it."})
    on_hand = Qty(metadata={"description": "In every location."})
    balances = fields.Method("balances_of", metadata={"type": "array", "items": {"type": "object"}})
    created_at = Stamp()

    def balances_of(self, lot):
        """Its balance in each location that holds some."""
        return BalanceOut(many=True).dump([b for b in lot.balances if b.on_hand > 0])


class LotQuery(ListQuery):
    """Filters of the lot list."""

    material_id = fields.Integer(validate=validate.Range(1, 2**31 - 1))
    status = fields.List(fields.String(validate=validate.OneOf(LOT_STATES)),
                         metadata={"description": "One or more statuses (repeat the parameter)."})
    in_stock = fields.Boolean(metadata={"description": "true: only lots with something on hand."})
    sort = sort_field(["created_at", "code", "id"])


def _lot_options() -> tuple:
    return (selectinload(Lot.balances).joinedload(StockBalance.location),)


@operation("GET", "/stock/lots", tag="Stock", summary="List lots", query=LotQuery, response=LotOut, many=True)
def list_lots(query):
    """Lots with their balances, oldest first (first in, first out) unless sorted otherwise."""
    require("stock.view")
    select = db.select(Lot).options(*_lot_options())
    if query.get("material_id") is not None:
        select = select.where(Lot.material_id == query["material_id"])
    if query.get("status"):
        select = select.where(Lot.status.in_(query["status"]))
    if query.get("in_stock") is not None:
        holding = db.select(StockBalance.lot_id).where(StockBalance.on_hand > 0)
        select = select.where(Lot.id.in_(holding) if query["in_stock"] else Lot.id.not_in(holding))
    return page_of(select, Lot, {"created_at": Lot.created_at, "code": Lot.code, "id": Lot.id}, query)


@operation("GET", "/stock/lots/<int:lot_id>", tag="Stock", summary="Get a lot", response=LotOut)
def get_lot(lot_id: int):
    """One lot with its balance per location."""
    return load(Lot, lot_id, "stock.view", options=_lot_options())
