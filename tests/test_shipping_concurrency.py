"""Two warehouse people making shipments at the same moment: stock is taken once (never below zero)
and an order never ships more than passed QC — on SQLite and on PostgreSQL."""
from decimal import Decimal

import pytest

from webapp.extensions import db
from webapp.orders.models import OrderLine
from webapp.production.models import Product
from webapp.shipping.models import ShipmentLine

from .helpers import at_once

BOTH = pytest.mark.parametrize("app", [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
], indirect=True)


def shipment_data(line_id, qty):
    return {f"qty-{line_id}": qty, "method": "delivery", "carrier": "SF", "tracking_no": "1", "cost": "0"}


@BOTH
def test_two_shipments_from_the_same_stock_at_once(app, make_order, make_product, make_user):
    """2,000 on hand, two orders each shipping 1,500 from it at once: one ships, the other is refused,
    1,500 left the stock once."""
    product_id = make_product("BRK-9", on_hand="2000")
    lines = []
    for customer in ("STA", "STB"):
        order_id = make_order("effective", quantity="1500", customer=customer)
        with app.app_context():
            line = db.session.scalar(db.select(OrderLine).where(OrderLine.order_id == order_id))
            line.product_id = product_id
            lines.append((order_id, line.id))
            db.session.commit()
    make_user("warehouse", username="wh")
    statuses = at_once(app, "wh", [(f"/shipping/orders/{o}/new", shipment_data(line, "1500")) for o, line in lines])
    assert sorted(statuses)[0] == 303 and sorted(statuses)[1] in (409, 422), statuses
    with app.app_context():
        assert db.session.get(Product, product_id).on_hand == Decimal("500")
        assert db.session.scalar(db.select(db.func.count()).select_from(ShipmentLine)) == 1


@BOTH
def test_two_shipments_of_qc_passed_goods_at_once(app, make_order, make_user):
    """1,200 passed QC; two shipments of 800 at once: one ships, the other is refused."""
    order_id = make_order("ready_to_ship", quantity="1200")
    with app.app_context():
        line_id = db.session.scalar(db.select(OrderLine.id).where(OrderLine.order_id == order_id))
    make_user("warehouse", username="wh")
    path = f"/shipping/orders/{order_id}/new"
    statuses = at_once(app, "wh", [(path, shipment_data(line_id, "800")), (path, shipment_data(line_id, "800"))])
    assert sorted(statuses)[0] == 303 and sorted(statuses)[1] in (409, 422), statuses
    with app.app_context():
        shipped = db.session.scalars(db.select(ShipmentLine.quantity)).all()
    assert shipped == [Decimal("800")]
