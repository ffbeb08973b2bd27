"""What after-sales tells in an order's whole story (orders/story.py, registry.StoryPart): tickets
answered, reopened or confirmed, follow-up calls made, surveys answered (with their ratings), and the
tickets, calls and surveys it recorded on the order."""
from datetime import datetime

from flask import url_for
from flask_babel import gettext as _

from ..audit import AuditEvent
from ..extensions import db
from ..registry import StoryPart
from ..templating import datetime_local, labelled
from .models import FollowUp, Survey, Ticket


def records(order) -> dict:
    """The order's tickets, follow-up calls and surveys (of the last two only their ids)."""
    tickets = db.session.scalars(db.select(Ticket).where(Ticket.order_id == order.id))
    follow_ups = db.session.scalars(db.select(FollowUp.id).where(FollowUp.order_id == order.id))
    surveys = db.session.scalars(db.select(Survey.id).where(Survey.order_id == order.id))
    return {"ticket": {t.id: t for t in tickets}, "follow_up": {i: i for i in follow_ups},
            "survey": {i: i for i in surveys}}


def _ticket_url(story, ticket_id) -> str | None:
    if not ticket_id or not story.may("aftersales.view"):
        return None
    return url_for("aftersales.ticket", ticket_id=ticket_id)


def _aftersales_url(story) -> str | None:
    return url_for("aftersales.order", order_id=story.order.id) if story.may("aftersales.view") else None


def describe(entry, event: AuditEvent, data: dict, story) -> None:
    """A ticket answered, reopened by the customer or confirmed resolved; the follow-up call made, the
    survey answered (with its ratings); tickets opened, calls planned and surveys sent on the order."""
    action = event.action
    if event.entity_type == "ticket":
        ticket = story.records["ticket"][event.entity_id]
        entry.subject, entry.url = ticket.subject, _ticket_url(story, ticket.id)
    elif event.entity_type in ("follow_up", "survey"):
        entry.subject, entry.url = _("After-sales"), _aftersales_url(story)
        if action == "survey.answer":
            entry.details.append(_ratings_words(data))
    elif action == "ticket.opened":
        entry.subject = data.get("subject", "")
        entry.url = _ticket_url(story, data.get("ticket"))
        if data.get("first_response_due_at"):
            entry.details.append(_("First answer due %(when)s", when=datetime_local(
                datetime.fromisoformat(data["first_response_due_at"]), "short")))
    elif action == "follow_up.escalated":
        entry.url = _aftersales_url(story)
    elif action == "follow_up.created":
        entry.url = _aftersales_url(story)
        if data.get("due_at"):
            entry.details.append(_("Follow-up call due %(when)s", when=datetime_local(
                datetime.fromisoformat(data["due_at"]), "short")))
    elif action == "survey.sent":
        entry.url = _aftersales_url(story)


def _ratings_words(data: dict) -> str:
    names = (("requirement_response", _("Requirement response")),
             ("delivery_timeliness", _("Delivery timeliness")), ("service_quality", _("Service quality")))
    return " · ".join(labelled(text, f"{data[key]} / 5") for key, text in names if key in data)


PART = StoryPart(records=records, describe=describe,
                 order_events=frozenset({"ticket.opened", "follow_up.created", "follow_up.escalated", "survey.sent"}))
