"""The JSON API's requirements, work orders (progress reports), anomalies and stock: the pages'
services, permissions, scope, form rules and state rules, through a token."""
from datetime import timedelta
from decimal import Decimal

import pytest

from webapp.extensions import db
from webapp.wallclock import utcnow

from .test_api import api, is_problem  # noqa: F401  (the `api` fixture and the problem check)

BOTH = pytest.mark.parametrize("app", ["sqlite", "postgres"], indirect=True)


def count_of(app, model) -> int:
    """How many rows model has."""
    with app.app_context():
        return db.session.scalar(db.select(db.func.count(model.id)))


def requirement_body(customer_id: int, **extra) -> dict:
    """A valid new requirement record."""
    return {"customer_id": customer_id, "product": "Stainless bracket", "specs": "304, 2 mm", "quantity": "100",
            "expected_date": "2026-12-20", "budget_min": "900", "budget_max": "1200.50", "priority": "urgent",
            **extra}


# --- requirements --------------------------------------------------------------------------------

@BOTH
def test_a_requirement_is_written_down_listed_and_read(app, api, make_customer, make_product):  # noqa: F811
    """POST makes a draft through the page's service (the customer's contact filled in, a catalogue
    product's name and unit taken); GET lists it by status, customer and change time, and reads it;
    the budget is null for an owner who may not see prices; a key sent twice makes one record."""
    from webapp.requirements import Requirement
    customer_id = make_customer("ACME")
    sales = api("sales")
    headers = {"Idempotency-Key": "req-1"}
    first = sales.post("/api/v1/requirements", json=requirement_body(customer_id), headers=headers)
    assert first.status_code == 201, first.get_json()
    made = first.get_json()
    assert made["status"] == "draft" and made["customer_id"] == customer_id and made["quantity"] == "100"
    assert made["unit"] == "pcs" and made["budget_max"] == "1200.50"
    assert made["contact_email"] == "buyer@acme.example.com"  # the customer's, the field left empty
    again = sales.post("/api/v1/requirements", json=requirement_body(customer_id), headers=headers)
    assert again.status_code == 201 and again.get_json() == made and again.headers["Idempotent-Replayed"] == "true"
    assert count_of(app, Requirement) == 1
    product_id = make_product("WID-9")
    from_catalogue = sales.post("/api/v1/requirements", json=requirement_body(
        customer_id, product="", product_id=product_id, quantity=2.5)).get_json()
    assert from_catalogue["product_id"] == product_id and from_catalogue["product"]
    assert from_catalogue["quantity"] == "2.5"

    listed = sales.get("/api/v1/requirements", query_string={"status": "draft", "customer_id": customer_id})
    assert [r["id"] for r in listed.get_json()["data"]] == [from_catalogue["id"], made["id"]]
    since = (utcnow() + timedelta(hours=1)).isoformat()
    assert sales.get("/api/v1/requirements", query_string={"updated_since": since}).get_json()["data"] == []
    assert sales.get("/api/v1/requirements", query_string={"status": "sent"}).get_json()["data"] == []
    assert sales.get(f"/api/v1/requirements/{made['id']}").get_json() == made
    production = api("production")  # an office role without price rights (the firm's default)
    seen = production.get(f"/api/v1/requirements/{made['id']}").get_json()
    assert seen["budget_min"] is None and seen["budget_max"] is None and seen["quantity"] == "100"
    is_problem(sales.get("/api/v1/requirements/999999"), 404, "not-found")
    is_problem(sales.get("/api/v1/requirements", query_string={"status": "lost"}), 400, "bad-request")


@BOTH
def test_a_requirement_body_is_checked_as_the_page_checks_its_form(app, api, make_customer):  # noqa: F811
    """Unknown field, wrong type, the form's own rules, a customer out of reach: 422 with the field
    named, nothing recorded; a worker may not; a read token may not write."""
    from webapp.requirements import Requirement
    customer_id = make_customer("ACME")
    sales = api("sales")
    url = "/api/v1/requirements"
    body = is_problem(sales.post(url, json=requirement_body(customer_id, colour="red")), 422, "validation-error")
    assert "colour" in body["errors"]
    body = is_problem(sales.post(url, json=requirement_body(customer_id, quantity="lots")), 422, "validation-error")
    assert "quantity" in body["errors"]
    body = is_problem(sales.post(url, json={**requirement_body(customer_id), "customer_id": "ACME"}), 422,
                      "validation-error")
    assert "customer_id" in body["errors"]
    body = is_problem(sales.post(url, json=requirement_body(customer_id, budget_min="2000")), 422, "validation-error")
    assert body["errors"]["budget_max"] == ["The upper budget is below the lower one."]
    body = is_problem(sales.post(url, json=requirement_body(customer_id, product="")), 422, "validation-error")
    assert list(body["errors"]) == ["product"]
    body = is_problem(sales.post(url, json=requirement_body(customer_id, quantity="0")), 422, "validation-error")
    assert body["errors"]["quantity"] == ["Must be above zero."]
    body = is_problem(sales.post(url, json=requirement_body(customer_id, contact_email="not-an-address")),
                      422, "validation-error")
    assert "contact_email" in body["errors"]
    body = is_problem(sales.post(url, json=requirement_body(999999)), 422, "validation-error")
    assert body["errors"] == {"customer_id": ["Choose a customer."]}
    is_problem(api("worker").post(url, json=requirement_body(customer_id)), 403, "forbidden")
    is_problem(api("worker").get(url), 403, "forbidden")
    is_problem(api("finance").post(url, json=requirement_body(customer_id)), 403, "forbidden")
    is_problem(api("sales", scope="read").post(url, json=requirement_body(customer_id)), 403, "insufficient-scope")
    assert count_of(app, Requirement) == 0


@BOTH
def test_a_rep_whose_firm_restricts_them_sees_and_writes_for_their_own_customers_only(app, api,  # noqa: F811
                                                                                      make_customer):
    """Another rep's customer's requirement answers 404 and is not listed; writing one for that
    customer is refused as on the page (choose a customer)."""
    from webapp.firm import get_settings
    owner, other = api("sales"), api("sales")
    customer_id = make_customer("OWN", owner_id=owner.user_id)
    made = owner.post("/api/v1/requirements", json=requirement_body(customer_id)).get_json()
    with app.app_context():
        get_settings().sales_own_customers_only = True
        db.session.commit()
    assert [r["id"] for r in owner.get("/api/v1/requirements").get_json()["data"]] == [made["id"]]
    assert other.get("/api/v1/requirements").get_json()["data"] == []
    is_problem(other.get(f"/api/v1/requirements/{made['id']}"), 404, "not-found")
    body = is_problem(other.post("/api/v1/requirements", json=requirement_body(customer_id)), 422,
                      "validation-error")
    assert body["errors"] == {"customer_id": ["Choose a customer."]}
    assert api("manager").get(f"/api/v1/requirements/{made['id']}").status_code == 200


# --- work orders and progress ------------------------------------------------------------------

@BOTH
def test_work_orders_are_listed_read_and_reported_on(app, api, work_order):  # noqa: F811
    """The floor's report through the API: the work order starts, the report is listed with its
    worker and times, a key sent twice records one report, and the work order's counts follow."""
    from webapp.production import ProgressReport
    production = api("production")
    listed = production.get("/api/v1/work-orders", query_string={"order_id": work_order.order_id}).get_json()
    assert [w["id"] for w in listed["data"]] == [work_order.id]
    one = production.get(f"/api/v1/work-orders/{work_order.id}").get_json()
    assert one["status"] == "planned" and one["quantity"] == "100" and one["remaining"] == "100"
    assert one["order_id"] == work_order.order_id and one["model"] == "BRK-1" and one["unit"] == "pcs"
    assert production.get("/api/v1/work-orders", query_string={"status": "done"}).get_json()["data"] == []
    assert production.get("/api/v1/work-orders", query_string={"stocking": "true"}).get_json()["data"] == []

    worker = api("worker")
    headers = {"Idempotency-Key": "wo-report-1"}
    report = {"good": "10", "scrap": 2, "note": "first batch"}
    first = worker.post(f"/api/v1/work-orders/{work_order.id}/reports", json=report, headers=headers)
    assert first.status_code == 201, first.get_json()
    made = first.get_json()
    assert made["good_qty"] == "10" and made["scrap_qty"] == "2" and made["worker_id"] == worker.user_id
    assert made["note"] == "first batch" and made["occurred_at"] and made["received_at"]
    again = worker.post(f"/api/v1/work-orders/{work_order.id}/reports", json=report, headers=headers)
    assert again.status_code == 201 and again.get_json() == made and again.headers["Idempotent-Replayed"] == "true"
    assert count_of(app, ProgressReport) == 1
    reports = production.get(f"/api/v1/work-orders/{work_order.id}/reports").get_json()
    assert reports == [made]
    after = production.get(f"/api/v1/work-orders/{work_order.id}").get_json()
    assert after["status"] == "in_progress" and after["good"] == "10" and after["remaining"] == "90"
    assert after["actual_start"] is not None
    is_problem(production.get("/api/v1/work-orders/999999"), 404, "not-found")


@BOTH
def test_a_progress_report_is_refused_as_the_floor_refuses_it(app, api, work_order):  # noqa: F811
    """Role, scope of the token, the form's rules, and the work order's state: each its answer,
    nothing recorded by a refused report."""
    from webapp.production import ProgressReport
    url = f"/api/v1/work-orders/{work_order.id}/reports"
    worker = api("worker")
    is_problem(api("sales").post(url, json={"good": "1"}), 403, "forbidden")
    is_problem(api("sales").get("/api/v1/work-orders"), 403, "forbidden")
    is_problem(api("worker", scope="read").post(url, json={"good": "1"}), 403, "insufficient-scope")
    body = is_problem(worker.post(url, json={"good": "1", "photos": []}), 422, "validation-error")
    assert "photos" in body["errors"]
    body = is_problem(worker.post(url, json={"good": "many"}), 422, "validation-error")
    assert "good" in body["errors"]
    body = is_problem(worker.post(url, json={"good": "0"}), 422, "validation-error")
    assert body["errors"] == {"good": ["Enter good or scrap pieces."]}
    body = is_problem(worker.post(url, json={"good": "1", "operation_id": 999999}), 422, "validation-error")
    assert body["detail"] == "This operation belongs to another work order."
    body = is_problem(worker.post(url, json={"good": "-1"}), 422, "validation-error")
    assert "good" in body["errors"]
    body = is_problem(worker.post(url, json={"good": "101"}), 409, "state-conflict")
    assert body["detail"] == "That is more good pieces than are still to make."
    assert body["state"] == "planned" and body["allowed_transitions"] == ["start", "block"]
    in_chinese = api("worker", locale="zh").post(url, json={"good": "0"}, headers={"Accept-Language": "zh-CN"})
    assert is_problem(in_chinese, 422)["errors"] == {"good": ["请填写良品数或报废数。"]}
    assert count_of(app, ProgressReport) == 0
    with app.app_context():  # the floor finishes the job: it waits for QC, where nothing more is reported
        from webapp.auth import User
        from webapp.production import WorkOrder, services
        user = db.session.get(User, worker.user_id)
        with app.test_request_context("/", method="POST"):
            row = db.session.get(WorkOrder, work_order.id)
            services.report(row, user, Decimal("100"), Decimal("0"), "", [])
            services.move(row, "finish", user)
            db.session.commit()
    body = is_problem(worker.post(url, json={"scrap": "1"}), 409, "state-conflict")
    assert body["detail"] == "Progress can be reported only while the work is in progress."
    assert body["state"] == "qc" and body["allowed_transitions"] == ["block"]
    assert count_of(app, ProgressReport) == 1
    is_problem(worker.post("/api/v1/work-orders/999999/reports", json={"good": "1"}), 404, "not-found")


# --- anomalies -----------------------------------------------------------------------------------

@BOTH
def test_anomalies_raised_on_the_floor_are_read(app, api, as_user, work_order):  # noqa: F811
    """An anomaly raised on the worker's page is listed (open ones, by work order) and read; a role
    that may not see work orders may not see them."""
    floor = as_user("worker")
    response = floor.post(f"/w/{work_order.token}/anomaly", data={
        "a-kind": "equipment_failure", "a-severity": "minor", "a-note": "Press 2 leaks oil"})
    assert response.status_code in (200, 303), response.status_code
    production = api("production")
    listed = production.get("/api/v1/anomalies", query_string={"open": "true", "work_order_id": work_order.id})
    rows = listed.get_json()["data"]
    assert len(rows) == 1 and rows[0]["kind"] == "equipment_failure" and rows[0]["note"] == "Press 2 leaks oil"
    assert rows[0]["resolved_at"] is None and rows[0]["severity"] == "minor"
    assert production.get("/api/v1/anomalies", query_string={"open": "false"}).get_json()["data"] == []
    assert production.get("/api/v1/anomalies", query_string={"kind": "quality"}).get_json()["data"] == []
    assert production.get(f"/api/v1/anomalies/{rows[0]['id']}").get_json() == rows[0]
    is_problem(api("sales").get(f"/api/v1/anomalies/{rows[0]['id']}"), 403, "forbidden")
    is_problem(api("sales").get("/api/v1/anomalies"), 403, "forbidden")
    is_problem(production.get("/api/v1/anomalies/999999"), 404, "not-found")
    is_problem(production.get("/api/v1/anomalies", query_string={"severity": "huge"}), 400, "bad-request")


# --- stock ---------------------------------------------------------------------------------------

@pytest.fixture
def stock(app, make_customer):
    """Steel sheet in two lots (one waiting for inspection), and a customer's own film."""
    from webapp.stock import Location, Material, ledger
    customer_id = make_customer("ACME")
    with app.app_context(), app.test_request_context():
        store = Location(code="A1", name="Main store")
        steel = Material(code="ST-304", name="Steel sheet 304", stock_unit="kg")
        film = Material(code="FILM-C", name="Protective film", stock_unit="m", customer_id=customer_id)
        db.session.add_all([store, steel, film])
        db.session.flush()
        first = ledger.receive(steel, Decimal("120"), store, unit_cost=Decimal("8.5"), lot_code="H1")
        held = ledger.receive(steel, Decimal("80"), store, unit_cost=Decimal("9"), lot_code="H2")
        ledger.receive(film, Decimal("500"), store, unit_cost=None, lot_code="F1")
        first_lot, held_lot = first.lot_id, held.lot_id
        from webapp.stock import Lot
        db.session.get(Lot, held_lot).status = "quarantine"
        db.session.commit()
        return {"steel": steel.id, "film": film.id, "lot": first_lot, "held": held_lot, "store": store.id}


@BOTH
def test_stock_materials_and_lots_are_read_with_their_balances(app, api, stock):  # noqa: F811
    """Materials with on hand and available as the stock pages count them (a held lot is on hand,
    not available); costs only for who may see them; lots by material and status with their
    balance per location; roles without stock rights are refused."""
    warehouse = api("warehouse")
    materials = warehouse.get("/api/v1/stock/materials").get_json()["data"]
    assert [m["code"] for m in materials] == ["FILM-C", "ST-304"]
    steel = materials[1]
    assert steel["on_hand"] == "200" and steel["available"] == "120" and steel["reserved"] == "0"
    assert steel["avg_cost"] is None and steel["value"] is None
    finance = api("finance").get(f"/api/v1/stock/materials/{stock['steel']}").get_json()
    assert Decimal(finance["avg_cost"]) == Decimal("8.7") and Decimal(finance["value"]) == Decimal("1740")
    found = warehouse.get("/api/v1/stock/materials", query_string={"q": "film"}).get_json()["data"]
    assert [m["id"] for m in found] == [stock["film"]] and found[0]["on_hand"] == "500"

    lots = warehouse.get("/api/v1/stock/lots", query_string={"material_id": stock["steel"]}).get_json()["data"]
    assert [lot["code"] for lot in lots] == ["H1", "H2"]
    assert lots[0]["on_hand"] == "120" and lots[0]["balances"] == [
        {"location_id": stock["store"], "location_code": "A1", "on_hand": "120"}]
    held = warehouse.get("/api/v1/stock/lots", query_string={"status": "quarantine"}).get_json()["data"]
    assert [lot["id"] for lot in held] == [stock["held"]]
    one = warehouse.get(f"/api/v1/stock/lots/{stock['lot']}").get_json()
    assert one == lots[0]
    is_problem(warehouse.get("/api/v1/stock/lots/999999"), 404, "not-found")
    is_problem(warehouse.get("/api/v1/stock/lots", query_string={"status": "lost"}), 400, "bad-request")
    for role in ("sales", "worker"):
        is_problem(api(role).get("/api/v1/stock/materials"), 403, "forbidden")
        is_problem(api(role).get(f"/api/v1/stock/lots/{stock['lot']}"), 403, "forbidden")
