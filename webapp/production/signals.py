"""What production does when another domain tells it something happened (webapp/signals.py)."""
from .. import signals
from . import services


@signals.order_released.connect
def make_work_orders(order, user, **_extra) -> None:
    """An order was released to production: one work order per line (or stock taken)."""
    services.create_work_orders(order, user, at_release=True)
