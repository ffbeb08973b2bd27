"""What production tells in an order's whole story (orders/story.py, registry.StoryPart): its work
orders' events with their anomalies (and photos), progress (a run of reports is one entry), QC
rejects and passes, and the work orders it recorded on the order."""
from decimal import Decimal

from flask import url_for
from flask_babel import gettext as _

from ..audit import AuditEvent
from ..extensions import db
from ..labels import label
from ..photos import photos_of
from ..registry import StoryPart
from ..templating import date_local, labelled, list_in_words, quantity
from .models import Anomaly, WorkOrder


def records(order) -> dict:
    """The order's work orders."""
    return {"work_order": {w.id: w for w in db.session.scalars(
        db.select(WorkOrder).where(WorkOrder.order_id == order.id))}}


def evidence(story) -> dict:
    """The work orders' anomalies and the photos of anomalies and progress reports."""
    work_orders = story.records["work_order"]
    anomalies = {a.id: a for a in db.session.scalars(db.select(Anomaly).where(
        Anomaly.work_order_id.in_(list(work_orders))).order_by(Anomaly.id))} if work_orders else {}
    reports = [story.datas[e.id].get("report") for e in story.events if e.action == "work_order.progress"]
    return {"photos": {"anomaly": photos_of("anomaly", anomalies),
                       "progress": photos_of("progress", [r for r in reports if isinstance(r, int)])},
            "matcher": _Matcher(work_orders, anomalies)}


def _plan_url(story, **anchor) -> str | None:
    if not story.may("workorder.view"):
        return None
    return url_for("production.plan", order_id=story.order.id, **anchor)


def describe(entry, event: AuditEvent, data: dict, story) -> None:
    """Anomalies (with their photos), progress, QC rejects and passes with their quantities; the
    work orders made for the order."""
    if event.entity_type == "order":  # work_order.created, recorded on the order
        entry.subject = data.get("work_order", "")
        entry.url = _plan_url(story)
        return
    work_order = story.records["work_order"][event.entity_id]
    mine = story.parts["production"]
    photos, matcher = mine["photos"], mine["matcher"]
    entry.work_order_id = work_order.id
    entry.subject, entry.url = work_order.number, _plan_url(story, _anchor=f"wo-{work_order.id}")
    if event.action == "work_order.anomaly":
        anomaly = matcher.raised(event)
        kind_words = label(data.get("kind"), "anomaly_kind")
        entry.details.append(f"{kind_words} · {_('work stopped')}" if data.get("severity") == "blocking"
                             else kind_words)
        if data.get("new_eta"):
            entry.details.append(labelled(_("New expected date"), date_local(data["new_eta"])))
        if anomaly is not None:
            entry.photos = photos["anomaly"].get(anomaly.id, [])
            entry.url = _plan_url(story, _anchor=f"anomaly-{anomaly.id}")
            if anomaly.contingency:
                entry.details.append(labelled(_("Contingency plan"), anomaly.contingency))
    elif event.action == "work_order.anomaly_resolved":
        anomaly = matcher.resolved(event)
        if anomaly is not None:
            entry.details.append(labelled(label(anomaly.kind, "anomaly_kind"), anomaly.note[:120]))
            entry.photos = photos["anomaly"].get(anomaly.id, [])
            entry.url = _plan_url(story, _anchor=f"anomaly-{anomaly.id}")
    elif event.action == "work_order.progress":
        entry.details.append(_progress_words(data))
        entry.photos = photos["progress"].get(data.get("report"), [])
    elif event.action == "work_order.fail_qc":
        what = _("scrap") if data.get("disposition") == "scrap" else _("rework")
        entry.details.append(_("%(n)s rejected (%(what)s)", n=quantity(data.get("rejected")), what=what))
    elif event.action == "work_order.pass_qc" and data.get("good"):
        entry.details.append(_("%(n)s good", n=quantity(data["good"])))


def merge(previous, entry, data: dict) -> bool:
    """Progress reports follow each other by the dozen: one entry for a run on the same work order
    (True: entry was added to the run before it)."""
    if entry.action != "work_order.progress":
        return False
    if (previous is not None and previous.action == "work_order.progress"
            and previous.work_order_id == entry.work_order_id):
        _merge(previous, entry, data)
        return True
    entry.progress = dict(data)
    return False


def _progress_words(data: dict) -> str:
    good, scrap = data.get("good") or "0", data.get("scrap") or "0"
    if scrap and scrap not in ("0", "0.000"):
        return _("+%(good)s good, %(scrap)s scrap", good=quantity(good), scrap=quantity(scrap))
    return _("+%(good)s good", good=quantity(good))


def _merge(into, entry, data: dict) -> None:
    """Add a progress report to the run before it: the sums, the people, the photos, the notes."""
    into.count += 1
    into.at = entry.at
    for key in ("good", "scrap"):
        into.progress[key] = str(Decimal(into.progress.get(key) or "0") + Decimal(data.get(key) or "0"))
    into.details = [_progress_words(into.progress)]
    if entry.who not in into.people:
        into.people.append(entry.who)
        into.who = list_in_words(into.people)
    into.photos += entry.photos
    if entry.note:
        into.note = f"{into.note}\n{entry.note}".strip()


class _Matcher:
    """Which anomaly an event is about: by the id the event carries, or, for an event recorded before
    events carried it, by order of appearance on its work order. (A progress report is found only by
    the id its event carries: there are too many to match.)"""

    def __init__(self, work_orders: dict, anomalies: dict):
        self.anomalies_of = {w: [a for a in anomalies.values() if a.work_order_id == w] for w in work_orders}
        self.anomalies = anomalies
        self.seen_anomalies: dict[int, int] = {}

    def raised(self, event: AuditEvent):
        """The anomaly an "anomaly raised" event is about."""
        known = event.after_data.get("anomaly")
        if known in self.anomalies:
            return self.anomalies[known]
        index = self.seen_anomalies.get(event.entity_id, 0)
        self.seen_anomalies[event.entity_id] = index + 1
        candidates = self.anomalies_of.get(event.entity_id, [])
        return candidates[index] if index < len(candidates) else None

    def resolved(self, event: AuditEvent):
        """The anomaly an "anomaly resolved" event closed."""
        known = event.after_data.get("anomaly")
        if known in self.anomalies:
            return self.anomalies[known]
        for anomaly in self.anomalies_of.get(event.entity_id, []):
            if anomaly.resolved_at is not None and anomaly.resolution == (event.note or ""):
                return anomaly
        return None


PART = StoryPart(records=records, evidence=evidence, describe=describe,
                 order_events=frozenset({"work_order.created"}), merge=merge)
