"""Service projects (服务业): deliverables and milestones instead of parcels, progress per deliverable,
and the customer's acceptance (验收) on their phone, through a link and a signature as the delivery
receipt; a rejection opens a rework case with its clock."""
from flask import Blueprint

from ..permissions import OFFICE
from ..registry import Domain, LinkPurpose, PhotoKind, public_names, register
from ..statemachine import N_
from . import lifecycle

bp = Blueprint("projects", __name__)


def _open_acceptance_link(link):
    from .views import acceptance_page
    return acceptance_page(link)


def _acceptance_copy(link):
    from .views import acceptance_copy
    return acceptance_copy(link)


def _order_of_report(report_id: int):
    """The order a progress report's photos are evidence for."""
    from ..extensions import db
    from ..orders import Order
    from .models import Deliverable, DeliverableReport
    order_id = db.session.scalar(db.select(Deliverable.order_id).join(
        DeliverableReport, DeliverableReport.deliverable_id == Deliverable.id).where(DeliverableReport.id == report_id))
    return db.session.get(Order, order_id) if order_id is not None else None


def _order_page(order) -> dict:
    """A project's deliverables on its order page (where a made-to-order one shows its shipments)."""
    if getattr(order, "kind", "") != "project":
        return {}
    from .services import deliverables_of
    return {"deliverables": deliverables_of(order.id), "deliverable_labels": lifecycle.STATE_LABELS}


DOMAIN = register(Domain(
    name="projects", machines=(lifecycle.MACHINE,),
    actions={"project.view": OFFICE, "project.manage": lifecycle.PROJECT_STAFF},
    link_purposes=(LinkPurpose("project_acceptance", _open_acceptance_link, managers=("project.manage",),
                               copy=_acceptance_copy),),
    events={
        "deliverable.progress": N_("Progress reported"),
        "deliverable.accept": N_("Deliverable accepted"),
        "deliverable.reject": N_("Deliverable rejected"),
        "deliverable.hand_over": N_("Rework handed over"),
        "rework.opened": N_("Rework case opened"),
        "rework.done": N_("Rework done"),
        "order.acceptance_link": N_("Acceptance link sent"),
        "order.accept_all": N_("Every deliverable accepted"),
    },
    events_saying_state=frozenset({"deliverable.accept", "deliverable.reject", "deliverable.hand_over"}),
    photo_kinds=(PhotoKind("deliverable_report", "project.view", _order_of_report),),
    page_context={"order": _order_page},
))


def init_app(app) -> None:
    """Attach the project pages and the customer's acceptance page."""
    from . import models, views, work  # noqa: F401  (routes, tables, My work's rework items)
    app.register_blueprint(bp)


# What other domains may import from this one: `from ..projects import <name>`.
_PUBLIC = {
    "services": "services",
    "Deliverable": "models",
    "Acceptance": "models",
    "ReworkCase": "models",
    "acceptance_for": "services",
    "DELIVERABLE_LABELS": "lifecycle",
}
__all__ = ["bp", "DOMAIN", "init_app", *_PUBLIC]
__getattr__ = public_names(__name__, _PUBLIC)
