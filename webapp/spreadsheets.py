"""XLSX downloads of the template's tables (表1, 表2, 表3): one sheet with a bold, frozen header row,
numbers as numbers and dates as dates, so the file sums and sorts in Excel or WPS like the paper one.
Generic on purpose: a domain passes its headers (already in the reader's language) and its rows."""
import calendar
import csv
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO, StringIO
from urllib.parse import quote

from flask import Response
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
# A quantity: no decimals shown when whole, up to three when not.
QUANTITY_FORMAT = "#,##0.###"
MONEY_FORMAT = "#,##0.00"
# Excel's own limit for a sheet's name, and the characters it refuses in one.
_SHEET_NAME_LIMIT = 31
_SHEET_NAME_REFUSED = str.maketrans({c: " " for c in "[]:*?/\\"})
# Excel's limit for the text of one cell: a longer text is cut (Excel refuses to open the file otherwise).
CELL_TEXT_LIMIT = 32767
_WIDEST = 60  # character widths: a column sized by its values is never wider


def _cell_value(value):
    """What openpyxl stores: Decimals as numbers (floats keep 15 digits, enough for any amount here),
    aware datetimes as the naive local time they show (Excel has no time zones); text without the
    control characters XML cannot hold (a NUL typed into a note would make openpyxl refuse the whole
    file), cut to what one Excel cell holds."""
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)[:CELL_TEXT_LIMIT]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    return value


def _default_format(value) -> str | None:
    """The number format a value gets unless its column says otherwise."""
    if isinstance(value, datetime):
        return DATETIME_FORMAT
    if isinstance(value, date):
        return DATE_FORMAT
    if isinstance(value, Decimal | float) and not isinstance(value, bool):
        return QUANTITY_FORMAT
    return None


def _width_of(value) -> int:
    """Roughly how many character widths value takes (a Chinese character takes two)."""
    if value is None:
        return 0
    if isinstance(value, datetime):
        return 16
    if isinstance(value, date):
        return 10
    text = str(value)
    return max((sum(2 if ord(ch) > 0x2E7F else 1 for ch in line) for line in text.splitlines() or [""]), default=0)


def workbook(title: str, headers: Sequence[str], rows: Iterable[Sequence], *,
             number_formats: dict[int, str] | None = None, column_widths: dict[int, float] | None = None,
             title_rows: Sequence[str] = (), cell_formats: dict[tuple[int, int], str] | None = None,
             bold_rows: Iterable[int] = (), landscape: bool = False, fit_to_width: bool = False,
             repeat_header: bool = False) -> bytes:
    """An XLSX file (bytes) with one sheet titled title: the headers in bold and frozen, then the rows.

    number_formats and column_widths are keyed by column index (0-based); a column without a width
    is as wide as its longest value (within reason). Decimals and ints are stored as numbers, dates
    and datetimes as dates; None is an empty cell; a text starting with "=" stays text (never a
    formula).

    For a sheet to print: title_rows are lines above the header (the first large and bold, each
    merged across the table's width), cell_formats overrides the format of one cell keyed by
    (row index in rows, column index), bold_rows are indexes in rows to set in bold (a total row),
    landscape and fit_to_width set the page, repeat_header prints the header row on every page."""
    number_formats, column_widths, cell_formats = number_formats or {}, column_widths or {}, cell_formats or {}
    bold_rows = set(bold_rows)
    book = Workbook()
    sheet = book.active
    sheet.title = (title.translate(_SHEET_NAME_REFUSED).strip() or "Sheet")[:_SHEET_NAME_LIMIT]
    width_of_table = max(len(headers), 1)
    for number, line in enumerate(title_rows, start=1):
        cell = sheet.cell(row=number, column=1, value=_cell_value(line))
        _keep_text(cell)
        cell.font = Font(bold=True, size=14 if number == 1 else 11)
        cell.alignment = Alignment(horizontal="center" if number == 1 else "left", vertical="center")
        if width_of_table > 1:
            sheet.merge_cells(start_row=number, start_column=1, end_row=number, end_column=width_of_table)
    header_row = len(title_rows) + 1
    sheet.append([_cell_value(h) for h in headers])
    bold = Font(bold=True)
    thin = Side(style="thin")
    for cell in sheet[header_row]:
        _keep_text(cell)
        cell.font = bold
        cell.alignment = Alignment(vertical="center", wrap_text=True)
        if title_rows:  # a sheet made to print gets the paper form's ruled header
            cell.border = Border(top=thin, bottom=thin)
    sheet.freeze_panes = f"A{header_row + 1}"
    widths = [_width_of(h) for h in headers]
    for row_index, row in enumerate(rows):
        values = list(row)
        sheet.append([_cell_value(v) for v in values])
        # Each cell by its address: sheet[sheet.max_row] scans every cell written so far (openpyxl
        # works out max_row and max_column by walking them), which made a sheet of 14,000 lines
        # take minutes.
        excel_row = header_row + 1 + row_index
        for index, value in enumerate(values):
            cell = sheet.cell(row=excel_row, column=index + 1)
            _keep_text(cell)
            fmt = cell_formats.get((row_index, index)) or number_formats.get(index) or _default_format(value)
            if fmt and value is not None:
                cell.number_format = fmt
            if row_index in bold_rows:
                cell.font = bold
            # Several lines, or more than the widest column shows: wrapped, so a printed page keeps it all.
            if isinstance(value, str) and ("\n" in value or _width_of(value) > _WIDEST):
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            if index < len(widths):
                widths[index] = max(widths[index], _width_of(value))
    for index, width in enumerate(widths):
        sheet.column_dimensions[get_column_letter(index + 1)].width = column_widths.get(index, min(max(width + 2, 8), _WIDEST))
    if landscape:
        sheet.page_setup.orientation = "landscape"
    if fit_to_width:  # as wide as the paper, as many pages long as it takes
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
        sheet.page_setup.fitToWidth = 1
        sheet.page_setup.fitToHeight = 0
    if repeat_header:
        sheet.print_title_rows = f"{header_row}:{header_row}"
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _keep_text(cell) -> None:
    """A text starting with "=" is what someone typed, not a formula: openpyxl would store it as one
    (a cause note "=HYPERLINK(...)" would run in Excel), so it is stored as text, marked as such."""
    if isinstance(cell.value, str) and cell.value.startswith("="):
        cell.data_type = "s"
        cell.quotePrefix = True


def content_disposition(filename: str) -> str:
    """An attachment header any browser reads a Chinese file name from: an ASCII fallback, and the
    UTF-8 name in filename* (RFC 6266 / RFC 5987)."""
    fallback = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_.") else "_" for ch in filename)
    extension = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    extension = extension if extension in (".xlsx", ".csv", ".pdf") else ""
    fallback = fallback.strip("_") or "download" + (extension or ".xlsx")
    if extension and not fallback.lower().endswith(extension):
        fallback += extension
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def xlsx_response(data: bytes, filename: str) -> Response:
    """A download of an XLSX file named filename (may be Chinese)."""
    response = Response(data, mimetype=XLSX_MIME)
    response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _csv_text(value) -> str:
    """A cell as CSV text: dates as ISO dates, aware times as the local time they show, numbers plain;
    a text starting with = + - @ gets a leading apostrophe so Excel does not run it as a formula
    (CSV injection, OWASP)."""
    value = _cell_value(value)  # text without control characters (a NUL ends a line in some readers)
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return str(value)


def csv_bytes(headers: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    """The same table as CSV: UTF-8 with a byte-order mark, so Excel and WPS read Chinese headers
    without asking for an encoding, and CRLF line ends."""
    out = StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_csv_text(h) for h in headers])
    for row in rows:
        writer.writerow([_csv_text(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def csv_response(headers: Sequence[str], rows: Iterable[Sequence], filename: str) -> Response:
    """A download of the table as a CSV file named filename (may be Chinese; ends in .csv)."""
    response = Response(csv_bytes(headers, rows), mimetype="text/csv")
    response.mimetype_params["charset"] = "utf-8"
    response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# The longest period one download covers: a year (a leap year's 366 days), so a file stays one a
# spreadsheet opens quickly and one request does not read a firm's whole history.
MAX_PERIOD_DAYS = 366
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


class PeriodError(ValueError):
    """A period a download cannot cover (the message is translated, for a 422 page)."""


def _period_date(raw: str) -> date:
    """A date typed in a period field: ISO (2026-11-20), full-width digits accepted."""
    text = unicodedata.normalize("NFKC", raw).strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise PeriodError(_("%(value)s is not a date (YYYY-MM-DD).", value=raw[:20])) from None


def month_bounds(raw: str, earliest_year: int = 1) -> tuple[date, date]:
    """The first and last day of a month typed YYYY-MM (full-width digits accepted); PeriodError
    for anything else, or a year before earliest_year."""
    month = unicodedata.normalize("NFKC", raw or "").strip()
    match = _MONTH.match(month)
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < earliest_year:
        raise PeriodError(_("%(value)s is not a month (YYYY-MM).", value=(raw or "")[:20]))
    year, number = int(match.group(1)), int(match.group(2))
    return date(year, number, 1), date(year, number, calendar.monthrange(year, number)[1])


def requested_period(args: Mapping[str, str], today: date) -> tuple[date, date]:
    """The days a period download covers, from a query string: ?month=2026-11, or ?from=&to= (either
    may be left out: from alone runs to the end of its month, to alone from the start of its month),
    this month (to today) when none is given. PeriodError for a malformed, reversed or too long one."""
    month = unicodedata.normalize("NFKC", args.get("month") or "").strip()
    raw_first, raw_last = (args.get("from") or "").strip(), (args.get("to") or "").strip()
    if month and not (raw_first or raw_last):
        return month_bounds(month)
    first = _period_date(raw_first) if raw_first else None
    last = _period_date(raw_last) if raw_last else None
    if first is None and last is None:
        return today.replace(day=1), today
    if first is None:
        first = last.replace(day=1)
    if last is None:
        last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    if last < first:
        raise PeriodError(_("The last day is before the first."))
    if (last - first).days + 1 > MAX_PERIOD_DAYS:
        raise PeriodError(_("A download covers at most %(n)s days; choose a shorter period.", n=MAX_PERIOD_DAYS))
    return first, last

