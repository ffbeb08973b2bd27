"""My work and the order page ask the database a fixed number of questions however long the firm's
history: counted with SQLAlchemy's before_cursor_execute on the demo firm, then after hundreds of
orders in assorted states are added (bulk inserts), then after hundreds more. My work's SQL
conditions (EXISTS over reviews, approvals and payments, the kept settings read as JSON) pick
exactly the orders the models' own Python rules pick."""
import json
import random
import re
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import event

from webapp.admin.models import get_settings
from webapp.auth.models import User
from webapp.customers.models import Customer
from webapp.extensions import db
from webapp.orders.models import Approval, FeasibilityReview, Order, OrderLine, Payment
from webapp.orders.work import (approval_required, approved_this_round, open_concern, prepayment_satisfied,
                                review_required, reviewed_this_round)
from webapp.permissions import can
from webapp.work_items import REGISTRY, SHOWN_PER_KIND

from .conftest import DEMO_PEOPLE, demo_login

# (status, how many in a batch of 300)
BATCH = [("in_review", 60), ("pending_approval", 60), ("effective", 50), ("draft", 25),
         ("awaiting_countersign", 25), ("ready_to_ship", 25), ("delivered", 25), ("closed", 20),
         ("cancelled", 10)]


def add_orders(app, seed: int, scale: float = 1) -> None:
    """300 orders (times scale) in assorted states, with the reviews, approvals and payments that
    make them need (or not need) someone: written with bulk inserts, as years of history would be."""
    rng = random.Random(seed)
    with app.app_context():
        customers = db.session.scalars(db.select(Customer.id)).all()
        people = db.session.scalars(db.select(User.id)).all()
        base = get_settings().snapshot()
        first = (db.session.scalar(db.select(db.func.max(Order.id))) or 0) + 1
        now = datetime.now(timezone.utc)
        orders, lines, reviews, approvals, payments = [], [], [], [], []
        order_id = first
        for status, count in BATCH:
            for _ in range(max(1, round(count * scale))):
                settings = dict(base, reviews=rng.sample(["production", "finance", "warehouse"], rng.randint(1, 3)),
                                manager_approval=rng.random() < .8, finance_approval=rng.random() < .8,
                                finance_approval_threshold=rng.choice(["0", "20000.00", "150000.00"]))
                if rng.random() < .1:
                    del settings["manager_approval"]  # an old snapshot: missing means on
                total = Decimal(rng.randint(1000, 300000)) + Decimal("0.05")
                review_round = rng.choice([1, 1, 2])
                override = rng.choice([None, None, "", "Customer is a long-standing account"])
                created = now - timedelta(days=rng.randint(1, 90), minutes=order_id)
                orders.append(dict(
                    id=order_id, number=None if status == "draft" else f"QC{seed}{order_id:06d}",
                    customer_id=rng.choice(customers), customer_po=f"PO-{order_id}" if rng.random() < .5 else "",
                    currency="CNY", tax_rate=Decimal("13"), prepayment_pct=Decimal(rng.choice(["0", "30", "33.33"])),
                    credit_days=30, delivery_date=date.today() + timedelta(days=rng.randint(-10, 40)),
                    delivery_place="", delivery_method="delivery", breach_liability="", notes="", total_excl=total,
                    total_tax=Decimal("0"), total=total, status=status, version=1, review_round=review_round,
                    settings_snapshot=None if status == "draft" else json.dumps(settings),
                    prepayment_override=override, sales_rep_id=rng.choice(people), created_at=created,
                    updated_at=created))
                for position in range(1, rng.randint(1, 3) + 1):
                    lines.append(dict(order_id=order_id, position=position, model=f"BRK-{position}", description="",
                                      customer_part_no="", drawing_rev="", quantity=Decimal(rng.randint(1, 5000)),
                                      unit="pcs", unit_price=Decimal("10"), unit_price_incl=Decimal("11.30")))
                for department in ("production", "finance", "warehouse"):
                    if rng.random() < .5:
                        concern = rng.random() < .3
                        reviews.append(dict(order_id=order_id, round=rng.choice([review_round, review_round - 1 or 1]),
                                            department=department, verdict="concern" if concern else "agree", note="",
                                            reviewer_id=rng.choice(people), at=created,
                                            override_reason="ok" if concern and rng.random() < .4 else None))
                for role in ("manager", "finance"):
                    if rng.random() < .5:
                        approvals.append(dict(order_id=order_id, round=rng.choice([review_round, review_round - 1 or 1]),
                                              role=role, decision=rng.choice(["approve", "approve", "reject"]),
                                              note="", user_id=rng.choice(people), at=created))
                for _payment in range(rng.choice([0, 0, 1, 2])):
                    payments.append(dict(order_id=order_id, kind="deposit",
                                         amount=rng.choice([total, total * Decimal("0.3"), Decimal("100")]),
                                         received_on=created.date(), reference="", recorded_by_id=rng.choice(people),
                                         recorded_at=created))
                order_id += 1
        # one review, approval per (order, round, department/role): keep the first of any repeat
        reviews = list({(r["order_id"], r["round"], r["department"]): r for r in reversed(reviews)}.values())
        approvals = list({(a["order_id"], a["round"], a["role"]): a for a in reversed(approvals)}.values())
        for model, rows in ((Order, orders), (OrderLine, lines), (FeasibilityReview, reviews), (Approval, approvals),
                            (Payment, payments)):
            if rows:
                db.session.execute(model.__table__.insert(), rows)
        db.session.commit()


@contextmanager
def counting(app):
    """Count the SQL statements sent while the block runs."""
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def queries_for(app, client, url: str) -> tuple[int, str]:
    """How many statements one GET of url sends (after a first GET that warms caches), and the page."""
    assert client.get(url).status_code == 200
    with counting(app) as statements:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(statements), response.get_data(as_text=True)


def more_links(html: str) -> int:
    """How many "N more" lines My work shows."""
    if '<ul class="list more">' not in html:
        return 0
    block = html[html.index('<ul class="list more">'):]
    return block[:block.index("</ul>")].count("<li>")


def test_my_work_and_the_order_page_ask_a_fixed_number_of_questions(demo_app):
    with demo_app.app_context():
        order_id = db.session.scalar(db.select(Order.id).where(Order.status == "in_review").limit(1))
        people = {name: db.session.scalar(db.select(User).where(User.username == name)) for name in DEMO_PEOPLE}
        workers = [name for name, person in people.items() if can(person, "work.view")]
        kinds_seen = {name: sum(1 for kind in REGISTRY.values() if can(people[name], kind.action)) for name in workers}
    clients = {name: demo_login(demo_app, name) for name in workers}
    manager = clients["zhao.min"]

    def measure():
        home = {name: queries_for(demo_app, client, "/") for name, client in clients.items()}
        return home, queries_for(demo_app, manager, f"/orders/{order_id}")[0]

    # a small firm: the demo and a few orders in every state, so every kind of work has some rows
    add_orders(demo_app, seed=1, scale=0.04)
    small, small_order_page = measure()
    add_orders(demo_app, seed=2)
    big, big_order_page = measure()
    add_orders(demo_app, seed=3)
    bigger, bigger_order_page = measure()

    assert small_order_page == big_order_page == bigger_order_page
    for name in workers:
        (small_count, small_html), (big_count, big_html), (bigger_count, bigger_html) = small[name], big[name], bigger[name]
        # Beyond the shown items a kind asks once how many more wait; apart from that, twice the
        # history asks exactly the same questions ...
        base = [count - more_links(html) for count, html in (small[name], big[name], bigger[name])]
        assert base[1] == base[2], (name, big_count, bigger_count)
        # ... and the small firm at most one fewer per kind (a kind with no rows loads no lines)
        assert base[0] <= base[1] <= base[0] + kinds_seen[name], (name, small_count, big_count)
    # the manager's and finance's lists now overflow: each says how many more, linking to the list
    for name in ("zhao.min", "chen.jing"):
        html = big[name][1]
        assert more_links(html) >= 1, name
        assert re.search(r'<a href="/orders/\?status=pending_approval"><span class="title">\d+ more: Approval needed',
                         html), name
    listed = re.findall(r'<ul class="list work">(.*?)</ul>', big["chen.jing"][1], re.S)[0]
    assert listed.count("<li") <= SHOWN_PER_KIND * sum(1 for kind in REGISTRY.values() if kind.action in (
        "order.review.finance", "order.approve.finance", "payment.record", "order.close"))


def test_the_sql_conditions_pick_what_the_models_rules_pick(demo_app):
    add_orders(demo_app, seed=4)
    with demo_app.app_context():
        orders = db.session.scalars(db.select(Order)).all()

        def picked(*conditions) -> set[int]:
            return set(db.session.scalars(db.select(Order.id).where(*conditions)))

        for department in ("production", "finance", "warehouse"):
            expected = {o.id for o in orders if o.settings and department in o.settings.get("reviews", [])
                        and department not in o.current_reviews()}
            assert picked(review_required(department), ~reviewed_this_round(department)) == expected, department
        expected = {o.id for o in orders if any(r.verdict == "concern" and not r.override_reason
                                                for r in o.current_reviews().values())}
        assert picked(open_concern()) == expected
        for role in ("manager", "finance"):
            expected = {o.id for o in orders if o.settings and role in o.required_approvals()
                        and role not in o.current_approvals()}
            assert picked(Order.settings_snapshot.is_not(None), approval_required(role),
                          ~approved_this_round(role)) == expected, role
        expected = {o.id for o in orders if o.prepayment_satisfied}
        assert picked(prepayment_satisfied()) == expected
        assert 0 < len(expected) < len(orders)
