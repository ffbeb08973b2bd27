"""Shipments (one or several per order), their packing lists, the customer's signed receipt and
return cases."""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db_types import Money, Quantity, UTCDateTime
from ..extensions import db
from ..wallclock import utcnow

CONDITIONS = ("ok", "damaged", "missing")


class Shipment(db.Model):
    """One shipment of (part of) an order: lines, method, carrier, tracking number, ETA, cost."""

    # My work asks for the shipments being packed, oldest first.
    __table_args__ = (Index("ix_shipment_status_created_at", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(50), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"), index=True)
    method: Mapped[str] = mapped_column(String(10), default="delivery")  # delivery / pickup
    carrier: Mapped[str] = mapped_column(String(100), default="")
    tracking_no: Mapped[str] = mapped_column(String(100), default="")
    eta: Mapped[date | None] = mapped_column()
    cost: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    status: Mapped[str] = mapped_column(String(30), default="packing", index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    packed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dispatch_note: Mapped[str] = mapped_column(Text, default="")
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    order = relationship("Order", back_populates="shipments")
    created_by = relationship("User")
    lines: Mapped[list["ShipmentLine"]] = relationship(
        back_populates="shipment", order_by="ShipmentLine.id", cascade="all, delete-orphan")
    receipt: Mapped["DeliveryReceipt | None"] = relationship(back_populates="shipment", uselist=False)

    @property
    def all_checked(self) -> bool:
        """Every packing-list line is ticked off."""
        return bool(self.lines) and all(line.checked_at is not None for line in self.lines)


class ShipmentLine(db.Model):
    """A packing-list line: which order line, how many, which batch; ticked off when checked."""

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipment.id"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_line.id"), index=True)
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    batch: Mapped[str] = mapped_column(String(60), default="")
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # Taken out of stock (Product.on_hand) rather than made for the order and passed by QC.
    from_stock: Mapped[bool] = mapped_column(default=False, server_default="0")

    shipment: Mapped[Shipment] = relationship(back_populates="lines")
    order_line = relationship("OrderLine")


class DeliveryReceipt(db.Model):
    """The customer's receipt: per-line quantity and condition, name, signature (strokes and the SVG
    rendered from them on the server) or a photo of the stamped paper note."""

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipment.id"), unique=True)
    signer_name: Mapped[str] = mapped_column(String(100))
    signer_relation: Mapped[str] = mapped_column(String(100), default="")
    strokes_json: Mapped[str | None] = mapped_column(Text)
    signature_svg: Mapped[str | None] = mapped_column(Text)
    stamped_photo_id: Mapped[int | None] = mapped_column(ForeignKey("photo.id"))
    consent_text: Mapped[str] = mapped_column(Text)
    consent_version: Mapped[str] = mapped_column(String(20))
    note_json: Mapped[str] = mapped_column(Text)  # the delivery note as signed (canonical JSON)
    note_sha256: Mapped[str] = mapped_column(String(64))
    taken_on: Mapped[str] = mapped_column(String(10), default="customer")  # customer / courier phone
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ip_address: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    has_exception: Mapped[bool] = mapped_column(default=False)

    shipment: Mapped[Shipment] = relationship(back_populates="receipt")
    lines: Mapped[list["ReceiptLine"]] = relationship(back_populates="receipt", order_by="ReceiptLine.id")


class ReceiptLine(db.Model):
    """What the customer found for one packing-list line."""

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_id: Mapped[int] = mapped_column(ForeignKey("delivery_receipt.id"), index=True)
    shipment_line_id: Mapped[int] = mapped_column(ForeignKey("shipment_line.id"))
    received_qty: Mapped[Decimal] = mapped_column(Quantity)
    condition: Mapped[str] = mapped_column(String(10), default="ok")
    note: Mapped[str] = mapped_column(Text, default="")

    receipt: Mapped[DeliveryReceipt] = relationship(back_populates="lines")
    shipment_line = relationship("ShipmentLine")


class ReturnCase(db.Model):
    """A return or exchange opened by damage or a shortfall; it must start within 24 h."""

    # My work asks for the open cases whose clock runs out first.
    __table_args__ = (Index("ix_return_case_status_due_at", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipment.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open / started / closed
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    action: Mapped[str] = mapped_column(Text, default="")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    outcome: Mapped[str] = mapped_column(String(20), default="", server_default="")  # RETURN_OUTCOMES
    close_note: Mapped[str] = mapped_column(Text, default="", server_default="")

    shipment = relationship("Shipment")
    order = relationship("Order")
    closed_by = relationship("User", foreign_keys=[closed_by_id])


EVENT_KINDS = ("picked_up", "in_transit", "attempt_failed", "delivered", "other")
EVENT_SOURCES = ("courier", "staff", "carrier")
# Why a delivery attempt failed: the courier picks one (a note says more).
ATTEMPT_REASONS = ("nobody_home", "address_wrong", "refused", "closed", "phone_unanswered", "other")


class ShipmentEvent(db.Model):
    """One thing that happened to a shipment on its way (picked up, in transit, a failed delivery
    attempt with its reason, delivered), told by the courier's link, by staff or by a carrier's
    tracking service. dedupe_key makes a replayed courier post or a carrier event polled again one
    row, not two."""

    __table_args__ = (UniqueConstraint("shipment_id", "dedupe_key", name="uq_shipment_event_dedupe"),
                      Index("ix_shipment_event_shipment_occurred", "shipment_id", "occurred_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipment.id"))
    kind: Mapped[str] = mapped_column(String(20))  # EVENT_KINDS
    reason: Mapped[str] = mapped_column(String(20), default="", server_default="")  # ATTEMPT_REASONS
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the phone's or the carrier's time
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    place: Mapped[str] = mapped_column(String(200), default="", server_default="")
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    source: Mapped[str] = mapped_column(String(10))  # EVENT_SOURCES
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))  # staff who added it
    dedupe_key: Mapped[str | None] = mapped_column(String(80))

    shipment: Mapped[Shipment] = relationship()
    user = relationship("User")
