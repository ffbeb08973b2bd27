"""The customer page (/customers/<id>/overview) on a hand-built customer, on SQLite and PostgreSQL:
each record in its section, the on-time share and satisfaction means as the KPI definitions give them
(worked out by hand below), another customer's records absent, who may look and who sees money, and
a fixed number of queries however many orders the customer has."""
import re
from datetime import date
from decimal import Decimal

import pytest
import time_machine

from webapp.admin.models import get_settings
from webapp.aftersales.models import Ticket
from webapp.customers.models import Customer
from webapp.extensions import db
from webapp.orders.models import Order, OrderLine, Payment
from webapp.receivables.models import Invoice
from webapp.requirements.models import Requirement
from webapp.shipping.models import ReturnCase, Shipment

from .helpers import text_of
from .test_kpi import NOW, Firm, local, utc
from .test_query_counts import counting

BOTH = pytest.mark.parametrize("app", ["sqlite", "postgres"], indirect=True)


def section(page: str, ident: str) -> str:
    """The HTML of the page's section (or heading's list) with id ident, up to the next section."""
    start = page.index(f'id="{ident}"')
    end = page.find("<section", start + 1)
    return page[start:end if end > 0 else len(page)]


def pay(order, amount, reference, user_id, day=date(2026, 11, 25)):
    """A payment received for order."""
    db.session.add(Payment(order_id=order.id, kind="receipt", amount=Decimal(amount), received_on=day,
                           reference=reference, recorded_by_id=user_id))


def invoice(order, number, amount, issued, due, user_id):
    """An invoice recorded for order (tax left out: the page shows amounts with tax)."""
    db.session.add(Invoice(order_id=order.id, number=number, issued_on=issued,
                           due_on=due, tax_rate=Decimal("13"), amount=Decimal(amount), tax_amount=Decimal("0"),
                           recorded_by_id=user_id))


def ticket(order, subject, status="open", opened=None):
    """A ticket on order, its first answer due a day after it was opened."""
    opened = opened or utc(2026, 12, 8, 2)
    db.session.add(Ticket(order_id=order.id, subject=subject, status=status, opened_at=opened,
                          first_response_due_at=opened.replace(day=opened.day + 1),
                          resolved_at=opened if status == "resolved" else None))


@pytest.fixture
def firm(app, make_user, make_customer):
    """ACME (Sally's) with four orders, tickets, surveys, payments, a return case and a requirement;
    BETA (Bob's) with one of each, none of which may show on ACME's page. "Now" is NOW (10 Dec 2026)."""
    sally = make_user("sales", username="sally")
    bob = make_user("sales", username="bob")
    customers = {"ACME": make_customer("ACME", owner_id=sally), "BETA": make_customer("BETA", owner_id=bob)}
    with app.app_context():
        f = Firm(sally, customers)
        # On time: due 20 Nov, signed for on the 19th. Total 1,130.00, 500.00 paid: 630.00 unpaid.
        o1 = f.order("ACME", date(2026, 11, 20))
        f.receive(o1, local(2026, 11, 19, 10), ["100"])
        # Late: due 25 Nov, signed for on the 28th (3 days). Paid in full.
        o2 = f.order("ACME", date(2026, 11, 25))
        f.receive(o2, local(2026, 11, 28, 10), ["100"])
        # In production, due 20 Dec: not due yet, left out of the on-time share.
        o3 = f.order("ACME", date(2026, 12, 20), status="in_production")
        # In production, due 5 Dec and not delivered: 5 days late (and late in the on-time share).
        o4 = f.order("ACME", date(2026, 12, 5), status="in_production")
        for order, total in ((o1, "1130.00"), (o2, "1000.00"), (o3, "2000.00"), (o4, "3000.00")):
            order.total = Decimal(total)
        pay(o1, "500.00", "ACME-DEPOSIT-7781", sally)
        pay(o2, "1000.00", "ACME-FULL-7782", sally)
        # Invoiced: o1 due 30 Nov (10 days overdue on 10 Dec), 630.00 still owed after the 500.00;
        # o2 due 25 Dec, paid. o3 and o4 are not invoiced yet (5,000.00).
        invoice(o1, "INV-ACME-1", "1130.00", date(2026, 11, 20), date(2026, 11, 30), sally)
        invoice(o2, "INV-ACME-2", "1000.00", date(2026, 11, 25), date(2026, 12, 25), sally)
        ticket(o1, "Hinge squeaks when opened")
        ticket(o2, "Label misprinted", status="resolved", opened=utc(2026, 11, 29, 2))
        # Surveys: November 5+4+5 (4.67), October 3+3+3 (3.00); all 23 over 6 ratings = 3.83.
        f.survey(o1, local(2026, 11, 22, 9), (5, 4, 5))
        f.survey(o2, local(2026, 10, 5, 9), (3, 3, 3))
        f.survey(o4, None)  # sent, not answered
        shipment = db.session.scalar(db.select(Shipment).where(Shipment.order_id == o2.id))
        db.session.add(ReturnCase(shipment_id=shipment.id, order_id=o2.id, reason="Two boxes crushed in transit",
                                  due_at=utc(2026, 12, 9, 2)))
        db.session.add(Requirement(customer_id=customers["ACME"], product="Stainless hinge HX-9",
                                   quantity=Decimal("500"), sales_rep_id=sally, status="sent",
                                   created_at=utc(2026, 12, 1, 2)))
        # BETA: a late order with a complaint, a poor survey and a payment.
        o5 = f.order("BETA", date(2026, 11, 10))
        o5.total = Decimal("900.00")
        f.receive(o5, local(2026, 11, 30, 10), ["100"])
        pay(o5, "100.00", "BETA-PAY-9911", bob)
        ticket(o5, "BETA complaint about paint")
        f.survey(o5, local(2026, 11, 21, 9), (1, 1, 1))
        db.session.add(Requirement(customer_id=customers["BETA"], product="BETA gearbox GB-2",
                                   quantity=Decimal("5"), sales_rep_id=bob, status="draft"))
        db.session.commit()
        return {"ACME": customers["ACME"], "BETA": customers["BETA"], "orders": [o1.id, o2.id, o3.id, o4.id],
                "beta_order": o5.id, "sally": sally}


def page_for(client, customer_id) -> str:
    """The customer page as the client sees it at NOW."""
    with time_machine.travel(NOW, tick=False):
        response = client.get(f"/customers/{customer_id}/overview")
    assert response.status_code == 200, response.status_code
    return text_of(response)


@BOTH
def test_each_record_shows_in_its_section_with_the_kpi_numbers(app, firm, as_user):
    """Open things under "open now", the on-time share and satisfaction means by the KPI definitions,
    the history lists, and nothing of BETA's."""
    page = page_for(as_user("manager"), firm["ACME"])
    now = section(page, "open-now")
    assert "K-003" in now and "K-004" in now and "5 days late" in now
    assert "Hinge squeaks when opened" in now and "Label misprinted" not in now  # resolved: history only
    assert "Two boxes crushed in transit" in now and "overdue" in now  # its clock ran out on 9 Dec
    assert "Stainless hinge HX-9" in now
    assert "Surveys not answered (1)" in now
    overdue = section(now, "open-money")
    assert "Invoices overdue (1)" in now and "INV-ACME-1" in overdue and "630.00" in overdue
    assert "10 days overdue" in overdue and "INV-ACME-2" not in overdue
    record = section(page, "on-time")
    # Lines due in the last 12 months: K-001 on time, K-002 3 days late, K-004 5 days late and not
    # delivered; K-003 not due yet. 1 of 3 = 33.3 %.
    assert "33.3%" in record and "1 of 3 order lines" in record
    assert record.index("K-004") < record.index("K-002")  # most days late first
    mood = section(page, "satisfaction")
    assert "3.83 / 5" in mood and "2 surveys answered" in mood
    assert "<th scope=\"row\">2026-11</th><td>4.67</td><td>1</td>" in mood
    assert "<th scope=\"row\">2026-10</th><td>3.00</td><td>1</td>" in mood
    assert "<svg class=\"chart\"" in mood
    history = page[page.index('id="history"'):]
    assert "Orders (4)" in history and "Tickets (2)" in history and "Surveys (3)" in history
    assert "Label misprinted" in section(history, "tickets") and "Requirements (1)" in history
    money = section(page, "money")
    assert "ACME-DEPOSIT-7781" in money and "ACME-FULL-7782" in money and "Payments (2)" in money
    # Invoiced 2,130.00 less received 1,500.00: 630.00 owed, all of it 10 days overdue (0–30);
    # 5,000.00 not invoiced yet.
    facts = money[:money.index("</dl>")]
    assert re.search(r"Balance owed</dt>\s*<dd><strong>¥630.00<", facts), facts
    assert "Oldest due date: Nov 30, 2026" in re.sub(r"<[^>]+>", "", facts) and "¥5,000.00" in facts and "1,500.00" in facts
    ageing = money[money.index('class="facts ageing"'):money.index("</dl>", money.index('class="facts ageing"'))]
    assert re.findall(r'<dd class="num[^"]*">([^<]+)</dd>', ageing) == ["¥0.00", "¥630.00", "¥0.00", "¥0.00", "¥0.00"]
    owed = section(money, "open-invoices")
    assert "Invoices still owed (1)" in owed and "INV-ACME-1" in owed
    for beta in ("BETA complaint", "BETA-PAY-9911", "BETA gearbox", "K-005"):
        assert beta not in page, beta


@BOTH
def test_the_customer_list_and_the_order_page_link_the_customer_page(app, firm, as_user):
    """The list's row and the order's customer name open the customer page; the record keeps its link."""
    client = as_user("sales")
    listing = text_of(client.get("/customers/"))
    assert f'href="/customers/{firm["ACME"]}/overview"' in listing and f'href="/customers/{firm["ACME"]}"' in listing
    order_page = text_of(client.get(f"/orders/{firm['orders'][0]}"))
    assert f'href="/customers/{firm["ACME"]}/overview"' in order_page
    assert f'/customers/{firm["ACME"]}/overview' in text_of(client.get(f"/customers/{firm['ACME']}"))


@BOTH
def test_who_may_look_and_who_sees_money(app, firm, as_user):
    """A worker is refused; a rep limited to their own customers gets 404 for another's; the roles the
    firm does not let see finance data (receivables.view: finance, the manager, the admin and, by
    default, sales) see the page without its money; the firm's setting widens or narrows that."""
    assert as_user("worker").get(f"/customers/{firm['ACME']}/overview").status_code == 403
    with app.app_context():
        get_settings().sales_own_customers_only = True
        db.session.commit()
    bob = as_user("sales", username="bob2")
    with app.app_context():
        db.session.get(Customer, firm["BETA"]).owner_id = bob.user_id
        db.session.commit()
    assert bob.get(f"/customers/{firm['ACME']}/overview").status_code == 404
    assert "BETA complaint about paint" in page_for(bob, firm["BETA"])
    assert bob.get("/customers/999999/overview").status_code == 404
    for role in ("production", "warehouse", "qc", "aftersales", "operations"):
        page = page_for(as_user(role), firm["ACME"])
        assert 'id="money"' not in page and "ACME-DEPOSIT-7781" not in page, role
        assert "630.00" not in page and "1,130.00" not in page and "Unpaid" not in page, role
        assert "Hinge squeaks when opened" in page and "33.3%" in page, role  # the rest they see
    for role in ("finance", "manager"):
        assert "ACME-DEPOSIT-7781" in page_for(as_user(role), firm["ACME"]), role
    assert "BETA-PAY-9911" in page_for(bob, firm["BETA"])  # a rep sees the money of their own customer
    with app.app_context():
        get_settings().prices_for_all_staff = True  # prices are not finance data: still no money
        get_settings().finance_roles = "aftersales"  # and sales no longer
        db.session.commit()
    assert "ACME-DEPOSIT-7781" not in page_for(as_user("production"), firm["ACME"])
    assert "ACME-DEPOSIT-7781" in page_for(as_user("aftersales"), firm["ACME"])
    assert 'id="money"' not in page_for(bob, firm["BETA"])
    assert bob.get("/receivables/").status_code == 403


def _many_orders(app, customer_id, sales_id, start: int, count: int) -> None:
    """count more orders of the customer in assorted states, each with a line, a payment, a ticket and
    a survey (the rows the page would read once per order if it asked per order)."""
    from webapp.aftersales.models import Survey
    from webapp.links import AccessLink
    states = ["in_production", "delivered", "closed", "effective", "shipped"]
    with app.app_context():
        for n in range(start, start + count):
            order = Order(customer_id=customer_id, sales_rep_id=sales_id, number=f"M-{n:04d}",
                          status=states[n % len(states)], delivery_date=date(2026, 6 + n % 6, 1 + n % 27),
                          approved_at=utc(2026, 5, 1, 2), total=Decimal("100.00"))
            db.session.add(order)
            db.session.flush()
            db.session.add(OrderLine(order_id=order.id, position=1, model="M", quantity=Decimal("1"),
                                     unit_price=Decimal("1"), unit_price_incl=Decimal("1.13")))
            pay(order, "40.00", f"M-{n}", sales_id)
            ticket(order, f"Many {n}", status="open" if n % 2 else "resolved")
            link = AccessLink(purpose="survey", object_id=order.id, nonce="n", token_hash=f"m{n:063d}",
                              expires_at=utc(2027, 1, 1, 0))
            db.session.add(link)
            db.session.flush()
            db.session.add(Survey(order_id=order.id, link_id=link.id, status="answered",
                                  answered_at=utc(2026, 6 + n % 6, 10, 2), requirement_response=4,
                                  delivery_timeliness=4, service_quality=5))
        db.session.commit()


@BOTH
def test_the_page_asks_a_fixed_number_of_questions(app, firm, as_user):
    """The same number of statements with 4 orders as with 64 and with 124, "show more" offered."""
    client = as_user("manager")
    url = f"/customers/{firm['ACME']}/overview"

    def measure():
        with time_machine.travel(NOW, tick=False):
            assert client.get(url).status_code == 200
            with counting(app) as statements:
                response = client.get(url)
        assert response.status_code == 200
        return len(statements), text_of(response)

    few, _page = measure()
    _many_orders(app, firm["ACME"], firm["sally"], 0, 60)
    more, page = measure()
    _many_orders(app, firm["ACME"], firm["sally"], 60, 60)
    most, page = measure()
    assert few == more == most and few < 40, (few, more, most)
    assert "Orders (124)" in page and "Show more" in section(page, "orders")
    first = re.findall(r'<li><a href="/orders/(\d+)"', section(page, "orders"))
    assert len(first) == 10
    # The next page of orders continues after the last shown.
    url = re.search(r'href="([^"]*orders_after=\d+)', section(page, "orders")).group(1).replace("&amp;", "&")
    with time_machine.travel(NOW, tick=False):
        later = re.findall(r'<li><a href="/orders/(\d+)"', section(text_of(client.get(url)), "orders"))
    assert len(later) == 10 and not set(first) & set(later)
