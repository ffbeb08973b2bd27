"""Going live from Excel (issue 15): the template downloads and opens with its documented columns; a
file with problems is refused with each problem named by sheet, row and cell and nothing saved; the
corrected file's dry run saves nothing, its import creates customers, products, materials, BOMs,
stock on hand per lot through the ledger and open orders; the same file again is refused on
duplicates; files that are no workbook, too big or too long are refused; only admin and operations
may import; CSRF — on SQLite and PostgreSQL."""
import html
import io
import re
import zipfile
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook

from webapp.customers.models import Customer, Product
from webapp.extensions import db
from webapp.golive import importer, sheets
from webapp.orders.models import Order
from webapp.stock.models import BomVersion, Location, Lot, Material, StockBalance, StockMove

from .helpers import at_once, text_of

BOTH = pytest.mark.parametrize("app", [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
], indirect=True)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook(rows: dict, *, keep_example: bool = False, extra_header: dict | None = None) -> bytes:
    """The downloaded template filled in: rows per kind key, each a list of values in the template's
    column order (the example row overwritten unless keep_example); extra_header adds a header cell."""
    book = load_workbook(io.BytesIO(sheets.template_bytes()))
    for kind in sheets.KINDS:
        sheet = book[kind.sheet_name]
        start = 3 if keep_example else 2
        if not keep_example:
            sheet.delete_rows(2)
        for offset, values in enumerate(rows.get(kind.key, ())):
            for column, value in enumerate(values, start=1):
                sheet.cell(row=start + offset, column=column, value=value)
        for key, header in (extra_header or {}).items():
            if key == kind.key:
                sheet.cell(row=1, column=len(kind.columns) + 1, value=header)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def good_rows() -> dict:
    """A clean going-live file: two customers, two products, three materials (one the customer supplies),
    two BOMs (one with a sub-assembly), four lots of stock, and two open orders (one of two lines)."""
    return {
        "customers": [["HDJM", "华东精密机械有限公司", "钱经理", "13800138001", "qian@hdjm.example.cn", "上海市嘉定区",
                       "zh", "CNY", 30, 30, ""],
                      ["acme", "ACME Industrial Ltd", "John", "+44 20 7946 0001", "", "Leeds", "en", "cny", "50", "45", ""]],
        "products": [["BRK-200", "不锈钢支架", "件", "12.50", "2001234000017"],
                     ["PIN-08", "定位销", "件", 0.85, None]],
        "materials": [["SUS304-1.5", "不锈钢板", "kg", "t", "1,000", None, "否"],
                      ["SCREW-M3", "螺钉 M3×8", "件", "盒", 1000, None, None],
                      ["MCU-STM32", "客供芯片", "件", None, None, "ACME", "是"]],
        "boms": [["BRK-200", "SUS304-1.5", "0.085", "3.5"],
                 ["BRK-200", "PIN-08", 2, None],
                 ["BRK-200", "SCREW-M3", "４", None]],
        "stock": [["SUS304-1.5", "B2609-114", "2,400", "RAW", "16.80"],
                  ["SUS304-1.5", "B2609-114", 60, "LINE", "16.80"],
                  ["SCREW-M3", "M3-2609", "６０，０００", None, "0.0125"],
                  ["BRK-200", "OPEN-01", 150, None, "6.90"]],
        "orders": [["HDJM", "PO-118", "BRK-200", "2,000", "12.50", datetime(2026, 12, 20), "已生效", 0],
                   ["HDJM", "PO-118", "PIN-08", 500, "0.85", datetime(2026, 12, 20), "已生效", 0],
                   ["ACME", "ACME-7", "BRK-200", 100, "13", "2027-01-15", "draft", None]],
    }


def post(client, data: bytes, mode: str = "check", filename: str = "golive.xlsx", **kwargs):
    """Upload a file on the going-live page."""
    return client.post("/golive/", data={"mode": mode, "file": (io.BytesIO(data), filename, XLSX)},
                       content_type="multipart/form-data", **kwargs)


def counts(app) -> dict:
    """How many of each record the database holds."""
    with app.app_context():
        return {model.__name__: db.session.scalar(db.select(db.func.count()).select_from(model))
                for model in (Customer, Product, Material, BomVersion, Lot, StockMove, Order)}


def locations(app) -> None:
    """The firm's stock locations (a location is never made by the import)."""
    with app.app_context():
        db.session.add_all([Location(code="FG", name="成品仓")])  # the first: the default location
        db.session.flush()
        db.session.add_all([Location(code="RAW", name="原料仓"), Location(code="LINE", name="线边仓")])
        db.session.commit()


def test_template_downloads_and_opens_with_the_documented_columns(app, as_user):
    """The template opens with openpyxl: a sheet per kind, the bilingual header, an example row, the notes."""
    response = as_user("admin").get("/golive/template.xlsx")
    assert response.status_code == 200 and response.mimetype == XLSX
    assert "attachment" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == [kind.sheet_name for kind in sheets.KINDS] + [sheets.NOTES_SHEET]
    headers = {kind.key: [cell.value for cell in book[kind.sheet_name][1]] for kind in sheets.KINDS}
    assert headers["customers"][:2] == ["客户简称* Abbreviation", "客户名称* Name"]
    assert headers["boms"] == ["产品型号* Product model", "物料编码* Material code", "单件用量* Quantity per piece",
                               "损耗率% Scrap %"]
    assert headers["stock"] == ["物料编码或产品型号* Material code or product model", "批号* Lot number",
                                "数量* Quantity", "库位 Location", "单位成本 Unit cost"]
    assert headers["orders"][:6] == ["客户简称* Customer abbreviation", "客户订单号* Customer PO",
                                     "产品型号* Product model", "数量* Quantity", "单价（不含税）* Unit price (without tax)",
                                     "交货日期* Delivery date"]
    assert book["未完成订单 Open orders"]["F2"].value == datetime(2026, 12, 20)  # the example is a real date
    notes = [[cell.value for cell in row] for row in book[sheets.NOTES_SHEET].iter_rows()]
    documented = {row[1] for row in notes[1:]}
    assert all(column.header in documented for kind in sheets.KINDS for column in kind.columns)
    assert any("kg" in (row[4] or "") and row[4].startswith("Units") for row in notes)
    # The columns are documented in docs/import.md too, by their bilingual names.
    from pathlib import Path
    doc = (Path(__file__).resolve().parents[1] / "docs" / "import.md").read_text(encoding="utf-8")
    assert all(f"`{column.header}`" in doc for kind in sheets.KINDS for column in kind.columns)


@BOTH
def test_the_filled_in_sample_imports_once(app, as_user):
    """The sample workbook the page offers imports into an empty firm (stock to the default location made
    for it); a second time it is refused on its duplicates."""
    admin = as_user("admin")
    sample = admin.get("/golive/sample.xlsx")
    assert sample.status_code == 200 and sample.mimetype == XLSX
    assert post(admin, sample.data).status_code == 200
    assert post(admin, sample.data, "import").status_code == 303
    with app.app_context():
        order = db.session.scalar(db.select(Order).where(Order.customer_po == "HY-PO-2611-05"))
        assert order.status == "effective" and order.lines[0].quantity == Decimal("20000")
        assert db.session.scalar(db.select(Product).where(Product.model == "HNG-30")).on_hand == Decimal("3000")
    again = post(admin, sample.data, "import")
    assert again.status_code == 422 and "“NBHY” is in the app already." in html.unescape(text_of(again))


def test_the_untouched_template_imports_nothing(app, as_user):
    """The template as downloaded (example rows only) is clean and creates nothing."""
    admin = as_user("admin")
    response = post(admin, admin.get("/golive/template.xlsx").data)
    assert response.status_code == 200 and "The file has no rows to import." in text_of(response)


@BOTH
def test_a_file_with_problems_is_refused_per_row_and_cell_and_nothing_is_saved(app, as_user):
    """A wrong column, duplicates in the file and against the app, a unit that does not exist, unknown
    references, negative and non-numeric quantities, an empty required cell, a bad date: each named by
    sheet, row, column letter and header; nothing saved, even when asked to import."""
    locations(app)
    with app.app_context():
        db.session.add(Customer(name="Old", abbreviation="OLDC"))
        db.session.commit()
    rows = good_rows()
    rows["customers"].append(["HDJM", "华东（重复）", "", "", "", "", "", "", "", "", ""])  # duplicate in the file
    rows["customers"].append(["OLDC", "Old again", "", "", "", "", "", "", "", "", ""])  # in the app already
    rows["products"].append(["GEAR-45", None, "件", "38", None])  # the name is empty
    rows["materials"].append(["OAK-BOARD", "橡木板", "斤斤", None, None, None, None])  # no such unit
    rows["boms"].append(["NOPE-1", "SUS304-1.5", "1", None])  # unknown product
    rows["stock"].append(["SUS304-1.5", "B2609-200", "-5", "RAW", None])  # negative
    rows["stock"].append(["SCREW-M3", "M3-2610", "很多", None, None])  # not a number
    rows["stock"].append(["NOPE-MAT", "X-1", "1", "NOWHERE", None])  # unknown material and location
    rows["orders"].append(["ZZZ", "PO-9", "BRK-200", "10", "1", "2026-13-45", None, None])  # unknown customer, bad date
    data = workbook(rows, extra_header={"products": "颜色 Colour"})
    before = counts(app)
    admin = as_user("admin")
    for mode in ("check", "import"):
        response = post(admin, data, mode)
        assert response.status_code == 422, text_of(response)[:3000]
        assert counts(app) == before
    problems = {(p.sheet, p.row, p.column, p.header): p.message for p in _plan(app, data).problems}
    assert problems[("Products", 1, "F", "颜色 Colour")].startswith("This column is not in the template")
    assert problems[("Customers", 4, "A", "Abbreviation*")] == "“HDJM” is on row 2 already."
    assert problems[("Customers", 5, "A", "Abbreviation*")] == "“OLDC” is in the app already."
    assert problems[("Products", 4, "B", "Name*")] == "This cell is required but empty."
    assert problems[("Materials", 5, "C", "Stock unit*")].startswith("The unit “斤斤” does not exist.")
    assert problems[("Bills of materials", 5, "A", "Product model*")] == \
        "No product has the model “NOPE-1” (in this file or the app)."
    assert problems[("Stock on hand", 6, "C", "Quantity*")] == "Enter a quantity above zero."
    assert problems[("Stock on hand", 7, "C", "Quantity*")] == "Enter a number, for example 12.5."
    assert problems[("Stock on hand", 8, "A", "Material code or product model*")] == \
        "No material or product has the code “NOPE-MAT” (in this file or the app)."
    assert problems[("Stock on hand", 8, "D", "Location")].startswith("No location has the code “NOWHERE”")
    assert problems[("Open orders", 5, "A", "Customer abbreviation*")] == \
        "No customer has the abbreviation “ZZZ” (in this file or the app)."
    assert problems[("Open orders", 5, "F", "Delivery date*")].startswith("Enter a date as yyyy-mm-dd")
    page = text_of(post(admin, data))
    assert "problems: nothing was imported" in page and "column F" in page and "颜色 Colour" in page


def _plan(app, data: bytes):
    """The importer's reading of a file, in English."""
    with app.test_request_context():
        return importer.read(data)


@BOTH
def test_missing_column_is_named(app, as_user):
    """A sheet without a required column: the column is named and nothing more of that sheet is read."""
    book = load_workbook(io.BytesIO(workbook(good_rows())))
    book["产品 Products"].delete_cols(3)  # the unit
    out = io.BytesIO()
    book.save(out)
    response = post(as_user("operations"), out.getvalue())
    assert response.status_code == 422
    assert "Unit*" in text_of(response) and "The required column is missing." in text_of(response)


@BOTH
def test_the_corrected_file_dry_run_saves_nothing_then_imports_whole_and_twice_is_refused(app, as_user):
    """The clean file: a dry run shows the counts and first rows and saves nothing; the import creates every
    record (stock per lot through the ledger at its cost, BOM lines, one effective numbered order of two
    lines and a draft); the same file again is refused on duplicates."""
    locations(app)
    data = workbook(good_rows(), keep_example=False)
    admin = as_user("admin")
    before = counts(app)
    dry = post(admin, data, "check")
    page = text_of(dry)
    assert dry.status_code == 200, page[:3000]
    assert "Nothing was saved" in page and "Customers: 2" in page and "Open orders: 2" in page
    assert "Stock on hand: 4" in page and "B2609-114" in page and "<td>60,000</td>" in page  # typed ６０，０００, re.sub(r"\s+", " ", page[page.find("id=\"preview"):][:3000])
    assert counts(app) == before
    done = post(admin, data, "import")
    assert done.status_code == 303, text_of(done)[:3000]
    assert "Imported: 2 customers, 2 products, 3 materials, 1 bills of materials, 4 lots of stock, 2 orders." in \
        text_of(admin.get(done.headers["Location"]))
    with app.app_context():
        acme = db.session.scalar(db.select(Customer).where(Customer.abbreviation == "ACME"))
        assert acme.currency == "CNY" and acme.prepayment_pct == Decimal("50") and acme.credit_days == 45
        steel = db.session.scalar(db.select(Material).where(Material.code == "SUS304-1.5"))
        assert steel.purchase_unit == "t" and steel.purchase_factor == Decimal("1000")
        chip = db.session.scalar(db.select(Material).where(Material.code == "MCU-STM32"))
        assert chip.customer_id == acme.id and chip.inspect_on_receipt and chip.purchase_unit == "件"
        balances = {(b.lot.material.code, b.lot.code, b.location.code): b.on_hand
                    for b in db.session.scalars(db.select(StockBalance))}
        assert balances == {("SUS304-1.5", "B2609-114", "RAW"): Decimal("2400"),
                            ("SUS304-1.5", "B2609-114", "LINE"): Decimal("60"),
                            ("SCREW-M3", "M3-2609", "FG"): Decimal("60000"),
                            ("BRK-200", "OPEN-01", "FG"): Decimal("150")}
        assert {m.kind for m in db.session.scalars(db.select(StockMove))} == {"opening"}
        assert steel.value == Decimal("41328.00") and steel.avg_cost == Decimal("16.8")  # 2,460 kg at 16.80
        bracket = db.session.scalar(db.select(Product).where(Product.model == "BRK-200"))
        assert bracket.on_hand == Decimal("150")
        bom = db.session.scalars(db.select(BomVersion).where(BomVersion.product_id == bracket.id)).one()
        assert [(line.material.code, line.quantity_per, line.scrap_percent) for line in bom.lines] == [
            ("SUS304-1.5", Decimal("0.085"), Decimal("3.5")), ("PIN-08", Decimal("2"), Decimal("0")),
            ("SCREW-M3", Decimal("4"), Decimal("0"))]
        orders = {o.customer_po: o for o in db.session.scalars(db.select(Order))}
        signed, draft = orders["PO-118"], orders["ACME-7"]
        assert signed.status == "effective" and signed.number and "-HDJM-" in signed.number
        assert [(l.model, l.quantity, l.unit_price) for l in signed.lines] == [
            ("BRK-200", Decimal("2000"), Decimal("12.50")), ("PIN-08", Decimal("500"), Decimal("0.85"))]
        assert signed.delivery_date == date(2026, 12, 20) and signed.prepayment_pct == 0
        assert signed.total_excl == Decimal("25425.00")
        assert draft.status == "draft" and draft.number is None and draft.delivery_date == date(2027, 1, 15)
        assert draft.prepayment_pct == Decimal("50")  # the customer's default
    after = counts(app)
    again = post(admin, data, "import")
    page = html.unescape(text_of(again))
    assert again.status_code == 422 and "“HDJM” is in the app already." in page
    assert "This customer's order “PO-118” is in the app already." in page
    assert "Lot “B2609-114” of this item is in the app already." in page
    assert counts(app) == after


@BOTH
def test_later_sheets_may_name_records_already_in_the_app(app, as_user, make_customer, make_product):
    """Going live in two files: stock and orders naming customers and products imported before."""
    make_customer("ACME")
    make_product("GEAR-45", on_hand="0")
    data = workbook({"stock": [["GEAR-45", "G-1", "1,200", None, "20"]],
                     "orders": [["ACME", "PO-1", "GEAR-45", "１２０", "38", "2026-12-31", None, None]]})
    response = post(as_user("operations"), data, "import")
    assert response.status_code == 303, text_of(response)[:3000]
    with app.app_context():
        assert db.session.scalar(db.select(Product).where(Product.model == "GEAR-45")).on_hand == Decimal("1200")
        order = db.session.scalars(db.select(Order)).one()
        assert order.status == "effective" and order.lines[0].quantity == Decimal("120")


@BOTH
def test_the_same_file_imported_twice_at_once_is_imported_once(app, as_user, make_user):
    """Two people press Import on the same file at the same moment: one imports it, the other is refused
    on its duplicates (no error page, nothing twice)."""
    locations(app)
    make_user("admin", username="golive-admin")
    data = workbook(good_rows())
    posts = [("/golive/", {"mode": "import", "file": (io.BytesIO(data), "g.xlsx", XLSX)}) for _ in range(2)]
    statuses = at_once(app, "golive-admin", posts)
    assert sorted(statuses) == [303, 422], statuses
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Order.id))) == 2
        assert db.session.scalar(db.select(db.func.count(Customer.id))) == 2


@BOTH
def test_files_that_are_no_workbook_or_too_big_are_refused(app, as_user, monkeypatch):
    """A CSV renamed .xlsx, a zip that is no workbook, a damaged one, an empty file, one over the size limit
    and one over the rows limit: each refused with its message; nothing saved."""
    admin = as_user("admin")
    csv = "客户简称,客户名称\nHDJM,华东\n".encode("utf-8-sig")
    response = post(admin, csv, "import", filename="customers.xlsx")
    assert response.status_code == 422 and "This is not an Excel workbook (.xlsx)" in text_of(response)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("hello.txt", "hi")
    assert "This is not an Excel workbook (.xlsx)" in text_of(post(admin, archive.getvalue()))
    assert "The workbook is damaged" in text_of(post(admin, b"PK\x03\x04" + b"\x00" * 200))
    # An XML entity bomb in a sheet: openpyxl reads through defusedxml, which refuses it.
    bomb = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(workbook(good_rows()))) as source, zipfile.ZipFile(bomb, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                entities = "".join(f'<!ENTITY e{i} "{"&e%d;" % (i - 1) * 10}">' for i in range(1, 10))
                content = (b'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY e0 "lol">' + entities.encode()
                           + b']>' + content.split(b"?>", 1)[-1].replace(b"HDJM", b"&e9;", 1))
            target.writestr(item, content)
    assert "The workbook is damaged" in text_of(post(admin, bomb.getvalue()))
    cut = io.BytesIO()  # a sheet's XML cut off half-way (read only when its rows are)
    with zipfile.ZipFile(io.BytesIO(workbook(good_rows()))) as source, zipfile.ZipFile(cut, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            target.writestr(item, content[:len(content) // 2] if item.filename == "xl/worksheets/sheet2.xml" else content)
    response = post(admin, cut.getvalue(), "import")
    assert response.status_code == 422 and "The workbook is damaged" in text_of(response)
    assert "Choose a file." in text_of(admin.post("/golive/", data={"mode": "check"}))
    monkeypatch.setattr(importer, "MAX_BYTES", 4000)
    big = workbook(good_rows())
    assert len(big) > 4000
    assert "The file is larger than" in text_of(post(admin, big))
    monkeypatch.setattr(importer, "MAX_BYTES", 5 * 1024 * 1024)
    monkeypatch.setattr(importer, "MAX_ROWS", 10)
    response = post(admin, workbook(good_rows()), "import")
    assert response.status_code == 422 and "The file has more than 10 rows" in text_of(response)
    assert counts(app)["Customer"] == 0


def test_a_file_with_hundreds_of_problems_lists_the_first(app, as_user, monkeypatch):
    """More problems than are listed: the first ones, in sheet and row order, and a word that there are more."""
    monkeypatch.setattr(importer, "MAX_PROBLEMS", 3)
    rows = {"stock": [["NOPE", f"L{i}", "-1", None, None] for i in range(5)]}
    response = post(as_user("admin"), workbook(rows))
    page = html.unescape(text_of(response))
    assert response.status_code == 422 and "3 problems: nothing was imported" in page
    assert "Only the first 3 problems are listed." in page


def test_a_sheet_the_template_does_not_have_is_named(app, as_user):
    """A workbook with a sheet of another name (Sheet1): the sheet is named as not the template's."""
    book = Workbook()
    book.active.title = "Sheet1"
    book.active.append(["a", "b"])
    out = io.BytesIO()
    book.save(out)
    page = text_of(post(as_user("admin"), out.getvalue()))
    assert "Sheet1" in page and "This sheet is not one of the template" in page


def test_only_admin_and_operations_may_import(app, as_user):
    """A worker, a sales rep and the warehouse get 403 on the page, the template and the upload."""
    data = workbook(good_rows())
    for role in ("worker", "sales", "warehouse"):
        client = as_user(role)
        assert client.get("/golive/").status_code == 403
        assert client.get("/golive/template.xlsx").status_code == 403
        assert post(client, data, "import").status_code == 403
    assert counts(app)["Customer"] == 0
    page = as_user("operations").get("/golive/")
    assert page.status_code == 200 and "/golive/template.xlsx" in text_of(page)


def test_an_upload_without_the_csrf_token_is_refused(app, as_user):
    """The upload without its CSRF token: 400, nothing imported."""
    locations(app)
    admin = as_user("admin")
    response = admin.post("/golive/", csrf=False, content_type="multipart/form-data",
                          data={"mode": "import", "file": (io.BytesIO(workbook(good_rows())), "g.xlsx", XLSX)})
    assert response.status_code == 400
    assert counts(app)["Customer"] == 0


def test_problems_are_listed_in_chinese(app, as_user):
    """A Chinese reader reads the problems in Chinese, with the cell named."""
    admin = as_user("admin")
    admin.post("/lang/zh", data={"next": "/"})
    rows = good_rows()
    rows["stock"] = [["SUS304-1.5", "B1", "-5", None, None]]
    page = text_of(post(admin, workbook(rows)))
    assert "期初库存 · 第 2 行 · C 列 · 数量*" in page and "请输入大于零的数量" in page


@BOTH
def test_an_order_of_a_customer_paying_in_another_currency_needs_its_exchange_rate(app, as_user):
    """A customer in USD: their order without an exchange rate is refused at that cell (left at 1,
    its money would count as yuan); a rate of 0 too; with 7.1 the order keeps it."""
    customer = ["BAVM", "Bavaria Maschinenbau GmbH", "Hans", "", "", "München", "en", "USD", 0, 60, ""]
    product = ["GEAR-9", "Gear", "件", "9.50", None]

    def order(rate):
        return ["BAVM", "PO-77", "GEAR-9", 100, "9.50", "2027-01-15", None, None, rate]

    admin = as_user("admin")
    for rate, message in ((None, "This customer pays in USD: enter the exchange rate to CNY."), (0, "Must be more than 0.")):
        refused = post(admin, workbook({"customers": [customer], "products": [product], "orders": [order(rate)]}), "import")
        assert refused.status_code == 422 and message in html.unescape(text_of(refused)), rate
    assert counts(app)["Order"] == 0
    accepted = post(admin, workbook({"customers": [customer], "products": [product], "orders": [order("7.1")]}), "import")
    assert accepted.status_code == 303, text_of(accepted)[:3000]
    with app.app_context():
        saved = db.session.scalars(db.select(Order)).one()
        assert saved.currency == "USD" and saved.exchange_rate == Decimal("7.1")
