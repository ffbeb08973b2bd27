"""Downloads of the requirement record (表1): one record from its page, or the records of a period
from the list, as XLSX or CSV."""
from flask import request
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload, selectinload

from .. import spreadsheets
from ..customers import scope_customers
from ..extensions import db
from ..i18n import day_bounds, firm_today
from ..permissions import can, requires
from . import bp, export, lifecycle
from .models import Requirement, RequirementRound
from .views import get_requirement, list_page

# A period's file lists at most this many records (newest first); a year of a busy firm's intake
# fits, a runaway query does not.
MAX_PERIOD_ROWS = 5000


def _send(fmt: str, headers, rows, name_parts, **sheet) -> "spreadsheets.Response":
    """The table as an XLSX (printable: title rows, landscape, header on every page) or a CSV."""
    if fmt == "csv":
        return spreadsheets.csv_response(headers, rows, export.file_name(*name_parts, extension="csv"))
    data = spreadsheets.workbook(export.words("客户需求记录表", "Requirement record"), headers, rows,
                                 fit_to_width=True, repeat_header=True, **sheet)
    return spreadsheets.xlsx_response(data, export.file_name(*name_parts, extension="xlsx"))


@bp.get("/<int:req_id>/record.xlsx", defaults={"fmt": "xlsx"}, endpoint="record_xlsx")
@bp.get("/<int:req_id>/record.csv", defaults={"fmt": "csv"}, endpoint="record_csv")
@login_required
def record_download(req_id: int, fmt: str):
    """One requirement record as the template's form: label/value rows, then the customer's rounds."""
    requirement = get_requirement(req_id)
    headers, rows, formats, titles = export.record_sheet(requirement, can(current_user, "order.prices"))
    return _send(fmt, headers, rows, (requirement.customer.abbreviation, str(requirement.id)),
                 cell_formats=formats, title_rows=titles, column_widths={0: 22, 1: 60, 2: 18})


@bp.get("/records.xlsx", defaults={"fmt": "xlsx"}, endpoint="period_xlsx")
@bp.get("/records.csv", defaults={"fmt": "csv"}, endpoint="period_csv")
@login_required
@requires("requirement.view")
def period_download(fmt: str):
    """The records written down in a period (?from=&to= or ?month=, with the list's status filter),
    one row each; a bad period answers the list page with the reason (422)."""
    try:
        first, last = spreadsheets.requested_period(request.args, firm_today())
    except spreadsheets.PeriodError as error:
        return list_page(export_error=str(error), status_code=422)
    start, end = day_bounds(first, last)
    query = (db.select(Requirement)
             .options(joinedload(Requirement.customer), joinedload(Requirement.sales_rep),
                      selectinload(Requirement.rounds).joinedload(RequirementRound.sent_by))
             .where(scope_customers(current_user, Requirement.customer_id),
                    Requirement.created_at >= start, Requirement.created_at < end)
             .order_by(Requirement.created_at, Requirement.id).limit(MAX_PERIOD_ROWS))
    status = request.args.get("status")
    if status in lifecycle.STATES:
        query = query.where(Requirement.status == status)
    requirements = db.session.scalars(query).all()
    show_prices = can(current_user, "order.prices")
    headers = export.period_headers(show_prices)
    rows = [export.period_row(r, show_prices) for r in requirements]
    period = first.strftime("%Y%m") if (first.day == 1 and last.month == first.month and last.year == first.year) \
        else f"{first.isoformat()}_{last.isoformat()}"
    return _send(fmt, headers, rows, (period,), number_formats=export.period_formats(show_prices),
                 title_rows=export.title_rows(export.period_subtitle(first, last), empty=not rows),
                 landscape=True)
