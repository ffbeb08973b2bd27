"""The messages orders send (notify events), in the recipient's language."""
from flask import url_for
from flask_babel import gettext as _

from .. import links
from ..notify import Notice, message


@message("order.countersign_requested")
def countersign_requested(order, link) -> Notice:
    """To the customer: the approved terms to countersign, by their link."""
    return Notice(_("Order %(number)s: please countersign", number=order.number),
                  _("Hello,\n\nYour order %(number)s has been approved. Please read the terms and "
                    "countersign them here:\n\n%(url)s\n", number=order.number, url=link.url))


@message("order.countersigned")
def countersigned(order, name: str) -> Notice:
    """To the sales rep: the customer countersigned."""
    return Notice(_("Order %(number)s countersigned by %(name)s", number=order.number, name=name),
                  links.absolute(url_for("orders.detail", order_id=order.id)))
