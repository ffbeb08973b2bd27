"""What the customer page reads about one customer: what is open with them now, their on-time record
and satisfaction trend (the KPIs' own definitions, filtered to them), the money, and their history.
Each part asks a fixed number of queries however long the customer's history (lists are paged by
keyset, related rows loaded with their list), so the page never asks once per order."""
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import format_decimal, format_percent
from flask_babel import gettext as _
from flask_babel import pgettext
from sqlalchemy.orm import joinedload, selectinload

from ..aftersales import Survey, Ticket
from ..customers import Customer
from ..extensions import db
from ..firm import get_settings
from ..i18n import firm_today
from ..receivables import Statement
from ..receivables import position as receivables_position
from ..kpi import Point, bars, delivery_facts, delivery_measure, month_periods, survey_facts, survey_measure
from ..orders import Order, Payment
from ..orders import lifecycle as order_lifecycle
from ..paging import Page, keyset_page
from ..requirements import Requirement
from ..requirements import lifecycle as requirement_lifecycle
from ..shipping import ReturnCase

# Rows a list shows before "show more" (the next rows continue after the last one shown).
OPEN_SIZE = 20
HISTORY_SIZE = 10
# How far back the on-time record and the satisfaction trend look: a year of months, as the KPIs' trend.
MONTHS = 12
LATE_SHOWN = 5
# Orders still running: neither delivered (nor closed) nor cancelled.
IN_PROGRESS_DONE = order_lifecycle.SETTLED + order_lifecycle.ENDED
# Orders the customer owes money for: countersigned (effective) and after, cancelled ones aside.
OWING = order_lifecycle.COSTABLE + ("closed",)


def score(value) -> str:
    """A mean score out of 5, two decimals ("—" when there is none)."""
    return "—" if value is None else format_decimal(value, "#,##0.00")


def pct(value) -> str:
    """A rate to 0.1 % ("—" when there is none)."""
    return "—" if value is None else format_percent(value, "#,##0.0%")


def _of_customer(customer: Customer):
    """The WHERE clause of rows whose order is the customer's (tickets, return cases, surveys, payments)."""
    return Order.customer_id == customer.id


@dataclass
class OpenNow:
    """What is open with the customer now, each list most urgent first."""

    requirements: Page
    orders: Page
    tickets: Page
    return_cases: Page
    surveys: Page

    @property
    def total(self) -> int:
        """How many things are open on the first page of each list (the page says "more" beside a list)."""
        return sum(len(p.rows) for p in (self.requirements, self.orders, self.tickets, self.return_cases,
                                         self.surveys))


def open_now(customer: Customer) -> OpenNow:
    """Open requirements, orders in progress (latest promise first due), open tickets and return cases
    (the clock that runs out first), and surveys sent but not answered."""
    requirements = keyset_page(
        db.select(Requirement).where(Requirement.customer_id == customer.id,
                                     Requirement.status.in_(requirement_lifecycle.OPEN)),
        Requirement, Requirement.created_at, size=OPEN_SIZE, param="open_requirements_after")
    orders = keyset_page(
        db.select(Order).where(Order.customer_id == customer.id, Order.status.not_in(IN_PROGRESS_DONE))
        .options(selectinload(Order.payments)),
        Order, Order.delivery_date, nulls_last=True, size=OPEN_SIZE, param="open_orders_after")
    tickets = keyset_page(
        db.select(Ticket).join(Order, Order.id == Ticket.order_id)
        .where(_of_customer(customer), Ticket.status != "resolved").options(joinedload(Ticket.order)),
        Ticket, Ticket.first_response_due_at, size=OPEN_SIZE, param="open_tickets_after")
    cases = keyset_page(
        db.select(ReturnCase).join(Order, Order.id == ReturnCase.order_id)
        .where(_of_customer(customer), ReturnCase.status != "closed").options(joinedload(ReturnCase.order)),
        ReturnCase, ReturnCase.due_at, size=OPEN_SIZE, param="open_cases_after")
    surveys = keyset_page(
        db.select(Survey).join(Order, Order.id == Survey.order_id)
        .where(_of_customer(customer), Survey.status == "sent").options(joinedload(Survey.order)),
        Survey, Survey.sent_at, size=OPEN_SIZE, param="open_surveys_after")
    return OpenNow(requirements, orders, tickets, cases, surveys)


@dataclass
class OnTimeRecord:
    """The customer's on-time delivery (交付准时率) over the last months: the KPI's own facts."""

    first: date
    last: date
    lines: int
    on_time: int
    share: Decimal | None
    latest_late: list  # the late lines, most days late first (a few)

    @property
    def share_text(self) -> str:
        """The share in words of the user's locale."""
        return pct(self.share)


def on_time(customer: Customer) -> OnTimeRecord:
    """Order lines originally due in the last MONTHS months, judged by the KPI's definition
    (delivered whole by the first promised date; lines not due yet and not delivered left out)."""
    months = month_periods(MONTHS)
    facts = delivery_facts(months[0].first, months[-1].last, [customer.id])
    measure = delivery_measure(facts)
    late = sorted((f for f in facts if not f.on_time), key=lambda f: (-f.days_late, f.promised))
    return OnTimeRecord(months[0].first, months[-1].last, int(measure.denominator), int(measure.numerator),
                        measure.value, late[:LATE_SHOWN])


@dataclass
class Satisfaction:
    """The customer's survey scores (客户满意度) per month and over the whole window."""

    surveys: int
    average: Decimal | None
    questions: dict  # each question's mean
    chart: object  # the SVG (Markup)
    rows: list  # (month key, the month's score in words, surveys answered that month)
    suggestions: list  # the latest answered surveys with words in them


def satisfaction(customer: Customer) -> Satisfaction:
    """Answered surveys of the last MONTHS months: the KPI's mean score out of 5 per month, drawn as bars."""
    months = month_periods(MONTHS)
    facts = survey_facts(months[0].start, months[-1].end, [customer.id])
    per_month = defaultdict(list)
    for fact in facts:
        for month in months:
            if month.contains(fact.day):
                per_month[month.key].append(fact)
    measures = [(month, survey_measure(per_month[month.key])) for month in months]
    # The latest month with answers is marked (with its value printed above its bar).
    marked = next((m for m, measure in reversed(measures) if measure.value is not None), months[-1])
    points = [Point(m.short, measure.value, score(measure.value), m == marked) for m, measure in measures]
    overall = survey_measure(facts)
    title = _("Satisfaction (客户满意度) of %(customer)s, the last %(count)d months",
              customer=customer.name, count=len(months))
    desc = pgettext("list separator", "; ").join(
        _("%(label)s: %(value)s", label=m.key, value=p.text) for (m, _m), p in zip(measures, points))
    return Satisfaction(
        len(facts), overall.value,
        {key: overall.extra.get(key) for key in ("requirement_response", "delivery_timeliness", "service_quality")},
        bars(points, title, desc, "c-satisfaction"),
        [(m.key, score(measure.value), len(per_month[m.key])) for m, measure in measures],
        [f for f in reversed(facts) if f.suggestions.strip()][:3])


@dataclass
class History:
    """The customer's records, newest first, a page of each."""

    requirements: Page
    orders: Page
    tickets: Page
    surveys: Page


def history(customer: Customer) -> History:
    """A page of each of the customer's requirements, orders, tickets and surveys, newest first."""
    return History(
        keyset_page(db.select(Requirement).where(Requirement.customer_id == customer.id), Requirement,
                    Requirement.created_at, descending=True, size=HISTORY_SIZE, param="requirements_after"),
        keyset_page(db.select(Order).where(Order.customer_id == customer.id).options(selectinload(Order.payments)),
                    Order, Order.created_at, descending=True, size=HISTORY_SIZE, param="orders_after"),
        keyset_page(db.select(Ticket).join(Order, Order.id == Ticket.order_id).where(_of_customer(customer))
                    .options(joinedload(Ticket.order)), Ticket, Ticket.opened_at, descending=True,
                    size=HISTORY_SIZE, param="tickets_after"),
        keyset_page(db.select(Survey).join(Order, Order.id == Survey.order_id).where(_of_customer(customer))
                    .options(joinedload(Survey.order)), Survey, Survey.sent_at, descending=True,
                    size=HISTORY_SIZE, param="surveys_after"))


def counts(customer: Customer) -> dict[str, int]:
    """How many of each record the customer has in all (one query)."""
    def count(model, *where, via_order=False):
        query = db.select(db.func.count(model.id))
        if via_order:
            query = query.join(Order, Order.id == model.order_id)
        return query.where(*where).scalar_subquery()
    mine = _of_customer(customer)
    row = db.session.execute(db.select(
        count(Requirement, Requirement.customer_id == customer.id), count(Order, mine),
        count(Ticket, mine, via_order=True), count(Survey, mine, via_order=True),
        count(Payment, mine, via_order=True))).one()
    return dict(zip(("requirements", "orders", "tickets", "surveys", "payments"), row))


# --- Money ------------------------------------------------------------------------------------------
# One function and one template include (templates/relations/_money.html), over receivables: the
# balance and ageing in the firm's currency, the invoices still owed, the statements, the payments.

@dataclass
class MoneySummary:
    """What the customer owes, since when, and has paid, for the roles that may see prices."""

    currency: str  # the firm's: every amount below but the payments' is in it
    position: object  # receivables' CustomerPosition: balance, overdue, buckets, oldest due
    to_invoice: Decimal  # signed orders' totals not invoiced yet
    received: dict[str, Decimal]  # currency → every payment received
    open_items: list  # (account, item) of the invoices still owed, oldest due first
    overdue: list  # the same, past due: what is open with the customer about money
    statements: list  # the latest monthly statements (对账单), newest first
    payments: Page  # a page of the payments, newest first
    today: date


def money_summary(customer: Customer) -> MoneySummary:
    """The customer's position from receivables (invoices settled by payments and credits), the
    statements and the payments: a fixed number of queries, whatever their number of orders."""
    today = firm_today()
    position = receivables_position(customer.id, today)
    open_items = position.open_items
    to_invoice = sum((a.firm(a.to_invoice) for a in position.accounts), Decimal("0"))
    received = {currency: Decimal(total) for currency, total in db.session.execute(
        db.select(Order.currency, db.func.sum(Payment.amount)).join(Order, Order.id == Payment.order_id)
        .where(_of_customer(customer)).group_by(Order.currency).order_by(Order.currency)).all()}
    statements = db.session.scalars(db.select(Statement).where(Statement.customer_id == customer.id)
                                    .order_by(Statement.period.desc(), Statement.version.desc()).limit(3)).all()
    payments = keyset_page(
        db.select(Payment).join(Order, Order.id == Payment.order_id).where(_of_customer(customer))
        .options(joinedload(Payment.order)),
        Payment, Payment.received_on, descending=True, size=HISTORY_SIZE, param="payments_after")
    overdue = [(a, i) for a, i in open_items if i.days_overdue(today) > 0]
    return MoneySummary(get_settings().currency, position, to_invoice, received, open_items[:HISTORY_SIZE],
                        overdue, statements, payments, today)

