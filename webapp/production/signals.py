"""What production does when another domain tells it something happened (webapp/signals.py)."""
from .. import signals
from . import materials, services


@signals.order_released.connect
def make_work_orders(order, user, **_extra) -> None:
    """An order was released to production: one work order per line (or stock taken)."""
    services.create_work_orders(order, user, at_release=True)


@signals.stock_received.connect
def reach_materials_milestone(material, **_extra) -> None:
    """Goods received: the planned work orders now covered reach "materials purchased" by themselves."""
    for work_order in materials.ready_for_materials(material):
        services.move(work_order, "materials_ready", None, system=True)
