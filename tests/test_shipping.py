"""Stage 4: one order in two shipments; packing lists; the courier's link; the customer's signed
receipt (on their phone, or on the courier's with a stamped note); a return case with its clock."""
import io
import json
from decimal import Decimal
from datetime import timedelta

import pytest

from webapp import links
from webapp import clocks
from webapp.extensions import db
from webapp.orders.models import Order, OrderLine
from webapp.shipping.models import DeliveryReceipt, ReturnCase, Shipment, ShipmentLine

from .helpers import SIGNATURE, get, jpeg_file, text_of


def link_path(app, purpose, object_id) -> str:
    with app.app_context(), app.test_request_context():
        link = links.current(purpose, object_id)
        assert link is not None, purpose
        return "/c/" + link.token


@pytest.fixture
def order_in_production(app, make_order):
    """An order whose work orders passed QC: every line may ship (made to order)."""
    order_id = make_order("ready_to_ship")
    with app.app_context():
        line_id = db.session.scalar(db.select(OrderLine.id).where(OrderLine.order_id == order_id))
    return order_id, line_id


def new_shipment(client, order_id, line_id, qty, **extra):
    data = {f"qty-{line_id}": qty, f"batch-{line_id}": "B-1", "method": "delivery", "carrier": "SF Express",
            "tracking_no": "SF123", "cost": "80", **extra}
    return client.post(f"/shipping/orders/{order_id}/new", data=data)


def packed(app, client, shipment_id):
    with app.app_context():
        line_ids = list(db.session.scalars(db.select(ShipmentLine.id).where(ShipmentLine.shipment_id == shipment_id)))
    for line_id in line_ids:
        assert client.post(f"/shipping/{shipment_id}/lines/{line_id}/check", data={"batch": "B-7"}).status_code == 303
    assert client.post(f"/shipping/{shipment_id}/pack").status_code == 303


def test_two_shipments_courier_and_signed_receipts(app, order_in_production, as_user):
    """60 then 40 pieces; the courier dispatches by link; the customer signs the first with one
    damaged line (a return case with a 24 h clock opens), the second on the courier's phone with a
    stamped note; then the order is delivered."""
    order_id, line_id = order_in_production
    warehouse = as_user("warehouse")
    too_many = new_shipment(warehouse, order_id, line_id, "150")  # more than ordered
    assert too_many.status_code == 422 and "at most 100" in text_of(too_many) and 'value="150"' in text_of(too_many)
    for bad in ("abc", "NaN", "1e30"):
        response = new_shipment(warehouse, order_id, line_id, bad)
        assert response.status_code == 422 and f'value="{bad}"' in text_of(response), bad
    response = new_shipment(warehouse, order_id, line_id, "60")
    assert response.status_code == 303
    with app.app_context():
        first = db.session.scalar(db.select(Shipment).order_by(Shipment.id))
        first_id, first_number = first.id, first.number
    assert first_number.endswith("-S1")
    assert warehouse.post(f"/shipping/{first_id}/pack").status_code == 409  # lines not checked
    packed(app, warehouse, first_id)

    courier = app.test_client()
    courier_link = link_path(app, "courier", first_id)
    page = text_of(courier.get(courier_link))
    assert "BRK-1" in page and "¥" not in page and "buyer@" not in page  # no prices, no contacts
    response = courier.post(courier_link + "/dispatch", data={"d-note": "picked up", "d-photos": [(jpeg_file(), "load.jpg")]},
                            content_type="multipart/form-data")
    assert response.status_code == 303
    assert get(app, Shipment, first_id).status == "dispatched"
    assert get(app, Order, order_id).status == "ready_to_ship"  # 40 still to ship

    # The customer signs for shipment 1: 55 good, the line marked damaged.
    customer = app.test_client()
    receipt_link = link_path(app, "delivery_receipt", first_id)
    with app.app_context():
        sline = db.session.scalar(db.select(ShipmentLine).where(ShipmentLine.shipment_id == first_id))
    base = {f"line-{sline.id}-qty": "55", f"line-{sline.id}-condition": "damaged",
            f"line-{sline.id}-note": "5 bent", "name": "Ann", "relation": "clerk", "consent": "y"}
    missing_signature = customer.post(receipt_link + "/receipt", data=base)
    assert missing_signature.status_code == 422 and "Sign in the box" in text_of(missing_signature)
    assert 'value="55"' in text_of(missing_signature) and 'value="5 bent"' in text_of(missing_signature)
    more = customer.post(receipt_link + "/receipt", data={**base, f"line-{sline.id}-qty": "61", "strokes": SIGNATURE})
    assert more.status_code == 422 and "0 to 60" in text_of(more)  # more than shipped cannot arrive
    response = customer.post(receipt_link + "/receipt", data={**base, "strokes": SIGNATURE,
                                                              "photos": [(jpeg_file(), "bent.jpg")]},
                             content_type="multipart/form-data")
    assert response.status_code == 200 and "within 24 working hours" in text_of(response)
    assert "5 bent" in text_of(response)  # the thanks above the customer's copy of what they signed
    shipment = get(app, Shipment, first_id)
    assert shipment.status == "delivered_with_exception"
    with app.app_context():
        receipt = db.session.scalar(db.select(DeliveryReceipt).where(DeliveryReceipt.shipment_id == first_id))
        assert receipt.signature_svg.startswith("<svg") and receipt.note_sha256
        assert json.loads(receipt.note_json)["lines"][0]["quantity"] == "60.000"
        case = db.session.scalar(db.select(ReturnCase))
        # 24 working hours: at least a day, more when a weekend or holiday lies in between.
        assert case.due_at == clocks.RETURN_START.due(receipt.signed_at) and case.status == "open"
        assert case.due_at - receipt.signed_at >= timedelta(hours=24)
    # the link is single-use: sent again, nothing changes and the copy is shown
    again = customer.post(receipt_link + "/receipt", data={**base, "strokes": SIGNATURE})
    assert again.status_code == 303 and again.headers["Location"] == receipt_link
    # the return case starts
    aftersales = as_user("aftersales")
    assert as_user("finance").post(f"/shipping/returns/{case.id}/start", data={"action": "x"}).status_code == 403
    assert aftersales.post(f"/shipping/returns/{case.id}/start", data={"action": "Exchange 5 pieces"}).status_code == 303
    assert aftersales.post(f"/shipping/returns/{case.id}/start", data={"action": "again"}).status_code == 409
    with app.app_context():
        assert db.session.get(ReturnCase, case.id).status == "started"

    # Shipment 2: the rest; the customer signs on the courier's phone with a stamped note photo.
    response = new_shipment(warehouse, order_id, line_id, "40")
    with app.app_context():
        second_id = db.session.scalar(db.select(Shipment.id).order_by(Shipment.id.desc()))
    packed(app, warehouse, second_id)
    second_courier = link_path(app, "courier", second_id)
    assert courier.post(courier_link + "/receipt", data={}).status_code == 404  # shipment 1's link: done
    courier.post(second_courier + "/dispatch", data={"d-note": ""})
    assert get(app, Order, order_id).status == "shipped"
    with app.app_context():
        sline2 = db.session.scalar(db.select(ShipmentLine).where(ShipmentLine.shipment_id == second_id))
    page = text_of(courier.get(second_courier + "/receipt"))
    assert "Sign for delivery" in page
    response = courier.post(second_courier + "/receipt", data={
        f"line-{sline2.id}-qty": "40", f"line-{sline2.id}-condition": "ok", "name": "Bo", "consent": "y",
        "stamped": [(jpeg_file(), "note.jpg")]}, content_type="multipart/form-data")
    assert response.status_code == 200
    with app.app_context():
        receipt2 = db.session.scalar(db.select(DeliveryReceipt).where(DeliveryReceipt.shipment_id == second_id))
        assert receipt2.taken_on == "courier" and receipt2.stamped_photo_id and receipt2.signature_svg is None
    order = get(app, Order, order_id)
    assert order.status == "delivered"
    page = text_of(warehouse.get(f"/shipping/orders/{order_id}"))
    assert "-S1" in page and "-S2" in page
    assert "SHA-256" in text_of(warehouse.get(f"/shipping/{first_id}/receipt"))


def test_a_link_for_shipment_a_is_useless_for_shipment_b(app, order_in_production, as_user):
    """Tokens are scoped to one shipment and one purpose."""
    order_id, line_id = order_in_production
    warehouse = as_user("warehouse")
    new_shipment(warehouse, order_id, line_id, "10")
    new_shipment(warehouse, order_id, line_id, "10")
    with app.app_context():
        a_id, b_id = db.session.scalars(db.select(Shipment.id).order_by(Shipment.id)).all()
    packed(app, warehouse, a_id)
    packed(app, warehouse, b_id)
    courier = app.test_client()
    link_a = link_path(app, "courier", a_id)
    courier.post(link_a + "/dispatch", data={"d-note": ""})
    assert get(app, Shipment, a_id).status == "dispatched" and get(app, Shipment, b_id).status == "packed"
    # the customer's receipt link of A opens A only; a courier link is not a receipt link for others
    receipt_a = link_path(app, "delivery_receipt", a_id)
    assert "-S1" in text_of(app.test_client().get(receipt_a))
    assert app.test_client().get(receipt_a.replace("/c/", "/c/x")).status_code == 404


def test_courier_problem_and_bad_photos(app, order_in_production, as_user):
    """A problem needs a note; a fake photo is refused and nothing is recorded."""
    order_id, line_id = order_in_production
    warehouse = as_user("warehouse")
    new_shipment(warehouse, order_id, line_id, "10")
    with app.app_context():
        shipment_id = db.session.scalar(db.select(Shipment.id))
    packed(app, warehouse, shipment_id)
    courier = app.test_client()
    link = link_path(app, "courier", shipment_id)
    assert courier.post(link + "/problem", data={"p-note": ""}).status_code == 422
    response = courier.post(link + "/dispatch", data={"d-note": "gate 3", "d-photos": [(io.BytesIO(b"GIF89a..."), "x.jpg")]},
                            content_type="multipart/form-data")
    assert response.status_code == 422 and "not a readable image" in text_of(response)
    assert "gate 3" in text_of(response)  # the note typed is kept
    assert get(app, Shipment, shipment_id).status == "packed"  # refused, nothing dispatched


def test_only_shippers_make_shipments(app, order_in_production, as_user):
    """Sales may look but not ship; a worker may not look."""
    order_id, line_id = order_in_production
    assert new_shipment(as_user("sales"), order_id, line_id, "10").status_code == 403
    assert as_user("sales").get(f"/shipping/orders/{order_id}").status_code == 200
    assert as_user("worker").get(f"/shipping/orders/{order_id}").status_code == 403


@pytest.mark.skipif(not __import__("shutil").which("zbarimg"), reason="zbarimg (zbar-tools) is not installed")
def test_courier_qr_decodes_to_the_courier_link(app, order_in_production, as_user, tmp_path):
    """The courier's code printed by the warehouse decodes (zbar) to the absolute courier URL."""
    import re
    import subprocess
    order_id, line_id = order_in_production
    warehouse = as_user("warehouse")
    new_shipment(warehouse, order_id, line_id, "10")
    with app.app_context():
        shipment_id = db.session.scalar(db.select(Shipment.id))
    page = text_of(warehouse.get(f"/shipping/{shipment_id}"))
    qr_path = re.search(r'src="(/links/\d+/qr\.svg)"', page).group(1)
    svg = tmp_path / "courier.svg"
    svg.write_bytes(warehouse.get(qr_path).data)
    decoded = subprocess.run(["zbarimg", "-q", "--raw", "--nodbus", str(svg)], capture_output=True,
                             text=True).stdout.strip()
    assert decoded == "https://tracker.example.com" + link_path(app, "courier", shipment_id)
    assert as_user("sales").get(qr_path).status_code == 404  # only the warehouse prints it


# --- closing a return case -----------------------------------------------------------------------

def signed_with_damage(app, client, order_id, line_id, quantity="1200", received="1150"):
    """Ship quantity, dispatch it and have the customer sign with part of it damaged; return the
    shipment's and the return case's ids."""
    assert new_shipment(client, order_id, line_id, quantity).status_code == 303
    with app.app_context():
        shipment_id = db.session.scalar(db.select(Shipment.id).order_by(Shipment.id.desc()))
        sline = db.session.scalar(db.select(ShipmentLine).where(ShipmentLine.shipment_id == shipment_id))
    packed(app, client, shipment_id)
    assert client.post(f"/shipping/{shipment_id}/dispatch", data={"note": ""}).status_code == 303
    customer = app.test_client()
    response = customer.post(link_path(app, "delivery_receipt", shipment_id) + "/receipt", data={
        f"line-{sline.id}-qty": received, f"line-{sline.id}-condition": "damaged", f"line-{sline.id}-note": "crushed",
        "name": "Ann", "consent": "y", "strokes": SIGNATURE})
    assert response.status_code == 200
    with app.app_context():
        case_id = db.session.scalar(db.select(ReturnCase.id).where(ReturnCase.shipment_id == shipment_id))
    assert case_id
    return shipment_id, case_id


@pytest.fixture
def big_order(app, make_order):
    """An order of 2,500 pieces whose work passed QC."""
    order_id = make_order("ready_to_ship", quantity="2500")
    with app.app_context():
        line_id = db.session.scalar(db.select(OrderLine.id).where(OrderLine.order_id == order_id))
    return order_id, line_id


def test_a_return_case_closes_with_an_outcome_and_a_note(app, big_order, as_user):
    """The close form on the shipment page: a missing note is 422 with the message and what was
    chosen kept; a role that may not close gets 403; a second close is 409; the outcome and note are
    shown, audited and on the order's timeline."""
    order_id, line_id = big_order
    warehouse = as_user("warehouse")
    shipment_id, case_id = signed_with_damage(app, warehouse, order_id, line_id)
    aftersales = as_user("aftersales")
    page = text_of(aftersales.get(f"/shipping/{shipment_id}"))
    assert f'action="/shipping/returns/{case_id}/close"' in page and 'hx-target="#returns"' in page
    assert "Rejected: no fault found" in page

    missing = aftersales.post(f"/shipping/returns/{case_id}/close",
                              data={f"close-{case_id}-outcome": "credited", f"close-{case_id}-note": "  "})
    assert missing.status_code == 422 and "Say what was done." in text_of(missing)
    assert '<option selected value="credited">' in text_of(missing) or 'value="credited" selected' in text_of(missing)
    assert get(app, ReturnCase, case_id).status == "open"
    # htmx gets the block with the errors, not the page
    fragment = aftersales.post(f"/shipping/returns/{case_id}/close", headers={"HX-Request": "true"},
                               data={f"close-{case_id}-outcome": "credited", f"close-{case_id}-note": ""})
    assert fragment.status_code == 422 and text_of(fragment).lstrip().startswith('<div id="returns">')

    assert warehouse.post(f"/shipping/returns/{case_id}/close", data={
        f"close-{case_id}-outcome": "credited", f"close-{case_id}-note": "x"}).status_code == 403
    assert "Close the return" not in text_of(warehouse.get(f"/shipping/{shipment_id}"))

    note = "Credit note CN-2026-1187 for 50 pieces, ¥1,250.00"
    response = aftersales.post(f"/shipping/returns/{case_id}/close", data={
        f"close-{case_id}-outcome": "credited", f"close-{case_id}-note": note})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/shipping/{shipment_id}")
    case = get(app, ReturnCase, case_id)
    assert (case.status, case.outcome, case.close_note) == ("closed", "credited", note)
    assert case.closed_at is not None and case.closed_by_id is not None
    again = aftersales.post(f"/shipping/returns/{case_id}/close", data={
        f"close-{case_id}-outcome": "replaced", f"close-{case_id}-note": "again"})
    assert again.status_code == 409 and get(app, ReturnCase, case_id).outcome == "credited"

    page = text_of(aftersales.get(f"/shipping/{shipment_id}"))
    assert "Credited" in page and note in page
    timeline = text_of(as_user("sales").get(f"/orders/{order_id}/timeline"))
    assert "Return case closed" in timeline and note in timeline


def test_a_return_case_closes_by_htmx(app, big_order, as_user):
    """An htmx close answers the refreshed block (200), the case closed."""
    order_id, line_id = big_order
    shipment_id, case_id = signed_with_damage(app, as_user("warehouse"), order_id, line_id)
    response = as_user("manager").post(f"/shipping/returns/{case_id}/close", headers={"HX-Request": "true"}, data={
        f"close-{case_id}-outcome": "rejected_no_fault", f"close-{case_id}-note": "Photos show transport damage"})
    assert response.status_code == 200 and "Rejected: no fault found" in text_of(response)
    assert "<html" not in text_of(response)
    assert get(app, ReturnCase, case_id).status == "closed"


# --- what may ship: QC-passed goods of made-to-order lines, stock of the others --------------------

def test_made_to_order_lines_ship_only_what_passed_qc(app, make_order, make_user, as_user):
    """3,000 ordered, split 1,200 + 1,800, only the 1,200 passed QC: nothing ships before QC, 1,000 then
    200 more ship (counted over every shipment of the order), one more piece is refused on the form
    (422, the message and what was typed kept) and by the service (409)."""
    from webapp.production import services as floor
    from webapp.production.models import WorkOrder
    from webapp.shipping import services
    from webapp.statemachine import TransitionError
    order_id = make_order("in_production", quantity="3000")
    with app.app_context():
        line_id = db.session.scalar(db.select(OrderLine.id).where(OrderLine.order_id == order_id))
    warehouse = as_user("warehouse")
    before_qc = new_shipment(warehouse, order_id, line_id, "10")
    assert before_qc.status_code == 422
    assert "Only 0 of this line passed QC and are not yet shipped." in text_of(before_qc)
    assert "Made to order: 0 passed QC, 0 already in shipments." in text_of(before_qc)

    maker, inspector = make_user("production"), make_user("qc")
    with app.app_context(), app.test_request_context("/", method="POST"):
        from webapp.auth.models import User
        first = db.session.scalar(db.select(WorkOrder).where(WorkOrder.order_id == order_id))
        floor.split(first, Decimal("1800"), db.session.get(User, maker))
        first_id = first.id
        db.session.commit()
    _pass_one(app, first_id, maker, inspector)  # QC passes the first work order (1,200) only
    assert new_shipment(warehouse, order_id, line_id, "1000").status_code == 303
    too_many = new_shipment(warehouse, order_id, line_id, "201")
    assert too_many.status_code == 422 and 'value="201"' in text_of(too_many)
    assert "Only 200 of this line passed QC and are not yet shipped." in text_of(too_many)
    with app.app_context(), app.test_request_context("/", method="POST"):
        from webapp.auth.models import User
        order = db.session.get(Order, order_id)
        with pytest.raises(TransitionError) as refused:
            services.create_shipment(order, db.session.get(User, maker), {line_id: Decimal("201")}, {}, "delivery",
                                     "", "", None, Decimal("0"))
        assert refused.value.status == 409
        db.session.rollback()
    assert new_shipment(warehouse, order_id, line_id, "200").status_code == 303
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Shipment)) == 2
        assert not any(db.session.scalars(db.select(ShipmentLine.from_stock)))


def _pass_one(app, work_order_id, maker_id, inspector_id):
    """Make one work order in full, finish it and pass QC."""
    from webapp.auth.models import User
    from webapp.production import services as floor
    from webapp.production.models import WorkOrder
    with app.app_context(), app.test_request_context("/", method="POST"):
        row = db.session.get(WorkOrder, work_order_id)
        maker, inspector = db.session.get(User, maker_id), db.session.get(User, inspector_id)
        floor.report(row, maker, row.remaining, Decimal("0"), "", [])
        floor.move(row, "finish", maker)
        floor.move(row, "pass_qc", inspector)
        db.session.commit()


def test_a_stock_line_ships_from_stock_and_not_beyond_it(app, make_order, make_product, as_user):
    """A line whose product has 4,500 on hand at release gets no work order and ships its 3,000 from
    stock (on hand 1,500 after, audited); an order shipped before release takes from stock too, never
    more than is on hand (422 with the message, stock unchanged)."""
    from webapp.audit import AuditEvent
    from webapp.production.models import Product, WorkOrder
    product_id = make_product("BRK-9", on_hand="4500")
    order_id = make_order("effective", quantity="3000", customer="STK")
    with app.app_context():
        line = db.session.scalar(db.select(OrderLine).where(OrderLine.order_id == order_id))
        line.product_id, line_id = product_id, line.id
        db.session.commit()
    assert as_user("operations").post(f"/orders/{order_id}/do/start_production").status_code in (200, 303)
    assert get(app, Order, order_id).status == "in_production"
    with app.app_context():
        assert db.session.scalar(db.select(WorkOrder.id).where(WorkOrder.order_id == order_id)) is None
    plan = text_of(as_user("production").get(f"/production/orders/{order_id}"))
    assert "taken from stock when shipped" in plan and "4,500 on hand" in plan
    warehouse = as_user("warehouse")
    assert "From stock: 4,500 on hand." in text_of(warehouse.get(f"/shipping/orders/{order_id}"))
    assert new_shipment(warehouse, order_id, line_id, "3000").status_code == 303
    assert get(app, Product, product_id).on_hand == Decimal("1500")
    with app.app_context():
        assert db.session.scalar(db.select(ShipmentLine.from_stock)) is True
        event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "stock.taken"))
        assert event.entity_id == product_id and event.after_data["reason"] == "shipment"

    # An order not released: its line ships from stock, up to what is on hand.
    other_id = make_order("effective", quantity="2500", customer="STL")
    with app.app_context():
        line = db.session.scalar(db.select(OrderLine).where(OrderLine.order_id == other_id))
        line.product_id, other_line = product_id, line.id
        db.session.commit()
    too_many = new_shipment(warehouse, other_id, other_line, "1501")
    assert too_many.status_code == 422 and "Only 1,500 of this line are in stock." in text_of(too_many)
    assert get(app, Product, product_id).on_hand == Decimal("1500")
    assert new_shipment(warehouse, other_id, other_line, "1500").status_code == 303
    assert get(app, Product, product_id).on_hand == Decimal("0")


def test_a_line_with_no_work_order_and_no_product_cannot_ship(app, make_order, as_user):
    """An effective order whose line names no product and has no work order: refused with a message."""
    order_id = make_order("effective", quantity="1000")
    with app.app_context():
        line_id = db.session.scalar(db.select(OrderLine.id).where(OrderLine.order_id == order_id))
    response = new_shipment(as_user("warehouse"), order_id, line_id, "10")
    assert response.status_code == 422
    assert "This line has no work order and no product in stock to ship from." in text_of(response)


def _dispatch_mail(app, subject_part: str):
    """The dispatch mail written to the mail folder (the development outbox), parsed."""
    import email
    import email.policy
    from pathlib import Path
    mails = [email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
             for path in Path(app.config["MAIL_FOLDER"]).glob("*.eml")]
    found = [m for m in mails if subject_part in m["Subject"]]
    assert len(found) == 1, [m["Subject"] for m in mails]
    return found[0]


@pytest.mark.parametrize("locale, expected", [("zh", "预计到达：2026年12月5日"),
                                              ("en", "Expected arrival: December 5, 2026")])
def test_the_dispatch_mail_gives_the_eta_in_the_customers_language(app, make_order, make_customer, as_user,
                                                                     locale, expected):
    """The customer's mail on dispatch says when the shipment should arrive, as they write dates."""
    make_customer("ETA", locale=locale)
    order_id = make_order("ready_to_ship", customer="ETA", quantity="1200")
    with app.app_context():
        line_id = db.session.scalar(db.select(OrderLine.id).where(OrderLine.order_id == order_id))
    warehouse = as_user("warehouse")
    assert new_shipment(warehouse, order_id, line_id, "1200", eta="2026-12-05").status_code == 303
    with app.app_context():
        shipment_id, number = db.session.execute(db.select(Shipment.id, Shipment.number)).one()
    packed(app, warehouse, shipment_id)
    assert warehouse.post(f"/shipping/{shipment_id}/dispatch", data={"note": ""}).status_code == 303
    body = _dispatch_mail(app, number).get_content()
    assert expected in body, body


@pytest.mark.parametrize("locale, named, bare", [("zh", "已发出（SF Express SF123）。", "已发出。"),
                                                 ("en", "has left us (SF Express SF123).", "has left us.")])
def test_the_dispatch_mail_names_the_carrier_only_when_there_is_one(app, make_order, make_customer, as_user,
                                                                    locale, named, bare):
    """A courier's shipment says carrier and tracking number; the firm's own truck names none, and the
    mail has no empty brackets."""
    make_customer("CAR", locale=locale)
    order_id = make_order("ready_to_ship", customer="CAR", quantity="2400")
    with app.app_context():
        line_id = db.session.scalar(db.select(OrderLine.id).where(OrderLine.order_id == order_id))
    warehouse = as_user("warehouse")
    assert new_shipment(warehouse, order_id, line_id, "1200").status_code == 303
    assert new_shipment(warehouse, order_id, line_id, "1,200", carrier="", tracking_no="").status_code == 303
    with app.app_context():
        shipments = db.session.execute(db.select(Shipment.id, Shipment.number).order_by(Shipment.id)).all()
    for shipment_id, _number in shipments:
        packed(app, warehouse, shipment_id)
        assert warehouse.post(f"/shipping/{shipment_id}/dispatch", data={"note": ""}).status_code == 303
    first, second = (_dispatch_mail(app, number).get_content() for _id, number in shipments)
    assert named in first
    assert bare in second and not any(empty in second for empty in ("()", "( )", "（）", "（ ）"))
