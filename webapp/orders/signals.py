"""What the orders stage answers or does when another domain asks or tells (webapp/signals.py)."""
from .. import signals
from ..extensions import db
from .models import Order


@signals.customer_abbreviation_used.connect
def numbered_with_abbreviation(customer, **_extra) -> bool:
    """Whether an order of customer was numbered (its number carries the customer's abbreviation)."""
    return db.session.scalar(db.select(db.func.count()).select_from(Order).where(
        Order.customer_id == customer.id, Order.number.is_not(None))) > 0
