"""A review meeting (复盘) of one order or one period, who sat in it, what it found, and its
improvement actions (改进措施) with owner, due date and status, each naming the cost causes it
addresses."""
from datetime import date, datetime

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db_types import UTCDateTime
from ..extensions import db
from ..wallclock import utcnow

KINDS = ("order", "period")
PERIODS = ("month", "quarter")

# Which cost causes an action addresses (cost_cause belongs to costing; its rows are never deleted,
# a cause the firm stopped using is only hidden).
action_cause = Table(
    "improvement_action_cause", db.metadata,
    Column("action_id", ForeignKey("improvement_action.id", ondelete="CASCADE"), primary_key=True),
    Column("cause_id", ForeignKey("cost_cause.id"), primary_key=True),
)


class Review(db.Model):
    """One review meeting: of an order (its cost sheet) or of a month or quarter (first..last)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("order.id"), index=True)
    period: Mapped[str | None] = mapped_column(String(10))
    first: Mapped[date | None] = mapped_column()
    last: Mapped[date | None] = mapped_column()
    held_on: Mapped[date] = mapped_column(index=True)
    findings: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    order = relationship("Order")
    created_by = relationship("User")
    attendees: Mapped[list["ReviewAttendee"]] = relationship(
        back_populates="review", order_by="ReviewAttendee.id", cascade="all, delete-orphan")
    actions: Mapped[list["ImprovementAction"]] = relationship(
        back_populates="review", order_by="ImprovementAction.id", cascade="all, delete-orphan")


class ReviewAttendee(db.Model):
    """Someone who sat in the review: a staff member (user), or a name typed (a supplier, a guest)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    name: Mapped[str] = mapped_column(String(100), default="")

    review: Mapped[Review] = relationship(back_populates="attendees")
    user = relationship("User", lazy="joined")


class ImprovementAction(db.Model):
    """An improvement action: what, who owns it, by when, its status, and the causes it addresses."""

    # The overdue list and the daily reminder ask for open actions by due date.
    __table_args__ = (Index("ix_improvement_action_status_due", "status", "due_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    due_date: Mapped[date] = mapped_column()
    status: Mapped[str] = mapped_column(String(20), default="open")
    done_note: Mapped[str] = mapped_column(Text, default="")
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The firm's day the owner was last reminded (the daily task mails each action once a day at most).
    reminded_on: Mapped[date | None] = mapped_column()
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    review: Mapped[Review] = relationship(back_populates="actions")
    owner = relationship("User", foreign_keys=[owner_id], lazy="joined")
    done_by = relationship("User", foreign_keys=[done_by_id])
    causes = relationship("CostCause", secondary=action_cause, order_by="CostCause.position")

    @property
    def order(self):
        """The reviewed order, if the review was of one (the customers' scope reads it)."""
        return self.review.order if self.review is not None else None

    @property
    def is_open(self) -> bool:
        """Still to be done (open or in progress)."""
        return self.status in ("open", "in_progress")
