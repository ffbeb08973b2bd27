"""The supervisor's board: every open work order's plan (planned start → planned QC) against its
actual progress on one time axis, with why it needs attention: late, at risk (the rate so far
finishes after the planned QC), blocked, waiting for material or for an outsourced operation."""
import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from xml.sax.saxutils import escape

from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload, selectinload

from ..clocks import shift_working_days
from ..extensions import db
from ..firm import CalendarDay
from ..i18n import firm_today, local_date
from ..workdays import working_days_between
from ..orders import Order
from .models import OutsourceTransfer, WorkOrder, WorkOrderOperation

# A projection further out than about a year of working days is walked no further on the calendar.
MAX_PROJECTED_WORKING_DAYS = 250

FLAGS = ("late", "at_risk", "blocked", "material", "outsourced")
SVG_WIDTH, SVG_HEIGHT = 600, 30  # user units; the bar scales to the width it is given


def flag_label(flag: str) -> str:
    """A flag's words (the board never shows a flag by colour alone)."""
    return {"late": _("Late"), "at_risk": _("At risk"), "blocked": _("Blocked by an anomaly"),
            "material": _("Waiting for material"), "outsourced": _("Waiting for an outsourced operation")}[flag]


@dataclass
class Row:
    """One work order on the board."""

    work_order: WorkOrder
    done: Decimal
    projected: date | None
    flags: list[str] = field(default_factory=list)
    svg: str = ""
    summary: str = ""

    @property
    def percent(self) -> int:
        """Good pieces as a share of the quantity."""
        quantity = self.work_order.quantity or Decimal("1")
        return int(min(self.done * 100 / quantity, Decimal("100")).to_integral_value())


def projected_finish(work_order: WorkOrder, today: date, overrides: dict[date, bool] | None = None) -> date | None:
    """When the work order finishes at the rate since it actually started: good pieces per working day
    of the firm's calendar (today counted), the rest spread over the working days after today (a
    weekend or a holiday makes nothing). None before it started or with nothing good yet.
    overrides: the calendar's exceptions from the start to a year after today, read once by the board."""
    if work_order.actual_start is None:
        return None
    good = work_order.good
    if good <= 0:
        return None
    if work_order.remaining <= 0:
        return today
    started = min(local_date(work_order.actual_start), today)
    days = max(working_days_between(started, today + timedelta(days=1), overrides), 1)
    needed = math.ceil(work_order.remaining / (good / days))
    if needed > MAX_PROJECTED_WORKING_DAYS:  # far past any plan: a calendar estimate (at most ten years) will do
        return today + timedelta(days=math.ceil(min(needed, 10 * MAX_PROJECTED_WORKING_DAYS) * 7 / 5))
    return shift_working_days(today, needed, overrides)


def flags_of(work_order: WorkOrder, projected: date | None, today: date, outsourced_open: set[int]) -> list[str]:
    """Why the work order needs attention, most urgent first."""
    flags = []
    if work_order.planned_qc and today > work_order.planned_qc and work_order.actual_qc is None:
        flags.append("late")
    elif work_order.planned_qc and projected and projected > work_order.planned_qc:
        flags.append("at_risk")
    if work_order.status == "blocked":
        flags.append("blocked")
    if work_order.status == "planned" and work_order.bom_version_id is not None:
        flags.append("material")
    if work_order.id in outsourced_open:
        flags.append("outsourced")
    return flags


def open_work_orders(centre_id: int | None = None, owner_id: int | None = None, scope=None) -> list[WorkOrder]:
    """Open work orders (not done), those with an operation at centre_id or owned by owner_id when
    asked, by planned start (unplanned last)."""
    query = (db.select(WorkOrder).where(WorkOrder.status != "done")
             .options(joinedload(WorkOrder.order).joinedload(Order.customer), joinedload(WorkOrder.line),
                      joinedload(WorkOrder.owner), selectinload(WorkOrder.reports),
                      selectinload(WorkOrder.rejections), selectinload(WorkOrder.operations)))
    if scope is not None:
        query = query.where(scope)
    if centre_id:
        query = query.where(WorkOrder.id.in_(db.select(WorkOrderOperation.work_order_id)
                                             .where(WorkOrderOperation.work_centre_id == centre_id)))
    if owner_id:
        query = query.where(WorkOrder.owner_id == owner_id)
    rows = db.session.scalars(query.order_by(WorkOrder.id)).unique().all()
    return sorted(rows, key=lambda w: (w.planned_start is None, w.planned_start or date.max, w.id))


def _outsourced_open(work_order_ids: list[int]) -> set[int]:
    """The work orders with a batch sent out for an outsourced operation and not received back."""
    if not work_order_ids:
        return set()
    return set(db.session.scalars(
        db.select(WorkOrderOperation.work_order_id).join(OutsourceTransfer,
                                                         OutsourceTransfer.operation_id == WorkOrderOperation.id)
        .where(WorkOrderOperation.work_order_id.in_(work_order_ids), OutsourceTransfer.received_at.is_(None))))


def window(rows: list[Row], today: date) -> tuple[date, date]:
    """The time axis every bar shares: from the earliest planned start (at most two weeks back) to
    the latest planned QC or projected finish (at most eight weeks on), today always in view."""
    starts = [r.work_order.planned_start for r in rows if r.work_order.planned_start]
    ends = [d for r in rows for d in (r.work_order.planned_qc, r.projected) if d]
    start = max(min(starts + [today]), today - timedelta(days=14)) - timedelta(days=1)
    end = min(max(ends + [today + timedelta(days=7)]), today + timedelta(days=56)) + timedelta(days=1)
    return start, end


def _x(day: date, start: date, end: date) -> float:
    """Where day falls on the axis (clamped to it), in user units."""
    span = max((end - start).days, 1)
    return round(min(max((day - start).days / span, 0.0), 1.0) * SVG_WIDTH, 2)


def summary(row: Row, today: date) -> str:
    """The bar in words: what the SVG's <desc> says and what the page prints beside it."""
    w = row.work_order
    plan = (_("Planned %(start)s to %(end)s.", start=format_date(w.planned_start, "short"),
              end=format_date(w.planned_qc, "short"))
            if w.planned_start and w.planned_qc else _("Not planned yet."))
    done = _("%(percent)s%% done (%(good)s of %(qty)s).", percent=row.percent, good=f"{row.done.normalize():f}",
             qty=f"{w.quantity.normalize():f}")
    parts = [plan, done]
    if row.projected:
        parts.append(_("At this rate it finishes %(day)s.", day=format_date(row.projected, "short")))
    if row.flags:
        # "Late, waiting for material." / "逾期、等待物料。": the list's comma and stop are the language's
        parts.append(_("%(flags)s.", flags=_(", ").join(flag_label(f) for f in row.flags)))
    # Chinese sentences run on without spaces (each ends in its own full stop)
    return ("" if str(get_locale()).startswith("zh") else " ").join(parts)


def bar_svg(row: Row, start: date, end: date, today: date) -> str:
    """The work order's bar: the plan as an outlined bar, the good pieces as its filled share, the
    projected finish as a dashed line on from today, today as a vertical line; titled and described
    for screen readers (the same words as the summary beside it)."""
    w = row.work_order
    ident = f"wo{w.id}"
    title = escape(_("Work order %(number)s", number=w.number))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {SVG_WIDTH} {SVG_HEIGHT}" '
             f'preserveAspectRatio="none" class="board-bar" role="img" '
             f'aria-labelledby="{ident}-t {ident}-d"><title id="{ident}-t">{title}</title>'
             f'<desc id="{ident}-d">{escape(row.summary)}</desc>']
    if w.planned_start and w.planned_qc:
        x1, x2 = _x(w.planned_start, start, end), _x(w.planned_qc + timedelta(days=1), start, end)
        width = max(x2 - x1, 2)
        parts.append(f'<rect class="plan" x="{x1}" y="4" width="{width}" height="12" rx="2"/>')
        filled = width * row.percent / 100
        parts.append(f'<rect class="done" x="{x1}" y="4" width="{filled:.2f}" height="12" rx="2"/>')
        if row.projected and row.projected > w.planned_qc:
            xp = _x(row.projected + timedelta(days=1), start, end)
            parts.append(f'<line class="projected" x1="{x2}" y1="10" x2="{xp}" y2="10"/>')
    if w.actual_start:
        xa = _x(local_date(w.actual_start), start, end)
        xt = _x(today + timedelta(days=1), start, end)
        parts.append(f'<rect class="actual" x="{xa}" y="19" width="{max(xt - xa, 1):.2f}" height="6" rx="1"/>')
    xt = _x(today, start, end)
    parts.append(f'<line class="today" x1="{xt}" y1="0" x2="{xt}" y2="{SVG_HEIGHT}"/></svg>')
    return "".join(parts)


def axis_svg(start: date, end: date, today: date) -> str:
    """The shared time axis above the bars: a tick and date every Monday, today marked."""
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {SVG_WIDTH} 18" preserveAspectRatio="none" '
             f'class="board-axis" aria-hidden="true">']
    day = start + timedelta(days=(7 - start.weekday()) % 7)
    while day < end:
        x = _x(day, start, end)
        parts.append(f'<line x1="{x}" y1="11" x2="{x}" y2="18"/>'
                     f'<text x="{x + 2}" y="10">{escape(format_date(day, "M/d"))}</text>')
        day += timedelta(days=7)
    parts.append("</svg>")
    return "".join(parts)


def _calendar(first: date, last: date) -> dict[date, bool]:
    """The firm's calendar exceptions from first to last (one read for every row of the board)."""
    return {row.day: row.is_working for row in db.session.scalars(
        db.select(CalendarDay).where(CalendarDay.day >= first, CalendarDay.day <= last))}


def board(centre_id: int | None = None, owner_id: int | None = None, scope=None) -> dict:
    """Everything the board page shows: rows with flags, bars and summaries, the axis, counts per flag."""
    today = firm_today()
    work_orders = open_work_orders(centre_id, owner_id, scope)
    outsourced = _outsourced_open([w.id for w in work_orders])
    rows = []
    starts = [local_date(w.actual_start) for w in work_orders if w.actual_start]
    overrides = _calendar(min([today, *starts]), today + timedelta(days=2 * MAX_PROJECTED_WORKING_DAYS))
    for w in work_orders:
        projected = projected_finish(w, today, overrides)
        rows.append(Row(w, max(w.good, Decimal("0")), projected, flags_of(w, projected, today, outsourced)))
    start, end = window(rows, today)
    for row in rows:
        row.summary = summary(row, today)
        row.svg = bar_svg(row, start, end, today)
    counts = {flag: sum(flag in r.flags for r in rows) for flag in FLAGS}
    # The ones that need attention first (late, at risk, blocked…), then by planned start.
    rows.sort(key=lambda r: min((FLAGS.index(f) for f in r.flags), default=len(FLAGS)))
    return {"rows": rows, "axis": axis_svg(start, end, today), "start": start, "end": end, "today": today,
            "counts": counts}
