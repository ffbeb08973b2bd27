"""Retail orders: a sale of stock items entered at the counter or imported from an online shop. It
is an order of kind "retail" that (under the firm's retail_quick setting) is effective when entered,
and ships from stock through the shipping stage: the same packing list, courier link, receipt and
after-sales as any order."""
import secrets
import zlib
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import gettext as _

from .. import audit
from ..customers import Customer, Product
from ..db_types import money
from ..extensions import db
from ..firm import get_settings
from ..i18n import firm_today
from ..orders import Order, OrderLine, submit_order
from ..shipping import services as shipping
from ..statemachine import N_, TransitionError
from .models import RetailOrder

ABBREVIATION_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@dataclass
class Sale:
    """What a retail order needs, however it was entered (the counter form, a CSV row group)."""

    items: list[tuple[Product, Decimal]]
    method: str = "delivery"  # delivery / pickup
    address: str = ""
    store: str = ""
    receiver_name: str = ""
    receiver_phone: str = ""
    channel: str = "counter"
    shop_order_no: str | None = None
    note: str = ""
    prices: dict[int, Decimal] = field(default_factory=dict)  # product id → unit price incl. tax


def lock_retail() -> None:
    """Serialise writers of retail orders (an import and the counter): SQLite's writers are one at a
    time already; PostgreSQL takes a transaction-level advisory lock (released at the commit)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(db.text("SELECT pg_advisory_xact_lock(:key)"), {"key": zlib.crc32(b"retail-orders")})


def walk_in_customer(name: str, phone: str, address: str, user, channel: str = "counter",
                     reuse_if=None) -> Customer:
    """The customer of a walk-in or online sale: the one with this name and phone if there is one
    (and reuse_if(customer), where given, allows it), else a new customer with a generated
    abbreviation (W… at the counter, N… online)."""
    name, phone = name.strip()[:200], phone.strip()[:40]
    existing = db.session.scalars(db.select(Customer).where(Customer.name == name, Customer.contact_phone == phone)
                                  .order_by(Customer.id).limit(1)).first() if phone else None
    if existing is not None and (reuse_if is None or reuse_if(existing)):
        return existing
    prefix = "N" if channel == "online" else "W"
    while True:
        abbreviation = prefix + "".join(secrets.choice(ABBREVIATION_ALPHABET) for _i in range(6))
        if db.session.scalar(db.select(Customer.id).where(Customer.abbreviation == abbreviation)) is None:
            break
    customer = Customer(name=name, abbreviation=abbreviation, contact_name=name, contact_phone=phone,
                        address=address.strip(), prepayment_pct=Decimal("0"), credit_days=0, owner_id=user.id)
    db.session.add(customer)
    db.session.flush()
    audit.record("customer.created", customer, actor=user, after={"name": name, "walk_in": True})
    return customer


def stock_problem(items: list[tuple[Product, Decimal]]) -> str | None:
    """Why these items cannot be sold from stock now (a quantity not above zero, more than on hand),
    in the reader's language, or None."""
    wanted: dict[int, Decimal] = {}
    for product, qty in items:
        if qty is None or qty <= 0:
            return _("Every item needs a quantity above zero.")
        wanted[product.id] = wanted.get(product.id, Decimal("0")) + qty
    for product, _qty in items:
        if wanted[product.id] > product.on_hand:
            from ..templating import quantity
            return _("Only %(available)s %(unit)s of %(model)s in stock.", available=quantity(product.on_hand),
                     unit=product.unit, model=product.model)
    return None


def create_retail_order(customer: Customer, sale: Sale, user) -> Order:
    """Enter a retail sale: a draft order of kind "retail" with a line per item at its list price (or
    the price given), submitted at once under the firm's retail settings (no review, approval or
    countersignature while retail_quick is on: it is effective and numbered now)."""
    if not sale.items:
        raise TransitionError(409, N_("Add at least one item."))
    problem = stock_problem(sale.items)
    if problem:
        raise TransitionError(409, problem)
    if sale.method == "delivery" and not sale.address.strip():
        raise TransitionError(409, N_("Give the delivery address, or choose pickup at a store."))
    if sale.shop_order_no and db.session.scalar(db.select(RetailOrder.id).where(
            RetailOrder.shop_order_no == sale.shop_order_no)) is not None:
        raise TransitionError(409, N_("This shop order is already entered."))
    settings = get_settings()
    order = Order(customer=customer, sales_rep_id=user.id, kind="retail", currency=customer.currency,
                  tax_rate=settings.tax_rate, prepayment_pct=Decimal("0"), credit_days=0,
                  delivery_date=firm_today(), delivery_method=sale.method,
                  delivery_place=sale.address.strip() if sale.method == "delivery" else sale.store.strip(),
                  customer_po=(sale.shop_order_no or "")[:60], notes=sale.note[:4000])
    db.session.add(order)
    factor = 1 + order.tax_rate / 100
    for position, (product, qty) in enumerate(sale.items, start=1):
        incl = sale.prices.get(product.id)
        excl = money(incl / factor) if incl is not None else money(product.list_price)
        incl = money(incl) if incl is not None else money(product.list_price * factor)
        order.lines.append(OrderLine(position=position, product_id=product.id, model=product.model,
                                     description=product.name[:200], quantity=qty, unit=product.unit,
                                     unit_price=excl, unit_price_incl=incl))
    order.total_excl = sum((line.amount for line in order.lines), Decimal("0"))
    order.total = sum((line.amount_incl for line in order.lines), Decimal("0"))
    order.total_tax = order.total - order.total_excl
    db.session.add(RetailOrder(order=order, channel=sale.channel, shop_order_no=sale.shop_order_no,
                               receiver_name=sale.receiver_name[:100] or customer.name[:100],
                               receiver_phone=sale.receiver_phone[:40] or customer.contact_phone,
                               store=sale.store[:100]))
    db.session.flush()
    audit.record("order.created", order, actor=user, after={**order.terms(), "kind": "retail", "channel": sale.channel})
    submit_order(order, user, settings.retail_snapshot())
    return order


def retail_of(order_id: int) -> RetailOrder | None:
    """The retail side of an order, if it is a retail order."""
    return db.session.scalar(db.select(RetailOrder).where(RetailOrder.order_id == order_id))


def ship_from_stock(order: Order, user):
    """Pick everything still to ship of a retail order out of stock into one shipment (delivery to the
    address, or pickup at the store): shipping.create_shipment takes it out of the stock ledger."""
    if order.kind != "retail":
        raise TransitionError(409, N_("Only a retail order ships from here."))
    remaining = {line_id: qty for line_id, qty in shipping.open_quantities(order).items() if qty > 0}
    if not remaining:
        raise TransitionError(409, N_("Everything of this order is in a shipment already."))
    problem = stock_problem([(line.product, remaining[line.id]) for line in order.lines if line.id in remaining])
    if problem:
        raise TransitionError(409, problem)
    return shipping.create_shipment(order, user, remaining, {}, order.delivery_method, "", "", None, Decimal("0"))
