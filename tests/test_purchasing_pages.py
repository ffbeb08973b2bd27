"""Purchasing pages on a real database: what to buy → a purchase order from the ticked requests →
sent → received on the receive page ("2,000" kg, either unit) → the order's page shows the new lot;
bad input keeps what was typed and changes nothing; the wrong role gets 403; two receipts of the
same line at once never add up to more than ordered (SQLite and PostgreSQL)."""
from datetime import date
from decimal import Decimal

import pytest

from webapp.audit import AuditEvent
from webapp.extensions import db
from webapp.purchasing import services
from webapp.purchasing.models import PurchaseOrder, PurchaseOrderLine, PurchaseRequest, Supplier
from webapp.stock import Location, Material, StockMove, ledger

from .helpers import at_once

BOTH = pytest.mark.parametrize("app", [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
], indirect=True)


def D(text):
    return Decimal(text)


@pytest.fixture
def stock(app):
    """Steel bought by the tonne, stocked by the kg; a location and a supplier; their ids."""
    with app.app_context():
        steel = Material(code="STEEL-45", name="Steel bar 45#", stock_unit="kg", purchase_unit="t",
                         purchase_factor=D("1000"))
        main = Location(code="A1", name="Main store")
        supplier = Supplier(name="Baosteel Trading", lead_days=10)
        db.session.add_all([steel, main, supplier])
        db.session.commit()
        return {"steel": steel.id, "location": main.id, "supplier": supplier.id}


def sent_line(app, stock, quantity="2"):
    """The line of a sent purchase order of quantity t of steel at ¥5,000 a tonne."""
    with app.app_context():
        order = services.create_purchase_order(
            db.session.get(Supplier, stock["supplier"]), date(2026, 12, 1),
            [services.LineInput(db.session.get(Material, stock["steel"]), D(quantity), D("5000"))])
        services.send(order, None)
        db.session.commit()
        return order.lines[0].id


def receipt(stock, quantity, unit="kg", **extra):
    return {"quantity": quantity, "unit": unit, "lot_code": "", "supplier_lot": "H-8812",
            "location_id": str(stock["location"]), "unit_price": "", **extra}


def counts():
    return (db.session.scalar(db.select(db.func.count()).select_from(StockMove)),
            sum(db.session.scalars(db.select(PurchaseOrderLine.received)), D("0")))


def test_from_what_to_buy_to_stock(app, stock, as_user):
    """A request by hand, shown on what to buy; ordered, sent, received in two parts."""
    buyer = as_user("purchasing")
    response = buyer.post("/purchasing/requests/new", data={"material_id": str(stock["steel"]), "quantity": "1,500",
                                                            "needed_by": "2026-12-20", "note": ""})
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    page = buyer.get("/purchasing/").get_data(as_text=True)
    assert "STEEL-45" in page and "1,500" in page
    with app.app_context():
        request_id = db.session.scalar(db.select(PurchaseRequest.id))
    form = buyer.get(f"/purchasing/orders/new?request={request_id}")
    assert form.status_code == 200 and "1.5 t" in form.get_data(as_text=True)
    response = buyer.post("/purchasing/orders/new", data={"request": str(request_id),
                                                          "supplier_id": str(stock["supplier"]),
                                                          "expected_date": "2026-12-10", "note": "",
                                                          f"price-{stock['steel']}": "4,800"})
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    with app.app_context():
        order = db.session.scalar(db.select(PurchaseOrder))
        order_id, line_id = order.id, order.lines[0].id
        assert order.lines[0].quantity == D("1.5") and order.lines[0].unit_price == D("4800")
    assert buyer.post(f"/purchasing/orders/{order_id}/send").status_code == 303
    warehouse = as_user("warehouse")
    page = warehouse.get(f"/purchasing/lines/{line_id}/receive")
    assert page.status_code == 200 and "1.5" in page.get_data(as_text=True)
    response = warehouse.post(f"/purchasing/lines/{line_id}/receive", data=receipt(stock, "1,000"))
    assert response.status_code == 303
    shown = warehouse.get(response.headers["Location"]).get_data(as_text=True)
    assert "H-8812" in shown and "received" in shown
    with app.app_context():
        assert ledger.available(stock["steel"]) == D("1000")
        assert db.session.get(PurchaseOrder, order_id).status == "partial"
    response = warehouse.post(f"/purchasing/lines/{line_id}/receive", data=receipt(stock, "0.5", "t"))
    assert response.status_code == 303
    with app.app_context():
        assert ledger.available(stock["steel"]) == D("1500")
        assert db.session.get(PurchaseOrder, order_id).status == "received"
        assert db.session.get(PurchaseRequest, request_id).status == "ordered"
        actions = [a for a in db.session.scalars(db.select(AuditEvent.action).order_by(AuditEvent.id))
                   if not a.startswith("auth.")]
    assert actions == ["purchase_request.created", "purchase_order.created", "purchase_order.sent",
                       "stock.received", "purchase_order.received", "stock.received", "purchase_order.received"]


def test_two_thousand_typed_with_a_comma_in_the_purchase_unit_is_refused_then_right_in_kg(app, stock, as_user):
    """"2,000" t against 2 t open: 409 saying what is open, nothing changed, what was typed kept;
    "2,000" kg is 2 t."""
    line_id = sent_line(app, stock)
    warehouse = as_user("warehouse")
    response = warehouse.post(f"/purchasing/lines/{line_id}/receive", data=receipt(stock, "2,000", "t"))
    text = response.get_data(as_text=True)
    assert response.status_code == 409 and "still open" in text and "2 t" in text and 'value="2,000"' in text
    with app.app_context():
        assert counts() == (0, D("0"))
    assert warehouse.post(f"/purchasing/lines/{line_id}/receive",
                          data=receipt(stock, "2,000", "kg")).status_code == 303
    with app.app_context():
        assert counts() == (1, D("2")) and ledger.on_hand(stock["steel"]) == D("2000")


@pytest.mark.parametrize("quantity,message", [
    ("0", "at least"), ("-3", "at least"), ("99999999999", "at most"), ("abc", "number"), ("", "required"),
    ("1234,5", "comma"),
])
def test_bad_quantities_keep_the_form_and_change_nothing(app, stock, as_user, quantity, message):
    """Zero, negative, absurd, text, empty, a decimal comma: 422 with the reason, nothing received."""
    line_id = sent_line(app, stock)
    response = as_user("warehouse").post(f"/purchasing/lines/{line_id}/receive", data=receipt(stock, quantity))
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    with app.app_context():
        assert counts() == (0, D("0"))


def test_a_unit_that_is_neither_is_a_clear_mismatch(app, stock, as_user):
    """"box" for steel: the message names t and kg, in Chinese for a Chinese user."""
    line_id = sent_line(app, stock)
    warehouse = as_user("warehouse", locale="zh")
    response = warehouse.post(f"/purchasing/lines/{line_id}/receive", data=receipt(stock, "1", "box"))
    text = response.get_data(as_text=True)
    assert response.status_code == 409 and "单位不符" in text and "t" in text and "kg" in text
    with app.app_context():
        assert counts() == (0, D("0"))


def test_the_service_says_unit_mismatch_with_409(app, stock):
    """Called directly (the lead's code), a wrong unit is a 409 naming both units."""
    from webapp.statemachine import TransitionError
    line_id = sent_line(app, stock)
    with app.app_context():
        with pytest.raises(TransitionError) as refused:
            services.receive(db.session.get(PurchaseOrderLine, line_id), D("1"), "pcs",
                             db.session.get(Location, stock["location"]))
        assert refused.value.status == 409 and "Unit mismatch" in refused.value.message


@pytest.mark.parametrize("state", ["draft", "cancelled"])
def test_no_receipt_on_a_draft_or_cancelled_order(app, stock, as_user, state):
    """The page says why and the post is refused (409), nothing received."""
    line_id = sent_line(app, stock)
    with app.app_context():
        db.session.get(PurchaseOrderLine, line_id).purchase_order.status = state
        db.session.commit()
    warehouse = as_user("warehouse")
    assert warehouse.get(f"/purchasing/lines/{line_id}/receive").status_code == 409
    assert warehouse.post(f"/purchasing/lines/{line_id}/receive", data=receipt(stock, "1")).status_code == 409
    with app.app_context():
        assert counts() == (0, D("0"))


def test_roles(app, stock, as_user):
    """Sales may not see purchasing; finance sees but may not receive, order or send."""
    line_id = sent_line(app, stock)
    sales = as_user("sales")
    assert sales.get("/purchasing/").status_code == 403
    assert sales.get("/purchasing/orders").status_code == 403
    finance = as_user("finance")
    assert finance.get("/purchasing/").status_code == 200
    assert finance.get(f"/purchasing/lines/{line_id}/receive").status_code == 403
    assert finance.post(f"/purchasing/lines/{line_id}/receive", data=receipt(stock, "1")).status_code == 403
    assert finance.post("/purchasing/requests/new", data={"material_id": str(stock["steel"]),
                                                          "quantity": "1"}).status_code == 403
    with app.app_context():
        order_id = db.session.scalar(db.select(PurchaseOrder.id))
    assert finance.post(f"/purchasing/orders/{order_id}/cancel").status_code == 403
    with app.app_context():
        assert counts() == (0, D("0")) and db.session.get(PurchaseOrder, order_id).status == "sent"


def test_pages_render(app, stock, as_user):
    """Every page answers for a purchaser, with the nav tab, the late filter and the print view."""
    line_id = sent_line(app, stock)
    buyer = as_user("purchasing", "warehouse")
    with app.app_context():
        order_id = db.session.get(PurchaseOrderLine, line_id).purchase_order_id
    for path in ("/purchasing/", "/purchasing/orders", "/purchasing/orders?show=late", "/purchasing/orders?show=all",
                 f"/purchasing/orders/{order_id}", f"/purchasing/orders/{order_id}/print", "/purchasing/suppliers",
                 "/purchasing/suppliers/new", "/purchasing/requests/new", "/purchasing/customer-material",
                 f"/purchasing/suppliers/{stock['supplier']}/edit", "/"):
        response = buyer.get(path)
        assert response.status_code == 200, path
    assert 'href="/purchasing/"' in buyer.get("/").get_data(as_text=True)


def test_supplier_form(app, as_user):
    """A supplier is added; the same name again and a bad e-mail are refused with the form kept."""
    buyer = as_user("purchasing")
    data = {"name": "Shagang", "contact": "Li", "phone": "0512", "email": "li@shagang.example.com", "lead_days": "12"}
    assert buyer.post("/purchasing/suppliers/new", data=data).status_code == 303
    again = buyer.post("/purchasing/suppliers/new", data=data)
    assert again.status_code == 422 and "exists already" in again.get_data(as_text=True)
    bad = buyer.post("/purchasing/suppliers/new", data={**data, "name": "Other", "email": "nope"})
    assert bad.status_code == 422
    with app.app_context():
        assert db.session.scalar(db.select(Supplier.lead_days)) == 12


def test_cancel_and_send(app, stock, as_user):
    """A purchaser sends a draft and cancels a sent order with nothing received; a received one stays."""
    line_id = sent_line(app, stock)
    buyer = as_user("purchasing", "warehouse")
    with app.app_context():
        order_id = db.session.get(PurchaseOrderLine, line_id).purchase_order_id
    assert buyer.post(f"/purchasing/orders/{order_id}/send").status_code == 409  # already sent
    assert buyer.post(f"/purchasing/lines/{line_id}/receive", data=receipt(stock, "1")).status_code == 303
    assert buyer.post(f"/purchasing/orders/{order_id}/cancel", data={"reason": "x"}).status_code == 409
    with app.app_context():
        assert db.session.get(PurchaseOrder, order_id).status == "partial"


def test_customer_supplied_material_form(app, stock, as_user, make_customer):
    """客供料 received without a purchase order, valued at nothing; the page shows the new lot."""
    customer_id = make_customer("CSM")
    with app.app_context():
        own = Material(code="CSM-PLATE", name="Customer plate", stock_unit="pcs", purchase_unit="pcs",
                       customer_id=customer_id)
        db.session.add(own)
        db.session.commit()
        own_id = own.id
    warehouse = as_user("warehouse")
    response = warehouse.post("/purchasing/customer-material", data={
        "material_id": str(own_id), "quantity": "40", "lot_code": "CS-1", "supplier_lot": "",
        "location_id": str(stock["location"])})
    assert response.status_code == 303
    assert "CS-1" in warehouse.get(response.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        move = db.session.scalar(db.select(StockMove))
        assert move.quantity == D("40") and move.value == 0 and move.doc_type == "customer_supply"


def test_my_work(app, stock, as_user):
    """The purchaser sees the open request and the late order; the warehouse the order to receive."""
    from webapp.wallclock import frozen
    from datetime import datetime, timezone
    sent_line(app, stock)  # expected 2026-12-01
    with app.app_context():
        services.request_shortage(db.session.get(Material, stock["steel"]), D("10"))
        db.session.commit()
    buyer, warehouse = as_user("purchasing"), as_user("warehouse")
    with frozen(datetime(2026, 12, 3, 2, tzinfo=timezone.utc)):
        mine = buyer.get("/").get_data(as_text=True)
        theirs = warehouse.get("/").get_data(as_text=True)
    assert "To buy" in mine and "Purchase order late" in mine and "PO-" in mine
    assert "Goods to receive" in theirs and "To buy" not in theirs


@BOTH
def test_two_receipts_of_the_same_line_at_once(app, stock, make_user):
    """2 t ordered; two people receive 1,500 kg each at the same moment: one is received, the other
    refused with what is still open; the line never holds more than was ordered."""
    line_id = sent_line(app, stock)
    make_user("warehouse", username="wh")
    path = f"/purchasing/lines/{line_id}/receive"
    statuses = at_once(app, "wh", [(path, receipt(stock, "1500")), (path, receipt(stock, "1500"))])
    assert sorted(statuses) == [303, 409], statuses
    with app.app_context():
        line = db.session.get(PurchaseOrderLine, line_id)
        assert line.received == D("1.5") and line.purchase_order.status == "partial"
        assert ledger.on_hand(stock["steel"]) == D("1500") == ledger.ledger_total(stock["steel"])


@BOTH
def test_two_receipts_that_together_fit_both_go_in(app, stock, make_user):
    """1 t and 1 t at once against 2 t: both received, the order complete."""
    line_id = sent_line(app, stock)
    make_user("warehouse", username="wh")
    path = f"/purchasing/lines/{line_id}/receive"
    statuses = at_once(app, "wh", [(path, receipt(stock, "1", "t")), (path, receipt(stock, "1000"))])
    assert statuses == [303, 303], statuses
    with app.app_context():
        line = db.session.get(PurchaseOrderLine, line_id)
        assert line.received == D("2") and line.purchase_order.status == "received"
        assert ledger.on_hand(stock["steel"]) == D("2000")


@BOTH
def test_two_purchase_orders_drafted_at_once_get_two_numbers(app, stock, make_user):
    """Two purchasers ordering different requests at the same moment: PO-yyyy-0001 and -0002."""
    with app.app_context():
        steel = db.session.get(Material, stock["steel"])
        first = services.request_shortage(steel, D("100"), work_order_id=None)
        db.session.commit()
        second = PurchaseRequest(material_id=steel.id, quantity=D("200"), status="open")
        db.session.add(second)
        db.session.commit()
        ids = [first.id, second.id]
    make_user("purchasing", username="buyer")
    posts = [("/purchasing/orders/new", {"request": str(i), "supplier_id": str(stock["supplier"]),
                                         "expected_date": "2026-12-10", "note": ""}) for i in ids]
    assert at_once(app, "buyer", posts) == [303, 303]
    with app.app_context():
        numbers = sorted(db.session.scalars(db.select(PurchaseOrder.number)))
        assert len(numbers) == 2 and numbers[0].endswith("-0001") and numbers[1].endswith("-0002")


@BOTH
def test_the_same_request_ordered_twice_at_once_is_ordered_once(app, stock, make_user):
    """Two purchasers ordering the same request at the same moment: one purchase order, one refusal."""
    with app.app_context():
        request_id = services.request_shortage(db.session.get(Material, stock["steel"]), D("100")).id
        db.session.commit()
    make_user("purchasing", username="buyer")
    post = ("/purchasing/orders/new", {"request": str(request_id), "supplier_id": str(stock["supplier"]),
                                       "expected_date": "2026-12-10", "note": ""})
    statuses = at_once(app, "buyer", [post, post])
    assert sorted(statuses) == [303, 303], statuses  # the second is sent back to what to buy with the reason
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(PurchaseOrder)) == 1
        assert db.session.scalar(db.select(db.func.count()).select_from(PurchaseOrderLine)) == 1


@BOTH
def test_two_requests_by_hand_at_once_make_one(app, stock, make_user):
    """The same material asked for twice at the same moment: one open request, at the larger quantity."""
    make_user("purchasing", username="buyer")
    posts = [("/purchasing/requests/new", {"material_id": str(stock["steel"]), "quantity": q, "note": ""})
             for q in ("300", "500")]
    assert at_once(app, "buyer", posts) == [303, 303]
    with app.app_context():
        assert db.session.scalars(db.select(PurchaseRequest.quantity)).all() == [D("500")]
