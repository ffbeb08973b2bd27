"""The shared XLSX module: bold frozen headers, numbers as numbers, dates as dates, widths, and a
download whose Chinese file name survives (RFC 5987 filename*)."""
import io
from datetime import date, datetime, timezone
from decimal import Decimal
from urllib.parse import unquote

import openpyxl

from webapp import spreadsheets


def test_workbook_cells_keep_their_types():
    """Decimals are numbers, dates are dates, None is empty; the header row is bold and frozen."""
    data = spreadsheets.workbook("表1 成本/核算", ["日期", "数量", "金额", "备注"], [
        [date(2026, 11, 23), Decimal("34"), Decimal("1234.50"), "钢板"],
        [datetime(2026, 11, 24, 9, 30, tzinfo=timezone.utc), Decimal("2.125"), None, "multi\nline"],
    ], number_formats={2: spreadsheets.MONEY_FORMAT}, column_widths={3: 40})
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book.active
    assert sheet.title == "表1 成本 核算"  # "/" is not allowed in a sheet name
    assert [c.value for c in sheet[1]] == ["日期", "数量", "金额", "备注"]
    assert all(c.font.bold for c in sheet[1]) and sheet.freeze_panes == "A2"
    a2, b2, c2, d2 = sheet[2]
    assert a2.is_date and a2.value == datetime(2026, 11, 23) and a2.number_format == "yyyy-mm-dd"
    assert b2.value == 34 and b2.data_type == "n" and isinstance(b2.value, int)
    assert c2.value == 1234.5 and c2.number_format == "#,##0.00"
    assert d2.value == "钢板"
    a3, b3, c3, _d3 = sheet[3]
    assert a3.value == datetime(2026, 11, 24, 9, 30) and a3.number_format == "yyyy-mm-dd hh:mm"
    assert b3.value == 2.125 and c3.value is None
    assert sheet.column_dimensions["D"].width == 40 and sheet.column_dimensions["A"].width >= 10


def test_empty_rows_and_long_title():
    """No rows is still a file with its headers; a long title is cut to Excel's 31 characters."""
    data = spreadsheets.workbook("x" * 50, ["A"], [])
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet.title == "x" * 31 and sheet.max_row == 1


def test_chinese_file_name_header(app):
    """The attachment header carries an ASCII fallback and the UTF-8 name in filename*."""
    with app.test_request_context("/"):
        response = spreadsheets.xlsx_response(b"data", "生产备货跟踪表 2026-11-23.xlsx")
    assert response.mimetype == spreadsheets.XLSX_MIME
    header = response.headers["Content-Disposition"]
    assert header.startswith('attachment; filename="') and header.encode("latin-1")
    fallback = header.split('filename="')[1].split('"')[0]
    assert fallback.isascii() and fallback.endswith(".xlsx")
    assert unquote(header.split("filename*=UTF-8''")[1]) == "生产备货跟踪表 2026-11-23.xlsx"
    assert spreadsheets.content_disposition("a\"b;c.xlsx").count('"') == 2  # no header injection


def test_csv_keeps_chinese_numbers_and_refuses_formulas():
    """The CSV twin opens in Excel/WPS with Chinese headers (UTF-8 BOM), numbers as plain numbers,
    dates as ISO dates, and a cell typed as a formula stays text."""
    import csv
    import io

    data = spreadsheets.csv_bytes(["订单号", "金额", "日期", "备注"],
                                  [["202611-ACME-001", Decimal("2000.50"), date(2026, 11, 30), "=HYPERLINK(\"x\")"],
                                   ["202611-ACME-002", Decimal("-12"), None, "多行\n备注"]])
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["订单号", "金额", "日期", "备注"]
    assert rows[1] == ["202611-ACME-001", "2000.5", "2026-11-30", "'=HYPERLINK(\"x\")"]
    assert rows[2] == ["202611-ACME-002", "-12", "", "多行\n备注"]


def test_csv_download_names_the_file_in_chinese_with_an_ascii_fallback(app):
    """A Chinese file name reaches the browser in filename*, with a .csv ASCII fallback."""
    with app.test_request_context():
        response = spreadsheets.csv_response(["a"], [[1]], "成本核算表 2026-11.csv")
    disposition = response.headers["Content-Disposition"]
    assert 'filename="2026-11.csv"' in disposition
    assert "filename*=UTF-8''%E6%88%90" in disposition
    assert response.mimetype == "text/csv"
