"""The order's whole story, from the audit trail of the order and of everything made for it (work
orders, shipments, tickets, follow-up calls, surveys), each entry told in words: when, who, what,
the photos that are its evidence and a link to the thing itself. The orders domain tells its own
events; each later stage tells those about its records, and those it recorded on the order itself,
through the part it registered (registry.StoryPart: production/story.py, shipping/story.py, …), so
that this module reads none of their records."""
from dataclasses import dataclass, field

from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload

from .. import registry
from ..audit import AuditEvent
from ..extensions import db
from ..labels import label, state_label
from ..permissions import can
from ..templating import date_local, event_label, labelled, money
from ..timeline import MAX_EVENTS, Entry, event_before, who_did


@dataclass
class Story:
    """An order's story being told: the records of each kind the events are about ({audit entity
    type: {id: row}}), the events and their after-data, what each part loaded for them (`parts`, by
    domain name), and what the reader may open (`may(action)`, asked once per action)."""

    order: object
    records: dict
    events: list = field(default_factory=list)
    datas: dict = field(default_factory=dict)
    parts: dict = field(default_factory=dict)
    _may: dict = field(default_factory=dict)

    def may(self, action: str) -> bool:
        """Whether the reader may do action (links are offered only to what they may open)."""
        if action not in self._may:
            self._may[action] = can(current_user, action)
        return self._may[action]


def order_story(order) -> tuple[list[Entry], bool]:
    """The order's entries, oldest first, and whether older ones were left out (MAX_EVENTS)."""
    parts = registry.story_parts()
    records: dict = {}
    owners: dict = {}  # audit entity type or order-event action → the part that tells it
    for name, part in parts.items():
        if part.records is not None:
            for kind, rows in part.records(order).items():
                records[kind] = rows
                owners[kind] = part
        for action in part.order_events:
            owners[action] = part
    related = [db.and_(AuditEvent.entity_type == "order", AuditEvent.entity_id == order.id)]
    for kind, rows in records.items():
        if rows:
            related.append(db.and_(AuditEvent.entity_type == kind, AuditEvent.entity_id.in_(list(rows))))
    events = db.session.scalars(db.select(AuditEvent).where(db.or_(*related))
                                .options(joinedload(AuditEvent.actor))
                                .order_by(AuditEvent.id.desc()).limit(MAX_EVENTS + 1)).all()
    cut = len(events) > MAX_EVENTS
    events = sorted(events[:MAX_EVENTS], key=lambda e: (e.at, e.id))

    context = Story(order=order, records=records, events=events,
                    datas={event.id: event.after_data for event in events})
    for name, part in parts.items():
        if part.evidence is not None:
            context.parts[name] = part.evidence(context)
    story: list[Entry] = []
    for event in events:
        data = context.datas[event.id]
        # "→ state" only where the state changed and the words do not say it already
        moved = data.get("status") and data["status"] != event_before(event).get("status")
        entry = Entry(at=event.at, who=who_did(event), what=event_label(event.action),
                      status=state_label(data["status"], event.action)
                      if moved and not registry.event_says_state(event.action) else "",
                      note=event.note or "", action=event.action)
        entry.people = [entry.who]
        part = owners.get(event.action if event.entity_type == "order" else event.entity_type)
        if part is None:
            _order_event(entry, event, data, context)
            story.append(entry)
            continue
        part.describe(entry, event, data, context)
        if part.merge is not None and part.merge(story[-1] if story else None, entry, data):
            continue
        story.append(entry)
    return story, cut


def _order_event(entry: Entry, event: AuditEvent, data: dict, context: Story) -> None:
    """Review verdicts, approvals, payments, dates: the order's own events."""
    action, order = event.action, context.order
    if action == "order.review":
        entry.details.append(labelled(label(data.get("department"), "role"), label(data.get("verdict"), "verdict")))
        entry.url = order_url(context)
    elif action in ("order.approve", "order.reject"):
        entry.details.append(_("as %(role)s", role=label(data.get("role"), "role")))
        entry.url = order_url(context)
    elif action == "order.override_concern":
        entry.details.append(label(data.get("department"), "role"))
        entry.url = order_url(context)
    elif action == "order.payment":  # the amount only for those who may see money (permissions.PRICE_ROLES)
        kind = label(data.get("kind"), "payment_kind")
        entry.details.append(labelled(kind, money(data.get("amount"), order.currency))
                             if context.may("order.prices") else kind)
    elif action == "order.eta_changed":
        entry.details.append(_("%(before)s → %(after)s", before=date_local(event_before(event).get("date")),
                               after=date_local(data.get("date"))))


def order_url(context: Story) -> str | None:
    """The order's page, for a reader who may open it."""
    return url_for("orders.detail", order_id=context.order.id) if context.may("order.view") else None

