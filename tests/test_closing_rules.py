"""Closing an order needs nothing left open with the customer (return case, ticket, money), or a
manager's override with a reason; the satisfaction survey waits until delivery is complete and
nothing is open, and goes out when the last of them is settled. Through the real shipping flow."""
from decimal import Decimal

import pytest

from webapp.aftersales.models import Survey, Ticket
from webapp.audit import AuditEvent
from webapp.extensions import db
from webapp.orders.models import Order, OrderLine
from webapp.shipping.models import ReturnCase

from .helpers import count, customer_path, get, text_of
from .test_aftersales import open_ticket_as
from .test_costing import ACTUALS
from .test_shipping import signed_with_damage

OPEN_RETURN = "A return case is still open."
OPEN_TICKET = "A ticket is still open."
UNPAID = "The order is not fully paid (total including tax less payments and credits)."


@pytest.fixture
def delivered_with_damage(app, make_order, as_user):
    """2,500 pieces at ¥10.00 (¥28,250.00 with 13 % tax), 30 % paid, shipped in one shipment and
    signed for with 100 damaged: the order is delivered with a return case open; the follow-up call
    is recorded and the cost sheet finalised, so only what is open with the customer remains."""
    order_id = make_order("ready_to_ship", quantity="2500")
    with app.app_context():
        line_id = db.session.scalar(db.select(OrderLine.id).where(OrderLine.order_id == order_id))
    _shipment_id, case_id = signed_with_damage(app, as_user("warehouse"), order_id, line_id,
                                              quantity="2500", received="2400")
    assert get(app, Order, order_id).status == "delivered"
    finance = as_user("finance")
    assert finance.post(f"/orders/{order_id}/payments", data={
        "kind": "deposit", "amount": "8475", "received_on": "2026-11-20"}).status_code == 303
    as_user("sales").post(f"/aftersales/orders/{order_id}/follow-up", data={"f-outcome": "Called, all clear"})
    finance.post(f"/costing/orders/{order_id}", data=ACTUALS)
    assert finance.post(f"/costing/orders/{order_id}/finalise").status_code == 303
    return order_id, case_id


def close_return(client, case_id, outcome="replaced", note="100 new pieces sent with SF Express"):
    return client.post(f"/shipping/returns/{case_id}/close",
                       data={f"close-{case_id}-outcome": outcome, f"close-{case_id}-note": note})


def test_each_open_matter_blocks_closing_and_the_survey_waits_for_the_last(app, delivered_with_damage, as_user):
    """A return case, a ticket and 70 % unpaid each keep the order open (409 naming each); the survey is
    not sent at the damaged delivery nor when the return closes while a ticket is open, but when the
    customer confirms the last ticket; with the money in, finance closes."""
    order_id, case_id = delivered_with_damage
    assert count(app, Survey) == 0  # not the same second the damage was reported
    sales, finance = as_user("sales"), as_user("finance")
    ticket_id = open_ticket_as(sales, order_id, "Scratches", "Some pieces scratched as well")
    close = f"/costing/orders/{order_id}/close"

    def refused_with() -> set:
        response = finance.post(close)
        assert response.status_code == 409
        page = text_of(response)
        return {message for message in (OPEN_RETURN, OPEN_TICKET, UNPAID) if message in page}

    assert refused_with() == {OPEN_RETURN, OPEN_TICKET, UNPAID}
    sheet = text_of(finance.get(f"/costing/orders/{order_id}"))
    assert "Unpaid: " in sheet and "19,775.00 of " in sheet and "28,250.00 (including tax)" in sheet

    assert close_return(as_user("aftersales"), case_id).status_code == 303
    assert refused_with() == {OPEN_TICKET, UNPAID}
    assert count(app, Survey) == 0  # a ticket is still open

    assert finance.post(f"/orders/{order_id}/payments", data={
        "kind": "receipt", "amount": "19775", "received_on": "2026-12-01"}).status_code == 303
    assert refused_with() == {OPEN_TICKET}

    assert sales.post(f"/aftersales/tickets/{ticket_id}/respond", data={"m-body": "Replaced too."}).status_code == 303
    path = customer_path(app, "order_service", order_id)
    assert app.test_client().post(f"/aftersales{path}/tickets/{ticket_id}/confirm").status_code == 303
    assert get(app, Ticket, ticket_id).status == "resolved"
    assert count(app, Survey) == 1  # the last open matter settled: now the survey goes
    customer_path(app, "survey", order_id)

    response = finance.post(close)
    assert response.status_code == 303 and get(app, Order, order_id).status == "closed"
    assert get(app, Order, order_id).close_override is None


def test_the_survey_goes_when_the_return_case_is_the_last_to_close(app, delivered_with_damage, as_user):
    """With no ticket, closing the return case sends the survey (once)."""
    order_id, case_id = delivered_with_damage
    assert count(app, Survey) == 0
    assert close_return(as_user("manager"), case_id, "credited", "Credit note CN-88").status_code == 303
    assert count(app, Survey) == 1


def test_a_manager_closes_over_open_matters_with_a_reason(app, delivered_with_damage, as_user):
    """Finance cannot override (403); the manager must give a reason (422 with the message); with one
    the order closes, the reason is on the order page and the timeline, and the audit trail keeps what
    was overridden. The survey still waits for the open return case."""
    order_id, case_id = delivered_with_damage
    close = f"/costing/orders/{order_id}/close"
    manager = as_user("manager")
    page = text_of(manager.get(f"/costing/orders/{order_id}"))
    assert "Close anyway (manager)" in page
    assert "Close anyway (manager)" not in text_of(as_user("finance").get(f"/costing/orders/{order_id}"))
    assert as_user("finance").post(close, data={"override-reason": "please"}).status_code == 403
    missing = manager.post(close, data={"override-reason": "   "})
    assert missing.status_code == 422 and "Give the reason for closing anyway." in text_of(missing)
    assert manager.post(close).status_code == 409  # no override asked: the open matters block

    reason = "Customer in liquidation; the balance goes to the debt collector (ref. DC-2026-14)"
    response = manager.post(close, data={"override-reason": reason})
    assert response.status_code == 303
    order = get(app, Order, order_id)
    assert order.status == "closed" and order.close_override == reason
    with app.app_context():
        event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "order.close_override"))
        assert event.note == reason and set(event.after_data["overridden"]) == {OPEN_RETURN, UNPAID}
        assert Decimal(event.after_data["unpaid"]) == Decimal("19775.00")
    assert reason in text_of(as_user("sales").get(f"/orders/{order_id}"))
    assert reason in text_of(as_user("sales").get(f"/orders/{order_id}/timeline"))
    assert count(app, Survey) == 0  # the return case is still open
    assert close_return(manager, case_id).status_code == 303
    assert count(app, Survey) == 1
    assert get(app, ReturnCase, case_id).status == "closed"


def test_override_does_not_skip_delivery_follow_up_or_cost_sheet(app, make_order, as_user):
    """The override covers only what is open with the customer: an undelivered order stays open."""
    order_id = make_order("in_production")
    response = as_user("manager").post(f"/costing/orders/{order_id}/close", data={"override-reason": "hurry"})
    assert response.status_code == 409 and "not been delivered" in text_of(response)
    assert get(app, Order, order_id).status == "in_production"


def test_a_return_credit_counts_as_paid_when_closing(app, delivered_with_damage, as_user):
    """The 100 damaged pieces credited (¥1,130.00): the customer owes ¥19,775.00 less the credit, so
    ¥18,645.00 more settles the order and finance closes it without an override."""
    order_id, case_id = delivered_with_damage
    aftersales = as_user("aftersales")
    assert aftersales.post(f"/shipping/returns/{case_id}/start", data={"action": "Credit the dented pieces"}
                           ).status_code == 303
    credit = aftersales.post(f"/shipping/returns/{case_id}/credit",
                                        data={"cr-amount": "1,130.00", "cr-note": "100 pieces dented"})
    assert credit.status_code == 303
    finance = as_user("finance")
    assert finance.post(f"/orders/{order_id}/payments", data={
        "kind": "receipt", "amount": "18,644.99", "received_on": "2026-12-01"}).status_code == 303
    short = finance.post(f"/costing/orders/{order_id}/close")
    assert short.status_code == 409 and UNPAID in text_of(short)  # one cent short
    assert finance.post(f"/orders/{order_id}/payments", data={
        "kind": "receipt", "amount": "0.01", "received_on": "2026-12-01"}).status_code == 303
    assert finance.post(f"/costing/orders/{order_id}/close").status_code == 303
    order = get(app, Order, order_id)
    assert order.status == "closed" and order.close_override is None
