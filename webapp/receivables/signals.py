"""What receivables answers when another domain asks (webapp/signals.py)."""
from .. import signals
from ..firm import get_settings
from ..statemachine import N_
from ..templating import money
from . import services


@signals.shipment_dispatching.connect
def overdue_customer_waits(shipment, **_extra):
    """款到发货: with the firm's hold on, a shipment of a customer with an overdue balance waits
    unless finance released its order; the message names the overdue amount."""
    overdue = services.hold(shipment.order)
    if overdue is None:
        return None
    return (N_("Shipping is held: the customer has %(amount)s overdue. Finance can release this order with a reason."),
            {"amount": money(overdue, get_settings().currency)})
