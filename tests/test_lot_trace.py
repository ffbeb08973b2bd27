"""A lot's page: balances, movements and trace (forward to work orders, shipments and scrap; backward
from a finished lot through its work order to the purchase orders of the lots issued to it), its
printable label whose QR (read with zbar) opens the lot, and the warehouse's manual movements with
bad input refused and nothing lost."""
import shutil
import subprocess
from decimal import Decimal

import pytest

from webapp.extensions import db
from webapp.production import WorkOrder
from webapp.stock import Location, Lot, Material, StockBalance, StockMove, ledger
from webapp.stock.ledger import Doc

from .helpers import text_of


def balance(app, lot_id, location_id):
    with app.app_context():
        row = db.session.scalar(db.select(StockBalance).where(StockBalance.lot_id == lot_id,
                                                              StockBalance.location_id == location_id))
        return None if row is None else row.on_hand


def moves_count(app):
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(StockMove))


@pytest.fixture
def traced(app, make_order, make_product):
    """Steel received on a purchase order, issued to a work order that made a finished lot of brackets,
    part of which was shipped; a scrap of the steel; a second location."""
    order_id = make_order("in_production", quantity="50")
    with app.app_context(), app.test_request_context():
        work_order = db.session.scalar(db.select(WorkOrder).where(WorkOrder.order_id == order_id))
        a, b = Location(code="A1", name="Main store"), Location(code="B2", name="Staging")
        steel = Material(code="ST-304", name="Steel sheet", stock_unit="kg", purchase_unit="t",
                         purchase_factor=Decimal("1000"))
        bracket = Material(code="BRK-FG", name="Bracket finished", stock_unit="pcs")
        db.session.add_all([a, b, steel, bracket])
        db.session.flush()
        receipt = ledger.receive(steel, Decimal("100"), a, unit_cost=Decimal("8.5"), lot_code="H2301",
                                 supplier_lot="HEAT-77", doc=Doc("purchase_order", 3, "PO-2026-0003"))
        steel_lot = receipt.lot
        ledger.post("issue", steel_lot, a, Decimal("30"), work_order_id=work_order.id,
                    doc=Doc("work_order", work_order.id, work_order.number))
        ledger.post("return", steel_lot, a, Decimal("2"), work_order_id=work_order.id,
                    doc=Doc("work_order", work_order.id, work_order.number))
        ledger.post("scrap", steel_lot, a, Decimal("1.5"), reason="rusty edge")
        finished = ledger.new_lot(bracket, "FG-001", work_order_id=work_order.id)
        ledger.post("produce", finished, a, Decimal("50"), unit_cost=Decimal("3"), work_order_id=work_order.id,
                    doc=Doc("work_order", work_order.id, work_order.number))
        ledger.post("ship", finished, a, Decimal("20"), doc=Doc("shipment", 9, "202611-ORD-001-S1"))
        db.session.commit()
        return {"steel": steel_lot.id, "finished": finished.id, "wo": work_order.number, "a": a.id, "b": b.id,
                "token": steel_lot.token, "material": steel.id}


def test_lot_page_traces_forward_and_backward(traced, as_user):
    """Forward: the steel went to the work order (its number), came back in part, was scrapped; the
    finished lot was shipped. Backward: the finished lot's steel, with its purchase order and heat."""
    warehouse = as_user("warehouse")
    steel = text_of(warehouse.get(f"/stock/lots/{traced['steel']}"))
    assert traced["wo"] in steel and "Issue to work order" in steel and "rusty edge" in steel
    assert "PO-2026-0003" in steel and "HEAT-77" in steel
    assert "70.5 kg" in steel  # 100 − 30 + 2 − 1.5
    finished = text_of(warehouse.get(f"/stock/lots/{traced['finished']}"))
    assert "202611-ORD-001-S1" in finished and "Shipment" in finished
    assert "Material that went into it" in finished
    assert "H2301" in finished and "PO-2026-0003" in finished and "HEAT-77" in finished
    assert "28 kg" in finished  # issued 30, returned 2
    assert "¥255.00" not in steel and ">Value<" not in steel  # 30 kg × ¥8.50: values for price roles only
    assert "¥255.00" in text_of(as_user("finance").get(f"/stock/lots/{traced['steel']}"))
    assert warehouse.get("/stock/lots/99999").status_code == 404
    assert as_user("sales").get(f"/stock/lots/{traced['steel']}").status_code == 403


def test_trace_functions(app, traced):
    """trace.backward and shipment_sources read the ledger by work order and document."""
    from webapp.stock import trace
    with app.app_context():
        finished = db.session.get(Lot, traced["finished"])
        sources = trace.backward(finished)
        assert [(s.lot.code, s.quantity) for s in sources] == [("H2301", Decimal("28"))]
        assert sources[0].receipts[0].doc_ref == "PO-2026-0003"
        shipped = trace.shipment_sources(9)
        assert [(s.lot.code, s.quantity) for s in shipped] == [("FG-001", Decimal("20"))]
        assert shipped[0].inputs[0].lot.code == "H2301"
        assert [m.kind for m in trace.forward(db.session.get(Lot, traced["steel"]))] == ["issue", "return", "scrap"]


@pytest.mark.skipif(not shutil.which("zbarimg"), reason="zbarimg (zbar-tools) is not installed")
def test_label_qr_opens_the_lot(app, traced, as_user, tmp_path):
    """The label's QR decodes to the absolute /stock/l/<token> URL, which opens the lot's page."""
    warehouse = as_user("warehouse")
    response = warehouse.get(f"/stock/lots/{traced['steel']}/label.svg")
    assert response.mimetype == "image/svg+xml"
    svg = text_of(response)
    assert "H2301" in svg and "ST-304" in svg
    path = tmp_path / "label.svg"
    path.write_text(svg)
    decoded = subprocess.run(["zbarimg", "-q", "--raw", "--nodbus", str(path)], capture_output=True,
                             text=True).stdout.strip()
    assert decoded == f"https://tracker.example.com/stock/l/{traced['token']}"
    page = text_of(warehouse.get(f"/stock/l/{traced['token']}"))
    assert "H2301" in page and "Steel sheet" in page
    assert warehouse.get("/stock/l/not-a-token").status_code == 404
    assert "<svg" in text_of(warehouse.get(f"/stock/lots/{traced['steel']}/label"))
    assert app.test_client().get(f"/stock/l/{traced['token']}").status_code in (302, 303)


def test_scrap_with_bad_input(app, traced, as_user):
    """More than there is: the ledger's 409 message on the form, typed kept; zero, negative, text and
    a missing reason: 422; a good scrap: one movement with its reason."""
    warehouse = as_user("warehouse")
    url = f"/stock/lots/{traced['steel']}/scrap"
    before = moves_count(app)
    form = {"s-location_id": str(traced["a"]), "s-quantity": "71", "s-reason": "dropped"}
    too_much = warehouse.post(url, data=form)
    assert too_much.status_code == 409
    assert "There is not enough of this lot here: 70.5 kg left." in text_of(too_much)
    assert 'value="71"' in text_of(too_much) and 'value="dropped"' in text_of(too_much)
    for quantity, message in (("0", "Must be above zero."), ("-3", "Must be at least 0"),
                              ("abc", "Enter a number"), ("1e99", "Must be at most"),
                              ("99999999999", "Must be at most")):
        bad = warehouse.post(url, data={**form, "s-quantity": quantity})
        assert bad.status_code == 422 and message in text_of(bad), quantity
    no_reason = warehouse.post(url, data={**form, "s-quantity": "1", "s-reason": " "})
    assert no_reason.status_code == 422
    elsewhere = warehouse.post(url, data={**form, "s-quantity": "1", "s-location_id": str(traced["b"])})
    assert elsewhere.status_code == 409 and "0 kg left" in text_of(elsewhere)
    nowhere = warehouse.post(url, data={**form, "s-quantity": "1", "s-location_id": "99999"})
    assert nowhere.status_code == 422 and "Choose a location from the list." in text_of(nowhere)
    assert moves_count(app) == before and balance(app, traced["steel"], traced["b"]) is None
    assert warehouse.post(url, data={**form, "s-quantity": "0.5"}).status_code == 303
    assert balance(app, traced["steel"], traced["a"]) == Decimal("70")
    with app.app_context():
        last = db.session.scalar(db.select(StockMove).order_by(StockMove.id.desc()))
        assert (last.kind, last.quantity, last.reason) == ("scrap", Decimal("-0.5"), "dropped")
    assert as_user("qc").post(url, data=form).status_code == 403


def test_adjust_up_and_down(app, traced, as_user):
    """A correction up or down with a reason; zero refused; below zero is the ledger's 409."""
    warehouse = as_user("warehouse")
    url = f"/stock/lots/{traced['steel']}/adjust"
    form = {"a-location_id": str(traced["a"]), "a-reason": "recounted"}
    assert warehouse.post(url, data={**form, "a-quantity": "0"}).status_code == 422
    assert warehouse.post(url, data={**form, "a-quantity": "-100"}).status_code == 409
    assert warehouse.post(url, data={**form, "a-quantity": "-0.5"}).status_code == 303
    assert warehouse.post(url, data={**form, "a-quantity": "+2"}).status_code == 303
    assert balance(app, traced["steel"], traced["a"]) == Decimal("72")


def test_move_to_another_location_keeps_value(app, traced, as_user):
    """A move is two adjustments at the same cost: the material's value does not change; more than
    there is, or the same location, is refused with nothing moved."""
    warehouse = as_user("warehouse")
    url = f"/stock/lots/{traced['steel']}/move"
    with app.app_context():
        value = db.session.get(Material, traced["material"]).value
    form = {"m-location_id": str(traced["a"]), "m-to_location_id": str(traced["b"]), "m-quantity": "100"}
    too_much = warehouse.post(url, data=form)
    assert too_much.status_code == 409 and "70.5 kg left" in text_of(too_much)
    assert balance(app, traced["steel"], traced["b"]) is None
    same = warehouse.post(url, data={**form, "m-to_location_id": str(traced["a"]), "m-quantity": "1"})
    assert same.status_code == 422 and "another location" in text_of(same)
    assert warehouse.post(url, data={**form, "m-quantity": "20.5"}).status_code == 303
    assert balance(app, traced["steel"], traced["a"]) == Decimal("50")
    assert balance(app, traced["steel"], traced["b"]) == Decimal("20.5")
    with app.app_context():
        assert db.session.get(Material, traced["material"]).value == value
        moved = db.session.scalars(db.select(StockMove).order_by(StockMove.id.desc()).limit(2)).all()
        assert {m.reason for m in moved} == {"Moved to B2", "Moved from A1"}


def test_held_lot_may_be_scrapped_and_moved_not_shipped(app, traced, as_user):
    """A lot waiting for inspection or blocked: scrap and moves are allowed (the ledger's rule);
    the page says its status."""
    with app.app_context():
        lot = db.session.get(Lot, traced["steel"])
        lot.status = "blocked"
        db.session.commit()
    warehouse = as_user("warehouse")
    assert "Blocked" in text_of(warehouse.get(f"/stock/lots/{traced['steel']}"))
    response = warehouse.post(f"/stock/lots/{traced['steel']}/scrap",
                              data={"s-location_id": str(traced["a"]), "s-quantity": "1", "s-reason": "failed"})
    assert response.status_code == 303
    with app.app_context(), app.test_request_context():
        lot = db.session.get(Lot, traced["steel"])
        with pytest.raises(Exception) as refused:
            ledger.post("ship", lot, db.session.get(Location, traced["a"]), Decimal("1"))
        assert "held" in str(refused.value.message)


def test_the_apps_scanner_opens_a_lot_label(traced, as_user):
    """The Scan tab reads a lot label's URL and goes to the lot's page."""
    warehouse = as_user("warehouse")
    response = warehouse.post("/scan/resolve", data={"code": f"https://tracker.example.com/stock/l/{traced['token']}"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/stock/l/{traced['token']}")
    assert "H2301" in text_of(warehouse.get(response.headers["Location"]))
