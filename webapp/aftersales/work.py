"""After-sales work for My work: tickets to answer and follow-up calls to make (customer care sees
every call; a sales rep the calls assigned to them)."""
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from sqlalchemy.orm import joinedload, selectinload

from ..extensions import db
from ..orders import Order
from ..orders import order_item
from ..permissions import can
from . import DOMAIN
from ..work_items import DUE_DEADLINE, work_item
from . import lifecycle
from .models import DEPARTMENTS, FollowUp, Ticket
from ..wallclock import utcnow

# The actions My work asks about, added to what this domain registered (webapp/registry.py).
DOMAIN.actions.update({
    "followup.record": lifecycle.FOLLOW_UP.transitions["record"].roles,
    # Whose calls a person sees: customer care and the manager every call, others their own.
    "followup.all": frozenset({"aftersales", "manager"}),
    # A department holding a ticket sees it on its My work until it hands it back.
    "ticket.department_part": frozenset(DEPARTMENTS),
    "ticket.unsolved": lifecycle.STAFF,
})

# Naming the order needs its customer, and its lines while it has no number.
def _naming(relationship):
    return joinedload(relationship).options(joinedload(Order.customer), selectinload(Order.lines))


def follow_ups_for(user):
    """Open follow-up calls, the most urgent first (index follow_up_status_due)."""
    query = (db.select(FollowUp).where(FollowUp.status == "open")
             .options(_naming(FollowUp.order))
             .order_by(FollowUp.due_at, FollowUp.id))
    return query if can(user, "followup.all") else query.where(FollowUp.assignee_id == user.id)


def _aftersales_list() -> str:
    return url_for("aftersales.index")



def order_customer_of(order_id_column):
    """Whose the order in order_id_column is, as SQL (the object scope applies to it)."""
    return db.select(Order.customer_id).where(Order.id == order_id_column).scalar_subquery()


def _answer_item(ticket, user):
    """An open ticket: its first answer is due, or (reopened by the customer) its solution."""
    due = ticket.first_response_due_at if ticket.first_response_at is None else ticket.resolution_due_at
    return order_item(_("Answer the ticket"), ticket.order, url_for("aftersales.ticket", ticket_id=ticket.id),
                      ticket.opened_at, due=due or ticket.first_response_due_at, due_kind=DUE_DEADLINE,
                      detail=ticket.subject, escalated=ticket.escalated)


work_item("ticket.open", action="ticket.open",
          customer=lambda: order_customer_of(Ticket.order_id), label=lazy_gettext("Answer the ticket"),
          query=lambda user: (db.select(Ticket).where(Ticket.status == "open").options(_naming(Ticket.order))
                              .order_by(Ticket.first_response_due_at, Ticket.id)),
          more_url=_aftersales_list, build=_answer_item)
# An answered ticket past its deadline to solve: the customer's confirmation is still missing.
work_item("ticket.unsolved", action="ticket.unsolved",
          customer=lambda: order_customer_of(Ticket.order_id), label=lazy_gettext("Ticket not solved in time"),
          query=lambda user: (db.select(Ticket).where(Ticket.status == "answered", Ticket.resolution_due_at < utcnow())
                              .options(_naming(Ticket.order)).order_by(Ticket.resolution_due_at, Ticket.id)),
          more_url=_aftersales_list,
          build=lambda ticket, user: order_item(_("Ticket not solved in time"), ticket.order,
                                                url_for("aftersales.ticket", ticket_id=ticket.id), ticket.opened_at,
                                                due=ticket.resolution_due_at, due_kind=DUE_DEADLINE,
                                                detail=ticket.subject, escalated=ticket.escalated))
work_item("ticket.department", action="ticket.department_part",
          customer=lambda: order_customer_of(Ticket.order_id), label=lazy_gettext("Ticket handed to your department"),
          query=lambda user: (db.select(Ticket).where(Ticket.status != "resolved",
                                                      Ticket.department.in_([r for r in user.roles if r in DEPARTMENTS]))
                              .options(_naming(Ticket.order)).order_by(Ticket.department_due_at, Ticket.id)),
          more_url=_aftersales_list,
          build=lambda ticket, user: order_item(_("Ticket handed to your department"), ticket.order,
                                                url_for("aftersales.ticket", ticket_id=ticket.id), ticket.opened_at,
                                                due=ticket.department_due_at, due_kind=DUE_DEADLINE,
                                                detail=ticket.subject,
                                                escalated=ticket.department_escalated_at is not None))
work_item("followup.open", action="followup.record",
          customer=lambda: order_customer_of(FollowUp.order_id), label=lazy_gettext("Follow-up call"),
          query=follow_ups_for, more_url=_aftersales_list,
          build=lambda follow, user: order_item(_("Follow-up call"), follow.order,
                                                url_for("aftersales.order", order_id=follow.order_id),
                                                follow.created_at, due=follow.due_at, due_kind=DUE_DEADLINE,
                                                escalated=follow.escalated_at is not None))
