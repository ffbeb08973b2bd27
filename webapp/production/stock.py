"""Stock going out: the one function that takes a quantity out of a product's on-hand stock.

The stock ledger (stock moves with lots, in the stock and quality issue) re-implements
take_from_stock(); every caller stays as it is.
"""
from decimal import Decimal

from .. import audit
from ..extensions import db
from ..statemachine import N_, TransitionError
from .models import Product


def on_hand(product: Product) -> Decimal:
    """The product's current on-hand stock, re-read (and on PostgreSQL locked) for a write."""
    fresh = db.session.scalars(db.select(Product).where(Product.id == product.id).with_for_update()
                               .execution_options(populate_existing=True)).one()
    return fresh.on_hand


def take_from_stock(product: Product, quantity: Decimal, reason: str, ref: str, user=None) -> Decimal:
    """Take quantity of product out of stock for reason (e.g. "shipment") and ref (e.g. the shipment
    number); refuse (409) more than is on hand. Return what is left."""
    if quantity <= 0:
        raise TransitionError(409, N_("Take a quantity above zero out of stock."))
    available = on_hand(product)
    if quantity > available:
        raise TransitionError(409, N_("There is not enough stock on hand for this quantity."))
    product.on_hand = available - quantity
    audit.record("stock.taken", product, actor=user, entity_type="product",
                 before={"on_hand": str(available)},
                 after={"on_hand": str(product.on_hand), "quantity": str(quantity), "reason": reason, "ref": ref})
    return product.on_hand
