"""`flask bench-data` (the benchmark's years of history) on top of the demo firm, on SQLite and
PostgreSQL: the rows it promises, numbers that stay unique with the counters moved past them, ids the
app goes on from, and the pages a benchmark opens answering 200 on what it wrote."""
import re
from collections import Counter

import pytest

from webapp.audit import AuditEvent
from webapp.extensions import db
from webapp.orders.models import Order, OrderNumberCounter
from webapp.production.models import ProgressReport, WorkOrder
from webapp.shipping.models import Shipment, ShipmentEvent
from webapp.stock.models import StockMove

from .conftest import demo_login

ORDERS = 300


def count(model) -> int:
    """Rows in model's table."""
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def test_bench_data_adds_history_the_app_works_on(demo_app):
    with demo_app.app_context():
        before = {model: count(model) for model in (Order, ProgressReport, Shipment, ShipmentEvent, StockMove,
                                                    AuditEvent, WorkOrder)}
        demo_counters = {(c.customer_id, c.period): c.last for c in db.session.scalars(db.select(OrderNumberCounter))}
    result = demo_app.test_cli_runner().invoke(args=["bench-data", "--orders", str(ORDERS)])
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert f"order {ORDERS}" in result.output

    with demo_app.app_context():
        added = {model: count(model) - n for model, n in before.items()}
        assert added[Order] == ORDERS
        # about ten reports an order, a shipment an order, their events, stock movements and audit rows
        assert 7 * ORDERS <= added[ProgressReport] <= 13 * ORDERS, added[ProgressReport]
        assert .85 * ORDERS <= added[Shipment] <= 1.15 * ORDERS, added[Shipment]
        assert added[ShipmentEvent] >= 2 * added[Shipment]
        assert added[StockMove] >= ORDERS and added[AuditEvent] >= 2 * ORDERS
        statuses = Counter(db.session.scalars(db.select(Order.status).order_by(Order.id.desc()).limit(ORDERS)))
        assert statuses["closed"] > ORDERS / 2 and sum(statuses.values()) == ORDERS
        assert statuses["in_production"] + statuses["effective"] + statuses["in_review"] > 0, statuses
        # over years, not days
        oldest = db.session.scalar(db.select(db.func.min(Order.created_at)))
        newest = db.session.scalar(db.select(db.func.max(Order.created_at)))
        assert (newest - oldest).days > 3 * 365

        numbers = db.session.scalars(db.select(Order.number).where(Order.number.is_not(None))).all()
        assert len(numbers) == len(set(numbers))
        abbreviation = dict(db.session.execute(db.text("SELECT id, abbreviation FROM customer")).all())
        # every number's serial is at most its customer's counter for that month: the next is new
        counters = {(c.customer_id, c.period): c.last for c in db.session.scalars(db.select(OrderNumberCounter))}
        for customer_id, number in db.session.execute(db.select(Order.customer_id, Order.number)
                                                      .where(Order.number.is_not(None))):
            match = re.fullmatch(r"(\d{6})-([A-Z0-9]+)-(\d+)", number)
            assert match and match[2] == abbreviation[customer_id], number
            assert int(match[3]) <= counters[(customer_id, match[1])], number
        for key, last in demo_counters.items():
            assert counters[key] >= last

        # the app's own inserts go on after the generated ids (PostgreSQL's sequences were moved)
        last_report = db.session.scalar(db.select(db.func.max(ProgressReport.id)))
        running = db.session.scalar(db.select(WorkOrder).join(Order).where(
            Order.status == "in_production", WorkOrder.status == "in_progress").order_by(WorkOrder.id.desc()).limit(1))
        token, running_id = running.token, running.id
        closed_id = db.session.scalar(db.select(Order.id).where(Order.status == "closed").order_by(Order.id.desc())
                                      .limit(1))
        making_id = running.order_id

    manager = demo_login(demo_app, "zhao.min")
    for url in ("/", f"/orders/{closed_id}", f"/orders/{making_id}", "/orders/", "/orders/?status=closed"):
        assert manager.get(url).status_code == 200, url
    floor = demo_login(demo_app, "huang.xm")
    page = floor.get(f"/w/{token}")
    assert page.status_code == 200
    posted = floor.post(f"/w/{token}/report", data={"p-good": "1", "p-scrap": "0", "p-note": ""})
    assert posted.status_code in (200, 303), posted.status_code
    with demo_app.app_context():
        report = db.session.scalar(db.select(ProgressReport).where(ProgressReport.work_order_id == running_id)
                                   .order_by(ProgressReport.id.desc()).limit(1))
        assert report.id > last_report


@pytest.mark.parametrize("app", ["sqlite", "postgres"], indirect=True)
def test_bench_data_refuses_a_real_firms_database(app, make_customer, make_user):
    """On a database without the demo firm (a firm's own customers and people), nothing is added and the
    command says why instead of mixing made-up years into real books."""
    make_customer("REAL")
    make_user("sales")
    result = app.test_cli_runner().invoke(args=["bench-data", "--orders", "5"])
    assert result.exit_code != 0
    assert "real firm" in result.output and "Traceback" not in result.output
    with app.app_context():
        assert count(Order) == 0
