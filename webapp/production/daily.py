"""The daily production/stocking tracking sheet (生产/备货跟踪表, 表2): per work order and day, the
planned quantity, the actual good pieces, cumulative plan vs actual, the deviation, its cause and the
action taken.

The plan of a day is the supervisor's (DailyPlan.planned) where set; every other working day between
planned start and planned QC gets an even share of what the set days leave, in whole pieces (the
remainder to the first days), so the days always add up to the work order's quantity.
"""
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_FLOOR, Decimal

from sqlalchemy.orm import joinedload, selectinload

from ..extensions import db
from ..firm import CalendarDay
from ..i18n import firm_zone
from ..statemachine import N_, TransitionError
from ..workdays import is_working_day
from . import operations
from .models import DEVIATION_CAUSES, DailyPlan, ProgressReport, WorkOrder

ZERO = Decimal("0")
# Reports before this date are not expected (the tracker did not exist): the start of "so far".
EPOCH = date(2000, 1, 1)
MAX_DAYS = 62  # the longest range one sheet shows (two months)
# Work orders one page of the sheet shows: a stand-up's worth on a phone (the XLSX has them all; a
# page of thousands of cards once weighed megabytes).
SHEET_PAGE_SIZE = 50


@dataclass
class Day:
    """One cell column of the sheet for one work order."""

    day: date
    working: bool
    planned: Decimal | None  # None: nothing planned (a non-working day, or no dates)
    actual: Decimal
    cum_planned: Decimal
    cum_actual: Decimal
    set_by_hand: bool = False
    cause: str = ""
    note: str = ""
    action: str = ""

    @property
    def deviation(self) -> Decimal:
        """Actual less plan for the day (a day without a plan counts as 0 planned)."""
        return self.actual - (self.planned or ZERO)

    @property
    def cum_deviation(self) -> Decimal:
        """Cumulative actual less cumulative plan."""
        return self.cum_actual - self.cum_planned

    @property
    def shown(self) -> bool:
        """Whether the day has anything to say (a plan, pieces, or a cause)."""
        return self.planned is not None or bool(self.actual) or bool(self.cause or self.note or self.action)


@dataclass
class Row:
    """One work order's line of the sheet over the range."""

    work_order: WorkOrder
    days: list[Day] = field(default_factory=list)

    def on(self, day: date) -> Day | None:
        """The row's entry for day (None outside the range)."""
        return next((d for d in self.days if d.day == day), None)


def week_of(day: date) -> tuple[date, date]:
    """Monday and Sunday of day's week."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def days_between(first: date, last: date) -> list[date]:
    """Every date from first to last inclusive."""
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def calendar_overrides(first: date, last: date) -> dict[date, bool]:
    """The firm's calendar exceptions from first to last inclusive."""
    return {row.day: row.is_working for row in db.session.scalars(
        db.select(CalendarDay).where(CalendarDay.day >= first, CalendarDay.day <= last))}


def spread(quantity: Decimal, days: list[date]) -> dict[date, Decimal]:
    """quantity shared over days in whole pieces, the remainder to the first days (the shares add up
    to quantity exactly; a fraction of a piece goes to the first day)."""
    if not days or quantity <= 0:
        return {day: ZERO for day in days}
    whole = quantity.to_integral_value(rounding=ROUND_FLOOR)
    base = (whole / len(days)).to_integral_value(rounding=ROUND_FLOOR)
    extra = int(whole - base * len(days))
    shares = {day: base + (1 if n < extra else 0) for n, day in enumerate(days)}
    shares[days[0]] += quantity - whole
    return shares


def span_days(work_order: WorkOrder, overrides: dict[date, bool] | None = None) -> list[date]:
    """The working days from planned start to planned QC inclusive (none without both dates)."""
    start, end = work_order.planned_start, work_order.planned_qc
    if not start or not end or end < start:
        return []
    if overrides is None:
        overrides = calendar_overrides(start, end)
    return [d for d in days_between(start, end) if is_working_day(d, overrides)]


def plan_by_day(work_order: WorkOrder, by_hand: dict[date, Decimal], overrides: dict[date, bool] | None = None
                ) -> dict[date, Decimal]:
    """Every day's planned quantity: the days set by hand as set, the rest of the quantity spread over
    the other working days of the span."""
    others = [d for d in span_days(work_order, overrides) if d not in by_hand]
    rest = work_order.quantity - sum(by_hand.values(), ZERO)
    return {**spread(max(rest, ZERO), others), **by_hand}


def check_plan(work_order: WorkOrder, by_hand: dict[date, Decimal]) -> None:
    """Refuse (409) a set of hand-set days that cannot add up to the work order's quantity."""
    total = sum(by_hand.values(), ZERO)
    if total > work_order.quantity:
        raise TransitionError(409, N_("The days set by hand add up to %(total)s, more than the work order's "
                                      "%(quantity)s pieces."), total=_plain(total), quantity=_plain(work_order.quantity))
    others = [d for d in span_days(work_order) if d not in by_hand]
    if total < work_order.quantity and not others:
        raise TransitionError(409, N_("The days set by hand add up to %(total)s of %(quantity)s pieces, and no "
                                      "other working day is left in the plan for the other %(rest)s."),
                              total=_plain(total), quantity=_plain(work_order.quantity),
                              rest=_plain(work_order.quantity - total))


def _plain(number: Decimal) -> str:
    """A quantity without trailing zeros, for a message."""
    text = f"{number:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _utc_start(day: date) -> datetime:
    """The UTC moment the firm's local day begins."""
    return datetime.combine(day, time(), tzinfo=firm_zone()).astimezone(timezone.utc)


def actual_by_day(work_order: WorkOrder, first: date, last: date) -> dict[date, Decimal]:
    """Good pieces finished per firm-local day from first to last (days without any left out): the
    last operation's, or the work order's own without operations (production/operations.py)."""
    return operations.actual_by_day(work_order, first, last, every_day=False)


def hand_plans(work_order_ids: list[int], first: date | None = None, last: date | None = None
               ) -> dict[int, dict[date, DailyPlan]]:
    """The supervisor's DailyPlan rows per work order and day (within first..last when given)."""
    query = db.select(DailyPlan).where(DailyPlan.work_order_id.in_(work_order_ids))
    if first:
        query = query.where(DailyPlan.day >= first, DailyPlan.day <= last)
    rows: dict[int, dict[date, DailyPlan]] = {}
    for plan in db.session.scalars(query):
        rows.setdefault(plan.work_order_id, {})[plan.day] = plan
    return rows


def row_of(work_order: WorkOrder, first: date, last: date, plans: dict[date, DailyPlan] | None = None,
           overrides: dict[date, bool] | None = None, *, covered: bool = False,
           actual: dict[date, Decimal] | None = None, before: Decimal | None = None) -> Row:
    """The work order's line of the sheet from first to last, cumulative from its first day.
    covered: overrides span the work order's planned days too; actual and before: its good pieces
    per day and before first, when the caller read them for many rows at once."""
    if plans is None:
        plans = hand_plans([work_order.id]).get(work_order.id, {})
    by_hand = {d: p.planned for d, p in plans.items() if p.planned is not None}
    lo = min([first, *([work_order.planned_start] if work_order.planned_start else [])])
    hi = max([last, *([work_order.planned_qc] if work_order.planned_qc else [])])
    if overrides is None or (not covered and (lo < first or hi > last)):
        overrides = calendar_overrides(lo, hi)
    planned = plan_by_day(work_order, by_hand, overrides)
    if actual is None:
        actual = actual_by_day(work_order, first, last)
    cum_planned = sum((q for d, q in planned.items() if d < first), ZERO)
    if before is None:
        before = sum(actual_by_day(work_order, EPOCH, first - timedelta(days=1)).values(), ZERO)
    cum_actual = before
    row = Row(work_order)
    for day in days_between(first, last):
        cum_planned += planned.get(day, ZERO)
        cum_actual += actual.get(day, ZERO)
        plan = plans.get(day)
        row.days.append(Day(day=day, working=is_working_day(day, overrides), planned=planned.get(day),
                            actual=actual.get(day, ZERO), cum_planned=cum_planned, cum_actual=cum_actual,
                            set_by_hand=day in by_hand, cause=plan.cause if plan else "",
                            note=plan.note if plan else "", action=plan.action if plan else ""))
    return row


def _after(work_order_id: int):
    """The condition for the work orders after work_order_id in the sheet's order (planned start,
    undated last, then number), or None when there is no such work order: a page goes on from the
    last row's place, so a row closed between two clicks repeats or skips nothing."""
    mark = db.session.execute(db.select(WorkOrder.planned_start, WorkOrder.number)
                              .where(WorkOrder.id == work_order_id)).first()
    if mark is None:
        return None
    start, number = mark
    if start is None:
        return db.and_(WorkOrder.planned_start.is_(None), WorkOrder.number > number)
    return db.or_(WorkOrder.planned_start.is_(None), WorkOrder.planned_start > start,
                  db.and_(WorkOrder.planned_start == start, WorkOrder.number > number))


def work_orders_in(first: date, last: date, where=None, after: int | None = None,
                   limit: int | None = None) -> list[WorkOrder]:
    """The sheet's work orders: every open one, and any with a plan or a report in the range (after:
    only those following that work order; limit: at most that many)."""
    with_plan = db.select(DailyPlan.work_order_id).where(DailyPlan.day >= first, DailyPlan.day <= last)
    with_report = db.select(ProgressReport.work_order_id).where(
        ProgressReport.occurred_at >= _utc_start(first), ProgressReport.occurred_at < _utc_start(last + timedelta(days=1)))
    query = db.select(WorkOrder).where(db.or_(WorkOrder.status != "done", WorkOrder.id.in_(with_plan),
                                              WorkOrder.id.in_(with_report)))
    if where is not None:
        query = query.where(where)
    if after is not None and (following := _after(after)) is not None:
        query = query.where(following)
    # What each row shows and counts by: its operations (the last one's pieces), its line, its owner.
    query = query.options(selectinload(WorkOrder.operations), joinedload(WorkOrder.line), joinedload(WorkOrder.owner))
    return list(db.session.scalars(query.order_by(WorkOrder.planned_start.is_(None), WorkOrder.planned_start,
                                                  WorkOrder.number).limit(limit)))


def sheet(first: date, last: date, where=None, after: int | None = None, limit: int | None = None) -> list[Row]:
    """The sheet from first to last: one row per work order (where narrows them: scope, filters;
    after and limit: a page of them, as work_orders_in)."""
    work_orders = work_orders_in(first, last, where, after, limit)
    plans = hand_plans([w.id for w in work_orders])
    # One read of the calendar over every row's planned days, and of the good pieces for all rows.
    lo = min([first, *(w.planned_start for w in work_orders if w.planned_start)])
    hi = max([last, *(w.planned_qc for w in work_orders if w.planned_qc)])
    overrides = calendar_overrides(lo, hi)
    actual = operations.actual_by_day_of(work_orders, first, last)
    before = operations.good_before(work_orders, first, EPOCH)
    return [row_of(w, first, last, plans.get(w.id, {}), overrides, covered=True, actual=actual[w.id],
                   before=before[w.id]) for w in work_orders]


def set_plans(work_order: WorkOrder, typed: dict[date, Decimal | None], user) -> None:
    """Set the days typed (None: back to the even share), refusing a plan that does not add up; the
    other days' share follows. The caller commits."""
    from .. import audit
    plans = hand_plans([work_order.id]).get(work_order.id, {})
    by_hand = {d: p.planned for d, p in plans.items() if p.planned is not None}
    for day, quantity in typed.items():
        if quantity is None:
            by_hand.pop(day, None)
        else:
            by_hand[day] = quantity
    check_plan(work_order, by_hand)
    before = {d.isoformat(): _plain(q) for d, q in sorted(by_hand.items()) if plans.get(d) is None
              or plans[d].planned != q}
    for day, quantity in typed.items():
        plan = plans.get(day)
        if plan is None:
            if quantity is None:
                continue
            plan = DailyPlan(work_order_id=work_order.id, day=day)
            db.session.add(plan)
        plan.planned = quantity
        plan.updated_by_id = user.id
    audit.record("work_order.daily_plan", work_order, actor=user, entity_type="work_order",
                 after={"set": before, "by_hand": {d.isoformat(): _plain(q) for d, q in sorted(by_hand.items())}})


def set_cause(work_order: WorkOrder, day: date, cause: str, note: str, action: str, user) -> DailyPlan:
    """Record the day's deviation cause, note and action taken. The caller commits."""
    from .. import audit
    if cause and cause not in DEVIATION_CAUSES:
        raise TransitionError(422, N_("Choose a cause from the list."))
    plan = db.session.scalar(db.select(DailyPlan).where(DailyPlan.work_order_id == work_order.id,
                                                        DailyPlan.day == day))
    if plan is None:
        plan = DailyPlan(work_order_id=work_order.id, day=day)
        db.session.add(plan)
    plan.cause, plan.note, plan.action, plan.updated_by_id = cause, note, action, user.id
    audit.record("work_order.daily_cause", work_order, actor=user, entity_type="work_order",
                 after={"day": day.isoformat(), "cause": cause, "note": note, "action": action})
    return plan
