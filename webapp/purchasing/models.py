"""Suppliers, purchase requests and purchase orders (with what has been received against each line)."""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db_types import Fine, UTCDateTime
from ..extensions import db
from ..wallclock import utcnow


class Supplier(db.Model):
    """Someone the firm buys from."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    contact: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    lead_days: Mapped[int] = mapped_column(default=7)
    is_demo: Mapped[bool] = mapped_column(default=False)


REQUEST_STATES = ("open", "ordered", "cancelled")


class PurchaseRequest(db.Model):
    """A need to buy: a shortage found for a work order (need − available), or typed by hand."""

    __table_args__ = (Index("ix_purchase_request_status_needed_by", "status", "needed_by"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    material_id: Mapped[int] = mapped_column(ForeignKey("material.id"), index=True)
    quantity: Mapped[Decimal] = mapped_column(Fine)  # in the material's stock unit
    needed_by: Mapped[date | None] = mapped_column()
    work_order_id: Mapped[int | None] = mapped_column(ForeignKey("work_order.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="open")
    note: Mapped[str] = mapped_column(Text, default="")
    purchase_order_line_id: Mapped[int | None] = mapped_column(ForeignKey("purchase_order_line.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    material = relationship("Material")
    created_by = relationship("User")


PO_STATES = ("draft", "sent", "partial", "received", "cancelled")


class PurchaseOrder(db.Model):
    """An order to a supplier with its expected date; receipts against its lines add stock."""

    __table_args__ = (Index("ix_purchase_order_status_expected", "status", "expected_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("supplier.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="draft")
    expected_date: Mapped[date | None] = mapped_column()
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last time the purchaser was told it is late (told once a day at most).
    late_told_on: Mapped[date | None] = mapped_column()

    supplier: Mapped[Supplier] = relationship()
    created_by = relationship("User")
    lines: Mapped[list["PurchaseOrderLine"]] = relationship(back_populates="purchase_order",
                                                            order_by="PurchaseOrderLine.position",
                                                            cascade="all, delete-orphan")

    @property
    def open(self) -> bool:
        """Sent and not wholly received (what availability counts as coming)."""
        return self.status in ("sent", "partial")

    def late(self, today: date) -> bool:
        """Open past its expected date."""
        return self.open and self.expected_date is not None and self.expected_date < today


class PurchaseOrderLine(db.Model):
    """A material, a quantity and a price in the material's purchase unit; received so far."""

    id: Mapped[int] = mapped_column(primary_key=True)
    purchase_order_id: Mapped[int] = mapped_column(ForeignKey("purchase_order.id"), index=True)
    position: Mapped[int] = mapped_column(default=1)
    material_id: Mapped[int] = mapped_column(ForeignKey("material.id"), index=True)
    quantity: Mapped[Decimal] = mapped_column(Fine)
    unit_price: Mapped[Decimal] = mapped_column(Fine, default=Decimal("0"))
    received: Mapped[Decimal] = mapped_column(Fine, default=Decimal("0"))

    purchase_order: Mapped[PurchaseOrder] = relationship(back_populates="lines")
    material = relationship("Material")

    @property
    def outstanding(self) -> Decimal:
        """Still to receive, in the purchase unit."""
        return max(self.quantity - self.received, Decimal("0"))
