"""The messages shipping sends (notify events), in the recipient's language."""
from flask_babel import format_date, format_datetime
from flask_babel import gettext as _

from ..notify import Notice, message


@message("shipment.dispatched")
def shipment_dispatched(order, shipment, link) -> Notice:
    """To the customer: the shipment left; where to sign for it when it arrives."""
    how = " ".join(part for part in (shipment.carrier, shipment.tracking_no) if part)
    if how:
        body = _("Hello,\n\nShipment %(number)s of order %(order)s has left us (%(how)s).\n"
                 "When it arrives, please check it and sign for it here:\n\n%(url)s\n",
                 number=shipment.number, order=order.number, how=how, url=link.url)
    else:  # our own truck or a pickup: no carrier to name
        body = _("Hello,\n\nShipment %(number)s of order %(order)s has left us.\n"
                 "When it arrives, please check it and sign for it here:\n\n%(url)s\n",
                 number=shipment.number, order=order.number, url=link.url)
    if shipment.eta is not None:  # a date in the customer's language, as they write dates
        body += "\n" + _("Expected arrival: %(date)s", date=format_date(shipment.eta, "long")) + "\n"
    return Notice(_("Shipment %(number)s is on its way", number=shipment.number), body)


@message("shipment.attempt_failed")
def attempt_failed(order, shipment, transit_event) -> Notice:
    """To the customer: the carrier could not deliver, why, and that it comes again."""
    from .forms import REASON_LABELS
    event = transit_event
    reason = str(REASON_LABELS.get(event.reason, REASON_LABELS["other"]))
    body = _("Hello,\n\nShipment %(number)s of order %(order)s could not be delivered on %(date)s.\n"
             "Reason: %(reason)s\n", number=shipment.number, order=order.number,
             date=format_datetime(event.occurred_at, "short"), reason=reason)
    if event.note:
        body += event.note + "\n"
    body += "\n" + _("We will try again. If you want to agree a time or place, please call or write to us.") + "\n"
    return Notice(_("Shipment %(number)s: delivery attempt failed", number=shipment.number), body)


@message("shipment.arrived")
def shipment_arrived(order, shipment, transit_event) -> Notice:
    """To the customer: the shipment was delivered; where to sign for it if not signed yet."""
    from .. import links
    event = transit_event
    body = _("Hello,\n\nShipment %(number)s of order %(order)s was delivered on %(date)s.\n",
             number=shipment.number, order=order.number, date=format_datetime(event.occurred_at, "short"))
    link = links.current("delivery_receipt", shipment.id) if shipment.receipt is None else None
    if link is not None:
        body += "\n" + _("Please check it and sign for it here:\n\n%(url)s\n", url=link.url)
    return Notice(_("Shipment %(number)s was delivered", number=shipment.number), body)
@message("return.overdue")
def return_overdue(case) -> Notice:
    """To the step's owner and the managers: a return case's step is past its due time (sent by the
    worker, outside any request: the case's path is built from the app's URL map)."""
    from flask import current_app

    from .. import links
    from ..i18n import firm_zone
    from .lifecycle import RETURN_LABELS
    step = _(RETURN_LABELS[case.status])
    due = (case.step_due_at or case.due_at).astimezone(firm_zone()).strftime("%Y-%m-%d %H:%M")
    return Notice(_("Order %(number)s: return case overdue (%(step)s, due %(due)s)", number=case.order.number,
                    step=step, due=due),
                  links.absolute(current_app.url_map.bind("localhost").build("shipping.return_case",
                                                                              {"case_id": case.id})))
