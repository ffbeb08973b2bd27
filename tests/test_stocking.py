"""Stocking instructions (备货指令): a work order for stock with no customer order — raised from a
form, numbered BH-<year>-<serial>, planned back from its due date on the working calendar, given its
product's operations and materials, reported and inspected like any work order, and its good pieces
become free stock (not held for an order) that a shipment from stock takes, traced back to it.
Bad input is refused with the form kept; two supervisors raising one at once get two numbers."""
import re
from datetime import timedelta
from decimal import Decimal

import pytest

from webapp.clocks import shift_working_days
from webapp.customers.models import Product
from webapp.extensions import db
from webapp.i18n import firm_today
from webapp.production.models import RoutingStep, WorkOrder
from webapp.stock import ledger, products, trace
from webapp.stock.models import Lot

from .helpers import at_once, text_of

D = Decimal
BOTH = pytest.mark.parametrize("app", [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
], indirect=True)


@pytest.fixture
def stock_item(app, make_product):
    """A product kept in stock (none on hand) with two operations: 下料 then 装配."""
    product_id = make_product("KIT-9", on_hand="0")
    with app.app_context():
        db.session.add_all([RoutingStep(product_id=product_id, position=10, name="下料"),
                            RoutingStep(product_id=product_id, position=20, name="装配")])
        db.session.commit()
    return product_id


def today_of(app):
    """The firm's today (its time zone), read inside the app."""
    with app.app_context():
        return firm_today()


def firm_today_of(client):
    """The firm's today for a test client's app."""
    return today_of(client.application)


def raise_one(client, product_id, quantity="50", due=None, **extra):
    """Post the new-instruction form."""
    due = due or (firm_today_of(client) + timedelta(days=20)).isoformat()
    return client.post("/production/stocking", data={"product_id": str(product_id), "quantity": quantity,
                                                      "due": due, "purpose": "安全库存", **extra})


def test_a_stocking_instruction_is_a_planned_work_order_without_an_order(app, stock_item, as_user):
    due = today_of(app) + timedelta(days=20)
    response = raise_one(as_user("operations"), stock_item, quantity="2,000", due=due.isoformat())
    assert response.status_code == 303 and response.headers["Location"].startswith("/w/")
    with app.app_context():
        row = db.session.scalar(db.select(WorkOrder))
        assert row.order_id is None and row.order_line_id is None and row.stocking
        assert row.number == f"BH-{today_of(app).year}-0001" and row.quantity == D("2000")
        assert row.purpose == "安全库存" and row.product.model == "KIT-9"
        assert row.planned_qc == shift_working_days(due, -2)  # planned back like an order's work order
        assert [o.name for o in row.operations] == ["下料", "装配"]
        token = row.token
    worker = as_user("worker")
    page = text_of(worker.get(f"/w/{token}"))
    assert "KIT-9" in page and "Stock (stocking instruction)" in page
    listing = text_of(as_user("production").get("/production/stocking"))
    assert f"BH-{today_of(app).year}-0001" in listing and "安全库存" in listing


@pytest.mark.parametrize("field, value, words", [
    ("product_id", "", "Choose a product from the catalogue."),
    ("product_id", "99999999999999999999", "Choose a product from the catalogue."),
    ("product_id", "abc", "Choose a product from the catalogue."),
    ("quantity", "0", "Must be above zero."),
    ("quantity", "-5", ""),
    ("quantity", "abc", ""),
    ("quantity", "10000000", ""),
    ("due", "2020-01-01", "The due date has passed; choose today or a later day."),
    ("due", "", "Choose the day it is needed in stock."),
    ("purpose", "x" * 300, ""),
])
def test_bad_input_is_refused_with_the_form_kept(app, stock_item, as_user, field, value, words):
    client = as_user("production")
    data = {"product_id": str(stock_item), "quantity": "50", "due": (today_of(app) + timedelta(days=9)).isoformat()}
    data[field] = value
    response = client.post("/production/stocking", data=data)
    assert response.status_code == 422
    page = text_of(response)
    assert words in page and 'class="field invalid"' in page
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(WorkOrder)) == 0


def test_the_product_page_leads_to_a_new_instruction_for_it(app, stock_item, as_user):
    client = as_user("production")
    product_page = text_of(client.get(f"/customers/products/{stock_item}/edit"))
    assert f"/production/stocking?product={stock_item}#new" in product_page
    form = text_of(client.get(f"/production/stocking?product={stock_item}"))
    assert f'<option selected value="{stock_item}">' in form or f'value="{stock_item}" selected' in form


def test_only_the_supervisor_and_operations_raise_them(app, stock_item, as_user):
    assert raise_one(as_user("worker"), stock_item).status_code == 403
    assert raise_one(as_user("sales"), stock_item).status_code == 403
    assert as_user("worker").get("/production/stocking").status_code in (200, 403)
    assert raise_one(as_user("production"), stock_item).status_code == 303


def test_its_goods_become_free_stock_that_a_shipment_takes_and_trace_back(app, stock_item, as_user):
    """Reported through both operations, finished, passed by QC: 30 pieces of free stock (the
    product's on-hand figure says so), taken by a shipment from stock, traced to the instruction."""
    raise_one(as_user("operations"), stock_item, quantity="30")
    with app.app_context():
        row = db.session.scalar(db.select(WorkOrder))
        token, ops = row.token, [o.token for o in row.operations]
    worker, qc = as_user("worker"), as_user("qc")
    for op_token in ops:
        assert worker.post(f"/o/{op_token}/report", data={"p-good": "30", "p-scrap": "0"}).status_code == 303
    assert worker.post(f"/w/{token}/do/finish").status_code == 303
    assert qc.post(f"/w/{token}/do/pass_qc").status_code == 303
    with app.app_context():
        row = db.session.scalar(db.select(WorkOrder))
        assert row.status == "done"
        product = db.session.get(Product, stock_item)
        assert product.on_hand == D("30")  # free stock, unlike an order's finished goods
        lot = db.session.scalar(db.select(Lot).where(Lot.code == row.number))
        assert lot.work_order_id is None and trace.maker_of(lot) == row.id
        moves = products.take_product(product, D("12"), ledger.Doc("shipment", 1, "SH-TEST"))
        assert [m.lot_id for m in moves] == [lot.id]
        assert db.session.get(Product, stock_item).on_hand == D("18")
    listing = text_of(as_user("production").get("/production/stocking"))
    assert "Done in the last 30 days" in listing and "30 pcs to stock" in listing


def test_it_shows_on_the_board_the_daily_sheet_the_list_and_qc(app, stock_item, as_user):
    raise_one(as_user("operations"), stock_item, quantity="40", due=(today_of(app) + timedelta(days=3)).isoformat())
    with app.app_context():
        row = db.session.scalar(db.select(WorkOrder))
        number, token, ops = row.number, row.token, [o.token for o in row.operations]
    supervisor = as_user("production")
    for path in ("/production/", "/production/board", "/production/daily"):
        response = supervisor.get(path)
        assert response.status_code == 200 and number in text_of(response), path
    worker = as_user("worker")
    for op_token in ops:
        assert worker.post(f"/o/{op_token}/report", data={"p-good": "40", "p-scrap": "0"}).status_code == 303
    assert worker.post(f"/w/{token}/do/finish").status_code == 303
    qc = as_user("qc")
    page = text_of(qc.get("/quality/"))
    assert number in page and "Stock (stocking instruction)" in page
    work = text_of(qc.get("/"))
    assert number in work
    # No customer approves a first article of stock.
    with app.app_context():
        wo_id = db.session.scalar(db.select(WorkOrder.id))
    assert qc.post(f"/quality/wo/{wo_id}/first-article", data={"kind": "first_piece"}).status_code == 409


def test_labels_and_process_card_name_stock(app, stock_item, as_user):
    raise_one(as_user("operations"), stock_item, quantity="40")
    with app.app_context():
        wo_id = db.session.scalar(db.select(WorkOrder.id))
    client = as_user("production")
    for path in (f"/production/wo/{wo_id}/label", f"/production/wo/{wo_id}/card", f"/production/wo/{wo_id}/edit",
                 f"/production/wo/{wo_id}/label.svg", f"/production/wo/{wo_id}/label/60x40"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "Stock" in response.get_data(as_text=True) or path.endswith("60x40"), path


def test_split_gives_another_instruction_number(app, stock_item, as_user):
    raise_one(as_user("operations"), stock_item, quantity="40")
    with app.app_context():
        wo_id = db.session.scalar(db.select(WorkOrder.id))
    client = as_user("production")
    assert client.post(f"/production/wo/{wo_id}/edit", data={"split-quantity": "15"}).status_code == 303
    with app.app_context():
        numbers = sorted(w.number for w in db.session.scalars(db.select(WorkOrder)))
        year = today_of(app).year
        assert numbers == [f"BH-{year}-0001", f"BH-{year}-0002"]
        assert all(w.order_id is None and w.product_id == stock_item for w in db.session.scalars(db.select(WorkOrder)))


@BOTH
def test_two_supervisors_raise_one_each_at_once(app, stock_item, make_user):
    make_user("production", username="sup-a")
    make_user("operations", username="sup-b")
    due = (today_of(app) + timedelta(days=15)).isoformat()
    form = {"product_id": str(stock_item), "quantity": "25", "due": due, "purpose": ""}
    statuses = at_once(app, ["sup-a", "sup-b"], [("/production/stocking", form), ("/production/stocking", form)])
    assert statuses == [303, 303]
    with app.app_context():
        numbers = sorted(db.session.scalars(db.select(WorkOrder.number)))
        assert len(set(numbers)) == 2 and all(re.fullmatch(r"BH-\d{4}-000[12]", n) for n in numbers)
