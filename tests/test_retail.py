"""Retail orders: the counter's quick order (existing or walk-in customer, stock shown, delivery or
pickup), effective at once under the firm's setting, shipped from stock through the ledger with the
same receipt; and the CSV import of online-shop orders (validation per row, preview, idempotent) —
on SQLite and PostgreSQL."""
import gc
import io
import re
from decimal import Decimal

import pytest

from webapp.customers.models import Customer, Product
from webapp.extensions import db
from webapp.orders.models import Order
from webapp.retail.models import RetailOrder
from webapp.shipping.models import Shipment

from .helpers import customer_path, text_of

BOTH = pytest.mark.parametrize("app", [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
], indirect=True)


def counter_form(product_id, qty="2", **extra):
    data = {"channel": "counter", "customer_id": "0", "name": "张先生", "phone": "13800001111",
            "address": "杭州市西湖区文三路1号", "method": "delivery", "store": "",
            "items-0-product_id": str(product_id), "items-0-quantity": qty, "ship_now": "y"}
    data.update(extra)
    return data


def on_hand(app, product_id):
    with app.app_context():
        return db.session.get(Product, product_id).on_hand


@BOTH
def test_counter_order_is_effective_and_ships_from_stock(app, as_user, make_product):
    """A walk-in customer buys 1,500 of 2,000 at the counter: the order is effective and numbered without
    review or countersignature, a shipment is taken out of stock, and the customer signs as for any
    shipment."""
    product_id = make_product("GEAR-45", on_hand="2000", price="18.50")
    clerk = as_user("sales", "warehouse")
    page = clerk.get("/retail/new")
    assert "2,000 pcs in stock" in text_of(page) or "2000 pcs in stock" in text_of(page)
    response = clerk.post("/retail/new", data=counter_form(product_id, qty="1,500"))
    assert response.status_code == 303, text_of(response)[:2000]
    order_id = int(re.search(r"/retail/(\d+)", response.headers["Location"]).group(1))
    with app.app_context():
        order = db.session.get(Order, order_id)
        assert order.kind == "retail" and order.status == "effective" and order.number
        assert order.effective_at is not None  # effective when entered: stamped, as a countersigned order is
        assert order.lines[0].quantity == Decimal("1500")
        assert db.session.scalar(db.select(Customer).where(Customer.name == "张先生")).abbreviation.startswith("W")
        shipment = db.session.scalars(db.select(Shipment).where(Shipment.order_id == order_id)).one()
        assert shipment.lines[0].from_stock and shipment.method == "delivery"
        shipment_id, line_id = shipment.id, shipment.lines[0].id
    assert on_hand(app, product_id) == Decimal("500")
    assert clerk.post(f"/shipping/{shipment_id}/lines/{line_id}/check", data={"batch": ""}).status_code in (200, 303)
    assert clerk.post(f"/shipping/{shipment_id}/pack", data={}).status_code in (200, 303)
    assert clerk.post(f"/shipping/{shipment_id}/dispatch", data={"note": ""}).status_code in (200, 303)
    path = customer_path(app, "delivery_receipt", shipment_id)
    from .helpers import SIGNATURE
    response = app.test_client().post(path + "/receipt", data={
        f"line-{line_id}-qty": "1,500", f"line-{line_id}-condition": "ok", f"line-{line_id}-note": "",
        "name": "张先生", "strokes": SIGNATURE, "consent": "y"})
    assert response.status_code in (200, 303), text_of(response)[:1500]
    with app.app_context():
        assert db.session.get(Order, order_id).status == "delivered"


@BOTH
def test_pickup_at_store_and_existing_customer(app, as_user, make_product, make_customer):
    """An existing customer picks up at a store: the order says where; without a store the form refuses."""
    product_id = make_product("FLANGE-80", on_hand="30")
    customer_id = make_customer("SHOP")
    sales = as_user("sales")
    refused = sales.post("/retail/new", data=counter_form(product_id, customer_id=str(customer_id), name="",
                                                          method="pickup", store=""))
    assert refused.status_code == 422 and "Name the store the customer picks it up at." in text_of(refused)
    response = sales.post("/retail/new", data=counter_form(product_id, customer_id=str(customer_id), name="",
                                                           method="pickup", store="苏州门店"))
    assert response.status_code == 303
    with app.app_context():
        order = db.session.scalars(db.select(Order).where(Order.kind == "retail")).one()
        assert order.delivery_method == "pickup" and order.customer_id == customer_id
        assert db.session.scalars(db.select(RetailOrder)).one().store == "苏州门店"
        # a sales clerk without the warehouse role makes no shipment: the warehouse ships it from the order
        assert db.session.scalar(db.select(db.func.count(Shipment.id))) == 0
    warehouse = as_user("warehouse")
    response = warehouse.post(f"/retail/{order.id}/ship", data={})
    assert response.status_code == 303
    assert on_hand(app, product_id) == Decimal("28")


@BOTH
def test_more_than_in_stock_is_refused(app, as_user, make_product):
    """Ordering more than is in stock keeps the form with the quantity available; nothing is saved."""
    product_id = make_product("GEAR-45", on_hand="10")
    sales = as_user("sales", "warehouse")
    response = sales.post("/retail/new", data=counter_form(product_id, qty="11"))
    assert response.status_code == 422
    assert "Only 10 pcs of GEAR-45 in stock." in text_of(response)
    response = sales.post("/retail/new", data=counter_form(product_id, qty="abc"))
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Order.id))) == 0
    assert on_hand(app, product_id) == Decimal("10")


@BOTH
def test_retail_quick_off_sends_retail_orders_through_review(app, as_user, make_product):
    """With the firm's retail setting turned off on the settings page, a retail order goes into
    review as any order."""
    from webapp.firm import FirmSettings
    product_id = make_product("GEAR-45", on_hand="10")
    admin = as_user("admin")
    page = text_of(admin.get("/admin/settings"))
    assert re.search(r'<input checked[^>]*name="retail_quick"', page)  # on by default
    response = admin.post("/admin/settings", data={
        "firm_name": "Demo", "timezone": "Asia/Shanghai", "currency": "CNY", "tax_rate": "13",
        "reviews": ["production", "finance", "warehouse"], "manager_approval": "y", "finance_approval": "y",
        "finance_approval_threshold": "0", "amend_reapprove": "y", "amend_resign": "y", "first_article": "never",
        "number_pattern": "{yyyy}{mm}-{abbr}-{seq:03d}", "weekly_capacity": "1000", "retention_years": "10",
        "signed_copy_days": "365", "calendar_country": "CN"})
    assert response.status_code == 303, text_of(response)[:1500]
    with app.app_context():
        assert db.session.get(FirmSettings, 1).retail_quick is False
    sales = as_user("sales")
    assert sales.post("/retail/new", data=counter_form(product_id)).status_code == 303
    with app.app_context():
        assert db.session.scalars(db.select(Order)).one().status == "in_review"


CSV_HEADER = "shop_order_no,customer_name,phone,address,product_code,quantity,unit_price,delivery,store,note\n"


def upload(client, content: bytes, name="orders.csv"):
    return client.post("/retail/import", data={"file": (io.BytesIO(content), name)}, content_type="multipart/form-data")


def confirm(client, page):
    sha = re.search(r'name="sha256"[^>]*value="([0-9a-f]{64})"', page).group(1)
    return client.post("/retail/import/confirm", data={"sha256": sha})


@BOTH
def test_csv_import_preview_then_import_idempotent(app, as_user, make_product):
    """Two shop orders (one of two rows, one "2,000" read as two thousand), one bad row: the preview
    shows each; the import makes two orders; the same file again imports nothing."""
    make_product("GEAR-45", on_hand="5000")
    make_product("FLANGE-80", on_hand="10")
    content = (CSV_HEADER
               + "TB1,王丽,13800138000,上海市浦东新区张江路88号,GEAR-45,2,,delivery,,\n"
               + "TB1,王丽,13800138000,上海市浦东新区张江路88号,FLANGE-80,1,,delivery,,工作日\n"
               + 'TB2,陈强,13900139000,,GEAR-45,"2,000",18.50,pickup,苏州门店,\n'
               + "TB3,赵六,13700000000,北京,NOPE-1,1,,delivery,,\n").encode("utf-8-sig")
    sales = as_user("sales")
    preview = upload(sales, content)
    page = text_of(preview)
    assert preview.status_code == 200 and "Unknown product code “NOPE-1”." in page
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Order.id))) == 0
    response = confirm(sales, page)
    assert response.status_code == 303
    with app.app_context():
        rows = db.session.scalars(db.select(RetailOrder).order_by(RetailOrder.shop_order_no)).all()
        assert [r.shop_order_no for r in rows] == ["TB1", "TB2"]
        tb2 = db.session.get(Order, rows[1].order_id)
        assert tb2.lines[0].quantity == Decimal("2000") and tb2.delivery_method == "pickup"
        assert str(tb2.lines[0].unit_price_incl) == "18.50"
        assert len(db.session.get(Order, rows[0].order_id).lines) == 2
    again = upload(sales, content)
    assert "already imported: skipped" in text_of(again) and "Import the new orders" not in text_of(again)
    import hashlib
    # the confirm posted again (the back button, a second tab) imports nothing either
    assert sales.post("/retail/import/confirm", data={"sha256": hashlib.sha256(content).hexdigest()}).status_code == 303
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(RetailOrder.id))) == 2


# Werkzeug's test client spools a large request body (the huge file) to a temporary file it never
# closes itself; collected inside the test that made it (as tests/test_transactions.py does).
LARGE_BODY = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning", "ignore::ResourceWarning")


@BOTH
@LARGE_BODY
@pytest.mark.parametrize("content, message", [
    (b"", "The file is empty."),
    (CSV_HEADER.encode() + b"TB1,A,1,addr,GEAR-45,1\x00,,delivery,,\n", "NUL bytes"),
    (b"a,b,c\n1,2,3\n", "The header lacks the columns"),
    (CSV_HEADER.encode() + b"x" * 1_000_001, "larger than 1 MB"),
    ("订单号,收货人,电话,地址,商品编码,数量\nTB9,李,1,地址,GEAR-45,1234,5\n".encode("gb18030"), "TB9"),
], ids=["empty", "nul", "header", "huge", "gb18030"])
def test_csv_whole_file_refusals(app, as_user, make_product, content, message):
    """An empty file, NUL bytes, a missing column or a huge file is refused with a clear message; a
    GB18030 file with Chinese headers is read."""
    make_product("GEAR-45", on_hand="10")
    page = text_of(upload(as_user("sales"), content))
    # The response (and through it the spooled body) is gone: collected here, not in a later test.
    gc.collect()
    assert message in page
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Order.id))) == 0


@BOTH
def test_csv_row_problems(app, as_user, make_product):
    """Bad quantities, a missing address, a pickup without store, more than in stock and a missing
    shop order number each get their own translated message; only the valid order is importable."""
    make_product("GEAR-45", on_hand="10")
    content = (CSV_HEADER
               + "R1,甲,1,地址,GEAR-45,0,,delivery,,\n"
               + "R2,乙,1,地址,GEAR-45,\"1234,5\",,delivery,,\n"
               + "R3,丙,1,,GEAR-45,1,,delivery,,\n"
               + "R4,丁,1,,GEAR-45,1,,pickup,,\n"
               + "R5,戊,1,地址,GEAR-45,11,,delivery,,\n"
               + ",己,1,地址,GEAR-45,1,,delivery,,\n"
               + "R6,庚,1,地址,GEAR-45,3,,boat,,\n"
               + "R7,辛,1,地址,GEAR-45,4,,,,\n").encode()
    page = text_of(upload(as_user("sales"), content))
    for expected in ("Must be at least 0.001", "A comma only separates thousands", "The delivery address is missing.",
                     "Name the store for a pickup.", "Only 10 pcs of GEAR-45 left in stock.",
                     "The shop order number is missing.", "write delivery or pickup"):
        assert expected in page, expected
    assert "1 new" in page


def test_sample_file_downloads_and_imports(app, as_user, make_product):
    """The sample file downloads and, with its products in stock, previews without a problem."""
    make_product("GEAR-45", on_hand="5000")
    make_product("BRK-200", on_hand="10")
    make_product("CAB-OAK", on_hand="12")
    sales = as_user("sales")
    sample = sales.get("/retail/import/sample.csv")
    assert sample.status_code == 200 and sample.mimetype == "text/csv"
    page = text_of(upload(sales, sample.data))
    assert "2 new" in page and "problems: left out" not in page


@BOTH
def test_the_same_file_imported_twice_at_once_imports_each_order_once(app, as_user, make_user, make_product):
    """Two people press "import" on the same previewed file at the same moment: each shop order is
    imported once, stock is taken once per order."""
    import hashlib
    from .helpers import at_once
    make_product("GEAR-45", on_hand="100")
    content = (CSV_HEADER + "AT1,王丽,13800138000,上海,GEAR-45,2,,delivery,,\n"
               + "AT2,陈强,13900139000,北京,GEAR-45,3,,delivery,,\n").encode()
    assert "2 new" in text_of(upload(as_user("sales"), content))
    make_user("sales", username="importer")
    data = {"sha256": hashlib.sha256(content).hexdigest()}
    statuses = at_once(app, "importer", [("/retail/import/confirm", data), ("/retail/import/confirm", data)])
    assert statuses == [303, 303], statuses
    with app.app_context():
        assert sorted(db.session.scalars(db.select(RetailOrder.shop_order_no))) == ["AT1", "AT2"]
        assert db.session.scalar(db.select(db.func.count(Order.id))) == 2
