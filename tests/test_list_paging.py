"""Long lists page by keyset: following "Next page" from the first page shows every row exactly
once, newest first (orders, with and without a status filter, rows created in the same instant
included), or by name (customers); an ?after that names no row shows the first page."""
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from webapp.extensions import db
from webapp.customers.models import Customer
from webapp.orders.models import Order
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
        assert len(seen) < 10
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
    assert [len(page) for page in shown] == [PAGE_SIZE, PAGE_SIZE, 450 - 2 * PAGE_SIZE]
    assert sum(shown, []) == newest_first(many_orders, many_orders)


def test_the_status_filter_stays_on_every_page(app, as_user, many_orders):
    manager = as_user("manager")
    shown = pages(manager, "/orders/?status=closed", r'href="/orders/(\d+)"')
    closed = [i for i, (_, status) in many_orders.items() if status == "closed"]
    assert [len(page) for page in shown] == [PAGE_SIZE, len(closed) - PAGE_SIZE]
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
