"""Costing's work for My work: delivered orders to cost and close (finance, the manager)."""
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext

from ..orders import order_customer, order_item, orders_in, orders_list_url
from ..work_items import work_item

work_item("order.cost_and_close", action="order.close",
          customer=order_customer, label=lazy_gettext("Cost and close the order"),
          query=lambda user: orders_in("delivered"), more_url=orders_list_url("delivered"),
          build=lambda o, user: order_item(_("Cost and close the order"), o, url_for("costing.sheet", order_id=o.id),
                                           o.updated_at, due=None, due_kind=""))
