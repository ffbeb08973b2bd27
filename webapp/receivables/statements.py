"""Monthly statements of account (对账单): what one customer owed at the start of a month, each
invoice, receipt and return credit of the month, and what they owed at its end, in the firm's
currency; drafted by finance, frozen and sent on a customer link, confirmed or disputed once by the
customer on their phone, corrected by a new version of the same month.

The month is the firm's: invoices and receipts carry the firm's local dates (issued_on, received_on);
a return credit counts on the local date of its created_at (granted 23:30 on the 31st in Shanghai is
that month's, although it is already the 31st 15:30 in UTC)."""
import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from .. import links, spreadsheets
from ..customers import Customer
from ..extensions import db
from ..i18n import day_bounds, local_date
from ..notify import Notice, Recipient, message, notify
from ..orders import Order, Payment
from ..shipping import ReturnCredit
from ..statemachine import N_, TransitionError
from ..wallclock import utcnow
from ..workflow import transition
from . import lifecycle
from .models import Invoice, Statement
from .settlement import in_firm_currency

ZERO = Decimal("0")
PURPOSE = "statement"
# How long the customer's statement link works: a month to find the time to check it.
LINK_DAYS = 30
# The kinds of lines, in the order a day's lines are listed (an invoice before the receipt paying it).
LINE_KINDS = ("invoice", "receipt", "credit", "void")
STATUS_WORDS = lifecycle.STATE_LABELS
LINE_WORDS = {"invoice": N_("Invoice"), "receipt": N_("Payment received"), "credit": N_("Return credit"),
              "void": N_("Invoice voided (红冲)")}
PeriodError = spreadsheets.PeriodError  # a month that is not YYYY-MM (the message is translated)


def parse_period(raw: str) -> str:
    """A month typed as YYYY-MM (full-width digits accepted, from 2000), normalised to "2026-11"."""
    first, _last = spreadsheets.month_bounds(raw, earliest_year=2000)
    return first.strftime("%Y-%m")


def month_days(period: str) -> tuple[date, date]:
    """The first and last day of a YYYY-MM month."""
    return spreadsheets.month_bounds(period)


@dataclass
class Computed:
    """A statement's figures as they stand: opening, the month's lines, closing (firm's currency)."""

    opening: Decimal = ZERO
    invoiced: Decimal = ZERO
    received: Decimal = ZERO
    credited: Decimal = ZERO
    lines: list[dict] = field(default_factory=list)

    @property
    def closing(self) -> Decimal:
        """What the customer owes at the month's end (negative: paid ahead)."""
        return self.opening + self.invoiced - self.received - self.credited


def compute(customer_id: int, period: str) -> Computed:
    """The customer's statement of a month from the records: each amount in the firm's currency at
    its order's exchange rate, line by line (so opening + lines = closing to the fen)."""
    first, last = month_days(period)
    _start, end = day_bounds(first, last)
    orders = {o.id: o for o in db.session.scalars(db.select(Order).where(
        Order.customer_id == customer_id, Order.status.notin_(("draft", "cancelled"))))}
    out = Computed()
    if not orders:
        return out
    ids = list(orders)
    rows = []  # (day, kind, id, order, amount in the order's currency, reference)
    # A voided invoice stays in the month it was issued in and is reversed in the month it was voided
    # (红冲): a month already confirmed keeps its closing, and the next month's opening follows it.
    for invoice in db.session.scalars(db.select(Invoice).where(
            Invoice.order_id.in_(ids), Invoice.issued_on <= last)):
        rows.append((invoice.issued_on, "invoice", invoice.id, orders[invoice.order_id], invoice.amount,
                     invoice.number))
        if invoice.voided_at is not None and invoice.voided_at < end:
            rows.append((local_date(invoice.voided_at), "void", invoice.id, orders[invoice.order_id],
                         invoice.amount, invoice.number))
    for payment in db.session.scalars(db.select(Payment).where(
            Payment.order_id.in_(ids), Payment.received_on <= last)):
        rows.append((payment.received_on, "receipt", payment.id, orders[payment.order_id], payment.amount,
                     payment.reference))
    for credit in db.session.scalars(db.select(ReturnCredit).where(
            ReturnCredit.order_id.in_(ids), ReturnCredit.created_at < end)):
        day = local_date(credit.created_at)
        rows.append((day, "credit", credit.id, orders[credit.order_id], credit.amount, credit.note[:60]))
    rows.sort(key=lambda r: (r[0], LINE_KINDS.index(r[1]), r[2]))
    sign = {"invoice": 1, "receipt": -1, "credit": -1, "void": -1}
    for day, kind, row_id, order, amount, reference in rows:
        firm = in_firm_currency(order, amount)
        if day < first:
            out.opening += sign[kind] * firm
            continue
        if kind == "invoice":
            out.invoiced += firm
        elif kind == "void":  # the month's invoicing, net of what was voided in it
            out.invoiced -= firm
        elif kind == "receipt":
            out.received += firm
        else:
            out.credited += firm
        out.lines.append({"date": day.isoformat(), "kind": kind, "id": row_id, "order": order.number or f"#{order.id}",
                          "reference": reference or "", "currency": order.currency, "original": str(amount),
                          "rate": str(order.exchange_rate), "amount": str(firm)})
    return out


def _fill(statement: Statement, figures: Computed) -> None:
    statement.opening, statement.invoiced = figures.opening, figures.invoiced
    statement.received, statement.credited, statement.closing = figures.received, figures.credited, figures.closing
    statement.lines_json = json.dumps(figures.lines, ensure_ascii=False)


def latest(customer_id: int, period: str) -> Statement | None:
    """The newest version of a customer's statement of a month."""
    return db.session.scalars(db.select(Statement).where(
        Statement.customer_id == customer_id, Statement.period == period)
        .order_by(Statement.version.desc()).limit(1)).first()


def draft(customer: Customer, period: str, user) -> Statement:
    """Draft (or refresh the draft of) the customer's statement of a month. A disputed statement is
    corrected by a new version; a sent one waits for its answer and a confirmed one is final (409)."""
    current = latest(customer.id, period)
    if current is not None and current.status == "draft":
        _fill(current, compute(customer.id, period))
        return current
    if current is not None and current.status == "sent":
        raise TransitionError(409, N_("This month's statement was sent and waits for the customer's answer."))
    if current is not None and current.status == "confirmed":
        raise TransitionError(409, N_("The customer confirmed this month's statement; it is final."))
    statement = Statement(customer_id=customer.id, period=period, version=(current.version + 1) if current else 1,
                          status="draft", created_by_id=user.id)
    _fill(statement, compute(customer.id, period))
    try:
        with db.session.begin_nested():
            db.session.add(statement)
            db.session.flush()
    except IntegrityError:  # someone drafted the same version a moment ago
        raise TransitionError(409, N_("Someone else drafted this statement at the same time; reload the page.")) \
            from None
    if current is not None:  # the disputed version's link stops working: the new one replaces it
        links.revoke_all(PURPOSE, current.id)
    return statement


def customer_recipient(customer: Customer) -> Recipient:
    """The customer's contact, in the customer's language."""
    return Recipient(customer.contact_email or None, customer.locale or "zh", customer.contact_name or customer.name)


def send(statement: Statement, user) -> links.AccessLink:
    """Freeze the draft's lines as they stand now, issue the customer's link and mail it."""
    if statement.status != "draft":
        raise TransitionError(409, N_("Only a draft statement can be sent."))
    checked = lifecycle.MACHINE.check(statement, "send", user.roles)  # before the lines change under it
    _fill(statement, compute(statement.customer_id, statement.period))
    for older in db.session.scalars(db.select(Statement.id).where(
            Statement.customer_id == statement.customer_id, Statement.period == statement.period,
            Statement.id != statement.id)):
        links.revoke_all(PURPOSE, older)
    link = links.issue(PURPOSE, statement.id, days=LINK_DAYS)
    statement.link_id, statement.sent_at = link.id, utcnow()
    transition(statement, lifecycle.MACHINE, "send", user, checked=checked,
               detail={"period": statement.period, "version": statement.version, "closing": str(statement.closing)})
    if statement.customer.contact_email:
        notify("statement.sent", [customer_recipient(statement.customer)], statement=statement, link=link)
    return link


def answer(statement: Statement, answer_kind: str, name: str, reason: str = "") -> None:
    """Record the customer's confirmation or dispute (the row is locked by the caller): once only;
    a second answer of either kind is refused with 409 and changes nothing."""
    if statement.status == "confirmed":
        raise TransitionError(409, N_("You already confirmed this statement. Nothing was changed."))
    if statement.status == "disputed":
        raise TransitionError(409, N_("You already disputed this statement. Nothing was changed; "
                                      "we will send you a corrected one."))
    transition(statement, lifecycle.MACHINE, "confirm" if answer_kind == "confirm" else "dispute",
               roles={"customer"}, actor_kind="link", actor_label=name, note=reason or None,
               detail={"period": statement.period, "version": statement.version})
    statement.answered_at, statement.answered_by_name = utcnow(), name
    statement.dispute_reason = reason if answer_kind == "dispute" else ""
    if statement.created_by is not None and statement.created_by.email:
        notify("statement.answered", [Recipient.user(statement.created_by)], statement=statement)


def lines(statement: Statement) -> list[dict]:
    """The statement's lines (frozen when sent), amounts as Decimals."""
    out = json.loads(statement.lines_json or "[]")
    for line in out:
        line["amount"], line["original"] = Decimal(line["amount"]), Decimal(line["original"])
        line["rate"] = Decimal(line["rate"])
        line["day"] = date.fromisoformat(line["date"])
    return out


def firm_currency() -> str:
    """The firm's currency (what every statement amount is in)."""
    from ..firm import get_settings
    return get_settings().currency or "CNY"


def file_name(statement: Statement, extension: str) -> str:
    """The download's name: 对账单-<customer>-<month>-v<version>."""
    return f"对账单-{statement.customer.abbreviation}-{statement.period}-v{statement.version}.{extension}"


def xlsx(statement: Statement) -> bytes:
    """The statement as an XLSX made to print: title rows, the lines, opening and closing rows."""
    from ..firm import get_settings
    headers = [_("Date"), _("Kind"), _("Order"), _("Reference"), _("Original amount"), _("Currency"),
               _("Exchange rate"), _("Amount (%(currency)s)", currency=firm_currency())]
    rows = [[None, _("Opening balance"), None, None, None, None, None, statement.opening]]
    for line in lines(statement):
        signed = line["amount"] if line["kind"] == "invoice" else -line["amount"]
        rows.append([line["day"], _(LINE_WORDS[line["kind"]]), line["order"], line["reference"], line["original"],
                     line["currency"], line["rate"], signed])
    rows.append([None, _("Closing balance"), None, None, None, None, None, statement.closing])
    title = [f"{get_settings().firm_name} · {_('Statement of account')}",
             f"{statement.customer.name} · {statement.period} · v{statement.version}"]
    return spreadsheets.workbook(_("Statement of account"), headers, rows, title_rows=title,
                                 number_formats={7: spreadsheets.MONEY_FORMAT, 4: spreadsheets.MONEY_FORMAT,
                                                 6: "0.######"},
                                 bold_rows=[0, len(rows) - 1], fit_to_width=True)


@message("statement.sent")
def statement_sent(statement, link) -> Notice:
    """To the customer: the month's statement to confirm or dispute."""
    from ..firm import get_settings
    return Notice(_("Statement of account %(period)s from %(firm)s", period=statement.period,
                    firm=get_settings().firm_name),
                  _("Hello,\n\nHere is your statement of account for %(period)s. Please check it and "
                    "confirm it, or tell us what is wrong:\n\n%(url)s\n", period=statement.period, url=link.url))


@message("statement.answered")
def statement_answered(statement) -> Notice:
    """To the finance clerk who drafted it: the customer's answer."""
    from flask import url_for
    words = _("confirmed") if statement.status == "confirmed" else _("disputed")
    url = links.absolute(url_for("receivables.statement_detail", statement_id=statement.id))
    return Notice(_("Statement %(period)s of %(customer)s %(answer)s by %(name)s", period=statement.period,
                    customer=statement.customer.name, answer=words, name=statement.answered_by_name),
                  (statement.dispute_reason + "\n\n" if statement.dispute_reason else "") + url)
