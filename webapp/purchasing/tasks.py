"""What purchasing does on a schedule: tell the purchasers, once a day, which purchase orders are late."""
import logging
from datetime import date

from .. import background
from ..auth import User
from ..extensions import db
from ..i18n import firm_today
from ..notify import Recipient, notify
from . import notices  # noqa: F401  (the messages notify() sends)
from .services import late_purchase_orders


def purchasers() -> list:
    """Active people with the purchasing role (and an address to tell)."""
    people = db.session.scalars(db.select(User).where(User.active.is_(True), User.roles_csv.like("%purchasing%"))
                                .order_by(User.id)).all()
    return [person for person in people if "purchasing" in person.roles and person.email]


def tell_late(today: date | None = None) -> list:
    """Tell every purchaser which purchase orders are late and were not told today (at most once per
    purchase order per day); return those purchase orders. The caller commits."""
    today = today or firm_today()
    orders = [order for order in late_purchase_orders(today)
              if order.late_told_on is None or order.late_told_on < today]
    if not orders:
        return []
    people = purchasers()
    if people:
        notify("purchase_order.late", [Recipient.user(person) for person in people], orders=orders, today=today)
    for order in orders:  # also without a purchaser: nobody to tell today, the list shows them anyway
        order.late_told_on = today
    return orders


@background.periodic(background.crontab(minute="30", hour="0"))
def tell_late_daily() -> None:
    """The worker tells the purchasers about late purchase orders every morning (00:30 UTC, 08:30 in
    China)."""
    told = tell_late()
    db.session.commit()
    logging.getLogger(__name__).info("told the purchasers about %s late purchase orders", len(told))
