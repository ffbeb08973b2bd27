"""Orders (with lines, versions and state) and retail orders from an online shop."""
import json
from decimal import Decimal

from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy.orm import selectinload

from ... import registry
from ...customers import Customer, Product
from ...extensions import db
from ...loading import load
from ...orders import Order, OrderVersion, lifecycle, scope_orders
from ...permissions import can, require
from ...retail import services as retail
from ...statemachine import N_, TransitionError
from ..core import ListQuery, operation, page_of, sort_field, validation_problem
from ..schemas import Day, DecimalString, Moment, OrderOut, OrderVersionOut, Qty


class OrderQuery(ListQuery):
    """Filters of the order list."""

    status = fields.List(fields.String(validate=validate.OneOf(lifecycle.STATES)),
                         metadata={"description": "One or more states (repeat the parameter)."})
    customer_id = fields.Integer(validate=validate.Range(1, 2**31 - 1))
    kind = fields.String(validate=validate.OneOf(["manufacturing", "retail", "service"]))
    number = fields.String(metadata={"description": "The order number, exactly."})
    customer_po = fields.String()
    updated_since = Moment(metadata={"description": "Only orders changed at or after this moment."})
    delivery_from = Day()
    delivery_to = Day()
    sort = sort_field(["created_at", "updated_at", "delivery_date", "number", "id"])


@operation("GET", "/orders", tag="Orders", summary="List orders", query=OrderQuery, response=OrderOut, many=True)
def list_orders(query):
    """The orders the token's owner may see, newest first unless sorted otherwise."""
    require("order.view")
    select = db.select(Order).options(selectinload(Order.lines)).where(scope_orders(current_user, Order.id))
    if query.get("status"):
        select = select.where(Order.status.in_(query["status"]))
    for name in ("customer_id", "kind", "number", "customer_po"):
        if query.get(name) is not None:
            select = select.where(getattr(Order, name) == query[name])
    if query.get("updated_since"):
        select = select.where(Order.updated_at >= query["updated_since"])
    if query.get("delivery_from"):
        select = select.where(Order.delivery_date >= query["delivery_from"])
    if query.get("delivery_to"):
        select = select.where(Order.delivery_date <= query["delivery_to"])
    query.setdefault("sort", "-created_at")
    return page_of(select, Order, {"created_at": Order.created_at, "updated_at": Order.updated_at,
                                   "delivery_date": Order.delivery_date, "number": Order.number, "id": Order.id},
                   query)


@operation("GET", "/orders/<int:order_id>", tag="Orders", summary="Get an order", response=OrderOut)
def get_order(order_id: int):
    """One order with its lines."""
    return load(Order, order_id, "order.view", options=[selectinload(Order.lines)])


@operation("GET", "/orders/<int:order_id>/versions", tag="Orders", summary="List an order's versions",
           response=OrderVersionOut, many=True)
def list_order_versions(order_id: int):
    """Every frozen version of the order's terms, oldest first."""
    order = load(Order, order_id, "order.view")
    rows = db.session.scalars(db.select(OrderVersion).where(OrderVersion.order_id == order.id)
                              .order_by(OrderVersion.version)).all()
    hide = not can(current_user, "order.prices", order)
    out = []
    for row in rows:
        terms = json.loads(row.terms_json)
        if hide:
            terms = _without_prices(terms)
        out.append({"version": row.version, "sha256": row.sha256, "created_at": row.created_at, "terms": terms})
    return out


_PRICE_KEYS = {"unit_price", "unit_price_incl", "total", "total_excl", "total_tax", "amount", "amount_incl",
               "budget_material", "budget_labour", "budget_overhead", "budget_logistics", "budget_aftersales"}


def _without_prices(value):
    """Frozen terms with every price taken out (for an owner who may not see prices)."""
    if isinstance(value, dict):
        return {k: _without_prices(v) for k, v in value.items() if k not in _PRICE_KEYS}
    if isinstance(value, list):
        return [_without_prices(v) for v in value]
    return value


# Bounds of a retail sale sent by another system: far above a shop's real orders, and low enough that
# no line or total can overflow the money columns (fen in a 64-bit integer).
MAX_QUANTITY, MAX_UNIT_PRICE, MAX_ORDER_TOTAL = 10**6, 10**7, Decimal(10**12)


class RetailItemIn(Schema):
    """One item of a retail sale: a stock product and how many."""

    product_id = fields.Integer(required=True, validate=validate.Range(1, 2**31 - 1))
    quantity = Qty(required=True, validate=validate.Range(min=0, min_inclusive=False, max=MAX_QUANTITY))
    unit_price_incl = DecimalString(max_places=2, validate=validate.Range(min=0, max=MAX_UNIT_PRICE), metadata={
        "description": "Price with tax; the product's list price when left out."})


class NewCustomerIn(Schema):
    """A buyer who is not a customer yet (found again by name and phone)."""

    name = fields.String(required=True, validate=validate.Length(1, 200))
    phone = fields.String(load_default="", validate=validate.Length(0, 40))
    address = fields.String(load_default="", validate=validate.Length(0, 2000))


class RetailOrderIn(Schema):
    """A retail sale from an online shop or the counter: shipped from stock."""

    customer_id = fields.Integer(validate=validate.Range(1, 2**31 - 1),
                                 metadata={"description": "An existing customer; or give `customer`."})
    customer = fields.Nested(NewCustomerIn, metadata={"description": "A new buyer; or give `customer_id`."})
    items = fields.List(fields.Nested(RetailItemIn), required=True, validate=validate.Length(1, 200))
    method = fields.String(load_default="delivery", validate=validate.OneOf(["delivery", "pickup"]))
    address = fields.String(load_default="", validate=validate.Length(0, 2000))
    store = fields.String(load_default="", validate=validate.Length(0, 100))
    receiver_name = fields.String(load_default="", validate=validate.Length(0, 100))
    receiver_phone = fields.String(load_default="", validate=validate.Length(0, 40))
    channel = fields.String(load_default="online", validate=validate.OneOf(["online", "counter"]))
    shop_order_no = fields.String(validate=validate.Length(1, 60),
                                  metadata={"description": "The shop's own order number: entered once only."})
    note = fields.String(load_default="", validate=validate.Length(0, 4000))

    @validates_schema
    def one_customer(self, data, **_kwargs):
        """Exactly one of customer_id and customer."""
        if ("customer_id" in data) == ("customer" in data):
            raise ValidationError(_("Give customer_id for a known customer or customer for a new buyer, not both."),
                                  "customer_id")


@operation("POST", "/retail-orders", tag="Orders", summary="Create a retail order", body=RetailOrderIn,
           response=OrderOut, errors=(409,))
def create_retail_order(body):
    """Enter a sale of stock items (an online shop's order): it becomes an effective order at once
    under the firm's retail settings, and ships from stock. 409 when stock is short or the shop's
    order number was already entered."""
    require("retail.create")
    customer = None
    if "customer_id" in body:
        customer = load(Customer, body["customer_id"], "customer.view")
    items = []
    for item in body["items"]:
        product = db.session.get(Product, item["product_id"])
        if product is None:
            raise TransitionError(422, N_("No such product: %(id)s"), id=item["product_id"])
        items.append((product, item["quantity"]))
    prices = {item["product_id"]: item["unit_price_incl"] for item in body["items"] if "unit_price_incl" in item}
    # With tax at most doubling a list price: a bound, not the total (the service works that out).
    if sum(qty * prices.get(product.id, product.list_price * 2) for product, qty in items) > MAX_ORDER_TOTAL:
        raise TransitionError(422, N_("This order's total is larger than the tracker can record."))
    if body["method"] == "pickup" and not body["store"]:
        raise validation_problem({"store": [_("Name the store the customer picks it up at.")]})
    if body["method"] == "delivery" and not (body["address"] or (customer.address if customer else
                                                                  body["customer"]["address"])):
        raise validation_problem({"address": [_("Give the delivery address, or choose pickup at a store.")]})
    retail.lock_retail()
    if customer is None:
        new = body["customer"]
        # A buyer already known by name and phone is reused only when the owner may see them: a
        # restricted sales rep must not reach another rep's customer (or its address) this way.
        address = body["address"] or new["address"]
        customer = retail.walk_in_customer(new["name"], new["phone"], address, current_user, channel=body["channel"],
                                           reuse_if=lambda found: registry.visible(current_user, found))
    else:
        address = body["address"] or customer.address
    sale = retail.Sale(items=items, method=body["method"], address=address, store=body["store"],
                       receiver_name=body["receiver_name"] or customer.name,
                       receiver_phone=body["receiver_phone"] or customer.contact_phone, channel=body["channel"],
                       shop_order_no=body.get("shop_order_no"), note=body["note"], prices=prices)
    return retail.create_retail_order(customer, sale, current_user)
