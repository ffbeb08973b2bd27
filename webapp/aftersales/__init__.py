"""Stage 5: follow-ups, tickets and satisfaction surveys."""
from flask import Blueprint

from ..orders import lifecycle as order_lifecycle
from ..permissions import OFFICE
from ..registry import Domain, LinkPurpose, public_names, register
from ..statemachine import N_
from . import lifecycle

bp = Blueprint("aftersales", __name__)


def _open_customer_link(link):
    from .views import open_customer_link
    return open_customer_link(link)


def _story():
    """What this domain tells in an order's whole story (imported when a story is told)."""
    from .story import PART
    return PART


DOMAIN = register(Domain(
    name="aftersales", machines=(lifecycle.FOLLOW_UP, lifecycle.TICKET, lifecycle.SURVEY),
    actions={"aftersales.view": OFFICE, "ticket.open": frozenset({"sales", "aftersales", "manager"}),
             "ticket.cost": frozenset({"aftersales", "finance", "manager"}),
             # Who classifies a ticket, hands it to another department and enters a survey taken by phone.
             "ticket.assign": lifecycle.STAFF, "survey.by_phone": lifecycle.STAFF,
             # The roles only: the service says why a closed ticket or one with nothing proposed is refused.
             "ticket.confirm_by_phone": lifecycle.STAFF},
    # The department holding a ticket hands it back; so may after-sales themselves.
    checks={"ticket.hand_back": lambda user, ticket: bool(set(user.roles) & lifecycle.STAFF) or (
        ticket is not None and bool(ticket.department) and ticket.department in user.roles)},
    # A cost on a ticket changes its order's cost sheet: not once the order is closed or cancelled.
    state_rules={"ticket.cost": lambda ticket: ticket.order.status not in order_lifecycle.ENDED},
    link_purposes=(LinkPurpose("order_service", _open_customer_link), LinkPurpose("survey", _open_customer_link)),
    events={
        "follow_up.created": N_("Follow-up call planned"),
        "ticket.opened": N_("Ticket opened"),
        "survey.sent": N_("Satisfaction survey sent"),
        "ticket.respond": N_("Ticket answered"),
        "ticket.customer_reply": N_("Customer replied"),
        "follow_up.record": N_("Follow-up call made"),
        "ticket.cost": N_("Ticket cost recorded"),
        "ticket.classified": N_("Ticket type and solution set"),
        "ticket.assigned": N_("Ticket handed to a department"),
        "ticket.handed_back": N_("Ticket handed back by the department"),
        "ticket.escalated": N_("Overdue ticket escalated"),
        "follow_up.escalated": N_("Overdue follow-up call escalated"),
    },
    events_saying_state=frozenset({"ticket.respond", "ticket.confirm", "ticket.confirm_by_phone", "follow_up.record",
                                   "survey.answer", "survey.answer_by_phone"}),
    story=_story,
    # The order confirmation and the delivery note print the QR of the customer's order page.
    page_context={"order_confirmation": lambda order: _tracking().qr_context(order),
                  "delivery_note": lambda shipment: _tracking().qr_context(getattr(shipment, "order", None))},
))


def _tracking():
    from . import tracking
    return tracking


def init_app(app) -> None:
    """Attach the after-sales pages."""
    from . import models, signals, tasks, tracking, views  # noqa: F401  (routes, tables, what it does on delivery;
    # the order page's link in every customer mail; the escalation of overdue tickets and calls)
    app.register_blueprint(bp)


# What other domains may import from this one: `from ..aftersales import <name>` (tests/test_architecture.py
# refuses any other reach into the package).
_PUBLIC = {
    "FollowUp": "models",
    "Survey": "models",
    "Ticket": "models",
    "open_return_cases": "services",
    "open_tickets": "services",
    "ticket_costs": "services",
    "ticket_cost_rows": "services",
    "service_order": "tracking",
    "lifecycle": "lifecycle",
}
__all__ = ["bp", "DOMAIN", "init_app", *_PUBLIC]
__getattr__ = public_names(__name__, _PUBLIC)
