"""Invoices and payments received: for who may see receivables (finance, the manager, the admin and the
roles the firm allows), as the receivables pages settle them; payments recorded as finance records
them on the order page."""
from decimal import Decimal

from flask import jsonify
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy.orm import joinedload

from ...extensions import db
from ...i18n import firm_today
from ...loading import load
from ...orders import PAYMENT_KIND_LABELS, Order, Payment, record_payment, scope_orders
from ...permissions import require
from ...receivables import Invoice, PaymentMatch, accounts
from ..core import ListQuery, operation, page_of, sort_field
from ..schemas import Day, DecimalString, Money, Stamp

ID = validate.Range(1, 2**31 - 1)
ZERO = Decimal("0")
INVOICE_STATES = ("open", "settled", "voided")


# --- invoices ------------------------------------------------------------------------------------

class InvoiceOut(Schema):
    """An invoice (发票) recorded against an order, with what is still owed on it as the receivables
    pages settle it (matched payments, then unmatched receipts and credits, oldest due first)."""

    id = fields.Integer(required=True)
    number = fields.String(required=True, metadata={"description": "The number the tax system printed (发票号码)."})
    kind = fields.String(metadata={"description": "ordinary (普通发票) or vat_special (增值税专用发票)."})
    order_id = fields.Integer(required=True)
    customer_id = fields.Integer(attribute="order.customer_id")
    shipment_id = fields.Integer(allow_none=True)
    milestone = fields.String()
    currency = fields.String(attribute="order.currency")
    issued_on = Day()
    due_on = Day()
    tax_rate = DecimalString()
    amount = Money(metadata={"description": "Including tax."})
    tax_amount = Money()
    status = fields.Method("state", metadata={"type": "string", "description": "open (something owed), settled or voided (红冲)."})
    outstanding = fields.Method("owed", metadata={"type": "string", "format": "decimal", "description": "What is still owed (decimal string)."})
    days_overdue = fields.Method("late", metadata={"type": "integer", "description": "Days past due today (0 when not overdue)."})
    note = fields.String()
    voided_at = Stamp(allow_none=True)
    void_reason = fields.String()
    recorded_at = Stamp()

    def __init__(self, *args, items: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.items = items or {}  # the open items of the invoices dumped (receivables' settlement)

    def _item(self, invoice):
        return self.items.get(invoice.id)

    def owed(self, invoice) -> str:
        """The outstanding amount (zero when voided)."""
        item = self._item(invoice)
        return f"{(item.outstanding if item else ZERO):.2f}"

    def state(self, invoice) -> str:
        """open, settled or voided."""
        if invoice.voided_at is not None:
            return "voided"
        item = self._item(invoice)
        return "open" if item and item.outstanding > 0 else "settled"

    def late(self, invoice) -> int:
        """Days past due of an invoice with something owed."""
        item = self._item(invoice)
        if item is None or item.outstanding <= 0:
            return 0
        return max(item.days_overdue(firm_today()), 0)


def _open_items(invoices) -> dict:
    """Each live invoice's open item, settled over its order's whole account (receivables' own settlement)."""
    settled = accounts({invoice.order_id for invoice in invoices})
    return {item.invoice.id: item for acct in settled.values() for item in acct.items}


class InvoiceQuery(ListQuery):
    """Filters of the invoice list."""

    status = fields.String(validate=validate.OneOf(INVOICE_STATES))
    customer_id = fields.Integer(validate=ID)
    order_id = fields.Integer(validate=ID)
    overdue = fields.Boolean(metadata={"description": "true: only invoices past due with something owed; "
                                                      "false: only the others."})
    sort = sort_field(["issued_on", "due_on", "id"])


@operation("GET", "/invoices", tag="Money", summary="List invoices", query=InvoiceQuery, response=InvoiceOut,
           many=True)
def list_invoices(query):
    """The invoices of the orders the token's owner may see, latest issued first unless sorted otherwise."""
    require("receivables.view")
    base = (db.select(Invoice).join(Order, Order.id == Invoice.order_id)
            .where(scope_orders(current_user, Invoice.order_id)))
    if query.get("customer_id") is not None:
        base = base.where(Order.customer_id == query["customer_id"])
    if query.get("order_id") is not None:
        base = base.where(Invoice.order_id == query["order_id"])
    status, overdue = query.get("status"), query.get("overdue")
    if status == "voided":
        base = base.where(Invoice.voided_at.is_not(None))
    elif status is not None or overdue is not None:
        # Owed and overdue are what the settlement says: read it for the candidates' orders.
        live = db.session.scalars(base.where(Invoice.voided_at.is_(None))).all()
        items = _open_items(live)
        today = firm_today()
        chosen = []
        for invoice in live:
            item = items.get(invoice.id)
            owed = item is not None and item.outstanding > 0
            if status == "open" and not owed or status == "settled" and owed:
                continue
            if overdue is not None and (owed and item.days_overdue(today) > 0) != overdue:
                continue
            chosen.append(invoice.id)
        if overdue is False and status is None:
            base = base.where(db.or_(Invoice.id.in_(chosen), Invoice.voided_at.is_not(None)))
        else:
            base = base.where(Invoice.id.in_(chosen))
    base = base.options(joinedload(Invoice.order))
    query.setdefault("sort", "-issued_on")
    page = page_of(base, Invoice, {"issued_on": Invoice.issued_on, "due_on": Invoice.due_on, "id": Invoice.id},
                   query)
    items = _open_items([invoice for invoice in page.rows if invoice.voided_at is None])
    return jsonify({"data": InvoiceOut(many=True, items=items).dump(page.rows), "next_cursor": page.next_cursor})


@operation("GET", "/invoices/<int:invoice_id>", tag="Money", summary="Get an invoice", response=InvoiceOut)
def get_invoice(invoice_id: int):
    """One invoice with what is still owed on it."""
    invoice = load(Invoice, invoice_id, "receivables.view", options=(joinedload(Invoice.order),))
    return jsonify(InvoiceOut(items=_open_items([invoice] if invoice.voided_at is None else [])).dump(invoice))


# --- payments ------------------------------------------------------------------------------------

class PaymentOut(Schema):
    """Money received for an order: a deposit or a later receipt, and how much of it finance matched to invoices."""

    id = fields.Integer(required=True)
    order_id = fields.Integer(required=True)
    customer_id = fields.Integer(attribute="order.customer_id")
    kind = fields.String(metadata={"description": "deposit or receipt."})
    amount = Money()
    currency = fields.String(attribute="order.currency")
    received_on = Day()
    reference = fields.String()
    matched = fields.Method("matched_amount", metadata={"type": "string", "format": "decimal", "description": "Matched to invoices (decimal string)."})
    recorded_by_id = fields.Integer()
    recorded_at = Stamp()

    def __init__(self, *args, matched: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.matched = matched  # payment id -> matched amount, read for a whole page at once

    def matched_amount(self, payment) -> str:
        """What of the payment finance matched to invoices."""
        if self.matched is None:
            self.matched = _matched_of([payment.id])
        return f"{self.matched.get(payment.id, ZERO):.2f}"


def _matched_of(payment_ids: list[int]) -> dict:
    """How much of each payment is matched to invoices (one query)."""
    if not payment_ids:
        return {}
    return dict(db.session.execute(db.select(PaymentMatch.payment_id, db.func.sum(PaymentMatch.amount))
                                   .where(PaymentMatch.payment_id.in_(payment_ids))
                                   .group_by(PaymentMatch.payment_id)).all())


class PaymentQuery(ListQuery):
    """Filters of the payment list."""

    order_id = fields.Integer(validate=ID)
    customer_id = fields.Integer(validate=ID)
    sort = sort_field(["received_on", "id"])


@operation("GET", "/payments", tag="Money", summary="List payments received", query=PaymentQuery,
           response=PaymentOut, many=True)
def list_payments(query):
    """The payments received for the orders the token's owner may see, latest first unless sorted otherwise."""
    require("receivables.view")
    select = (db.select(Payment).join(Order, Order.id == Payment.order_id)
              .where(scope_orders(current_user, Payment.order_id)).options(joinedload(Payment.order)))
    if query.get("order_id") is not None:
        select = select.where(Payment.order_id == query["order_id"])
    if query.get("customer_id") is not None:
        select = select.where(Order.customer_id == query["customer_id"])
    query.setdefault("sort", "-received_on")
    page = page_of(select, Payment, {"received_on": Payment.received_on, "id": Payment.id}, query)
    matched = _matched_of([payment.id for payment in page.rows])
    return jsonify({"data": PaymentOut(many=True, matched=matched).dump(page.rows), "next_cursor": page.next_cursor})


def _two_places(value: Decimal) -> None:
    if value.as_tuple().exponent < -2:
        raise ValidationError(_("At most two decimal places."))


class PaymentIn(Schema):
    """A payment received for an order (as finance records it on the order page)."""

    order_id = fields.Integer(required=True, validate=ID)
    kind = fields.String(required=True, validate=validate.OneOf(list(PAYMENT_KIND_LABELS)),
                         metadata={"description": "deposit (prepayment) or receipt (a later one)."})
    amount = DecimalString(required=True, validate=[validate.Range(min=0, min_inclusive=False,
                                                                   max=Decimal("10000000000000")), _two_places],
                           metadata={"description": "In the order's currency, above zero."})
    received_on = Day(required=True)
    reference = fields.String(load_default="", validate=validate.Length(0, 100),
                              metadata={"description": "Bank slip or voucher."})


@operation("POST", "/payments", tag="Money", summary="Record a payment received", body=PaymentIn,
           response=PaymentOut, errors=(409,))
def create_payment(body):
    """Record money received for an order, as finance does on the order page (403 for other roles,
    409 when the order cannot take a payment: a draft or cancelled one)."""
    order = load(Order, body["order_id"], "payment.record")
    return record_payment(order, body["kind"], body["amount"], body["received_on"], body["reference"].strip(),
                          current_user)

