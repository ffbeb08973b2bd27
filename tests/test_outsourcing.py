"""Outsourced operations (外协): a batch goes out with its own number and due date, never more than
the operation before passed, comes back once with good, scrap and cost; late batches are listed."""
import re
import secrets
from datetime import timedelta
from decimal import Decimal

import pytest

from webapp.extensions import db
from webapp.i18n import firm_today
from webapp.production import outsourcing
from webapp.production.models import OutsourceTransfer, ProgressReport, WorkOrder, WorkOrderOperation

from .helpers import text_of

D = Decimal


@pytest.fixture
def today(app):
    """The firm's today."""
    with app.app_context():
        return firm_today()


@pytest.fixture
def routed(app, work_order, make_user):
    """The work order (100 pieces) with two operations: machining in the firm, then heat treatment sent
    out; 60 pieces machined so far."""
    worker = make_user("worker", username="machinist")
    with app.app_context():
        machining = WorkOrderOperation(work_order_id=work_order.id, position=1, name="机加工",
                                       token=secrets.token_urlsafe(18))
        heat = WorkOrderOperation(work_order_id=work_order.id, position=2, name="热处理", outsourced=True,
                                  token=secrets.token_urlsafe(18))
        db.session.add_all([machining, heat])
        db.session.flush()
        db.session.add(ProgressReport(work_order_id=work_order.id, operation_id=machining.id, good_qty=D("60"),
                                      worker_id=worker))
        db.session.commit()
        return work_order, heat.id


def send(client, operation_id, quantity, due=None):
    data = {"s-quantity": quantity}
    if due:
        data["s-due_date"] = due.isoformat()
    return client.post(f"/production/operations/{operation_id}/outsource", data=data)


def test_a_batch_goes_out_and_comes_back_once(app, routed, as_user, today):
    _work_order, heat_id = routed
    supervisor = as_user("production")
    due = today + timedelta(days=5)
    assert send(supervisor, heat_id, "40", due).status_code == 303
    with app.app_context():
        transfer = db.session.scalar(db.select(OutsourceTransfer))
        assert transfer.number == f"OS-{today.year}-0001" and transfer.sent_qty == D("40")
        assert transfer.due_date == due
        transfer_id = transfer.id
    assert "OS-" in text_of(supervisor.get("/production/outsourcing"))
    back = {f"r{transfer_id}-good": "38", f"r{transfer_id}-scrap": "2", f"r{transfer_id}-cost": "1,250.00"}
    assert supervisor.post(f"/production/outsourcing/{transfer_id}/receive", data=back).status_code == 303
    again = supervisor.post(f"/production/outsourcing/{transfer_id}/receive", data=back)
    assert again.status_code == 409 and "already received" in text_of(again)
    with app.app_context():
        heat = db.session.get(WorkOrderOperation, heat_id)
        assert outsourcing.good_of(heat) == D("38")
        assert outsourcing.outsourcing_cost(heat.work_order_id) == D("1250.00")
        assert db.session.get(OutsourceTransfer, transfer_id).received_good == D("38")


def test_never_more_than_the_operation_before_passed(app, routed, as_user):
    _work_order, heat_id = routed
    supervisor = as_user("production")
    assert send(supervisor, heat_id, "45").status_code == 303
    refused = send(supervisor, heat_id, "16")  # 60 machined, 45 out: 15 may go
    assert refused.status_code == 409 and "At most 15 pieces" in text_of(refused)
    assert 'value="16"' in text_of(refused)  # what was typed is kept
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(OutsourceTransfer)) == 1


@pytest.mark.parametrize("quantity, status", [("0", 422), ("-5", 422), ("abc", 422), ("", 422),
                                              ("99999999999", 422)])
def test_bad_quantities_are_refused(app, routed, as_user, quantity, status):
    _work_order, heat_id = routed
    assert send(as_user("production"), heat_id, quantity).status_code == status


def test_coming_back_with_more_than_was_sent_and_a_past_due_date_are_refused(app, routed, as_user, today):
    _work_order, heat_id = routed
    supervisor = as_user("production")
    past = send(supervisor, heat_id, "10", today - timedelta(days=1))
    assert past.status_code == 422 and "past" in text_of(past)
    assert send(supervisor, heat_id, "10").status_code == 303
    with app.app_context():
        transfer_id = db.session.scalar(db.select(OutsourceTransfer.id))
    too_many = supervisor.post(f"/production/outsourcing/{transfer_id}/receive",
                               data={f"r{transfer_id}-good": "9", f"r{transfer_id}-scrap": "2"})
    assert too_many.status_code == 409, re.findall(r"class=\"error\"[^<]*<", text_of(too_many))
    assert "more than the 10 pieces sent" in text_of(too_many)


def test_late_batches_and_roles(app, routed, as_user, today):
    _work_order, heat_id = routed
    assert send(as_user("worker"), heat_id, "5").status_code == 403
    assert send(as_user("production"), heat_id, "5", today).status_code == 303
    with app.app_context():
        transfer = db.session.scalar(db.select(OutsourceTransfer))
        assert not outsourcing.late(transfer)
        assert outsourcing.late(transfer, today + timedelta(days=1))
        operation = db.session.get(WorkOrderOperation, heat_id)
        in_house = db.session.scalar(db.select(WorkOrderOperation).where(
            WorkOrderOperation.work_order_id == operation.work_order_id, WorkOrderOperation.position == 1))
    refused = as_user("production").post(f"/production/operations/{in_house.id}/outsource", data={"s-quantity": "1"})
    assert refused.status_code == 409 and "not sent out" in text_of(refused)
    assert as_user("production").get("/production/operations/999999/outsource").status_code == 404


def test_finance_reads_the_outsourcing_cost_per_work_order(app, routed, as_user, today):
    work_order, heat_id = routed
    supervisor = as_user("production")
    assert send(supervisor, heat_id, "20", today).status_code == 303
    with app.app_context():
        transfer_id = db.session.scalar(db.select(OutsourceTransfer.id))
        number = db.session.get(WorkOrder, work_order.id).number
    supervisor.post(f"/production/outsourcing/{transfer_id}/receive",
                    data={f"r{transfer_id}-good": "20", f"r{transfer_id}-cost": "880.5"})
    sheet = text_of(as_user("finance").get(f"/costing/orders/{work_order.order_id}"))
    assert "Costs recorded per work order" in sheet and number in sheet and "880.50" in sheet
