"""Stage 6: the cost sheet (成本核算表) — budget from the approved order, actuals entered by
finance, variance and variance rate per category and in total, causes, finalising — and closing
the order once it is delivered, followed up and costed."""
from decimal import Decimal

import pytest

from webapp.aftersales import services as aftersales_services
from webapp.costing import services
from webapp.costing.models import CostLine, CostSheet, variance_rate
from webapp.db_types import utcnow
from webapp.extensions import db
from webapp.notify import mail
from webapp.orders.models import Order

from .helpers import count, error_of, get, text_of

# Logistics is not typed: its actual is the freight entered on the order's shipments.
ACTUALS = {"actual_material": "120.00", "actual_labour": "90", "actual_overhead": "100", "actual_aftersales": "0",
           "cause_material": "Steel price rose in November", "cause_labour": "", "cause_overhead": "",
           "cause_logistics": "", "cause_aftersales": ""}


@pytest.fixture
def order_id(app, make_order):
    """An order in production with the budget finance set at review (100 per category), except
    logistics, budgeted at 0 to show a rate without a budget."""
    order_id = make_order("in_production")
    with app.app_context():
        db.session.get(Order, order_id).budget_logistics = Decimal("0")
        db.session.commit()
    return order_id


def deliver(app, order_id):
    """Setup shortcut: what shipping does when the customer signs the last delivery receipt."""
    with app.app_context(), app.test_request_context("/", method="POST"):
        order = db.session.get(Order, order_id)
        aftersales_services.on_receipt(order, utcnow())
        # SHORTCUT for the test setup only: shipping moves the order to "delivered" in the app.
        order.status = "delivered"
        aftersales_services.on_delivered(order)
        db.session.commit()
        mail.discard()


def test_variance_rate_is_none_without_a_budget():
    """variance / budget, rounded to 0.01 %; no rate against a budget of 0 or without an actual."""
    assert variance_rate(Decimal("20"), Decimal("100")) == Decimal("0.2")
    assert variance_rate(Decimal("-1"), Decimal("3")) == Decimal("-0.3333")
    assert variance_rate(Decimal("25.5"), Decimal("0")) is None
    assert variance_rate(None, Decimal("100")) is None


def test_sheet_shows_the_budget_and_finance_enters_actuals(app, order_id, as_user):
    """The budget comes from the approved order; finance's actuals give the variance and its rate
    per category and in total; the cause is kept."""
    finance = as_user("finance")
    page = text_of(finance.get(f"/costing/orders/{order_id}"))
    assert "Cost sheet" in page and "¥100.00" in page and "Save cost sheet" in page
    assert count(app, CostSheet) == 0  # nothing saved by looking
    response = finance.post(f"/costing/orders/{order_id}", data=ACTUALS)
    assert response.status_code == 303
    with app.app_context():
        sheet = db.session.scalar(db.select(CostSheet).where(CostSheet.order_id == order_id))
        lines = {line.category: line for line in sheet.lines}
        assert lines["material"].actual == Decimal("120.00") and lines["material"].variance == Decimal("20.00")
        assert lines["material"].variance_rate == Decimal("0.2")
        assert lines["material"].cause == "Steel price rose in November"
        assert lines["labour"].variance == Decimal("-10.00") and lines["labour"].variance_rate == Decimal("-0.1")
        assert lines["logistics"].budget == Decimal("0") and lines["logistics"].variance_rate is None
        assert lines["logistics"].actual == Decimal("0")  # no shipment yet, so no freight
        assert sheet.budget_total == Decimal("400.00") and sheet.actual_total == Decimal("310.00")
        assert sheet.variance == Decimal("-90.00") and sheet.variance_rate == Decimal("-0.225")
    page = text_of(finance.get(f"/costing/orders/{order_id}"))
    assert "20.0%" in page and "-22.5%" in page and "¥310.00" in page
    assert "Steel price rose in November" in page


def test_cost_sheet_bad_input_roles(app, order_id, as_user):
    """Text or a negative amount is a 422 with the typed value kept; only finance enters actuals;
    people without access to costs cannot see the sheet."""
    finance = as_user("finance")
    response = finance.post(f"/costing/orders/{order_id}", data={**ACTUALS, "actual_material": "12o",
                                                                  "actual_labour": "-5"})
    page = text_of(response)
    assert response.status_code == 422
    assert "Enter a number" in error_of(page, "actual_material") and 'value="12o"' in page
    assert "at least 0" in error_of(page, "actual_labour") and "Steel price rose in November" in page
    assert count(app, CostSheet) == 0
    sales = as_user("sales")
    assert sales.get(f"/costing/orders/{order_id}").status_code == 200
    assert "Save cost sheet" not in text_of(sales.get(f"/costing/orders/{order_id}"))
    assert sales.post(f"/costing/orders/{order_id}", data=ACTUALS).status_code == 403
    assert as_user("worker").get(f"/costing/orders/{order_id}").status_code == 403
    assert as_user("qc").get(f"/costing/orders/{order_id}").status_code == 403


def test_finalise(app, order_id, as_user):
    """Finalising needs every actual; once finalised the sheet no longer changes."""
    finance = as_user("finance")
    finalise = f"/costing/orders/{order_id}/finalise"
    assert finance.post(finalise).status_code == 409  # nothing entered
    finance.post(f"/costing/orders/{order_id}", data={**ACTUALS, "actual_overhead": ""})
    response = finance.post(finalise)
    assert response.status_code == 409 and "actual cost of every category" in text_of(response)
    assert as_user("manager").post(finalise).status_code == 403
    finance.post(f"/costing/orders/{order_id}", data=ACTUALS)
    assert finance.post(finalise).status_code == 303
    with app.app_context():
        sheet = db.session.scalar(db.select(CostSheet))
        assert sheet.is_final and sheet.finalised_by_id == finance.user_id
    assert finance.post(finalise).status_code == 409
    changed = finance.post(f"/costing/orders/{order_id}", data={**ACTUALS, "actual_material": "1"})
    assert changed.status_code == 409 and "finalised" in text_of(changed)
    assert count(app, CostLine) == 5


def test_cost_sheet_refused_on_an_unapproved_order(app, make_order, as_user):
    """A draft has no approved budget to cost against."""
    draft = make_order("draft")
    assert as_user("finance").post(f"/costing/orders/{draft}", data=ACTUALS).status_code == 409


def test_close_refused_until_delivered_followed_up_and_costed(app, order_id, as_user):
    """The close button says what is missing (409) until the order is delivered, the follow-up
    call recorded and the cost sheet finalised; then finance closes it."""
    finance, manager, sales = as_user("finance"), as_user("manager"), as_user("sales")
    close = f"/costing/orders/{order_id}/close"
    assert sales.post(close).status_code == 403
    assert as_user("worker").post(close).status_code == 403

    response = manager.post(close)
    page = text_of(response)
    assert response.status_code == 409
    assert "not been delivered" in page and "follow-up call" in page and "not been finalised" in page
    with app.app_context(), app.test_request_context():
        assert services.close_blockers(db.session.get(Order, order_id)) == [
            "The order has not been delivered yet.", "The follow-up call has not been recorded yet.",
            "The cost sheet has not been finalised yet.",
            "The order is not fully paid (total including tax less payments and credits)."]

    deliver(app, order_id)
    page = text_of(finance.post(close))
    assert "not been delivered" not in page and "follow-up call" in page

    sales.post(f"/aftersales/orders/{order_id}/follow-up", data={"f-outcome": "All good"})
    response = finance.post(close)
    assert response.status_code == 409 and "follow-up call" not in text_of(response)
    assert "not been finalised" in text_of(response)

    finance.post(f"/costing/orders/{order_id}", data=ACTUALS)
    finance.post(f"/costing/orders/{order_id}/finalise")
    response = finance.post(close)
    assert response.status_code == 409 and "not fully paid" in text_of(response)
    assert finance.post(f"/orders/{order_id}/payments", data={
        "kind": "receipt", "amount": "1130", "received_on": "2026-11-21"}).status_code == 303  # 100 × 11.30
    assert sales.post(close).status_code == 403
    response = finance.post(close)
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/orders/{order_id}")
    assert get(app, Order, order_id).status == "closed"
    assert finance.post(close).status_code == 409  # already closed
    page = text_of(finance.get(f"/costing/orders/{order_id}"))
    assert "Close order" not in page and "Save cost sheet" not in page


def test_the_shipments_freight_is_the_logistics_actual(app, make_order, as_user):
    """Three shipments with ¥1,280.50, ¥2,345.00 and ¥0 freight: the sheet shows ¥3,625.50 as the
    logistics actual before and after finance saves with the field left blank (blank: the records),
    and finalising keeps it."""
    from .test_shipping import new_shipment
    from webapp.orders.models import OrderLine
    order_id = make_order("ready_to_ship", quantity="3000")
    with app.app_context():
        line_id = db.session.scalar(db.select(OrderLine.id).where(OrderLine.order_id == order_id))
    warehouse, finance = as_user("warehouse"), as_user("finance")
    for qty, cost in (("1000", "1280.50"), ("1500", "2345"), ("500", "0")):
        assert new_shipment(warehouse, order_id, line_id, qty, cost=cost).status_code == 303
    with app.app_context():
        assert services.freight(db.session.get(Order, order_id)) == Decimal("3625.50")
    page = text_of(finance.get(f"/costing/orders/{order_id}"))
    assert "The records say ¥3,625.50." in page
    assert finance.post(f"/costing/orders/{order_id}", data={**ACTUALS, "actual_logistics": ""}).status_code == 303
    with app.app_context():
        sheet = db.session.scalar(db.select(CostSheet).where(CostSheet.order_id == order_id))
        logistics = {line.category: line for line in sheet.lines}["logistics"]
        assert logistics.actual == Decimal("3625.50") and logistics.variance == Decimal("3525.50")
        assert logistics.source == "derived" and logistics.entered_by_id is None
        assert sheet.actual_total == Decimal("3935.50")
    assert finance.post(f"/costing/orders/{order_id}/finalise").status_code == 303
    assert "¥3,625.50" in text_of(finance.get(f"/costing/orders/{order_id}"))
