"""The messages after-sales sends (notify events), in the recipient's language."""
from flask import url_for
from flask_babel import gettext as _

from .. import links
from ..i18n import firm_zone
from ..notify import Notice, message


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
