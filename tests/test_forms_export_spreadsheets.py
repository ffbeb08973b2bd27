"""spreadsheets.workbook's options for a sheet to print (title rows, per-cell formats, bold rows,
landscape, fit to width, header on every page), text kept as text, and the period a download covers."""
import io
from datetime import date
from decimal import Decimal

import openpyxl
import pytest

from webapp import spreadsheets


def sheet_of(data: bytes):
    return openpyxl.load_workbook(io.BytesIO(data)).active


def test_without_the_new_options_the_sheet_is_as_before():
    """No title rows and no print setup unless asked: the header is row 1, portrait, no print titles."""
    sheet = sheet_of(spreadsheets.workbook("t", ["A", "B"], [[1, 2]]))
    assert sheet["A1"].value == "A" and sheet.freeze_panes == "A2" and sheet.merged_cells.ranges == set()
    assert sheet.page_setup.orientation in (None, "portrait") and not sheet.print_title_rows
    assert not sheet.sheet_properties.pageSetUpPr or not sheet.sheet_properties.pageSetUpPr.fitToPage


def test_title_rows_print_setup_cell_formats_and_bold_rows():
    """Title rows above a header that stays frozen and repeats on each page; landscape, one page wide;
    a cell's own format beats its column's; a total row in bold."""
    data = spreadsheets.workbook(
        "成本核算表", ["类别", "金额", "比率"], [["材料", Decimal("1200.5"), Decimal("0.125")],
                                          ["人工", Decimal("3"), None], ["合计", Decimal("1203.5"), None]],
        title_rows=["华东精密 成本核算表", "订单 202611-ACME-001"], number_formats={2: "0.0%"},
        cell_formats={(1, 1): spreadsheets.QUANTITY_FORMAT}, bold_rows=[2],
        landscape=True, fit_to_width=True, repeat_header=True)
    sheet = sheet_of(data)
    assert sheet["A1"].value == "华东精密 成本核算表" and sheet["A1"].font.bold and sheet["A1"].font.size == 14
    assert sheet["A2"].value == "订单 202611-ACME-001"
    assert {str(r) for r in sheet.merged_cells.ranges} == {"A1:C1", "A2:C2"}
    assert [c.value for c in sheet[3]] == ["类别", "金额", "比率"] and all(c.font.bold for c in sheet[3])
    assert sheet.freeze_panes == "A4" and sheet.print_title_rows == "$3:$3"
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.page_setup.fitToWidth == 1
    assert sheet.page_setup.fitToHeight == 0
    assert sheet["B4"].value == 1200.5 and sheet["C4"].number_format == "0.0%"
    assert sheet["B5"].number_format == spreadsheets.QUANTITY_FORMAT
    assert not sheet["A4"].font.bold and all(c.font.bold for c in sheet[6])


def test_typed_formulas_control_characters_and_long_text_stay_text():
    """A text starting with "=" is stored as text (not a formula); control characters XML cannot hold
    are dropped (openpyxl refused the whole file for one); a text longer than a cell holds is cut."""
    formula = '=HYPERLINK("http://evil.example","x")'
    data = spreadsheets.workbook("t", ["=A1"], [[formula, "a\x00b\x07c\td", "x" * 40000]],
                                 title_rows=["=1+1"])
    sheet = sheet_of(data)
    assert sheet["A1"].value == "=1+1" and sheet["A1"].data_type == "s"
    assert sheet["A2"].value == "=A1" and sheet["A2"].data_type == "s"
    assert sheet["A3"].value == formula and sheet["A3"].data_type == "s" and sheet["A3"].quotePrefix
    assert sheet["B3"].value == "abc\td"
    assert len(sheet["C3"].value) == spreadsheets.CELL_TEXT_LIMIT
    assert sheet["C3"].alignment.wrap_text and not sheet["B3"].alignment.wrap_text  # too long for a line: wrapped
    rows = spreadsheets.csv_bytes(["h"], [["a\x00b"]]).decode("utf-8-sig").split("\r\n")
    assert rows[1] == "ab"


TODAY = date(2026, 11, 29)


@pytest.mark.parametrize("args, expected", [
    ({}, (date(2026, 11, 1), TODAY)),
    ({"month": "2026-02"}, (date(2026, 2, 1), date(2026, 2, 28))),
    ({"month": "２０２４-２"}, (date(2024, 2, 1), date(2024, 2, 29))),
    ({"from": "2026-11-10"}, (date(2026, 11, 10), date(2026, 11, 30))),
    ({"to": "2026-11-10"}, (date(2026, 11, 1), date(2026, 11, 10))),
    ({"from": "2025-01-01", "to": "2025-12-31"}, (date(2025, 1, 1), date(2025, 12, 31))),
    ({"from": "2024-01-01", "to": "2024-12-31"}, (date(2024, 1, 1), date(2024, 12, 31))),  # 366 days
    ({"month": "2026-01", "from": "2026-03-01", "to": "2026-03-02"}, (date(2026, 3, 1), date(2026, 3, 2))),
])
def test_requested_period(app, args, expected):
    """A month, a range (either end may be left out), this month by default; days replace a month."""
    with app.test_request_context():
        assert spreadsheets.requested_period(args, TODAY) == expected


@pytest.mark.parametrize("args", [
    {"from": "2026-11-30", "to": "2026-11-01"}, {"from": "2024-01-01", "to": "2025-01-01"},
    {"from": "2026-02-30"}, {"to": "tomorrow"}, {"month": "2026-13"}, {"month": "2026"}, {"month": "0000-05"},
    {"from": "9" * 1000},
])
def test_refused_periods(app, args):
    """Reversed, longer than a year (367 days) or malformed: PeriodError with a message."""
    with app.test_request_context():
        with pytest.raises(spreadsheets.PeriodError) as error:
            spreadsheets.requested_period(args, TODAY)
    assert str(error.value) and len(str(error.value)) < 200

