"""Packing by counted scans: cartons (with their labels' secret), each counted scan with its lot, a
supervisor's override of a mismatch, and the documents attached to a shipment."""
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db_types import Quantity, UTCDateTime
from ..extensions import db
from ..wallclock import utcnow


class Carton(db.Model):
    """A carton: made for an order with a counted content of one product and lot (its label's QR
    carries the count and lot, signed), or a shipping carton of the shipment; packed into one
    shipment at most. Weight in kg, dimensions in cm."""

    id: Mapped[int] = mapped_column(primary_key=True)
    # The secret in the label's QR (labels carry a secret, never the row id).
    token: Mapped[str] = mapped_column(String(40), unique=True)
    number: Mapped[str] = mapped_column(String(60), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("order.id"), index=True)
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipment.id"), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id"))
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("lot.id"))
    quantity: Mapped[Decimal] = mapped_column(Quantity, default=Decimal("0"))
    weight_kg: Mapped[Decimal | None] = mapped_column(Quantity)
    length_cm: Mapped[Decimal | None] = mapped_column(Quantity)
    width_cm: Mapped[Decimal | None] = mapped_column(Quantity)
    height_cm: Mapped[Decimal | None] = mapped_column(Quantity)
    contents: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    packed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    packed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    product = relationship("Product")
    lot = relationship("Lot")
    order = relationship("Order")
    shipment = relationship("Shipment")


class PackScan(db.Model):
    """One counted scan: quantity of a packing-list line, from which lot, by whom; a carton counts
    once (the unique carton_id refuses a second count even from two tablets at once)."""

    __table_args__ = (UniqueConstraint("carton_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipment.id"), index=True)
    shipment_line_id: Mapped[int] = mapped_column(ForeignKey("shipment_line.id"), index=True)
    carton_id: Mapped[int | None] = mapped_column(ForeignKey("carton.id"))
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("lot.id"))
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    kind: Mapped[str] = mapped_column(String(10), default="item")  # item / carton
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    line = relationship("ShipmentLine")
    carton = relationship("Carton")
    lot = relationship("Lot")
    user = relationship("User")


class PackingOverride(db.Model):
    """A supervisor closed a packing list that did not match what was counted, with a reason."""

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipment.id"), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    reason: Mapped[str] = mapped_column(Text)
    mismatch_json: Mapped[str] = mapped_column(Text, default="[]")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user = relationship("User")


DOCUMENT_KINDS = ("inspection_report", "material_certificate", "other")


class ShipmentDocument(db.Model):
    """A document that goes with a shipment (an inspection report, a material certificate 材质证明):
    a PDF kept as it is after its type was checked, or an image re-encoded without EXIF."""

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipment.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(200), default="")
    filename: Mapped[str] = mapped_column(String(200))
    stored_name: Mapped[str] = mapped_column(String(100))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(default=0)
    sha256: Mapped[str] = mapped_column(String(64))
    # Shown to the customer on their pages (an internal note is not).
    customer_visible: Mapped[bool] = mapped_column(default=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    uploaded_by = relationship("User")
