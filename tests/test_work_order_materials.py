"""A work order's materials: reserved by its BOM at release, a shortage asks purchasing, a receipt
reaches "materials purchased" by itself, issued by lot (scanned or typed), returned, costed from the
ledger, and its finished goods traced to the shipment — with bad input refused and two people issuing
the last of a lot at once served one after the other (SQLite and PostgreSQL)."""
from decimal import Decimal

import pytest

from webapp import signals
from webapp.customers.models import Customer, Product
from webapp.extensions import db
from webapp.orders.models import Order, OrderLine
from webapp.production import materials
from webapp.production.models import WorkOrder
from webapp.purchasing.models import PurchaseRequest
from webapp.stock import bom, ledger
from webapp.stock.models import Location, Lot, Material, StockMove

from .helpers import at_once

D = Decimal
BOTH = pytest.mark.parametrize("app", [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
], indirect=True)


def released_with_bom(app, make_order, quantity="100", stock=None, customer_supplied=False):
    """An order for 100 brackets whose BOM takes 0.25 kg of steel (2 % scrap allowance) and 2 pins a
    piece, released to production; stock: {"steel": kg, "pin": pcs} received before the release."""
    order_id = make_order("effective", quantity=quantity)
    with app.app_context():
        order = db.session.get(Order, order_id)
        product = Product(model="BRK-1", name="支架", unit="pcs")
        steel = Material(code="SPCC-2.0", name="冷轧板 2.0", stock_unit="kg", purchase_unit="t",
                         purchase_factor=D("1000"),
                         customer_id=order.customer_id if customer_supplied else None)
        pin = Material(code="PIN-3", name="销 Ø3", stock_unit="pcs", purchase_unit="pcs")
        location = Location(code="A", name="原料仓")
        db.session.add_all([product, steel, pin, location])
        db.session.flush()
        order.lines[0].product_id = product.id
        bom.save_bom(product, [bom.BomInput(steel.id, D("0.25"), D("2")), bom.BomInput(pin.id, D("2"))], None)
        for key, material in (("steel", steel), ("pin", pin)):
            if stock and stock.get(key):
                ledger.receive(material, D(stock[key]), location, unit_cost=D("6.5"), lot_code=f"{key.upper()}-1")
        db.session.commit()
        ids = {"order": order_id, "steel": steel.id, "pin": pin.id, "location": location.id, "product": product.id}
    with app.app_context(), app.test_request_context("/", method="POST"):
        from webapp.auth.models import User
        from webapp.orders import services
        order = db.session.get(Order, order_id)
        operations = db.session.scalar(db.select(User).where(User.username == "operations-maker"))
        if not order.prepayment_satisfied:
            services.override_prepayment(order, "test", operations)
        services.simple_transition(order, "start_production", operations)
        db.session.commit()
        work_order = order.work_orders[0]
        ids.update(work_order=work_order.id, token=work_order.token)
    return ids


def test_release_reserves_the_bom_and_a_shortage_asks_purchasing(app, make_order):
    ids = released_with_bom(app, make_order, stock={"pin": "500"})
    with app.app_context():
        work_order = db.session.get(WorkOrder, ids["work_order"])
        assert work_order.bom_version_id is not None
        rows = {r.material.code: r for r in materials.status(work_order)}
        assert rows["SPCC-2.0"].need == D("25.5")  # 100 × 0.25 kg × 1.02
        assert rows["PIN-3"].need == D("200") and rows["PIN-3"].state == "ready"
        assert rows["SPCC-2.0"].state == "short" and rows["SPCC-2.0"].short == D("25.5")
        request = db.session.scalar(db.select(PurchaseRequest).where(PurchaseRequest.material_id == ids["steel"]))
        assert request.quantity == D("25.5") and request.work_order_id == work_order.id
        assert db.session.scalar(db.select(PurchaseRequest).where(PurchaseRequest.material_id == ids["pin"])) is None
        assert ledger.available(ids["pin"]) == D("300")  # 500 less the 200 held
        assert materials.waiting_for_material(work_order)


def test_a_receipt_that_covers_every_material_reaches_the_milestone_by_itself(app, make_order):
    ids = released_with_bom(app, make_order, stock={"pin": "500"})
    with app.app_context(), app.test_request_context("/", method="POST"):
        steel = db.session.get(Material, ids["steel"])
        ledger.receive(steel, D("20"), db.session.get(Location, ids["location"]), unit_cost=D("7"), lot_code="H1")
        signals.stock_received.send(steel)
        assert db.session.get(WorkOrder, ids["work_order"]).status == "planned"  # 20 of 25.5 kg: still short
        ledger.receive(steel, D("10"), db.session.get(Location, ids["location"]), unit_cost=D("7"), lot_code="H2")
        signals.stock_received.send(steel)
        work_order = db.session.get(WorkOrder, ids["work_order"])
        assert work_order.status == "materials_ready" and work_order.actual_materials is not None


def test_the_milestone_button_is_refused_for_a_work_order_with_a_bom(app, make_order, as_user):
    ids = released_with_bom(app, make_order)
    client = as_user("warehouse")
    response = client.post(f"/w/{ids['token']}/do/materials_ready")
    assert response.status_code == 409
    assert "received" in response.get_data(as_text=True)


def issue(client, token, lot, quantity, direction="issue"):
    return client.post(f"/w/{token}/materials/{direction}", data={"i-lot": lot, "i-quantity": quantity})


def test_issue_by_label_or_code_and_return(app, make_order, as_user):
    ids = released_with_bom(app, make_order, stock={"steel": "2000", "pin": "500"})
    client = as_user("warehouse")
    with app.app_context():
        label = f"https://tracker.example.com/stock/l/{db.session.scalar(db.select(Lot.token).where(Lot.code == 'STEEL-1'))}"
    page = client.get(f"/w/{ids['token']}/materials")
    assert page.status_code == 200 and "SPCC-2.0" in page.get_data(as_text=True)
    assert issue(client, ids["token"], label, "25.5").status_code == 303
    assert issue(client, ids["token"], "PIN-1", "2,00").status_code in (303, 422)
    assert issue(client, ids["token"], "PIN-1", "200").status_code == 303
    assert issue(client, ids["token"], "STEEL-1", "0.5", "return").status_code == 303
    with app.app_context():
        assert ledger.on_hand(ids["steel"]) == D("1975")
        rows = {r.material.code: r for r in materials.status(db.session.get(WorkOrder, ids["work_order"]))}
        assert rows["SPCC-2.0"].issued == D("25") and rows["PIN-3"].state == "issued"
        # 25 kg at 6.5 + 200 pins at 6.5: the work order's material cost, read from the ledger
        assert materials.material_cost(ids["work_order"]) == D("162.50") + D("1300.00")


@pytest.mark.parametrize("lot, quantity, status, words", [
    ("NO-SUCH-LOT", "1", 422, "No lot has this code"),
    ("STEEL-1", "0", 422, None),
    ("STEEL-1", "-3", 422, None),
    ("STEEL-1", "abc", 422, None),
    ("STEEL-1", "2001", 409, "not enough of this lot"),
    ("OTHER-1", "1", 409, "not on the work order"),
    ("", "1", 422, None),
])
def test_bad_issues_are_refused_and_nothing_moves(app, make_order, as_user, lot, quantity, status, words):
    ids = released_with_bom(app, make_order, stock={"steel": "2000", "pin": "500"})
    with app.app_context():
        other = Material(code="OTHER", name="别的", stock_unit="kg", purchase_unit="kg")
        db.session.add(other)
        db.session.flush()
        ledger.receive(other, D("5"), db.session.get(Location, ids["location"]), unit_cost=D("1"), lot_code="OTHER-1")
        db.session.commit()
    client = as_user("warehouse")
    response = issue(client, ids["token"], lot, quantity)
    assert response.status_code == status
    if words:
        assert words in response.get_data(as_text=True)
    assert 'name="i-quantity"' in response.get_data(as_text=True)  # the form again, as typed
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(StockMove).where(
            StockMove.kind == "issue")) == 0


def test_a_held_lot_and_another_customers_material_are_refused(app, make_order, as_user, make_customer):
    ids = released_with_bom(app, make_order, stock={"steel": "100"})
    with app.app_context():
        db.session.scalar(db.select(Lot).where(Lot.code == "STEEL-1")).status = "blocked"
        db.session.commit()
    client = as_user("warehouse")
    response = issue(client, ids["token"], "STEEL-1", "1")
    assert response.status_code == 409 and "held" in response.get_data(as_text=True)
    assert as_user("sales").post(f"/w/{ids['token']}/materials/issue",
                                 data={"i-lot": "STEEL-1", "i-quantity": "1"}).status_code == 403


def test_customer_supplied_material_goes_only_to_that_customers_work_orders(app, make_order, as_user,
                                                                             make_customer):
    ids = released_with_bom(app, make_order, stock={"steel": "100", "pin": "500"}, customer_supplied=True)
    client = as_user("warehouse")
    assert issue(client, ids["token"], "STEEL-1", "25.5").status_code == 303
    other_customer = make_customer("OTH")
    with app.app_context():
        assert db.session.get(Material, ids["steel"]).value == 0
        db.session.get(Material, ids["steel"]).customer_id = other_customer
        db.session.commit()
    response = issue(client, ids["token"], "STEEL-1", "1")
    assert response.status_code == 409 and "another customer" in response.get_data(as_text=True)


def test_passed_work_order_makes_a_lot_that_the_shipment_takes(app, make_order, as_user):
    """Receipt lot → issued to the work order → finished-goods lot → shipment: traced both ways."""
    ids = released_with_bom(app, make_order, stock={"steel": "100", "pin": "500"})
    client = as_user("warehouse")
    assert issue(client, ids["token"], "STEEL-1", "25.5").status_code == 303
    assert issue(client, ids["token"], "PIN-1", "200").status_code == 303
    with app.app_context(), app.test_request_context("/", method="POST"):
        from webapp.auth.models import User
        from webapp.production import services as floor
        from webapp.shipping import services as shipping
        work_order = db.session.get(WorkOrder, ids["work_order"])
        someone = db.session.scalar(db.select(User).where(User.username == "production-maker"))
        qc = db.session.scalar(db.select(User).where(User.username == "qc-maker"))
        floor.report(work_order, someone, D("100"), D("0"), "", [])
        floor.move(work_order, "finish", someone)
        floor.move(work_order, "pass_qc", qc)
        finished = db.session.scalar(db.select(Lot).where(Lot.work_order_id == work_order.id))
        assert finished.code == work_order.number and finished.on_hand == D("100")
        # material cost per piece: (25.5 × 6.5 + 200 × 6.5) / 100
        produced = db.session.scalar(db.select(StockMove).where(StockMove.kind == "produce"))
        assert produced.unit_cost == D("14.6575") and produced.value == D("1465.75")
        order = db.session.get(Order, ids["order"])
        line_id = order.lines[0].id
        # finished goods made for the order are not free stock for anyone else
        assert db.session.get(Product, ids["product"]).on_hand == 0
        shipment = shipping.create_shipment(order, someone, {line_id: D("60")}, {}, "delivery", "SF", "1", None,
                                            D("0"))
        assert shipment.lines[0].batch == work_order.number
        shipped = db.session.scalars(db.select(StockMove).where(StockMove.kind == "ship")).all()
        assert [(m.lot_id, m.quantity, m.doc_ref) for m in shipped] == [(finished.id, D("-60"), shipment.number)]
        # backward: the shipment's lot was made by the work order, which took these receipt lots
        issued_lots = {m.lot.code for m in db.session.scalars(db.select(StockMove).where(
            StockMove.work_order_id == finished.work_order_id, StockMove.kind == "issue"))}
        assert issued_lots == {"STEEL-1", "PIN-1"}


@BOTH
def test_two_people_issue_the_last_of_a_lot_at_once(app, make_order, make_user):
    """10 kg left in the lot, two people each issue 8 kg of it at the same moment: one is served, the
    other is told there is not enough (409); the lot never goes below zero."""
    ids = released_with_bom(app, make_order, quantity="100", stock={"steel": "10", "pin": "500"})
    for n in range(2):
        make_user("warehouse", username=f"wh{n}")
    issue_8 = (f"/w/{ids['token']}/materials/issue", {"i-lot": "STEEL-1", "i-quantity": "8"})
    statuses = at_once(app, ["wh0", "wh1"], [issue_8, issue_8])
    assert sorted(statuses) == [303, 409]
    with app.app_context():
        assert ledger.on_hand(ids["steel"]) == D("2")
        assert ledger.ledger_total(ids["steel"]) == D("2")


def test_a_short_sub_assembly_asks_for_its_own_materials(app, make_order):
    """Housings take 4 pins each; the pin is a product made from 0.0042 kg of steel rod: with no pins
    in stock the request is for the rod the pins need, never for the pins themselves."""
    order_id = make_order("effective", quantity="100")
    with app.app_context():
        order = db.session.get(Order, order_id)
        housing, pin = Product(model="BRK-1", name="外壳", unit="pcs"), Product(model="PIN-8", name="销", unit="pcs")
        rod = Material(code="ROD-8", name="圆钢 Φ8", stock_unit="kg", purchase_unit="kg")
        db.session.add_all([housing, pin, rod])
        db.session.flush()
        from webapp.stock import products
        pin_stock = products.material_for_product(pin)
        bom.save_bom(pin, [bom.BomInput(rod.id, D("0.0042"))], None)
        bom.save_bom(housing, [bom.BomInput(pin_stock.id, D("4"))], None)
        order.lines[0].product_id = housing.id
        db.session.commit()
        rod_id, pin_id = rod.id, pin_stock.id
    with app.app_context(), app.test_request_context("/", method="POST"):
        from webapp.auth.models import User
        from webapp.orders import services
        order = db.session.get(Order, order_id)
        operations = db.session.scalar(db.select(User).where(User.username == "operations-maker"))
        services.simple_transition(order, "start_production", operations)
        db.session.commit()
    with app.app_context():
        requests = {r.material_id: r.quantity for r in db.session.scalars(db.select(PurchaseRequest))}
        assert requests == {rod_id: D("1.68")}  # 100 × 4 pins × 0.0042 kg
        assert pin_id not in requests
