"""One append-only audit trail for every state change, and who did it (the actor)."""
import json
from dataclasses import dataclass
from datetime import datetime

from flask import g, has_request_context
from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db_types import UTCDateTime
from .extensions import db
from .wallclock import utcnow


class AuditEvent(db.Model):
    """Something that happened to an entity: who, what, before and after."""

    __table_args__ = (Index("ix_audit_entity", "entity_type", "entity_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # The login session (a DeviceSession: one browser's login) the action was done in, and, for an
    # action replayed from a phone's outbox, that phone's outbox credential (a SyncDevice).
    actor_device_id: Mapped[int | None] = mapped_column(ForeignKey("device_session.id"))
    actor_outbox_device_id: Mapped[int | None] = mapped_column(ForeignKey("sync_device.id"))
    # "user", "link" (a customer on a link), "system"
    actor_kind: Mapped[str] = mapped_column(String(10), default="user")
    actor_label: Mapped[str | None] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(60))
    entity_type: Mapped[str] = mapped_column(String(30))
    entity_id: Mapped[int] = mapped_column()
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[str | None] = mapped_column(String(40))

    actor = relationship("User")

    @property
    def after_data(self):
        """The after-state as a dict."""
        return json.loads(self.after) if self.after else {}


def _dump(value):
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def record(action: str, entity, *, actor=None, actor_kind: str | None = None,
           actor_label: str | None = None, before=None, after=None, note: str | None = None,
           entity_type: str | None = None) -> AuditEvent:
    """Append an audit event for entity (flushed with the caller's transaction, never committed here)."""
    event = build(action, entity, actor=actor, actor_kind=actor_kind, actor_label=actor_label, before=before,
                  after=after, note=note, entity_type=entity_type)
    db.session.add(event)
    return event


@dataclass(frozen=True)
class Actor:
    """Who did something: the person, the login session they did it in (auth.sessions, a
    DeviceSession) and, when it was replayed from a phone's outbox, that phone's outbox device
    (sync.replay, a SyncDevice). A replay has no login session: the outbox device is its device."""

    user: object = None
    login_session_id: int | None = None
    outbox_device_id: int | None = None


def current_actor(user=None) -> Actor:
    """The actor of this request: user (the caller names the person), the request's login session
    (g.login_session) and outbox device (g.outbox_device), as far as they are known."""
    if not has_request_context():
        return Actor(user)
    login_session = g.get("login_session")
    outbox_device = g.get("outbox_device")
    return Actor(user, login_session.id if login_session is not None else None,
                 outbox_device.id if outbox_device is not None else None)


def build(action: str, entity, *, actor=None, actor_kind: str | None = None,
          actor_label: str | None = None, before=None, after=None, note: str | None = None,
          entity_type: str | None = None) -> AuditEvent:
    """An audit event for entity, not added to any session: for the few events written on the side
    (transaction.short_write), e.g. a floor phone's idle switch-out during a GET. actor is a User
    (its login session and outbox device are this request's) or an Actor."""
    who = actor if isinstance(actor, Actor) else current_actor(actor)
    person = who.user
    request_id = getattr(g, "request_id", None) if has_request_context() else None
    kind = actor_kind or ("user" if person is not None else "system")
    if actor_label is None and has_request_context() and g.get("api_token") is not None and kind == "user":
        # Done through the JSON API: which of the person's tokens (an online shop, the books) did it.
        actor_label = f"API · {g.api_token.name}"[:200]
    event = AuditEvent(
        actor_user_id=person.id if person is not None else None,
        actor_device_id=who.login_session_id if kind == "user" else None,
        actor_outbox_device_id=who.outbox_device_id if kind == "user" else None,
        actor_kind=kind,
        actor_label=actor_label,
        action=action,
        entity_type=entity_type or entity.__tablename__,
        entity_id=entity.id,
        before=_dump(before),
        after=_dump(after),
        note=note,
        request_id=request_id,
    )
    return event


def timeline(entity_type: str, entity_id: int) -> list[AuditEvent]:
    """Return an entity's events, oldest first."""
    return db.session.scalars(
        db.select(AuditEvent)
        .where(AuditEvent.entity_type == entity_type, AuditEvent.entity_id == entity_id)
        .options(db.joinedload(AuditEvent.actor))
        .order_by(AuditEvent.id)
    ).all()
