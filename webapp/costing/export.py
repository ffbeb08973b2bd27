"""The cost sheet (成本核算表, 表3) as a spreadsheet: per order, or the sheets of a period, in the
template's columns (order, customer, category, budget, actual, where the actual came from, variance,
rate, causes) with a total row per order; headers in the reader's language."""
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from flask_babel import format_decimal, get_locale
from sqlalchemy.orm import joinedload, selectinload

from .. import spreadsheets
from ..extensions import db
from ..firm import get_settings
from ..i18n import firm_zone
from ..orders import lifecycle as order_lifecycle
from . import services
from .forms import CATEGORY_LABELS
from .models import CostLine, CostSheet, variance_rate

COLUMNS = (
    ("订单号", "Order no."), ("客户", "Customer"), ("币种", "Currency"), ("成本类别", "Cost category"),
    ("预算", "Budget"), ("实际", "Actual"), ("来源", "Source"), ("录入人", "Entered by"),
    ("录入时间", "Entered at"), ("差异", "Variance"), ("差异率", "Variance rate"),
    ("差异原因", "Causes of the variance"), ("核算完成日期", "Finalised on"),
)
CATEGORY, BUDGET, ACTUAL, SOURCE, ENTERED_AT, VARIANCE, RATE, CAUSES = 3, 4, 5, 6, 8, 9, 10, 11
PERCENT_FORMAT = "0.0%"
TITLE = ("成本核算表", "Cost sheet")


def chinese() -> bool:
    """Whether the reader reads Chinese (the headers and the sheet's own words follow)."""
    locale = get_locale()
    return bool(locale) and locale.language == "zh"


def words(zh: str, en: str) -> str:
    """The sheet's own words in the reader's language."""
    return zh if chinese() else en


@dataclass
class Line:
    """One category of an order's sheet as the file shows it (read, never written back)."""

    category: str
    budget: Decimal
    actual: Decimal | None
    derived: bool
    entered_by: str | None = None
    entered_at: datetime | None = None
    causes: list[tuple[str, Decimal | None, str]] = field(default_factory=list)

    @property
    def variance(self) -> Decimal | None:
        """Actual less budget (None while the actual is not known)."""
        return None if self.actual is None else self.actual - self.budget


def _local(moment: datetime | None) -> datetime | None:
    """A stored UTC time as the firm's local time (a spreadsheet has no time zones)."""
    return None if moment is None else moment.astimezone(firm_zone()).replace(microsecond=0)


def _causes(line) -> list[tuple[str, Decimal | None, str]]:
    """A line's causes: (label, amount, note) per cause code, then the line's own note on the variance."""
    causes = [(str(c.cause.label), c.amount, c.note or "") for c in line.causes]
    note = (line.cause or "").strip()
    if note:
        causes.append(("", None, note))
    return causes


def lines_of(order, sheet: CostSheet | None) -> list[Line]:
    """The order's lines as the sheet page shows them: a finalised sheet as finalised; an open one with
    the derived actuals the records give now (computed here, not written: a download changes nothing)."""
    if sheet is None:
        sheet, derived = services.draft_sheet(order), {}  # what the records say, never added to the session
    else:
        derived = services.derived_actuals(order) if not sheet.is_final else {}
    lines = []
    for line in sheet.lines:
        is_derived = line.source == "derived"
        actual = derived.get(line.category) if is_derived and derived else line.actual
        lines.append(Line(line.category, line.budget, actual, is_derived,
                          None if is_derived or line.entered_by is None else line.entered_by.name,
                          None if is_derived else _local(line.entered_at), _causes(line)))
    return lines


def _money_text(amount: Decimal, currency: str) -> str:
    """An amount inside a text cell (a cause's share of the variance)."""
    return f"{format_decimal(amount, '#,##0.00')} {currency}"


def _cause_text(causes, currency: str) -> str | None:
    """The causes of a line as one wrapped cell: each cause's label, amount and note on a line."""
    parts = []
    for name, amount, note in causes:
        head = " ".join(p for p in (name, _money_text(amount, currency) if amount is not None else "") if p)
        parts.append(head + (("：" if chinese() else ": ") + note if head and note else note))
    return "\n".join(parts) or None


def order_rows(order, sheet: CostSheet | None) -> list[list]:
    """An order's rows in COLUMNS: one per category, then its total (the last row)."""
    number = order.number or f"#{order.id}"
    currency = get_settings().currency  # costs are the firm's, in its currency (whatever the order's)
    finalised = _local(sheet.finalised_at).date() if sheet is not None and sheet.is_final else None
    rows = []
    lines = lines_of(order, sheet)
    for line in lines:
        source = words("由记录计算", "From the records") if line.derived else words("手工录入", "Typed")
        rows.append([number, order.customer.name, currency, str(CATEGORY_LABELS[line.category]),
                     line.budget, line.actual, source, line.entered_by, line.entered_at, line.variance,
                     variance_rate(line.variance, line.budget), _cause_text(line.causes, currency), finalised])
    budget = sum((line.budget for line in lines), Decimal("0"))
    complete = bool(lines) and all(line.actual is not None for line in lines)
    actual = sum((line.actual for line in lines), Decimal("0")) if complete else None
    variance = None if actual is None else actual - budget
    rows.append([number, order.customer.name, currency, words("合计", "Total"), budget, actual, None, None,
                 None, variance, variance_rate(variance, budget), None, finalised])
    return rows


def headers() -> list[str]:
    """The headers in the reader's language."""
    return [words(zh, en) for zh, en in COLUMNS]


def title_rows(subtitle: str, empty: bool = False) -> list[str]:
    """The lines above the table: the firm's name and the form's title, then what it covers."""
    rows = [f"{get_settings().firm_name or ''} {words(*TITLE)}".strip(), subtitle]
    if empty:
        rows.append(words("（本期间没有成本核算表）", "(No cost sheets in this period.)"))
    return rows


@dataclass
class Table:
    """What a download holds: its rows, and which of them are the orders' totals (set in bold)."""

    rows: list[list] = field(default_factory=list)
    totals: list[int] = field(default_factory=list)

    def add(self, rows: list[list]) -> None:
        """Add an order's rows, the last of them its total."""
        self.rows.extend(rows)
        self.totals.append(len(self.rows) - 1)


def order_table(order) -> Table:
    """One order's sheet."""
    table = Table()
    table.add(order_rows(order, services.sheet_for(order)))
    return table


def period_orders(first: date, last: date, include_open: bool, where) -> list[tuple]:
    """(order, sheet) of the sheets finalised in the firm's days first to last (closing needs a
    finalised sheet, so every order closed then is among them), and with include_open every order
    whose sheet may still change, by order number; where is the user's scope of orders."""
    from ..orders import Order
    lines = selectinload(CostSheet.lines)
    finalised = db.session.execute(
        db.select(Order, CostSheet).join(CostSheet, CostSheet.order_id == Order.id)
        .options(joinedload(Order.customer), lines.selectinload(CostLine.causes),
                 lines.joinedload(CostLine.entered_by))
        .where(where, services.finalised_between(first, last))
        .order_by(CostSheet.finalised_at, Order.id)).all()
    pairs = [(o, s) for o, s in finalised]
    if include_open:
        open_orders = db.session.execute(
            db.select(Order, CostSheet).outerjoin(CostSheet, CostSheet.order_id == Order.id)
            .options(joinedload(Order.customer))
            .where(where, Order.status.in_(order_lifecycle.COSTABLE), CostSheet.finalised_at.is_(None))
            .order_by(Order.number, Order.id)).all()
        pairs.extend((o, s) for o, s in open_orders)
    return pairs


def period_table(pairs) -> Table:
    """The sheets of a period, each with its total row."""
    table = Table()
    for order, sheet in pairs:
        table.add(order_rows(order, sheet))
    return table


def workbook(table: Table, subtitle: str, empty: bool = False) -> bytes:
    """The XLSX to print: title rows, landscape, fit to the paper's width, the header on every page,
    money and rates formatted, totals in bold."""
    return spreadsheets.workbook(
        words(*TITLE), headers(), table.rows, title_rows=title_rows(subtitle, empty), bold_rows=table.totals,
        number_formats={BUDGET: spreadsheets.MONEY_FORMAT, ACTUAL: spreadsheets.MONEY_FORMAT,
                        VARIANCE: spreadsheets.MONEY_FORMAT, RATE: PERCENT_FORMAT,
                        ENTERED_AT: spreadsheets.DATETIME_FORMAT},
        column_widths={CATEGORY: 12, SOURCE: 14, CAUSES: 40}, landscape=True, fit_to_width=True, repeat_header=True)


def file_name(*parts: str, extension: str) -> str:
    """The download's name: the form's title and what it covers."""
    return "-".join([words(*TITLE), *parts]) + "." + extension
