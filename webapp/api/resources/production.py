"""Work orders on the floor, their progress reports (read, and reported as the floor's page does),
and the anomalies raised on them."""
from flask_login import current_user
from marshmallow import Schema, fields, validate
from sqlalchemy.orm import joinedload, selectinload

from ...extensions import db
from ...loading import load
from ...orders import scope_orders
from ...permissions import require
from ...production import (ANOMALY_KINDS, SCRAP_REASON_LABELS, Anomaly, OperationForm, ProgressForm, ProgressReport,
                           WorkOrder, WorkOrderOperation, lifecycle, services)
from ...statemachine import N_, TransitionError
from ..core import ListQuery, operation, page_of, sort_field, subject
from ..formbody import check, form_of
from ..schemas import Day, DecimalString, Moment, Qty, Stamp

SEVERITIES = ("minor", "blocking")
SCRAP_REASONS = tuple(SCRAP_REASON_LABELS)


class WorkOrderOperationOut(Schema):
    """One operation (工序) of a work order's routing, with what it has passed so far."""

    id = fields.Integer(required=True)
    position = fields.Integer()
    name = fields.String()
    outsourced = fields.Boolean()
    good = Qty(metadata={"description": "Good pieces it passed so far."})
    scrap = Qty()


class WorkOrderOut(Schema):
    """A work order: what it makes, for which order (null: a stocking instruction, 备货), how much,
    its state and milestones, and what the floor has made of it."""

    id = fields.Integer(required=True)
    number = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": ", ".join(lifecycle.STATES) + "."})
    order_id = fields.Integer(allow_none=True, metadata={"description": "Null for a stocking instruction."})
    order_line_id = fields.Integer(allow_none=True)
    product_id = fields.Method("product_of", allow_none=True, metadata={"type": ["integer", "null"]})
    model = fields.Method("model_of", metadata={"type": "string"})
    purpose = fields.String(metadata={"description": "Why a stocking instruction makes stock."})
    quantity = Qty()
    unit = fields.Method("unit_of", metadata={"type": "string"})
    good = Qty(metadata={"description": "Good pieces so far (less what QC rejected)."})
    scrap = Qty()
    remaining = Qty(metadata={"description": "Good pieces still to make."})
    owner_id = fields.Integer(allow_none=True)
    blocked_from = fields.String(allow_none=True)
    planned_materials = Day(allow_none=True)
    planned_start = Day(allow_none=True)
    planned_qc = Day(allow_none=True)
    actual_materials = Stamp(allow_none=True)
    actual_start = Stamp(allow_none=True)
    actual_qc = Stamp(allow_none=True)
    actual_done = Stamp(allow_none=True)
    created_at = Stamp()
    operations = fields.List(fields.Nested(WorkOrderOperationOut))

    def product_of(self, work_order):
        """The catalogue product made (None: an order line off the catalogue)."""
        product = work_order.product
        return product.id if product is not None else None

    def model_of(self, work_order):
        """The model made, as its label names it."""
        return work_order.item.model

    def unit_of(self, work_order):
        """The unit its quantities count in."""
        return work_order.item.unit


class WorkOrderQuery(ListQuery):
    """Filters of the work order list."""

    status = fields.List(fields.String(validate=validate.OneOf(lifecycle.STATES)),
                         metadata={"description": "One or more states (repeat the parameter)."})
    order_id = fields.Integer(validate=validate.Range(1, 2**31 - 1))
    stocking = fields.Boolean(metadata={"description": "true: only stocking instructions; false: only orders'."})
    created_since = Moment(metadata={"description": "Only work orders made at or after this moment."})
    sort = sort_field(["created_at", "planned_start", "number", "id"])


def _work_order_options() -> tuple:
    """What a work order's answer reads besides the row (loaded after any row lock, never joined to it)."""
    return (joinedload(WorkOrder.line), selectinload(WorkOrder.reports), selectinload(WorkOrder.rejections),
            selectinload(WorkOrder.operations))


@operation("GET", "/work-orders", tag="Production", summary="List work orders", query=WorkOrderQuery,
           response=WorkOrderOut, many=True)
def list_work_orders(query):
    """The work orders the token's owner may see (a sales rep's scope follows their orders), newest
    first unless sorted otherwise."""
    require("workorder.view")
    select = (db.select(WorkOrder).options(*_work_order_options())
              .where(scope_orders(current_user, WorkOrder.order_id)))
    if query.get("status"):
        select = select.where(WorkOrder.status.in_(query["status"]))
    if query.get("order_id") is not None:
        select = select.where(WorkOrder.order_id == query["order_id"])
    if query.get("stocking") is not None:
        select = select.where(WorkOrder.order_id.is_(None) if query["stocking"] else WorkOrder.order_id.is_not(None))
    if query.get("created_since"):
        select = select.where(WorkOrder.created_at >= query["created_since"])
    query.setdefault("sort", "-created_at")
    return page_of(select, WorkOrder, {"created_at": WorkOrder.created_at, "planned_start": WorkOrder.planned_start,
                                       "number": WorkOrder.number, "id": WorkOrder.id}, query)


@operation("GET", "/work-orders/<int:work_order_id>", tag="Production", summary="Get a work order",
           response=WorkOrderOut)
def get_work_order(work_order_id: int):
    """One work order with its operations."""
    return load(WorkOrder, work_order_id, "workorder.view", options=_work_order_options())


class ProgressReportOut(Schema):
    """What the floor reported: good and scrap pieces, at which operation, by whom, when."""

    id = fields.Integer(required=True)
    work_order_id = fields.Integer(required=True)
    good_qty = Qty()
    scrap_qty = Qty()
    scrap_reason = fields.String()
    minutes = Qty(metadata={"description": "Time spent, in minutes."})
    note = fields.String()
    operation = fields.String(metadata={"description": "The operation's name (empty without a routing)."})
    operation_id = fields.Integer(allow_none=True)
    worker_id = fields.Integer()
    occurred_at = Stamp(metadata={"description": "When it was made, by the reporting device's clock."})
    received_at = Stamp(metadata={"description": "When the server recorded it."})


@operation("GET", "/work-orders/<int:work_order_id>/reports", tag="Production", summary="List progress reports",
           response=ProgressReportOut, many=True)
def list_progress_reports(work_order_id: int):
    """Every progress report of the work order, oldest first."""
    work_order = load(WorkOrder, work_order_id, "workorder.view")
    return db.session.scalars(db.select(ProgressReport).where(ProgressReport.work_order_id == work_order.id)
                              .order_by(ProgressReport.id)).all()


class ProgressIn(Schema):
    """Good and scrap pieces made (the floor page's report; no photos through the API). With a
    routing, name the operation (else the first open one counts them) and why pieces were scrapped."""

    good = Qty(load_default=None, allow_none=True, metadata={"description": "Good pieces (0 unless given)."})
    scrap = Qty(load_default=None, allow_none=True, metadata={"description": "Scrap pieces (0 unless given)."})
    note = fields.String(validate=validate.Length(0, 2000))
    operation_id = fields.Integer(validate=validate.Range(1, 2**31 - 1),
                                  metadata={"description": "The work order's operation it counts against."})
    minutes = DecimalString(metadata={"description": "Minutes spent (with an operation), 0–1440."})
    scrap_reason = fields.String(validate=validate.OneOf(SCRAP_REASONS), metadata={
        "description": "Why pieces were scrapped (with an operation): " + ", ".join(SCRAP_REASONS) + "."})


@operation("POST", "/work-orders/<int:work_order_id>/reports", tag="Production", summary="Report progress",
           body=ProgressIn, response=ProgressReportOut, errors=(409, 422))
def report_progress(work_order_id: int, body):
    """Report good and scrap pieces, as the floor's page does: a planned work order starts; 409
    state-conflict when its state refuses (not in progress, more good pieces than are left, or
    than the previous operation passed)."""
    work_order = load(WorkOrder, work_order_id, "workorder.report", options=_work_order_options())
    subject("work_order", work_order)
    step = None
    if "operation_id" in body:
        step = db.session.get(WorkOrderOperation, body["operation_id"])
        if step is None or step.work_order_id != work_order.id:
            raise TransitionError(422, N_("This operation belongs to another work order."))
    form = form_of(OperationForm if step is not None else ProgressForm, body)
    check(form)
    return services.report(work_order, current_user, form.good.data or 0, form.scrap.data or 0,
                           (form.note.data or "").strip(), [], step=step,
                           minutes=(form.minutes.data or 0) if step is not None else 0,
                           scrap_reason=(form.scrap_reason.data or "") if step is not None else "")


class AnomalyOut(Schema):
    """Something that stopped or delayed a work order, its plan, a new date, and how it was resolved."""

    id = fields.Integer(required=True)
    work_order_id = fields.Integer(required=True)
    kind = fields.String(metadata={"description": ", ".join(ANOMALY_KINDS) + "."})
    severity = fields.String(metadata={"description": "minor (work goes on) or blocking (work stops)."})
    note = fields.String()
    contingency = fields.String()
    new_eta = Day(allow_none=True)
    eta_reason = fields.String()
    reported_by_id = fields.Integer()
    reported_at = Stamp()
    resolved_at = Stamp(allow_none=True)
    resolution = fields.String()


class AnomalyQuery(ListQuery):
    """Filters of the anomaly list."""

    work_order_id = fields.Integer(validate=validate.Range(1, 2**31 - 1))
    open = fields.Boolean(metadata={"description": "true: not resolved yet; false: resolved."})
    kind = fields.String(validate=validate.OneOf(ANOMALY_KINDS))
    severity = fields.String(validate=validate.OneOf(SEVERITIES))
    reported_since = Moment()
    sort = sort_field(["reported_at", "id"])


@operation("GET", "/anomalies", tag="Production", summary="List anomalies", query=AnomalyQuery,
           response=AnomalyOut, many=True)
def list_anomalies(query):
    """The anomalies raised on the work orders the token's owner may see, newest first."""
    require("workorder.view")
    select = db.select(Anomaly).where(Anomaly.work_order_id.in_(
        db.select(WorkOrder.id).where(scope_orders(current_user, WorkOrder.order_id))))
    if query.get("work_order_id") is not None:
        select = select.where(Anomaly.work_order_id == query["work_order_id"])
    if query.get("open") is not None:
        select = select.where(Anomaly.resolved_at.is_(None) if query["open"] else Anomaly.resolved_at.is_not(None))
    for name in ("kind", "severity"):
        if query.get(name):
            select = select.where(getattr(Anomaly, name) == query[name])
    if query.get("reported_since"):
        select = select.where(Anomaly.reported_at >= query["reported_since"])
    query.setdefault("sort", "-reported_at")
    return page_of(select, Anomaly, {"reported_at": Anomaly.reported_at, "id": Anomaly.id}, query)


@operation("GET", "/anomalies/<int:anomaly_id>", tag="Production", summary="Get an anomaly", response=AnomalyOut)
def get_anomaly(anomaly_id: int):
    """One anomaly (404 outside the owner's scope: its work order's order)."""
    return load(Anomaly, anomaly_id, "workorder.view")
