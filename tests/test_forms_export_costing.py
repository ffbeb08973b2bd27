"""The cost sheet (成本核算表, 表3) as XLSX and CSV: per order and for a period, in the template's
columns with a total row per order, made to print (title rows, landscape, fit to width, header on
every page); only for whoever may see cost sheets; bad periods refused with a message."""
import csv
import io
import re
import shutil
import subprocess
from datetime import datetime, timezone
from decimal import Decimal
from urllib.parse import unquote

import openpyxl
import pytest

from webapp.costing.models import CostCause, CostSheet
from webapp.extensions import db
from webapp.firm import get_settings
from webapp.orders.models import Order

from .helpers import text_of

BOTH = pytest.mark.parametrize("app", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
                               indirect=True)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ACTUALS = {"actual_material": "1,320.50", "actual_labour": "90", "actual_overhead": "100", "actual_aftersales": "0",
           "cause_material": "Steel price rose in November", "cause_labour": "", "cause_overhead": "",
           "cause_logistics": "", "cause_aftersales": ""}


def book_of(response):
    """The first sheet of a downloaded XLSX and its values, row by row."""
    assert response.status_code == 200, text_of(response)[:500]
    assert response.mimetype == XLSX
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    return sheet, [[c.value for c in row] for row in sheet.iter_rows()]


def csv_of(response) -> list[list[str]]:
    """A downloaded CSV parsed back (UTF-8 with a BOM)."""
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))


def file_name(response) -> str:
    return unquote(response.headers["Content-Disposition"].split("filename*=UTF-8''")[1])


@pytest.fixture
def order_id(app, make_order):
    """An order in production, budget 100 per category (logistics 0), for the firm 华东精密."""
    order_id = make_order("in_production", customer="ACME")
    with app.app_context():
        db.session.get(Order, order_id).budget_logistics = Decimal("0")
        get_settings().firm_name = "华东精密"
        db.session.commit()
    return order_id


def cause_id(app, key: str) -> int:
    with app.app_context():
        return db.session.scalar(db.select(CostCause.id).where(CostCause.key == key))


def with_causes(app, **extra) -> dict:
    """The actuals, and two cause codes on the material line: price increase ¥1,000 with a note, and
    rework for what is left of the variance."""
    return {**ACTUALS, "causes_material-0-cause": str(cause_id(app, "price_increase")),
            "causes_material-0-amount": "1,000", "causes_material-0-note": "钢材涨价",
            "causes_material-1-cause": str(cause_id(app, "rework")), "causes_material-1-amount": "",
            "causes_material-1-note": "", **extra}


def number_of(app, order_id) -> str:
    with app.app_context():
        return db.session.get(Order, order_id).number


def finalise(app, finance, order_id, when: datetime, **actuals):
    """Finance saves the actuals and finalises; the finalising time set to when (UTC)."""
    assert finance.post(f"/costing/orders/{order_id}", data={**ACTUALS, **actuals}).status_code == 303
    assert finance.post(f"/costing/orders/{order_id}/finalise").status_code == 303
    with app.app_context():
        sheet = db.session.scalar(db.select(CostSheet).where(CostSheet.order_id == order_id))
        sheet.finalised_at = when
        db.session.commit()


@BOTH
def test_one_order_in_chinese_made_to_print(app, order_id, as_user):
    """The template's columns in Chinese, a row per category and a bold total; money and rates as
    numbers with their formats; title rows; landscape, fit to width, the header on every page."""
    finance = as_user("finance", locale="zh", name="钱会计")
    response = finance.post(f"/costing/orders/{order_id}", data=with_causes(app))
    assert response.status_code == 303, text_of(response)[:3000]
    number = number_of(app, order_id)
    page = text_of(finance.get(f"/costing/orders/{order_id}"))
    assert f"/costing/orders/{order_id}/sheet.xlsx" in page and "/costing/sheets" in page
    response = finance.get(f"/costing/orders/{order_id}/sheet.xlsx")
    assert file_name(response) == f"成本核算表-{number}.xlsx"
    sheet, rows = book_of(response)
    assert rows[0][0] == "华东精密 成本核算表" and sheet["A1"].font.bold
    assert rows[1][0] == f"订单 {number} · ACME Ltd"
    assert rows[2] == ["订单号", "客户", "币种", "成本类别", "预算", "实际", "来源", "录入人", "录入时间", "差异",
                       "差异率", "差异原因", "核算完成日期"]
    assert all(c.font.bold for c in sheet[3]) and sheet.freeze_panes == "A4"
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.fitToWidth == 1
    assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.print_title_rows == "$3:$3"
    assert "A1:M1" in {str(r) for r in sheet.merged_cells.ranges}
    body = rows[3:]
    assert [r[3] for r in body] == ["直接材料", "直接人工", "制造费用", "物流费用", "售后", "合计"]
    material = body[0]
    assert material[:6] == [number, "ACME Ltd", "CNY", "直接材料", 100, 1320.5]
    assert material[9] == 1220.5 and material[10] == pytest.approx(12.205)
    price, rework, note = material[11].split("\n")  # each cause code with its amount and note, then the line's note
    assert price.endswith(" 1,000.00 CNY：钢材涨价") and rework == "返工 220.50 CNY"
    assert note == "Steel price rose in November"
    assert material[12] is None  # not finalised
    assert sheet.cell(row=4, column=12).alignment.wrap_text
    assert body[3][6:9] == ["由记录计算", None, None] and body[3][5] == 0  # logistics: no freight yet
    assert material[6:8] == ["手工录入", "钱会计"] and isinstance(material[8], datetime)
    assert sheet.cell(row=4, column=9).number_format == "yyyy-mm-dd hh:mm"
    assert body[3][10] is None  # logistics: no budget, no rate
    total = body[-1]
    assert total[4] == 400 and total[5] == 1510.5 and total[9] == 1110.5
    assert all(c.font.bold for c in sheet[sheet.max_row])
    row4 = sheet[4]
    assert row4[4].number_format == "#,##0.00" and row4[4].data_type == "n"
    assert row4[10].number_format == "0.0%"


def test_english_headers_and_csv(app, order_id, as_user):
    """An English reader gets English headers; the CSV carries the same rows."""
    finance = as_user("finance", locale="en")
    finance.post(f"/costing/orders/{order_id}", data=ACTUALS)
    _sheet, rows = book_of(finance.get(f"/costing/orders/{order_id}/sheet.xlsx"))
    assert rows[2][:6] == ["Order no.", "Customer", "Currency", "Cost category", "Budget", "Actual"]
    assert rows[-1][3] == "Total"
    rows = csv_of(finance.get(f"/costing/orders/{order_id}/sheet.csv"))
    assert rows[0][:4] == ["Order no.", "Customer", "Currency", "Cost category"]
    assert rows[1][3:6] == ["Direct material", "100", "1320.5"] and rows[1][10] == "12.205"
    assert rows[-1][3:6] == ["Total", "400", "1510.5"]


@BOTH
def test_hostile_cause_stays_text(app, order_id, as_user):
    """A cause typed as a formula stays text in the XLSX and gets an apostrophe in the CSV; a long
    cause arrives whole."""
    finance = as_user("finance", locale="zh")
    cause = '=HYPERLINK("http://evil.example","click")'
    long_cause = "长" * 1990 + "END"
    assert finance.post(f"/costing/orders/{order_id}", data={**ACTUALS, "cause_material": cause,
                                                              "cause_labour": long_cause}).status_code == 303
    sheet, rows = book_of(finance.get(f"/costing/orders/{order_id}/sheet.xlsx"))
    cell = sheet.cell(row=4, column=12)
    assert cell.value == cause and cell.data_type == "s"
    assert rows[4][11] == long_cause
    rows = csv_of(finance.get(f"/costing/orders/{order_id}/sheet.csv"))
    assert rows[1][11] == "'" + cause


@BOTH
def test_period_finalised_sheets_and_open_ones_if_asked(app, order_id, make_order, as_user):
    """A month's file holds the sheets finalised in it (the firm's days), each with a total row; the
    open orders only when asked; the file name is the month."""
    finance = as_user("finance", locale="zh")
    # 2026-11-30 23:30 in Shanghai (15:30 UTC) is November's.
    finalise(app, finance, order_id, datetime(2026, 11, 30, 15, 30, tzinfo=timezone.utc))
    december = make_order("in_production", customer="BETA")
    finalise(app, finance, december, datetime(2026, 11, 30, 16, 30, tzinfo=timezone.utc))  # 12-01 00:30 local
    still_open = make_order("in_production", customer="GAMMA")
    page = text_of(finance.get("/costing/sheets"))
    assert "/costing/sheets.xlsx" in page and 'name="open"' in page
    response = finance.get("/costing/sheets.xlsx?month=2026-11")
    assert file_name(response) == "成本核算表-202611.xlsx"
    sheet, rows = book_of(response)
    assert rows[1][0] == "核算完成 2026-11-01 至 2026-11-30"
    body = rows[3:]
    assert {r[0] for r in body} == {number_of(app, order_id)} and len(body) == 6
    assert body[0][12] == datetime(2026, 11, 30) and sheet.cell(row=4, column=13).is_date
    _sheet, rows = book_of(finance.get("/costing/sheets.xlsx?from=2026-11-01&to=2026-12-31&open=1"))
    body = rows[3:]
    numbers = [number_of(app, i) for i in (order_id, december, still_open)]
    assert [r[0] for r in body if r[3] == "合计"] == numbers
    assert rows[1][0].endswith("另含未完成核算的订单")
    open_total = [r for r in body if r[0] == numbers[2]][-1]
    assert open_total[5] is None and open_total[12] is None  # not every actual known yet
    bold = [row[0].font.bold for row in sheet.iter_rows(min_row=4)]
    assert bold == [False] * 5 + [True]


def test_empty_period_is_a_file_with_headers_and_a_note(app, as_user):
    """No sheets in the period: the headers and a note in the title rows; the CSV only its headers."""
    finance = as_user("finance", locale="zh")
    sheet, rows = book_of(finance.get("/costing/sheets.xlsx?month=2020-02"))
    assert rows[2][0] == "（本期间没有成本核算表）" and rows[3][0] == "订单号" and sheet.max_row == 4
    assert sheet.freeze_panes == "A5" and sheet.print_title_rows == "$4:$4"
    assert csv_of(finance.get("/costing/sheets.csv?month=2020-02"))[1:] == []


@BOTH
@pytest.mark.parametrize("query, message", [
    ("from=2026-11-30&to=2026-11-01", "结束日期早于开始日期。"),
    ("from=2024-01-01&to=2026-11-30", "最多下载 366 天"),
    ("to=2026-02-30", "不是日期"),
    ("from=x%00y", "不是日期"),
    ("month=11-2026", "不是月份"),
    ("month=0000-01", "不是月份"),
])
def test_bad_period_is_a_message_not_a_500(app, as_user, query, message):
    """A reversed, too long or malformed period answers the form with the reason (422)."""
    response = as_user("finance", locale="zh").get("/costing/sheets.csv?" + query)
    assert response.status_code == 422 and message in text_of(response)


@BOTH
def test_who_may_download(app, order_id, as_user):
    """Only who may see cost sheets (costsheet.view: finance, the manager and the roles the firm
    allows, by default operations and sales): a worker, production or warehouse is refused (403), and
    sales too once the firm keeps costs to finance; an order that does not exist is 404."""
    for role in ("worker", "production", "warehouse", "courier"):
        client = as_user(role)
        assert client.get(f"/costing/orders/{order_id}/sheet.xlsx").status_code == 403, role
        assert client.get("/costing/sheets.xlsx").status_code == 403, role
        assert client.get("/costing/sheets").status_code == 403, role
    sales = as_user("sales")
    for client in (as_user("finance"), as_user("manager"), as_user("operations"), sales):
        assert client.get(f"/costing/orders/{order_id}/sheet.csv").status_code == 200
    with app.app_context():
        get_settings().cost_roles = ""
        db.session.commit()
    assert sales.get(f"/costing/orders/{order_id}/sheet.csv").status_code == 403
    assert sales.get("/costing/sheets.csv?month=2026-11").status_code == 403
    assert "/sheet.xlsx" not in text_of(sales.get(f"/orders/{order_id}"))
    assert as_user("finance").get("/costing/orders/999999/sheet.xlsx").status_code == 404


def test_a_download_changes_nothing(app, order_id, as_user):
    """Downloading a sheet nobody saved yet saves nothing (the page's draft, read only)."""
    _sheet, rows = book_of(as_user("finance").get(f"/costing/orders/{order_id}/sheet.xlsx"))
    assert rows[3][4] == 100 and rows[3][5] == 0 and rows[3][6] == "From the records"  # nothing issued yet
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(CostSheet.id))) == 0


@pytest.mark.slow
@pytest.mark.skipif(not (shutil.which("soffice") and shutil.which("pdftotext")),
                    reason="LibreOffice (soffice) or poppler-utils (pdftotext) is not installed")
def test_libreoffice_prints_it_on_landscape_pages(app, order_id, as_user, tmp_path):
    """The file as a spreadsheet program prints it: LibreOffice turns it into a PDF whose pages are
    landscape, with the title, the headers, a formatted amount and the total on the page."""
    finance = as_user("finance", locale="zh")
    assert finance.post(f"/costing/orders/{order_id}", data=with_causes(app)).status_code == 303
    source = tmp_path / "sheet.xlsx"
    source.write_bytes(finance.get(f"/costing/orders/{order_id}/sheet.xlsx").data)
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/profile", "--headless",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), str(source)],
                   check=True, capture_output=True, timeout=120)
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "sheet.pdf"), "-"], check=True,
                          capture_output=True, text=True).stdout
    assert "华东精密 成本核算表" in text and "差异原因" in text and "合计" in text
    assert "1,320.50" in text and "1,510.50" in text and "1,220.50 1220.5%" in text  # amount, rate
    info = subprocess.run(["pdfinfo", str(tmp_path / "sheet.pdf")], check=True, capture_output=True,
                          text=True).stdout
    width, height = (float(v) for v in re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info).groups())
    assert width > height  # landscape
