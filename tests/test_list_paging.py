"""Long lists page by keyset: following "Next page" from the first page shows every row exactly
once, newest first (orders, with and without a status filter, rows created in the same instant
included), or by name (customers); an ?after that names no row shows the first page."""
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from webapp.extensions import db
from webapp.customers.models import Customer
from webapp.auth.models import User
from webapp.orders.models import Order
from webapp.orders.views import LIST_PAGE_SIZE
from webapp.paging import PAGE_SIZE


def pages(client, url: str, row: str) -> list[list[int]]:
    """The row ids of every page, following the "Next page" link from url."""
    seen = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        seen.append([int(i) for i in re.findall(row, html)])
        link = re.search(r'<a class="button secondary" href="([^"]+)">Next page</a>', html)
        url = link.group(1).replace("&amp;", "&") if link else None
        assert len(seen) < 20
    return seen


@pytest.fixture
def many_orders(app, make_customer, make_user):
    """450 orders, two statuses alternating, three created in each instant."""
    customer_id = make_customer("PAGE")
    rep_id = make_user("sales", username="rep")
    start = datetime(2025, 1, 1, tzinfo=timezone.utc)
    with app.app_context():
        db.session.execute(Order.__table__.insert(), [
            dict(number=f"P{i:05d}", customer_id=customer_id, customer_po="", currency="CNY", tax_rate=Decimal("13"),
                 prepayment_pct=Decimal("0"), credit_days=0, delivery_place="", delivery_method="delivery",
                 breach_liability="", notes="", total_excl=Decimal("1"), total_tax=Decimal("0"), total=Decimal("1"),
                 status="closed" if i % 2 else "cancelled", version=1, review_round=1, sales_rep_id=rep_id,
                 created_at=start + timedelta(minutes=i // 3), updated_at=start)
            for i in range(450)])
        db.session.commit()
        return {row.id: (row.created_at, row.status) for row in db.session.execute(
            db.select(Order.id, Order.created_at, Order.status))}


def newest_first(orders: dict, ids) -> list[int]:
    return sorted(ids, key=lambda i: (orders[i][0], i), reverse=True)


def test_the_order_list_pages_through_every_order_newest_first(app, as_user, many_orders):
    manager = as_user("manager")
    shown = pages(manager, "/orders/", r'href="/orders/(\d+)"')
    assert [len(page) for page in shown] == [LIST_PAGE_SIZE] * 9  # 450 orders, 50 a page
    assert sum(shown, []) == newest_first(many_orders, many_orders)


def test_the_status_filter_stays_on_every_page(app, as_user, many_orders):
    manager = as_user("manager")
    shown = pages(manager, "/orders/?status=closed", r'href="/orders/(\d+)"')
    closed = [i for i, (_, status) in many_orders.items() if status == "closed"]
    assert [len(page) for page in shown] == [LIST_PAGE_SIZE] * 4 + [len(closed) - 4 * LIST_PAGE_SIZE]
    assert sum(shown, []) == newest_first(many_orders, closed)


@pytest.mark.parametrize("after", ["abc", "0", "-5", "99999999999999999999999", "2147483647", "1e3", "\x00"])
def test_an_after_that_names_no_row_shows_the_first_page(app, as_user, many_orders, after):
    manager = as_user("manager")
    first = pages(manager, "/orders/?status=cancelled", r'href="/orders/(\d+)"')[0]
    response = manager.get("/orders/", query_string={"status": "cancelled", "after": after})
    assert response.status_code == 200
    assert [int(i) for i in re.findall(r'href="/orders/(\d+)"', response.get_data(as_text=True))] == first


def test_customers_page_by_name(app, as_user):
    with app.app_context():
        db.session.execute(Customer.__table__.insert(), [
            dict(name=f"客户 {i % 150:03d}", abbreviation=f"C{i:04d}", contact_name="", contact_phone="",
                 contact_email="", contact_wechat="", address="", locale="zh", currency="CNY")
            for i in range(300)])  # two customers of each name
        db.session.commit()
        expected = [row.id for row in db.session.execute(db.select(Customer.id).order_by(Customer.name, Customer.id))]
    shown = pages(as_user("sales"), "/customers/", r'href="/customers/(\d+)"')
    assert [len(page) for page in shown] == [PAGE_SIZE, 300 - PAGE_SIZE]
    assert sum(shown, []) == expected


# --- work orders, after-sales, shipments -----------------------------------------------------------

def add_work_orders(app, orders: dict, count: int, start: int = 0) -> None:
    """count work orders on the orders' first line: planned starts shared by three, every fifth
    not planned yet (NULL), a tenth done (not listed)."""
    from datetime import date
    from webapp.orders.models import OrderLine
    from webapp.production.models import WorkOrder
    with app.app_context():
        order_id = min(orders)
        line_id = db.session.scalar(db.select(OrderLine.id).where(OrderLine.order_id == order_id))
        if line_id is None:
            line = OrderLine(order_id=order_id, model="BRK-1", quantity=Decimal("10"), unit_price=Decimal("1"),
                             unit_price_incl=Decimal("1.13"))
            db.session.add(line)
            db.session.flush()
            line_id = line.id
        db.session.execute(WorkOrder.__table__.insert(), [
            dict(number=f"WO{i:05d}", token=f"tok{i:05d}", order_id=order_id, order_line_id=line_id,
                 quantity=Decimal("1"), status="done" if i % 10 == 9 else "planned",
                 planned_start=None if i % 5 == 0 else date(2025, 1, 1) + timedelta(days=(i // 3) % 40),
                 created_at=datetime(2025, 1, 1, tzinfo=timezone.utc))
            for i in range(start, start + count)])
        db.session.commit()


def work_order_ids(app) -> dict[int, tuple]:
    """The open work orders: their number in add_work_orders → (planned start, id)."""
    from webapp.production.models import WorkOrder
    with app.app_context():
        return {int(row.token[3:]): (row.planned_start, row.id) for row in db.session.execute(
            db.select(WorkOrder.token, WorkOrder.planned_start, WorkOrder.id).where(WorkOrder.status != "done"))}


@pytest.mark.parametrize("app", [pytest.param("sqlite", id="sqlite"),
                                 pytest.param("postgres", id="postgres", marks=pytest.mark.postgres)], indirect=True)
def test_work_orders_page_by_planned_start_unplanned_last(app, as_user, many_orders):
    """Every open work order once, by planned start then id, the unplanned (NULL) ones after the
    planned on both databases; a done one on none."""
    add_work_orders(app, many_orders, 500)
    listed = work_order_ids(app)
    shown = pages(as_user("production"), "/production/", r'href="/w/tok(\d+)"')
    assert [len(page) for page in shown] == [PAGE_SIZE, PAGE_SIZE, len(listed) - 2 * PAGE_SIZE]
    assert sum(shown, []) == sorted(listed, key=lambda t: (listed[t][0] is None, listed[t][0] or 0, listed[t][1]))


def test_a_workers_own_work_orders_head_the_first_page_only(app, as_user, make_user, many_orders):
    """The worker's own open work orders are listed above the first page, not again on the next."""
    from webapp.production.models import WorkOrder
    add_work_orders(app, many_orders, 450)
    supervisor = as_user("production")
    with app.app_context():
        db.session.execute(db.update(WorkOrder).where(WorkOrder.token.in_(["tok00001", "tok00445"]))
                           .values(owner_id=supervisor.user_id))
        db.session.commit()
    first = supervisor.get("/production/").get_data(as_text=True)
    mine = first[first.index("<h2>Mine</h2>"):first.index("<h2>All open</h2>")]
    assert re.findall(r'href="/w/(tok\d+)"', mine) == ["tok00001", "tok00445"]
    second = re.search(r'<a class="button secondary" href="([^"]+)">Next page</a>', first).group(1)
    assert "<h2>Mine</h2>" not in supervisor.get(second.replace("&amp;", "&")).get_data(as_text=True)


def add_aftersales(app, orders: dict, count: int, start: int = 0) -> None:
    """A follow-up call and a ticket for count orders: due times shared by three, tickets open and
    answered alternating, a tenth resolved (not listed)."""
    from webapp.aftersales.models import FollowUp, Ticket
    order_ids = sorted(orders)[start:start + count]
    due = datetime(2025, 3, 1, tzinfo=timezone.utc)
    with app.app_context():
        assignee = db.session.scalar(db.select(User.id).limit(1))
        db.session.execute(FollowUp.__table__.insert(), [
            dict(order_id=order_id, status="open", receipt_at=due, due_at=due + timedelta(hours=n // 3),
                 assignee_id=assignee, outcome="", created_at=due) for n, order_id in enumerate(order_ids)])
        db.session.execute(Ticket.__table__.insert(), [
            dict(order_id=order_id, subject=f"T{order_id}", description="", opened_by_customer="",
                 status="resolved" if n % 10 == 9 else ("open" if n % 2 else "answered"), opened_at=due,
                 first_response_due_at=due + timedelta(hours=n // 3)) for n, order_id in enumerate(order_ids)])
        db.session.commit()


def test_after_sales_pages_each_list_on_its_own(app, as_user, many_orders):
    """Calls by due time and tickets (unanswered first, then by due time) each page through every
    row once, following their own "Next page"; the other list stays where it was."""
    from webapp.aftersales.models import FollowUp, Ticket
    add_aftersales(app, many_orders, 420)
    with app.app_context():
        calls = [row.order_id for row in db.session.execute(
            db.select(FollowUp.order_id).order_by(FollowUp.due_at, FollowUp.id))]
        tickets = [row.id for row in db.session.execute(
            db.select(Ticket.id).where(Ticket.status != "resolved")
            .order_by(Ticket.status != "open", Ticket.first_response_due_at, Ticket.id))]
    person = as_user("aftersales")

    def section(html: str, heading: str) -> str:
        part = html[html.index(heading):]
        return part[:part.index("</section>")]

    def walk(heading: str, row: str) -> list[list[int]]:
        seen, url = [], "/aftersales/"
        while url:
            html = person.get(url).get_data(as_text=True)
            part = section(html, heading)
            seen.append([int(i) for i in re.findall(row, part)])
            link = re.search(r'<a class="button secondary" href="([^"]+)">Next page</a>', part)
            url = link.group(1).replace("&amp;", "&") if link else None
            assert len(seen) < 20
        return seen

    shown_calls = walk('id="calls-h"', r'href="/aftersales/orders/(\d+)"')
    assert [len(page) for page in shown_calls] == [PAGE_SIZE, PAGE_SIZE, 20]
    assert sum(shown_calls, []) == calls
    shown_tickets = walk('id="open-tickets-h"', r'href="/aftersales/tickets/(\d+)"')
    assert [len(page) for page in shown_tickets] == [PAGE_SIZE, len(tickets) - PAGE_SIZE]
    assert sum(shown_tickets, []) == tickets
    # the tickets' "Next page" keeps the calls' page it was opened from
    first = person.get("/aftersales/").get_data(as_text=True)
    calls_next = re.search(r'href="(/aftersales/\?calls_after=(\d+))"', first)
    page_two = person.get(calls_next.group(1)).get_data(as_text=True)
    tickets_next = re.search(r'href="(/aftersales/\?[^"]*tickets_after=[^"]*)"', page_two).group(1)
    assert f"calls_after={calls_next.group(2)}" in tickets_next


def add_shipments(app, orders: dict, count: int, start: int = 0) -> None:
    """count shipments over the orders, packing and dispatched alternating, three created in each
    instant."""
    from webapp.shipping.models import Shipment
    order_ids = sorted(orders)
    when = datetime(2025, 2, 1, tzinfo=timezone.utc)
    with app.app_context():
        creator = db.session.scalar(db.select(User.id).limit(1))
        db.session.execute(Shipment.__table__.insert(), [
            dict(number=f"S{i:05d}", order_id=order_ids[i % len(order_ids)], method="delivery", carrier="",
                 tracking_no="", cost=Decimal("0"), status="packing" if i % 2 else "dispatched",
                 created_by_id=creator, created_at=when + timedelta(minutes=i // 3), dispatch_note="")
            for i in range(start, start + count)])
        db.session.commit()


def shipment_order(app, status=None) -> list[int]:
    from webapp.shipping.models import Shipment
    with app.app_context():
        query = db.select(Shipment.id).order_by(Shipment.created_at.desc(), Shipment.id.desc())
        if status:
            query = query.where(Shipment.status == status)
        return list(db.session.scalars(query))


def test_the_shipment_list_pages_newest_first_and_filters_by_state(app, as_user, many_orders):
    """The shipment list shows every shipment once, newest first, with or without a state; My work's
    "N more" of the shipments to pack leads to it, filtered."""
    add_shipments(app, many_orders, 450)
    warehouse = as_user("warehouse")
    shown = pages(warehouse, "/shipping/", r'href="/shipping/(\d+)"')
    assert [len(page) for page in shown] == [PAGE_SIZE, PAGE_SIZE, 50]
    assert sum(shown, []) == shipment_order(app)
    packing = pages(warehouse, "/shipping/?status=packing", r'href="/shipping/(\d+)"')
    assert [len(page) for page in packing] == [PAGE_SIZE, 25]
    assert sum(packing, []) == shipment_order(app, "packing")
    assert 'href="/shipping/?status=packing"><span class="title">205 more' in warehouse.get("/").get_data(as_text=True)
    assert as_user("worker").get("/shipping/").status_code == 403


def test_a_scoped_rep_lists_only_their_customers_shipments(app, as_user, make_order):
    """With "sales reps see only their own customers" on, the shipment list keeps to the scope."""
    from webapp.admin.models import get_settings
    from webapp.shipping.models import Shipment
    order_id = make_order("ready_to_ship", customer="SHIPSCP")
    owner, other = as_user("sales"), as_user("sales")
    with app.app_context():
        order = db.session.get(Order, order_id)
        db.session.get(Customer, order.customer_id).owner_id = owner.user_id
        db.session.add(Shipment(order_id=order_id, number="S-SCOPED", created_by_id=owner.user_id))
        get_settings().sales_own_customers_only = True
        db.session.commit()
    assert "S-SCOPED" in owner.get("/shipping/").get_data(as_text=True)
    assert "S-SCOPED" not in other.get("/shipping/").get_data(as_text=True)


def test_the_lists_ask_a_fixed_number_of_questions(app, as_user, many_orders):
    """A list's first page and a later one ask as many statements with 60 rows as with 600
    (no question per row: the customer, order and line are loaded with the page)."""
    from .test_query_counts import counting
    production, aftersales, warehouse = as_user("production"), as_user("aftersales"), as_user("warehouse")
    lists = [(production, "/production/"), (aftersales, "/aftersales/"), (warehouse, "/shipping/"),
             (warehouse, "/shipping/?status=packing")]

    def measure() -> list[int]:
        counts = []
        for client, url in lists:
            assert client.get(url).status_code == 200
            with counting(app) as statements:
                assert client.get(url).status_code == 200
            counts.append(len(statements))
        return counts

    add_work_orders(app, many_orders, 60)
    add_aftersales(app, many_orders, 60)
    add_shipments(app, many_orders, 60)
    few = measure()
    add_work_orders(app, many_orders, 540, start=60)
    add_aftersales(app, many_orders, 360, start=60)
    add_shipments(app, many_orders, 540, start=60)
    assert measure() == few
