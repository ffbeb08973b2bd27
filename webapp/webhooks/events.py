"""Which changes become webhook events, and what each event's body says.

Every state change writes an AuditEvent (audit.record). After each flush, the new audit events are
read here: those that report one of EVENT_TYPES become a WebhookEvent and one WebhookDelivery per
endpoint that chose the type (a disabled one's wait), added to the same session — they commit or roll back with the
change itself, and each change is enqueued once (one audit event, one webhook event). Changes with
no audit event of their own (an invoice falling overdue) call emit() in the same transaction.
No domain is imported: a body reads the few columns it needs from the tables by name."""
import json
import uuid
from datetime import date

from flask import current_app
from sqlalchemy import event as sa_event, inspect, select

from ..audit import AuditEvent
from ..extensions import db
from ..statemachine import N_
from ..wallclock import utcnow
from .models import WebhookDelivery, WebhookEndpoint, WebhookEvent

# The event types a firm may wire up, with their labels for the admin page.
EVENT_TYPES = {
    "requirement.confirmed": N_("Requirement confirmed by the customer"),
    "order.effective": N_("Order effective"),
    "order.eta_changed": N_("Order delivery date changed"),
    "anomaly.raised": N_("Production anomaly raised"),
    "shipment.dispatched": N_("Shipment dispatched"),
    "shipment.delivered": N_("Shipment delivered"),
    "return.opened": N_("Return opened"),
    "ticket.opened": N_("Ticket opened"),
    "ticket.answered": N_("Ticket answered"),
    "invoice.overdue": N_("Invoice overdue"),
}
TEST_EVENT = "webhook.test"

# The API paths of the objects a body links to (served under /api/v1).
API_PATHS = {"customer": "customers", "requirement": "requirements", "order": "orders",
             "work_order": "work-orders", "shipment": "shipments", "return": "returns",
             "ticket": "tickets", "invoice": "invoices", "anomaly": "anomalies"}
# An order becomes effective from these states (not when it resumes from a hold).
BEFORE_EFFECTIVE = ("draft", "in_review", "pending_approval", "awaiting_countersign")
PENDING_KEY = "webhook_deliveries"


def api_url(object_type: str, object_id: int) -> str:
    """The object's address in the JSON API, under PUBLIC_URL."""
    base = (current_app.config.get("PUBLIC_URL") or "http://localhost:8000").rstrip("/")
    return f"{base}/api/v1/{API_PATHS[object_type]}/{object_id}"


def _row(session, table: str, row_id):
    """One row of a table by id, as a mapping (None when there is none)."""
    if row_id is None:
        return None
    columns = db.metadata.tables[table]
    return session.execute(select(columns).where(columns.c.id == row_id)).mappings().first()


def _ref(session, object_type: str, table: str, row_id) -> dict | None:
    """A short reference to a related object: its id, number (if it has one) and API address."""
    row = _row(session, table, row_id)
    if row is None:
        return None
    ref = {"id": row["id"], "url": api_url(object_type, row["id"])}
    for column in ("number", "name"):
        if column in row:
            ref[column] = row[column]
    return ref


def _day(value) -> str | None:
    return value.isoformat() if isinstance(value, date) else value


def _order_data(session, order_id: int) -> dict:
    order = _row(session, "order", order_id)
    return {"object": "order", "id": order_id, "url": api_url("order", order_id),
            "number": order["number"], "version": order["version"], "status": order["status"],
            "kind": order["kind"], "customer": _ref(session, "customer", "customer", order["customer_id"]),
            "customer_po": order["customer_po"],
            "delivery_date": _day(order["revised_date"] or order["delivery_date"])}


def _shipment_data(session, shipment_id: int) -> dict:
    shipment = _row(session, "shipment", shipment_id)
    return {"object": "shipment", "id": shipment_id, "url": api_url("shipment", shipment_id),
            "number": shipment["number"], "status": shipment["status"], "carrier": shipment["carrier"],
            "tracking_no": shipment["tracking_no"], "order": _ref(session, "order", "order", shipment["order_id"])}


def _ticket_data(session, ticket_id: int) -> dict:
    ticket = _row(session, "ticket", ticket_id)
    return {"object": "ticket", "id": ticket_id, "url": api_url("ticket", ticket_id),
            "subject": ticket["subject"], "kind": ticket["kind"], "status": ticket["status"],
            "order": _ref(session, "order", "order", ticket["order_id"])}


def from_audit(session, audit: AuditEvent) -> tuple[str, str, int, dict] | None:
    """The webhook event an audit event reports, as (type, object type, object id, data), or None."""
    after, before = audit.after_data, json.loads(audit.before) if audit.before else {}
    kind, action, entity_id = audit.entity_type, audit.action, audit.entity_id
    if kind == "requirement" and after.get("status") == "confirmed" and before.get("status") != "confirmed":
        requirement = _row(session, "requirement", entity_id)
        return ("requirement.confirmed", "requirement", entity_id,
                {"object": "requirement", "id": entity_id, "url": api_url("requirement", entity_id),
                 "status": requirement["status"], "product": requirement["product"],
                 "customer_part_no": requirement["customer_part_no"],
                 "expected_date": _day(requirement["expected_date"]),
                 "customer": _ref(session, "customer", "customer", requirement["customer_id"])})
    if kind == "order" and after.get("status") == "effective" and before.get("status") in BEFORE_EFFECTIVE:
        return "order.effective", "order", entity_id, _order_data(session, entity_id)
    if kind == "order" and action == "order.eta_changed":
        data = _order_data(session, entity_id)
        data.update(previous_delivery_date=before.get("date"), delivery_date=after.get("date"),
                    reason=audit.note or "")
        return "order.eta_changed", "order", entity_id, data
    if kind == "work_order" and action == "work_order.anomaly" and after.get("anomaly"):
        anomaly = _row(session, "anomaly", after["anomaly"])
        work_order = _row(session, "work_order", entity_id)
        return ("anomaly.raised", "anomaly", anomaly["id"],
                {"object": "anomaly", "id": anomaly["id"], "url": api_url("anomaly", anomaly["id"]),
                 "kind": anomaly["kind"], "severity": anomaly["severity"], "new_eta": after.get("new_eta"),
                 "work_order": _ref(session, "work_order", "work_order", entity_id),
                 "order": _ref(session, "order", "order", work_order["order_id"])})
    if kind == "shipment" and after.get("status") == "dispatched" and before.get("status") != "dispatched":
        return "shipment.dispatched", "shipment", entity_id, _shipment_data(session, entity_id)
    if (kind == "shipment" and after.get("status") in ("delivered", "delivered_with_exception")
            and before.get("status") == "dispatched"):
        return "shipment.delivered", "shipment", entity_id, _shipment_data(session, entity_id)
    if kind == "order" and action == "return.opened":
        # The audit event is the order's; the return case is the order's newest.
        cases = db.metadata.tables["return_case"]
        case = session.execute(select(cases).where(cases.c.order_id == entity_id)
                               .order_by(cases.c.id.desc()).limit(1)).mappings().first()
        if case is None:
            return None
        return ("return.opened", "return", case["id"],
                {"object": "return", "id": case["id"], "url": api_url("return", case["id"]),
                 "status": case["status"], "reason": case["reason"],
                 "order": _ref(session, "order", "order", entity_id),
                 "shipment": _ref(session, "shipment", "shipment", case["shipment_id"])})
    if kind == "order" and action == "ticket.opened" and after.get("ticket"):
        return "ticket.opened", "ticket", after["ticket"], _ticket_data(session, after["ticket"])
    if kind == "ticket" and action == "ticket.respond":
        return "ticket.answered", "ticket", entity_id, _ticket_data(session, entity_id)
    return None


def _subscribers(session, event_type: str) -> list[WebhookEndpoint]:
    # Disabled endpoints too: their deliveries wait, untried, until the endpoint is enabled again
    # (delivery.py sends only to active ones), so switching an endpoint off loses no event.
    endpoints = session.scalars(select(WebhookEndpoint)).all()
    return [endpoint for endpoint in endpoints if endpoint.wants(event_type)]


def enqueue(session, event_type: str, object_type: str, object_id: int, data: dict,
            endpoints: list[WebhookEndpoint] | None = None) -> WebhookEvent | None:
    """Add the event and a delivery to each endpoint (default: every one that chose the type, enabled or not)
    to session; None when nobody wants it. Nothing is sent before the transaction commits."""
    endpoints = _subscribers(session, event_type) if endpoints is None else endpoints
    if not endpoints:
        return None
    now = utcnow()
    event_id = str(uuid.uuid4())
    body = {"id": event_id, "type": event_type, "created": now.isoformat().replace("+00:00", "Z"), "data": data}
    event = WebhookEvent(uuid=event_id, type=event_type, object_type=object_type, object_id=object_id,
                         payload=json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str),
                         created_at=now)
    session.add(event)
    for endpoint in endpoints:
        delivery = WebhookDelivery(event=event, endpoint=endpoint, status="pending", next_attempt_at=now,
                                   created_at=now)
        session.add(delivery)
        session.info.setdefault(PENDING_KEY, []).append(delivery)
    return event


def emit(event_type: str, object_type: str, object_id: int, **fields) -> WebhookEvent | None:
    """Enqueue an event no audit event reports (e.g. invoice.overdue), in the caller's transaction;
    fields join the body's data after its object, id and url."""
    data = {"object": object_type, "id": object_id, "url": api_url(object_type, object_id), **fields}
    return enqueue(db.session, event_type, object_type, object_id, data)


def pending_delivery_ids(session) -> list[int]:
    """The ids of the deliveries this session enqueued and committed; forgets them."""
    ids = []
    for delivery in session.info.pop(PENDING_KEY, []):
        identity = inspect(delivery).identity
        if identity is not None:
            ids.append(identity[0])
    return ids


_listening = []


def listen() -> None:
    """Read every flush's new audit events (once per process)."""
    if _listening:
        return
    _listening.append(True)

    @sa_event.listens_for(db.session, "after_flush")
    def note_new_audit_events(session, _context):
        new = [obj for obj in session.new if isinstance(obj, AuditEvent)]
        if new:
            session.info.setdefault("webhook_audits", []).extend(new)

    @sa_event.listens_for(db.session, "after_flush_postexec")
    def enqueue_reported_changes(session, _context):
        audits = session.info.pop("webhook_audits", [])
        if not audits:
            return
        with session.no_autoflush:
            for audit in audits:
                found = from_audit(session, audit)
                if found is not None:
                    enqueue(session, *found)

    @sa_event.listens_for(db.session, "after_rollback")
    def forget(session):
        session.info.pop("webhook_audits", None)
        session.info.pop(PENDING_KEY, None)
