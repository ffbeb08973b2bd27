"""What a customer owes and since when: due dates from the credit terms, each invoice's outstanding
amount after payments and credits, balances per order and per customer in the firm's currency, and
the ageing buckets. Pure reads; the views, statements, reminders and the shipping hold stand on them.

Settling an order's invoices: payments matched to an invoice by finance pay that invoice first; what
the order received without a match (a deposit, a receipt not yet matched) and the credits of its
return cases then pay its open invoices oldest due first. So an invoice's outstanding amount never
depends on who matched what last, and a credit nets the oldest debt, as the bookkeeper would."""
import calendar
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from .. import registry
from ..db_types import money
from ..extensions import db
from ..i18n import firm_today
from ..orders import Order, Payment
from ..shipping import ReturnCredit
from ..statemachine import N_
from .models import Invoice, PaymentMatch

ZERO = Decimal("0")
# Credit terms: net N days from the invoice, or 月结 N 天 (N days after the end of the invoice's month).
CREDIT_BASES = ("net", "month_end")
# Ageing buckets by days past due (the firm's dates): key, first day, last day (None: no end).
AGEING_BUCKETS = (("current", None, 0), ("d0_30", 1, 30), ("d31_60", 31, 60), ("d61_90", 61, 90),
                  ("d90_plus", 91, None))

# What the buckets are called on every page and download (msgids, translated where shown).
AGEING_TITLES = {"current": N_("Not yet due"), "d0_30": N_("0–30 days"), "d31_60": N_("31–60 days"),
                 "d61_90": N_("61–90 days"), "d90_plus": N_("Over 90 days")}


def due_date(issued_on: date, credit_days: int, basis: str = "net") -> date:
    """When an invoice issued on issued_on falls due under the credit terms: net N days, or 月结 N
    天 — N days after the last day of the month it was issued in (30 days after 31 January is
    2 March, after 28 February is 30 March)."""
    if basis == "month_end":
        month_end = issued_on.replace(day=calendar.monthrange(issued_on.year, issued_on.month)[1])
        return month_end + timedelta(days=credit_days)
    return issued_on + timedelta(days=credit_days)


def in_firm_currency(order, amount: Decimal) -> Decimal:
    """An amount in the order's currency, in the firm's currency at the order's exchange rate."""
    return money(amount * (order.exchange_rate or Decimal("1")))


def ageing_bucket(days_overdue: int) -> str:
    """The ageing bucket of an amount so many days past its due date (0 or less: not yet due)."""
    for key, first, last in AGEING_BUCKETS:
        if (first is None or days_overdue >= first) and (last is None or days_overdue <= last):
            return key
    raise AssertionError(days_overdue)


@dataclass
class OpenItem:
    """One invoice with what is still owed on it."""

    invoice: Invoice
    matched: Decimal = ZERO   # finance's matches of payments
    applied: Decimal = ZERO   # unmatched receipts and credits, oldest due first

    @property
    def outstanding(self) -> Decimal:
        """What is still owed on the invoice (order currency)."""
        return max(self.invoice.amount - self.matched - self.applied, ZERO)

    def days_overdue(self, today: date) -> int:
        """Days past due on today (0 or less: not yet due)."""
        return (today - self.invoice.due_on).days


@dataclass
class OrderAccount:
    """One order's money: invoiced, received and credited in its currency, and what is open."""

    order: Order
    invoiced: Decimal = ZERO
    received: Decimal = ZERO
    credited: Decimal = ZERO
    items: list[OpenItem] = field(default_factory=list)
    unapplied: Decimal = ZERO  # received and credited but not needed by any invoice yet (预收)

    @property
    def balance(self) -> Decimal:
        """Invoiced less received and credited (negative: money received ahead of invoices)."""
        return self.invoiced - self.received - self.credited

    @property
    def to_invoice(self) -> Decimal:
        """The order's total (less credits) not invoiced yet."""
        return max(self.order.total - self.credited - self.invoiced, ZERO)

    @property
    def unpaid(self) -> Decimal:
        """The order's total less what was received and credited (never below zero)."""
        return max(self.order.total - self.received - self.credited, ZERO)

    def overdue(self, today: date) -> Decimal:
        """What is past due on today."""
        return sum((i.outstanding for i in self.items if i.days_overdue(today) > 0), ZERO)

    def firm(self, amount: Decimal) -> Decimal:
        """An amount of this order in the firm's currency."""
        return in_firm_currency(self.order, amount)


def accounts(order_ids) -> dict[int, OrderAccount]:
    """The accounts of the given orders, settled (four queries whatever their number)."""
    order_ids = list(order_ids)
    if not order_ids:
        return {}
    orders = db.session.scalars(db.select(Order).where(Order.id.in_(order_ids))).all()
    out = {o.id: OrderAccount(order=o) for o in orders}
    invoices = db.session.scalars(
        db.select(Invoice).where(Invoice.order_id.in_(order_ids), Invoice.voided_at.is_(None))
        .order_by(Invoice.due_on, Invoice.issued_on, Invoice.id)).all()
    items = {}
    for invoice in invoices:
        item = OpenItem(invoice=invoice)
        items[invoice.id] = item
        out[invoice.order_id].items.append(item)
        out[invoice.order_id].invoiced += invoice.amount
    received = db.session.execute(
        db.select(Payment.order_id, db.func.sum(Payment.amount)).where(Payment.order_id.in_(order_ids))
        .group_by(Payment.order_id)).all()
    for order_id, total in received:
        out[order_id].received = total  # sum() keeps the column's type: a Decimal
    credited = db.session.execute(
        db.select(ReturnCredit.order_id, db.func.sum(ReturnCredit.amount))
        .where(ReturnCredit.order_id.in_(order_ids)).group_by(ReturnCredit.order_id)).all()
    for order_id, total in credited:
        out[order_id].credited = total
    matched_by_order: dict[int, Decimal] = defaultdict(lambda: ZERO)
    if items:
        for match in db.session.scalars(db.select(PaymentMatch).where(PaymentMatch.invoice_id.in_(list(items)))):
            items[match.invoice_id].matched += match.amount
            matched_by_order[match.invoice.order_id] += match.amount
    for account in out.values():
        pool = account.received - matched_by_order[account.order.id] + account.credited
        for item in account.items:  # oldest due first
            if pool <= 0:
                break
            take = min(pool, max(item.invoice.amount - item.matched, ZERO))
            item.applied = take
            pool -= take
        account.unapplied = max(pool, ZERO)
    return out


def account(order) -> OrderAccount:
    """One order's account, settled."""
    return accounts([order.id])[order.id]


def customer_order_ids(customer_id: int) -> list[int]:
    """The orders of a customer that can carry money (drafts and cancelled ones cannot)."""
    return list(db.session.scalars(db.select(Order.id).where(
        Order.customer_id == customer_id, Order.status.notin_(("draft", "cancelled")))))


@dataclass
class CustomerPosition:
    """One customer's money in the firm's currency: balance, overdue and the ageing buckets."""

    customer_id: int
    balance: Decimal = ZERO   # owed less advance
    owed: Decimal = ZERO      # still owed on invoices (应收): the sum of the buckets
    advance: Decimal = ZERO   # received ahead of invoices (预收), on orders not invoiced that far
    overdue: Decimal = ZERO
    buckets: dict[str, Decimal] = field(default_factory=lambda: {k: ZERO for k, _a, _b in AGEING_BUCKETS})
    oldest_due: date | None = None
    accounts: list[OrderAccount] = field(default_factory=list)

    @property
    def open_items(self) -> list[tuple[OrderAccount, OpenItem]]:
        """The invoices with something still owed, oldest due first."""
        rows = [(a, i) for a in self.accounts for i in a.items if i.outstanding > 0]
        return sorted(rows, key=lambda row: (row[1].invoice.due_on, row[1].invoice.id))


def positions(customer_ids=None, today: date | None = None) -> dict[int, CustomerPosition]:
    """Each customer's balance, overdue amount and ageing on today (the firm's date by default);
    all customers with orders when customer_ids is None."""
    today = today or firm_today()
    query = db.select(Order.id, Order.customer_id).where(Order.status.notin_(("draft", "cancelled")))
    if customer_ids is not None:
        query = query.where(Order.customer_id.in_(list(customer_ids)))
    pairs = db.session.execute(query).all()
    settled = accounts([order_id for order_id, _c in pairs])
    out: dict[int, CustomerPosition] = {}
    for order_id, customer_id in pairs:
        position = out.setdefault(customer_id, CustomerPosition(customer_id=customer_id))
        acct = settled[order_id]
        position.accounts.append(acct)
        position.balance += acct.firm(acct.balance)
        position.advance += acct.firm(acct.unapplied)
        for item in acct.items:
            if item.outstanding <= 0:
                continue
            days = item.days_overdue(today)
            amount = acct.firm(item.outstanding)
            position.buckets[ageing_bucket(days)] += amount
            position.owed += amount
            if days > 0:
                position.overdue += amount
                if position.oldest_due is None or item.invoice.due_on < position.oldest_due:
                    position.oldest_due = item.invoice.due_on
    return out


def position(customer_id: int, today: date | None = None) -> CustomerPosition:
    """One customer's balance, overdue amount and ageing."""
    return positions([customer_id], today).get(customer_id) or CustomerPosition(customer_id=customer_id)


def overdue(customer_id: int, today: date | None = None) -> Decimal:
    """The customer's overdue amount (firm's currency), as position(...).overdue gives it, but settling
    only the orders that can owe something past due: those with an invoice due before today whose
    invoices come to more than the order received and was credited (closed ones only when a manager
    closed them over money still open). An order whose receipts and
    credits cover its invoices has nothing outstanding (matches never exceed an invoice), so leaving
    it out changes nothing, and the order page's shipping hold costs the same however long the
    customer's history (it settled every order the customer ever had: seconds at 100,000 orders)."""
    today = today or firm_today()

    def total(column, key):
        return db.select(db.func.coalesce(db.func.sum(column), 0)).where(key == Order.id).scalar_subquery()
    invoiced = db.select(db.func.sum(Invoice.amount)).where(
        Invoice.order_id == Order.id, Invoice.voided_at.is_(None)).scalar_subquery()
    # A closed order was paid in full when it closed unless a manager closed it over money still open
    # (costing's close rule), and its later invoices stay within its total less credits: it owes
    # nothing, so the years of closed orders are not read at all.
    candidates = db.session.scalars(db.select(Order.id).where(
        Order.customer_id == customer_id,
        db.or_(Order.status.in_([s for s in registry.machine("order").groups["PAYABLE"] if s != "closed"]),
               db.and_(Order.status == "closed", Order.close_override.is_not(None))),
        db.exists().where(Invoice.order_id == Order.id, Invoice.voided_at.is_(None), Invoice.due_on < today),
        invoiced > total(Payment.amount, Payment.order_id) + total(ReturnCredit.amount, ReturnCredit.order_id))).all()
    owed = ZERO
    for acct in accounts(candidates).values():
        owed += sum((acct.firm(item.outstanding) for item in acct.items
                     if item.outstanding > 0 and item.days_overdue(today) > 0), ZERO)
    return owed
