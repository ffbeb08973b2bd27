"""Inspection plans (items with method and limits, a sampling rule), inspections with their
measured values, and first articles the customer approves."""
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db_types import Fine, UTCDateTime
from ..extensions import db
from ..wallclock import utcnow

STAGES = ("incoming", "in_process", "final", "first_article")
SAMPLING = ("iso2859", "fixed", "all")


class InspectionPlan(db.Model):
    """What to check at one stage, for a material (incoming) or a product, maybe for one customer
    (the customer's quality standard), and how many pieces to sample."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    stage: Mapped[str] = mapped_column(String(15))
    material_id: Mapped[int | None] = mapped_column(ForeignKey("material.id"), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"), index=True)
    # iso2859: ISO 2859-1, general inspection level II, single sampling, normal, at aql (percent);
    # fixed: fixed_count pieces; all: every piece.
    sampling: Mapped[str] = mapped_column(String(10), default="iso2859")
    aql: Mapped[str] = mapped_column(String(6), default="1.0")
    fixed_count: Mapped[int] = mapped_column(default=5)
    standard: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(default=True)
    is_demo: Mapped[bool] = mapped_column(default=False)

    items: Mapped[list["PlanItem"]] = relationship(back_populates="plan", order_by="PlanItem.position",
                                                   cascade="all, delete-orphan")
    material = relationship("Material")
    product = relationship("Product")
    customer = relationship("Customer")


class PlanItem(db.Model):
    """One check: a measurement with limits, or a yes/no look."""

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("inspection_plan.id"), index=True)
    position: Mapped[int] = mapped_column(default=1)
    name: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(200), default="")
    lower: Mapped[Decimal | None] = mapped_column(Fine)
    upper: Mapped[Decimal | None] = mapped_column(Fine)
    unit: Mapped[str] = mapped_column(String(20), default="")

    plan: Mapped[InspectionPlan] = relationship(back_populates="items")

    @property
    def measured(self) -> bool:
        """Whether it takes a number (it has a limit) rather than a yes/no."""
        return self.lower is not None or self.upper is not None

    def within(self, value: Decimal) -> bool:
        """Whether value is inside the limits."""
        return ((self.lower is None or value >= self.lower) and (self.upper is None or value <= self.upper))


RESULTS = ("pending", "pass", "fail", "conditional")
DISPOSITIONS = ("rework", "scrap", "return", "use_as_is")


class Inspection(db.Model):
    """One inspection: of a received lot (incoming), a work order (in process, final) or a first
    article; its sample, result, and what happens to rejected pieces. A failure holds what it
    inspected (the lot is blocked, packing waits) until it is resolved."""

    __table_args__ = (Index("ix_inspection_result_resolved", "result", "resolved_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    stage: Mapped[str] = mapped_column(String(15))
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("inspection_plan.id"))
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("lot.id"), index=True)
    work_order_id: Mapped[int | None] = mapped_column(ForeignKey("work_order.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("order.id"), index=True)
    lot_size: Mapped[Decimal] = mapped_column(Fine, default=Decimal("0"))
    sample_size: Mapped[int] = mapped_column(default=0)
    accept_number: Mapped[int] = mapped_column(default=0)
    defects: Mapped[int] = mapped_column(default=0)
    result: Mapped[str] = mapped_column(String(12), default="pending")
    rejected_qty: Mapped[Decimal] = mapped_column(Fine, default=Decimal("0"))
    disposition: Mapped[str] = mapped_column(String(10), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    inspector_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A failure is resolved when its rejected pieces went to rework or scrap (or back to the supplier).
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution: Mapped[str] = mapped_column(Text, default="")

    plan: Mapped[InspectionPlan | None] = relationship()
    lot = relationship("Lot")
    # The order a work order's inspection belongs to: the loader's object scope reads its customer.
    order = relationship("Order")
    inspector = relationship("User")
    values: Mapped[list["InspectionValue"]] = relationship(back_populates="inspection",
                                                           order_by="InspectionValue.id",
                                                           cascade="all, delete-orphan")

    @property
    def holding(self) -> bool:
        """Whether it still holds what it inspected (failed and not yet resolved)."""
        return self.result == "fail" and self.resolved_at is None


class InspectionValue(db.Model):
    """What one item measured or looked like on the sample."""

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspection.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("plan_item.id"))
    name: Mapped[str] = mapped_column(String(200), default="")
    value: Mapped[Decimal | None] = mapped_column(Fine)
    ok: Mapped[bool] = mapped_column(default=True)
    note: Mapped[str] = mapped_column(Text, default="")

    inspection: Mapped[Inspection] = relationship(back_populates="values")
    item: Mapped[PlanItem | None] = relationship()


FIRST_ARTICLE_STATES = ("waiting", "sent", "approved", "rejected")


class FirstArticle(db.Model):
    """A sample or first piece (打样 / 首件确认) the customer approves on their phone before mass
    production goes on: the firm's inspection, photos, then the customer's decision and comments."""

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"), index=True)
    work_order_id: Mapped[int | None] = mapped_column(ForeignKey("work_order.id"), index=True)
    inspection_id: Mapped[int | None] = mapped_column(ForeignKey("inspection.id"))
    kind: Mapped[str] = mapped_column(String(12), default="first_piece")  # sample / first_piece
    status: Mapped[str] = mapped_column(String(10), default="waiting")
    note: Mapped[str] = mapped_column(Text, default="")
    customer_comment: Mapped[str] = mapped_column(Text, default="")
    decided_by_name: Mapped[str] = mapped_column(String(100), default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    inspection: Mapped[Inspection | None] = relationship()
    order = relationship("Order")
