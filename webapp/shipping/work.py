"""Shipping's work for My work: orders ready to ship and shipments to pack (the warehouse and
operations), and return cases to start within their clock (customer care)."""
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from sqlalchemy.orm import joinedload, selectinload

from .. import clocks
from ..extensions import db
from ..orders import Order
from ..orders import numbered_under, order_customer, order_item, orders_in, orders_list_url
from . import DOMAIN
from ..work_items import DUE_DEADLINE, DUE_DELIVERY, DUE_ETA, WorkItem, work_item
from .models import DeliveryReceipt, ReceiptLine, ReturnCase, Shipment, ShipmentLine
from .services import return_reason

# Customer care chases a return until it starts; the warehouse and operations start it from the
# shipment's page without it waiting on their list.
# The actions My work asks about, added to what this domain registered (webapp/registry.py).
DOMAIN.actions.update({"return.chase": frozenset({"aftersales", "sales", "manager"})})


def shipment_item(shipment: Shipment, user) -> WorkItem:
    """A shipment to pack and check against its packing list."""
    order = shipment.order
    return WorkItem(_("Pack and check the packing list"), numbered_under(shipment.number, order),
                    url_for("shipping.detail", shipment_id=shipment.id), shipment.created_at, "act",
                    customer=order.customer.name, due=shipment.eta or order.delivery_date,
                    due_kind=DUE_ETA if shipment.eta else DUE_DELIVERY)


def return_item(row, user) -> WorkItem:
    """An open return case: start it before its clock runs out."""
    case, order = row
    return order_item(_("Start the return within %(rule)s", rule=clocks.RETURN_START.rule()), order,
                      url_for("shipping.detail", shipment_id=case.shipment_id), case.opened_at,
                      due=case.due_at, due_kind=DUE_DEADLINE, detail=return_reason(case)[:80])


work_item("order.ready_to_ship", action="shipment.manage",
          customer=order_customer, label=lazy_gettext("Ready to ship"),
          query=lambda user: orders_in("ready_to_ship"), more_url=orders_list_url("ready_to_ship"),
          build=lambda o, user: order_item(_("Ready to ship"), o, url_for("shipping.order_shipments", order_id=o.id),
                                           o.updated_at))
work_item("shipment.packing", action="shipment.manage", label=lazy_gettext("Pack and check the packing list"),
          more_url=lambda: url_for("shipping.index", status="packing"),
          query=lambda user: (db.select(Shipment).where(Shipment.status == "packing")
                              .options(joinedload(Shipment.order).options(joinedload(Order.customer),
                                                                          selectinload(Order.lines)))
                              .order_by(Shipment.created_at, Shipment.id)),
          build=shipment_item)
work_item("return.open", action="return.chase",
          customer=order_customer,
          label=lambda: _("Start the return within %(rule)s", rule=clocks.RETURN_START.rule()),
          query=lambda user: (db.select(ReturnCase, Order).join(Order, Order.id == ReturnCase.order_id)
                              .where(ReturnCase.status == "open")
                              .options(joinedload(Order.customer), selectinload(Order.lines),
                                       # what went wrong, read from the signed receipt
                                       selectinload(ReturnCase.shipment).selectinload(Shipment.receipt)
                                       .selectinload(DeliveryReceipt.lines).selectinload(ReceiptLine.shipment_line)
                                       .selectinload(ShipmentLine.order_line))
                              .order_by(ReturnCase.due_at, ReturnCase.id)),
          build=return_item)
