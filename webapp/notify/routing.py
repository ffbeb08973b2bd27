"""Who is told of which event through which channel: the admin's choices, read by every channel.

With nothing chosen, today's behaviour holds: every event goes out by e-mail (and by SMS where SMS
is configured and the event has a template), and no group robot posts anything. A robot posts an
event only once the admin ticked it for that event (webapp/admin/notifications.py)."""
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db_types import UTCDateTime, utcnow
from ..extensions import db

ROBOT_KINDS = ("wecom", "dingtalk")
ROBOT_KIND_LABELS = {"wecom": _l("WeChat Work group robot"), "dingtalk": _l("DingTalk group robot")}

# What each event is called on the admin page (every event notify() knows has one; a test checks).
EVENT_LABELS = {
    "first_article.answered": _l("First article answered by the customer"),
    "first_article.sent": _l("First article sent to the customer"),
    "follow_up.due": _l("Follow-up due"),
    "follow_up.overdue": _l("Follow-up overdue"),
    "improvement.reminder": _l("Improvement action reminder"),
    "invoice.reminder": _l("Payment reminder to the customer"),
    "order.countersign_requested": _l("Order sent for countersignature"),
    "order.countersigned": _l("Order countersigned by the customer"),
    "order.countersigned_copy": _l("Countersigned order copy to the customer"),
    "order.eta_changed": _l("Order delivery date changed"),
    "order.received": _l("Order received by the customer"),
    "project.acceptance_requested": _l("Project acceptance requested"),
    "project.deliverable_rejected": _l("Project deliverable rejected"),
    "purchase_order.late": _l("Purchase order late"),
    "requirement.answered": _l("Requirement answered by the customer"),
    "requirement.sent": _l("Requirement sent to the customer"),
    "return.overdue": _l("Return case step overdue"),
    "shipment.arrived": _l("Shipment delivered"),
    "shipment.attempt_failed": _l("Delivery attempt failed"),
    "shipment.dispatched": _l("Order shipped"),
    "shipment.receipt_copy": _l("Signed delivery note copy to the customer"),
    "statement.answered": _l("Statement answered by the customer"),
    "statement.sent": _l("Statement sent to the customer"),
    "survey.sent": _l("Satisfaction survey sent"),
    "ticket.answered": _l("Ticket answered"),
    "ticket.assigned": _l("Ticket assigned"),
    "ticket.opened_by_customer": _l("Ticket opened by the customer"),
    "ticket.overdue": _l("Ticket overdue"),
}


class ChatRobot(db.Model):
    """A group chat robot (WeCom or DingTalk) that posts chosen events into its group."""

    __tablename__ = "chat_robot"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(12))
    # The webhook address holds the robot's own key (WeCom key=, DingTalk access_token=): shown
    # masked on the pages, never in logs.
    webhook_url: Mapped[str] = mapped_column(String(500))
    # DingTalk 加签: the secret (SEC…) the app signs each post with; "" for unsigned robots.
    secret: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # The language the robot writes in (the group's, usually the firm's).
    locale: Mapped[str] = mapped_column(String(8), default="zh", server_default="zh")
    enabled: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(String(300), default="", server_default="")

    @property
    def masked_url(self) -> str:
        """The webhook address without its key (for pages)."""
        base, _q, query = self.webhook_url.partition("?")
        return base + ("?…" + query[-4:] if query else "")


class RobotEvent(db.Model):
    """An event a robot posts into its group."""

    __tablename__ = "robot_event"

    robot_id: Mapped[int] = mapped_column(ForeignKey("chat_robot.id", ondelete="CASCADE"), primary_key=True)
    event: Mapped[str] = mapped_column(String(80), primary_key=True)


class EventChannels(db.Model):
    """An event's e-mail and SMS switches (no row: both on)."""

    __tablename__ = "notify_event"

    event: Mapped[str] = mapped_column(String(80), primary_key=True)
    email: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    sms: Mapped[bool] = mapped_column(default=True, server_default=sa.true())


def channels_of(event: str) -> EventChannels | None:
    """The event's stored switches, if the admin changed any."""
    return db.session.get(EventChannels, event)


def email_on(event: str) -> bool:
    """Whether the event goes out by e-mail (on unless the admin turned it off)."""
    row = channels_of(event)
    return row is None or row.email


def sms_on(event: str) -> bool:
    """Whether the event goes out by SMS where SMS is configured (on unless turned off)."""
    row = channels_of(event)
    return row is None or row.sms


def robots_for(event: str) -> list[ChatRobot]:
    """The enabled robots that post this event."""
    return list(db.session.scalars(db.select(ChatRobot).join(RobotEvent).where(
        RobotEvent.event == event, ChatRobot.enabled.is_(True)).order_by(ChatRobot.id)))


def robot_events(robot_id: int) -> set[str]:
    """The events a robot posts."""
    return set(db.session.scalars(db.select(RobotEvent.event).where(RobotEvent.robot_id == robot_id)))


def save_routes(email: set[str], sms: set[str], robots: dict[int, set[str]], events: list[str]) -> None:
    """Store the admin's choices for the given events: e-mail and SMS switches, and each robot's events."""
    for event in events:
        row = channels_of(event)
        if row is None:
            row = EventChannels(event=event)
            db.session.add(row)
        row.email, row.sms = event in email, event in sms
    for robot_id, chosen in robots.items():
        db.session.execute(db.delete(RobotEvent).where(RobotEvent.robot_id == robot_id))
        db.session.add_all(RobotEvent(robot_id=robot_id, event=event) for event in sorted(chosen) if event in events)
    db.session.flush()
