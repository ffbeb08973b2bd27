"""A record's story from the audit trail, each entry told in words: when, who, what (the words each
domain registered for its events, webapp/registry.py), the state it led to. The order's whole story,
which reads the records of several domains, is orders/story.py."""
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _

from .audit import AuditEvent
from .labels import state_label
from .photos import Photo
from .templating import event_label, labelled

# The most events one page tells (the newest): an order with years of after-sales stays one page.
MAX_EVENTS = 1000


@dataclass
class Entry:
    """One thing that happened, ready to show."""

    at: datetime
    who: str
    what: str
    status: str = ""
    subject: str = ""
    url: str | None = None
    details: list[str] = field(default_factory=list)
    note: str = ""
    photos: list[Photo] = field(default_factory=list)
    count: int = 1
    work_order_id: int | None = None
    action: str = ""
    people: list[str] = field(default_factory=list)
    progress: dict | None = None  # a run of progress reports: their sums so far


def who_did(event: AuditEvent) -> str:
    """The person, the courier, the customer (with the name they gave) or the system."""
    if event.actor_kind == "link":
        if event.actor_label == "courier":
            return _("Courier")
        return labelled(_("customer"), event.actor_label) if event.actor_label else _("customer")
    if event.actor is not None:
        return event.actor.name
    return _("system")


def entries_for(events) -> list[Entry]:
    """Plain entries for a record's own events (a requirement's timeline)."""
    out = []
    for event in events:
        status = event.after_data.get("status")
        out.append(Entry(at=event.at, who=who_did(event), what=event_label(event.action),
                         status=state_label(status, event.action) if status else "", note=event.note or ""))
    return out


def event_before(event: AuditEvent) -> dict:
    """The before-state of an event as a dict."""
    import json
    return json.loads(event.before) if event.before else {}
