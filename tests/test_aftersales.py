"""Stage 5: the follow-up call 3 days after receipt, tickets with a 24-working-hour first-response
clock tracked to the customer's confirmation on their order link, and the satisfaction survey
(sent once the order is delivered and no ticket is open; one answer per link)."""
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

from webapp.admin.models import CalendarDay
from webapp import clocks
from webapp.aftersales import lifecycle, services
from webapp.aftersales.models import FollowUp, Survey, Ticket, TicketMessage
from webapp.db_types import utcnow
from webapp.extensions import db
from webapp.notify import mail
from webapp.orders.models import Order
from webapp.statemachine import TransitionError

from .helpers import count, customer_path, error_of, get, text_of

SHANGHAI = ZoneInfo("Asia/Shanghai")


def receive(app, order_id, signed_at=None, delivered=True):
    """Setup shortcut: what shipping does when the customer signs (the last) delivery receipt."""
    with app.app_context(), app.test_request_context("/", method="POST"):
        order = db.session.get(Order, order_id)
        services.on_receipt(order, signed_at or utcnow())
        if delivered:
            # SHORTCUT for the test setup only: shipping moves the order to "delivered" in the app.
            order.status = "delivered"
            services.on_delivered(order)
        db.session.commit()
        mail.flush()


@pytest.fixture
def order_id(make_order):
    """An order in production (shipping is not part of these tests)."""
    return make_order("in_production")


def open_ticket_as(client, order_id, subject="Scratches", description="Three pieces scratched"):
    """Open a ticket through the staff form; return its id."""
    response = client.post(f"/aftersales/orders/{order_id}/tickets",
                           data={"t-subject": subject, "t-description": description})
    assert response.status_code == 303, text_of(response)[:400]
    return int(re.search(r"/tickets/(\d+)", response.headers["Location"]).group(1))


# --- follow-up ---------------------------------------------------------------------------------

def test_receipt_plans_one_follow_up_three_days_later(app, order_id):
    """The first receipt plans the rep's call 3 days later; a second receipt adds nothing; the
    customer gets the after-sales link and the rep a mail."""
    first = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)
    receive(app, order_id, first, delivered=False)
    receive(app, order_id, first + timedelta(days=2), delivered=False)
    with app.app_context():
        rows = db.session.scalars(db.select(FollowUp)).all()
        order = db.session.get(Order, order_id)
        assert len(rows) == 1
        assert rows[0].due_at == first + timedelta(days=3) and rows[0].assignee_id == order.sales_rep_id
        assert rows[0].status == "open"
    customer_path(app, "order_service", order_id)  # a live link exists
    mails = [m.read_bytes() for m in Path(app.config["MAIL_FOLDER"]).glob("*.eml")]
    # the rep's mail (in the rep's language) links to the order's after-sales page
    assert any(f"/aftersales/orders/{order_id}".encode() in m for m in mails)


def test_follow_up_outcome_roles_states_and_bad_input(app, order_id, as_user):
    """Sales record the call's outcome once; others are refused; an empty outcome is a 422."""
    receive(app, order_id)
    url = f"/aftersales/orders/{order_id}/follow-up"
    sales = as_user("sales")
    page = text_of(sales.get(f"/aftersales/orders/{order_id}"))
    assert "Record the call" in page
    response = sales.post(url, data={"f-outcome": "   "})
    assert response.status_code == 422 and "Write down what the customer said" in error_of(text_of(response), "f-outcome")
    assert as_user("finance").post(url, data={"f-outcome": "x"}).status_code == 403
    assert as_user("worker").post(url, data={"f-outcome": "x"}).status_code == 403
    assert sales.post(url, data={"f-outcome": "Happy; wants a second batch in March"}).status_code == 303
    row = get(app, FollowUp, 1)
    assert row.status == "done" and row.done_by_id == sales.user_id and "second batch" in row.outcome
    assert sales.post(url, data={"f-outcome": "again"}).status_code == 409
    assert "second batch" in text_of(sales.get(f"/aftersales/orders/{order_id}"))


def test_follow_up_before_any_receipt_is_404(app, order_id, as_user):
    """There is nothing to record before the customer signed for something."""
    assert as_user("sales").post(f"/aftersales/orders/{order_id}/follow-up",
                                 data={"f-outcome": "x"}).status_code == 404


# --- the working-hours clock -------------------------------------------------------------------

def test_ticket_opened_friday_evening_is_due_monday_evening(app, order_id, as_user):
    """24 working hours: Friday 17:00 (Asia/Shanghai) → Monday 17:00; the weekend does not count."""
    with time_machine.travel(datetime(2026, 12, 4, 17, 0, tzinfo=SHANGHAI), tick=False):
        aftersales = as_user("aftersales")
        ticket_id = open_ticket_as(aftersales, order_id)
    ticket = get(app, Ticket, ticket_id)
    assert ticket.first_response_due_at == datetime(2026, 12, 7, 17, 0, tzinfo=SHANGHAI)
    assert ticket.first_response_due_at.astimezone(timezone.utc).hour == 9
    # an answer on Monday after 17:00 is late, and the page says so
    with time_machine.travel(datetime(2026, 12, 7, 18, 0, tzinfo=SHANGHAI), tick=False):
        assert aftersales.post(f"/aftersales/tickets/{ticket_id}/respond",
                               data={"m-body": "Replacement parts leave tomorrow."}).status_code == 303
        assert '<strong class="over">late</strong>' in text_of(aftersales.get(f"/aftersales/tickets/{ticket_id}"))
    assert get(app, Ticket, ticket_id).response_late


def test_working_hours_follow_the_firms_calendar(app):
    """Holidays stop the clock; a swapped weekend working day (调休) runs it; a ticket opened on a
    Saturday starts counting on Monday at midnight."""
    with app.app_context():
        friday = datetime(2026, 12, 4, 17, 0, tzinfo=SHANGHAI)
        db.session.add(CalendarDay(day=friday.date() + timedelta(days=3), name="Holiday", is_working=False))
        db.session.flush()
        assert clocks.add_working_hours(friday, 24, "Asia/Shanghai") == datetime(2026, 12, 8, 17, 0, tzinfo=SHANGHAI)
        db.session.add(CalendarDay(day=friday.date() + timedelta(days=1), name="调休", is_working=True))
        db.session.flush()
        assert clocks.add_working_hours(friday, 24, "Asia/Shanghai") == datetime(2026, 12, 5, 17, 0, tzinfo=SHANGHAI)
        sunday = datetime(2026, 12, 6, 10, 0, tzinfo=SHANGHAI)
        assert clocks.add_working_hours(sunday, 24, "Asia/Shanghai") == datetime(2026, 12, 9, 0, 0, tzinfo=SHANGHAI)
        tuesday = datetime(2026, 12, 8, 9, 30, tzinfo=SHANGHAI)
        assert clocks.add_working_hours(tuesday, 24, "Asia/Shanghai") == datetime(2026, 12, 9, 9, 30, tzinfo=SHANGHAI)
        db.session.rollback()


# --- tickets -----------------------------------------------------------------------------------

def test_ticket_from_staff_answered_and_confirmed_by_the_customer(app, order_id, as_user):
    """Staff open and answer; the customer reads the answer on their order link, says it is not
    solved, gets another answer and confirms; the transitions refuse wrong roles and states."""
    receive(app, order_id, delivered=False)
    sales, aftersales = as_user("sales"), as_user("aftersales")
    ticket_id = open_ticket_as(sales, order_id)
    respond = f"/aftersales/tickets/{ticket_id}/respond"
    bad = aftersales.post(respond, data={"m-body": ""})
    assert bad.status_code == 422 and "Write a message" in error_of(text_of(bad), "m-body")
    assert as_user("finance").post(respond, data={"m-body": "x"}).status_code == 403
    assert aftersales.post(respond, data={"m-body": "We send three new pieces."}).status_code == 303
    assert get(app, Ticket, ticket_id).status == "answered" and get(app, Ticket, ticket_id).first_response_at

    path = customer_path(app, "order_service", order_id)
    customer = app.test_client()
    page = text_of(customer.get(path))
    assert "We send three new pieces." in page and "Yes, this is solved" in page
    assert customer.post(f"/aftersales{path}/tickets/{ticket_id}/reply", data={f"r{ticket_id}-body": "They are still scratched"}).status_code == 303
    assert get(app, Ticket, ticket_id).status == "open"
    # confirming an unanswered ticket is not possible
    assert customer.post(f"/aftersales{path}/tickets/{ticket_id}/confirm").status_code == 409
    assert aftersales.post(respond, data={"m-body": "New pieces, inspected twice, leave today."}).status_code == 303
    assert customer.post(f"/aftersales{path}/tickets/{ticket_id}/confirm").status_code == 303
    ticket = get(app, Ticket, ticket_id)
    assert ticket.status == "resolved" and ticket.resolved_at
    # a resolved ticket takes no more answers, replies or confirmations
    assert aftersales.post(respond, data={"m-body": "x"}).status_code == 409
    assert customer.post(f"/aftersales{path}/tickets/{ticket_id}/confirm").status_code == 409
    assert customer.post(f"/aftersales{path}/tickets/{ticket_id}/reply", data={f"r{ticket_id}-body": "x"}).status_code == 409
    assert count(app, TicketMessage) == 3


def test_customer_only_transitions_refuse_staff_roles():
    """Confirming, reopening and answering the survey are the customer's (403 for any staff role)."""
    ticket = type("T", (), {"status": "answered"})()
    survey = type("S", (), {"status": "sent"})()
    for machine, obj, name in ((lifecycle.TICKET, ticket, "confirm"), (lifecycle.TICKET, ticket, "reopen"),
                               (lifecycle.SURVEY, survey, "answer")):
        with pytest.raises(TransitionError) as refused:
            machine.check(obj, name, {"manager", "aftersales", "sales"})
        assert refused.value.status == 403
        machine.check(obj, name, {"customer"})


def test_customer_opens_a_ticket_on_the_order_link(app, order_id, as_user):
    """The customer's form keeps what was typed on an error; the rep is told; no prices shown."""
    receive(app, order_id, delivered=False)
    path = customer_path(app, "order_service", order_id)
    customer = app.test_client()
    bad = customer.post(f"/aftersales{path}/tickets", data={"t-name": "", "t-subject": "Missing manual",
                                                            "t-description": "No manual in box 2"})
    page = text_of(bad)
    assert bad.status_code == 422 and "Enter your name" in error_of(page, "t-name")
    assert 'value="Missing manual"' in page and "No manual in box 2" in page
    ok = customer.post(f"/aftersales{path}/tickets", data={"t-name": "Ann", "t-subject": "Missing manual",
                                                           "t-description": "No manual in box 2"})
    assert ok.status_code == 303 and ok.headers["Location"].endswith(path)
    with app.app_context():
        ticket = db.session.scalar(db.select(Ticket))
        assert ticket.opened_by_id is None and ticket.opened_by_customer == "Ann" and ticket.status == "open"
    page = text_of(customer.get(path))
    assert "Missing manual" in page
    assert "¥" not in page and "Cost" not in page and "budget" not in page.lower()
    bad_reply = customer.post(f"/aftersales{path}/tickets/{ticket.id}/reply", data={f"r{ticket.id}-body": ""})
    assert bad_reply.status_code == 422 and "Write a message" in text_of(bad_reply)
    mails = [m.read_bytes() for m in Path(app.config["MAIL_FOLDER"]).glob("*.eml")]
    # the rep's mail (in the rep's language) links to the new ticket
    assert any(f"/aftersales/tickets/{ticket.id}".encode() in m for m in mails)


def test_a_link_opens_only_its_own_orders_tickets(app, make_order, as_user):
    """The after-sales link of order A cannot see or touch a ticket of order B."""
    a, b = make_order("in_production"), make_order("in_production")
    receive(app, a, delivered=False)
    receive(app, b, delivered=False)
    ticket_b = open_ticket_as(as_user("sales"), b)
    path_a = customer_path(app, "order_service", a)
    customer = app.test_client()
    assert customer.post(f"/aftersales{path_a}/tickets/{ticket_b}/reply", data={f"r{ticket_b}-body": "hi"}).status_code == 404
    assert customer.post(f"/aftersales{path_a}/tickets/{ticket_b}/confirm").status_code == 404
    assert "Scratches" not in text_of(customer.get(path_a))
    assert customer.get("/c/not-a-token").status_code == 404


def test_staff_ticket_form_roles_and_states(app, make_order, as_user):
    """Opening a ticket: bad input 422 (typed text kept), wrong role 403, an unapproved order 409."""
    order_id = make_order("in_production")
    sales = as_user("sales")
    bad = sales.post(f"/aftersales/orders/{order_id}/tickets", data={"t-subject": "", "t-description": "keep me"})
    assert bad.status_code == 422 and "keep me" in text_of(bad)
    assert "Say in a few words" in error_of(text_of(bad), "t-subject")
    assert as_user("finance").post(f"/aftersales/orders/{order_id}/tickets",
                                   data={"t-subject": "x", "t-description": "y"}).status_code == 403
    draft = make_order("draft")
    assert sales.post(f"/aftersales/orders/{draft}/tickets", data={"t-subject": "x", "t-description": "y"}).status_code == 409


def test_staff_issue_a_new_customer_link(app, order_id, as_user):
    """Sales (link.manage) issue the after-sales link; the old one stops working; others may not."""
    sales = as_user("sales")
    assert sales.post(f"/aftersales/orders/{order_id}/service-link").status_code == 303
    old = customer_path(app, "order_service", order_id)
    assert sales.post(f"/aftersales/orders/{order_id}/service-link").status_code == 303
    assert app.test_client().get(old).status_code == 404
    page = text_of(sales.get(f"/aftersales/orders/{order_id}"))
    assert customer_path(app, "order_service", order_id) in page
    assert as_user("finance").post(f"/aftersales/orders/{order_id}/service-link").status_code == 403


# --- the survey --------------------------------------------------------------------------------

def test_survey_once_delivered_one_answer_per_link(app, order_id, as_user):
    """Delivered with no ticket open: the survey goes out; bad answers are 422 with what was chosen
    kept; one answer is stored; a second is refused."""
    receive(app, order_id)
    path = customer_path(app, "survey", order_id)
    customer = app.test_client()
    page = text_of(customer.get(path))
    assert "How did we do?" in page and "¥" not in page
    bad = customer.post(f"/aftersales{path}/survey", data={"requirement_response": "5", "delivery_timeliness": "9",
                                                           "suggestions": "Faster quotes please"})
    page = text_of(bad)
    assert bad.status_code == 422
    assert "Choose a rating" in error_of(page, "delivery_timeliness") and "Choose a rating" in error_of(page, "service_quality")
    assert "Faster quotes please" in page and re.search(r'value="5"[^>]*checked|checked[^>]*value="5"', page)
    answer = {"requirement_response": "5", "delivery_timeliness": "3", "service_quality": "4",
              "suggestions": "Faster quotes please"}
    assert customer.post(f"/aftersales{path}/survey", data=answer).status_code == 303
    with app.app_context():
        survey = db.session.scalar(db.select(Survey))
        assert (survey.requirement_response, survey.delivery_timeliness, survey.service_quality) == (5, 3, 4)
        assert survey.status == "answered" and survey.answered_at and survey.average == 4
    assert "Thank you for your answer" in text_of(customer.get(path))
    again = customer.post(f"/aftersales{path}/survey", data={**answer, "service_quality": "1"})
    assert again.status_code == 409 and "already been answered" in text_of(again)
    assert get(app, Survey, survey.id).service_quality == 4
    staff_page = text_of(as_user("aftersales").get(f"/aftersales/orders/{order_id}"))
    assert "Faster quotes please" in staff_page and "4 / 5" in staff_page


def test_survey_waits_for_the_last_open_ticket(app, order_id, as_user):
    """An open ticket at delivery holds the survey back; the customer's confirmation sends it, once."""
    sales = as_user("sales")
    receive(app, order_id, delivered=False)
    ticket_id = open_ticket_as(sales, order_id)
    receive(app, order_id)  # the last receipt: the order is delivered
    assert count(app, Survey) == 0
    sales.post(f"/aftersales/tickets/{ticket_id}/respond", data={"m-body": "Fixed."})
    customer = app.test_client()
    path = customer_path(app, "order_service", order_id)
    assert customer.post(f"/aftersales{path}/tickets/{ticket_id}/confirm").status_code == 303
    assert count(app, Survey) == 1
    customer_path(app, "survey", order_id)
    with app.app_context(), app.test_request_context("/", method="POST"):
        assert services.on_delivered(db.session.get(Order, order_id)) is None  # never a second survey
    assert count(app, Survey) == 1


def test_staff_pages_and_order_links(app, order_id, as_user):
    """The after-sales overview lists open calls and tickets; the order page links to after-sales
    and the cost sheet."""
    receive(app, order_id, delivered=False)
    sales = as_user("sales")
    open_ticket_as(sales, order_id, subject="Wrong colour")
    page = text_of(sales.get("/aftersales/"))
    assert "Wrong colour" in page and "Follow-up calls to make" in page
    order_page = text_of(sales.get(f"/orders/{order_id}"))
    assert f"/aftersales/orders/{order_id}" in order_page and f"/costing/orders/{order_id}" in order_page
    assert as_user("worker").get("/aftersales/").status_code == 403
    assert as_user("worker").get(f"/aftersales/orders/{order_id}").status_code == 403


# --- what solving a ticket costs ----------------------------------------------------------------

def test_ticket_costs_are_recorded_checked_and_counted_in_the_after_sales_actual(app, order_id, as_user):
    """After-sales records ¥1,280.50 of spare parts ("1,280.50", with the grouping) and a ¥300 visit
    (full-width digits): the ticket page lists both, and the cost sheet's after-sales actual from the
    records is ¥1,580.50. Bad input keeps what was typed with a message; other roles are refused."""
    from decimal import Decimal
    from webapp.costing import derived_actuals
    from webapp.aftersales.models import TicketCost
    sales, aftersales = as_user("sales"), as_user("aftersales")
    ticket_id = open_ticket_as(sales, order_id)
    url = f"/aftersales/tickets/{ticket_id}/costs"
    assert aftersales.post(url, data={"cost-kind": "parts", "cost-amount": "1,280.50",
                                      "cost-note": "2 bearings by express"}).status_code == 303
    assert aftersales.post(url, data={"cost-kind": "visit", "cost-amount": "３００"}).status_code == 303
    for bad, message in (("", "This field is required."), ("-5", ""), ("abc", ""), ("0", "above zero")):
        response = aftersales.post(url, data={"cost-kind": "parts", "cost-amount": bad, "cost-note": "kept"})
        page = text_of(response)
        assert response.status_code == 422 and error_of(response.get_data(as_text=True), "cost-amount")
        assert 'value="kept"' in response.get_data(as_text=True)
        assert message in page
    assert aftersales.post(url, data={"cost-kind": "bribe", "cost-amount": "10"}).status_code == 422
    assert sales.post(url, data={"cost-kind": "parts", "cost-amount": "10"}).status_code == 403
    assert as_user("worker").post(url, data={"cost-kind": "parts", "cost-amount": "10"}).status_code == 403
    page = text_of(aftersales.get(f"/aftersales/tickets/{ticket_id}"))
    assert "¥1,280.50" in page and "2 bearings by express" in page and "¥1,580.50" in page
    with app.app_context():
        assert count(app, TicketCost) == 2
        assert derived_actuals(get(app, Order, order_id))["aftersales"] == Decimal("1580.50")
    drill = text_of(as_user("finance").get(f"/costing/orders/{order_id}/sources/aftersales"))
    assert "Ticket: spare parts" in drill and "¥1,580.50" in drill


def test_no_ticket_cost_once_the_order_is_closed(app, order_id, as_user):
    """A closed order's cost sheet is final: a cost on its ticket is refused with 409 and not kept."""
    from webapp.aftersales.models import TicketCost
    ticket_id = open_ticket_as(as_user("sales"), order_id)
    with app.app_context():
        db.session.get(Order, order_id).status = "closed"
        db.session.commit()
    response = as_user("aftersales").post(f"/aftersales/tickets/{ticket_id}/costs",
                                          data={"cost-kind": "parts", "cost-amount": "10"})
    assert response.status_code == 409 and "closed" in text_of(response)
    with app.app_context():
        assert count(app, TicketCost) == 0
