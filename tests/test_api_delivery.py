"""The JSON API's shipments (transit events, the signed receipt), return cases, tickets, invoices,
payments and KPIs: the pages' services, permissions and object scope, on both databases."""
from datetime import date, timedelta
from decimal import Decimal

import pytest

from webapp.extensions import db
from webapp.orders.models import Order, OrderLine, Payment
from webapp.shipping.models import Shipment, ShipmentEvent

from .test_aftersales import open_ticket_as
from .test_api import api, is_problem  # noqa: F401  (the api fixture)
from .test_shipping import new_shipment, packed, signed_with_damage

BOTH = pytest.mark.parametrize("app", ["sqlite", "postgres"], indirect=True)


def line_of(app, order_id: int) -> int:
    with app.app_context():
        return db.session.scalar(db.select(OrderLine.id).where(OrderLine.order_id == order_id))


@pytest.fixture
def delivered(app, make_order, as_user):
    """1,200 pieces shipped and signed for with 50 short and damaged: (order, shipment, return case)."""
    order_id = make_order("ready_to_ship", quantity="1200")
    shipment_id, case_id = signed_with_damage(app, as_user("warehouse"), order_id, line_of(app, order_id))
    return order_id, shipment_id, case_id


def dispatched(app, make_order, as_user, dispatch: bool = True) -> int:
    """A shipment of 100 pieces, packed and (unless told otherwise) dispatched; its id."""
    order_id = make_order("ready_to_ship")
    warehouse = as_user("warehouse")
    assert new_shipment(warehouse, order_id, line_of(app, order_id), "100").status_code == 303
    with app.app_context():
        shipment_id = db.session.scalar(db.select(Shipment.id).where(Shipment.order_id == order_id))
    if dispatch:
        packed(app, warehouse, shipment_id)
        assert warehouse.post(f"/shipping/{shipment_id}/dispatch", data={"note": ""}).status_code == 303
    return shipment_id


def firm_settings(app, **values) -> None:
    """Change the firm's settings (admin's page) for the rest of the test."""
    with app.app_context():
        from webapp.firm import get_settings
        settings = get_settings()
        for name, value in values.items():
            setattr(settings, name, value)
        db.session.commit()


def scope_reps_to_own_customers(app) -> None:
    firm_settings(app, sales_own_customers_only=True)


@BOTH
def test_shipments_read_with_lines_events_and_receipt_and_no_cost(app, api, delivered):
    """A shipment lists and reads with its packing list, carrier, tracking number and state (no cost);
    its receipt gives per line what arrived and in what condition, and no signature."""
    order_id, shipment_id, _case_id = delivered
    warehouse = api("warehouse")
    rows = warehouse.get("/api/v1/shipments").get_json()["data"]
    assert [s["id"] for s in rows] == [shipment_id]
    shipment = warehouse.get(f"/api/v1/shipments/{shipment_id}").get_json()
    assert shipment["status"] == "delivered_with_exception" and shipment["order_id"] == order_id
    assert shipment["carrier"] == "SF Express" and shipment["tracking_no"] == "SF123"
    assert shipment["lines"][0]["quantity"] == "1200" and "cost" not in shipment
    for query, expected in (({"status": "delivered_with_exception"}, [shipment_id]), ({"status": "packing"}, []),
                            ({"order_id": order_id}, [shipment_id]), ({"order_id": order_id + 1}, []),
                            ({"updated_since": "2000-01-01T00:00:00Z"}, [shipment_id]),
                            ({"updated_since": "2099-01-01T00:00:00+08:00"}, [])):
        found = warehouse.get("/api/v1/shipments", query_string=query)
        assert [s["id"] for s in found.get_json()["data"]] == expected, query
    is_problem(warehouse.get("/api/v1/shipments", query_string={"status": "lost"}), 400, "bad-request")
    is_problem(warehouse.get("/api/v1/shipments", query_string={"updated_since": "yesterday"}), 400, "bad-request")
    receipt = warehouse.get(f"/api/v1/shipments/{shipment_id}/receipt").get_json()
    assert receipt["signer_name"] == "Ann" and receipt["has_exception"] is True and receipt["signed_at"]
    assert receipt["lines"][0]["received_qty"] == "1150" and receipt["lines"][0]["condition"] == "damaged"
    assert "signature" not in str(receipt.keys()) and "strokes" not in str(receipt)
    assert warehouse.get(f"/api/v1/shipments/{shipment_id}/events").get_json() == []
    is_problem(warehouse.get(f"/api/v1/shipments/{shipment_id + 99}"), 404, "not-found")
    # A worker may not see shipments; a rep whose firm keeps them to their own customers sees none of these.
    worker = api("worker")
    is_problem(worker.get("/api/v1/shipments"), 403, "forbidden")
    is_problem(worker.get(f"/api/v1/shipments/{shipment_id}"), 403, "forbidden")
    scope_reps_to_own_customers(app)
    rep = api("sales")
    assert rep.get("/api/v1/shipments").get_json()["data"] == []
    is_problem(rep.get(f"/api/v1/shipments/{shipment_id}"), 404, "not-found")
    is_problem(rep.get(f"/api/v1/shipments/{shipment_id}/receipt"), 404, "not-found")


@BOTH
def test_a_transit_event_is_added_once_as_staff_add_it(app, api, make_order, as_user):
    """Warehouse adds a failed delivery attempt with its reason; a retry with the same key is the same
    event; the state, the role, a read-only token and bad bodies get their documented answers."""
    shipment_id = dispatched(app, make_order, as_user)
    url = f"/api/v1/shipments/{shipment_id}/events"
    warehouse = api("warehouse")
    body = {"kind": "attempt_failed", "reason": "nobody_home", "place": " Suzhou ", "note": "call first",
            "occurred_at": "2026-11-20T09:30:00+08:00"}
    first = warehouse.post(url, json=body, headers={"Idempotency-Key": "evt-1"})
    assert first.status_code == 201, first.get_json()
    event = first.get_json()
    assert event["kind"] == "attempt_failed" and event["reason"] == "nobody_home" and event["source"] == "staff"
    assert event["place"] == "Suzhou" and event["occurred_at"].startswith("2026-11-20T01:30:00")
    again = warehouse.post(url, json=body, headers={"Idempotency-Key": "evt-1"})
    assert again.status_code == 201 and again.get_json() == event
    assert again.headers.get("Idempotent-Replayed") == "true"
    is_problem(warehouse.post(url, json={**body, "note": "other"}, headers={"Idempotency-Key": "evt-1"}),
               422, "idempotency-key-reused")
    assert [e["id"] for e in warehouse.get(url).get_json()] == [event["id"]]
    # Bad bodies: unknown field, wrong type, a failed attempt without its reason, a kind we do not know.
    body_errors = is_problem(warehouse.post(url, json={**body, "colour": "red"}), 422, "validation-error")
    assert "colour" in body_errors["errors"]
    is_problem(warehouse.post(url, json={**body, "occurred_at": 5}), 422, "validation-error")
    is_problem(warehouse.post(url, json={"kind": "attempt_failed"}), 422, "validation-error")
    is_problem(warehouse.post(url, json={"kind": "teleported"}), 422, "validation-error")
    is_problem(warehouse.post(url, json={"kind": "in_transit", "occurred_at": "2999-01-01T00:00:00Z"}),
               422, "validation-error")
    # Who may not: a read-only token (scope), sales (the role sees shipments, does not manage them).
    is_problem(api("warehouse", scope="read").post(url, json=body), 403, "insufficient-scope")
    is_problem(api("sales").post(url, json=body), 403, "forbidden")
    # A shipment still being packed has not left: 409, nothing recorded.
    packing = dispatched(app, make_order, as_user, dispatch=False)
    conflict = is_problem(warehouse.post(f"/api/v1/shipments/{packing}/events", json={"kind": "in_transit"}),
                          409, "state-conflict")
    assert conflict["state"] == "packing" and conflict["allowed_transitions"] == ["pack"]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(ShipmentEvent.id))) == 1


@BOTH
def test_return_cases_and_tickets_read_in_scope(app, api, delivered, as_user):
    """Return cases and tickets list with their filters and read one by one; a worker is refused, a
    rep limited to their own customers sees none of another's."""
    order_id, shipment_id, case_id = delivered
    ticket_id = open_ticket_as(as_user("sales"), order_id)
    manager = api("manager")
    cases = manager.get("/api/v1/returns").get_json()["data"]
    assert [c["id"] for c in cases] == [case_id] and cases[0]["shipment_id"] == shipment_id
    assert cases[0]["status"] == "open" and cases[0]["reason"] and cases[0]["due_at"]
    assert manager.get("/api/v1/returns", query_string={"status": "closed"}).get_json()["data"] == []
    assert [c["id"] for c in manager.get("/api/v1/returns", query_string={"order_id": order_id}).get_json()["data"]] \
        == [case_id]
    case = manager.get(f"/api/v1/returns/{case_id}").get_json()
    assert case["order_id"] == order_id and "credits" not in case and "costs" not in case
    tickets = manager.get("/api/v1/tickets", query_string={"status": "open", "order_id": order_id}).get_json()["data"]
    assert [t["id"] for t in tickets] == [ticket_id] and tickets[0]["subject"] == "Scratches"
    assert manager.get("/api/v1/tickets", query_string={"status": "resolved"}).get_json()["data"] == []
    ticket = manager.get(f"/api/v1/tickets/{ticket_id}").get_json()
    assert ticket["status"] == "open" and ticket["first_response_due_at"] and ticket["messages"] == []
    is_problem(manager.get("/api/v1/tickets", query_string={"status": "closed"}), 400, "bad-request")
    worker = api("worker")
    is_problem(worker.get("/api/v1/returns"), 403, "forbidden")
    is_problem(worker.get(f"/api/v1/tickets/{ticket_id}"), 403, "forbidden")
    scope_reps_to_own_customers(app)
    rep = api("sales")
    assert rep.get("/api/v1/returns").get_json()["data"] == []
    assert rep.get("/api/v1/tickets").get_json()["data"] == []
    is_problem(rep.get(f"/api/v1/returns/{case_id}"), 404, "not-found")
    is_problem(rep.get(f"/api/v1/tickets/{ticket_id}"), 404, "not-found")


def record_invoice(app, order_id: int, user_id: int, number: str, amount: str, issued_on: date) -> int:
    """An invoice recorded through the receivables service, as finance's form records it."""
    from webapp.auth import User
    from webapp.receivables.services import record_invoice as record
    with app.app_context(), app.test_request_context("/", method="POST"):
        invoice = record(db.session.get(Order, order_id), db.session.get(User, user_id), kind="vat_special",
                         number=number, issued_on=issued_on, amount=Decimal(amount), milestone="Stage")
        db.session.commit()
        return invoice.id


@BOTH
def test_invoices_and_payments_for_who_sees_receivables(app, api, delivered, make_order):
    """Finance lists invoices (open, overdue) and records a payment once with a key; the payment
    settles the invoice as the receivables pages settle it. Sales is refused money; a read token may
    not write; bad bodies and a draft order get their answers."""
    order_id, _shipment_id, _case_id = delivered
    finance = api("finance")
    old = record_invoice(app, order_id, finance.user_id, "INV-OLD", "1000.00", date.today() - timedelta(days=400))
    new = record_invoice(app, order_id, finance.user_id, "INV-NEW", "500.00", date.today())
    rows = finance.get("/api/v1/invoices").get_json()["data"]
    assert [i["id"] for i in rows] == [new, old]
    by_id = {i["id"]: i for i in rows}
    assert by_id[old]["status"] == "open" and by_id[old]["outstanding"] == "1000.00" and by_id[old]["days_overdue"] > 0
    assert by_id[new]["days_overdue"] == 0 and by_id[new]["currency"] == "CNY"
    overdue = finance.get("/api/v1/invoices", query_string={"overdue": "true"}).get_json()["data"]
    assert [i["id"] for i in overdue] == [old]
    assert [i["id"] for i in finance.get("/api/v1/invoices", query_string={"overdue": "false"}).get_json()["data"]] \
        == [new]
    # A receipt of 1,000: applied to the oldest due invoice, which is settled.
    body = {"order_id": order_id, "kind": "receipt", "amount": "1000.00", "received_on": date.today().isoformat(),
            "reference": "BANK-7"}
    first = finance.post("/api/v1/payments", json=body, headers={"Idempotency-Key": "pay-7"})
    assert first.status_code == 201, first.get_json()
    payment = first.get_json()
    assert payment["amount"] == "1000.00" and payment["kind"] == "receipt" and payment["matched"] == "0.00"
    again = finance.post("/api/v1/payments", json=body, headers={"Idempotency-Key": "pay-7"})
    assert again.status_code == 201 and again.get_json() == payment
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Payment.id)).where(Payment.reference == "BANK-7")) == 1
    assert finance.get(f"/api/v1/invoices/{old}").get_json()["status"] == "settled"
    assert [i["id"] for i in finance.get("/api/v1/invoices", query_string={"status": "open"}).get_json()["data"]] \
        == [new]
    assert finance.get("/api/v1/invoices", query_string={"overdue": "true"}).get_json()["data"] == []
    payments = finance.get("/api/v1/payments", query_string={"order_id": order_id}).get_json()["data"]
    assert payment["id"] in [p["id"] for p in payments]
    with app.app_context():
        customer_id = db.session.get(Order, order_id).customer_id
    assert payment["id"] in [p["id"] for p in finance.get("/api/v1/payments", query_string={
        "customer_id": customer_id}).get_json()["data"]]
    assert finance.get("/api/v1/payments", query_string={"customer_id": customer_id + 99}).get_json()["data"] == []
    # Bad bodies.
    assert "colour" in is_problem(finance.post("/api/v1/payments", json={**body, "colour": "red"}),
                                  422, "validation-error")["errors"]
    assert "amount" in is_problem(finance.post("/api/v1/payments", json={**body, "amount": "lots"}),
                                  422, "validation-error")["errors"]
    is_problem(finance.post("/api/v1/payments", json={**body, "amount": "0"}), 422, "validation-error")
    is_problem(finance.post("/api/v1/payments", json={**body, "amount": "1.005"}), 422, "validation-error")
    is_problem(finance.post("/api/v1/payments", json={**body, "received_on": "soon"}), 422, "validation-error")
    # Who may not: sales records no payment; a rep limited to their own customers sees none of
    # another's money; with the firm keeping receivables to finance, sales sees none at all.
    sales = api("sales")
    assert sales.get("/api/v1/invoices").status_code == 200  # the firm's default lets sales see receivables
    is_problem(sales.post("/api/v1/payments", json=body), 403, "forbidden")
    scope_reps_to_own_customers(app)
    assert sales.get("/api/v1/invoices").get_json()["data"] == []
    assert sales.get("/api/v1/payments").get_json()["data"] == []
    is_problem(sales.get(f"/api/v1/invoices/{old}"), 404, "not-found")
    firm_settings(app, finance_roles="", sales_own_customers_only=False)
    is_problem(sales.get("/api/v1/invoices"), 403, "forbidden")
    is_problem(sales.get(f"/api/v1/invoices/{old}"), 403, "forbidden")
    is_problem(sales.get("/api/v1/payments"), 403, "forbidden")
    is_problem(api("warehouse").get("/api/v1/invoices"), 403, "forbidden")
    is_problem(api("finance", scope="read").post("/api/v1/payments", json=body), 403, "insufficient-scope")
    draft = make_order("draft", customer="DRF")
    is_problem(finance.post("/api/v1/payments", json={**body, "order_id": draft}), 409, "state-conflict")
    is_problem(finance.post("/api/v1/payments", json={**body, "order_id": draft + 999}), 404, "not-found")
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Payment.id)).where(Payment.reference == "BANK-7")) == 1


@BOTH
def test_kpis_over_a_span_as_the_dashboard_measures_them(app, api, delivered):
    """The six KPIs for the manager (the last 30 days by default), without the cost ones for who may not
    see costs; a worker is refused; a bad span or customer answers 400."""
    manager = api("manager")
    answer = manager.get("/api/v1/kpis").get_json()
    assert [k["key"] for k in answer["kpis"]] == ["response", "on-time", "satisfaction", "cost", "waste", "marginal"]
    assert date.fromisoformat(answer["to"]) - date.fromisoformat(answer["from"]) == timedelta(days=29)
    waste = next(k for k in answer["kpis"] if k["key"] == "waste")
    assert Decimal(waste["denominator"]) >= 1200  # the order's work orders made its 1,200 pieces
    satisfaction = next(k for k in answer["kpis"] if k["key"] == "satisfaction")
    assert satisfaction["value"] is None  # no survey answered: no data, not zero
    span = manager.get("/api/v1/kpis", query_string={"from": "2026-01-01", "to": "2026-01-31"}).get_json()
    assert span["from"] == "2026-01-01" and span["to"] == "2026-01-31"
    firm_settings(app, cost_roles="")  # costs kept to finance and the manager
    sales = api("sales")
    keys = [k["key"] for k in sales.get("/api/v1/kpis").get_json()["kpis"]]
    assert "cost" not in keys and "marginal" not in keys and "on-time" in keys
    assert next(k for k in sales.get("/api/v1/kpis").get_json()["kpis"] if k["key"] == "waste")["extra"] == {}
    is_problem(api("worker").get("/api/v1/kpis"), 403, "forbidden")
    is_problem(manager.get("/api/v1/kpis", query_string={"from": "2026-02-01", "to": "2026-01-01"}), 400, "bad-request")
    is_problem(manager.get("/api/v1/kpis", query_string={"from": "2020-01-01", "to": "2026-01-01"}), 400, "bad-request")
    is_problem(manager.get("/api/v1/kpis", query_string={"customer_id": 999999}), 400, "bad-request")
    is_problem(manager.get("/api/v1/kpis", query_string={"to": "tomorrow"}), 400, "bad-request")
