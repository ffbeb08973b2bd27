"""One loader for every view (webapp/loading.py): 404 for no such row, 403 for a role that may not,
409 for a state that does not allow it, a row lock for writers on PostgreSQL — and the firm setting
that lets a sales rep see only their own customers and orders (404 for the others'), in the loader,
the lists and search alike."""
import threading
import time

import pytest
from sqlalchemy import text

from webapp.admin.models import get_settings
from webapp.audit import AuditEvent
from webapp.auth.models import User
from webapp.customers.models import Customer
from webapp.extensions import db
from webapp.loading import Verdict, authorize, load
from webapp.orders.models import Order, OrderLine
from webapp.shipping.models import Shipment

from .helpers import get, text_of
from .test_costing import ACTUALS, deliver
from .test_shipping import new_shipment, packed
from .test_shipping_concurrency import at_once

BOTH = pytest.mark.parametrize("app", [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
], indirect=True)
POSTGRES = pytest.mark.parametrize("app", [pytest.param("postgres", id="postgres", marks=pytest.mark.postgres)],
                                   indirect=True)


# --- 404 / 403 / 409 ------------------------------------------------------------------------------

@BOTH
def test_the_loader_answers_404_403_and_409(app, make_order, as_user):
    """No such order: 404; a role that may not set budgets: 403; finance on a draft: 409 with the
    message the order page always gave; an edit page of a frozen record stays 403 as it was."""
    draft_id = make_order("draft")
    in_review_id = make_order("in_review", customer="REV")
    sales, finance = as_user("sales"), as_user("finance")
    assert sales.get("/orders/999999").status_code == 404
    assert finance.post("/orders/999999/budget", data={}).status_code == 404
    assert sales.post(f"/orders/{in_review_id}/budget", data={}).status_code == 403
    refused = finance.post(f"/orders/{draft_id}/budget", data={})
    assert refused.status_code == 409 and "not in a state that allows this" in text_of(refused)
    assert as_user("worker").get(f"/orders/{draft_id}").status_code == 403
    assert sales.get(f"/orders/{in_review_id}/edit").status_code == 403  # frozen: the page is not offered


@BOTH
def test_authorize_says_which(app, make_order, make_user):
    """authorize() tells allowed, forbidden (role), wrong state and hidden (scope) apart; can() stays
    its yes/no answer."""
    order_id = make_order("draft")
    finance_id, worker_id = make_user("finance"), make_user("worker")
    with app.app_context(), app.test_request_context("/"):
        order = db.session.get(Order, order_id)
        finance, worker = db.session.get(User, finance_id), db.session.get(User, worker_id)
        assert authorize(finance, "order.view", order) is Verdict.ALLOWED
        assert authorize(worker, "order.view", order) is Verdict.FORBIDDEN
        assert authorize(finance, "order.budget", order) is Verdict.WRONG_STATE
        assert authorize(finance, "order:submit", order) is Verdict.FORBIDDEN  # sales submit
        assert not authorize(finance, "order.budget", order) and bool(authorize(finance, "order.view", order))


@BOTH
def test_loader_locks_for_unsafe_methods_only(app, make_order):
    """A POST's load issues SELECT … FOR UPDATE (PostgreSQL renders it; SQLite's writers are
    serialised by BEGIN IMMEDIATE instead); a GET's does not."""
    from sqlalchemy import event
    order_id = make_order("draft")
    for method, locks in (("GET", False), ("POST", True)):
        seen = []
        with app.app_context(), app.test_request_context("/", method=method):
            listener = lambda *args: seen.append(args[2])  # noqa: E731  (the statement's text)
            event.listen(db.engine, "before_cursor_execute", listener)
            try:
                assert load(Order, order_id, None).id == order_id
            finally:
                event.remove(db.engine, "before_cursor_execute", listener)
            dialect = db.engine.dialect.name
        locked = any("FOR UPDATE" in statement for statement in seen)
        assert locked == (locks and dialect == "postgresql"), (method, seen)


# --- row locks on PostgreSQL -----------------------------------------------------------------------

@POSTGRES
def test_a_writer_waits_for_the_row_another_writer_loaded(app, make_order):
    """Two sessions load the same order for writing: the second waits until the first commits."""
    order_id = make_order("draft")
    first_loaded, times = threading.Event(), {}

    def first():
        with app.app_context(), app.test_request_context("/", method="POST"):
            load(Order, order_id, None)
            first_loaded.set()
            time.sleep(0.6)
            times["first_commit"] = time.monotonic()
            db.session.commit()

    def second():
        first_loaded.wait(10)
        with app.app_context(), app.test_request_context("/", method="POST"):
            load(Order, order_id, None)
            times["second_loaded"] = time.monotonic()
            db.session.commit()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert times["second_loaded"] >= times["first_commit"], times


def closable_order(app, make_order, finance, sales) -> int:
    """An order delivered, followed up, costed (sheet finalised) and paid: ready to close."""
    order_id = make_order("in_production")
    deliver(app, order_id)
    assert sales.post(f"/aftersales/orders/{order_id}/follow-up", data={"f-outcome": "All good"}).status_code == 303
    assert finance.post(f"/costing/orders/{order_id}", data=ACTUALS).status_code == 303
    assert finance.post(f"/costing/orders/{order_id}/finalise").status_code == 303
    assert finance.post(f"/orders/{order_id}/payments", data={
        "kind": "receipt", "amount": "1130", "received_on": "2026-11-21"}).status_code == 303
    return order_id


def audit_count(app, action: str, entity_id: int) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(AuditEvent).where(
            AuditEvent.action == action, AuditEvent.entity_id == entity_id))


@BOTH
def test_two_closes_of_a_cost_sheet_at_once(app, make_order, make_user, as_user):
    """Two finance people close the same order at the same moment: one closes it, the other is told
    it is closed already (409); the order is closed once in the audit trail."""
    make_user("finance", username="fin")
    order_id = closable_order(app, make_order, as_user("finance"), as_user("sales"))
    path = f"/costing/orders/{order_id}/close"
    statuses = at_once(app, "fin", [(path, {}), (path, {})])
    assert sorted(statuses) == [303, 409], statuses
    assert get(app, Order, order_id).status == "closed"
    assert audit_count(app, "order.close", order_id) == 1


@BOTH
def test_two_dispatches_of_a_shipment_at_once(app, make_order, make_user, as_user):
    """Two warehouse people confirm the same packed shipment's dispatch at once: one dispatches it,
    the other is refused (409); it is dispatched once, with one receipt link."""
    order_id = make_order("ready_to_ship")
    with app.app_context():
        line_id = db.session.scalar(db.select(OrderLine.id).where(OrderLine.order_id == order_id))
    warehouse = as_user("warehouse")
    assert new_shipment(warehouse, order_id, line_id, "50").status_code == 303
    with app.app_context():
        shipment_id = db.session.scalar(db.select(Shipment.id).where(Shipment.order_id == order_id))
    packed(app, warehouse, shipment_id)
    make_user("warehouse", username="wh")
    path = f"/shipping/{shipment_id}/dispatch"
    statuses = at_once(app, "wh", [(path, {"note": "a"}), (path, {"note": "b"})])
    assert sorted(statuses) == [303, 409], statuses
    assert get(app, Shipment, shipment_id).status == "dispatched"
    assert audit_count(app, "shipment.dispatch", shipment_id) == 1


# --- sales reps see only their own customers and orders --------------------------------------------

def own_only(app, on: bool) -> None:
    with app.app_context():
        get_settings().sales_own_customers_only = on
        db.session.commit()


@BOTH
def test_a_sales_rep_sees_only_their_own_customers_and_orders(app, make_order, as_user):
    """With the setting on, a second rep gets 404 on the first rep's customer, order and requirement
    pages and actions, and finds none of them in the lists or search; the first rep and a manager see
    them; with the setting off, everyone sees everything as before."""
    first, second, manager = as_user("sales"), as_user("sales"), as_user("manager")
    assert first.post("/customers/new", data={
        "name": "Secretive Ltd", "abbreviation": "SECR", "locale": "en", "currency": "CNY",
        "prepayment_pct": "30", "credit_days": "30"}).status_code == 303
    with app.app_context():
        customer = db.session.scalar(db.select(Customer).where(Customer.abbreviation == "SECR"))
        assert customer.owner_id == first.user_id  # whoever creates a customer owns it
        customer_id = customer.id
    order_id = make_order("in_review", customer="SECR")
    other_order_id = make_order("draft", customer="MINE")
    with app.app_context():
        db.session.get(Customer, get(app, Order, other_order_id).customer_id).owner_id = second.user_id
        db.session.commit()
    pages = [f"/customers/{customer_id}", f"/orders/{order_id}", f"/orders/{order_id}/timeline",
             f"/shipping/orders/{order_id}", f"/aftersales/orders/{order_id}", f"/costing/orders/{order_id}"]

    own_only(app, True)
    for page in pages:
        assert second.get(page).status_code == 404, page
        assert first.get(page).status_code == 200, page
        assert manager.get(page).status_code == 200, page
    assert second.get(f"/customers/{customer_id}/edit").status_code == 404
    assert second.post(f"/orders/{order_id}/submit").status_code == 404
    assert second.get(f"/orders/{other_order_id}").status_code == 200  # their own
    for listing in ("/customers/", "/orders/", "/search?q=SECR", "/orders/new"):
        assert "Secretive" not in text_of(second.get(listing)), listing
        assert "Secretive" in text_of(first.get(listing)), listing
        if listing != "/orders/new":  # a manager does not draw up orders
            assert "Secretive" in text_of(manager.get(listing)), listing
    assert "MINE" in text_of(second.get("/orders/"))

    own_only(app, False)
    for page in pages:
        assert second.get(page).status_code == 200, page
    assert "Secretive" in text_of(second.get("/orders/")) and "Secretive" in text_of(second.get("/search?q=SECR"))



@BOTH
def test_my_work_keeps_a_scoped_rep_to_their_own_customers(app, make_order, as_user):
    """My work asks its kinds within the scope: with the setting on, the second rep's list has no item
    of the first rep's customer (an item would lead to a 404); with it off, both reps see it."""
    first, second = as_user("sales"), as_user("sales")
    order_id = make_order("draft", customer="OWNED")
    with app.app_context():
        customer = db.session.get(Customer, get(app, Order, order_id).customer_id)
        customer.owner_id, name = first.user_id, customer.name
        db.session.commit()
    own_only(app, True)
    assert name in text_of(first.get("/"))
    assert name not in text_of(second.get("/"))
    own_only(app, False)
    assert name in text_of(second.get("/"))

@BOTH
def test_a_scoped_rep_cannot_order_for_another_reps_customer(app, make_customer, as_user):
    """Posting another rep's customer id on the order form is refused like an unknown customer."""
    first, second = as_user("sales"), as_user("sales")
    customer_id = make_customer("THEIRS", owner_id=first.user_id)
    own_only(app, True)
    response = second.post("/orders/new", data={"customer_id": str(customer_id), "currency": "CNY",
                                                "tax_rate": "13", "prepayment_pct": "0", "credit_days": "0",
                                                "delivery_method": "delivery"})
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Order)) == 0


@BOTH
def test_a_manager_hands_a_customer_to_another_rep(app, make_customer, as_user):
    """The customer form offers the owning rep to those who see every customer: handed over, the
    customer moves from one scoped rep's lists to the other's; a rep not on the list is refused."""
    first, second, manager = as_user("sales"), as_user("sales"), as_user("manager")
    customer_id = make_customer("MOVE", owner_id=first.user_id)
    own_only(app, True)
    assert 'name="owner_id"' in text_of(manager.get(f"/customers/{customer_id}/edit"))
    assert 'name="owner_id"' not in text_of(first.get(f"/customers/{customer_id}/edit"))
    form = {"name": "MOVE Ltd", "abbreviation": "MOVE", "locale": "en", "currency": "CNY",
            "prepayment_pct": "30", "credit_days": "30"}
    refused = manager.post(f"/customers/{customer_id}/edit", data={**form, "owner_id": str(manager.user_id)})
    assert refused.status_code == 422 and "Choose a sales rep from the list." in text_of(refused)
    assert manager.post(f"/customers/{customer_id}/edit",
                        data={**form, "owner_id": str(second.user_id)}).status_code == 303
    assert get(app, Customer, customer_id).owner_id == second.user_id
    assert second.get(f"/customers/{customer_id}").status_code == 200
    assert first.get(f"/customers/{customer_id}").status_code == 404


@BOTH
def test_the_scanner_finds_no_shipment_out_of_scope(app, make_order, make_user):
    """The scanner's packing list is loaded under the loader's scope rule: a shipment of a customer
    the user may not know of reads as no shipment (None), one they may as itself."""
    from flask_login import login_user
    from webapp.scan.services import load_shipment
    from webapp.auth.models import User as Person
    order_id = make_order("ready_to_ship")
    rep_id, owner_id = make_user("sales", "warehouse"), make_user("sales")
    scoped_id = make_user("sales")
    with app.app_context():
        order = db.session.get(Order, order_id)
        db.session.get(Customer, order.customer_id).owner_id = owner_id
        shipment = Shipment(order_id=order_id, number="SCAN-SCOPE-1", created_by_id=owner_id)
        db.session.add(shipment)
        db.session.commit()
        shipment_id = shipment.id
    own_only(app, True)
    for person_id, found in ((scoped_id, False), (owner_id, True), (rep_id, True)):
        with app.app_context(), app.test_request_context("/scan"):
            login_user(db.session.get(Person, person_id))
            assert (load_shipment(str(shipment_id)) is not None) is found, person_id


def insert_row(connection, table_name: str, **values) -> int:
    """Insert a row into a table as the database has it now (reflected: a schema of an older
    revision), with a plain value for every required column not given; returns its id."""
    from datetime import date, datetime, timezone
    from decimal import Decimal
    import sqlalchemy as sa
    table = sa.Table(table_name, sa.MetaData(), autoload_with=connection)
    plain = {bool: False, int: 0, str: "", Decimal: Decimal("0"), date: date(2026, 1, 1),
             datetime: datetime(2026, 1, 1, tzinfo=timezone.utc)}
    for column in table.columns:
        if column.name in values or column.nullable or column.primary_key or column.server_default is not None:
            continue
        try:
            values[column.name] = plain.get(column.type.python_type, "")
        except NotImplementedError:  # a type without a Python type (JSON): text will do
            values[column.name] = "{}"
    return connection.execute(table.insert().values(**values).returning(table.c.id)).scalar_one()


@BOTH
def test_the_owner_migration_fills_owners_from_history(app):
    """Upgrading a database with history to 2eb5ece8b872 gives each customer the rep of its first
    order, else of its first requirement, else whoever first saved it (audit trail), else nobody;
    the setting starts off."""
    from flask_migrate import upgrade
    from .conftest import empty_database
    empty_database(app)
    with app.app_context():
        upgrade(revision="d1a7c3e5f902")  # the revision before the owners
        connection = db.session.connection()
        reps = [insert_row(connection, "user", username=f"rep{n}", name=f"Rep {n}", roles_csv="sales", active=True)
                for n in range(4)]
        ordered, required, saved, unknown = (
            insert_row(connection, "customer", name=f"Customer {abbr}", abbreviation=abbr)
            for abbr in ("ORD", "REQ", "SAV", "NONE"))
        insert_row(connection, "requirement", customer_id=ordered, sales_rep_id=reps[3], status="draft")
        insert_row(connection, "order", customer_id=ordered, sales_rep_id=reps[0], status="draft", number="A1")
        insert_row(connection, "order", customer_id=ordered, sales_rep_id=reps[1], status="draft", number="A2")
        insert_row(connection, "requirement", customer_id=required, sales_rep_id=reps[1], status="draft")
        insert_row(connection, "requirement", customer_id=required, sales_rep_id=reps[0], status="draft")
        for actor, action in ((reps[0], "customer.viewed"), (reps[2], "customer.saved"), (reps[3], "customer.saved")):
            insert_row(connection, "audit_event", entity_type="customer", entity_id=saved, action=action,
                       actor_user_id=actor)
        insert_row(connection, "audit_event", entity_type="order", entity_id=unknown, action="customer.saved",
                   actor_user_id=reps[0])  # another entity's event with the same id: not this customer's
        db.session.commit()
        upgrade(revision="2eb5ece8b872")
        owners = dict(db.session.execute(text("SELECT id, owner_id FROM customer")).all())
        scoped = db.session.execute(text("SELECT sales_own_customers_only FROM firm_settings")).scalars().all()
        db.session.commit()
        upgrade()  # on to head, as the next tests expect
        db.session.remove()
    assert owners == {ordered: reps[0], required: reps[1], saved: reps[2], unknown: None}
    assert all(not value for value in scoped)
