"""Customers and the product catalogue (a product's on-hand stock is taken by production.stock)."""
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db_types import Money, Percent, Quantity, UTCDateTime
from ..extensions import db
from ..wallclock import utcnow


class Customer(db.Model):
    """A customer firm; its abbreviation goes into order numbers."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    abbreviation: Mapped[str] = mapped_column(String(8), unique=True)
    contact_name: Mapped[str] = mapped_column(String(100), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    contact_email: Mapped[str] = mapped_column(String(200), default="")
    contact_wechat: Mapped[str] = mapped_column(String(60), default="", server_default="")
    address: Mapped[str] = mapped_column(Text, default="")
    locale: Mapped[str] = mapped_column(String(10), default="zh")
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    prepayment_pct: Mapped[Decimal] = mapped_column(Percent, default=Decimal("30"))
    credit_days: Mapped[int] = mapped_column(default=30)
    # How credit days count: "net" from the invoice date, or "month_end" (月结 N 天: from the month's end).
    credit_basis: Mapped[str] = mapped_column(String(10), default="net", server_default="net")
    quality_standard: Mapped[str] = mapped_column(Text, default="")
    # What a Chinese invoice (发票) needs: 税号 (unified social credit code), 发票抬头, 开户银行, 银行账号.
    tax_id: Mapped[str] = mapped_column(String(20), default="", server_default="")
    invoice_title: Mapped[str] = mapped_column(String(200), default="", server_default="")
    bank_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    bank_account: Mapped[str] = mapped_column(String(40), default="", server_default="")
    # The sales rep who owns the customer (whoever created it, unless reassigned): with the firm's
    # setting sales_own_customers_only, a sales rep sees only their own customers and their orders.
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    is_demo: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    owner = relationship("User")


class Product(db.Model):
    """Something the firm makes or sells, with its on-hand stock (库存)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    model: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(20), default="pcs")
    # The maker's barcode on the product (EAN-13, Code 128, ...), read by the packing scanner.
    barcode: Mapped[str | None] = mapped_column(String(60), unique=True)
    list_price: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    on_hand: Mapped[Decimal] = mapped_column(Quantity, default=Decimal("0"))
    is_demo: Mapped[bool] = mapped_column(default=False)
