"""Stage 3: products and stock, work orders, the floor's progress reports and anomalies."""
from flask import Blueprint

from ..registry import CapabilityToken, Domain, PhotoKind, public_names, register
from ..statemachine import N_
from . import lifecycle

bp = Blueprint("production", __name__)


def _labels() -> dict:
    from .forms import KIND_LABELS, SEVERITY_LABELS
    return {"anomaly_kind": KIND_LABELS, "severity": SEVERITY_LABELS}


def _order_of(query):
    """The order whose id query selects (None when the record is gone)."""
    from ..extensions import db
    from ..orders import Order
    order_id = db.session.scalar(query)
    return db.session.get(Order, order_id) if order_id is not None else None


def _order_of_progress(report_id: int):
    from ..extensions import db
    from .models import ProgressReport, WorkOrder
    return _order_of(db.select(WorkOrder.order_id).join(ProgressReport, ProgressReport.work_order_id == WorkOrder.id)
                     .where(ProgressReport.id == report_id))


def _order_of_anomaly(anomaly_id: int):
    from ..extensions import db
    from .models import Anomaly, WorkOrder
    return _order_of(db.select(WorkOrder.order_id).join(Anomaly, Anomaly.work_order_id == WorkOrder.id)
                     .where(Anomaly.id == anomaly_id))


def _work_order_by_token(session, value: str):
    from sqlalchemy import select
    from .models import WorkOrder
    return session.scalar(select(WorkOrder.id).where(WorkOrder.token == value))


def _operation_by_token(session, value: str):
    from sqlalchemy import select
    from .models import WorkOrderOperation
    return session.scalar(select(WorkOrderOperation.id).where(WorkOrderOperation.token == value))


def _operation_token(session, operation_id: int):
    from sqlalchemy import select
    from .models import WorkOrderOperation
    return session.scalar(select(WorkOrderOperation.token).where(WorkOrderOperation.id == operation_id))


def _story():
    """What this domain tells in an order's whole story (imported when a story is told)."""
    from .story import PART
    return PART


def _work_order_token(session, work_order_id: int):
    from sqlalchemy import select
    from .models import WorkOrder
    return session.scalar(select(WorkOrder.token).where(WorkOrder.id == work_order_id))


def _offline_pages(user, people: set, room: int) -> list:
    """The floor pages a phone keeps: the work orders list, the open work orders of its people, and
    their operations' pages (what a process card's QR opens)."""
    from flask import url_for

    from ..extensions import db
    from ..permissions import can
    from sqlalchemy.orm import selectinload

    from .models import WorkOrder
    if not can(user, "workorder.view"):
        return []
    work_orders = db.session.scalars(
        db.select(WorkOrder).where(WorkOrder.status != "done", WorkOrder.owner_id.in_(people))
        .options(selectinload(WorkOrder.operations))
        .order_by(WorkOrder.planned_start, WorkOrder.id).limit(room)).all()
    pages = [url_for("production.index")]
    for w in work_orders:
        pages += [url_for("production.floor", token=w.token), url_for("production.work_order_materials", token=w.token)]
    # The operations' pages after every work order's own (a full phone keeps the work orders first).
    for w in work_orders:
        pages += [url_for("production.operation_floor", token=o.token) for o in w.operations if not o.outsourced]
    return pages[:room]


DOMAIN = register(Domain(
    name="production", machines=(lifecycle.MACHINE,), labels=_labels,
    actions={
        "workorder.view": frozenset({"production", "operations", "worker", "qc", "manager", "purchasing",
                                     "warehouse"}),
        "workorder.manage": frozenset({"production", "operations"}),
        "workorder.report": frozenset({"worker", "production"}),
        # Take material from stock to a work order and back (领料 / 退料): the warehouse, or the floor.
        "material.issue": frozenset({"warehouse", "production", "worker"}),
        # The piece-rate report (计件工资) of every worker; a worker sees their own on their phone.
        "piecerate.view": frozenset({"production", "operations", "finance", "manager"}),
    },
    events={
        "work_order.created": N_("Work order created"),
        "work_order.split": N_("Work order split"),
        "work_order.progress": N_("Progress reported"),
        "work_order.anomaly": N_("Anomaly raised"),
        "work_order.anomaly_resolved": N_("Anomaly resolved"),
        "work_order.from_stock": N_("Line taken from stock (no work order)"),
        "work_order.start": N_("Work started"),
        "work_order.finish": N_("Work finished, waiting for QC"),
        "work_order.fail_qc": N_("QC rejected pieces"),
        "work_order.block": N_("Work stopped"),
        "work_order.unblock": N_("Work resumed"),
        "work_order.issued": N_("Material issued"),
        "work_order.returned": N_("Material returned to stock"),
        "work_order.outsourced": N_("Batch sent out to a supplier"),
        "work_order.outsource_received": N_("Batch received back from the supplier"),
        "work_order.daily_plan": N_("Daily plan changed"),
        "work_order.daily_cause": N_("Deviation cause recorded"),
    },
    events_saying_state=frozenset({"work_order.block", "work_order.unblock", "work_order.start",
                                   "work_order.pass_qc", "work_order.materials_ready"}),
    photo_kinds=(PhotoKind("progress", "workorder.view", _order_of_progress),
                 PhotoKind("anomaly", "workorder.view", _order_of_anomaly)),
    # A work order's label carries its secret token in /w/<token> (the floor's pages).
    capability_tokens=(CapabilityToken("work_order", lambda endpoint, name: endpoint.startswith("production.")
                                       and not endpoint.startswith("production.operation_"),
                                       _work_order_by_token, return_endpoint="production.floor",
                                       value=_work_order_token),
                       # A process card's QR: one operation of a work order, /o/<token>.
                       CapabilityToken("operation", lambda endpoint, name: endpoint.startswith("production.operation_"),
                                       _operation_by_token, return_endpoint="production.operation_floor",
                                       value=_operation_token)),
    story=_story,
    offline_pages=_offline_pages,
))


def init_app(app) -> None:
    """Attach the production and floor pages."""
    from . import models, signals, views  # noqa: F401  (routes, tables, what it does on release)
    from . import outsourcing_views  # noqa: F401  (外协: batches sent out and received back)
    from . import sheet_views  # noqa: F401  (the daily sheet, 表2, and its XLSX)
    from . import print_views  # noqa: F401  (work centres, routing, load, board, labels, process cards)
    from . import stocking_views  # noqa: F401  (stocking instructions, 备货指令: work orders for stock)
    app.register_blueprint(bp)


# What other domains may import from this one: `from ..production import <name>` (tests/test_architecture.py
# refuses any other reach into the package).
_PUBLIC = {
    "take_from_stock": "stock",
    "WorkOrder": "models",
    "WorkOrderOperation": "models",
    "ProgressReport": "models",
    "Anomaly": "models",
    "OutsourceTransfer": "models",
    # The KPI facts sum QC's rejections in SQL (kpi/measures.py).
    "QcRejection": "models",
    "lifecycle": "lifecycle",
    "services": "services",
    "materials": "materials",
    "outsourcing": "outsourcing",
    "earnings": "earnings",
    "routing": "routing",
    "labels": "labels",
    "ANOMALY_KINDS": "models",
    # The API checks a progress report with the floor page's own forms.
    "ProgressForm": "forms",
    "OperationForm": "forms",
    "SCRAP_REASON_LABELS": "forms",
}
__all__ = ["bp", "DOMAIN", "init_app", *_PUBLIC]
__getattr__ = public_names(__name__, _PUBLIC)
