"""The messages purchasing sends (notify events), in the recipient's language."""
from flask_babel import format_date
from flask_babel import gettext as _

from ..notify import Notice, message


@message("purchase_order.late")
def late_purchase_orders(orders, today) -> Notice:
    """To a purchaser: purchase orders past their expected date, one line each."""
    lines = "\n".join(_("%(number)s from %(supplier)s, expected %(date)s (%(days)s days late)",
                        number=order.number, supplier=order.supplier.name,
                        date=format_date(order.expected_date, "long"), days=(today - order.expected_date).days)
                      for order in orders)
    return Notice(_("%(count)s purchase orders are late", count=len(orders)),
                  _("Hello,\n\nThese purchase orders are past their expected date; please chase the "
                    "suppliers:\n\n%(lines)s\n", lines=lines))
