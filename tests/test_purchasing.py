"""Purchasing on a real database: shortage → request → purchase order → partial receipt → available
→ the rest; requests merged per material and work order; units converted and mismatches refused;
over-receipts, zero, negative and absurd quantities refused with nothing changed; the late-order
mail to purchasers once a day through the real background mode and a real SMTP server."""
import email
import email.policy
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from webapp.auth.models import User
from webapp.customers.models import Customer
from webapp.extensions import db
from webapp.purchasing import services, tasks
from webapp.purchasing.models import PurchaseOrder, PurchaseOrderLine, PurchaseRequest, Supplier
from webapp.statemachine import TransitionError
from webapp.stock import Location, Lot, Material, StockMove, ledger
from webapp.wallclock import frozen


def D(text):
    return Decimal(text)


@pytest.fixture
def stock(app):
    """A steel bought by the tonne (1 t = 1,000 kg) and stocked by the kg, a bolt by the piece, a
    warehouse location and a supplier; their ids."""
    with app.app_context():
        steel = Material(code="STEEL-45", name="Steel bar 45#", stock_unit="kg", purchase_unit="t",
                         purchase_factor=D("1000"))
        bolt = Material(code="BOLT-M8", name="Bolt M8", stock_unit="pcs", purchase_unit="box",
                        purchase_factor=D("250"))
        main = Location(code="A1", name="Main store")
        supplier = Supplier(name="Baosteel Trading", lead_days=10)
        db.session.add_all([steel, bolt, main, supplier])
        db.session.commit()
        return {"steel": steel.id, "bolt": bolt.id, "location": main.id, "supplier": supplier.id}


def get(model, ident):
    return db.session.get(model, ident)


def sent_order(stock, quantity="2", price="5000", material="steel"):
    """A sent purchase order of quantity (purchase units) of the material; its line."""
    order = services.create_purchase_order(get(Supplier, stock["supplier"]), date(2026, 12, 1),
                                           [services.LineInput(get(Material, stock[material]), D(quantity), D(price))])
    services.send(order, None)
    db.session.commit()
    return order.lines[0]


def test_shortage_to_stock_through_a_purchase_order(app, stock):
    """A shortage of 1,500 kg → one request → a PO of 1.5 t → 1 t received (available 1,000 kg,
    partial) → 0.5 t more completes it; the cost per kg is the price per tonne / 1,000."""
    with app.app_context():
        steel = get(Material, stock["steel"])
        request = services.request_shortage(steel, D("1500"), needed_by=date(2026, 12, 5))
        assert request.status == "open" and request.quantity == D("1500")
        order = services.create_purchase_order(get(Supplier, stock["supplier"]), date(2026, 12, 1), [], None,
                                               requests=[request], prices={steel.id: D("4800")})
        line = order.lines[0]
        assert order.number.startswith("PO-") and line.quantity == D("1.5") and line.unit_price == D("4800")
        assert request.status == "ordered" and request.purchase_order_line_id == line.id
        assert services.incoming(steel.id) == 0  # a draft is not coming yet
        services.send(order, None)
        assert services.incoming(steel.id) == D("1500")
        move = services.receive(line, D("1"), "t", get(Location, stock["location"]), "H2611-01", "炉号 8812", None)
        db.session.commit()
        assert move.quantity == D("1000") and move.unit_cost == D("4.8") and move.value == D("4800.00")
        assert move.lot.code == "H2611-01" and move.lot.supplier_lot == "炉号 8812"
        assert ledger.available(steel.id) == D("1000")
        assert order.status == "partial" and line.received == D("1")
        assert services.incoming(steel.id) == D("500")
        services.receive(line, D("500"), "kg", get(Location, stock["location"]), "H2611-02", "", None)
        db.session.commit()
        assert order.status == "received" and line.received == D("1.5") and line.outstanding == 0
        assert ledger.available(steel.id) == D("1500") and services.incoming(steel.id) == 0


def test_requests_merge_per_material_and_work_order(app, stock):
    """A second shortage of the same material (no work order) raises the open request; a smaller one
    leaves it; zero and negative ask for nothing."""
    with app.app_context():
        steel = get(Material, stock["steel"])
        first = services.request_shortage(steel, D("100"), needed_by=date(2026, 12, 9))
        again = services.request_shortage(steel, D("250"), needed_by=date(2026, 12, 3))
        smaller = services.request_shortage(steel, D("50"))
        assert first.id == again.id == smaller.id
        assert first.quantity == D("250") and first.needed_by == date(2026, 12, 3)
        assert services.request_shortage(steel, D("0")) is None
        assert services.request_shortage(steel, D("-5")) is None
        assert db.session.scalar(db.select(db.func.count()).select_from(PurchaseRequest)) == 1
        rows = services.what_to_buy()
        assert [(r.material.code, r.need, r.shortage) for r in rows] == [("STEEL-45", D("250"), D("250"))]


def test_request_quantities_round_up_to_purchase_units(app, stock):
    """1,001 pieces at 250 a box are 4.004 boxes; 1 piece more than 4 boxes is never ordered as 4."""
    with app.app_context():
        bolt = get(Material, stock["bolt"])
        request = services.request_shortage(bolt, D("1000.1"))
        order = services.create_purchase_order(get(Supplier, stock["supplier"]), None, [], None, requests=[request])
        assert order.lines[0].quantity == D("4.001")  # 1000.1 / 250 = 4.0004 → up to 4.001


def test_two_receipts_on_a_partly_received_line_in_stock_units(app, stock):
    """"2,000" kg typed as purchase unit t is refused as too much; in kg it converts to 2 t."""
    with app.app_context():
        line = sent_order(stock, quantity="2")
        with pytest.raises(TransitionError) as refused:
            services.receive(line, D("2000"), "t", get(Location, stock["location"]), user=None)
        assert refused.value.status == 409 and refused.value.params["open"] == "2"
        db.session.rollback()
        services.receive(get(PurchaseOrderLine, line.id), D("2000"), "kg", get(Location, stock["location"]))
        db.session.commit()
        assert get(PurchaseOrderLine, line.id).received == D("2")
        assert ledger.on_hand(stock["steel"]) == D("2000")


@pytest.mark.parametrize("quantity", ["0", "-1", "1000000001", "NaN"])
def test_impossible_quantities_are_refused(app, stock, quantity):
    """Zero, negative, absurd or not a number: 409, nothing received."""
    with app.app_context():
        line = sent_order(stock)
        with pytest.raises(TransitionError) as refused:
            services.receive(line, D(quantity), "t", get(Location, stock["location"]))
        assert refused.value.status == 409
        db.session.rollback()
        assert db.session.scalar(db.select(db.func.count()).select_from(StockMove)) == 0
        assert get(PurchaseOrderLine, line.id).received == 0


def test_unit_mismatch_names_both_units(app, stock):
    """Steel received in "box": refused, the message names t and kg."""
    with app.app_context():
        line = sent_order(stock)
        with pytest.raises(TransitionError) as refused:
            services.receive(line, D("1"), "box", get(Location, stock["location"]))
        assert refused.value.params == {"material": "STEEL-45", "purchase_unit": "t", "stock_unit": "kg"}


@pytest.mark.parametrize("state", ["draft", "cancelled", "received"])
def test_receipt_needs_a_sent_order(app, stock, state):
    """Drafts, cancelled and finished purchase orders take no goods."""
    with app.app_context():
        order = services.create_purchase_order(get(Supplier, stock["supplier"]), None,
                                               [services.LineInput(get(Material, stock["steel"]), D("1"), D("1"))])
        order.status = state
        db.session.commit()
        with pytest.raises(TransitionError):
            services.receive(order.lines[0], D("1"), "t", get(Location, stock["location"]))


def test_cancel_reopens_requests_and_refuses_after_a_receipt(app, stock):
    """A cancelled PO's requests are open again; one with goods received cannot be cancelled."""
    with app.app_context():
        steel = get(Material, stock["steel"])
        request = services.request_shortage(steel, D("10"))
        order = services.create_purchase_order(get(Supplier, stock["supplier"]), None, [], None, requests=[request])
        services.cancel(order, None)
        assert order.status == "cancelled" and request.status == "open" and request.purchase_order_line_id is None
        line = sent_order(stock)
        services.receive(line, D("1"), "t", get(Location, stock["location"]))
        with pytest.raises(TransitionError):
            services.cancel(line.purchase_order, None)


def test_an_ordered_request_is_not_ordered_twice(app, stock):
    """A request turned into a purchase order cannot go into another one."""
    with app.app_context():
        request = services.request_shortage(get(Material, stock["steel"]), D("10"))
        supplier = get(Supplier, stock["supplier"])
        services.create_purchase_order(supplier, None, [], None, requests=[request])
        with pytest.raises(TransitionError):
            services.create_purchase_order(supplier, None, [], None, requests=[request])


def test_numbers_count_up_per_year(app, stock):
    """PO-2026-0001, PO-2026-0002, then PO-2027-0001 in the new year."""
    with app.app_context():
        line = services.LineInput(get(Material, stock["steel"]), D("1"), D("1"))
        supplier = get(Supplier, stock["supplier"])
        with frozen(datetime(2026, 6, 1, 4, tzinfo=timezone.utc)):
            first = services.create_purchase_order(supplier, None, [line]).number
            second = services.create_purchase_order(supplier, None, [line]).number
        with frozen(datetime(2027, 1, 5, 4, tzinfo=timezone.utc)):
            third = services.create_purchase_order(supplier, None, [line]).number
        assert (first, second, third) == ("PO-2026-0001", "PO-2026-0002", "PO-2027-0001")


def test_customer_supplied_material_is_received_without_an_order_and_unvalued(app, stock, make_customer):
    """客供料: in stock, value 0; a purchase order for it is refused."""
    customer_id = make_customer("CSM")
    with app.app_context():
        own = Material(code="CSM-PLATE", name="Customer plate", stock_unit="pcs", purchase_unit="pcs",
                       customer_id=customer_id)
        db.session.add(own)
        db.session.flush()
        move = services.receive_customer_material(own, D("40"), get(Location, stock["location"]), "CS-1")
        assert move.value == 0 and ledger.on_hand(own.id) == D("40")
        assert services.request_shortage(own, D("5")) is None
        with pytest.raises(TransitionError):
            services.create_purchase_order(get(Supplier, stock["supplier"]), None, [services.LineInput(own, D("1"))])
        with pytest.raises(TransitionError):
            services.receive_customer_material(get(Material, stock["steel"]), D("1"), get(Location, stock["location"]))


def test_open_supply_and_late_orders(app, stock):
    """A sent order past its expected date is late and shows in open supply with what it still brings."""
    with app.app_context():
        line = sent_order(stock, quantity="3")
        services.receive(line, D("1"), "t", get(Location, stock["location"]))
        rows = services.open_supply(stock["steel"], date(2026, 12, 2))
        assert [(r.purchase_order.number, r.outstanding, r.late) for r in rows] == [
            (line.purchase_order.number, D("2000"), True)]
        assert services.late_purchase_orders(date(2026, 12, 1)) == []
        assert services.late_purchase_orders(date(2026, 12, 2)) == [line.purchase_order]


def test_late_orders_are_told_to_purchasers_once_a_day(app, stock, smtp, make_user):
    """Through the real daily task (immediate mode) and a real SMTP server: the purchaser gets one mail
    naming the late order; run again the same day, nothing; the next day, a reminder. Other roles and
    inactive purchasers get nothing."""
    app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    make_user("purchasing", username="buyer")
    make_user("purchasing", username="gone", active=False)
    make_user("warehouse", username="wh")
    with app.app_context():
        number = sent_order(stock).purchase_order.number  # expected 2026-12-01
        daily = app.extensions["huey_tasks"]["webapp.purchasing.tasks.tell_late_daily"]
        with frozen(datetime(2026, 12, 1, 1, tzinfo=timezone.utc)):
            daily()
        assert smtp.messages == []  # not late on its expected day
        with frozen(datetime(2026, 12, 3, 1, tzinfo=timezone.utc)):
            daily()
            daily()
        assert [m.rcpt_tos for m in smtp.messages] == [["buyer@example.com"]]
        mail = email.message_from_bytes(smtp.messages[0].content, policy=email.policy.default)
        assert "逾期" in mail["Subject"] and number in mail.get_body().get_content()
        db.session.rollback()  # end this session's snapshot: the task committed in its own
        assert db.session.scalar(db.select(PurchaseOrder.late_told_on)) == date(2026, 12, 3)
        with frozen(datetime(2026, 12, 4, 1, tzinfo=timezone.utc)):
            daily()
        assert len(smtp.messages) == 2


def test_purchasers_are_the_active_purchasing_role(app, make_user):
    """Who the late mail goes to."""
    make_user("purchasing", username="a")
    make_user("purchasing", "manager", username="b")
    make_user("sales", username="c")
    with app.app_context():
        assert [u.username for u in tasks.purchasers()] == ["a", "b"]
        assert all(isinstance(u, User) for u in tasks.purchasers())
        assert db.session.scalar(db.select(db.func.count()).select_from(Customer)) == 0
        assert db.session.scalar(db.select(db.func.count()).select_from(Lot)) == 0


def test_a_receipt_tells_production_through_the_signal(app, stock):
    """stock_received is sent with the material after a receipt (production listens for it); a lot of
    a material inspected on receipt waits in quarantine and is not available yet."""
    from webapp import signals
    heard = []

    def listen(material, **_kwargs):
        heard.append((material.code, ledger.on_hand(material.id)))

    signals.stock_received.connect(listen)
    try:
        with app.app_context():
            get(Material, stock["steel"]).inspect_on_receipt = True
            line = sent_order(stock)
            move = services.receive(line, D("1"), "t", get(Location, stock["location"]))
            assert heard == [("STEEL-45", D("1000"))]
            assert move.lot.status == "quarantine" and ledger.available(stock["steel"]) == 0
    finally:
        signals.stock_received.disconnect(listen)
