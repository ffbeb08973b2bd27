"""The webhook tables: the endpoints a firm registered, the events enqueued for them, and one
delivery (its tries and last answer) per event and endpoint."""
import json
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db_types import UTCDateTime
from ..extensions import db
from ..wallclock import utcnow


class WebhookEndpoint(db.Model):
    """A receiver's URL, the event types it wants and the secret its deliveries are signed with."""

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(String(200), default="")
    # The chosen event types, a JSON list (a handful of names: no table of their own).
    events: Mapped[str] = mapped_column(Text, default="[]")
    # The signing secret, encrypted with a key derived from SECRET_KEY (keys.py): the app must
    # read it back to sign, so it cannot be stored hashed like a password.
    secret_encrypted: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The admin's explicit choice to send to a loopback, private or link-local address.
    allow_private: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    secret_rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    deliveries = relationship("WebhookDelivery", back_populates="endpoint", cascade="all, delete-orphan",
                              passive_deletes=True)

    @property
    def event_types(self) -> list[str]:
        """The event types this endpoint receives."""
        return json.loads(self.events or "[]")

    def wants(self, event_type: str) -> bool:
        """Whether an event of this type goes to this endpoint (the admin's test event is sent to it directly)."""
        return event_type in self.event_types


class WebhookEvent(db.Model):
    """One event as it was enqueued: its stable id (the Webhook-Id header) and the exact body sent."""

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    type: Mapped[str] = mapped_column(String(40), index=True)
    object_type: Mapped[str] = mapped_column(String(30))
    object_id: Mapped[int] = mapped_column()
    # The JSON body, fixed when the event was enqueued: every retry sends the same bytes.
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    deliveries = relationship("WebhookDelivery", back_populates="event", cascade="all, delete-orphan",
                              passive_deletes=True)


class WebhookDelivery(db.Model):
    """An event on its way to one endpoint: pending (next_attempt_at says when), delivered, or
    failed (given up after the retry schedule; an admin may resend it)."""

    __table_args__ = (UniqueConstraint("event_id", "endpoint_id"),
                      Index("ix_webhook_delivery_due", "status", "next_attempt_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("webhook_event.id", ondelete="CASCADE"), index=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoint.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    # Failures since the delivery was last (re)sent: the retry schedule's position.
    failed_tries: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None] = mapped_column()
    last_error: Mapped[str] = mapped_column(String(300), default="")
    last_response: Mapped[str] = mapped_column(Text, default="")
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    event = relationship("WebhookEvent", back_populates="deliveries")
    endpoint = relationship("WebhookEndpoint", back_populates="deliveries")
