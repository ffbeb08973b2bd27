"""Stock going out for a shipment: the one function shipping calls to take a product out of stock.
It posts through the stock ledger (webapp/stock/ledger.py), oldest lots first."""
from decimal import Decimal

from .. import audit
from ..statemachine import N_, TransitionError
from ..stock import ledger, products


def take_from_stock(product, quantity: Decimal, reason: str, ref: str, user=None, doc_id: int | None = None) -> Decimal:
    """Take quantity of product out of stock for reason (e.g. "shipment") and ref (e.g. the shipment
    number); refuse (409) more than is on hand. Return what is left."""
    if quantity <= 0:
        raise TransitionError(409, N_("Take a quantity above zero out of stock."))
    before = product.on_hand
    moves = products.take_product(product, quantity, ledger.Doc(reason, doc_id, ref), user)
    audit.record("stock.taken", product, actor=user, entity_type="product",
                 before={"on_hand": str(before)},
                 after={"on_hand": str(product.on_hand), "quantity": str(quantity), "reason": reason, "ref": ref,
                        "lots": [m.lot.code for m in moves]})
    return product.on_hand
