"""Stage 3: products and stock, work orders, the floor's progress reports and anomalies."""
from flask import Blueprint

from ..registry import CapabilityToken, Domain, PhotoKind, register
from ..statemachine import N_
from . import lifecycle

bp = Blueprint("production", __name__)


def _labels() -> dict:
    from .forms import KIND_LABELS, SEVERITY_LABELS
    return {"anomaly_kind": KIND_LABELS, "severity": SEVERITY_LABELS}


def _order_of(query):
    """The order whose id query selects (None when the record is gone)."""
    from ..extensions import db
    from ..orders.models import Order
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


DOMAIN = register(Domain(
    name="production", machines=(lifecycle.MACHINE,), labels=_labels,
    actions={
        "workorder.view": frozenset({"production", "operations", "worker", "qc", "manager", "purchasing",
                                     "warehouse"}),
        "workorder.manage": frozenset({"production", "operations"}),
        "workorder.report": frozenset({"worker", "production"}),
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
    },
    events_saying_state=frozenset({"work_order.block", "work_order.unblock", "work_order.start",
                                   "work_order.pass_qc", "work_order.materials_ready"}),
    photo_kinds=(PhotoKind("progress", "workorder.view", _order_of_progress),
                 PhotoKind("anomaly", "workorder.view", _order_of_anomaly)),
    # A work order's label carries its secret token in /w/<token> (the floor's pages).
    capability_tokens=(CapabilityToken("work_order", lambda endpoint, name: endpoint.startswith("production."),
                                       _work_order_by_token),),
))


def init_app(app) -> None:
    """Attach the production and floor pages."""
    from . import models, signals, views  # noqa: F401  (routes, tables, what it does on release)
    app.register_blueprint(bp)
