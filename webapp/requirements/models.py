"""Customer requirement records (客户需求记录表), their rounds with the customer and attachments."""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db_types import Money, Quantity, UTCDateTime
from ..extensions import db
from ..wallclock import utcnow

PRIORITIES = ("urgent", "regular", "long_term")
# Fields the customer sees and confirms; a confirmed record freezes them.
RECORD_FIELDS = (
    "contact_name", "contact_phone", "product", "customer_part_no", "drawing_rev", "specs", "quality_standard", "quantity", "unit",
    "expected_date", "budget_min", "budget_max", "special_requirements", "priority",
)


class Requirement(db.Model):
    """One customer requirement record."""

    # My work asks for the longest untouched records of a status; the list pages newest first.
    __table_args__ = (Index("ix_requirement_status_updated_at", "status", "updated_at"),
                      Index("ix_requirement_status_created_at", "status", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    contact_name: Mapped[str] = mapped_column(String(100), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    contact_email: Mapped[str] = mapped_column(String(200), default="")
    product: Mapped[str] = mapped_column(String(200))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id"))
    # The customer's own part number and the drawing revision they ask for: both go into the order line.
    customer_part_no: Mapped[str] = mapped_column(String(60), default="", server_default="")
    drawing_rev: Mapped[str] = mapped_column(String(20), default="", server_default="")
    specs: Mapped[str] = mapped_column(Text, default="")
    quality_standard: Mapped[str] = mapped_column(Text, default="")
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    unit: Mapped[str] = mapped_column(String(20), default="pcs")
    expected_date: Mapped[date | None] = mapped_column()
    budget_min: Mapped[Decimal | None] = mapped_column(Money)
    budget_max: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    special_requirements: Mapped[str] = mapped_column(Text, default="")
    priority: Mapped[str] = mapped_column(String(10), default="regular")
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    sales_rep_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    # The KPI dashboard reads the records taken down in its periods (whatever their status).
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    customer = relationship("Customer")
    sales_rep = relationship("User")
    rounds: Mapped[list["RequirementRound"]] = relationship(
        back_populates="requirement", order_by="RequirementRound.number")
    attachments: Mapped[list["Attachment"]] = relationship(
        back_populates="requirement", order_by="(Attachment.title, Attachment.revision.desc())")

    def record(self) -> dict:
        """The customer-visible fields as JSON-ready data (what each round freezes)."""
        return {f: (str(getattr(self, f)) if getattr(self, f) is not None else None)
                for f in RECORD_FIELDS}

    @property
    def current_round(self) -> "RequirementRound | None":
        """The latest round sent to the customer."""
        return self.rounds[-1] if self.rounds else None

    @property
    def is_frozen(self) -> bool:
        """A confirmed record can no longer change."""
        return self.status == "confirmed"


class RequirementRound(db.Model):
    """One sending of the record to the customer and the customer's answer to it."""

    __table_args__ = (UniqueConstraint("requirement_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    requirement_id: Mapped[int] = mapped_column(ForeignKey("requirement.id"))
    number: Mapped[int] = mapped_column()
    snapshot: Mapped[str] = mapped_column(Text)  # JSON of record() as sent
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    response: Mapped[str | None] = mapped_column(String(20))  # confirmed / clarification
    comment: Mapped[str | None] = mapped_column(Text)
    responder_name: Mapped[str | None] = mapped_column(String(100))
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    requirement: Mapped[Requirement] = relationship(back_populates="rounds")
    sent_by = relationship("User")


class Attachment(db.Model):
    """A drawing or document for a requirement; a new upload under the same title is a new revision."""

    id: Mapped[int] = mapped_column(primary_key=True)
    requirement_id: Mapped[int] = mapped_column(ForeignKey("requirement.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    revision: Mapped[int] = mapped_column(default=1)
    filename: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(100), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    requirement: Mapped[Requirement] = relationship(back_populates="attachments")
    uploaded_by = relationship("User")
