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
from . import DOMAIN, lifecycle
from ..work_items import DUE_DEADLINE, DUE_DELIVERY, DUE_ETA, DUE_PLANNED, WorkItem, work_item
from .models import DeliveryReceipt, Pickup, ReceiptLine, ReturnCase, Shipment, ShipmentLine
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


# --- pickups and the later steps of return cases (issue 13) ----------------------------------------

def pickup_item(pickup: Pickup, user) -> WorkItem:
    """A pickup booked for a date and a window: of a shipment, or of a return case's goods."""
    from .carriers import who_label
    window = _("Pickup %(start)s–%(end)s", start=pickup.window_from.strftime("%H:%M"),
               end=pickup.window_to.strftime("%H:%M"))
    if pickup.shipment is not None:
        shipment = pickup.shipment
        url = url_for("shipping.detail", shipment_id=shipment.id)
    else:
        shipment = pickup.return_case.shipment
        window = _("Return collection %(start)s–%(end)s", start=pickup.window_from.strftime("%H:%M"),
                   end=pickup.window_to.strftime("%H:%M"))
        url = url_for("shipping.return_case", case_id=pickup.return_case_id)
    return WorkItem(window, numbered_under(shipment.number, shipment.order), url, pickup.booked_at, "act",
                    customer=shipment.order.customer.name, due=pickup.on_date, due_kind=DUE_PLANNED,
                    detail=who_label(pickup))


def _pickups_due(user):
    collecting = db.select(ReturnCase.id).where(ReturnCase.status == "collecting")
    return (db.select(Pickup).outerjoin(Shipment, Shipment.id == Pickup.shipment_id)
            .where(Pickup.done_at.is_(None), db.or_(Shipment.status.in_(("packing", "packed")),
                                                    Pickup.return_case_id.in_(collecting)))
            .options(joinedload(Pickup.shipment).joinedload(Shipment.order).joinedload(Order.customer),
                     joinedload(Pickup.return_case).joinedload(ReturnCase.shipment).joinedload(Shipment.order)
                     .joinedload(Order.customer), joinedload(Pickup.carrier), joinedload(Pickup.vehicle))
            .order_by(Pickup.on_date, Pickup.window_from, Pickup.id))


# The later steps of a started case, in words for My work (lifecycle.RETURN_NEXT_STEP).
NEXT_STEP = {status: words for status, words in lifecycle.RETURN_NEXT_STEP.items() if status != "open"}


def case_step_item(row, user) -> WorkItem:
    """A started return case's next step, due by its clock."""
    case, order = row
    return order_item(_(NEXT_STEP[case.status]), order, url_for("shipping.return_case", case_id=case.id),
                      case.started_at or case.opened_at, due=case.step_due_at or case.due_at, due_kind=DUE_DEADLINE,
                      detail=case.step_owner.name if case.step_owner else "")


work_item("shipment.pickup", action="shipment.manage", label=lazy_gettext("Pickups booked"),
          more_url=lambda: url_for("shipping.index", status="packed"), query=_pickups_due, build=pickup_item)
work_item("return.step", action="return.manage", customer=order_customer,
          label=lazy_gettext("Return cases under way"),
          query=lambda user: (db.select(ReturnCase, Order).join(Order, Order.id == ReturnCase.order_id)
                              .where(ReturnCase.status.in_(tuple(NEXT_STEP)))
                              .options(joinedload(Order.customer), selectinload(Order.lines),
                                       joinedload(ReturnCase.step_owner))
                              .order_by(ReturnCase.step_due_at, ReturnCase.id)),
          build=case_step_item)
