"""Where quality stops the other stages: a failed inspection not yet resolved holds the order's
packing, and a work order that needs a first article finishes only once the customer approved it."""
from decimal import Decimal

import pytest

from webapp.admin.models import get_settings
from webapp.auth.models import User
from webapp.extensions import db
from webapp.orders.models import Order
from webapp.production import services as floor
from webapp.production.models import WorkOrder
from webapp.quality.models import FirstArticle, Inspection
from webapp.shipping import services as shipping
from webapp.statemachine import TransitionError
from webapp.wallclock import utcnow

from .helpers import text_of


def test_a_failed_inspection_holds_packing_until_resolved(app, work_order, make_user):
    make_user("warehouse", username="packer")
    with app.app_context(), app.test_request_context("/", method="POST"):
        packer = db.session.scalar(db.select(User).where(User.username == "packer"))
        failed = Inspection(number="QC-T-1", stage="in_process", work_order_id=work_order.id,
                            order_id=work_order.order_id, result="fail", lot_size=Decimal("100"))
        db.session.add(failed)
        db.session.flush()
        order = db.session.get(Order, work_order.order_id)
        with pytest.raises(TransitionError) as held:
            shipping.create_shipment(order, packer, {}, {}, "delivery", "SF", "1", None, Decimal("0"))
        assert "failed inspection" in held.value.message
        failed.resolved_at = utcnow()
        with pytest.raises(TransitionError) as other:  # past the hold: now it is only the empty shipment
            shipping.create_shipment(order, packer, {}, {}, "delivery", "SF", "1", None, Decimal("0"))
        assert "failed inspection" not in other.value.message


def test_finish_waits_for_the_customers_first_article_approval(app, work_order, as_user):
    with app.app_context():
        get_settings().first_article = "always"
        db.session.commit()
    worker = as_user("worker")
    assert worker.post(f"/w/{work_order.token}/report", data={"p-good": "100"}).status_code == 303
    refused = worker.post(f"/w/{work_order.token}/do/finish")
    assert refused.status_code == 409 and "first" in text_of(refused).lower()
    with app.app_context():
        assert db.session.get(WorkOrder, work_order.id).status == "in_progress"
        db.session.add(FirstArticle(order_id=work_order.order_id, work_order_id=work_order.id, status="approved",
                                    decided_by_name="Ann", decided_at=utcnow()))
        db.session.commit()
    assert worker.post(f"/w/{work_order.token}/do/finish").status_code == 303
    with app.app_context():
        assert db.session.get(WorkOrder, work_order.id).status == "qc"


def test_a_sales_rep_limited_to_own_customers_sees_no_other_customers_inspection(app, work_order, as_user):
    """With sales reps scoped to their own customers, another customer's inspection answers 404 and
    is not on the quality page's lists."""
    with app.app_context():
        from webapp.admin.models import get_settings
        get_settings().sales_own_customers_only = True
        inspection = Inspection(number="QC-T-9", stage="final", work_order_id=work_order.id,
                                order_id=work_order.order_id, result="pass", lot_size=Decimal("100"),
                                decided_at=utcnow())
        db.session.add(inspection)
        db.session.commit()
        inspection_id = inspection.id
    rep = as_user("sales")  # owns no customer
    assert rep.get(f"/quality/inspections/{inspection_id}").status_code == 404
    page = rep.get("/quality/")
    assert page.status_code == 200 and "QC-T-9" not in text_of(page)
    assert "QC-T-9" in text_of(as_user("qc").get("/quality/"))
