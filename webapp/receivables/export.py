"""The bookkeeper's accounting export (凭证导出) for 金蝶 / 用友: a month's vouchers (凭证) in the
columns of 金蝶 KIS/K3's voucher import, one row per entry (分录), as CSV (UTF-8 with BOM) or XLSX.
docs/accounting_export.md documents each column and each kind of voucher.

Vouchers, numbered 1, 2, ... in the month by date (记字):
- an invoice: Dr 应收账款 / Cr 主营业务收入 + Cr 应交税费-应交增值税（销项税额）; where the order was
  paid ahead (预收账款 holds money for it), the same voucher offsets it: Dr 预收账款 / Cr 应收账款;
- a receipt: Dr 银行存款 / Cr 应收账款, and Cr 预收账款 for what exceeds the order's receivable
  on that day (a deposit before any invoice);
- a return credit: Dr 主营业务收入 + Dr 销项税额 / Cr 应收账款 (Cr 预收账款 beyond the receivable);
- cost of goods of each shipment dispatched in the month: Dr 主营业务成本 / Cr 库存商品, at the
  stock ledger's values of what the shipment took out of stock (the moving average when it moved).

Amounts are in the firm's currency at the order's exchange rate; a foreign-currency order's entries
also carry its currency, the rate and the amount in that currency (原币金额)."""
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from flask import current_app

from ..db_types import money
from ..extensions import db
from ..firm import get_settings
from ..i18n import day_bounds, local_date
from ..orders import Order, Payment
from ..shipping import ReturnCredit, Shipment
from ..stock import StockMove
from .models import Invoice
from .settlement import in_firm_currency

ZERO = Decimal("0")
# The firm's chart of accounts (科目代码, 科目名称) for each role, as 金蝶 / 用友's standard charts
# (企业会计准则) number them. A firm whose chart differs sets ACCOUNTING_ACCOUNTS in instance/config.py
# (e.g. {"bank": ("100201", "银行存款-工行")}): see docs/accounting_export.md.
DEFAULT_ACCOUNTS = {
    "receivable": ("1122", "应收账款"),
    "revenue": ("6001", "主营业务收入"),
    "output_vat": ("22210106", "应交税费-应交增值税（销项税额）"),
    "bank": ("1002", "银行存款"),
    "advance": ("2203", "预收账款"),
    "cogs": ("6401", "主营业务成本"),
    "inventory": ("1405", "库存商品"),
}
VOUCHER_WORD = "记"
HEADERS = ("凭证日期", "凭证字", "凭证号", "摘要", "科目代码", "科目名称", "借方金额", "贷方金额",
           "辅助核算", "币别", "汇率", "原币金额")
# A day's vouchers in this order: what was billed before what paid it.
KIND_ORDER = {"invoice": 0, "receipt": 1, "credit": 2, "void": 3, "cogs": 4}
# Accounts that carry the customer as auxiliary accounting (辅助核算: 客户).
CUSTOMER_ACCOUNTS = ("receivable", "advance")


def accounts() -> dict[str, tuple[str, str]]:
    """The chart: the defaults, with what the firm set in ACCOUNTING_ACCOUNTS over them."""
    chart = dict(DEFAULT_ACCOUNTS)
    for role, value in (current_app.config.get("ACCOUNTING_ACCOUNTS") or {}).items():
        if role in chart:
            chart[role] = (str(value[0]), str(value[1]))
    return chart


@dataclass
class Entry:
    """One line of a voucher (分录): an account debited or credited, in the firm's currency, and
    the original currency's amount for a foreign-currency order."""

    role: str
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    customer: str = ""
    currency: str = ""
    rate: Decimal = Decimal("1")
    original: Decimal = ZERO


@dataclass
class Voucher:
    """One voucher (凭证): a date, a summary and balanced entries."""

    day: date
    kind: str
    summary: str
    key: int
    entries: list[Entry] = field(default_factory=list)
    number: int = 0

    @property
    def debits(self) -> Decimal:
        """The sum of the debits."""
        return sum((e.debit for e in self.entries), ZERO)

    @property
    def credits(self) -> Decimal:
        """The sum of the credits."""
        return sum((e.credit for e in self.entries), ZERO)


def _order_label(order) -> str:
    return order.number or f"#{order.id}"


class _Ledger:
    """Per order, what 应收账款 and 预收账款 hold for it (order currency) as its records are replayed
    in date order, to split a receipt between them and to offset an advance when an invoice comes."""

    def __init__(self):
        self.receivable: dict[int, Decimal] = defaultdict(lambda: ZERO)
        self.advance: dict[int, Decimal] = defaultdict(lambda: ZERO)

    def invoice(self, order_id: int, amount: Decimal) -> Decimal:
        """Book an invoice; returns the advance it uses up."""
        self.receivable[order_id] += amount
        used = min(self.advance[order_id], self.receivable[order_id])
        used = max(used, ZERO)
        self.advance[order_id] -= used
        self.receivable[order_id] -= used
        return used

    def settle(self, order_id: int, amount: Decimal) -> tuple[Decimal, Decimal]:
        """Book money received or credited: (to the receivable, to the advance)."""
        to_receivable = min(amount, max(self.receivable[order_id], ZERO))
        self.receivable[order_id] -= to_receivable
        self.advance[order_id] += amount - to_receivable
        return to_receivable, amount - to_receivable


def _split_firm(order, parts: list[Decimal], total_original: Decimal) -> list[Decimal]:
    """Parts of an amount in the firm's currency that add up to the whole's conversion exactly (the
    last part takes the rounding)."""
    whole = in_firm_currency(order, total_original)
    out = [in_firm_currency(order, p) for p in parts[:-1]]
    out.append(whole - sum(out, ZERO))
    return out


def _money_entry(order, role: str, firm_amount: Decimal, original: Decimal, side: str, customer: str = "") -> Entry:
    firm_currency = get_settings().currency or "CNY"
    entry = Entry(role=role, customer=customer, currency=order.currency or firm_currency,
                  rate=order.exchange_rate or Decimal("1"), original=original)
    if side == "debit":
        entry.debit = firm_amount
    else:
        entry.credit = firm_amount
    return entry


def _reversal(day, kind, row_id, summary, order, amount, tax, split, customer) -> Voucher:
    """Revenue and tax reversed (Dr), the receivable and then the advance credited as the ledger
    split them: a return credit's voucher, and a voided invoice's (红冲)."""
    to_receivable, to_advance = split
    excl_firm, tax_firm = _split_firm(order, [amount - tax, tax], amount)
    receivable_firm, advance_firm = _split_firm(order, [to_receivable, to_advance], amount)
    voucher = Voucher(day, kind, summary, row_id)
    voucher.entries = [_money_entry(order, "revenue", excl_firm, amount - tax, "debit"),
                       _money_entry(order, "output_vat", tax_firm, tax, "debit")]
    if to_receivable > 0:
        voucher.entries.append(_money_entry(order, "receivable", receivable_firm, to_receivable, "credit", customer))
    if to_advance > 0:
        voucher.entries.append(_money_entry(order, "advance", advance_firm, to_advance, "credit", customer))
    return voucher


def vouchers(first: date, last: date) -> list[Voucher]:
    """The vouchers of the days first to last (the firm's dates), numbered from 1."""
    start, end = day_bounds(first, last)
    events = []  # (day, kind, id, row): every record up to the end, to replay the ledgers
    # A voided invoice keeps its voucher in the month it was issued in; a red-letter voucher (红冲)
    # reverses it on the day it was voided, so a month already exported never changes.
    for invoice in db.session.scalars(db.select(Invoice).where(Invoice.issued_on <= last)):
        events.append((invoice.issued_on, "invoice", invoice.id, invoice))
        if invoice.voided_at is not None and invoice.voided_at < end:
            events.append((local_date(invoice.voided_at), "void", invoice.id, invoice))
    for payment in db.session.scalars(db.select(Payment).where(Payment.received_on <= last)):
        events.append((payment.received_on, "receipt", payment.id, payment))
    for credit in db.session.scalars(db.select(ReturnCredit).where(ReturnCredit.created_at < end)):
        events.append((local_date(credit.created_at), "credit", credit.id, credit))
    order_ids = {row.order_id for _d, _k, _i, row in events}
    orders = {o.id: o for o in db.session.scalars(db.select(Order).where(Order.id.in_(order_ids)))} if order_ids else {}
    events.sort(key=lambda e: (e[0], KIND_ORDER[e[1]], e[2]))
    ledger = _Ledger()
    out: list[Voucher] = []
    for day, kind, row_id, row in events:
        order = orders[row.order_id]
        customer = order.customer.name
        label = _order_label(order)
        if kind == "invoice":
            used = ledger.invoice(order.id, row.amount)
            if day < first:
                continue
            excl, tax = row.amount - row.tax_amount, row.tax_amount
            total_firm = in_firm_currency(order, row.amount)
            excl_firm, tax_firm = _split_firm(order, [excl, tax], row.amount)
            voucher = Voucher(day, kind, f"开票 {row.number} {customer} 订单{label}", row_id)
            voucher.entries = [_money_entry(order, "receivable", total_firm, row.amount, "debit", customer),
                               _money_entry(order, "revenue", excl_firm, excl, "credit"),
                               _money_entry(order, "output_vat", tax_firm, tax, "credit")]
            if used > 0:
                used_firm = in_firm_currency(order, used)
                voucher.entries += [_money_entry(order, "advance", used_firm, used, "debit", customer),
                                    _money_entry(order, "receivable", used_firm, used, "credit", customer)]
            out.append(voucher)
        elif kind == "receipt":
            to_receivable, to_advance = ledger.settle(order.id, row.amount)
            if day < first:
                continue
            word = "预收" if row.kind == "deposit" else "收款"
            reference = f" {row.reference}" if row.reference else ""
            voucher = Voucher(day, kind, f"{word} {customer} 订单{label}{reference}", row_id)
            receivable_firm, advance_firm = _split_firm(order, [to_receivable, to_advance], row.amount)
            voucher.entries = [_money_entry(order, "bank", in_firm_currency(order, row.amount), row.amount, "debit")]
            if to_receivable > 0:
                voucher.entries.append(_money_entry(order, "receivable", receivable_firm, to_receivable, "credit", customer))
            if to_advance > 0:
                voucher.entries.append(_money_entry(order, "advance", advance_firm, to_advance, "credit", customer))
            out.append(voucher)
        elif kind == "void":  # the invoice reversed: revenue and tax back, the receivable (or advance) down
            split = ledger.settle(order.id, row.amount)
            if day >= first:
                out.append(_reversal(day, kind, row_id, f"红冲 {row.number} {customer} 订单{label}", order,
                                     row.amount, row.tax_amount, split, customer))
        else:  # a return credit: the tax part at the order's VAT rate
            split = ledger.settle(order.id, row.amount)
            if day >= first:
                rate = order.tax_rate or ZERO
                tax = money(row.amount * rate / (Decimal("100") + rate))
                out.append(_reversal(day, kind, row_id, f"退货折让 {customer} 订单{label}", order, row.amount, tax,
                                     split, customer))
    out += _cost_of_goods(start, end)
    out.sort(key=lambda v: (v.day, KIND_ORDER[v.kind], v.key))
    for number, voucher in enumerate(out, start=1):
        voucher.number = number
    return out


def _cost_of_goods(start, end) -> list[Voucher]:
    """A voucher per shipment dispatched between start and end (UTC instants): what its ship
    movements took out of stock at the ledger's values (a shipment without stock movements, or of
    customer-supplied goods valued at 0, has none)."""
    shipments = db.session.scalars(db.select(Shipment).where(
        Shipment.dispatched_at >= start, Shipment.dispatched_at < end).order_by(Shipment.id)).all()
    if not shipments:
        return []
    values = dict(db.session.execute(db.select(StockMove.doc_id, db.func.sum(StockMove.value)).where(
        StockMove.doc_type == "shipment", StockMove.kind == "ship",
        StockMove.doc_id.in_([s.id for s in shipments])).group_by(StockMove.doc_id)).all())
    firm_currency = get_settings().currency or "CNY"
    out = []
    for shipment in shipments:
        value = -Decimal(values.get(shipment.id) or 0)  # outward movements are negative
        if value <= 0:
            continue
        order = shipment.order
        voucher = Voucher(local_date(shipment.dispatched_at), "cogs",
                          f"结转成本 发货单{shipment.number} 订单{_order_label(order)}", shipment.id)
        voucher.entries = [Entry("cogs", debit=value, currency=firm_currency, original=value),
                           Entry("inventory", credit=value, currency=firm_currency, original=value)]
        out.append(voucher)
    return out


def rows(voucher_list: list[Voucher]) -> list[list]:
    """The table: one row per entry, the voucher's date, word, number and summary on each."""
    chart = accounts()
    out = []
    for voucher in voucher_list:
        for entry in voucher.entries:
            code, name = chart[entry.role]
            out.append([voucher.day, VOUCHER_WORD, voucher.number, voucher.summary, code, name,
                        entry.debit if entry.debit else ZERO, entry.credit if entry.credit else ZERO,
                        entry.customer, entry.currency, entry.rate.normalize() if entry.rate else Decimal("1"),
                        entry.original])
    return out


def csv_rows(voucher_list: list[Voucher]) -> list[list]:
    """The rows as the CSV writes them: money with two decimals, the rate without an exponent."""
    return [[*row[:6], f"{row[6]:.2f}", f"{row[7]:.2f}", row[8], row[9], f"{row[10]:f}", f"{row[11]:.2f}"]
            for row in rows(voucher_list)]


def xlsx_bytes(voucher_list: list[Voucher]) -> bytes:
    """The vouchers as one XLSX sheet, the header on its first row (as the import reads it)."""
    from .. import spreadsheets
    return spreadsheets.workbook("凭证", HEADERS, rows(voucher_list),
                                 number_formats={6: spreadsheets.MONEY_FORMAT, 7: spreadsheets.MONEY_FORMAT,
                                                 10: "0.######", 11: spreadsheets.MONEY_FORMAT})


def file_name(first: date, last: date, extension: str) -> str:
    """凭证-<YYYYMM>.csv / .xlsx."""
    whole = first.day == 1 and (first.year, first.month) == (last.year, last.month)
    period = first.strftime("%Y%m") if whole else f"{first.isoformat()}_{last.isoformat()}"
    return f"凭证-{period}.{extension}"
