"""The order page and list say when an order is late, its new expected date, and what stops its line."""
from datetime import timedelta

from webapp.extensions import db
from webapp.i18n import firm_today
from webapp.orders.models import Order
from webapp.production import services as floor
from webapp.production.models import WorkOrder

from .helpers import text_of


def test_a_late_order_with_a_stopped_line_says_so_on_its_page_and_in_the_list(app, make_order, make_user, as_user):
    """Delivery date 3 days ago, a blocking anomaly with a new ETA: the page shows "3 days late", the
    new date and the stopped line; the list shows the lateness too; a delivered order is never late."""
    order_id = make_order("in_production")
    supervisor_id = make_user("production", username="super")
    with app.app_context(), app.test_request_context("/", method="POST"):
        order = db.session.get(Order, order_id)
        work_order = db.session.scalar(db.select(WorkOrder).where(WorkOrder.order_id == order_id))
        from webapp.auth.models import User
        floor.raise_anomaly(work_order, db.session.get(User, supervisor_id), "equipment_failure", "blocking",
                            "Spindle bearing seized", "Spare ordered", firm_today() + timedelta(days=4),
                            "spare part", [])
        order.delivery_date = firm_today() - timedelta(days=3)
        db.session.commit()
    manager = as_user("manager")
    page = text_of(manager.get(f"/orders/{order_id}"))
    assert "3 days late" in page and "New expected date" in page
    assert "Line stopped" in page and "Spindle bearing seized" in page
    assert "3 days late" in text_of(manager.get("/orders/"))
    with app.app_context():
        db.session.get(Order, order_id).status = "delivered"
        db.session.commit()
    assert "days late" not in text_of(manager.get(f"/orders/{order_id}"))
