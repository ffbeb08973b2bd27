"""What a review of the stock, purchasing and quality code found, each kept fixed: a return costed
at what it went out at, hostile numbers and ids answered without a 500, a product's shelf stock kept
when a material is linked to it, new goods never slipped into a lot that passed inspection, units
fixed while purchase orders count in them, and a lot code that cannot break out of its label."""
from datetime import date
from decimal import Decimal

import pytest

from webapp.customers.models import Product
from webapp.extensions import db
from webapp.production import materials
from webapp.purchasing import services as purchasing
from webapp.purchasing.models import Supplier
from webapp.statemachine import TransitionError
from webapp.stock import ledger
from webapp.stock.models import Location, Lot, Material

from .helpers import text_of
from .test_work_order_materials import issue, released_with_bom

D = Decimal
# Hostile numbers matter most on PostgreSQL, whose int4 columns refuse a 20-digit id outright.
BOTH = pytest.mark.parametrize("app", [pytest.param("sqlite", id="sqlite"),
                                       pytest.param("postgres", id="postgres", marks=pytest.mark.postgres)],
                               indirect=True)


def test_a_return_comes_back_at_what_it_went_out_at(app, make_order, as_user):
    """25.5 kg issued at ¥6.5, then steel bought at ¥20 (the average rises), then 0.5 kg returned:
    the work order kept 25 kg at ¥6.5, and the stock's value is what it paid, never more."""
    ids = released_with_bom(app, make_order, stock={"steel": "100", "pin": "500"})
    client = as_user("warehouse")
    assert issue(client, ids["token"], "STEEL-1", "25.5").status_code == 303
    with app.app_context():
        steel = db.session.get(Material, ids["steel"])
        ledger.receive(steel, D("100"), db.session.get(Location, ids["location"]), unit_cost=D("20"), lot_code="H9")
        db.session.commit()
    assert issue(client, ids["token"], "STEEL-1", "0.5", "return").status_code == 303
    with app.app_context():
        steel = db.session.get(Material, ids["steel"])
        assert materials.material_cost(ids["work_order"]) == D("162.50")  # 25 × 6.5
        assert steel.value == D("650.00") - D("165.75") + D("2000.00") + D("3.25")
        assert steel.last_cost == D("20")  # a return is not a price paid


@BOTH
@pytest.mark.parametrize("path", ["/purchasing/orders/new?request=²", "/purchasing/orders/new?request=99999999999999999999",
                                  "/stock/bom/{product}?version=²", "/stock/bom/{product}?version=99999999999999"])
def test_hostile_ids_are_no_server_error(app, as_user, make_product, path):
    product_id = make_product("BRK-H")
    response = as_user("purchasing", "warehouse").get(path.format(product=product_id))
    assert response.status_code < 500


def test_an_absurd_quantity_per_unit_is_refused_on_the_bom(app, as_user, make_product):
    product_id = make_product("BRK-H")
    with app.app_context():
        steel = Material(code="ST", name="Steel", stock_unit="kg", purchase_unit="kg")
        db.session.add(steel)
        db.session.commit()
        steel_id = steel.id
    response = as_user("warehouse").post(f"/stock/bom/{product_id}", data={
        "rows": "1", "line-0-material": str(steel_id), "line-0-qty": "1e20", "note": ""})
    assert response.status_code == 422 and "1e20" in text_of(response)


def test_linking_a_material_to_a_product_keeps_its_shelf_stock(app, as_user, make_product):
    product_id = make_product("BRK-L", on_hand="100")
    response = as_user("warehouse").post("/stock/materials/new", data={
        "code": "BRK-L-FG", "name": "Bracket", "stock_unit": "pcs", "purchase_unit": "pcs", "purchase_factor": "1",
        "customer_id": "0", "product_id": str(product_id), "active": "y"})
    assert response.status_code == 303
    with app.app_context():
        material = db.session.scalar(db.select(Material).where(Material.code == "BRK-L-FG"))
        assert ledger.on_hand(material.id) == D("100")
        assert db.session.get(Product, product_id).on_hand == D("100")


def test_new_goods_never_go_into_a_lot_that_passed_inspection(app):
    with app.app_context():
        plate = Material(code="AL", name="Plate", stock_unit="kg", purchase_unit="kg", inspect_on_receipt=True)
        store = Location(code="R", name="Raw")
        db.session.add_all([plate, store])
        db.session.flush()
        first = ledger.receive(plate, D("10"), store, unit_cost=D("1"), lot_code="AL-1")
        first.lot.status = "available"  # passed
        with pytest.raises(TransitionError) as refused:
            ledger.receive(plate, D("5"), store, unit_cost=D("1"), lot_code="AL-1")
        assert "already passed incoming inspection" in refused.value.message
        assert ledger.find_lot(plate, "AL-1").on_hand == D("10")
        db.session.rollback()


def test_the_purchase_unit_stays_while_an_order_counts_in_it(app, as_user):
    with app.app_context():
        steel = Material(code="ST-T", name="Steel", stock_unit="kg", purchase_unit="t", purchase_factor=D("1000"))
        supplier = Supplier(name="Mill")
        db.session.add_all([steel, supplier])
        db.session.flush()
        order = purchasing.create_purchase_order(supplier, date(2026, 12, 1),
                                                 [purchasing.LineInput(steel, D("2"), D("5000"))])
        purchasing.send(order, None)
        db.session.commit()
        steel_id = steel.id
    data = {"code": "ST-T", "name": "Steel", "stock_unit": "kg", "purchase_unit": "kg", "purchase_factor": "1",
            "customer_id": "0", "product_id": "0", "active": "y"}
    response = as_user("warehouse").post(f"/stock/materials/{steel_id}/edit", data=data)
    assert response.status_code == 422 and "Open purchase orders are in t" in text_of(response)
    with app.app_context():
        assert db.session.get(Material, steel_id).purchase_factor == D("1000")


def test_a_quote_in_a_lot_code_stays_inside_the_label(app, as_user):
    with app.app_context():
        steel = Material(code="Q", name="Quoted", stock_unit="kg", purchase_unit="kg")
        store = Location(code="R", name="Raw")
        db.session.add_all([steel, store])
        db.session.flush()
        move = ledger.receive(steel, D("1"), store, unit_cost=D("1"), lot_code='x" onload="alert(1)')
        db.session.commit()
        lot_id = move.lot_id
    label = text_of(as_user("warehouse").get(f"/stock/lots/{lot_id}/label"))
    assert 'onload="alert' not in label and "x&quot; onload=&quot;alert(1)" in label


@BOTH
@pytest.mark.parametrize("path", ["/production/centres/load?weeks=²", "/production/board?centre=²&owner=99999999999999",
                                  "/production/lots/labels-60x40.pdf?lot=²&lot=99999999999999"])
def test_the_floors_pages_take_hostile_numbers_without_a_server_error(app, as_user, path):
    assert as_user("production").get(path).status_code < 500
