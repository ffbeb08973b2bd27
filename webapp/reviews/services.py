"""What changes reviews and their improvement actions (every write audited; the time from wallclock,
state changes through workflow.transition), and what the pages read: the overdue list, an owner's
actions, the reviewed order's cost sheet, the period's costliest causes and whether a cause went down."""
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from .. import audit
from ..auth import User
from ..clocks import shift_working_days
from ..costing import CostSheet, cause_totals
from ..extensions import db
from ..i18n import firm_today
from ..statemachine import N_, TransitionError
from ..wallclock import utcnow
from ..workflow import transition
from . import lifecycle
from .models import ImprovementAction, Review, ReviewAttendee

ZERO = Decimal("0")
# An order review has no period of its own: its causes are compared over this many days before the
# meeting and as many from it (docs/decisions.md, "Whether a cause went down").
ORDER_WINDOW_DAYS = 90
# The reminder tells an owner about actions due within this many working days, and overdue ones.
REMIND_WORKING_DAYS = 2


class ReviewInvalid(Exception):
    """What was typed cannot stand: {field name: English msgid}."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(errors)
        self.errors = errors


# --- periods -------------------------------------------------------------------------------------

def month_of(day: date) -> tuple[date, date]:
    """The first and last day of day's month."""
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


def quarter_of(day: date) -> tuple[date, date]:
    """The first and last day of day's quarter."""
    first = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    last_month_first = date(first.year + (first.month + 2) // 13, (first.month + 2 - 1) % 12 + 1, 1)
    return first, month_of(last_month_first)[1]


def period_bounds(period: str, day: date) -> tuple[date, date]:
    """The month or quarter that holds day."""
    return quarter_of(day) if period == "quarter" else month_of(day)


@dataclass(frozen=True)
class Window:
    """A stretch of firm-local days, first..last inclusive."""

    first: date
    last: date


def trend_windows(review: Review) -> tuple[Window, Window]:
    """The period a review looks back on and the one after it, in which its actions should show: a
    period review's own month or quarter and the next one; an order review's ORDER_WINDOW_DAYS
    before the day it was held and as many from that day."""
    if review.kind == "period" and review.first and review.last:
        after_first = review.last + timedelta(days=1)
        return Window(review.first, review.last), Window(after_first, period_bounds(review.period or "month",
                                                                                   after_first)[1])
    held = review.held_on
    return (Window(held - timedelta(days=ORDER_WINDOW_DAYS), held - timedelta(days=1)),
            Window(held, held + timedelta(days=ORDER_WINDOW_DAYS - 1)))


# --- whether a cause went down ---------------------------------------------------------------------

@dataclass(frozen=True)
class CauseTrend:
    """One cause's total before and after a review, and which way it went: "down", "up", "same",
    "no_data" (a window in which no finalised cost sheet carries a cause code) or "not_yet" (the
    period after has not started). partial: the period after is still running (a total so far)."""

    cause: object
    before: Decimal | None
    after: Decimal | None
    word: str
    partial: bool
    windows: tuple


def _totals(window: Window, today: date) -> dict[int, Decimal] | None:
    """Each cause's total over the finalised cost sheets of window (up to today); None when no sheet
    of the window carries any cause code (nothing to compare)."""
    totals = cause_totals(window.first, min(window.last, today))
    if not totals:
        return None
    return {t.cause.id: t.amount for t in totals}


def cause_trend(review: Review, causes, today: date | None = None) -> list[CauseTrend]:
    """For each cause, its total in the period before the review and the period after (up to today)."""
    today = today or firm_today()
    before_window, after_window = trend_windows(review)
    before = _totals(before_window, today)
    after = None if after_window.first > today else _totals(after_window, today)
    partial = after_window.first <= today < after_window.last
    rows = []
    for cause in causes:
        then = None if before is None else before.get(cause.id, ZERO)
        now = None if after is None else after.get(cause.id, ZERO)
        if after_window.first > today:
            word = "not_yet"
        elif then is None or now is None:
            word = "no_data"
        else:
            word = "down" if now < then else "up" if now > then else "same"
        rows.append(CauseTrend(cause, then, now, word, partial, (before_window, after_window)))
    return rows


# --- what a review page shows ----------------------------------------------------------------------

def cost_sheet_of(review: Review):
    """The reviewed order's cost sheet (None for a period review or an order without one)."""
    if review.order_id is None:
        return None
    return db.session.scalar(db.select(CostSheet).where(CostSheet.order_id == review.order_id))


def period_causes(review: Review, limit: int = 8) -> list:
    """The causes that cost most in a period review's period (cause_totals, costliest first)."""
    if review.kind != "period" or not review.first:
        return []
    return cause_totals(review.first, review.last)[:limit]


# --- reviews ---------------------------------------------------------------------------------------

def _describe(review: Review) -> dict:
    return {"kind": review.kind, "order_id": review.order_id, "period": review.period,
            "first": review.first.isoformat() if review.first else None,
            "last": review.last.isoformat() if review.last else None,
            "held_on": review.held_on.isoformat(), "findings": review.findings,
            "attendees": [a.user_id or a.name for a in review.attendees]}


def _set(review: Review, *, kind: str, order, period: str | None, period_day: date | None, held_on: date,
         findings: str, attendee_ids: list[int], guests: list[str]) -> None:
    errors = {}
    if kind == "order" and order is None:
        errors["order_number"] = N_("Give the number of the order this review is about.")
    if kind == "period" and (period not in ("month", "quarter") or period_day is None):
        errors["period"] = N_("Choose the month or quarter this review is about.")
    if errors:
        raise ReviewInvalid(errors)
    review.kind = kind
    review.order_id = order.id if kind == "order" else None
    if kind == "period":
        review.period = period
        review.first, review.last = period_bounds(period, period_day)
    else:
        review.period = review.first = review.last = None
    review.held_on, review.findings = held_on, findings
    people = {u.id: u for u in db.session.scalars(db.select(User).where(User.id.in_(attendee_ids or [0])))}
    kept = {a.user_id: a for a in review.attendees if a.user_id}
    review.attendees = [kept.get(uid) or ReviewAttendee(user_id=uid) for uid in attendee_ids if uid in people]
    names = []
    for name in guests:
        name = name.strip()[:100]
        if name and name not in names:
            names.append(name)
    review.attendees += [ReviewAttendee(name=name) for name in names]


def create_review(user, **fields) -> Review:
    """Record a review meeting (finance, the manager, operations)."""
    review = Review(created_by_id=user.id)
    _set(review, **fields)
    db.session.add(review)
    db.session.flush()
    audit.record("review.created", review, actor=user, after=_describe(review))
    return review


def update_review(review: Review, user, **fields) -> Review:
    """Change a review's subject, date, attendees or findings."""
    before = _describe(review)
    _set(review, **fields)
    review.updated_at = utcnow()
    db.session.flush()
    audit.record("review.updated", review, actor=user, before=before, after=_describe(review))
    return review


# --- improvement actions ---------------------------------------------------------------------------

def _check_due(due: date | None, previous: date | None = None) -> None:
    """The rule for due dates: a new or changed due date is today or later (the firm's day); an
    action whose date has passed keeps it when other fields are edited (it stays overdue)."""
    if due is None:
        raise ReviewInvalid({"due_date": N_("Give the date the action is due.")})
    if due != previous and due < firm_today():
        raise ReviewInvalid({"due_date": N_("The due date cannot be in the past: give today or a later day.")})


def _describe_action(action: ImprovementAction) -> dict:
    return {"title": action.title, "owner_id": action.owner_id, "due_date": action.due_date.isoformat(),
            "status": action.status, "causes": sorted(c.key or c.name for c in action.causes)}


def add_action(review: Review, user, *, title: str, description: str, owner, due_date: date, causes) -> ImprovementAction:
    """Add an improvement action to a review: what, whose, by when, the causes it addresses."""
    _check_due(due_date)
    action = ImprovementAction(review=review, title=title, description=description, owner_id=owner.id,
                               due_date=due_date, status="open", created_by_id=user.id, causes=list(causes))
    db.session.add(action)
    db.session.flush()
    audit.record("improvement.created", action, actor=user, after=_describe_action(action))
    return action


def update_action(action: ImprovementAction, user, *, title: str, description: str, owner, due_date: date,
                  causes) -> ImprovementAction:
    """Change an action's title, description, owner, due date or causes (the review's editors)."""
    _check_due(due_date, action.due_date)
    before = _describe_action(action)
    action.title, action.description, action.owner_id, action.due_date = title, description, owner.id, due_date
    action.causes = list(causes)
    if action.owner_id != before["owner_id"] or action.due_date.isoformat() != before["due_date"]:
        action.reminded_on = None  # a new owner or date is reminded afresh
    action.updated_at = utcnow()
    db.session.flush()
    audit.record("improvement.updated", action, actor=user, before=before, after=_describe_action(action))
    return action


def move(action: ImprovementAction, name: str, user, note: str = "") -> str:
    """Start, complete (with a note of what was done), cancel or reopen an action."""
    if name == "complete" and action.status == "done":
        who = action.done_by.name if action.done_by else ""
        raise TransitionError(409, N_("This action was already marked done by %(who)s."), who=who)
    if name == "complete" and not note:
        raise ReviewInvalid({"note": N_("Say what was done.")})
    status = transition(action, lifecycle.MACHINE, name, user, note=note or None)
    if status == "done":
        action.done_note, action.done_by_id, action.done_at = note, user.id, utcnow()
    elif name == "reopen":
        action.done_note, action.done_by_id, action.done_at = "", None, None
    action.updated_at = utcnow()
    return status


def overdue_actions(today: date | None = None):
    """Open and in-progress actions whose due date has passed (the firm's day), the oldest due first."""
    today = today or firm_today()
    return (db.select(ImprovementAction).where(ImprovementAction.status.in_(lifecycle.OPEN),
                                               ImprovementAction.due_date < today)
            .order_by(ImprovementAction.due_date, ImprovementAction.id))


def actions_of(owner_id: int):
    """An owner's open actions, the soonest due first."""
    return (db.select(ImprovementAction).where(ImprovementAction.owner_id == owner_id,
                                               ImprovementAction.status.in_(lifecycle.OPEN))
            .order_by(ImprovementAction.due_date, ImprovementAction.id))


def to_remind(today: date) -> list[ImprovementAction]:
    """Open actions due within REMIND_WORKING_DAYS working days or overdue, not reminded today."""
    horizon = shift_working_days(today, REMIND_WORKING_DAYS)
    return list(db.session.scalars(
        db.select(ImprovementAction).where(
            ImprovementAction.status.in_(lifecycle.OPEN), ImprovementAction.due_date <= horizon,
            db.or_(ImprovementAction.reminded_on.is_(None), ImprovementAction.reminded_on < today))
        .order_by(ImprovementAction.owner_id, ImprovementAction.due_date, ImprovementAction.id)))
