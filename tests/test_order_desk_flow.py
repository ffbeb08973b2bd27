"""Both stages end to end with the test client: every role on its own login, the customer on links."""
import json

from webapp.audit import AuditEvent
from webapp.extensions import db
from webapp.orders.models import Countersignature, Order, OrderVersion
from webapp.requirements.models import Requirement

from .helpers import SIGNATURE, customer_path, get, id_from_location, order_form, requirement_form, text_of


def test_requirement_to_effective_order(app, as_user, make_customer, make_product):
    """A requirement is confirmed by the customer, becomes an order, passes review, approval and
    the customer's countersignature, and ends effective with its number."""
    walk_to_effective(app, as_user, make_customer, make_product)


def walk_to_effective(app, as_user, make_customer, make_product):
    """Stages 1 and 2 through the pages, as each role and as the customer; return the order id
    and the clients {role: client}."""
    customer_id = make_customer("ACME")
    make_product("BRK-1", on_hand="40")
    sales, production, finance = as_user("sales"), as_user("production"), as_user("finance")
    warehouse, manager = as_user("warehouse"), as_user("manager")
    customer = app.test_client()

    # Stage 1: the record, sent, a clarification, resent, confirmed.
    response = sales.post("/requirements/new", data=requirement_form(customer_id))
    assert response.status_code == 303
    req_id = id_from_location(response)
    assert sales.post(f"/requirements/{req_id}/send").status_code == 303
    page = text_of(sales.get(f"/requirements/{req_id}"))
    assert "https://tracker.example.com/c/" in page  # the link to copy
    link = customer_path(app, "requirement_confirm", req_id)
    assert "Stainless bracket" in text_of(customer.get(link))
    response = customer.post(link + "/clarify", data={"clarify-name": "Ann", "clarify-comment": "Which finish?"})
    assert response.status_code == 303
    assert "Which finish?" in text_of(customer.get(link))  # that round's link is used up: a read-only copy
    assert get(app, Requirement, req_id).status == "clarification"
    sales.post(f"/requirements/{req_id}/edit", data=requirement_form(customer_id, specs="304, brushed"))
    sales.post(f"/requirements/{req_id}/send")
    link = customer_path(app, "requirement_confirm", req_id)
    assert customer.post(link + "/confirm", data={"confirm-name": "Ann"}).status_code == 303
    requirement = get(app, Requirement, req_id)
    assert requirement.status == "confirmed"
    assert sales.get(f"/requirements/{req_id}/edit").status_code == 403  # frozen

    # Stage 2: the order from the requirement.
    response = sales.post(f"/orders/new?requirement_id={req_id}", data={**order_form(), "requirement_id": req_id})
    assert response.status_code == 303, text_of(response)[:2000]
    order_id = id_from_location(response)
    order = get(app, Order, order_id)
    assert order.requirement_id == req_id and order.total_excl == 1000 and order.total == 1130
    assert sales.post(f"/orders/{order_id}/submit").status_code == 303
    assert get(app, Order, order_id).status == "in_review"

    # Each department sees its view and signs off.
    assert "40" in text_of(warehouse.get(f"/orders/{order_id}"))  # on-hand stock shown
    assert warehouse.post(f"/orders/{order_id}/review/warehouse",
                          data={"warehouse-verdict": "agree", "warehouse-note": "60 to make"}).status_code == 303
    assert production.post(f"/orders/{order_id}/review/production",
                           data={"production-verdict": "agree"}).status_code == 303
    budget = {"budget_material": "400", "budget_labour": "200", "budget_overhead": "100",
              "budget_logistics": "50", "budget_aftersales": "20"}
    assert finance.post(f"/orders/{order_id}/budget", data=budget).status_code == 303
    assert finance.post(f"/orders/{order_id}/review/finance", data={"finance-verdict": "agree"}).status_code == 303
    order = get(app, Order, order_id)
    assert order.status == "pending_approval" and order.margin == 230

    # Approvals; the number comes with the last one.
    assert manager.post(f"/orders/{order_id}/decide", data={"role": "manager", "decision": "approve"}).status_code == 303
    assert get(app, Order, order_id).number is None
    assert finance.post(f"/orders/{order_id}/decide", data={"role": "finance", "decision": "approve"}).status_code == 303
    order = get(app, Order, order_id)
    assert order.status == "awaiting_countersign" and order.effective_at is None
    assert order.number.endswith("-ACME-001") and len(order.number) == len("202611-ACME-001")

    # The customer countersigns by drawing.
    link = customer_path(app, "order_countersign", order_id)
    page = text_of(customer.get(link))
    assert order.number in page and "signature-pad" in page
    response = customer.post(link + "/sign", data={"name": "Ann Buyer", "title": "Buyer", "consent": "y",
                                                   "strokes": SIGNATURE})
    assert response.status_code == 303
    assert "<svg" in text_of(customer.get(response.headers["Location"]))
    order = get(app, Order, order_id)
    assert order.status == "effective" and order.signed_version == 1 and order.effective_at is not None
    with app.app_context():
        signature = db.session.scalar(db.select(Countersignature).where(Countersignature.order_id == order_id))
        version = db.session.scalar(db.select(OrderVersion).where(OrderVersion.order_id == order_id))
        assert signature.terms_sha256 == version.sha256
        assert json.loads(signature.terms_json)["number"] == order.number
        assert signature.signature_svg.startswith("<svg") and "polyline" in signature.signature_svg
        # every step is on the timeline
        actions = [e.action for e in db.session.scalars(db.select(AuditEvent).where(
            AuditEvent.entity_type == "order", AuditEvent.entity_id == order_id))]
    for action in ("order.created", "order.submit", "order.review", "order.approve", "order.numbered",
                   "order.countersign"):
        assert action in actions
    assert "Ann Buyer" in text_of(sales.get(f"/orders/{order_id}/timeline"))
    confirmation = text_of(sales.get(f"/orders/{order_id}/confirmation"))
    assert order.number in confirmation and "<svg" in confirmation and signature.terms_sha256 in confirmation

    # A second signing changes nothing: the used link leads back to the signed copy.
    again = customer.post(link + "/sign", data={"name": "X", "consent": "y", "strokes": SIGNATURE})
    assert again.status_code == 303 and again.headers["Location"] == link
    return order_id, {"sales": sales, "production": production, "finance": finance,
                      "warehouse": warehouse, "manager": manager, "customer": customer}
