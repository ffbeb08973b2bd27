"""Invoices (发票) recorded against an order, payments matched to them, monthly statements (对账单)
confirmed by the customer, reminders sent, and finance's releases of a shipping hold (款到发货)."""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db_types import Money, Percent, UTCDateTime
from ..extensions import db
from ..wallclock import utcnow

# 普通发票 / 增值税专用发票: the firm's tax system issues them; the app records them.
INVOICE_KINDS = ("ordinary", "vat_special")


class Invoice(db.Model):
    """An invoice the firm's tax system issued for an order: against a shipment, or a milestone
    (deposit, acceptance, ...) of a project or of terms paid in stages. Amounts are in the order's
    currency and include tax; the order's exchange rate brings them to the firm's currency."""

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"), index=True)
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipment.id"), index=True)
    milestone: Mapped[str] = mapped_column(String(100), default="", server_default="")
    kind: Mapped[str] = mapped_column(String(12), default="vat_special")
    # The number the tax system printed on it (发票号码), unique in the firm.
    number: Mapped[str] = mapped_column(String(40), unique=True)
    issued_on: Mapped[date] = mapped_column(index=True)
    due_on: Mapped[date] = mapped_column(index=True)
    tax_rate: Mapped[Decimal] = mapped_column(Percent)
    amount: Mapped[Decimal] = mapped_column(Money)  # including tax
    tax_amount: Mapped[Decimal] = mapped_column(Money)
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Red-letter reversal (红冲): a voided invoice no longer counts; its reason is kept.
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    void_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    order = relationship("Order")
    shipment = relationship("Shipment")
    recorded_by = relationship("User")
    matches: Mapped[list["PaymentMatch"]] = relationship(back_populates="invoice", order_by="PaymentMatch.id")

    @property
    def amount_excl(self) -> Decimal:
        """The amount without tax."""
        return self.amount - self.tax_amount


class PaymentMatch(db.Model):
    """Part (or all) of a payment applied to an invoice; a payment matches an invoice once."""

    __table_args__ = (UniqueConstraint("payment_id", "invoice_id", name="uq_payment_match_pair"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment.id"), index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    matched_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    matched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    invoice: Mapped[Invoice] = relationship(back_populates="matches")
    payment = relationship("Payment")
    matched_by = relationship("User")


# A statement's life: drafted by finance, sent on the customer's link, confirmed or disputed there.
STATEMENT_STATES = ("draft", "sent", "confirmed", "disputed")


class Statement(db.Model):
    """The monthly statement of account (对账单) of one customer: what was owed at the start of the
    month, invoiced, received and credited in it, and owed at its end, in the firm's currency; frozen
    when sent (lines_json), confirmed or disputed by the customer on their phone. A disputed
    statement is corrected by a new version of the same month."""

    __table_args__ = (UniqueConstraint("customer_id", "period", "version", name="uq_statement_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    period: Mapped[str] = mapped_column(String(7))  # YYYY-MM, the firm's time zone
    version: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(10), default="draft", index=True)
    opening: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    invoiced: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    received: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    credited: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    closing: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    lines_json: Mapped[str] = mapped_column(Text, default="[]")
    link_id: Mapped[int | None] = mapped_column(ForeignKey("access_link.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by_name: Mapped[str] = mapped_column(String(100), default="", server_default="")
    dispute_reason: Mapped[str] = mapped_column(Text, default="", server_default="")

    customer = relationship("Customer")
    link = relationship("AccessLink")
    created_by = relationship("User")


class InvoiceReminder(db.Model):
    """A reminder sent about an invoice (before due, on overdue steps): each kind is sent once."""

    __table_args__ = (UniqueConstraint("invoice_id", "kind", name="uq_invoice_reminder_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # e.g. before, overdue_1, overdue_30
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ShippingRelease(db.Model):
    """Finance lets one order ship although its customer has an overdue balance (款到发货 held it):
    who, when, why. Revoked releases stay for the record."""

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    released_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    released_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    order = relationship("Order")
    released_by = relationship("User")
