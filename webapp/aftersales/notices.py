"""The messages after-sales sends (notify events), in the recipient's language."""
from flask import url_for
from flask_babel import gettext as _

from .. import links
from ..i18n import firm_zone
from ..notify import Notice, message
from ..statemachine import N_


@message("follow_up.due")
def follow_up_due(order, follow_up) -> Notice:
    """To the sales rep: the follow-up call and when it is due (the firm's local time)."""
    due = follow_up.due_at.astimezone(firm_zone()).strftime("%Y-%m-%d %H:%M")
    return Notice(_("Order %(number)s: follow-up call due %(date)s", number=order.number, date=due),
                  links.absolute(url_for("aftersales.order", order_id=order.id)))


@message("order.received")
def order_received(order, link) -> Notice:
    """To the customer: where to ask questions after delivery."""
    return Notice(_("Order %(number)s: questions after delivery", number=order.number),
                  _("Hello,\n\nThank you for receiving order %(number)s. If anything is not right, "
                    "tell us on this page and follow our answer there:\n\n%(url)s\n",
                    number=order.number, url=link.url))


@message("ticket.opened_by_customer")
def ticket_opened_by_customer(order, ticket) -> Notice:
    """To the sales rep: the customer opened a ticket on their link."""
    return Notice(_("Order %(number)s: the customer opened a ticket: %(subject)s",
                    number=order.number, subject=ticket.subject),
                  links.absolute(url_for("aftersales.ticket", ticket_id=ticket.id)))


@message("ticket.answered")
def ticket_answered(order, ticket, link) -> Notice:
    """To the customer: we answered their ticket; where to read it and confirm."""
    return Notice(_("Order %(number)s: we answered \"%(subject)s\"", number=order.number, subject=ticket.subject),
                  _("Hello,\n\nWe answered your question. Read the answer and tell us whether it is "
                    "solved here:\n\n%(url)s\n", url=link.url))


@message("survey.sent")
def survey_sent(order, link) -> Notice:
    """To the customer: the satisfaction survey."""
    return Notice(_("Order %(number)s: how did we do?", number=order.number),
                  _("Hello,\n\nOrder %(number)s is delivered. Three quick ratings and your suggestions "
                    "help us improve:\n\n%(url)s\n", number=order.number, url=link.url))


def _path(endpoint: str, **values) -> str:
    """An absolute URL to a page of the app, inside a request or in the worker (built from the URL map)."""
    from flask import current_app
    return links.absolute(current_app.url_map.bind("localhost").build(endpoint, values))


def _local(when) -> str:
    return when.astimezone(firm_zone()).strftime("%Y-%m-%d %H:%M")


@message("ticket.assigned")
def ticket_assigned(order, ticket) -> Notice:
    """To the department's people: a ticket is handed to them, and when their part is due."""
    return Notice(_("Order %(number)s: ticket \"%(subject)s\" handed to your department, due %(due)s",
                    number=order.number, subject=ticket.subject, due=_local(ticket.department_due_at)),
                  _path("aftersales.ticket", ticket_id=ticket.id))


# Which of a ticket's clocks ran out (tasks.py), in words.
OVERDUE_CLOCKS = {"first_response": N_("first answer"), "resolution": N_("solution"),
                  "department": N_("department's part")}


@message("ticket.overdue")
def ticket_overdue(order, ticket, clock, due) -> Notice:
    """To the owner and the managers: a ticket's clock ran out (sent by the worker)."""
    return Notice(_("Order %(number)s: ticket \"%(subject)s\" overdue (%(clock)s, due %(due)s)",
                    number=order.number, subject=ticket.subject, clock=_(OVERDUE_CLOCKS[clock]), due=_local(due)),
                  _path("aftersales.ticket", ticket_id=ticket.id))


@message("follow_up.overdue")
def follow_up_overdue(order, follow_up) -> Notice:
    """To the rep and the managers: the follow-up call was not made in time (sent by the worker)."""
    return Notice(_("Order %(number)s: follow-up call overdue (due %(due)s)", number=order.number,
                    due=_local(follow_up.due_at)),
                  _path("aftersales.order", order_id=order.id))
