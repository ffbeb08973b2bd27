"""Work orders, progress reports and anomalies on the floor."""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db_types import Quantity, UTCDateTime
from ..customers import Product  # noqa: F401  (the catalogue; kept importable from here)
from ..extensions import db
from ..wallclock import utcnow


class WorkOrder(db.Model):
    """A job on the floor for (part of) an order line, with the template's milestones."""

    # My work asks for a person's open work orders, and for those waiting for QC.
    __table_args__ = (Index("ix_work_order_owner_id_status", "owner_id", "status"),
                      Index("ix_work_order_status_created_at", "status", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(50), unique=True)
    # The secret in the label's QR (labels carry a secret, never the row id).
    token: Mapped[str] = mapped_column(String(40), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_line.id"))
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    status: Mapped[str] = mapped_column(String(20), default="planned", index=True)
    blocked_from: Mapped[str | None] = mapped_column(String(20))
    planned_materials: Mapped[date | None] = mapped_column()
    planned_start: Mapped[date | None] = mapped_column()
    planned_qc: Mapped[date | None] = mapped_column()
    actual_materials: Mapped[datetime | None] = mapped_column(UTCDateTime)
    actual_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    actual_qc: Mapped[datetime | None] = mapped_column(UTCDateTime)
    actual_done: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The bill of materials it was released with (a later change of the BOM does not change it).
    bom_version_id: Mapped[int | None] = mapped_column(ForeignKey("bom_version.id"))

    order = relationship("Order", back_populates="work_orders")
    line = relationship("OrderLine")
    owner = relationship("User")
    reports: Mapped[list["ProgressReport"]] = relationship(
        back_populates="work_order", order_by="ProgressReport.id")
    anomalies: Mapped[list["Anomaly"]] = relationship(
        back_populates="work_order", order_by="Anomaly.id")
    rejections: Mapped[list["QcRejection"]] = relationship(
        back_populates="work_order", order_by="QcRejection.id")

    @property
    def rejected(self) -> Decimal:
        """Pieces QC sent back (to rework or scrap): they no longer count as good."""
        return sum((r.quantity for r in self.rejections), Decimal("0"))

    @property
    def good(self) -> Decimal:
        """Good quantity so far: reported good less what QC rejected."""
        return sum((r.good_qty for r in self.reports), Decimal("0")) - self.rejected

    @property
    def scrap(self) -> Decimal:
        """Scrap so far: reported by the floor plus what QC scrapped."""
        return (sum((r.scrap_qty for r in self.reports), Decimal("0"))
                + sum((r.quantity for r in self.rejections if r.disposition == "scrap"), Decimal("0")))

    @property
    def remaining(self) -> Decimal:
        """Good quantity still to make."""
        return max(self.quantity - self.good, Decimal("0"))


class ProgressReport(db.Model):
    """What a worker made: good and scrap quantity, a note and photos, timed on the device."""

    id: Mapped[int] = mapped_column(primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_order.id"), index=True)
    good_qty: Mapped[Decimal] = mapped_column(Quantity, default=Decimal("0"))
    scrap_qty: Mapped[Decimal] = mapped_column(Quantity, default=Decimal("0"))
    note: Mapped[str] = mapped_column(Text, default="")
    operation: Mapped[str] = mapped_column(String(60), default="")
    worker_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("device_session.id"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    work_order: Mapped[WorkOrder] = relationship(back_populates="reports")
    worker = relationship("User")


QC_DISPOSITIONS = ("rework", "scrap")


class QcRejection(db.Model):
    """A failed QC: how many pieces QC rejected and what happens to them (reworked or scrapped).
    The work order goes back to the floor until that many more good pieces are reported."""

    id: Mapped[int] = mapped_column(primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_order.id"), index=True)
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    disposition: Mapped[str] = mapped_column(String(10))  # QC_DISPOSITIONS
    note: Mapped[str] = mapped_column(Text, default="")
    inspector_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    work_order: Mapped[WorkOrder] = relationship(back_populates="rejections")
    inspector = relationship("User")


ANOMALY_KINDS = ("material_shortage", "equipment_failure", "quality", "labour", "other")


class Anomaly(db.Model):
    """Something that stops or delays the work, with a contingency plan and maybe a new ETA."""

    # My work asks for the anomalies not resolved yet, oldest first.
    __table_args__ = (Index("ix_anomaly_resolved_at_reported_at", "resolved_at", "reported_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_order.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    severity: Mapped[str] = mapped_column(String(10), default="minor")  # minor / blocking
    note: Mapped[str] = mapped_column(Text, default="")
    contingency: Mapped[str] = mapped_column(Text, default="")
    new_eta: Mapped[date | None] = mapped_column()
    eta_reason: Mapped[str] = mapped_column(Text, default="")
    reported_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution: Mapped[str] = mapped_column(Text, default="")

    work_order: Mapped[WorkOrder] = relationship(back_populates="anomalies")
    reported_by = relationship("User")
