"""Shipments (one or several per order), their packing lists, the customer's signed receipt and
return cases."""
from datetime import date, datetime, time
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
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
    # Who carries it: one of the firm's carriers or its own vehicles (carrier keeps the name as text, as
    # rows from before the list have it); a replacement for a return case names the case.
    carrier_id: Mapped[int | None] = mapped_column(ForeignKey("carrier.id"), index=True)
    vehicle_id: Mapped[int | None] = mapped_column(ForeignKey("vehicle.id"))
    # (The case names its shipment too: this key is made after both tables, and lets go when a case goes.)
    return_case_id: Mapped[int | None] = mapped_column(
        ForeignKey("return_case.id", use_alter=True, ondelete="SET NULL"), index=True)

    order = relationship("Order", back_populates="shipments")
    carrier_row = relationship("Carrier")
    vehicle = relationship("Vehicle")
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
    # The KPI dashboard finds what was signed for of the order lines due in its periods.
    shipment_line_id: Mapped[int] = mapped_column(ForeignKey("shipment_line.id"), index=True)
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
    # Who answers for the case, and its current step: who does it and by when (the escalation reads them).
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    step_owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    step_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    collected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The inspection on arrival: how many came back, in what condition, what was found.
    inspected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    inspected_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    received_qty: Mapped[Decimal | None] = mapped_column(Quantity)
    received_condition: Mapped[str] = mapped_column(String(10), default="", server_default="")
    findings: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Why it was refused, in words the customer reads on their after-sales page.
    customer_reason: Mapped[str] = mapped_column(Text, default="", server_default="")

    shipment = relationship("Shipment", foreign_keys=[shipment_id])
    order = relationship("Order")
    closed_by = relationship("User", foreign_keys=[closed_by_id])
    owner = relationship("User", foreign_keys=[owner_id])
    step_owner = relationship("User", foreign_keys=[step_owner_id])
    inspected_by = relationship("User", foreign_keys=[inspected_by_id])
    replacements: Mapped[list[Shipment]] = relationship(
        foreign_keys=[Shipment.return_case_id], order_by=Shipment.id, viewonly=True)
    pickups: Mapped[list["Pickup"]] = relationship(back_populates="return_case", order_by="Pickup.id")
    credits: Mapped[list["ReturnCredit"]] = relationship(back_populates="case", order_by="ReturnCredit.id")
    costs: Mapped[list["ReturnCost"]] = relationship(back_populates="case", order_by="ReturnCost.id")


class Carrier(db.Model):
    """A carrier the firm ships with; code names its tracking adapter (SF, ZTO, JD …)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    code: Mapped[str] = mapped_column(String(20), default="", server_default="")
    phone: Mapped[str] = mapped_column(String(40), default="", server_default="")
    active: Mapped[bool] = mapped_column(default=True, server_default="1")


class Vehicle(db.Model):
    """One of the firm's own vehicles: plate, and its driver (a courier user, or a name)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    plate: Mapped[str] = mapped_column(String(20), unique=True)
    driver_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    driver_name: Mapped[str] = mapped_column(String(100), default="", server_default="")
    phone: Mapped[str] = mapped_column(String(40), default="", server_default="")
    active: Mapped[bool] = mapped_column(default=True, server_default="1")

    driver = relationship("User")

    @property
    def driver_label(self) -> str:
        """The driver's name: the courier user's, else the one typed."""
        return self.driver.name if self.driver is not None else self.driver_name


class Pickup(db.Model):
    """A pickup booked for a date and a time window: of a shipment (the goods leave), or of a return
    case's goods at the customer (collected and brought back, with its tracking number)."""

    __table_args__ = (
        CheckConstraint("(shipment_id IS NULL) <> (return_case_id IS NULL)", name="one_subject"),
        CheckConstraint("window_from < window_to", name="window_order"),
        Index("ix_pickup_done_at_on_date", "done_at", "on_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipment.id"), index=True)
    return_case_id: Mapped[int | None] = mapped_column(ForeignKey("return_case.id"), index=True)
    carrier_id: Mapped[int | None] = mapped_column(ForeignKey("carrier.id"))
    vehicle_id: Mapped[int | None] = mapped_column(ForeignKey("vehicle.id"))
    tracking_no: Mapped[str] = mapped_column(String(100), default="", server_default="")
    on_date: Mapped[date] = mapped_column()
    window_from: Mapped[time] = mapped_column()
    window_to: Mapped[time] = mapped_column()
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    booked_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    booked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    shipment = relationship("Shipment")
    return_case = relationship("ReturnCase", back_populates="pickups")
    carrier = relationship("Carrier")
    vehicle = relationship("Vehicle")
    booked_by = relationship("User")


class ReturnCredit(db.Model):
    """A credit granted to the customer on the order by a return case (the money domain nets it)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("return_case.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case = relationship("ReturnCase", back_populates="credits")
    created_by = relationship("User")


COST_KINDS = ("freight", "scrap", "rework")


class ReturnCost(db.Model):
    """What a return case cost the firm: freight, scrap or rework, an amount and a note."""

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("return_case.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    amount: Mapped[Decimal] = mapped_column(Money)
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case = relationship("ReturnCase", back_populates="costs")
    created_by = relationship("User")


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
