"""The supervisor's board: every open work order's plan (planned start → planned QC) against its
actual progress on one time axis, with why it needs attention: late, at risk (the rate so far
finishes after the planned QC), blocked, waiting for material or for an outsourced operation."""
import bisect
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from xml.sax.saxutils import escape

from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from ..clocks import MAX_CALENDAR_DAYS, shift_working_days
from .. import kept
from ..extensions import db
from ..firm import CalendarDay
from ..i18n import firm_today, local_date, local_dates
from ..wallclock import utcnow
from ..workdays import is_working_day, working_days_between
from ..orders import Order
from .lifecycle import STATES
from .models import OutsourceTransfer, ProgressReport, QcRejection, WorkOrder, WorkOrderOperation

# A projection further out than about a year of working days is walked no further on the calendar.
MAX_PROJECTED_WORKING_DAYS = 250

FLAGS = ("late", "at_risk", "blocked", "material", "outsourced")
SVG_WIDTH, SVG_HEIGHT = 600, 30  # user units; the bar scales to the width it is given
ZERO = Decimal("0")


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
    return _projected(work_order, today, lambda start, end: working_days_between(start, end, overrides),
                      lambda day, count: shift_working_days(day, count, overrides))


def _projected(work_order, today: date, between, shift, day_of=local_date) -> date | None:
    """projected_finish with the calendar's walks given (the board's remember their answers), and
    day_of the firm-local date of an instant."""
    if work_order.actual_start is None:
        return None
    good = work_order.good
    if good <= 0:
        return None
    if work_order.remaining <= 0:
        return today
    started = min(day_of(work_order.actual_start), today)
    days = max(between(started, today + timedelta(days=1)), 1)
    needed = math.ceil(work_order.remaining / (good / days))
    if needed > MAX_PROJECTED_WORKING_DAYS:  # far past any plan: a calendar estimate (at most ten years) will do
        return today + timedelta(days=math.ceil(min(needed, 10 * MAX_PROJECTED_WORKING_DAYS) * 7 / 5))
    return shift(today, needed)


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


OPEN_STATES = tuple(state for state in STATES if state != "done")
# Rows drawn on one page of the board; the counts and the order are over every open work order.
BOARD_PAGE_SIZE = 25


def _open_conditions(centre_id: int | None = None, owner_id: int | None = None, scope=None) -> list:
    """The WHERE of the board: open work orders (by the indexed status, never status != 'done',
    which reads the whole history of done ones), at centre_id or owned by owner_id when asked."""
    conditions = [WorkOrder.status.in_(OPEN_STATES)]
    if scope is not None:
        conditions.append(scope)
    if centre_id:
        conditions.append(WorkOrder.id.in_(db.select(WorkOrderOperation.work_order_id)
                                           .where(WorkOrderOperation.work_centre_id == centre_id)))
    if owner_id:
        conditions.append(WorkOrder.owner_id == owner_id)
    return conditions


@dataclass
class Fact:
    """What the board needs of an open work order to flag, order and count it: its plan, its start
    and its good pieces, read as plain columns and sums (no ORM objects, no report rows)."""

    id: int
    status: str
    quantity: Decimal
    planned_start: date | None
    planned_qc: date | None
    actual_start: object
    actual_qc: object
    bom_version_id: int | None
    good: Decimal = ZERO

    @property
    def remaining(self) -> Decimal:
        """Good quantity still to make (WorkOrder.remaining)."""
        return max(self.quantity - self.good, ZERO)


def open_facts(conditions: list) -> list[Fact]:
    """Every open work order the conditions pick, with its good pieces as WorkOrder.good counts
    them (its last operation's good, else every report's, less what QC rejected), summed by the
    database in a fixed number of queries however many there are."""
    chosen = db.select(WorkOrder.id).where(*conditions).scalar_subquery()
    facts = {row.id: Fact(*row) for row in db.session.execute(
        db.select(WorkOrder.id, WorkOrder.status, WorkOrder.quantity, WorkOrder.planned_start, WorkOrder.planned_qc,
                  WorkOrder.actual_start, WorkOrder.actual_qc, WorkOrder.bom_version_id).where(*conditions))}
    if not facts:
        return []
    reported = defaultdict(dict)  # work order -> operation id (None: none) -> good
    for wo_id, operation_id, good in db.session.execute(
            db.select(ProgressReport.work_order_id, ProgressReport.operation_id, db.func.sum(ProgressReport.good_qty))
            .where(ProgressReport.work_order_id.in_(chosen))
            .group_by(ProgressReport.work_order_id, ProgressReport.operation_id)):
        reported[wo_id][operation_id] = good or ZERO
    rejected = dict(db.session.execute(
        db.select(QcRejection.work_order_id, db.func.sum(QcRejection.quantity))
        .where(QcRejection.work_order_id.in_(chosen)).group_by(QcRejection.work_order_id)).all())
    last_operation = {}  # work order -> (operation id, outsourced): the operation with the highest position
    for wo_id, op_id, outsourced in db.session.execute(
            db.select(WorkOrderOperation.work_order_id, WorkOrderOperation.id, WorkOrderOperation.outsourced)
            .where(WorkOrderOperation.work_order_id.in_(chosen))
            .order_by(WorkOrderOperation.work_order_id, WorkOrderOperation.position, WorkOrderOperation.id)):
        last_operation[wo_id] = (op_id, outsourced)
    sent_back = {}
    outsourced_last = [op_id for op_id, outsourced in last_operation.values() if outsourced]
    if outsourced_last:
        sent_back = dict(db.session.execute(
            db.select(OutsourceTransfer.operation_id, db.func.sum(OutsourceTransfer.received_good))
            .join(WorkOrderOperation, WorkOrderOperation.id == OutsourceTransfer.operation_id)
            .where(WorkOrderOperation.work_order_id.in_(chosen), WorkOrderOperation.outsourced.is_(True))
            .group_by(OutsourceTransfer.operation_id)).all())
    for wo_id, fact in facts.items():
        if wo_id in last_operation:
            op_id, outsourced = last_operation[wo_id]
            good = Decimal(sent_back.get(op_id) or 0) if outsourced else reported[wo_id].get(op_id, ZERO)
        else:
            good = sum(reported[wo_id].values(), ZERO)
        fact.good = good - (rejected.get(wo_id) or ZERO)
    return list(facts.values())


def _outsourced_open(chosen) -> set[int]:
    """The work orders (of the select chosen) with a batch sent out for an outsourced operation and
    not received back."""
    return set(db.session.scalars(
        db.select(WorkOrderOperation.work_order_id).join(OutsourceTransfer,
                                                         OutsourceTransfer.operation_id == WorkOrderOperation.id)
        .where(WorkOrderOperation.work_order_id.in_(chosen), OutsourceTransfer.received_at.is_(None))))


def _window(plans: list[tuple], today: date) -> tuple[date, date]:
    """The time axis every bar shares, from (planned start, planned QC, projected finish) triples: from
    the earliest planned start (at most two weeks back) to the latest planned QC or projected finish
    (at most eight weeks on), today always in view."""
    starts = [start for start, _qc, _projected in plans if start]
    ends = [d for _start, qc, projected in plans for d in (qc, projected) if d]
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


class _Calendar:
    """projected_finish's two walks over the calendar, remembered per start day and per count: the
    board asks them for every open work order, and many share a start day and a count."""

    def __init__(self, overrides: dict[date, bool], today: date):
        self.overrides, self.today = overrides, today
        self.spans: dict[date, int] = {}
        self.ahead: list[date] = []  # the working days after today, in order, as far as walked
        self.cursor = today
        self.day_of = local_dates()  # local_date, the firm's zone read once

    def between(self, start: date, end: date) -> int:
        """working_days_between(start, end) (end is always the day after today here)."""
        if start not in self.spans:
            self.spans[start] = working_days_between(start, end, self.overrides)
        return self.spans[start]

    def shift(self, day: date, count: int) -> date:
        """shift_working_days(day, count) (day is always today here, count 1 to a year's working days):
        the working days after today walked once, as far as the largest count asked."""
        if count <= 0 or day != self.today:
            return shift_working_days(day, count, self.overrides)
        ahead, cursor = self.ahead, self.cursor
        while len(ahead) < count and (cursor - day).days < 2 * MAX_CALENDAR_DAYS:
            cursor += timedelta(days=1)
            if is_working_day(cursor, self.overrides):
                ahead.append(cursor)
        self.cursor = cursor
        if len(ahead) < count:  # no such day within the walk's limit: the walk's own error
            return shift_working_days(day, count, self.overrides)
        return ahead[count - 1]


def ordered(centre_id: int | None = None, owner_id: int | None = None, scope=None) -> dict:
    """Every open work order the filters pick, flagged and in the board's order, as plain values:
    (id, good pieces, projected finish, flags) each, with the counts per flag and the time axis.
    Read from plain columns and sums (open_facts): no work order or report is loaded."""
    today = firm_today()
    conditions = _open_conditions(centre_id, owner_id, scope)
    facts = open_facts(conditions)
    outsourced = _outsourced_open(db.select(WorkOrder.id).where(*conditions).scalar_subquery()) if facts else set()
    day_of = local_dates()
    starts = [day_of(f.actual_start) for f in facts if f.actual_start]
    overrides = _calendar(min([today, *starts]), today + timedelta(days=2 * MAX_PROJECTED_WORKING_DAYS))
    calendar = _Calendar(overrides, today)
    flagged = []
    for fact in facts:
        projected = _projected(fact, today, calendar.between, calendar.shift, calendar.day_of)
        flagged.append((fact, projected, flags_of(fact, projected, today, outsourced)))
    start, end = _window([(f.planned_start, f.planned_qc, projected) for f, projected, _flags in flagged], today)
    counts = {flag: sum(flag in flags for _f, _p, flags in flagged) for flag in FLAGS}
    # The ones that need attention first (late, at risk, blocked…), then by planned start (unplanned last).
    keyed = sorted(((sort_key(fact, flags), fact, projected, flags) for fact, projected, flags in flagged),
                   key=lambda item: item[0])
    return {"items": [(f.id, max(f.good, ZERO), projected, flags) for _key, f, projected, flags in keyed],
            "keys": [key for key, *_rest in keyed], "counts": counts, "start": start, "end": end, "today": today}


def sort_key(fact: Fact, flags) -> tuple[int, int, int, int]:
    """A row's place on the board as integers: its most urgent flag, unplanned last, planned start, id.
    A page link carries the last row's key (page_token), so the next page goes on from that place
    even when the order was worked out again since (a row turned late, one was finished)."""
    rank = min((FLAGS.index(flag) for flag in flags), default=len(FLAGS))
    return (rank, fact.planned_start is None, (fact.planned_start or date.max).toordinal(), fact.id)


def page_token(key: tuple) -> str:
    """A sort key as the ?after= of a page link: "rank.unplanned.day.id"."""
    return ".".join(str(int(part)) for part in key)


def read_token(token: str | None) -> tuple[int, int, int, int] | None:
    """The sort key a page link carries (None: the first page, or a link that is not ours)."""
    parts = (token or "").split(".")
    if len(parts) != 4 or not all(part.isdigit() and len(part) <= 12 for part in parts):
        return None
    return tuple(int(part) for part in parts)


def board(centre_id: int | None = None, owner_id: int | None = None, scope=None, after: str | None = None,
          size: int = BOARD_PAGE_SIZE, scope_key=None) -> dict:
    """Everything the board page shows: one page of rows with flags, bars and summaries, the axis,
    counts per flag. Every open work order is flagged, counted and ordered (ordered()); only the
    page's rows are loaded as work orders and drawn. after: the page link's token (page_token of the
    last row of the page before), continuing the board's order from that place. scope_key: what scope
    stands for (the user it is theirs), when given the order is kept per process while nothing it
    is made of changed (kept.py), so a repeat view reads only its page."""
    if scope_key is None:
        order = ordered(centre_id, owner_id, scope)
    else:
        key = (centre_id, owner_id, scope_key, firm_today())
        version, begun = kept.version(), utcnow()
        order = kept.get("board_order", key, version)
        if order is None:
            order = ordered(centre_id, owner_id, scope)
            kept.put("board_order", key, version, begun, order)
    today, start, end, items = order["today"], order["start"], order["end"], order["items"]
    last = read_token(after)
    position = bisect.bisect_right(order["keys"], last) if last is not None else 0
    shown = items[position:position + size]
    next_after = page_token(order["keys"][position + len(shown) - 1]) if position + size < len(items) else None
    loaded = {w.id: w for w in db.session.scalars(
        db.select(WorkOrder).where(WorkOrder.id.in_([wo_id for wo_id, *_rest in shown]))
        .options(joinedload(WorkOrder.order).joinedload(Order.customer), joinedload(WorkOrder.line),
                 joinedload(WorkOrder.owner))).unique()} if shown else {}
    rows = []
    for wo_id, done, projected, flags in shown:
        if wo_id not in loaded:  # gone since the order was kept (it cannot be: a delete is a write)
            continue
        row = Row(loaded[wo_id], done, projected, list(flags))
        row.summary = summary(row, today)
        row.svg = bar_svg(row, start, end, today)
        rows.append(row)
    return {"rows": rows, "axis": axis_svg(start, end, today), "start": start, "end": end, "today": today,
            "counts": dict(order["counts"]), "next_after": next_after, "first_page": last is None}
