"""What after-sales does on a schedule: escalate overdue follow-up calls and the overdue clocks of open
tickets (first answer, solution, a department's part) to their owner and the managers, once per due time
(the pattern of shipping/tasks.py for return cases)."""
import logging
from datetime import datetime

from .. import audit, background
from ..extensions import db
from ..notify import Recipient, notify
from ..wallclock import utcnow
from . import notices  # noqa: F401  (the messages notify() sends)
from .models import FollowUp, Ticket
from .services import department_members

# Each clock of a ticket: its due-time column, the column marking it escalated, and what still has it running.
TICKET_CLOCKS = (
    ("first_response", Ticket.first_response_due_at, Ticket.response_escalated_at,
     Ticket.first_response_at.is_(None)),
    ("resolution", Ticket.resolution_due_at, Ticket.resolution_escalated_at, Ticket.status != "resolved"),
    ("department", Ticket.department_due_at, Ticket.department_escalated_at, Ticket.department != ""),
)
_MARKS = {"first_response": "response_escalated_at", "resolution": "resolution_escalated_at",
          "department": "department_escalated_at"}
_DUES = {"first_response": "first_response_due_at", "resolution": "resolution_due_at",
         "department": "department_due_at"}


def _told(owner, bosses, extra=()) -> dict:
    """The owner, the managers and anyone else concerned, once each, those with an address."""
    people = {person.id: person for person in bosses}
    for person in (owner, *extra):
        if person is not None and person.active and person.email:
            people.setdefault(person.id, person)
    return people


def overdue_tickets(now: datetime) -> list[tuple[str, Ticket]]:
    """(clock, ticket) for every clock of an open ticket past due and not yet escalated for that due time."""
    found = []
    for clock, due, mark, running in TICKET_CLOCKS:
        tickets = db.session.scalars(db.select(Ticket).where(
            Ticket.status != "resolved", running, due.is_not(None), due < now, mark.is_(None))
            .order_by(due, Ticket.id).with_for_update(skip_locked=True)).all()
        found.extend((clock, ticket) for ticket in tickets)
    return found


def overdue_follow_ups(now: datetime) -> list[FollowUp]:
    """Open follow-up calls past due and not escalated yet."""
    return db.session.scalars(db.select(FollowUp).where(
        FollowUp.status == "open", FollowUp.due_at < now, FollowUp.escalated_at.is_(None))
        .order_by(FollowUp.due_at, FollowUp.id).with_for_update(skip_locked=True)).all()


def escalate(now: datetime | None = None) -> list:
    """Tell the owner (the order's sales rep; for a department's part also its people) and the managers
    of every overdue ticket clock and follow-up call, mark each escalated for its due time and record it
    in the ticket's or the order's history; return what was escalated. The caller commits."""
    now = now or utcnow()
    bosses = department_members("manager")
    done: list = []
    for clock, ticket in overdue_tickets(now):
        extra = department_members(ticket.department) if clock == "department" else ()
        people = _told(ticket.order.sales_rep, bosses, extra)
        due = getattr(ticket, _DUES[clock])
        if people:
            notify("ticket.overdue", [Recipient.user(p) for p in people.values()], order=ticket.order,
                   ticket=ticket, clock=clock, due=due)
        setattr(ticket, _MARKS[clock], now)
        audit.record("ticket.escalated", ticket, actor_kind="system", entity_type="ticket",
                     after={"clock": clock, "due_at": due.isoformat(), "told": sorted(people),
                            **({"department": ticket.department} if clock == "department" else {})})
        done.append(ticket)
    for follow_up in overdue_follow_ups(now):
        people = _told(follow_up.assignee, bosses)
        if people:
            notify("follow_up.overdue", [Recipient.user(p) for p in people.values()], order=follow_up.order,
                   follow_up=follow_up)
        follow_up.escalated_at = now
        audit.record("follow_up.escalated", follow_up.order, actor_kind="system", entity_type="order",
                     after={"follow_up": follow_up.id, "due_at": follow_up.due_at.isoformat(),
                            "told": sorted(people)})
        done.append(follow_up)
    return done


@background.periodic(background.crontab(minute="*/15"))
def escalate_overdue_aftersales() -> None:
    """The worker escalates overdue tickets and follow-up calls every quarter of an hour."""
    escalated = escalate()
    db.session.commit()
    logging.getLogger(__name__).info("escalated %s overdue tickets and follow-up calls", len(escalated))
