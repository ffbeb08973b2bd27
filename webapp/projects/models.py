"""A service project's deliverables, their progress reports, the customer's acceptance decisions and
the rework a rejection opens."""
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db_types import UTCDateTime
from ..extensions import db
from ..wallclock import utcnow


class Deliverable(db.Model):
    """Something a project hands over (a report, an event day), with its due date and progress;
    the customer accepts or rejects it on their phone."""

    __table_args__ = (UniqueConstraint("order_id", "position", name="uq_deliverable_order_id_position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"), index=True)
    order_line_id: Mapped[int | None] = mapped_column(ForeignKey("order_line.id"))
    position: Mapped[int] = mapped_column(default=1)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    due_date: Mapped[date | None] = mapped_column()
    progress_pct: Mapped[int] = mapped_column(default=0)
    # open → accepted | rework (rejected: a rework case runs) → open when the rework is handed over again
    status: Mapped[str] = mapped_column(String(20), default="open")
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    order = relationship("Order")
    milestones: Mapped[list["Milestone"]] = relationship(
        back_populates="deliverable", order_by="Milestone.position", cascade="all, delete-orphan")
    reports: Mapped[list["DeliverableReport"]] = relationship(
        back_populates="deliverable", order_by="DeliverableReport.id")


class Milestone(db.Model):
    """A step on the way to a deliverable (draft sent, venue booked) with its due date."""

    id: Mapped[int] = mapped_column(primary_key=True)
    deliverable_id: Mapped[int] = mapped_column(ForeignKey("deliverable.id"), index=True)
    position: Mapped[int] = mapped_column(default=1)
    title: Mapped[str] = mapped_column(String(200))
    due_date: Mapped[date | None] = mapped_column()
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    deliverable: Mapped[Deliverable] = relationship(back_populates="milestones")


class DeliverableReport(db.Model):
    """Staff's report on a deliverable: how far it is (0–100 %), a note, photos or scans."""

    id: Mapped[int] = mapped_column(primary_key=True)
    deliverable_id: Mapped[int] = mapped_column(ForeignKey("deliverable.id"), index=True)
    milestone_id: Mapped[int | None] = mapped_column(ForeignKey("milestone.id"))
    percent: Mapped[int] = mapped_column()
    note: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    deliverable: Mapped[Deliverable] = relationship(back_populates="reports")
    milestone = relationship("Milestone")
    user = relationship("User")
    files: Mapped[list["DeliverableFile"]] = relationship(order_by="DeliverableFile.id")


class DeliverableFile(db.Model):
    """A document handed over with a progress report (the report's PDF, minutes, slides): kept as
    uploaded under instance/, served as a download to staff and to the customer's acceptance link."""

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("deliverable_report.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(100), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64))


class Acceptance(db.Model):
    """One signed submission of the customer's acceptance page: who signed, the signature (strokes and
    the SVG rendered from them on the server), the consent and the decisions it carried."""

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"), index=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("access_link.id"))
    signer_name: Mapped[str] = mapped_column(String(100))
    strokes_json: Mapped[str] = mapped_column(Text)
    signature_svg: Mapped[str] = mapped_column(Text)
    consent_text: Mapped[str] = mapped_column(Text)
    consent_version: Mapped[str] = mapped_column(String(20))
    decisions_json: Mapped[str] = mapped_column(Text)  # what was decided, canonical JSON
    sha256: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ip_address: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")

    decisions: Mapped[list["AcceptanceDecision"]] = relationship(
        back_populates="acceptance", order_by="AcceptanceDecision.id")


class AcceptanceDecision(db.Model):
    """The customer's verdict on one deliverable: accepted, or rejected with a comment."""

    id: Mapped[int] = mapped_column(primary_key=True)
    acceptance_id: Mapped[int] = mapped_column(ForeignKey("acceptance.id"), index=True)
    deliverable_id: Mapped[int] = mapped_column(ForeignKey("deliverable.id"), index=True)
    decision: Mapped[str] = mapped_column(String(10))  # accept / reject
    comment: Mapped[str] = mapped_column(Text, default="")

    acceptance: Mapped[Acceptance] = relationship(back_populates="decisions")
    deliverable = relationship("Deliverable")


class ReworkCase(db.Model):
    """What a rejected deliverable needs: the customer's comment, and a due time on the working calendar."""

    __table_args__ = (Index("ix_rework_case_status_due_at", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    deliverable_id: Mapped[int] = mapped_column(ForeignKey("deliverable.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="open")  # open / done
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    done_note: Mapped[str] = mapped_column(Text, default="")

    deliverable = relationship("Deliverable")
