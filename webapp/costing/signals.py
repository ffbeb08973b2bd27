"""What costing does when another domain tells it something happened (webapp/signals.py)."""
from .. import signals
from . import services


@signals.shipment_created.connect
def refresh_freight(order, **_extra) -> None:
    """A shipment was made: the cost sheet's logistics actual is the freight of its shipments."""
    sheet = services.sheet_for(order)
    if sheet is not None:
        services.refresh_computed(sheet, order)
