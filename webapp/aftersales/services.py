"""After-sales: the follow-up call, tickets with a working-hours clock, the satisfaction survey.

Every status change goes through lifecycle (FOLLOW_UP, TICKET, SURVEY). Shipping calls
on_receipt() when the customer signs a delivery receipt and on_delivered() when the whole order
is delivered; closing a return case calls send_survey_when_settled().
"""
from datetime import datetime

from .. import audit, clocks, links
from ..extensions import db
from ..notify import Recipient, notify
from ..orders import lifecycle as order_lifecycle
from ..statemachine import N_, TransitionError
from ..wallclock import utcnow
from ..workflow import transition
from . import lifecycle, notices  # noqa: F401  (notices: the messages notify() sends)
from .models import (DEPARTMENTS, RATINGS, SOLUTION_KINDS, TICKET_KINDS, FollowUp, Survey, Ticket, TicketCost,
                     TicketMessage)

# The customer's order link stays usable for after-sales much longer than a signing link.
SERVICE_LINK_DAYS = 180
SURVEY_LINK_DAYS = 30
# Statuses in which an order can have tickets (it was approved and is not cancelled).


# --- the clocks --------------------------------------------------------------------------------

def first_response_due(opened_at: datetime) -> datetime:
    """When the first answer to a ticket opened at opened_at is due (clocks.FIRST_RESPONSE)."""
    return clocks.FIRST_RESPONSE.due(opened_at)


# The firm's deadline to solve a ticket of each type, counted from when it was opened.
RESOLUTION_CLOCKS = {"fault": clocks.RESOLVE_FAULT, "usage": clocks.RESOLVE_USAGE,
                     "complaint": clocks.RESOLVE_COMPLAINT, "other": clocks.RESOLVE_OTHER}


def resolution_due(kind: str, opened_at: datetime) -> datetime:
    """When a ticket of type kind opened at opened_at is to be solved (its type's working-time clock)."""
    return RESOLUTION_CLOCKS[kind].due(opened_at)


# --- shipping's hooks --------------------------------------------------------------------------

def on_receipt(order, receipt_signed_at: datetime, user=None) -> FollowUp:
    """A delivery receipt was signed: the sales rep's follow-up call is due 3 working days later (once
    per order — later receipts of the same order add nothing), and the customer gets the order
    link for after-sales questions."""
    follow_up = db.session.scalar(db.select(FollowUp).where(FollowUp.order_id == order.id))
    if follow_up is not None:
        return follow_up
    follow_up = FollowUp(order_id=order.id, receipt_at=receipt_signed_at,
                         due_at=clocks.FOLLOW_UP.due(receipt_signed_at),
                         assignee_id=order.sales_rep_id)
    db.session.add(follow_up)
    db.session.flush()
    audit.record("follow_up.created", order, actor=user, entity_type="order",
                 after={"follow_up": follow_up.id, "due_at": follow_up.due_at.isoformat()})
    notify("follow_up.due", [Recipient.user(order.sales_rep)], order=order, follow_up=follow_up)
    notify("order.received", [Recipient.customer_of(order)], order=order, link=service_link(order))
    return follow_up


def on_delivered(order) -> Survey | None:
    """The whole order is delivered: send the satisfaction survey unless a ticket or a return case
    is open (then it goes when the last of them is settled)."""
    return send_survey_when_settled(order)


def send_survey_when_settled(order) -> Survey | None:
    """Send the survey once delivery is complete and nothing is open (no ticket the customer has
    not confirmed, no return case not closed); called whenever one of those may have been the last."""
    if order.status not in order_lifecycle.SETTLED or open_tickets(order) or open_return_cases(order):
        return None
    return send_survey(order)


# --- follow-up ---------------------------------------------------------------------------------

def record_follow_up(follow_up: FollowUp, outcome: str, user) -> None:
    """The rep made the call: record its outcome (403 wrong role, 409 already recorded)."""
    transition(follow_up, lifecycle.FOLLOW_UP, "record", user, note=outcome)
    follow_up.outcome, follow_up.done_at, follow_up.done_by_id = outcome, utcnow(), user.id


# --- tickets -----------------------------------------------------------------------------------

def open_tickets(order) -> list[Ticket]:
    """The order's tickets the customer has not confirmed resolved."""
    return db.session.scalars(db.select(Ticket).where(
        Ticket.order_id == order.id, Ticket.status != "resolved").order_by(Ticket.id)).all()


def open_return_cases(order) -> list:
    """The order's return cases not closed yet."""
    from ..shipping import ReturnCase
    return db.session.scalars(db.select(ReturnCase).where(
        ReturnCase.order_id == order.id, ReturnCase.status != "closed").order_by(ReturnCase.id)).all()


def can_have_tickets(order) -> bool:
    """An approved order that is not cancelled."""
    return order.status in order_lifecycle.TICKET_OPEN


def _check_kind(kind: str) -> None:
    if kind not in TICKET_KINDS:
        raise TransitionError(422, N_("Choose the ticket's type from the list."))


def open_ticket(order, subject: str, description: str, user=None, customer_name: str = "",
                kind: str = "other") -> Ticket:
    """Open a ticket (staff: user; the customer on their link: customer_name) of type kind, with its
    first-response clock and its deadline to solve."""
    if not can_have_tickets(order):
        raise TransitionError(409, N_("Tickets can be opened only on an approved order."))
    _check_kind(kind)
    now = utcnow()
    ticket = Ticket(order_id=order.id, subject=subject, description=description, opened_at=now,
                    opened_by_id=user.id if user is not None else None,
                    opened_by_customer=customer_name if user is None else "",
                    first_response_due_at=first_response_due(now), kind=kind,
                    resolution_due_at=resolution_due(kind, now))
    db.session.add(ticket)
    db.session.flush()
    audit.record("ticket.opened", order, actor=user, actor_kind=None if user else "link",
                 actor_label=customer_name or None, entity_type="order",
                 after={"ticket": ticket.id, "subject": subject, "status": ticket.status, "kind": kind,
                        "first_response_due_at": ticket.first_response_due_at.isoformat(),
                        "resolution_due_at": ticket.resolution_due_at.isoformat()})
    if user is None:
        notify("ticket.opened_by_customer", [Recipient.user(order.sales_rep)], order=order, ticket=ticket)
    return ticket


def respond(ticket: Ticket, body: str, user, solution: str = "") -> TicketMessage:
    """Staff answer the ticket, proposing a solution (SOLUTION_KINDS) or not; the first answer stops
    the first-response clock; the customer is told where to read it and confirm."""
    if solution and solution not in SOLUTION_KINDS:
        raise TransitionError(422, N_("Choose the solution from the list."))
    transition(ticket, lifecycle.TICKET, "respond", user, note=body,
               detail={"solution": solution} if solution else None)
    if solution:
        ticket.solution = solution
    message = TicketMessage(ticket=ticket, body=body, author_id=user.id, author_name=user.name)
    db.session.add(message)
    if ticket.first_response_at is None:
        ticket.first_response_at = utcnow()
    order = ticket.order
    notify("ticket.answered", [Recipient.customer_of(order)], order=order, ticket=ticket,
           link=service_link(order))
    return message


def add_cost(ticket: Ticket, kind: str, amount, note: str, user) -> TicketCost:
    """Record what solving the ticket cost (parts, freight, a visit); the cost sheet's after-sales
    actual counts it. Refused once the order is closed: its cost sheet is final."""
    if ticket.order.status in order_lifecycle.ENDED:
        raise TransitionError(409, N_("The order is closed: its costs can no longer change."))
    cost = TicketCost(ticket=ticket, order_id=ticket.order_id, kind=kind, amount=amount, note=note,
                      created_by_id=user.id)
    db.session.add(cost)
    db.session.flush()
    audit.record("ticket.cost", ticket, actor=user, entity_type="ticket",
                 after={"kind": kind, "amount": str(amount), "note": note, "order_id": ticket.order_id})
    return cost


def ticket_costs(order_id: int) -> "Decimal":
    """What the order's tickets cost, summed in SQL (exact: money in minor units)."""
    from decimal import Decimal
    total = db.session.scalar(db.select(db.func.sum(TicketCost.amount)).where(TicketCost.order_id == order_id))
    return total or Decimal("0")


def ticket_cost_rows(order_id: int) -> list[TicketCost]:
    """Each cost recorded on the order's tickets, oldest first (the cost sheet's drill-down)."""
    return list(db.session.scalars(db.select(TicketCost).where(TicketCost.order_id == order_id)
                                   .order_by(TicketCost.created_at, TicketCost.id)))


def customer_reply(ticket: Ticket, body: str) -> TicketMessage:
    """The customer adds to a ticket; on an answered one that means it is not solved yet."""
    if ticket.status == "resolved":
        raise TransitionError(409, lifecycle.TICKET.messages["state"])
    name = _customer_label(ticket.order)
    if ticket.status == "answered":
        transition(ticket, lifecycle.TICKET, "reopen", roles={"customer"}, actor_kind="link",
                   actor_label=name, note=body)
    else:  # adds to a ticket still waiting for our answer: on the order's timeline too
        audit.record("ticket.customer_reply", ticket, actor_kind="link", actor_label=name, note=body)
    message = TicketMessage(ticket=ticket, body=body, from_customer=True, author_name=name)
    db.session.add(message)
    return message


def _check_confirmable(ticket: Ticket) -> None:
    """A confirmation needs a proposed solution on a ticket not yet closed (409 with the reason)."""
    if ticket.status == "resolved":
        raise TransitionError(409, N_("This ticket is already closed: its resolution was confirmed."))
    if ticket.status != "answered":
        raise TransitionError(409, N_("No solution has been proposed on this ticket yet: nothing to confirm."))


def confirm_resolved(ticket: Ticket) -> None:
    """The customer confirms the answer solved it; with the last open ticket of a delivered order
    resolved, the survey goes out."""
    _check_confirmable(ticket)
    transition(ticket, lifecycle.TICKET, "confirm", roles={"customer"}, actor_kind="link",
               actor_label=_customer_label(ticket.order))
    _closed(ticket)


def confirm_by_phone(ticket: Ticket, note: str, user) -> None:
    """Staff record the confirmation the customer gave on the phone (marked as such, with who took it)."""
    _check_confirmable(ticket)
    transition(ticket, lifecycle.TICKET, "confirm_by_phone", user, note=note or None,
               detail={"by_phone": True})
    ticket.confirmed_by_phone, ticket.resolved_by_id = True, user.id
    _closed(ticket)


def _closed(ticket: Ticket) -> None:
    """The ticket is solved: its clocks stop; the survey goes if it was the last thing open."""
    ticket.resolved_at = utcnow()
    ticket.department, ticket.department_due_at = "", None
    db.session.flush()
    send_survey_when_settled(ticket.order)


def classify(ticket: Ticket, kind: str, solution: str, user) -> None:
    """Set the ticket's type (its deadline to solve follows, counted from when it was opened) and the
    solution chosen; recorded in its history. 422 for a type or solution not in the lists, 409 once closed."""
    _check_kind(kind)
    if solution and solution not in SOLUTION_KINDS:
        raise TransitionError(422, N_("Choose the solution from the list."))
    if not ticket.is_open:
        raise TransitionError(409, N_("This ticket is already closed: its resolution was confirmed."))
    before = {"kind": ticket.kind, "solution": ticket.solution}
    if kind != ticket.kind:
        ticket.kind = kind
        ticket.resolution_due_at = resolution_due(kind, ticket.opened_at)
        ticket.resolution_escalated_at = None  # a new deadline may escalate again
    ticket.solution = solution
    audit.record("ticket.classified", ticket, actor=user, entity_type="ticket", before=before,
                 after={"kind": kind, "solution": solution,
                        "resolution_due_at": ticket.resolution_due_at.isoformat()})


def department_members(department: str) -> list:
    """The active people of a department (its role) with an address to tell."""
    from ..auth import User
    people = db.session.scalars(db.select(User).where(User.active.is_(True), User.roles_csv.like(f"%{department}%"))
                                .order_by(User.id)).all()
    return [person for person in people if department in person.roles and person.email]


def assign(ticket: Ticket, department: str, note: str, user) -> None:
    """Hand the ticket to another department (or to another one than now) for its part, due on
    clocks.TICKET_DEPARTMENT from now; its people are told; recorded in the ticket's history."""
    if department not in DEPARTMENTS:
        raise TransitionError(422, N_("Choose a department from the list."))
    if not ticket.is_open:
        raise TransitionError(409, N_("This ticket is already closed: its resolution was confirmed."))
    before = {"department": ticket.department}
    ticket.department, ticket.department_note = department, note
    ticket.department_due_at = clocks.TICKET_DEPARTMENT.due(utcnow())
    ticket.department_escalated_at = None  # its own clock: escalated once per due time
    audit.record("ticket.assigned", ticket, actor=user, entity_type="ticket", before=before, note=note or None,
                 after={"department": department, "due_at": ticket.department_due_at.isoformat()})
    people = department_members(department)
    if people:
        notify("ticket.assigned", [Recipient.user(person) for person in people], order=ticket.order,
               ticket=ticket)


def hand_back(ticket: Ticket, note: str, user) -> None:
    """The department did its part (what it found in note) and hands the ticket back to after-sales."""
    if not ticket.department:
        raise TransitionError(409, N_("This ticket is not with another department."))
    before = {"department": ticket.department}
    late = ticket.department_late
    ticket.department, ticket.department_due_at, ticket.department_escalated_at = "", None, None
    audit.record("ticket.handed_back", ticket, actor=user, entity_type="ticket", before=before, note=note or None,
                 after={"department": "", "late": late})


# --- the survey --------------------------------------------------------------------------------

def send_survey(order) -> Survey | None:
    """Issue the survey link and mail it to the customer (once per order)."""
    if db.session.scalar(db.select(Survey.id).where(Survey.order_id == order.id).limit(1)):
        return None
    link = links.issue("survey", order.id, days=SURVEY_LINK_DAYS)
    survey = Survey(order_id=order.id, link_id=link.id)
    db.session.add(survey)
    db.session.flush()
    audit.record("survey.sent", order, entity_type="order", after={"survey": survey.id})
    notify("survey.sent", [Recipient.customer_of(order)], order=order, link=link)
    return survey


def answer_survey(survey: Survey, ratings: dict[str, int], suggestions: str) -> None:
    """Store the customer's answer; a second answer on the same link is refused (409)."""
    transition(survey, lifecycle.SURVEY, "answer", roles={"customer"}, actor_kind="link",
               actor_label=_customer_label(survey.order), detail=dict(ratings))
    _store_answers(survey, ratings, suggestions)


def _store_answers(survey: Survey, ratings: dict[str, int], suggestions: str) -> None:
    for name in RATINGS:
        setattr(survey, name, ratings[name])
    survey.suggestions = suggestions
    survey.answered_at = utcnow()


def answer_survey_by_phone(survey: Survey, ratings: dict[str, int], suggestions: str, user) -> None:
    """Staff enter the answers the customer gave on the phone, on the same form; marked by phone with
    who entered them (survey.entered_by); the satisfaction KPI counts them like any answer."""
    transition(survey, lifecycle.SURVEY, "answer_by_phone", user, detail={**ratings, "by_phone": True})
    _store_answers(survey, ratings, suggestions)
    survey.entered_by_id = user.id


# --- helpers -----------------------------------------------------------------------------------

def service_link(order) -> links.AccessLink:
    """The customer's live order link (their page for the order: aftersales/tracking.py), issued if
    there is none."""
    from .tracking import track_link
    return track_link(order)




def _customer_label(order) -> str:
    """How a customer acting on a link appears in the audit trail and on messages."""
    return order.customer.contact_name or order.customer.name


def time_left(due: datetime | None) -> str:
    """How long until due in words ("2 days left"), or how late it is ("overdue by 3 hours")."""
    from flask_babel import format_timedelta, gettext
    if due is None:
        return ""
    gap = due - utcnow()
    if gap.total_seconds() >= 0:
        return gettext("%(time)s left", time=format_timedelta(gap, granularity="minute", threshold=1.1))
    return gettext("overdue by %(time)s", time=format_timedelta(-gap, granularity="minute", threshold=1.1))
