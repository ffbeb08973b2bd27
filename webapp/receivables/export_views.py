"""The accounting export's page: finance picks a month and downloads its vouchers (凭证) as CSV or
XLSX for the bookkeeper's 金蝶 / 用友 import (docs/accounting_export.md)."""
from flask import request
from flask_babel import gettext as _
from flask_login import login_required

from .. import spreadsheets
from ..htmx import render
from ..i18n import firm_today
from ..permissions import requires
from . import bp, export
from .statement_views import last_month


def _form_page(error: str | None = None, status_code: int = 200):
    """The export's form, with the reason a month was refused."""
    month = (request.args.get("month") or last_month(firm_today()))[:7]
    return render("receivables/export.html", error=error, month=month, accounts=export.accounts(),
                  status_code=status_code)


@bp.get("/export")
@login_required
@requires("receivables.books")
def export_form():
    """Choose the month to export for the bookkeeper."""
    return _form_page()


@bp.get("/export.csv", defaults={"fmt": "csv"}, endpoint="export_csv")
@bp.get("/export.xlsx", defaults={"fmt": "xlsx"}, endpoint="export_xlsx")
@login_required
@requires("receivables.books")
def export_download(fmt: str):
    """A month's vouchers (?month=YYYY-MM) as CSV (UTF-8 with BOM) or XLSX; a bad month answers the
    form with the reason (422)."""
    month = (request.args.get("month") or "").strip()
    if not month:
        return _form_page(_("Choose a month."), 422)
    try:
        first, last = spreadsheets.requested_period({"month": month}, firm_today())
    except spreadsheets.PeriodError as error:
        return _form_page(str(error), 422)
    found = export.vouchers(first, last)
    if fmt == "csv":
        return spreadsheets.csv_response(export.HEADERS, export.csv_rows(found), export.file_name(first, last, "csv"))
    return spreadsheets.xlsx_response(export.xlsx_bytes(found), export.file_name(first, last, "xlsx"))
