"""Shipments (lines, carrier, transit events, the signed receipt), return cases and after-sales tickets:
what the shipping and after-sales pages show, without prices."""
from datetime import timezone

from flask import abort
from flask_login import current_user
from marshmallow import Schema, fields, validate
from sqlalchemy.orm import joinedload, selectinload

from ...aftersales import Ticket
from ...aftersales import lifecycle as aftersales_lifecycle
from ...extensions import db
from ...loading import load
from ...orders import scope_orders
from ...permissions import require
from ...shipping import DeliveryReceipt, ReceiptLine, ReturnCase, Shipment, ShipmentEvent, ShipmentLine
from ...shipping import lifecycle as shipping_lifecycle
from ...shipping import return_reason, transit
from ..core import ListQuery, operation, page_of, sort_field, subject
from ..schemas import Day, Moment, Qty, Stamp

ID = validate.Range(1, 2**31 - 1)


# --- shipments -----------------------------------------------------------------------------------

class ShipmentLineOut(Schema):
    """One packing-list line: which order line, how many, which batch, when it was checked."""

    id = fields.Integer(required=True)
    order_line_id = fields.Integer()
    model = fields.String(attribute="order_line.model")
    description = fields.String(attribute="order_line.description")
    unit = fields.String(attribute="order_line.unit")
    quantity = Qty()
    batch = fields.String()
    from_stock = fields.Boolean(metadata={"description": "Taken from stock rather than made for the order."})
    checked_at = Stamp(allow_none=True)


class ShipmentOut(Schema):
    """A shipment of an order: its packing list, who carries it, tracking number, ETA and state (no cost)."""

    id = fields.Integer(required=True)
    number = fields.String(required=True)
    order_id = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"description": ", ".join(shipping_lifecycle.STATES) + "."})
    method = fields.String(metadata={"description": "delivery or pickup."})
    carrier = fields.String(metadata={"description": "The carrier's name as entered."})
    carrier_id = fields.Integer(allow_none=True)
    vehicle_id = fields.Integer(allow_none=True)
    tracking_no = fields.String()
    eta = Day(allow_none=True)
    return_case_id = fields.Integer(allow_none=True, metadata={"description": "The return case it replaces goods for."})
    created_at = Stamp()
    packed_at = Stamp(allow_none=True)
    dispatched_at = Stamp(allow_none=True)
    delivered_at = Stamp(allow_none=True)
    lines = fields.List(fields.Nested(ShipmentLineOut))


class ShipmentQuery(ListQuery):
    """Filters of the shipment list."""

    status = fields.List(fields.String(validate=validate.OneOf(shipping_lifecycle.STATES)),
                         metadata={"description": "One or more states (repeat the parameter)."})
    order_id = fields.Integer(validate=ID)
    updated_since = Moment(metadata={
        "description": "Only shipments made, packed, dispatched, delivered or with a transit event recorded "
                       "at or after this moment."})
    sort = sort_field(["created_at", "id"])


def _shipment(shipment_id: int, action: str = "shipment.view") -> Shipment:
    """The shipment as the shipping pages load it (404 out of scope, 403 role, 409 state)."""
    return load(Shipment, shipment_id, action, options=(
        selectinload(Shipment.lines).joinedload(ShipmentLine.order_line), joinedload(Shipment.order)))


@operation("GET", "/shipments", tag="Shipments", summary="List shipments", query=ShipmentQuery,
           response=ShipmentOut, many=True)
def list_shipments(query):
    """The shipments of the orders the token's owner may see, newest first unless sorted otherwise."""
    require("shipment.view")
    select = (db.select(Shipment).where(scope_orders(current_user, Shipment.order_id))
              .options(selectinload(Shipment.lines).joinedload(ShipmentLine.order_line)))
    if query.get("status"):
        select = select.where(Shipment.status.in_(query["status"]))
    if query.get("order_id") is not None:
        select = select.where(Shipment.order_id == query["order_id"])
    since = query.get("updated_since")
    if since:
        select = select.where(db.or_(
            Shipment.created_at >= since, Shipment.packed_at >= since, Shipment.dispatched_at >= since,
            Shipment.delivered_at >= since,
            Shipment.id.in_(db.select(ShipmentEvent.shipment_id).where(ShipmentEvent.recorded_at >= since))))
    query.setdefault("sort", "-created_at")
    return page_of(select, Shipment, {"created_at": Shipment.created_at, "id": Shipment.id}, query)


@operation("GET", "/shipments/<int:shipment_id>", tag="Shipments", summary="Get a shipment", response=ShipmentOut)
def get_shipment(shipment_id: int):
    """One shipment with its packing list."""
    return _shipment(shipment_id)


class TransitEventOut(Schema):
    """One thing that happened to a shipment on its way."""

    id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={"description": ", ".join(transit.KIND_LABELS) + "."})
    reason = fields.String(metadata={"description": "Why a delivery attempt failed: "
                                                    + ", ".join(transit.REASON_LABELS) + "; else empty."})
    occurred_at = Stamp(metadata={"description": "When it happened (the courier's, staff's or carrier's time)."})
    recorded_at = Stamp()
    place = fields.String()
    note = fields.String()
    source = fields.String(metadata={"description": "courier, staff or carrier."})


@operation("GET", "/shipments/<int:shipment_id>/events", tag="Shipments", summary="List a shipment's transit events",
           response=TransitEventOut, many=True)
def list_shipment_events(shipment_id: int):
    """The shipment's transit events, earliest first (by when they happened)."""
    shipment = _shipment(shipment_id)
    return transit.events_of([shipment.id])[shipment.id]


class TransitEventIn(Schema):
    """A transit event staff add: what happened, why an attempt failed, where, when, a note."""

    kind = fields.String(required=True, validate=validate.OneOf(list(transit.KIND_LABELS)))
    reason = fields.String(load_default="", metadata={
        "description": "Required when kind is attempt_failed: " + ", ".join(transit.REASON_LABELS) + "."})
    place = fields.String(load_default="", validate=validate.Length(0, 200))
    note = fields.String(load_default="", validate=validate.Length(0, 2000))
    occurred_at = Moment(metadata={"description": "When it happened; now when left out."})


# 405 too: an id below 1 fails inputs.IdConverter, and Werkzeug then answers for the GET of the same path.
@operation("POST", "/shipments/<int:shipment_id>/events", tag="Shipments", summary="Add a transit event",
           body=TransitEventIn, response=TransitEventOut, errors=(405, 409))
def add_shipment_event(shipment_id: int, body):
    """Add a transit event as staff do on the shipment page (warehouse, operations). 409 before the
    shipment has left; the customer is told of a failed attempt or a delivery, as from the page."""
    shipment = _shipment(shipment_id, "shipment.manage")
    subject("shipment", shipment)
    occurred_at = body["occurred_at"].astimezone(timezone.utc) if body.get("occurred_at") else None
    event, _new = transit.add_event(shipment, body["kind"], "staff", occurred_at=occurred_at,
                                    reason=body["reason"], place=body["place"].strip(), note=body["note"].strip(),
                                    user=current_user)
    return event


class ReceiptLineOut(Schema):
    """What the customer found for one packing-list line."""

    shipment_line_id = fields.Integer(required=True)
    order_line_id = fields.Integer(attribute="shipment_line.order_line_id")
    shipped_qty = Qty(attribute="shipment_line.quantity")
    received_qty = Qty()
    condition = fields.String(metadata={"description": "ok, damaged or missing."})
    note = fields.String()


class ReceiptOut(Schema):
    """The customer's signed delivery receipt (the signature itself is on the printable page, not here)."""

    id = fields.Integer(required=True)
    shipment_id = fields.Integer(required=True)
    signer_name = fields.String()
    signer_relation = fields.String()
    signed_at = Stamp()
    taken_on = fields.String(metadata={"description": "customer (their phone) or courier (the courier's phone)."})
    has_exception = fields.Boolean(metadata={"description": "Damage or a shortfall was reported."})
    note_sha256 = fields.String(metadata={"description": "SHA-256 of the delivery note as signed."})
    lines = fields.List(fields.Nested(ReceiptLineOut))


@operation("GET", "/shipments/<int:shipment_id>/receipt", tag="Shipments", summary="Get a shipment's delivery receipt",
           response=ReceiptOut)
def get_shipment_receipt(shipment_id: int):
    """The receipt the customer signed: per line what arrived and in what condition (404 before it is signed)."""
    shipment = _shipment(shipment_id)
    receipt = db.session.scalar(db.select(DeliveryReceipt).where(DeliveryReceipt.shipment_id == shipment.id)
                                .options(selectinload(DeliveryReceipt.lines).joinedload(ReceiptLine.shipment_line)))
    if receipt is None:
        abort(404)
    return receipt


# --- return cases --------------------------------------------------------------------------------

class ReturnCaseOut(Schema):
    """A return or exchange case opened by damage or a shortfall on delivery (no money: credits and
    costs stay on the pages of who may see them)."""

    id = fields.Integer(required=True)
    shipment_id = fields.Integer(required=True)
    order_id = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"description": ", ".join(shipping_lifecycle.RETURN_STATES) + "."})
    reason = fields.Method("reason_text", metadata={"type": "string", "description": "What went wrong, in the reader's language."})
    opened_at = Stamp()
    due_at = Stamp(metadata={"description": "When it must have started (24 h after it opened)."})
    started_at = Stamp(allow_none=True)
    action = fields.String(metadata={"description": "What was decided when it started."})
    owner_id = fields.Integer(allow_none=True)
    step_owner_id = fields.Integer(allow_none=True)
    step_due_at = Stamp(allow_none=True)
    collected_at = Stamp(allow_none=True)
    inspected_at = Stamp(allow_none=True)
    received_qty = Qty(allow_none=True)
    received_condition = fields.String()
    findings = fields.String()
    closed_at = Stamp(allow_none=True)
    outcome = fields.String()
    close_note = fields.String()
    customer_reason = fields.String(metadata={"description": "Why it was refused, as the customer reads it."})
    replacement_shipment_ids = fields.Method("replacement_ids", metadata={"type": "array", "items": {"type": "integer"}})

    def reason_text(self, case) -> str:
        """The reason as the return page shows it."""
        return str(return_reason(case))

    def replacement_ids(self, case) -> list[int]:
        """The shipments sent to replace the goods."""
        return [shipment.id for shipment in case.replacements]


class ReturnQuery(ListQuery):
    """Filters of the return-case list."""

    status = fields.List(fields.String(validate=validate.OneOf(shipping_lifecycle.RETURN_STATES)),
                         metadata={"description": "One or more states (repeat the parameter)."})
    order_id = fields.Integer(validate=ID)
    shipment_id = fields.Integer(validate=ID)
    sort = sort_field(["opened_at", "due_at", "id"])


@operation("GET", "/returns", tag="Returns", summary="List return cases", query=ReturnQuery, response=ReturnCaseOut,
           many=True)
def list_returns(query):
    """The return cases of the orders the token's owner may see, newest first unless sorted otherwise."""
    require("shipment.view")
    select = (db.select(ReturnCase).where(scope_orders(current_user, ReturnCase.order_id))
              .options(selectinload(ReturnCase.replacements)))
    if query.get("status"):
        select = select.where(ReturnCase.status.in_(query["status"]))
    for name in ("order_id", "shipment_id"):
        if query.get(name) is not None:
            select = select.where(getattr(ReturnCase, name) == query[name])
    query.setdefault("sort", "-opened_at")
    return page_of(select, ReturnCase, {"opened_at": ReturnCase.opened_at, "due_at": ReturnCase.due_at,
                                        "id": ReturnCase.id}, query)


@operation("GET", "/returns/<int:case_id>", tag="Returns", summary="Get a return case", response=ReturnCaseOut)
def get_return(case_id: int):
    """One return case, as its page loads it."""
    return load(ReturnCase, case_id, "shipment.view", options=(joinedload(ReturnCase.shipment),
                                                               joinedload(ReturnCase.order)))


# --- after-sales tickets ---------------------------------------------------------------------------

class TicketMessageOut(Schema):
    """One message on a ticket: a staff answer or the customer's reply."""

    id = fields.Integer(required=True)
    body = fields.String()
    from_customer = fields.Boolean()
    author_id = fields.Integer(allow_none=True)
    author_name = fields.String()
    at = Stamp()


class TicketOut(Schema):
    """An after-sales ticket: the customer's issue, its clocks, who holds it, and its messages (no costs)."""

    id = fields.Integer(required=True)
    order_id = fields.Integer(required=True)
    subject = fields.String(required=True)
    description = fields.String()
    status = fields.String(required=True, metadata={"description": ", ".join(aftersales_lifecycle.TICKET_STATES)
                                                                     + "."})
    kind = fields.String()
    solution = fields.String()
    opened_at = Stamp()
    opened_by_id = fields.Integer(allow_none=True)
    opened_by_customer = fields.String(metadata={"description": "The name the customer gave, when they opened it."})
    first_response_due_at = Stamp()
    first_response_at = Stamp(allow_none=True)
    resolution_due_at = Stamp(allow_none=True)
    resolved_at = Stamp(allow_none=True)
    department = fields.String(metadata={"description": "The department it is handed to, if any."})
    department_due_at = Stamp(allow_none=True)
    confirmed_by_phone = fields.Boolean()
    messages = fields.List(fields.Nested(TicketMessageOut))


class TicketQuery(ListQuery):
    """Filters of the ticket list."""

    status = fields.List(fields.String(validate=validate.OneOf(aftersales_lifecycle.TICKET_STATES)),
                         metadata={"description": "One or more states (repeat the parameter)."})
    order_id = fields.Integer(validate=ID)
    sort = sort_field(["opened_at", "id"])


@operation("GET", "/tickets", tag="Tickets", summary="List tickets", query=TicketQuery, response=TicketOut, many=True)
def list_tickets(query):
    """The tickets of the orders the token's owner may see, newest first unless sorted otherwise."""
    require("aftersales.view")
    select = (db.select(Ticket).where(scope_orders(current_user, Ticket.order_id))
              .options(selectinload(Ticket.messages)))
    if query.get("status"):
        select = select.where(Ticket.status.in_(query["status"]))
    if query.get("order_id") is not None:
        select = select.where(Ticket.order_id == query["order_id"])
    query.setdefault("sort", "-opened_at")
    return page_of(select, Ticket, {"opened_at": Ticket.opened_at, "id": Ticket.id}, query)


@operation("GET", "/tickets/<int:ticket_id>", tag="Tickets", summary="Get a ticket", response=TicketOut)
def get_ticket(ticket_id: int):
    """One ticket with its messages, as its page loads it."""
    return load(Ticket, ticket_id, "aftersales.view", options=(joinedload(Ticket.order), selectinload(Ticket.messages)))
