"""Downloads of the cost sheet (表3): one order's from its sheet page, or the sheets of a period, as
XLSX (made to print) or CSV; only for whoever may see cost sheets."""
from flask import request
from flask_login import current_user, login_required

from .. import spreadsheets
from ..htmx import render
from ..i18n import firm_today
from ..orders import Order, scope_orders
from ..permissions import requires
from . import bp, export
from .views import get_order


def _send(fmt: str, table: "export.Table", subtitle: str, name_parts, empty: bool = False):
    """The table as an XLSX to print or as a CSV."""
    if fmt == "csv":
        return spreadsheets.csv_response(export.headers(), table.rows, export.file_name(*name_parts, extension="csv"))
    return spreadsheets.xlsx_response(export.workbook(table, subtitle, empty),
                                      export.file_name(*name_parts, extension="xlsx"))


@bp.get("/costing/orders/<int:order_id>/sheet.xlsx", defaults={"fmt": "xlsx"}, endpoint="sheet_xlsx")
@bp.get("/costing/orders/<int:order_id>/sheet.csv", defaults={"fmt": "csv"}, endpoint="sheet_csv")
@login_required
def sheet_download(order_id: int, fmt: str):
    """One order's cost sheet in the template's columns, with its total row."""
    order = get_order(order_id)
    number = order.number or f"#{order.id}"
    subtitle = export.words(f"订单 {number} · {order.customer.name}", f"Order {number} · {order.customer.name}")
    return _send(fmt, export.order_table(order), subtitle, (order.number or str(order.id),))


def _form_page(error: str | None = None, status_code: int = 200):
    """The period download's form, with the reason a period was refused."""
    return render("costing/export.html", error=error, args=request.args, today=firm_today(),
                  status_code=status_code)


@bp.get("/costing/sheets")
@login_required
@requires("costsheet.view")
def period_form():
    """Choose a month or a range of days (and whether to add the open orders) to download."""
    return _form_page()


@bp.get("/costing/sheets.xlsx", defaults={"fmt": "xlsx"}, endpoint="period_xlsx")
@bp.get("/costing/sheets.csv", defaults={"fmt": "csv"}, endpoint="period_csv")
@login_required
@requires("costsheet.view")
def period_download(fmt: str):
    """The cost sheets finalised in a period (?month= or ?from=&to=), with ?open=1 the orders still
    being costed too; a bad period answers the form with the reason (422)."""
    try:
        first, last = spreadsheets.requested_period(request.args, firm_today())
    except spreadsheets.PeriodError as error:
        return _form_page(str(error), 422)
    include_open = request.args.get("open") in ("1", "on", "true")
    pairs = export.period_orders(first, last, include_open, scope_orders(current_user, Order.id))
    whole_month = first.day == 1 and (last.month, last.year) == (first.month, first.year)
    period = first.strftime("%Y%m") if whole_month else f"{first.isoformat()}_{last.isoformat()}"
    subtitle = export.words(f"核算完成 {first.isoformat()} 至 {last.isoformat()}",
                            f"Finalised {first.isoformat()} to {last.isoformat()}")
    if include_open:
        subtitle += export.words("，另含未完成核算的订单", ", and the orders still being costed")
    return _send(fmt, export.period_table(pairs), subtitle, (period,), empty=not pairs)
