"""One order through all six stages with the test client — every role on its own login, the
courier and the customer on their links — shipped in two shipments, then followed up, costed
and closed."""
from webapp.extensions import db
from webapp.orders.models import Order, OrderLine
from webapp.production.models import WorkOrder
from webapp.shipping.models import Shipment, ShipmentLine

from .helpers import SIGNATURE, customer_path, get, text_of
from .test_order_desk_flow import walk_to_effective


def test_one_order_through_all_six_stages(app, as_user, make_customer, make_product):
    """requirement → effective → produced → two shipments signed for → followed up → costed → closed."""
    order_id, people = walk_to_effective(app, as_user, make_customer, make_product)
    sales, finance, customer = people["sales"], people["finance"], people["customer"]
    operations, worker, qc = as_user("operations"), as_user("worker"), as_user("qc")
    warehouse = people["warehouse"]
    courier = app.test_client()

    # Stage 3: the prepayment arrives, production starts, the floor reports, QC passes.
    due = get(app, Order, order_id).prepayment_due
    finance.post(f"/orders/{order_id}/payments", data={"kind": "deposit", "amount": str(due), "received_on": "2026-11-27"})
    assert operations.post(f"/orders/{order_id}/do/start_production").status_code == 303
    with app.app_context():
        token = db.session.scalar(db.select(WorkOrder.token).where(WorkOrder.order_id == order_id))
        line_id = db.session.scalar(db.select(OrderLine.id).where(OrderLine.order_id == order_id))
    for _ in range(10):
        assert worker.post(f"/w/{token}/report", data={"p-good": "10"}).status_code == 303
    assert worker.post(f"/w/{token}/do/finish").status_code == 303
    assert qc.post(f"/w/{token}/do/pass_qc").status_code == 303
    assert get(app, Order, order_id).status == "ready_to_ship"

    # Stage 4: two shipments, each packed, dispatched by the courier and signed for by the customer.
    for quantity in ("60", "40"):
        warehouse.post(f"/shipping/orders/{order_id}/new", data={f"qty-{line_id}": quantity, "method": "delivery",
                                                                 "carrier": "SF", "tracking_no": "SF1", "cost": "50"})
        with app.app_context():
            shipment = db.session.scalar(db.select(Shipment).order_by(Shipment.id.desc()))
            shipment_id = shipment.id
            sline_id = db.session.scalar(db.select(ShipmentLine.id).where(ShipmentLine.shipment_id == shipment_id))
        warehouse.post(f"/shipping/{shipment_id}/lines/{sline_id}/check", data={"batch": "B1"})
        warehouse.post(f"/shipping/{shipment_id}/pack")
        courier.post(customer_path(app, "courier", shipment_id) + "/dispatch", data={"d-note": ""})
        receipt = customer_path(app, "delivery_receipt", shipment_id)
        response = customer.post(receipt + "/receipt", data={
            f"line-{sline_id}-qty": quantity, f"line-{sline_id}-condition": "ok", "name": "Ann", "consent": "y",
            "strokes": SIGNATURE})
        assert response.status_code == 200, text_of(response)[:1000]
    assert get(app, Order, order_id).status == "delivered"

    # Stage 5: the follow-up call, and the survey that went out on delivery.
    assert sales.post(f"/aftersales/orders/{order_id}/follow-up", data={"f-outcome": "Satisfied"}).status_code == 303
    survey = customer_path(app, "survey", order_id)
    assert customer.post(f"/aftersales{survey}/survey", data={
        "requirement_response": "5", "delivery_timeliness": "4", "service_quality": "5",
        "suggestions": "Faster quotes"}).status_code == 303

    # Stage 6: finance enters actuals, finalises, and closes the order.
    close = f"/costing/orders/{order_id}/close"
    assert finance.post(close).status_code == 409
    actuals = {"actual_material": "420", "actual_labour": "190", "actual_overhead": "100", "actual_logistics": "100",
               "actual_aftersales": "0", "cause_material": "", "cause_labour": "", "cause_overhead": "",
               "cause_logistics": "Two shipments", "cause_aftersales": ""}
    assert finance.post(f"/costing/orders/{order_id}", data=actuals).status_code == 303
    assert finance.post(f"/costing/orders/{order_id}/finalise").status_code == 303
    sheet = text_of(finance.get(f"/costing/orders/{order_id}"))
    assert "Two shipments" in sheet
    response = finance.post(close)  # the balance after the prepayment is still unpaid
    assert response.status_code == 409 and "not fully paid" in text_of(response)
    with app.app_context():
        balance = db.session.get(Order, order_id).unpaid
    assert finance.post(f"/orders/{order_id}/payments", data={
        "kind": "receipt", "amount": str(balance), "received_on": "2026-12-20"}).status_code == 303
    assert finance.post(close).status_code == 303
    assert get(app, Order, order_id).status == "closed"
    timeline = text_of(sales.get(f"/orders/{order_id}/timeline"))
    for label in ("Work order created", "Shipment created", "Close order"):
        assert label in timeline


def test_my_work_for_the_later_stages(app, make_order, as_user):
    """The warehouse sees what is ready to ship; the QC inspector what waits for QC."""
    order_id = make_order("in_production")
    with app.app_context():
        work_order = db.session.scalar(db.select(WorkOrder).where(WorkOrder.order_id == order_id))
        token, work_order_id = work_order.token, work_order.id
    worker, qc, warehouse = as_user("worker"), as_user("qc"), as_user("warehouse")
    worker.post(f"/w/{token}/report", data={"p-good": "100"})
    worker.post(f"/w/{token}/do/finish")
    home = text_of(qc.get("/"))
    assert "Final inspection waiting" in home and f"/quality/#wo-{work_order_id}" in home
    qc.post(f"/w/{token}/do/pass_qc")
    assert f"/shipping/orders/{order_id}" in text_of(warehouse.get("/"))
