"""A phone's sync credential, the people enrolled on it, stored replays and conflicts."""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db_types import UTCDateTime
from ..extensions import db
from ..wallclock import utcnow


class SyncDevice(db.Model):
    """One browser install that keeps an outbox. Its secret outlives logins: logging out never strands
    the actions recorded on it; only revoking the device does."""

    id: Mapped[int] = mapped_column(primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    created_by = relationship("User", foreign_keys=[created_by_id])
    members: Mapped[list["SyncDeviceMember"]] = relationship(back_populates="device",
                                                             order_by="SyncDeviceMember.id")

    @property
    def is_revoked(self) -> bool:
        """Whether replays from this device are refused."""
        return self.revoked_at is not None


class SyncDeviceMember(db.Model):
    """A person who logged in or switched in on the device: the only people its replays may act for."""

    __table_args__ = (UniqueConstraint("device_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("sync_device.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    device: Mapped[SyncDevice] = relationship(back_populates="members")
    user = relationship("User")


class IdempotencyRecord(db.Model):
    """An applied offline action or API write: its key, what it said, and the answer it got, stored in
    the same transaction as the business write so that a repeat gets the same answer and no second
    effect. Keys are unique per credential: two phones, or a phone and an API token, may pick the same."""

    __table_args__ = (UniqueConstraint("credential", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    # Whose key it is: "device:<id>" (a phone's outbox), "link" (a customer's or courier's link:
    # the token in the URL is the credential) or "token:<id>" (an API token).
    credential: Mapped[str] = mapped_column(String(40), default="", server_default="")
    fingerprint: Mapped[str] = mapped_column(String(64))
    endpoint: Mapped[str] = mapped_column(String(300))  # replay.action(), never the URL
    device_id: Mapped[int | None] = mapped_column(ForeignKey("sync_device.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    status_code: Mapped[int] = mapped_column()
    content_type: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the phone's clock
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class SyncConflict(db.Model):
    """An offline action the server could no longer apply (the business moved on), kept with its data."""

    # My work counts the conflicts not settled yet. Keys are unique per credential, as replays' are.
    __table_args__ = (Index("ix_sync_conflict_resolved_at", "resolved_at"), UniqueConstraint("credential", "key"))

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    credential: Mapped[str] = mapped_column(String(40), default="", server_default="")
    # What it acted on, never the URL (replay.action(): a link's token would open it).
    endpoint: Mapped[str] = mapped_column(String(300))
    # The customer or courier link it came through (conflicts per link are limited, replay.py).
    link_id: Mapped[int | None] = mapped_column(ForeignKey("access_link.id"), index=True)
    device_id: Mapped[int | None] = mapped_column(ForeignKey("sync_device.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    fields: Mapped[str] = mapped_column(Text)  # JSON of the parsed form fields
    files: Mapped[str] = mapped_column(Text, default="[]")  # JSON: name, size and SHA-256 of each file
    message: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    actor = relationship("User", foreign_keys=[actor_id])
