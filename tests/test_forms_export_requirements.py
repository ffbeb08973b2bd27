"""The requirement record (客户需求记录表, 表1) as XLSX and CSV: one record as the printable label/value
form with its rounds, and the records of a period one row each; headers in the reader's language,
numbers and dates typed, hostile text kept as text, bad periods refused with a message."""
import csv
import io
from datetime import datetime, timezone
from decimal import Decimal
from urllib.parse import unquote

import openpyxl
import pytest

from webapp.extensions import db
from webapp.firm import get_settings
from webapp.requirements import Requirement

from .helpers import customer_path, id_from_location, requirement_form, text_of

BOTH = pytest.mark.parametrize("app", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
                               indirect=True)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def book_of(response):
    """The first sheet of a downloaded XLSX and its values, row by row."""
    assert response.status_code == 200, text_of(response)[:500]
    assert response.mimetype == XLSX
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    return sheet, [[c.value for c in row] for row in sheet.iter_rows()]


def csv_of(response) -> list[list[str]]:
    """A downloaded CSV parsed back (UTF-8 with a BOM)."""
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))


def file_name(response) -> str:
    """The UTF-8 file name of a download."""
    return unquote(response.headers["Content-Disposition"].split("filename*=UTF-8''")[1])


def new_record(client, customer_id, **overrides) -> int:
    response = client.post("/requirements/new", data=requirement_form(customer_id, **overrides))
    assert response.status_code == 303, text_of(response)[:800]
    return id_from_location(response)


@pytest.fixture
def firm(app):
    with app.app_context():
        get_settings().firm_name = "华东精密"
        db.session.commit()


@BOTH
def test_one_record_in_chinese_is_the_printable_form_with_its_rounds(app, firm, as_user, make_customer):
    """The label/value rows in the template's words, numbers and dates typed, the title rows with the
    firm's name, and each round with the customer's answer and its time."""
    customer_id = make_customer("ACME", name="艾克米机械")
    sales = as_user("sales", locale="zh")
    req_id = new_record(sales, customer_id, quantity="2,000", budget_min="1,200.5", budget_max="15000",
                        customer_part_no="C-778", drawing_rev="B", quality_standard="GB/T 1804-m",
                        contact_name="王工", contact_phone="13800000000")
    assert sales.post(f"/requirements/{req_id}/send").status_code == 303
    link = customer_path(app, "requirement_confirm", req_id)
    app.test_client().post(link + "/clarify", data={"clarify-name": "王工", "clarify-comment": "表面处理？"})
    assert sales.post(f"/requirements/{req_id}/send").status_code == 303
    link = customer_path(app, "requirement_confirm", req_id)
    assert app.test_client().post(link + "/confirm", data={"confirm-name": "王工"}).status_code == 303
    with app.app_context():  # the rounds' times, set to known instants (UTC)
        first, second = db.session.get(Requirement, req_id).rounds
        first.sent_at = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)
        first.responded_at = datetime(2026, 11, 21, 6, 30, tzinfo=timezone.utc)
        db.session.commit()
    page = text_of(sales.get(f"/requirements/{req_id}"))
    assert f"/requirements/{req_id}/record.xlsx" in page and f"/requirements/{req_id}/record.csv" in page

    response = sales.get(f"/requirements/{req_id}/record.xlsx")
    assert file_name(response) == f"客户需求记录表-ACME-{req_id}.xlsx"
    sheet, rows = book_of(response)
    assert rows[0][0] == "华东精密 客户需求记录表" and sheet["A1"].font.bold and sheet["A1"].font.size == 14
    assert rows[1][0] == f"记录 #{req_id} · 艾克米机械"
    assert rows[2] == ["项目", "内容", "时间"] and all(c.font.bold for c in sheet[3])
    assert sheet.freeze_panes == "A4" and sheet.print_title_rows == "$3:$3"
    assert sheet.page_setup.fitToWidth == 1 and sheet.sheet_properties.pageSetUpPr.fitToPage
    values = {row[0]: row[1] for row in rows[3:]}
    assert values["客户名称"] == "艾克米机械" and values["联系人"] == "王工" and values["联系电话"] == "13800000000"
    assert values["产品/服务"] == "Stainless bracket" and values["客户料号"] == "C-778" and values["图纸版本"] == "B"
    assert values["规格参数"] == "304, 2 mm" and values["质量标准"] == "GB/T 1804-m"
    assert values["数量"] == 2000 and values["单位"] == "pcs"
    assert values["期望交付日期"] == datetime(2026, 12, 20)
    assert values["预算范围（下限）"] == 1200.5 and values["预算范围（上限）"] == 15000
    assert values["特殊要求"] == "Pack in tens" and values["优先级"] == "紧急" and values["状态"] == "已确认"
    by_label = {row[0]: row for row in rows[3:]}
    budget_cell = next(c for c in sheet["B"] if c.value == 1200.5)
    assert budget_cell.number_format == "#,##0.00" and budget_cell.data_type == "n"
    date_cell = next(c for c in sheet["B"] if c.value == datetime(2026, 12, 20))
    assert date_cell.is_date and date_cell.number_format == "yyyy-mm-dd"
    # The rounds, in the firm's time (Shanghai, UTC+8).
    assert by_label["第 1 轮 发送"][2] == datetime(2026, 11, 20, 10, 0)
    assert by_label["第 1 轮 客户答复"][1].endswith("（王工）：表面处理？")
    assert by_label["第 1 轮 客户答复"][2] == datetime(2026, 11, 21, 14, 30)
    assert by_label["第 2 轮 客户答复"][1] == "已确认（王工）"

    rows = csv_of(sales.get(f"/requirements/{req_id}/record.csv"))
    assert rows[0] == ["项目", "内容", "时间"]  # a CSV has no title rows: the header comes first
    assert ["数量", "2000", ""] in rows and ["期望交付日期", "2026-12-20", ""] in rows


def test_english_headers_and_no_budget_for_who_may_not_see_prices(app, as_user, make_customer, make_user):
    """An English reader gets English words; production (no prices) gets no budget rows or columns."""
    customer_id = make_customer("ACME")
    sales = as_user("sales", locale="en")
    req_id = new_record(sales, customer_id)
    _sheet, rows = book_of(sales.get(f"/requirements/{req_id}/record.xlsx"))
    assert rows[2] == ["Item", "Details", "Date"]
    labels = [row[0] for row in rows[3:]]
    assert labels[:4] == ["Customer", "Contact person", "Contact phone", "Product or service"]
    assert "Budget from" in labels and ["Rounds", "Not sent to the customer yet", None] in rows
    production = as_user("production", locale="en")
    _sheet, rows = book_of(production.get(f"/requirements/{req_id}/record.xlsx"))
    assert not any(str(row[0]).startswith("Budget") for row in rows[3:])
    rows = csv_of(production.get("/requirements/records.csv"))
    assert not any(h.startswith("Budget") for h in rows[0]) and "Specifications" in rows[0]


@BOTH
def test_hostile_text_stays_text(app, as_user, make_customer):
    """A spec typed as a formula stays text in XLSX and CSV; a NUL does not break the file; a long
    text arrives whole."""
    customer_id = make_customer("ACME")
    sales = as_user("sales", locale="zh")
    long_text = "长" * 3990 + "END"
    req_id = new_record(sales, customer_id, specs='=HYPERLINK("http://evil.example","x")',
                        special_requirements=long_text, quality_standard="+SUM(A1)")
    with app.app_context():  # control characters that came in another way (an import, an old row); PostgreSQL
        sqlite = db.engine.dialect.name == "sqlite"  # refuses a NUL in text, SQLite keeps it
        db.session.get(Requirement, req_id).contact_name = "A\x00nn\x07" if sqlite else "A\x07nn\x1b"
        db.session.commit()
    sheet, rows = book_of(sales.get(f"/requirements/{req_id}/record.xlsx"))
    values = {row[0]: row[1] for row in rows[3:]}
    spec = next(c for c in sheet["B"] if c.value == '=HYPERLINK("http://evil.example","x")')
    assert spec.data_type == "s"  # a string, not a formula
    assert values["特殊要求"] == long_text and values["联系人"] == "Ann"
    rows = csv_of(sales.get(f"/requirements/{req_id}/record.csv"))
    values = {row[0]: row[1] for row in rows[1:]}
    assert values["规格参数"] == "'=HYPERLINK(\"http://evil.example\",\"x\")" and values["质量标准"] == "'+SUM(A1)"
    assert values["联系人"] == "Ann"


@BOTH
def test_period_one_row_per_record_with_the_list_filters(app, firm, as_user, make_customer):
    """The records written down in the period (the firm's days), with the list's status filter; the
    title rows name the period; the file name the month."""
    customer_id = make_customer("ACME", name="艾克米")
    sales = as_user("sales", locale="zh")
    october = new_record(sales, customer_id, product="十月件")
    first = new_record(sales, customer_id, product="十一月一号", quantity="1,500")
    sent = new_record(sales, customer_id, product="已发送", budget_min="", budget_max="")
    assert sales.post(f"/requirements/{sent}/send").status_code == 303
    with app.app_context():  # 2026-10-31 23:30 in Shanghai is 15:30 UTC: October's, not November's
        for req_id, moment in ((october, datetime(2026, 10, 31, 15, 30)), (first, datetime(2026, 10, 31, 16, 30)),
                               (sent, datetime(2026, 11, 15, 4, 0))):
            db.session.get(Requirement, req_id).created_at = moment.replace(tzinfo=timezone.utc)
        db.session.commit()
    page = text_of(sales.get("/requirements/"))
    assert "/requirements/records.xlsx" in page and "/requirements/records.csv" in page

    response = sales.get("/requirements/records.xlsx?month=2026-11")
    assert file_name(response) == "客户需求记录表-202611.xlsx"
    sheet, rows = book_of(response)
    assert rows[0][0] == "华东精密 客户需求记录表" and rows[1][0] == "登记日期 2026-11-01 至 2026-11-30"
    headers = rows[2]
    assert headers[:6] == ["记录编号", "登记日期", "销售员", "客户名称", "联系人", "联系电话"]
    assert headers[-4:] == ["确认轮次", "客户答复", "答复时间", "确认时间"] and "预算范围（下限）" in headers
    assert sheet.page_setup.orientation == "landscape" and sheet.print_title_rows == "$3:$3"
    table = [dict(zip(headers, row)) for row in rows[3:]]
    assert [r["记录编号"] for r in table] == [f"#{first}", f"#{sent}"]  # October's record left out
    assert table[0]["登记日期"] == datetime(2026, 11, 1) and table[0]["数量"] == 1500
    assert table[0]["预算范围（下限）"] == 900 and table[1]["预算范围（下限）"] is None
    assert table[1]["确认轮次"] == 1 and table[1]["客户答复"] == "尚无答复" and table[1]["状态"] == "待客户确认"
    money_column = headers.index("预算范围（下限）") + 1
    assert sheet.cell(row=4, column=money_column).number_format == "#,##0.00"
    _sheet, rows = book_of(sales.get("/requirements/records.xlsx?from=2026-11-01&to=2026-11-30&status=sent"))
    assert [row[0] for row in rows[3:]] == [f"#{sent}"]
    rows = csv_of(sales.get("/requirements/records.csv?from=2026-10-01&to=2026-10-31"))
    assert len(rows) == 2 and rows[1][0] == f"#{october}" and rows[1][1] == "2026-10-31"


def test_empty_period_is_a_file_with_headers_and_a_note(app, as_user):
    """No records in the period: the headers and a note in the title rows (the CSV: the headers)."""
    sales = as_user("sales", locale="en")
    sheet, rows = book_of(sales.get("/requirements/records.xlsx?month=2020-02"))
    assert rows[1][0] == "Recorded 2020-02-01 to 2020-02-29" and rows[2][0] == "(No records in this period.)"
    assert rows[3][0] == "Record no." and sheet.max_row == 4
    assert csv_of(sales.get("/requirements/records.csv?month=2020-02"))[1:] == []


@BOTH
@pytest.mark.parametrize("query, message", [
    ("from=2026-11-30&to=2026-11-01", "结束日期早于开始日期。"),
    ("from=2025-01-01&to=2026-11-30", "最多"),
    ("from=2026-13-01", "不是日期"),
    ("from=2026-11-01%00x", "不是日期"),  # the NUL is dropped on the way in (inputs.py); the x stays
    ("month=2026-13", "不是月份"),
    pytest.param("month=" + "9" * 1000, "不是月份", id="huge-month"),
])
def test_bad_period_is_a_message_not_a_500(app, as_user, query, message):
    """A reversed, too long or malformed period answers the list page with the reason (422)."""
    response = as_user("sales", locale="zh").get("/requirements/records.xlsx?" + query)
    assert response.status_code == 422 and response.mimetype == "text/html"
    assert message in text_of(response)


def test_full_width_dates_are_read(app, as_user):
    """Dates typed with full-width digits (a Chinese input method) are read as dates."""
    response = as_user("sales").get("/requirements/records.csv?from=２０２６-１１-０１&to=２０２６-１１-３０")
    assert response.status_code == 200


def test_who_may_download(app, as_user, make_customer):
    """Whoever may view requirements downloads them; a worker or courier is refused (403)."""
    customer_id = make_customer("ACME")
    req_id = new_record(as_user("sales"), customer_id)
    for role in ("worker", "courier"):
        client = as_user(role)
        assert client.get(f"/requirements/{req_id}/record.xlsx").status_code == 403
        assert client.get("/requirements/records.csv").status_code == 403
    assert as_user("finance").get(f"/requirements/{req_id}/record.csv").status_code == 200
    assert as_user("finance").get("/requirements/999999/record.xlsx").status_code == 404
