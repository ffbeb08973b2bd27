"""The order's whole story, from the audit trail of the order and of everything made for it (work
orders, shipments, tickets, follow-up calls, surveys), each entry told in words: when, who, what,
the photos that are its evidence and a link to the thing itself. It reads the records of the later
stages (their public models and services); the words for each event are what each domain registered."""
from dataclasses import dataclass
from datetime import datetime

from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload

from ..audit import AuditEvent
from ..extensions import db
from ..labels import label, state_label
from ..permissions import can
from ..photos import Photo, photos_of
from ..templating import date_local, datetime_local, event_label, labelled, list_in_words, money, quantity
from ..registry import event_says_state
from ..timeline import MAX_EVENTS, Entry, event_before, who_did


def order_story(order) -> tuple[list[Entry], bool]:
    """The order's entries, oldest first, and whether older ones were left out (MAX_EVENTS)."""
    from ..aftersales.models import FollowUp, Survey, Ticket
    from ..production.models import WorkOrder
    from ..shipping.models import Shipment
    work_orders = {w.id: w for w in db.session.scalars(db.select(WorkOrder).where(WorkOrder.order_id == order.id))}
    shipments = {s.id: s for s in db.session.scalars(db.select(Shipment).where(Shipment.order_id == order.id))}
    tickets = {t.id: t for t in db.session.scalars(db.select(Ticket).where(Ticket.order_id == order.id))}
    follow_ups = list(db.session.scalars(db.select(FollowUp.id).where(FollowUp.order_id == order.id)))
    surveys = list(db.session.scalars(db.select(Survey.id).where(Survey.order_id == order.id)))
    related = [db.and_(AuditEvent.entity_type == "order", AuditEvent.entity_id == order.id)]
    for kind, ids in (("work_order", list(work_orders)), ("shipment", list(shipments)), ("ticket", list(tickets)),
                      ("follow_up", follow_ups), ("survey", surveys)):
        if ids:
            related.append(db.and_(AuditEvent.entity_type == kind, AuditEvent.entity_id.in_(ids)))
    events = db.session.scalars(db.select(AuditEvent).where(db.or_(*related))
                                .options(joinedload(AuditEvent.actor))
                                .order_by(AuditEvent.id.desc()).limit(MAX_EVENTS + 1)).all()
    cut = len(events) > MAX_EVENTS
    events = sorted(events[:MAX_EVENTS], key=lambda e: (e.at, e.id))

    datas = {event.id: event.after_data for event in events}
    context = _evidence(order, events, datas, work_orders, shipments, tickets)
    story: list[Entry] = []
    for event in events:
        data = datas[event.id]
        # "→ state" only where the state changed and the words do not say it already
        moved = data.get("status") and data["status"] != event_before(event).get("status")
        entry = Entry(at=event.at, who=who_did(event), what=event_label(event.action),
                      status=state_label(data["status"], event.action)
                      if moved and not event_says_state(event.action) else "",
                      note=event.note or "", action=event.action)
        entry.people = [entry.who]
        describe = {"work_order": _work_order_event, "shipment": _shipment_event, "ticket": _ticket_event,
                    "follow_up": _after_sales_event, "survey": _after_sales_event}.get(event.entity_type, _order_event)
        describe(entry, event, data, context)
        if event.action == "work_order.progress":
            if _continues(story, entry):
                _merge(story[-1], entry, data)
                continue
            entry.progress = dict(data)
        story.append(entry)
    return story, cut


@dataclass
class _Context:
    """What the events of one order point at, each kind loaded in one query."""

    order: object
    work_orders: dict
    shipments: dict
    by_number: dict
    tickets: dict
    receipts: dict
    photos: dict
    stamped: dict
    matcher: "_Matcher"
    links: "_Links"


def _evidence(order, events, datas, work_orders, shipments, tickets) -> _Context:
    """Load the records and photos the events are about (a bounded number of queries, whatever the
    number of events)."""
    from ..production.models import Anomaly
    from ..shipping.models import DeliveryReceipt
    anomalies = {a.id: a for a in db.session.scalars(db.select(Anomaly).where(
        Anomaly.work_order_id.in_(list(work_orders))).order_by(Anomaly.id))} if work_orders else {}
    reports = [datas[e.id].get("report") for e in events if e.action == "work_order.progress"]
    receipts = {r.shipment_id: r for r in db.session.scalars(db.select(DeliveryReceipt).where(
        DeliveryReceipt.shipment_id.in_(list(shipments))))} if shipments else {}
    photos = {
        "anomaly": photos_of("anomaly", anomalies),
        "progress": photos_of("progress", [r for r in reports if isinstance(r, int)]),
        "dispatch": photos_of("dispatch", shipments),
        "receipt": photos_of("receipt", [r.id for r in receipts.values()]),
        "shipment_problem": photos_of("shipment_problem", [e.id for e in events if e.action == "shipment.problem"]),
    }
    stamped_ids = [r.stamped_photo_id for r in receipts.values() if r.stamped_photo_id]
    stamped = ({p.id: p for p in db.session.scalars(db.select(Photo).where(Photo.id.in_(stamped_ids)))}
               if stamped_ids else {})
    return _Context(order=order, work_orders=work_orders, shipments=shipments,
                    by_number={s.number: s for s in shipments.values()}, tickets=tickets, receipts=receipts,
                    photos=photos, stamped=stamped, matcher=_Matcher(work_orders, anomalies), links=_Links(order))


def _work_order_event(entry: Entry, event: AuditEvent, data: dict, context: _Context) -> None:
    """Anomalies (with their photos), progress, QC rejects and passes with their quantities."""
    work_order = context.work_orders[event.entity_id]
    entry.work_order_id = work_order.id
    entry.subject, entry.url = work_order.number, context.links.work_order(work_order)
    photos = context.photos
    if event.action == "work_order.anomaly":
        anomaly = context.matcher.raised(event)
        kind_words = label(data.get("kind"), "anomaly_kind")
        entry.details.append(f"{kind_words} · {_('work stopped')}" if data.get("severity") == "blocking"
                             else kind_words)
        if data.get("new_eta"):
            entry.details.append(labelled(_("New expected date"), date_local(data["new_eta"])))
        if anomaly is not None:
            entry.photos = photos["anomaly"].get(anomaly.id, [])
            entry.url = context.links.anomaly(anomaly)
            if anomaly.contingency:
                entry.details.append(labelled(_("Contingency plan"), anomaly.contingency))
    elif event.action == "work_order.anomaly_resolved":
        anomaly = context.matcher.resolved(event)
        if anomaly is not None:
            entry.details.append(labelled(label(anomaly.kind, "anomaly_kind"), anomaly.note[:120]))
            entry.photos = photos["anomaly"].get(anomaly.id, [])
            entry.url = context.links.anomaly(anomaly)
    elif event.action == "work_order.progress":
        entry.details.append(_progress_words(data))
        entry.photos = photos["progress"].get(data.get("report"), [])
    elif event.action == "work_order.fail_qc":
        what = _("scrap") if data.get("disposition") == "scrap" else _("rework")
        entry.details.append(_("%(n)s rejected (%(what)s)", n=quantity(data.get("rejected")), what=what))
    elif event.action == "work_order.pass_qc" and data.get("good"):
        entry.details.append(_("%(n)s good", n=quantity(data["good"])))


def _shipment_event(entry: Entry, event: AuditEvent, data: dict, context: _Context) -> None:
    """The courier's dispatch and problems, and the customer's receipt, with notes and photos."""
    shipment = context.shipments[event.entity_id]
    entry.subject, entry.url = shipment.number, context.links.shipment(shipment)
    if event.action == "shipment.dispatch":
        entry.photos = context.photos["dispatch"].get(shipment.id, [])
        how = " ".join(part for part in (shipment.carrier, shipment.tracking_no) if part)
        if how:
            entry.details.append(how)
    elif event.action == "shipment.deliver":
        receipt = context.receipts.get(shipment.id)
        if receipt is not None:
            entry.details += _receipt_words(receipt)
            stamped = context.stamped.get(receipt.stamped_photo_id)
            entry.photos = ([stamped] if stamped else []) + context.photos["receipt"].get(receipt.id, [])
    elif event.action == "shipment.problem":
        entry.photos = context.photos["shipment_problem"].get(event.id, [])
    elif event.action == "shipment.line_checked":
        entry.details.append(_line_words(data))


def _ticket_event(entry: Entry, event: AuditEvent, data: dict, context: _Context) -> None:
    """A ticket answered, reopened by the customer or confirmed resolved."""
    ticket = context.tickets[event.entity_id]
    entry.subject, entry.url = ticket.subject, context.links.ticket(ticket)


def _after_sales_event(entry: Entry, event: AuditEvent, data: dict, context: _Context) -> None:
    """The follow-up call made, the survey answered (with its ratings)."""
    entry.subject, entry.url = _("After-sales"), context.links.aftersales()
    if event.action == "survey.answer":
        entry.details.append(_ratings_words(data))


def _order_event(entry: Entry, event: AuditEvent, data: dict, context: _Context) -> None:
    """Review verdicts, approvals, payments, dates, tickets opened, shipments, returns: events recorded
    on the order itself."""
    action, order, links = event.action, context.order, context.links
    if action == "order.review":
        entry.details.append(labelled(label(data.get("department"), "role"), label(data.get("verdict"), "verdict")))
        entry.url = links.order()
    elif action in ("order.approve", "order.reject"):
        entry.details.append(_("as %(role)s", role=label(data.get("role"), "role")))
        entry.url = links.order()
    elif action == "order.override_concern":
        entry.details.append(label(data.get("department"), "role"))
        entry.url = links.order()
    elif action == "order.payment":  # the amount only for those who may see money (permissions.PRICE_ROLES)
        kind = label(data.get("kind"), "payment_kind")
        entry.details.append(labelled(kind, money(data.get("amount"), order.currency))
                             if links.may["order.prices"] else kind)
    elif action == "order.eta_changed":
        entry.details.append(_("%(before)s → %(after)s", before=date_local(event_before(event).get("date")),
                               after=date_local(data.get("date"))))
    elif action == "ticket.opened":
        entry.subject = data.get("subject", "")
        entry.url = links.ticket_id(data.get("ticket"))
        if data.get("first_response_due_at"):
            entry.details.append(_("First answer due %(when)s", when=datetime_local(
                datetime.fromisoformat(data["first_response_due_at"]), "short")))
    elif action == "follow_up.created":
        entry.url = links.aftersales()
        if data.get("due_at"):
            entry.details.append(_("Follow-up call due %(when)s", when=datetime_local(
                datetime.fromisoformat(data["due_at"]), "short")))
    elif action == "survey.sent":
        entry.url = links.aftersales()
    elif action in ("shipment.created", "return.opened", "return.closed"):
        shipment = context.by_number.get(data.get("shipment"))
        if shipment is not None:
            entry.subject, entry.url = shipment.number, links.shipment(shipment)
        if action == "return.opened":
            # what went wrong in the reader's language, from the signed receipt (the stored reason is
            # in the signer's)
            receipt = context.receipts.get(shipment.id) if shipment is not None else None
            problems = _problems(receipt) if receipt is not None else []
            entry.details += problems or ([data["reason"]] if data.get("reason") else [])
    elif action == "work_order.created":
        entry.subject = data.get("work_order", "")
        entry.url = links.plan()
    elif action in ("cost_sheet.saved", "cost_sheet.finalised", "order.close_override"):
        entry.url = links.cost_sheet()


def _progress_words(data: dict) -> str:
    good, scrap = data.get("good") or "0", data.get("scrap") or "0"
    if scrap and scrap not in ("0", "0.000"):
        return _("+%(good)s good, %(scrap)s scrap", good=quantity(good), scrap=quantity(scrap))
    return _("+%(good)s good", good=quantity(good))


def _line_words(data: dict) -> str:
    text = f"{data.get('model', '')} × {quantity(data.get('quantity'))}"
    return f"{text} · {labelled(_('Batch'), data['batch'])}" if data.get("batch") else text


def _receipt_words(receipt) -> list[str]:
    """Who signed, where, and what was wrong (damage, shortfall) in the reader's language."""
    signer = receipt.signer_name
    if receipt.signer_relation:
        signer = _("%(text)s (%(aside)s)", text=signer, aside=receipt.signer_relation)
    words = [labelled(_("Signed by"), signer)]
    if receipt.taken_on == "courier":
        words.append(_("signed on the courier's phone"))
    return words + _problems(receipt)


def _problems(receipt) -> list[str]:
    """Each damaged, missing or short line of a receipt in words, in the reader's language."""
    from ..shipping.services import is_problem, problem_text
    return [problem_text(line) for line in receipt.lines if is_problem(line)]


def _ratings_words(data: dict) -> str:
    names = (("requirement_response", _("Requirement response")),
             ("delivery_timeliness", _("Delivery timeliness")), ("service_quality", _("Service quality")))
    return " · ".join(labelled(text, f"{data[key]} / 5") for key, text in names if key in data)


def _continues(story: list[Entry], entry: Entry) -> bool:
    """Progress reports follow each other by the dozen: one entry for a run on the same work order."""
    return bool(story) and story[-1].action == "work_order.progress" and story[-1].work_order_id == entry.work_order_id


def _merge(into: Entry, entry: Entry, data: dict) -> None:
    """Add a progress report to the run before it: the sums, the people, the photos, the notes."""
    from decimal import Decimal
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


class _Links:
    """Links to the things entries are about, for the records the reader may open."""

    def __init__(self, order):
        self.order_row = order
        self.may = {action: can(current_user, action) for action in
                    ("workorder.view", "shipment.view", "aftersales.view", "costsheet.view", "order.view",
                     "order.prices")}

    def order(self):
        return url_for("orders.detail", order_id=self.order_row.id) if self.may["order.view"] else None

    def plan(self):
        return url_for("production.plan", order_id=self.order_row.id) if self.may["workorder.view"] else None

    def work_order(self, work_order):
        if not self.may["workorder.view"]:
            return None
        return url_for("production.plan", order_id=self.order_row.id, _anchor=f"wo-{work_order.id}")

    def anomaly(self, anomaly):
        if not self.may["workorder.view"]:
            return None
        return url_for("production.plan", order_id=self.order_row.id, _anchor=f"anomaly-{anomaly.id}")

    def shipment(self, shipment):
        return url_for("shipping.detail", shipment_id=shipment.id) if self.may["shipment.view"] else None

    def ticket(self, ticket):
        return self.ticket_id(ticket.id)

    def ticket_id(self, ticket_id):
        if not ticket_id or not self.may["aftersales.view"]:
            return None
        return url_for("aftersales.ticket", ticket_id=ticket_id)

    def aftersales(self):
        return url_for("aftersales.order", order_id=self.order_row.id) if self.may["aftersales.view"] else None

    def cost_sheet(self):
        return url_for("costing.sheet", order_id=self.order_row.id) if self.may["costsheet.view"] else None


def delivery_evidence(order_id: int) -> list[dict]:
    """The order's signed receipts that carry photos or a problem: what a ticket about the delivery is
    answered with (shipment, signer, problems in words, photos)."""
    from ..shipping.models import DeliveryReceipt, Shipment
    receipts = db.session.scalars(db.select(DeliveryReceipt).join(Shipment).where(Shipment.order_id == order_id)
                                  .options(joinedload(DeliveryReceipt.shipment)).order_by(DeliveryReceipt.id)).all()
    photos = photos_of("receipt", [r.id for r in receipts])
    out = []
    for receipt in receipts:
        if not photos[receipt.id] and not receipt.has_exception:
            continue
        out.append({"shipment": receipt.shipment, "receipt": receipt, "words": _receipt_words(receipt),
                    "photos": photos[receipt.id]})
    return out
