"""XLSX downloads of the template's tables (表1, 表2, 表3): one sheet with a bold, frozen header row,
numbers as numbers and dates as dates, so the file sums and sorts in Excel or WPS like the paper one.
Generic on purpose: a domain passes its headers (already in the reader's language) and its rows."""
import csv
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO, StringIO
from urllib.parse import quote

from flask import Response
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
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


def _cell_value(value):
    """What openpyxl stores: Decimals as numbers (floats keep 15 digits, enough for any amount here),
    aware datetimes as the naive local time they show (Excel has no time zones)."""
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
             number_formats: dict[int, str] | None = None, column_widths: dict[int, float] | None = None) -> bytes:
    """An XLSX file (bytes) with one sheet titled title: the headers in bold and frozen, then the rows.

    number_formats and column_widths are keyed by column index (0-based); a column without a width
    is as wide as its longest value (within reason). Decimals and ints are stored as numbers, dates
    and datetimes as dates; None is an empty cell."""
    number_formats, column_widths = number_formats or {}, column_widths or {}
    book = Workbook()
    sheet = book.active
    sheet.title = (title.translate(_SHEET_NAME_REFUSED).strip() or "Sheet")[:_SHEET_NAME_LIMIT]
    sheet.append(list(headers))
    bold = Font(bold=True)
    for cell in sheet[1]:
        cell.font = bold
        cell.alignment = Alignment(vertical="center", wrap_text=True)
    sheet.freeze_panes = "A2"
    widths = [_width_of(h) for h in headers]
    for row in rows:
        values = list(row)
        sheet.append([_cell_value(v) for v in values])
        for index, (cell, value) in enumerate(zip(sheet[sheet.max_row], values)):
            fmt = number_formats.get(index) or _default_format(value)
            if fmt and value is not None:
                cell.number_format = fmt
            if isinstance(value, str) and "\n" in value:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            if index < len(widths):
                widths[index] = max(widths[index], _width_of(value))
    for index, width in enumerate(widths):
        sheet.column_dimensions[get_column_letter(index + 1)].width = column_widths.get(index, min(max(width + 2, 8), 60))
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


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
    value = _cell_value(value)
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
