"""Follow-up calls, tickets with their messages, and satisfaction surveys."""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from decimal import Decimal

from ..db_types import Money, UTCDateTime
from ..extensions import db
from ..wallclock import utcnow

RATINGS = ("requirement_response", "delivery_timeliness", "service_quality")

# What a ticket is about, and how it was solved (chosen on the ticket; words in lifecycle.py).
TICKET_KINDS = ("fault", "usage", "complaint", "other")
SOLUTION_KINDS = ("repair", "replacement", "guidance", "refund")
# The departments a ticket may be handed to: the firm's roles that do the work behind an answer.
DEPARTMENTS = ("production", "qc", "operations", "purchasing", "warehouse", "finance", "sales")


class FollowUp(db.Model):
    """The sales rep's call after receipt (one per order): due 3 days after the first receipt."""

    # My work asks for the open calls due first.
    __table_args__ = (Index("ix_follow_up_status_due_at", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"), unique=True)
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)
    receipt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    assignee_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    outcome: Mapped[str] = mapped_column(Text, default="")
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the overdue call was escalated to its owner and the managers (once: its due time never moves).
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    order = relationship("Order")
    assignee = relationship("User", foreign_keys=[assignee_id])
    done_by = relationship("User", foreign_keys=[done_by_id])

    @property
    def overdue(self) -> bool:
        """Still open after its due time."""
        return self.status == "open" and self.due_at < utcnow()


class Ticket(db.Model):
    """A customer's issue, opened by staff or by the customer on their order link, with a
    first-response clock in working hours and tracked until the customer confirms."""

    # My work asks for the open tickets whose first answer is due first.
    __table_args__ = (Index("ix_ticket_status_first_response_due_at", "status", "first_response_due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Staff who opened it, or (opened on the customer's link) the name the customer gave.
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    opened_by_customer: Mapped[str] = mapped_column(String(100), default="")
    first_response_due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Its type (TICKET_KINDS) sets the deadline to solve it (clocks.RESOLVE_*); the solution proposed.
    kind: Mapped[str] = mapped_column(String(12), default="other", server_default="other")
    solution: Mapped[str] = mapped_column(String(12), default="", server_default="")
    resolution_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # Handed to another department (a role in DEPARTMENTS) for its part, due on its own clock.
    department: Mapped[str] = mapped_column(String(20), default="", server_default="")
    department_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    department_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    # A confirmation the customer gave on the phone, recorded by staff (resolved_by_id says who).
    confirmed_by_phone: Mapped[bool] = mapped_column(default=False, server_default=false())
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # When each overdue clock was escalated; a clock set again (a new department) may escalate again.
    response_escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    department_escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    order = relationship("Order")
    opened_by = relationship("User", foreign_keys=[opened_by_id])
    resolved_by = relationship("User", foreign_keys=[resolved_by_id])
    messages: Mapped[list["TicketMessage"]] = relationship(
        back_populates="ticket", order_by="TicketMessage.id")
    costs: Mapped[list["TicketCost"]] = relationship(back_populates="ticket", order_by="TicketCost.id")

    @property
    def is_open(self) -> bool:
        """Not yet confirmed resolved by the customer."""
        return self.status != "resolved"

    @property
    def response_late(self) -> bool:
        """The first response came (or is still missing) after its due time."""
        return (self.first_response_at or utcnow()) > self.first_response_due_at

    @property
    def resolution_late(self) -> bool:
        """Solved (or still open) after its deadline to solve."""
        if self.resolution_due_at is None:
            return False
        return (self.resolved_at or utcnow()) > self.resolution_due_at

    @property
    def department_late(self) -> bool:
        """A department still holds its part after the part's due time."""
        return bool(self.department) and self.department_due_at is not None and self.department_due_at < utcnow()

    @property
    def escalated(self) -> bool:
        """An overdue clock of this open ticket was escalated to the owner and the managers."""
        return self.is_open and any((self.response_escalated_at and self.first_response_at is None,
                                     self.resolution_escalated_at, self.department_escalated_at and self.department))


class TicketMessage(db.Model):
    """One message on a ticket: a staff answer or the customer's reply."""

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    from_customer: Mapped[bool] = mapped_column(default=False)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    author_name: Mapped[str] = mapped_column(String(100), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="messages")
    author = relationship("User")


class Survey(db.Model):
    """The satisfaction survey sent on its own link once the order is delivered and neither a ticket
    nor a return case is open: three ratings from 1 to 5 and suggestions, one answer per link."""

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"), index=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("access_link.id"), unique=True)
    status: Mapped[str] = mapped_column(String(10), default="sent")
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    requirement_response: Mapped[int | None] = mapped_column()
    delivery_timeliness: Mapped[int | None] = mapped_column()
    service_quality: Mapped[int | None] = mapped_column()
    suggestions: Mapped[str] = mapped_column(Text, default="")
    # The KPI dashboard reads the surveys answered in its periods.
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # An answer the customer gave on the phone, entered by staff on the same form: who entered it.
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    order = relationship("Order")
    link = relationship("AccessLink")
    entered_by = relationship("User")

    @property
    def average(self) -> float | None:
        """The mean of the three ratings, once answered."""
        values = [getattr(self, name) for name in RATINGS]
        if any(v is None for v in values):
            return None
        return sum(values) / len(values)


# What a customer contact may be told about their order, and the notify events of each.
NOTICE_KINDS = {
    "eta": ("order.eta_changed",),
    "shipped": ("shipment.dispatched",),
    "delayed": ("shipment.attempt_failed",),
    "delivered": ("shipment.arrived",),
    "ticket": ("ticket.answered",),
}


class NotificationPreference(db.Model):
    """What one customer contact (an e-mail address of the customer) chose not to be told; chosen on
    the order's page for the customer, without an account. No row: they are told everything."""

    __table_args__ = (UniqueConstraint("customer_id", "email", name="uq_notification_preference_contact"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    email: Mapped[str] = mapped_column(String(200))  # lower-case
    muted: Mapped[str] = mapped_column(String(200), default="")  # NOTICE_KINDS keys, comma-separated
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def muted_kinds(self) -> set[str]:
        """The kinds of news this contact does not want."""
        return {kind for kind in self.muted.split(",") if kind in NOTICE_KINDS}


# What solving a ticket may cost the firm (the cost sheet's after-sales actual adds them up).
TICKET_COST_KINDS = ("parts", "freight", "visit", "other")


class TicketCost(db.Model):
    """One cost of solving a ticket: spare parts sent, freight, a technician's visit, other."""

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    amount: Mapped[Decimal] = mapped_column(Money)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="costs")
    created_by = relationship("User")
