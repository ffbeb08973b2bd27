"""The messages production sends (notify events), in the recipient's language."""
from flask_babel import format_date
from flask_babel import gettext as _

from ..notify import Notice, message


@message("order.eta_changed")
def eta_changed(order, new_eta, reason: str) -> Notice:
    """To the customer: the order will be ready on another date, and why."""
    told = format_date(new_eta, "long")  # in the customer's language, not ISO
    return Notice(_("Order %(number)s: new expected date %(date)s", number=order.number, date=told),
                  _("Hello,\n\nWe are sorry: order %(number)s will be ready on %(date)s instead of the "
                    "date agreed.\nReason: %(reason)s\n", number=order.number, date=told, reason=reason))
