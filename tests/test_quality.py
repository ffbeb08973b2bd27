"""Quality inspection on a real database: incoming inspection of a received lot (pass releases it,
fail blocks it, scrap and returns go through the ledger), final inspection of a work order (pass
closes QC, fail sends pieces to rework and holds the order's packing until dealt with), numbers,
plans, permissions, the printable report, and bad input of every kind."""
from decimal import Decimal

import pytest

from webapp import audit, signals
from webapp.auth.models import User
from webapp.extensions import db
from webapp.production import services as floor
from webapp.production.models import WorkOrder
from webapp.quality import services
from webapp.quality.models import Inspection, InspectionPlan, InspectionValue, PlanItem
from webapp.stock import ledger
from webapp.stock.models import Location, Lot, Material, StockMove

from .helpers import get, text_of


@pytest.fixture
def qc(as_user):
    return as_user("qc", username="inspector", name="Ines Inspector")


def received_lot(app, quantity="500", plan=True, customer_id=None):
    """A material inspected on receipt, quantity pieces received into one lot (in quarantine), and
    (plan) an incoming plan at AQL 1.0 with a measured check and a look. Returns (lot id, plan id)."""
    with app.app_context(), app.test_request_context("/", method="POST"):
        location = Location(code="A-01", name="Shelf A-01")
        material = Material(code="ST-10", name="Steel pin", stock_unit="pcs", inspect_on_receipt=True,
                            customer_id=customer_id)
        db.session.add_all([location, material])
        db.session.flush()
        move = ledger.receive(material, Decimal(quantity), location, unit_cost=Decimal("0.5"), lot_code="H-77")
        plan_id = None
        if plan:
            row = InspectionPlan(name="Pins incoming", stage="incoming", material_id=material.id, sampling="iso2859",
                                 aql="1.0")
            row.items = [PlanItem(position=1, name="Diameter", method="caliper", lower=Decimal("9.9"),
                                  upper=Decimal("10.1"), unit="mm"),
                         PlanItem(position=2, name="Surface", method="look")]
            db.session.add(row)
            db.session.flush()
            plan_id = row.id
        db.session.commit()
        return move.lot_id, plan_id


def start(client, lot_id):
    response = client.post(f"/quality/lots/{lot_id}/inspect")
    assert response.status_code == 303, text_of(response)[:400]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def values_form(app, inspection_id, diameter="10.02", surface="1", defects="0"):
    with app.app_context():
        rows = db.session.scalars(db.select(InspectionValue).where(InspectionValue.inspection_id == inspection_id)
                                  .order_by(InspectionValue.id)).all()
        return {f"value-{rows[0].id}": diameter, f"ok-{rows[1].id}": surface, "defects": defects}


def test_incoming_inspection_passes_and_releases_the_lot(app, qc):
    lot_id, _plan = received_lot(app)
    heard = []
    receiver = lambda lot, **kw: heard.append((lot.id, kw["status"]))  # noqa: E731
    signals.lot_status_changed.connect(receiver)
    try:
        inspection_id = start(qc, lot_id)
        page = text_of(qc.get(f"/quality/inspections/{inspection_id}"))
        assert "ISO 2859-1 level II, code letter H, n=50, Ac 1 Re 2" in page
        assert start(qc, lot_id) == inspection_id  # the started one again, not a second
        response = qc.post(f"/quality/inspections/{inspection_id}", data=values_form(app, inspection_id, "2,000"))
        assert response.status_code == 303
        response = qc.post(f"/quality/inspections/{inspection_id}", data=values_form(app, inspection_id, "10.05"))
        assert response.status_code == 303
        assert qc.post(f"/quality/inspections/{inspection_id}/decide", data={"decision": "pass"}).status_code == 303
    finally:
        signals.lot_status_changed.disconnect(receiver)
    inspection = get(app, Inspection, inspection_id)
    assert (inspection.result, inspection.sample_size, inspection.accept_number) == ("pass", 50, 1)
    assert inspection.number.startswith("QC-") and inspection.number.endswith("-0001")
    assert get(app, Lot, lot_id).status == "available"
    assert heard == [(lot_id, "available")]
    with app.app_context():
        values = db.session.scalars(db.select(InspectionValue).order_by(InspectionValue.id)).all()
        assert values[0].value == Decimal("10.05") and values[0].ok


def test_out_of_limits_is_not_ok_and_a_pass_is_refused(app, qc):
    lot_id, _plan = received_lot(app)
    inspection_id = start(qc, lot_id)
    assert qc.post(f"/quality/inspections/{inspection_id}",
                   data=values_form(app, inspection_id, "2,000")).status_code == 303  # 2000 mm: out of limits
    response = qc.post(f"/quality/inspections/{inspection_id}/decide", data={"decision": "pass"})
    assert response.status_code == 409
    assert "more defects than the plan accepts" in text_of(response)
    response = qc.post(f"/quality/inspections/{inspection_id}/decide", data={"decision": "conditional", "note": ""})
    assert response.status_code == 422
    assert "Say why it is released conditionally." in text_of(response)
    assert get(app, Inspection, inspection_id).result == "pending"
    assert qc.post(f"/quality/inspections/{inspection_id}/decide",
                   data={"decision": "conditional", "note": "Customer agreed by phone"}).status_code == 303
    assert get(app, Inspection, inspection_id).result == "conditional"
    assert get(app, Lot, lot_id).status == "available"


def test_a_failed_lot_is_blocked_then_scrapped_through_the_ledger(app, qc):
    lot_id, _plan = received_lot(app)
    inspection_id = start(qc, lot_id)
    qc.post(f"/quality/inspections/{inspection_id}", data=values_form(app, inspection_id, defects="3"))
    assert qc.post(f"/quality/inspections/{inspection_id}/decide", data={"decision": "fail", "note": "burrs"}).status_code == 303
    assert get(app, Lot, lot_id).status == "blocked"
    with app.app_context():
        lot = db.session.get(Lot, lot_id)
        location = db.session.scalar(db.select(Location))
        with pytest.raises(Exception):
            ledger.post("issue", lot, location, Decimal("1"))  # a blocked lot is never issued
        db.session.rollback()
    # more than the lot: refused, nothing changed
    response = qc.post(f"/quality/inspections/{inspection_id}/dispose",
                       data={"quantity": "501", "disposition": "scrap", "reason": "burrs"})
    assert response.status_code == 409
    assert "more than the lot has" in text_of(response)
    assert get(app, Inspection, inspection_id).resolved_at is None
    response = qc.post(f"/quality/inspections/{inspection_id}/dispose",
                       data={"quantity": "-5", "disposition": "scrap", "reason": "burrs"})
    assert response.status_code == 422
    response = qc.post(f"/quality/inspections/{inspection_id}/dispose",
                       data={"quantity": "1,000,000,000,000", "disposition": "scrap", "reason": "x"})
    assert response.status_code == 422
    response = qc.post(f"/quality/inspections/{inspection_id}/dispose",
                       data={"quantity": "20", "disposition": "rework", "reason": "burrs"})
    assert response.status_code == 422  # a lot is not reworked here
    response = qc.post(f"/quality/inspections/{inspection_id}/dispose",
                       data={"quantity": "20", "disposition": "scrap", "reason": "burrs"})
    assert response.status_code == 303
    inspection = get(app, Inspection, inspection_id)
    assert inspection.resolved_at is not None and inspection.rejected_qty == Decimal("20")
    with app.app_context():
        move = db.session.scalar(db.select(StockMove).where(StockMove.kind == "scrap"))
        assert (move.quantity, move.doc_type, move.doc_ref) == (Decimal("-20"), "inspection", inspection.number)
        assert move.value == Decimal("-10.00")  # 20 × ¥0.50: a cost
        assert db.session.get(Lot, lot_id).on_hand == Decimal("480")
        assert db.session.get(Lot, lot_id).status == "available"  # the rest was sorted and released
    response = qc.post(f"/quality/inspections/{inspection_id}/dispose",
                       data={"quantity": "20", "disposition": "scrap", "reason": "again"})
    assert response.status_code == 409  # dealt with once


def test_returned_to_the_supplier_leaves_stock(app, qc):
    lot_id, _plan = received_lot(app, quantity="40")
    inspection_id = start(qc, lot_id)
    qc.post(f"/quality/inspections/{inspection_id}/decide", data={"decision": "fail", "note": "wrong alloy"})
    assert qc.post(f"/quality/inspections/{inspection_id}/dispose",
                   data={"quantity": "40", "disposition": "return", "reason": "wrong alloy"}).status_code == 303
    with app.app_context():
        move = db.session.scalar(db.select(StockMove).where(StockMove.kind == "adjust"))
        assert move.quantity == Decimal("-40") and move.reason == "Returned to the supplier: wrong alloy"
        assert db.session.get(Lot, lot_id).on_hand == 0
        assert db.session.get(Lot, lot_id).status == "blocked"  # nothing left to release


def test_a_value_that_is_not_a_number_keeps_nothing(app, qc):
    lot_id, _plan = received_lot(app)
    inspection_id = start(qc, lot_id)
    response = qc.post(f"/quality/inspections/{inspection_id}", data=values_form(app, inspection_id, "ten", "0", "2"))
    assert response.status_code == 422
    page = text_of(response)
    assert "Enter a number, for example 12.5." in page and 'value="ten"' in page
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(InspectionValue).where(
            InspectionValue.value.is_not(None))) == 0
        assert db.session.get(Inspection, inspection_id).defects == 0
        assert all(v.ok for v in db.session.scalars(db.select(InspectionValue)))
    for bad in ({"defects": "-1"}, {"defects": "51"}, {"defects": "99999999999999"}, {"defects": "x"}):
        form = values_form(app, inspection_id)
        form.update(bad)
        response = qc.post(f"/quality/inspections/{inspection_id}", data=form)
        assert response.status_code == 422, bad
    response = qc.post(f"/quality/inspections/{inspection_id}", data=values_form(app, inspection_id, "1" * 40))
    assert response.status_code == 422


def test_deciding_twice_is_refused(app, qc):
    lot_id, _plan = received_lot(app)
    inspection_id = start(qc, lot_id)
    assert qc.post(f"/quality/inspections/{inspection_id}/decide", data={"decision": "pass"}).status_code == 303
    response = qc.post(f"/quality/inspections/{inspection_id}/decide", data={"decision": "fail"})
    assert response.status_code == 409
    assert "already decided" in text_of(response)
    assert get(app, Inspection, inspection_id).result == "pass"
    assert qc.post(f"/quality/inspections/{inspection_id}",
                   data=values_form(app, inspection_id)).status_code == 409
    assert qc.post(f"/quality/inspections/{inspection_id}/decide", data={"decision": "maybe"}).status_code == 422


def test_missing_things_and_wrong_roles(app, qc, as_user):
    lot_id, _plan = received_lot(app)
    assert qc.post("/quality/lots/999999/inspect").status_code == 404
    assert qc.post("/quality/lots/99999999999999999999999/inspect").status_code == 404
    assert qc.get("/quality/inspections/999999").status_code == 404
    sales = as_user("sales")
    assert sales.post(f"/quality/lots/{lot_id}/inspect").status_code == 403
    inspection_id = start(qc, lot_id)
    assert sales.post(f"/quality/inspections/{inspection_id}/decide", data={"decision": "pass"}).status_code == 403
    assert sales.get(f"/quality/inspections/{inspection_id}").status_code == 200  # may look
    assert as_user("worker").get("/quality/").status_code == 403
    assert as_user("courier").get(f"/quality/inspections/{inspection_id}").status_code == 403
    assert get(app, Inspection, inspection_id).result == "pending"
    # a lot that is not in quarantine is not inspected on receipt
    qc.post(f"/quality/inspections/{inspection_id}/decide", data={"decision": "pass"})
    response = qc.post(f"/quality/lots/{lot_id}/inspect")
    assert response.status_code == 409 and "not waiting for incoming inspection" in text_of(response)


def test_numbers_follow_each_other(app, qc):
    lot_id, _plan = received_lot(app)
    first = get(app, Inspection, start(qc, lot_id))
    qc.post(f"/quality/inspections/{first.id}/decide", data={"decision": "fail"})
    with app.app_context(), app.test_request_context("/", method="POST"):
        material = db.session.scalar(db.select(Material))
        location = db.session.scalar(db.select(Location))
        other = ledger.receive(material, Decimal("8"), location, unit_cost=Decimal("1"), lot_code="H-78").lot_id
        db.session.commit()
    second = get(app, Inspection, start(qc, other))
    assert first.number[:8] == second.number[:8]
    assert int(second.number[-4:]) == int(first.number[-4:]) + 1
    assert second.sample_size == 8  # lot of 8: A, AQL 1.0 ↓ to E (n=13) ≥ 8: every piece


def test_the_customers_plan_comes_first(app, make_customer):
    customer_id = make_customer("CUS")
    lot_id, plan_id = received_lot(app, customer_id=customer_id)
    with app.app_context():
        material = db.session.scalar(db.select(Material))
        assert services.pick_plan("incoming", material_id=material.id, customer_id=customer_id).id == plan_id
        own = InspectionPlan(name="Their standard", stage="incoming", customer_id=customer_id, sampling="fixed",
                             fixed_count=3)
        db.session.add(own)
        db.session.flush()
        assert services.pick_plan("incoming", material_id=material.id, customer_id=customer_id) is own
        theirs_for_it = InspectionPlan(name="Their pins", stage="incoming", customer_id=customer_id,
                                       material_id=material.id, sampling="all")
        db.session.add(theirs_for_it)
        db.session.flush()
        assert services.pick_plan("incoming", material_id=material.id, customer_id=customer_id) is theirs_for_it
        assert services.pick_plan("final", material_id=material.id) is None
        assert services.pick_plan("incoming", material_id=material.id).id == plan_id  # another customer: not theirs
        db.session.rollback()


def in_qc(app, work_order_id):
    """Report the work order's whole quantity and finish it: it waits for QC."""
    with app.app_context(), app.test_request_context("/", method="POST"):
        maker = db.session.scalar(db.select(User).where(User.username == "production-maker"))
        work_order = db.session.get(WorkOrder, work_order_id)
        floor.report(work_order, maker, work_order.remaining, Decimal("0"), "", [])
        floor.move(work_order, "finish", maker)
        db.session.commit()


def test_final_inspection_passes_the_work_order(app, qc, work_order):
    in_qc(app, work_order.id)
    response = qc.post(f"/quality/wo/{work_order.id}/inspect", data={"stage": "final"})
    assert response.status_code == 303
    inspection_id = int(response.headers["Location"].rsplit("/", 1)[1])
    inspection = get(app, Inspection, inspection_id)
    assert (inspection.stage, inspection.lot_size, inspection.sample_size) == ("final", Decimal("100"), 1)
    assert "No plan: check and count the defective pieces." in text_of(qc.get(f"/quality/inspections/{inspection_id}"))
    assert qc.post(f"/quality/inspections/{inspection_id}/decide", data={"decision": "pass"}).status_code == 303
    assert get(app, WorkOrder, work_order.id).status == "done"
    with app.app_context():
        actions = [e.action for e in db.session.scalars(db.select(audit.AuditEvent).where(
            audit.AuditEvent.entity_type == "order", audit.AuditEvent.entity_id == work_order.order_id))]
        assert "inspection.passed" in actions
    report = qc.get(f"/quality/orders/{work_order.order_id}/report")
    assert report.status_code == 200 and inspection.number in text_of(report) and "Ines Inspector" in text_of(report)
    assert qc.get("/quality/orders/999999/report").status_code == 404


def test_a_failed_final_inspection_holds_the_order_until_reworked(app, qc, work_order):
    in_qc(app, work_order.id)
    # a work order not waiting for QC has no final inspection
    response = qc.post(f"/quality/wo/{work_order.id}/inspect", data={"stage": "final"})
    inspection_id = int(response.headers["Location"].rsplit("/", 1)[1])
    qc.post(f"/quality/inspections/{inspection_id}", data={"defects": "1"})
    assert qc.post(f"/quality/inspections/{inspection_id}/decide",
                   data={"decision": "fail", "note": "scratches"}).status_code == 303
    with app.app_context():
        assert [i.id for i in services.holds_for_order(work_order.order_id)] == [inspection_id]
    response = qc.post(f"/quality/inspections/{inspection_id}/dispose",
                       data={"quantity": "101", "disposition": "rework", "reason": "polish"})
    assert response.status_code == 409
    assert qc.post(f"/quality/inspections/{inspection_id}/dispose",
                   data={"quantity": "10", "disposition": "rework", "reason": "polish"}).status_code == 303
    with app.app_context():
        assert services.holds_for_order(work_order.order_id) == []
        row = db.session.get(WorkOrder, work_order.id)
        assert row.status == "in_progress" and row.rejected == Decimal("10")
    response = qc.post(f"/quality/wo/{work_order.id}/inspect", data={"stage": "final"})
    assert response.status_code == 409 and "not waiting for final inspection" in text_of(response)


def test_my_work_shows_lots_and_work_orders_waiting(app, qc, work_order):
    received_lot(app)
    in_qc(app, work_order.id)
    page = text_of(qc.get("/"))
    assert "Incoming inspection waiting" in page and "ST-10 · H-77" in page
    assert "Final inspection waiting" in page
    index = text_of(qc.get("/quality/"))
    assert "H-77" in index and "Work orders waiting for final inspection" in index


def test_plans_are_made_with_checks_and_absurd_samples_are_refused(app, as_user, make_product):
    product_id = make_product("BRK-9")
    planner = as_user("manager")
    assert planner.get("/quality/plans/new").status_code == 200
    form = {"name": "Bracket final", "stage": "final", "product_id": str(product_id), "material_id": "0",
            "customer_id": "0", "sampling": "fixed", "aql": "1.0", "fixed_count": "99999999999", "active": "y"}
    response = planner.post("/quality/plans/new", data=form)
    assert response.status_code == 422
    form["fixed_count"] = "0"
    assert planner.post("/quality/plans/new", data=form).status_code == 422
    form.update(fixed_count="5", aql="0.7", sampling="iso2859")
    assert planner.post("/quality/plans/new", data=form).status_code == 422  # not an AQL of the table
    form.update(aql="2.5", product_id="0")
    response = planner.post("/quality/plans/new", data=form)
    assert response.status_code == 422 and "Choose a product, a material or a customer." in text_of(response)
    form["product_id"] = str(product_id)
    response = planner.post("/quality/plans/new", data=form)
    assert response.status_code == 303
    plan_id = int(response.headers["Location"].rsplit("/", 1)[1])
    response = planner.post(f"/quality/plans/{plan_id}/items",
                            data={"item-name": "Hole", "item-lower": "5.2", "item-upper": "5.1", "item-unit": "mm"})
    assert response.status_code == 422 and "upper limit is below the lower limit" in text_of(response)
    response = planner.post(f"/quality/plans/{plan_id}/items",
                            data={"item-name": "Hole", "item-lower": "abc", "item-upper": "5.1"})
    assert response.status_code == 422
    assert planner.post(f"/quality/plans/{plan_id}/items",
                        data={"item-name": "Hole", "item-lower": "5.0", "item-upper": "5.1", "item-unit": "mm"}
                        ).status_code == 303
    with app.app_context():
        plan = db.session.get(InspectionPlan, plan_id)
        assert (plan.sampling, plan.aql, [i.name for i in plan.items]) == ("iso2859", "2.5", ["Hole"])
    assert "Hole" in text_of(planner.get(f"/quality/plans/{plan_id}"))
    assert "Bracket final" in text_of(planner.get("/quality/plans"))
    assert as_user("sales").post("/quality/plans/new", data=form).status_code == 403
    assert as_user("qc").post(f"/quality/plans/{plan_id}/items", data={"item-name": "x"}).status_code == 303


def test_in_process_inspection_of_work_in_progress(app, qc, work_order):
    with app.app_context(), app.test_request_context("/", method="POST"):
        maker = db.session.scalar(db.select(User).where(User.username == "production-maker"))
        floor.report(db.session.get(WorkOrder, work_order.id), maker, Decimal("30"), Decimal("0"), "", [])
        db.session.commit()
    assert f"wip-{work_order.id}" in text_of(qc.get("/quality/"))
    response = qc.post(f"/quality/wo/{work_order.id}/inspect", data={"stage": "in_process"})
    assert response.status_code == 303
    inspection = get(app, Inspection, int(response.headers["Location"].rsplit("/", 1)[1]))
    assert (inspection.stage, inspection.lot_size) == ("in_process", Decimal("30"))
    qc.post(f"/quality/inspections/{inspection.id}/decide", data={"decision": "fail", "note": "tool wear"})
    with app.app_context():
        assert [i.id for i in services.holds_for_order(work_order.order_id)] == [inspection.id]
    assert qc.post(f"/quality/inspections/{inspection.id}/dispose",
                   data={"quantity": "3", "disposition": "scrap", "reason": "tool wear"}).status_code == 303
    with app.app_context():
        assert services.holds_for_order(work_order.order_id) == []
    assert get(app, WorkOrder, work_order.id).status == "in_progress"
