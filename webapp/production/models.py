"""Work orders, progress reports and anomalies on the floor."""
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

from flask_babel import gettext
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, event
from sqlalchemy import inspect as inspect_state
from sqlalchemy.orm import Mapped, Session, joinedload, mapped_column, relationship

from ..db_types import Fine, Money, Quantity, UTCDateTime
from ..customers import Product  # noqa: F401  (the catalogue; kept importable from here)
from ..extensions import db
from ..wallclock import utcnow


ZERO = Decimal("0")


@event.listens_for(Session, "after_flush")
@event.listens_for(Session, "after_transaction_end")
def _next_generation(session, *_args) -> None:
    """Count the session's flushes and transactions: a work order's report sums read from the
    database hold only while nothing was flushed or begun since (WorkOrder.report_sums)."""
    session.info["generation"] = session.info.get("generation", 0) + 1


class StockItem(NamedTuple):
    """A stocking instruction's product in the shape of an order line (what pages read of one)."""
    model: str
    description: str
    drawing_rev: str
    unit: str
    product_id: int
    product: object
    customer_part_no: str = ""


class WorkOrder(db.Model):
    """A job on the floor for (part of) an order line, with the template's milestones; or, with no
    order, a stocking instruction (备货指令): a make-to-stock job for a product kept in stock."""

    # My work asks for a person's open work orders, and for those waiting for QC.
    __table_args__ = (Index("ix_work_order_owner_id_status", "owner_id", "status"),
                      Index("ix_work_order_status_created_at", "status", "created_at"),
                      # The KPI dashboard reads the work orders that passed QC in its periods.
                      Index("ix_work_order_status_actual_done", "status", "actual_done"),
                      CheckConstraint("order_line_id IS NOT NULL OR product_id IS NOT NULL",
                                      name="line_or_product"))

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(50), unique=True)
    # The secret in the label's QR (labels carry a secret, never the row id).
    token: Mapped[str] = mapped_column(String(40), unique=True)
    # None on a stocking instruction, which names its product instead.
    order_id: Mapped[int | None] = mapped_column(ForeignKey("order.id"), index=True)
    order_line_id: Mapped[int | None] = mapped_column(ForeignKey("order_line.id"))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id"))
    # Why the stock is made (a stocking instruction's reason: safety stock, a forecast, a framework order).
    purpose: Mapped[str] = mapped_column(String(200), default="")
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
    # Loaded with its rows by one more query (a join would put FOR UPDATE on an outer join: PostgreSQL refuses).
    stock_product = relationship("Product", lazy="selectin")
    owner = relationship("User")
    reports: Mapped[list["ProgressReport"]] = relationship(
        back_populates="work_order", order_by="ProgressReport.id")
    anomalies: Mapped[list["Anomaly"]] = relationship(
        back_populates="work_order", order_by="Anomaly.id")
    rejections: Mapped[list["QcRejection"]] = relationship(
        back_populates="work_order", order_by="QcRejection.id")
    operations: Mapped[list["WorkOrderOperation"]] = relationship(
        back_populates="work_order", order_by="WorkOrderOperation.position")

    @property
    def stocking(self) -> bool:
        """Whether this is a stocking instruction (made for stock, no customer order)."""
        return self.order_id is None and self.order is None

    @property
    def product(self):
        """The product made: the order line's, or the stocking instruction's (None: a line off the catalogue)."""
        return self.line.product if self.line is not None else self.stock_product

    @property
    def item(self):
        """What is made, as pages name it (model, description, drawing revision, unit): the order line,
        or for a stocking instruction its product."""
        if self.line is not None:
            return self.line
        product = self.stock_product
        return StockItem(product.model, product.name, "", product.unit, product.id, product)

    @property
    def customer(self):
        """The customer it is made for (None: made for stock)."""
        return self.order.customer if self.order is not None else None

    @property
    def made_for(self) -> str:
        """Whom it is made for, as pages name it: the customer, or "stock" (备货) for a stocking instruction."""
        return self.order.customer.name if self.order is not None else gettext("Stock (stocking instruction)")

    @property
    def made_for_short(self) -> str:
        """made_for in a label's few characters: the customer's abbreviation, or 备货."""
        return self.order.customer.abbreviation if self.order is not None else gettext("Stock")

    def report_sums(self) -> dict[int | None, tuple[Decimal, Decimal]]:
        """Good and scrap reported so far, per operation id (None: reports without one). Summed in
        Python when the reports are loaded already (a list page loads them for all its work orders in
        one query); else summed by the database, so the worker's page and every post cost the same
        however many reports the work order has (it loaded and added up every one of them). The
        database's sums are kept until the session flushes or ends its transaction; a report not
        flushed yet is flushed by the query first (autoflush)."""
        state = inspect_state(self)
        if "reports" in state.dict or state.session is None or self.id is None:
            sums: dict[int | None, tuple[Decimal, Decimal]] = {}
            for report in self.reports:
                good, scrap = sums.get(report.operation_id, (ZERO, ZERO))
                sums[report.operation_id] = (good + report.good_qty, scrap + report.scrap_qty)
            return sums
        session = state.session
        cached = self.__dict__.get("_report_sums")
        pending = any(isinstance(row, ProgressReport) for row in session.new)
        if cached is not None and not pending and cached[0] == session.info.get("generation", 0):
            return cached[1]
        rows = session.execute(db.select(ProgressReport.operation_id, db.func.sum(ProgressReport.good_qty),
                                         db.func.sum(ProgressReport.scrap_qty))
                               .where(ProgressReport.work_order_id == self.id)
                               .group_by(ProgressReport.operation_id)).all()
        sums = {operation_id: (good or ZERO, scrap or ZERO) for operation_id, good, scrap in rows}
        self.__dict__["_report_sums"] = (session.info.get("generation", 0), sums)
        return sums

    def latest_reports(self, count: int = 5) -> list["ProgressReport"]:
        """The last count reports, oldest first, with their workers (read alone: not every report of the
        work order)."""
        if "reports" in inspect_state(self).dict or self.id is None:
            return self.reports[-count:]
        latest = db.session.scalars(db.select(ProgressReport).where(ProgressReport.work_order_id == self.id)
                                    .options(joinedload(ProgressReport.worker))
                                    .order_by(ProgressReport.id.desc()).limit(count)).all()
        return latest[::-1]

    @property
    def rejected(self) -> Decimal:
        """Pieces QC sent back (to rework or scrap): they no longer count as good."""
        return sum((r.quantity for r in self.rejections), Decimal("0"))

    @property
    def good(self) -> Decimal:
        """Good quantity so far: reported good (with operations: its last operation's good) less what
        QC rejected."""
        if self.operations:
            return self.operations[-1].good - self.rejected
        return sum((good for good, _scrap in self.report_sums().values()), ZERO) - self.rejected

    @property
    def scrap(self) -> Decimal:
        """Scrap so far: reported by the floor (every operation's, and an outsourced one's supplier's)
        plus what QC scrapped."""
        outsourced = sum((o.scrap for o in self.operations if o.outsourced), Decimal("0"))
        return (sum((scrap for _good, scrap in self.report_sums().values()), ZERO) + outsourced
                + sum((r.quantity for r in self.rejections if r.disposition == "scrap"), Decimal("0")))

    @property
    def remaining(self) -> Decimal:
        """Good quantity still to make."""
        return max(self.quantity - self.good, Decimal("0"))


class ProgressReport(db.Model):
    """What a worker made: good and scrap quantity, a note and photos, timed on the device."""

    # A work order's good and scrap are summed from this index alone (WorkOrder.report_sums).
    __table_args__ = (Index("ix_progress_report_work_order_sums", "work_order_id", "operation_id", "good_qty",
                            "scrap_qty"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_order.id"), index=True)
    good_qty: Mapped[Decimal] = mapped_column(Quantity, default=Decimal("0"))
    scrap_qty: Mapped[Decimal] = mapped_column(Quantity, default=Decimal("0"))
    note: Mapped[str] = mapped_column(Text, default="")
    operation: Mapped[str] = mapped_column(String(60), default="")
    # The operation it counts against (None: a work order without a routing, or an old report).
    operation_id: Mapped[int | None] = mapped_column(ForeignKey("work_order_operation.id"), index=True)
    # Time the worker spent, in minutes (labour paid by the hour), and why pieces were scrapped.
    minutes: Mapped[Decimal] = mapped_column(Quantity, default=Decimal("0"), server_default="0")
    scrap_reason: Mapped[str] = mapped_column(String(200), default="", server_default="")
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


class WorkCentre(db.Model):
    """Where an operation is done (a CNC cell, the weld bay, the paint line): its hours a working
    day and shifts give its capacity on the firm's calendar, and its labour rate costs time."""

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    hours_per_day: Mapped[Decimal] = mapped_column(Money, default=Decimal("8"))
    shifts: Mapped[int] = mapped_column(default=1)
    # Labour cost of an hour here (yuan): time × rate is the labour of work paid by the hour.
    hourly_rate: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    active: Mapped[bool] = mapped_column(default=True)


class RoutingStep(db.Model):
    """One operation (工序) of a product's routing, in order: where, how long a piece takes, what a
    good piece pays (计件), or sent out to a supplier (外协)."""

    __table_args__ = (UniqueConstraint("product_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    position: Mapped[int] = mapped_column(default=1)
    name: Mapped[str] = mapped_column(String(100))
    work_centre_id: Mapped[int | None] = mapped_column(ForeignKey("work_centre.id"))
    minutes_per_piece: Mapped[Decimal] = mapped_column(Fine, default=Decimal("0"))
    piece_rate: Mapped[Decimal | None] = mapped_column(Fine)
    outsourced: Mapped[bool] = mapped_column(default=False)
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("supplier.id"))
    lead_days: Mapped[int] = mapped_column(default=0)

    work_centre = relationship("WorkCentre")


class WorkOrderOperation(db.Model):
    """A work order's copy of one routing step, with its own process-card QR: reports count against
    it, and its good pieces may not pass the operation before it."""

    __table_args__ = (UniqueConstraint("work_order_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_order.id"), index=True)
    position: Mapped[int] = mapped_column(default=1)
    name: Mapped[str] = mapped_column(String(100))
    # The secret in the process card's QR for this operation.
    token: Mapped[str] = mapped_column(String(40), unique=True)
    work_centre_id: Mapped[int | None] = mapped_column(ForeignKey("work_centre.id"), index=True)
    minutes_per_piece: Mapped[Decimal] = mapped_column(Fine, default=Decimal("0"))
    piece_rate: Mapped[Decimal | None] = mapped_column(Fine)
    outsourced: Mapped[bool] = mapped_column(default=False)
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("supplier.id"))

    work_order: Mapped[WorkOrder] = relationship(back_populates="operations")
    work_centre = relationship("WorkCentre")

    @property
    def good(self) -> Decimal:
        """Its cumulative good pieces: its reports', or, outsourced, what the supplier sent back."""
        if self.outsourced:
            return self._received(OutsourceTransfer.received_good)
        return self.work_order.report_sums().get(self.id, (ZERO, ZERO))[0]

    @property
    def scrap(self) -> Decimal:
        """Its cumulative scrap (reported, or, outsourced, scrapped by the supplier)."""
        if self.outsourced:
            return self._received(OutsourceTransfer.received_scrap)
        return self.work_order.report_sums().get(self.id, (ZERO, ZERO))[1]

    def _received(self, column) -> Decimal:
        """The sum of a column of its outsourced transfers (received ones; None counts nothing)."""
        total = db.session.scalar(db.select(db.func.sum(column)).where(OutsourceTransfer.operation_id == self.id))
        return Decimal(total or 0)

    @property
    def label(self) -> str:
        """Its position among the work order's operations and its name, e.g. "3/5 · 焊接"."""
        siblings = self.work_order.operations
        return f"{siblings.index(self) + 1}/{len(siblings)} · {self.name}"


class OutsourceTransfer(db.Model):
    """A batch sent out for an outsourced operation (外协) and received back: its document number,
    quantities, the supplier's due date and what it cost."""

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("work_order_operation.id"), index=True)
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("supplier.id"))
    sent_qty: Mapped[Decimal] = mapped_column(Quantity)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    due_date: Mapped[date | None] = mapped_column()
    received_good: Mapped[Decimal | None] = mapped_column(Quantity)
    received_scrap: Mapped[Decimal | None] = mapped_column(Quantity)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    cost: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    note: Mapped[str] = mapped_column(Text, default="")

    operation: Mapped[WorkOrderOperation] = relationship()


DEVIATION_CAUSES = ("material_shortage", "equipment_failure", "quality", "labour", "other")


class DailyPlan(db.Model):
    """The supervisor's line of the daily sheet (表2) for one work order and day: a planned quantity
    set by hand (else spread over the working days), and the cause of a deviation with its action."""

    __table_args__ = (UniqueConstraint("work_order_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_order.id"), index=True)
    day: Mapped[date] = mapped_column()
    planned: Mapped[Decimal | None] = mapped_column(Quantity)
    cause: Mapped[str] = mapped_column(String(30), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    action: Mapped[str] = mapped_column(Text, default="")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
