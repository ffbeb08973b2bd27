"""Stage 3: products and stock, work orders, the floor's progress reports and anomalies."""
from flask import Blueprint

from ..registry import Domain, register
from ..statemachine import N_
from . import lifecycle

bp = Blueprint("production", __name__)


def _labels() -> dict:
    from .forms import KIND_LABELS, SEVERITY_LABELS
    return {"anomaly_kind": KIND_LABELS, "severity": SEVERITY_LABELS}


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
))


def init_app(app) -> None:
    """Attach the production and floor pages."""
    from . import models, signals, views  # noqa: F401  (routes, tables, what it does on release)
    app.register_blueprint(bp)
