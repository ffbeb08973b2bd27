"""The warehouse's stock pages: the materials list (filter, customer-supplied, prices only for who
may see them), a material's lots, valuation and movements, creating and editing materials and
locations, and the BOM editor (versions, 0.0042 kg lines, loops and duplicates refused on the form)."""
from decimal import Decimal

import pytest

from webapp.extensions import db
from webapp.stock import BomVersion, Location, Lot, Material, StockMove, ledger
from webapp.stock.ledger import Doc

from .helpers import text_of


@pytest.fixture
def stock(app, make_customer, make_product):
    """Two locations; steel sheet bought by the tonne (two lots, one in each location), a customer's
    own film, and the stock of a product with its own material."""
    customer_id = make_customer("ACME")
    product_id = make_product("BRK-1")
    with app.app_context(), app.test_request_context():
        a = Location(code="A1", name="Main store")
        b = Location(code="B2", name="Floor staging")
        steel = Material(code="ST-304", name="Steel sheet 304", stock_unit="kg", purchase_unit="t",
                         purchase_factor=Decimal("1000"))
        film = Material(code="FILM-C", name="Protective film", stock_unit="m", purchase_unit="roll",
                        purchase_factor=Decimal("250"), customer_id=customer_id)
        bracket = Material(code="BRK-1", name="Bracket", product_id=product_id)
        db.session.add_all([a, b, steel, film, bracket])
        db.session.flush()
        first = ledger.receive(steel, Decimal("120"), a, unit_cost=Decimal("8.5"), lot_code="H2301",
                               supplier_lot="HEAT-77", doc=Doc("purchase_order", 1, "PO-2026-0001"))
        ledger.receive(steel, Decimal("80"), b, unit_cost=Decimal("9.0125"), lot_code="H2302",
                       doc=Doc("purchase_order", 1, "PO-2026-0001"))
        ledger.receive(film, Decimal("500"), a, unit_cost=None, lot_code="F1")
        db.session.commit()
        return {"customer": customer_id, "product": product_id, "a": a.id, "b": b.id, "steel": steel.id,
                "film": film.id, "bracket": bracket.id, "lot": first.lot_id}


def test_list_shows_stock_and_marks_customer_supplied(stock, as_user):
    """On hand and available per material; the customer's film is marked with the customer; the
    filter finds by code or name; the warehouse sees no prices, finance does."""
    warehouse = as_user("warehouse")
    page = text_of(warehouse.get("/stock/"))
    assert "ST-304" in page and "200 kg" in page and "FILM-C" in page
    assert "Customer-supplied · ACME" in page
    assert "Average cost" not in page and "8.6" not in page
    found = text_of(warehouse.get("/stock/?q=film"))
    assert "FILM-C" in found and "ST-304" not in found
    assert "No material matches." in text_of(warehouse.get("/stock/?q=%25%25nothing"))
    finance = text_of(as_user("finance").get("/stock/"))
    assert "Average cost" in finance and "¥8.705/kg" in finance  # (120 × 8.5 + 80 × 9.0125) / 200
    assert as_user("sales").get("/stock/").status_code == 403


def test_prices_for_all_staff_setting_shows_costs_to_the_warehouse(app, stock, as_user):
    """The firm's setting lets the warehouse see average costs too."""
    from webapp.admin.models import get_settings
    with app.app_context():
        get_settings().prices_for_all_staff = True
        db.session.commit()
    assert "Average cost" in text_of(as_user("warehouse").get("/stock/"))


def test_material_page_shows_lots_valuation_and_movements(stock, as_user):
    """Lots with their balance per location and status, the moving-average valuation in fen (for
    price roles), movements newest first with their document."""
    page = text_of(as_user("manager").get(f"/stock/materials/{stock['steel']}"))
    assert "H2301" in page and "H2302" in page and "A1" in page and "B2" in page
    assert "HEAT-77" in page and "PO-2026-0001" in page
    assert "¥1,741.00" in page  # 1020.00 + 721.00
    assert page.index("H2302") < page.rindex("H2301")  # the newer receipt first in the movements
    film = text_of(as_user("manager").get(f"/stock/materials/{stock['film']}"))
    assert "never valued" in film
    assert "Average cost" not in text_of(as_user("warehouse").get(f"/stock/materials/{stock['steel']}"))
    product = text_of(as_user("warehouse").get(f"/stock/materials/{stock['bracket']}"))
    assert f"/stock/bom/{stock['product']}" in product
    assert as_user("warehouse").get("/stock/materials/99999").status_code == 404


def test_create_and_edit_material_with_bad_input(app, stock, as_user):
    """A new material with a 6-decimal factor; a taken code, a factor of zero or text, and a stock
    unit changed after movements are each refused on the form with what was typed kept."""
    warehouse = as_user("warehouse")
    data = {"code": "AL-6061", "name": "Aluminium bar", "stock_unit": "m", "purchase_unit": "bar",
            "purchase_factor": "6.000125", "customer_id": "0", "product_id": "0", "active": "y"}
    response = warehouse.post("/stock/materials/new", data=data)
    assert response.status_code == 303
    with app.app_context():
        made = db.session.scalar(db.select(Material).where(Material.code == "AL-6061"))
        assert made.purchase_factor == Decimal("6.000125") and made.active
    taken = warehouse.post("/stock/materials/new", data={**data, "name": "Again"})
    assert taken.status_code == 422 and "Another material already has this code." in text_of(taken)
    for factor, message in (("0", "Must be above zero."), ("abc", "Enter a number"),
                            ("1.0000001", "Use at most 6 decimals.")):
        bad = warehouse.post("/stock/materials/new", data={**data, "code": "X-1", "purchase_factor": factor})
        assert bad.status_code == 422 and message in text_of(bad) and 'value="X-1"' in text_of(bad)
    unit = warehouse.post(f"/stock/materials/{stock['steel']}/edit",
                          data={**data, "code": "ST-304", "stock_unit": "t"})
    assert unit.status_code == 422 and "the stock unit can no longer change" in text_of(unit)
    owner = warehouse.post(f"/stock/materials/{stock['film']}/edit",
                           data={**data, "code": "FILM-C", "stock_unit": "m"})
    assert owner.status_code == 422 and "can no longer change" in text_of(owner)
    product = warehouse.post("/stock/materials/new", data={**data, "code": "X-2", "product_id": str(stock["product"])})
    assert product.status_code == 422 and "already is this product" in text_of(product)
    with app.app_context():
        assert db.session.get(Material, stock["steel"]).stock_unit == "kg"
        assert db.session.scalar(db.select(db.func.count()).select_from(Material)) == 4
    assert as_user("qc").post("/stock/materials/new", data=data).status_code == 403


def test_locations(app, stock, as_user):
    """The list, a new location, a taken code refused."""
    warehouse = as_user("warehouse")
    assert "Floor staging" in text_of(warehouse.get("/stock/locations"))
    assert warehouse.post("/stock/locations", data={"code": "C3", "name": "Yard"}).status_code == 303
    again = warehouse.post("/stock/locations", data={"code": "C3", "name": "Yard 2"})
    assert again.status_code == 422 and "already has this code" in text_of(again)
    assert as_user("qc").post("/stock/locations", data={"code": "D4", "name": "x"}).status_code == 403


def bom_rows(*rows, note=""):
    """The BOM editor's form data for rows of (material id, quantity, scrap)."""
    data = {"rows": str(len(rows)), "note": note}
    for n, (material_id, quantity, scrap) in enumerate(rows):
        data.update({f"line-{n}-material": str(material_id), f"line-{n}-qty": quantity, f"line-{n}-scrap": scrap})
    return data


def test_bom_editor_saves_versions(app, stock, as_user, make_product):
    """Saving makes a new version with 0.0042 kg lines; the old one is kept in the history with who
    and the note; a blank row is dropped."""
    manager = as_user("production", name="Pat")
    product = stock["product"]
    response = manager.post(f"/stock/bom/{product}", data=bom_rows((stock["steel"], "0.0042", "2.5"),
                                                                    (0, "", ""), note="first"))
    assert response.status_code == 303
    response = manager.post(f"/stock/bom/{product}", data=bom_rows((stock["steel"], "0.005", "0"),
                                                                    (stock["film"], "0.3", ""), note="film added"))
    assert response.status_code == 303
    with app.app_context():
        versions = db.session.scalars(db.select(BomVersion).where(BomVersion.product_id == product)
                                      .order_by(BomVersion.version)).all()
        assert [v.current for v in versions] == [False, True]
        assert versions[0].lines[0].quantity_per == Decimal("0.0042")
        assert versions[0].lines[0].scrap_percent == Decimal("2.5")
        assert len(versions[1].lines) == 2
    page = text_of(manager.get(f"/stock/bom/{product}"))
    assert "Version 2" in page and "film added" in page and "Pat" in page and 'value="0.005"' in page
    old = text_of(manager.get(f"/stock/bom/{product}?version=1"))
    assert "0.0042 kg" in old
    assert "Save as a new version" not in text_of(as_user("qc").get(f"/stock/bom/{product}"))
    more = manager.post(f"/stock/bom/{product}", data={**bom_rows((stock["steel"], "0.007", "")), "more": "1"})
    assert more.status_code == 200 and 'value="0.007"' in text_of(more) and 'name="line-8-qty"' in text_of(more)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(BomVersion)) == 2


def test_bom_editor_refuses_loops_duplicates_and_bad_numbers(app, stock, as_user, make_product):
    """A loop, a duplicate, a zero quantity: the BOM service's 409 message on the form, rows kept;
    text or a negative quantity: 422 on its row; nothing saved."""
    manager = as_user("production")
    product, other = stock["product"], make_product("SUB-1")
    with app.app_context(), app.test_request_context():
        sub = Material(code="SUB-1", name="Sub-assembly", product_id=other)
        db.session.add(sub)
        db.session.commit()
        sub_id = sub.id
    assert manager.post(f"/stock/bom/{other}", data=bom_rows((stock["steel"], "1", ""))).status_code == 303
    assert manager.post(f"/stock/bom/{product}", data=bom_rows((sub_id, "2", ""))).status_code == 303
    loop = manager.post(f"/stock/bom/{other}", data=bom_rows((stock["bracket"], "1", "")))
    assert loop.status_code == 409 and "a loop" in text_of(loop)
    duplicate = manager.post(f"/stock/bom/{product}", data=bom_rows((stock["steel"], "1", ""), (stock["steel"], "2", "")))
    assert duplicate.status_code == 409 and "twice" in text_of(duplicate) and 'value="2"' in text_of(duplicate)
    zero = manager.post(f"/stock/bom/{product}", data=bom_rows((stock["steel"], "0", "")))
    assert zero.status_code == 409 and "above zero" in text_of(zero)
    scrap = manager.post(f"/stock/bom/{product}", data=bom_rows((stock["steel"], "1", "100")))
    assert scrap.status_code == 409 and "scrap allowance" in text_of(scrap)
    for quantity, message in (("abc", "Enter a number"), ("-1", "Must be at least 0"),
                              ("0.0000001", "Use at most 6 decimals.")):
        bad = manager.post(f"/stock/bom/{product}", data=bom_rows((stock["steel"], quantity, "")))
        assert bad.status_code == 422 and message in text_of(bad) and f'value="{quantity}"' in text_of(bad)
    missing = manager.post(f"/stock/bom/{product}", data=bom_rows((0, "3", "")))
    assert missing.status_code == 422 and "Choose the material." in text_of(missing)
    empty = manager.post(f"/stock/bom/{product}", data=bom_rows())
    assert empty.status_code == 409 and "at least one line" in text_of(empty)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(BomVersion)) == 2
    assert as_user("qc").post(f"/stock/bom/{product}", data=bom_rows((stock["steel"], "1", ""))).status_code == 403


def test_bom_row_error_is_translated(app, stock, as_user):
    """A row's message reaches a Chinese reader in Chinese."""
    manager = as_user("production", locale="zh")
    page = manager.post(f"/stock/bom/{stock['product']}", data=bom_rows((0, "3", "")))
    assert page.status_code == 422
    assert "请选择物料。" in text_of(page)


def test_movements_page_by_keyset(app, stock, as_user):
    """Movements page 50 at a time, newest first, continuing after the last shown."""
    with app.app_context(), app.test_request_context():
        steel = db.session.get(Material, stock["steel"])
        lot = db.session.get(Lot, stock["lot"])
        place = db.session.get(Location, stock["a"])
        for n in range(55):
            ledger.post("adjust", lot, place, Decimal("-0.001"), reason=f"r{n}")
        db.session.commit()
        assert db.session.scalar(db.select(db.func.count()).select_from(StockMove).where(
            StockMove.material_id == steel.id)) == 57
    page = text_of(as_user("warehouse").get(f"/stock/materials/{stock['steel']}"))
    assert "r54" in page and "r4<" not in page and "Older movements" in page


@pytest.mark.parametrize("app", [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
], indirect=True)
def test_two_people_save_one_bom_at_once(app, stock, make_user):
    """Both saves land as versions 2 and 3 (one after the other), one of them current — not a 500
    from the second taking the same version number."""
    make_user("production", username="bom-a")
    make_user("production", username="bom-b")
    product = stock["product"]
    path = f"/stock/bom/{product}"
    from .helpers import at_once
    at_once(app, "bom-a", [(path, bom_rows((stock["steel"], "0.004", "")))])
    statuses = at_once(app, ["bom-a", "bom-b"], [(path, bom_rows((stock["steel"], "0.005", ""), note="a")),
                                                 (path, bom_rows((stock["film"], "0.3", ""), note="b"))])
    assert statuses == [303, 303]
    with app.app_context():
        versions = db.session.scalars(db.select(BomVersion).where(BomVersion.product_id == product)
                                      .order_by(BomVersion.version)).all()
        assert [v.version for v in versions] == [1, 2, 3]
        assert [v.current for v in versions] == [False, False, True]
        assert sorted(v.note for v in versions[1:]) == ["a", "b"]
