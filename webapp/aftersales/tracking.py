"""The order's page for the customer: one link per order (the after-sales order link, purpose
"order_service", whose tokens issued before keep working) that shows where the order stands, the
promised date and any new one with its reason, each shipment with its transit events, what they
signed (PDF copies), the inspection reports, their tickets and the survey when it is due; and what
the customer chooses to be told by mail.

The link is issued when the order is countersigned and goes into every mail the customer gets about
the order (a notify footer); it stops working TRACK_LINK_DAYS_AFTER_CLOSE days after the order is
closed or cancelled. No internal cost, price, note or staff-only record reaches these pages."""
from datetime import timedelta
from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from markupsafe import Markup
from sqlalchemy.orm import selectinload

from .. import links, qr, signals
from ..audit import AuditEvent
from ..extensions import db
from ..notify import Recipient, register_filter, register_footer
from ..orders import lifecycle as order_lifecycle
from ..production import WorkOrder
from ..projects import DELIVERABLE_LABELS
from ..projects import services as project_services
from ..quality import Inspection
from ..shipping import (DOCUMENT_KIND_CHOICES, NOTE_CODES, ReturnCase, Shipment, ShipmentDocument, ShipmentLine,
                        transit)
from ..wallclock import utcnow
from .models import NOTICE_KINDS, NotificationPreference, Survey, Ticket

# The link lives while the order runs; its end is set by the order's close (link_ended).
TRACK_LINK_DAYS = 3650

STEPS = (
    ("confirmed", _l("Confirmed")),
    ("production", _l("In production")),
    ("inspected", _l("Inspected")),
    ("shipped", _l("Shipped")),
    ("transit", _l("On the way")),
    ("delivered", _l("Delivered")),
    ("aftersales", _l("After-sales")),
)
# A service project (服务业) has deliverables, not parcels: its customer's steps.
PROJECT_STEPS = (
    ("confirmed", _l("Confirmed")),
    ("in_progress", _l("In progress")),
    ("accepted", _l("Accepted (验收)")),
    ("aftersales", _l("After-sales")),
)
NOTICE_LABELS = {
    "eta": _l("A new expected date"),
    "shipped": _l("A shipment has left"),
    "delayed": _l("A delivery attempt failed"),
    "delivered": _l("A shipment was delivered"),
    "ticket": _l("We answered your question"),
}


def track_link(order) -> links.AccessLink:
    """The order's live link for the customer, issued if there is none."""
    return links.current("order_service", order.id) or links.issue("order_service", order.id, days=TRACK_LINK_DAYS)


def has_page(order) -> bool:
    """An order the customer may follow: approved (countersigned or past it) and not cancelled."""
    return order.status in order_lifecycle.TICKET_OPEN


def ended_at(order):
    """When the order was closed or cancelled (None while it runs)."""
    if order.status not in order_lifecycle.ENDED:
        return None
    return db.session.scalar(db.select(AuditEvent.at).where(
        AuditEvent.entity_type == "order", AuditEvent.entity_id == order.id,
        AuditEvent.action.in_(("order.close", "order.cancel"))).order_by(AuditEvent.id.desc()).limit(1))


def link_ended(order) -> bool:
    """Whether the order's page is offline: the set time after it closed has passed."""
    ended = ended_at(order)
    days = int(current_app.config.get("TRACK_LINK_DAYS_AFTER_CLOSE") or 180)
    return ended is not None and utcnow() >= ended + timedelta(days=days)


# --- where the order stands ----------------------------------------------------------------------

def progress(order) -> int | None:
    """How much of the order is made, in percent of what its work orders ask (None without work orders)."""
    work_orders = db.session.scalars(db.select(WorkOrder).where(WorkOrder.order_id == order.id)).all()
    wanted = sum((w.quantity for w in work_orders), Decimal("0"))
    if not wanted:
        return None
    made = sum((min(w.good, w.quantity) for w in work_orders), Decimal("0"))
    return int(made * 100 / wanted)


def current_step(order, shipments, open_after_sales: bool) -> str:
    """Which step of STEPS the order is at."""
    status = order.status
    if status in order_lifecycle.SETTLED:
        return "aftersales" if open_after_sales else "delivered"
    if status == "shipped":
        return "transit" if any(s.status == "dispatched" for s in shipments) else "delivered"
    if any(s.status in ("dispatched", "delivered", "delivered_with_exception") for s in shipments):
        return "shipped"
    if status == "ready_to_ship":
        return "inspected"
    if status == "in_production":
        return "production"
    return "confirmed"


def steps(order, shipments, open_after_sales: bool, deliverables=None) -> list[dict]:
    """The step line: each step's label and whether it is done, the current one or still to come
    (a project's own steps when deliverables are given)."""
    if deliverables is not None:
        line, now = PROJECT_STEPS, project_step(order, deliverables, open_after_sales)
    else:
        line, now = STEPS, current_step(order, shipments, open_after_sales)
    keys = [key for key, _label in line]
    at = keys.index(now)
    return [{"key": key, "label": label, "state": "done" if i < at else ("now" if i == at else "todo")}
            for i, (key, label) in enumerate(line)
            if key != "aftersales" or open_after_sales or now == "aftersales"]


def project_step(order, deliverables, open_after_sales: bool) -> str:
    """Which of PROJECT_STEPS a project is at: accepted once every deliverable is (the order delivered),
    in progress once any work is reported or handed over."""
    if order.status in order_lifecycle.SETTLED:
        return "aftersales" if open_after_sales else "accepted"
    if any(d.progress_pct > 0 or d.status != "open" for d in deliverables):
        return "in_progress"
    return "confirmed"


def project_context(order) -> dict:
    """A project's deliverables for its customer's page, where to accept them (while any is open) and
    the token its signed acceptance's PDF copy downloads through."""
    deliverables = project_services.deliverables_of(order.id)
    live = links.current("project_acceptance", order.id)
    newest = db.session.scalars(db.select(links.AccessLink).where(
        links.AccessLink.purpose == "project_acceptance", links.AccessLink.object_id == order.id)
        .order_by(links.AccessLink.id.desc()).limit(1)).first()
    return {"deliverables": deliverables, "deliverable_labels": DELIVERABLE_LABELS,
            "accept_url": live.url if live is not None and any(d.status != "accepted" for d in deliverables) else None,
            "acceptance_token": newest.token if newest is not None else None}


def eta_change(order) -> dict | None:
    """The newest expected date we told the customer and its reason, when it moved from the promised one."""
    if order.revised_date is None or order.revised_date == order.delivery_date:
        return None
    reason = db.session.scalar(db.select(AuditEvent.note).where(
        AuditEvent.entity_type == "order", AuditEvent.entity_id == order.id,
        AuditEvent.action == "order.eta_changed").order_by(AuditEvent.id.desc()).limit(1))
    return {"date": order.revised_date, "reason": reason or "", "later": order.revised_date > (order.delivery_date or order.revised_date)}


def shipment_rows(order) -> list[dict]:
    """Each shipment with what the customer may see: carrier, tracking number, its expected date, its
    transit events, where to sign (while it is on the way) and the PDF of what they signed. A fixed
    number of queries however many shipments the order has."""
    shipments = db.session.scalars(db.select(Shipment).where(Shipment.order_id == order.id)
                                   .options(selectinload(Shipment.lines).joinedload(ShipmentLine.order_line),
                                            selectinload(Shipment.receipt))
                                   .order_by(Shipment.id)).all()
    ids = [s.id for s in shipments]
    events = transit.events_of(ids)
    documents: dict[int, list] = {}  # what the firm attached for the customer (certificates, reports)
    for document in db.session.scalars(db.select(ShipmentDocument).where(
            ShipmentDocument.shipment_id.in_(ids), ShipmentDocument.customer_visible.is_(True))
            .order_by(ShipmentDocument.id)) if ids else ():
        documents.setdefault(document.shipment_id, []).append(document)
    newest = {}  # the newest receipt link of each shipment (live, used or replaced)
    if ids:
        for link in db.session.scalars(db.select(links.AccessLink).where(
                links.AccessLink.purpose == "delivery_receipt", links.AccessLink.object_id.in_(ids))
                .order_by(links.AccessLink.id)):
            newest[link.object_id] = link
    rows = []
    for shipment in shipments:
        receipt_link = newest.get(shipment.id)
        rows.append({
            "shipment": shipment, "events": events[shipment.id],
            "sign_url": receipt_link.url if receipt_link is not None and receipt_link.is_live
            and shipment.status == "dispatched" else None,
            "receipt_token": receipt_link.token if receipt_link is not None and shipment.receipt is not None else None,
            "documents": documents.get(shipment.id, []),
        })
    return rows


def countersign_token(order) -> str | None:
    """The token of the link the order was countersigned through (its PDF copy downloads from it)."""
    link = db.session.scalars(db.select(links.AccessLink).where(
        links.AccessLink.purpose == "order_countersign", links.AccessLink.object_id == order.id,
        links.AccessLink.used_at.is_not(None)).order_by(links.AccessLink.id.desc()).limit(1)).first()
    return link.token if link is not None else None


def inspections(order) -> list:
    """The order's decided final inspections (the report the customer gets: result, sample, values)."""
    return db.session.scalars(db.select(Inspection).join(WorkOrder, WorkOrder.id == Inspection.work_order_id)
                              .where(WorkOrder.order_id == order.id, Inspection.stage == "final",
                                     Inspection.result != "pending")
                              .order_by(Inspection.decided_at, Inspection.id)).all()


def due_survey(order) -> Survey | None:
    """The survey waiting for the customer's answer, if its link still works."""
    survey = db.session.scalar(db.select(Survey).where(Survey.order_id == order.id, Survey.status == "sent")
                               .order_by(Survey.id.desc()).limit(1))
    return survey if survey is not None and survey.link.is_live else None


def page_context(order, tickets: list[Ticket]) -> dict:
    """What the customer's order page shows besides the tickets' forms."""
    rows = shipment_rows(order)
    open_after_sales = any(t.is_open for t in tickets) or bool(_open_returns(order))
    project = project_context(order) if order.kind == "project" else {}
    return {
        **project,
        "steps": steps(order, [r["shipment"] for r in rows], open_after_sales, project.get("deliverables")),
        "progress": progress(order) if order.status == "in_production" else None,
        "eta": eta_change(order), "shipments": rows, "countersign_token": countersign_token(order),
        "inspections": inspections(order), "survey": due_survey(order),
        "event_kinds": transit.KIND_LABELS, "event_reasons": transit.REASON_LABELS,
        "document_kinds": dict(DOCUMENT_KIND_CHOICES),
    }


def customer_document(order, document_id: int):
    """A document the firm attached to one of the order's shipments for the customer to see, or None
    (another order's, a staff-only one, or none)."""
    document = db.session.get(ShipmentDocument, document_id)
    if document is None or not document.customer_visible:
        return None
    shipment = db.session.get(Shipment, document.shipment_id)
    return document if shipment is not None and shipment.order_id == order.id else None


def _open_returns(order) -> list:
    """The order's return cases not closed yet (ids)."""
    return db.session.scalars(db.select(ReturnCase.id).where(ReturnCase.order_id == order.id,
                                                             ReturnCase.status != "closed")).all()


# --- what the customer chooses to be told ----------------------------------------------------------

def contact_email(order) -> str:
    """The address the order's mail goes to (the requirement's contact, else the customer's:
    notify.Recipient.customer_of), as stored choices key it."""
    return (Recipient.customer_of(order).email or "").strip().lower()


def preference(customer_id: int, email: str) -> NotificationPreference | None:
    """A contact's stored choice (None: told everything)."""
    return db.session.scalar(db.select(NotificationPreference).where(
        NotificationPreference.customer_id == customer_id, NotificationPreference.email == email.strip().lower()))


def save_preference(order, wanted: set[str]) -> NotificationPreference:
    """Store which kinds of news the order's contact wants (every other kind is muted)."""
    email = contact_email(order)
    row = preference(order.customer_id, email)
    if row is None:
        row = NotificationPreference(customer_id=order.customer_id, email=email)
        db.session.add(row)
    row.muted = ",".join(kind for kind in NOTICE_KINDS if kind not in wanted)
    db.session.flush()
    return row


_EVENT_KINDS = {event: kind for kind, events in NOTICE_KINDS.items() for event in events}


def _customer_of(context: dict, recipient):
    """The order a message is about, when recipient is that order's customer contact."""
    order = context.get("order")
    email = (recipient.email or "").strip().lower()
    if order is None or not email or getattr(order, "customer", None) is None:
        return None
    known = {contact_email(order), (order.customer.contact_email or "").strip().lower()}
    return order if email in known else None


def wants(event: str, recipient, context: dict) -> bool:
    """notify's filter: a customer contact who muted this kind of news is not told."""
    kind = _EVENT_KINDS.get(event)
    if kind is None:
        return True
    order = _customer_of(context, recipient)
    if order is None:
        return True
    row = preference(order.customer_id, recipient.email)
    return row is None or kind not in row.muted_kinds


def footer(event: str, recipient, context: dict, body: str) -> str | None:
    """notify's footer: every mail to the order's customer carries the order's page."""
    order = _customer_of(context, recipient)
    if order is None or not has_page(order) or link_ended(order):
        return None
    link = track_link(order)
    if link.url in body:
        return None
    return _("Follow your order here (delivery, documents, questions):") + "\n" + link.url


register_filter("customer_choices", wants)
register_footer("order_page", footer)


@signals.order_countersigned.connect
def issue_on_countersign(order, **_extra) -> None:
    """The order is countersigned: its page for the customer exists from now on."""
    track_link(order)


def qr_context(order) -> dict:
    """registry page_context for the order confirmation and the delivery note: the order page's URL
    and its QR, or nothing for an order the customer cannot follow (yet). A page read issues no link:
    the countersignature did (issue_on_countersign)."""
    link = links.current("order_service", order.id) if order is not None and has_page(order) else None
    if link is None:
        return {}
    url = link.url
    return {"tracking_url": url, "tracking_qr": Markup(qr.svg(url))}


def delivery_note_code(shipment) -> tuple[str, str] | None:
    """The delivery note's QR to the customer's order page (shipping.NOTE_CODES), when the order has one."""
    found = qr_context(getattr(shipment, "order", None))
    return (_("Follow your order online"), found["tracking_url"]) if found else None


NOTE_CODES.append(delivery_note_code)


def service_order(link):
    """The order a customer's order link is for; 404 for a link of another purpose, an order the
    customer has no page for (yet), or one closed longer ago than the page stays online."""
    from flask import abort

    from ..loading import load
    from ..orders import Order
    if link is None or link.purpose != "order_service":
        abort(404)
    order = load(Order, link.object_id, None)
    if not has_page(order) or link_ended(order):
        abort(404)
    return order
