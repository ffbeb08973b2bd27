"""Stage 4: shipments, packing lists, the courier's link, the customer's signed receipt, return cases."""
from flask import Blueprint

from ..registry import CapabilityToken, Domain, LinkPurpose, PhotoKind, public_names, register
from ..statemachine import N_
from . import lifecycle

bp = Blueprint("shipping", __name__)


def _labels() -> dict:
    from .forms import CONDITION_CHOICES
    return {"condition": dict(CONDITION_CHOICES)}


def _open_courier_link(link):
    from .views import courier_page
    return courier_page(link)


def _open_receipt_link(link):
    from .views import receipt_page
    return receipt_page(link)


def _open_return_pickup(link):
    from .views_returns import return_courier_page
    return return_courier_page(link)


def _receipt_copy(link):
    from .views import receipt_copy
    return receipt_copy(link)


def return_reason(case) -> str:
    """A return case's reason in the reader's language (templates: return_reason(case))."""
    from .services import return_reason as reason
    return reason(case)


def _order_of(query):
    """The order whose id query selects (None when the record is gone)."""
    from ..extensions import db
    from ..orders import Order
    order_id = db.session.scalar(query)
    return db.session.get(Order, order_id) if order_id is not None else None


def _order_of_shipment(shipment_id: int):
    from ..extensions import db
    from .models import Shipment
    return _order_of(db.select(Shipment.order_id).where(Shipment.id == shipment_id))


def _order_of_receipt(receipt_id: int):
    from ..extensions import db
    from .models import DeliveryReceipt, Shipment
    return _order_of(db.select(Shipment.order_id).join(DeliveryReceipt, DeliveryReceipt.shipment_id == Shipment.id)
                     .where(DeliveryReceipt.id == receipt_id))


def _order_of_problem(event_id: int):
    """A courier's problem report keeps its photos under the audit event of the report."""
    from ..audit import AuditEvent
    from ..extensions import db
    from .models import Shipment
    return _order_of(db.select(Shipment.order_id).join(AuditEvent, db.and_(
        AuditEvent.entity_type == "shipment", AuditEvent.entity_id == Shipment.id)).where(AuditEvent.id == event_id))


def _order_of_case(case_id: int):
    from ..extensions import db
    from .models import ReturnCase
    return _order_of(db.select(ReturnCase.order_id).where(ReturnCase.id == case_id))
def _carton_by_token(session, value: str):
    from sqlalchemy import select
    from .packing_models import Carton
    return session.scalar(select(Carton.id).where(Carton.token == value))


def _story():
    """What this domain tells in an order's whole story (imported when a story is told)."""
    from .story import PART
    return PART


def _offline_pages(user, people: set, room: int) -> list:
    """The open packing lists a warehouse phone keeps, newest first."""
    from flask import url_for

    from ..extensions import db
    from ..permissions import can
    from .models import Shipment
    if not can(user, "shipment.manage"):
        return []
    shipments = db.session.scalars(db.select(Shipment).where(Shipment.status.in_(("packing", "packed")))
                                   .order_by(Shipment.id.desc()).limit(room)).all()
    return [url_for("shipping.detail", shipment_id=s.id) for s in shipments]


DOMAIN = register(Domain(
    name="shipping", machines=(lifecycle.MACHINE, lifecycle.RETURN_CASE), labels=_labels,
    actions={
        "shipment.view": frozenset({"warehouse", "operations", "qc", "sales", "manager", "production",
                                    "aftersales", "finance"}),
        "shipment.manage": frozenset({"warehouse", "operations"}),
        "return.manage": lifecycle.RETURN_CASE.transitions["start"].roles,
        "return.close": lifecycle.RETURN_CASE.transitions["close"].roles,
        # The carriers and own vehicles: kept by operations and the warehouse, read by whoever ships.
        "carrier.manage": frozenset({"warehouse", "operations"}),
        "return.cost": frozenset({"aftersales", "finance", "warehouse", "operations", "manager"}),
        # Close a packing list that does not match what was counted, with a reason (packing.py).
        "packing.override": frozenset({"operations", "manager"}),
        # Attach documents (inspection reports, material certificates) to a shipment.
        "shipment.documents": frozenset({"warehouse", "operations", "qc"}),
    },
    link_purposes=(LinkPurpose("courier", _open_courier_link, managers=("shipment.manage",)),
                   LinkPurpose("delivery_receipt", _open_receipt_link,
                               managers=("link.manage", "shipment.manage"), copy=_receipt_copy),
                   LinkPurpose("return_pickup", _open_return_pickup, managers=("shipment.manage", "return.manage"))),
    events={
        "shipment.created": N_("Shipment created"),
        "shipment.line_checked": N_("Packing-list line checked"),
        "shipment.counted": N_("Counted by scan"),
        "shipment.packing_override": N_("Packing list closed by a supervisor despite a mismatch"),
        "shipment.document_added": N_("Document attached to the shipment"),
        "shipment.document_removed": N_("Document removed from the shipment"),
        "carton.made": N_("Carton labels made"),
        "carton.measured": N_("Carton weighed and measured"),
        "shipment.problem": N_("Courier reported a problem"),
        "shipment.event": N_("Transit event"),
        "return.opened": N_("Return case opened"),
        "return.started": N_("Return case started"),
        "return.closed": N_("Return case closed"),
        "return.escalated": N_("Overdue return case escalated"),
        "return.cost": N_("Cost of a return case recorded"),
        "pickup.booked": N_("Pickup booked"),
        "shipment.carrier": N_("Carrier set"),
        "carrier.saved": N_("Carrier saved"),
        "vehicle.saved": N_("Vehicle saved"),
        "shipment.dispatch": N_("Dispatched"),
        "shipment.deliver": N_("Delivered and signed for"),
    },
    events_saying_state=frozenset({"shipment.pack", "shipment.dispatch"}),
    event_prefixes={"return": "return_case"},
    template_globals={"return_reason": return_reason},
    story=_story,
    offline_pages=_offline_pages,
    # A carton label carries its secret token in /k/<token> (opens the carton's page; counts when packing).
    capability_tokens=(CapabilityToken("carton", lambda endpoint, name: endpoint == "shipping.carton_by_token",
                                       _carton_by_token),),
    photo_kinds=(PhotoKind("dispatch", "shipment.view", _order_of_shipment),
                 PhotoKind("receipt", "shipment.view", _order_of_receipt),
                 PhotoKind("stamped_note", "shipment.view", _order_of_receipt),
                 PhotoKind("shipment_problem", "shipment.view", _order_of_problem),
                 PhotoKind("return_inspection", "shipment.view", _order_of_case)),
))


def init_app(app) -> None:
    """Attach the shipping pages and the delivery notes' PDF copies."""
    from . import copy_link, models, tasks, tracking, views, views_carriers, views_returns  # noqa: F401  (routes,
    # tables, the carriers' poll task, the escalation of overdue return cases; documents adds the PDF copy's route)
    from . import packing_models, packing_views  # noqa: F401  (cartons, counted scans, shipment documents)
    app.register_blueprint(bp)


# What other domains may import from this one: `from ..shipping import <name>` (tests/test_architecture.py
# refuses any other reach into the package).
_PUBLIC = {
    "services": "services",
    "is_problem": "services",
    "Shipment": "models",
    "ShipmentLine": "models",
    "ReturnCase": "models",
    "ReturnCredit": "models",
    "DeliveryReceipt": "models",
    "ReceiptLine": "models",
    "delivery_evidence": "story",
    "receipt_for": "copy_link",
    "ShipmentEvent": "models",
    "transit": "transit",
    "Carrier": "models",
    "Vehicle": "models",
    "Pickup": "models",
    "return_costs": "returns",
    "credits_on": "returns",
    "return_cost_rows": "returns",
    "return_credit_rows": "returns",
    "carrier_records": "carriers",
    "packing": "packing",
    "Carton": "packing_models",
    "ShipmentDocument": "packing_models",
    "customer_documents": "packing_views",
    "send_document": "packing_views",
    "delivery_note_data": "packing_views",
    "NOTE_CODES": "packing_views",
    "DOCUMENT_KIND_CHOICES": "packing_forms",
    "lifecycle": "lifecycle",
}
__all__ = ["bp", "DOMAIN", "init_app", "return_reason", *_PUBLIC]
__getattr__ = public_names(__name__, _PUBLIC)
