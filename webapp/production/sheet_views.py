"""The daily production/stocking tracking sheet (表2): the supervisor's stand-up page, the plan per day
of a work order, and the sheet as XLSX."""
from datetime import date, timedelta

from flask import flash, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField
from wtforms.validators import Length

from .. import spreadsheets
from ..auth import User
from ..extensions import db
from ..forms import NumberError, ids_of_its_own, options, parse_decimal
from ..htmx import flashed_notes, render, see_other
from ..i18n import firm_today
from ..loading import load
from ..orders import scope_orders
from ..permissions import requires
from ..statemachine import TransitionError
from ..workdays import is_working_day
from . import bp, daily
from .forms import KIND_LABELS
from .models import DEVIATION_CAUSES, WorkOrder, WorkOrderOperation

# The deviation causes in the anomaly kinds' words (the same five things go wrong on the floor).
CAUSE_LABELS = {key: KIND_LABELS[key] for key in DEVIATION_CAUSES}
MAX_DAY_PLAN = 1_000_000  # pieces one work order plans for one day: anything above is a typo


class CauseForm(FlaskForm):
    """Why a day deviated and what was done about it."""

    cause = SelectField(_l("Cause"), choices=options(("", _l("(none)")), *[(k, CAUSE_LABELS[k]) for k in DEVIATION_CAUSES]))
    note = TextAreaField(_l("Note"), validators=[Length(max=2000)])
    action = TextAreaField(_l("Action taken"), validators=[Length(max=2000)])


class RangeError(ValueError):
    """A range of days the sheet cannot show (the message is translated)."""


def _date_arg(name: str) -> date | None:
    """A date from the query string (None when absent; RangeError when it is not a date)."""
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise RangeError(_("%(value)s is not a date (YYYY-MM-DD).", value=raw[:20])) from None


def requested_range() -> tuple[date, date]:
    """The days asked for (?from=&to=), this week (Monday to Sunday) by default."""
    first, last = _date_arg("from"), _date_arg("to")
    week_first, week_last = daily.week_of(first or firm_today())
    first, last = first or week_first, last or (first + timedelta(days=6) if first else week_last)
    if last < first:
        raise RangeError(_("The last day is before the first."))
    if (last - first).days + 1 > daily.MAX_DAYS:
        raise RangeError(_("Show at most %(n)s days at once.", n=daily.MAX_DAYS))
    return first, last


def _filters():
    """The WHERE clause of the sheet for the user (their orders) and the owner / work centre asked."""
    where = scope_orders(current_user, WorkOrder.order_id)
    owner = request.args.get("owner", type=int)
    centre = request.args.get("centre", type=int)
    if owner:
        where = db.and_(where, WorkOrder.owner_id == owner)
    if centre:
        where = db.and_(where, WorkOrder.id.in_(db.select(WorkOrderOperation.work_order_id)
                                                .where(WorkOrderOperation.work_centre_id == centre)))
    return where, owner, centre


def _filter_choices() -> tuple[list, list]:
    """The owners and work centres the filters offer."""
    from .models import WorkCentre
    owners = db.session.scalars(db.select(User).where(User.id.in_(
        db.select(WorkOrder.owner_id).where(WorkOrder.status != "done"))).order_by(User.name)).all()
    centres = db.session.scalars(db.select(WorkCentre).where(WorkCentre.active).order_by(WorkCentre.code)).all()
    return owners, centres


def _last_working_day(first: date, day: date) -> date:
    """day, or the working day before it on the firm's calendar (not before first)."""
    overrides = daily.calendar_overrides(max(first, day - timedelta(days=14)), day)
    while day > first and not is_working_day(day, overrides):
        day -= timedelta(days=1)
    return day


def _after_arg() -> int | None:
    """The work order a page of the sheet goes on from (?after=), None for the first page: a value
    that is not a work order's id opens the first page."""
    after = request.args.get("after", type=int)
    return after if after and 0 < after < 2**31 else None


def _page(first: date, last: date, error: str | None = None, status_code: int = 200, forms=None):
    """One page of the sheet for the range, with an error above it (a refused range or form)."""
    where, owner, centre = _filters()
    after = _after_arg()
    rows = daily.sheet(first, last, where, after=after, limit=daily.SHEET_PAGE_SIZE + 1)
    next_after = rows[daily.SHEET_PAGE_SIZE - 1].work_order.id if len(rows) > daily.SHEET_PAGE_SIZE else None
    rows = rows[:daily.SHEET_PAGE_SIZE]
    today = firm_today()
    asked = _date_arg_or(request.args.get("day"), today)
    focus = asked if first <= asked <= last else today if first <= today <= last else first
    if not request.args.get("day"):  # opened on a weekend or a holiday: the last day the firm worked
        focus = _last_working_day(first, focus)
    owners, centres = _filter_choices()
    forms = {wo_id: ids_of_its_own(form, wo_id) for wo_id, form in (forms or {}).items()}
    for row in rows:
        if row.work_order.id not in forms:
            entry = row.on(focus)
            forms[row.work_order.id] = ids_of_its_own(
                CauseForm(formdata=None, cause=entry.cause, note=entry.note, action=entry.action), row.work_order.id)
    days = daily.days_between(first, last)
    return render("production/daily.html", rows=rows, days=days, first=first, last=last, focus=focus,
                  today=today, forms=forms, owners=owners, centres=centres, owner=owner, centre=centre,
                  after=after, next_after=next_after, page_size=daily.SHEET_PAGE_SIZE,
                  error=error, cause_labels=CAUSE_LABELS, notes=flashed_notes(),
                  previous=(first - timedelta(days=7), last - timedelta(days=7)),
                  following=(first + timedelta(days=7), last + timedelta(days=7)), status_code=status_code)


@bp.get("/production/daily")
@login_required
@requires("workorder.view")
def daily_sheet():
    """The daily sheet for a range of days: cards for the stand-up on a phone, a table on a tablet."""
    try:
        first, last = requested_range()
    except RangeError as error:
        first, last = daily.week_of(firm_today())
        return _page(first, last, error=str(error), status_code=422)
    return _page(first, last)


def _day_arg(raw: str) -> date:
    """A day in a URL (404 when it is not one)."""
    from flask import abort
    try:
        return date.fromisoformat(raw)
    except ValueError:
        abort(404)


@bp.post("/production/daily/<int:work_order_id>/<day>/cause")
@login_required
@requires("workorder.manage")
def daily_cause(work_order_id: int, day: str):
    """Save a day's deviation cause, note and action (the stand-up)."""
    work_order = load(WorkOrder, work_order_id, "workorder.manage")
    when = _day_arg(day)
    form = CauseForm()
    first = _date_arg_or(request.args.get("from"), daily.week_of(when)[0])
    last = _date_arg_or(request.args.get("to"), daily.week_of(when)[1])
    if not form.validate():
        return _page(first, last, error=_("The cause was not saved: see the marked field."), status_code=422,
                     forms={work_order.id: form})
    daily.set_cause(work_order, when, form.cause.data or "", (form.note.data or "").strip(),
                    (form.action.data or "").strip(), current_user)
    db.session.commit()
    flash(_("Saved for %(number)s.", number=work_order.number), f"done:wo-{work_order.id}")
    # Back to the same page of the sheet, its filters kept.
    return see_other(url_for("production.daily_sheet", day=when.isoformat(), owner=request.args.get("owner", type=int),
                             centre=request.args.get("centre", type=int), after=_after_arg(),
                             **{"from": first.isoformat(), "to": last.isoformat()}) + f"#wo-{work_order.id}")


def _date_arg_or(raw: str | None, default: date) -> date:
    """A date from a query value, default when it is absent or not a date."""
    try:
        return date.fromisoformat(raw) if raw else default
    except ValueError:
        return default


def _plan_days(work_order: WorkOrder, first: date, last: date) -> list[date]:
    """The days the plan page lists: the work order's planned span, the days set by hand, the range."""
    span = [work_order.planned_start, work_order.planned_qc]
    by_hand = [d for d, p in daily.hand_plans([work_order.id]).get(work_order.id, {}).items() if p.planned is not None]
    known = [d for d in [*span, *by_hand, first, last] if d]
    return daily.days_between(min(known), max(known))


@bp.route("/production/daily/<int:work_order_id>/plan", methods=["GET", "POST"])
@login_required
@requires("workorder.manage")
def daily_plan(work_order_id: int):
    """A work order's plan per day: the days typed are kept, the rest of the quantity is spread."""
    work_order = load(WorkOrder, work_order_id, "workorder.manage")
    first = _date_arg_or(request.args.get("from"), work_order.planned_start or daily.week_of(firm_today())[0])
    last = _date_arg_or(request.args.get("to"), work_order.planned_qc or first + timedelta(days=6))
    if last < first or (last - first).days > 366:  # a hand-made URL: back to the planned span
        last = first + timedelta(days=6)
    days = _plan_days(work_order, first, last)
    typed, errors, refusal = {}, {}, None
    if request.method == "POST":
        values = {}
        for day in days:
            raw = (request.form.get(f"d-{day.isoformat()}") or "").strip()
            typed[day] = raw
            try:
                values[day] = parse_decimal(raw, 3, 0, MAX_DAY_PLAN) if raw else None
            except NumberError as error:
                errors[day] = str(error)
        if not errors:
            try:
                daily.set_plans(work_order, values, current_user)
            except TransitionError as error:
                db.session.rollback()
                refusal = error.translated()
            else:
                db.session.commit()
                flash(_("The plan of %(number)s is saved.", number=work_order.number), "done")
                return see_other(url_for("production.daily_plan", work_order_id=work_order.id,
                                         **{"from": first.isoformat(), "to": last.isoformat()}))
    row = daily.row_of(work_order, days[0], days[-1])
    if request.method == "GET":
        typed = {d.day: d.planned for d in row.days if d.set_by_hand}
    status = 422 if errors else 409 if refusal else 200
    return render("production/daily_plan.html", work_order=work_order, row=row, typed=typed, errors=errors,
                  refusal=refusal, first=first, last=last, status_code=status)


# The template's columns, in its words; English ones for English readers.
COLUMNS = (("日期", "Date"), ("工单号", "Work order"), ("产品/型号", "Product"), ("计划数量", "Planned"),
           ("实际数量", "Actual"), ("累计计划", "Cumulative plan"), ("累计实际", "Cumulative actual"),
           ("偏差", "Deviation"), ("偏差原因", "Cause"), ("采取措施", "Action"))


def sheet_rows(rows: list[daily.Row]) -> list[list]:
    """The sheet as the template's rows: one per day and work order that has something to say, by day."""
    lines = []
    for row in rows:
        wo = row.work_order
        product = " ".join(p for p in (wo.item.model, (wo.item.description or "").splitlines()[0]
                                       if wo.item.description else "") if p)
        for day in row.days:
            if not day.shown:
                continue
            cause = str(CAUSE_LABELS[day.cause]) if day.cause in CAUSE_LABELS else ""
            if day.note:
                cause = f"{cause}：{day.note}" if cause and _is_chinese() else f"{cause}: {day.note}" if cause else day.note
            lines.append([day.day, wo.number, product, day.planned, day.actual, day.cum_planned, day.cum_actual,
                          day.deviation, cause, day.action])
    lines.sort(key=lambda line: (line[0], line[1]))
    return lines


def _is_chinese() -> bool:
    """Whether the reader reads Chinese."""
    locale = get_locale()
    return bool(locale) and locale.language == "zh"


@bp.get("/production/daily.xlsx")
@login_required
@requires("workorder.view")
def daily_xlsx():
    """The daily sheet as XLSX in the template's columns, headers in the reader's language."""
    try:
        first, last = requested_range()
    except RangeError as error:
        return _page(*daily.week_of(firm_today()), error=str(error), status_code=422)
    where, _owner, _centre = _filters()
    chinese = _is_chinese()
    headers = [zh if chinese else en for zh, en in COLUMNS]
    title = "生产备货跟踪表" if chinese else "Production tracking"
    data = spreadsheets.workbook(title, headers, sheet_rows(daily.sheet(first, last, where)),
                                 column_widths={8: 30, 9: 30})
    name = f"{title} {first.isoformat()}_{last.isoformat()}.xlsx"
    return spreadsheets.xlsx_response(data, name)
