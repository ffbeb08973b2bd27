"""The messages requirements send (notify events), in the recipient's language."""
from flask import url_for
from flask_babel import gettext as _

from .. import links
from ..notify import Notice, message


@message("requirement.sent")
def requirement_sent(requirement, link) -> Notice:
    """To the customer: the record to confirm, by its link."""
    return Notice(
        _("Please confirm your requirement: %(product)s", product=requirement.product),
        _("Hello %(name)s,\n\nPlease check the requirement record we wrote down for you and "
          "confirm it, or ask us to clarify anything:\n\n%(url)s\n\nThis link is valid for "
          "%(days)s days.\n", name=requirement.contact_name or requirement.customer.name,
          url=link.url, days=link.valid_days))


@message("requirement.answered")
def requirement_answered(requirement, answer: str, name: str, comment: str | None) -> Notice:
    """To the sales rep: the customer confirmed or asked for a clarification."""
    subject = (_("Requirement confirmed by %(name)s", name=name) if answer == "confirmed"
               else _("Clarification asked by %(name)s", name=name))
    return Notice(subject, "%s\n\n%s\n\n%s" % (
        subject, comment or "", links.absolute(url_for("requirements.detail", req_id=requirement.id))))
