"""The messages service projects send (notify events), in the recipient's language."""
from flask import url_for
from flask_babel import gettext as _

from .. import links
from ..notify import Notice, message


@message("project.acceptance_requested")
def acceptance_requested(order, link) -> Notice:
    """To the customer: deliverables ready to accept, by their link (sent again after a rework)."""
    return Notice(_("Project %(number)s: please check and accept the deliverables", number=order.number),
                  _("Hello,\n\nDeliverables of project %(number)s are ready for your acceptance. Please check "
                    "them and accept or reject each one here:\n\n%(url)s\n", number=order.number, url=link.url))


@message("project.deliverable_rejected")
def deliverable_rejected(order, title: str, comment: str) -> Notice:
    """To the sales rep: the customer rejected a deliverable; a rework case runs."""
    return Notice(_("Project %(number)s: “%(title)s” rejected", number=order.number, title=title),
                  _("The customer's comment: %(comment)s\n\n%(url)s", comment=comment,
                    url=links.absolute(url_for("projects.detail", order_id=order.id))))
