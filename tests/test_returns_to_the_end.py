"""Issue 13: a return or exchange case run to its end — collected (a pickup and the return courier's
link), inspected on arrival, then replaced (a replacement shipment signed for by the customer),
repaired, credited (never more than was paid or ordered) or refused with a reason the customer reads;
each step with its owner and due time; overdue steps escalated by the real background task; the
case's costs on the cost sheet. On SQLite and PostgreSQL."""
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine

from webapp import clocks
from webapp.audit import AuditEvent
from webapp.extensions import db
from webapp.orders.models import Order, OrderLine
from webapp.shipping.models import ReturnCase, ReturnCost, ReturnCredit, Shipment, ShipmentLine

from .helpers import SIGNATURE, at_once, customer_path, get, jpeg_file, text_of
from .test_shipping import link_path, packed, signed_with_damage

BOTH = pytest.mark.parametrize("app", [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
], indirect=True)


@pytest.fixture
def damaged_case(app, make_order, as_user):
    """An order of 2,500 pieces (¥10 each), 1,200 shipped and signed for with the line damaged: a
    return case, started by customer care. Returns (order id, shipment id, case id, warehouse,
    aftersales)."""
    order_id = make_order("ready_to_ship", quantity="2500")
    with app.app_context():
        line_id = db.session.scalar(db.select(OrderLine.id).where(OrderLine.order_id == order_id))
    warehouse = as_user("warehouse")
    shipment_id, case_id = signed_with_damage(app, warehouse, order_id, line_id)
    aftersales = as_user("aftersales")
    assert aftersales.post(f"/shipping/returns/{case_id}/start", data={"action": "Exchange the crushed pieces"}
                           ).status_code == 303
    return order_id, shipment_id, case_id, warehouse, aftersales


def book(client, case_id, **extra):
    return client.post(f"/shipping/returns/{case_id}/collection", data={
        "rc-on_date": "2026-12-03", "rc-window_from": "09:00", "rc-window_to": "12:00", "rc-tracking_no": "SF-R-1",
        "rc-note": "Ring the bell at gate 2", **extra})


def inspect(client, case_id, qty="1,150", **extra):
    return client.post(f"/shipping/returns/{case_id}/inspect", data={
        "in-received_qty": qty, "in-condition": "damaged", "in-findings": "Teeth bent on 50 pieces",
        "in-photos": [(jpeg_file(), "bent.jpg")], **extra}, content_type="multipart/form-data")


@BOTH
def test_an_exchange_from_damage_to_the_replacement_delivered(app, damaged_case, as_user):
    """Start → collection booked (the return courier's link shows what to collect and where, never a
    price) → collected by the courier → inspected with a photo → a replacement shipment → packed,
    dispatched and signed for by the customer: the case closes as replaced and the customer's page
    says so; the order's own shipped quantities do not count the replacement twice."""
    order_id, shipment_id, case_id, warehouse, aftersales = damaged_case
    case = get(app, ReturnCase, case_id)
    assert case.status == "started" and case.owner_id == aftersales.user_id
    with app.app_context():
        assert case.step_due_at == clocks.RETURN_COLLECT.due(case.started_at)

    assert book(warehouse, case_id, **{"rc-window_to": "08:00"}).status_code == 422  # the window runs backwards
    assert book(as_user("finance"), case_id).status_code == 403
    assert book(warehouse, case_id).status_code == 303
    case = get(app, ReturnCase, case_id)
    assert case.status == "collecting" and case.step_owner_id == warehouse.user_id
    assert "Return: goods to be collected" in text_of(warehouse.get("/"))  # My work: the warehouse's pickup
    service = text_of(app.test_client().get(customer_path(app, "order_service", order_id)))
    assert "We collect the goods on Dec 3, 2026 between 09:00 and 12:00." in service and "SF-R-1" in service
    assert "Return collection 09:00–12:00" in text_of(warehouse.get("/"))

    courier = app.test_client()
    path = link_path(app, "return_pickup", case_id)
    page = text_of(courier.get(path))
    assert "BRK-1" in page and "1,200" in page and "Ring the bell at gate 2" in page
    assert "¥" not in page and "10.00" not in page and "CNY" not in page  # no prices for the courier
    # the return's link opens nothing else: not the shipment's courier actions, not its receipt
    assert courier.post(path + "/dispatch", data={"d-note": "x"}).status_code == 404
    assert courier.get(path + "/receipt").status_code == 404
    assert courier.get(link_path(app, "courier", shipment_id)[:-4] + "AAAA").status_code == 404
    assert app.test_client().post(link_path(app, "courier", shipment_id) + "/collected").status_code == 404
    assert courier.post(path + "/collected", data={"cd-note": "2 cartons"}).status_code == 303
    assert courier.post(path + "/collected", data={"cd-note": "again"}).status_code == 409  # done once
    case = get(app, ReturnCase, case_id)
    assert case.status == "collected" and case.collected_at is not None
    assert "Collected. Thank you!" in text_of(courier.get(path))  # and no address any more

    assert inspect(warehouse, case_id).status_code == 303  # "1,150" is 1150, not 1
    case = get(app, ReturnCase, case_id)
    assert case.received_qty == Decimal("1150") and case.received_condition == "damaged"
    assert case.step_owner_id == aftersales.user_id
    with app.app_context():
        assert case.step_due_at == clocks.RETURN_DECIDE.due(case.inspected_at)
    assert "/photos/" in text_of(aftersales.get(f"/shipping/returns/{case_id}"))

    with app.app_context():
        line_id = db.session.scalar(db.select(OrderLine.id).where(OrderLine.order_id == order_id))
    too_many = aftersales.post(f"/shipping/returns/{case_id}/replacement", data={f"qty-{line_id}": "1201"})
    assert too_many.status_code == 422 and "0 to 1200" in text_of(too_many)
    response = aftersales.post(f"/shipping/returns/{case_id}/replacement", data={f"qty-{line_id}": "1,200",
                                                                                 "tracking_no": "SF-9"})
    assert response.status_code == 303
    with app.app_context():
        replacement = db.session.scalar(db.select(Shipment).where(Shipment.return_case_id == case_id))
        replacement_id, number = replacement.id, replacement.number
        assert [line.quantity for line in replacement.lines] == [Decimal("1200")]
        order = db.session.get(Order, order_id)
        assert order.fulfilment()[line_id]["dispatched"] == Decimal("1200")  # not 2400
    assert number.endswith("-S1-R1") and get(app, ReturnCase, case_id).status == "replacing"
    packed(app, warehouse, replacement_id)
    assert warehouse.post(f"/shipping/{replacement_id}/dispatch", data={"note": ""}).status_code == 303
    customer = app.test_client()
    with app.app_context():
        sline = db.session.scalar(db.select(ShipmentLine).where(ShipmentLine.shipment_id == replacement_id))
    signed = customer.post(link_path(app, "delivery_receipt", replacement_id) + "/receipt", data={
        f"line-{sline.id}-qty": "1200", f"line-{sline.id}-condition": "ok", "name": "Ann", "consent": "y",
        "strokes": SIGNATURE})
    assert signed.status_code == 200
    case = get(app, ReturnCase, case_id)
    assert case.status == "closed" and case.outcome == "replaced" and case.step_due_at is None
    service = text_of(app.test_client().get(customer_path(app, "order_service", order_id)))
    assert "Replaced" in service and number in service


@BOTH
def test_steps_out_of_order_and_twice_at_once(app, damaged_case, as_user):
    """Inspecting before the goods are collected, collecting before a pickup is booked, repairing
    before inspection: 409 with the steps' message, nothing changed. Two people recording the
    inspection at the same moment: one is recorded, the other told 409."""
    order_id, shipment_id, case_id, warehouse, aftersales = damaged_case
    response = inspect(warehouse, case_id)
    assert response.status_code == 409 and "do the steps in order" in text_of(response)
    assert warehouse.post(f"/shipping/returns/{case_id}/collected", data={}).status_code == 409
    assert aftersales.post(f"/shipping/returns/{case_id}/repair", data={"rp-note": "fixed"}).status_code == 409
    assert get(app, ReturnCase, case_id).status == "started"
    assert book(warehouse, case_id).status_code == 303
    assert warehouse.post(f"/shipping/returns/{case_id}/collected", data={"cd-note": "brought in"}).status_code == 303
    from webapp.auth import User
    with app.app_context():
        name = db.session.get(User, warehouse.user_id).username
    statuses = at_once(app, name, [(f"/shipping/returns/{case_id}/inspect", {
        "in-received_qty": "1150", "in-condition": "damaged", "in-findings": f"finding {i}"}) for i in range(2)])
    assert sorted(statuses) == [303, 409], statuses
    with app.app_context():
        events = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "return_case.inspect")).all()
        assert len(events) == 1


@BOTH
def test_a_credit_never_larger_than_what_was_paid_or_ordered(app, damaged_case, as_user):
    """The order is worth ¥25,000 with tax; a credit above it is refused with the amount left, a
    negative, zero or unreadable one too; a credit closes the case, is recorded on the order and
    shows on the cost sheet; finance cannot decide a credit."""
    order_id, shipment_id, case_id, warehouse, aftersales = damaged_case
    order = get(app, Order, order_id)
    url = f"/shipping/returns/{case_id}/credit"
    too_much = aftersales.post(url, data={"cr-amount": str(order.total + Decimal("0.01")), "cr-note": "all back"})
    assert too_much.status_code == 422 and "larger than what was paid or ordered" in text_of(too_much)
    for bad in ("-5", "0", "abc", "1e9999", "\x00", "9" * 20):
        response = aftersales.post(url, data={"cr-amount": bad, "cr-note": "x"})
        assert response.status_code == 422, bad
    assert as_user("finance").post(url, data={"cr-amount": "10", "cr-note": "x"}).status_code == 403
    assert aftersales.post(url, data={"cr-amount": "575.00", "cr-note": "50 pieces bent"}).status_code == 303
    case = get(app, ReturnCase, case_id)
    assert case.status == "closed" and case.outcome == "credited"
    with app.app_context():
        assert db.session.scalar(db.select(ReturnCredit.amount)) == Decimal("575.00")
    assert aftersales.post(url, data={"cr-amount": "1", "cr-note": "again"}).status_code == 409  # closed
    sheet = text_of(as_user("finance").get(f"/costing/orders/{order_id}"))
    assert "Credited to the customer" in sheet and "575.00" in sheet


@BOTH
def test_a_refusal_and_its_reason_reach_the_customer_and_costs_reach_the_sheet(app, damaged_case, as_user):
    """Refused with a reason (a reason is required): the customer's after-sales page shows it, and no
    cost or internal note. Costs of the case by kind, "2,000" read as 2000, a kind not offered and an
    amount of 0 refused."""
    order_id, shipment_id, case_id, warehouse, aftersales = damaged_case
    url = f"/shipping/returns/{case_id}/costs"
    assert warehouse.post(url, data={"co-kind": "freight", "co-amount": "2,000", "co-note": "Return freight"}
                          ).status_code == 303
    assert warehouse.post(url, data={"co-kind": "bribe", "co-amount": "10"}).status_code == 422
    assert warehouse.post(url, data={"co-kind": "scrap", "co-amount": "0"}).status_code == 422
    assert as_user("sales").post(url, data={"co-kind": "scrap", "co-amount": "5"}).status_code == 403
    with app.app_context():
        from webapp.shipping import return_costs
        assert return_costs(order_id) == {"freight": Decimal("2000"), "scrap": Decimal("0"), "rework": Decimal("0")}
        assert db.session.scalar(db.select(db.func.count()).select_from(ReturnCost)) == 1
    assert aftersales.post(f"/shipping/returns/{case_id}/refuse", data={"rf-reason": ""}).status_code == 422
    assert aftersales.post(f"/shipping/returns/{case_id}/refuse", data={
        "rf-reason": "The photos show damage from unloading at your site, after signing."}).status_code == 303
    case = get(app, ReturnCase, case_id)
    assert case.status == "closed" and case.outcome == "refused"
    service = text_of(app.test_client().get(customer_path(app, "order_service", order_id)))
    assert "Refused" in service and "damage from unloading at your site" in service
    assert "Return freight" not in service and "2,000" not in service
    sheet = text_of(as_user("finance").get(f"/costing/orders/{order_id}"))
    assert "Costs of return cases" in sheet and "2,000.00" in sheet


@BOTH
def test_another_orders_shipment_cannot_be_the_replacement(app, damaged_case, make_order, as_user):
    """Naming a shipment of another order (or the damaged one itself, or a 20-digit id) as the
    replacement is refused and changes nothing; a shipment of the same order may be named."""
    order_id, shipment_id, case_id, warehouse, aftersales = damaged_case
    other_order = make_order("ready_to_ship", customer="OTH")
    with app.app_context():
        other_line = db.session.scalar(db.select(OrderLine.id).where(OrderLine.order_id == other_order))
        own_line = db.session.scalar(db.select(OrderLine.id).where(OrderLine.order_id == order_id))
    from .test_shipping import new_shipment
    assert new_shipment(warehouse, other_order, other_line, "10").status_code == 303
    assert new_shipment(warehouse, order_id, own_line, "100").status_code == 303
    with app.app_context():
        foreign = db.session.scalar(db.select(Shipment.id).where(Shipment.order_id == other_order))
        own = db.session.scalar(db.select(Shipment.id).where(Shipment.order_id == order_id, Shipment.id != shipment_id))
    url = f"/shipping/returns/{case_id}/link-replacement"
    response = aftersales.post(url, data={"lk-shipment": str(foreign)})
    assert response.status_code == 409 and "another order" in text_of(response)
    assert aftersales.post(url, data={"lk-shipment": str(shipment_id)}).status_code == 409
    assert aftersales.post(url, data={"lk-shipment": "9" * 20}).status_code == 422
    assert aftersales.post(url, data={"lk-shipment": "1\x00"}).status_code in (409, 422)  # NUL dropped: the original
    assert get(app, ReturnCase, case_id).status == "started"
    assert get(app, Shipment, foreign).return_case_id is None
    # a replacement line of another order's line is refused too
    other = aftersales.post(f"/shipping/returns/{case_id}/replacement", data={f"qty-{other_line}": "5"})
    assert other.status_code in (409, 422) and get(app, ReturnCase, case_id).status == "started"
    assert aftersales.post(url, data={"lk-shipment": str(own)}).status_code == 303
    assert get(app, Shipment, own).return_case_id == case_id and get(app, ReturnCase, case_id).status == "replacing"


@BOTH
def test_an_overdue_step_escalates_once_through_the_background_task(app, damaged_case, make_user):
    """The inspection is due one working day after the goods came in; past it, the real periodic task
    tells the step's owner and the managers (mail), records it on the order's timeline and marks the
    case; run again, it tells nobody twice; the next step may escalate again."""
    order_id, shipment_id, case_id, warehouse, aftersales = damaged_case
    make_user("manager", username="boss")
    assert book(warehouse, case_id).status_code == 303
    assert warehouse.post(f"/shipping/returns/{case_id}/collected", data={}).status_code == 303
    due = get(app, ReturnCase, case_id).step_due_at
    mail = Path(app.config["MAIL_FOLDER"])
    before = set(mail.glob("*.eml")) if mail.exists() else set()
    with app.app_context():
        task = app.extensions["huey_tasks"]["webapp.shipping.tasks.escalate_overdue_returns"]
        with time_machine.travel(due - timedelta(minutes=1), tick=False):
            task()
        assert get(app, ReturnCase, case_id).escalated_at is None
        with time_machine.travel(due + timedelta(minutes=1), tick=False):
            task()
            task()
    case = get(app, ReturnCase, case_id)
    assert case.escalated_at is not None
    with app.app_context():
        events = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "return.escalated")).all()
        assert len(events) == 1
    new = [m.read_bytes() for m in set(mail.glob("*.eml")) - before]
    from webapp.auth import User
    with app.app_context():
        managers = {u.email for u in db.session.scalars(db.select(User)) if "manager" in u.roles}
        owner = db.session.get(User, warehouse.user_id).email
    told = [next(line[4:] for line in m.decode().splitlines() if line.startswith("To: ")) for m in new]
    # the step's owner (who booked the collection) and every manager, once each
    assert sorted(told) == sorted(managers | {owner}) and len(managers) == 2
    assert all(f"/shipping/returns/{case_id}".encode() in m for m in new)
    assert inspect(warehouse, case_id).status_code == 303  # the next step starts clean
    assert get(app, ReturnCase, case_id).escalated_at is None


@BOTH
def test_the_return_courier_confirms_offline_and_a_late_replay_becomes_a_conflict(app, damaged_case):
    """Confirmed without signal: the phone's outbox replays it (no cookie, the link as credential) and
    it applies once, at the phone's time; the same entry again is answered from its record; another
    phone's entry for the same collection, sent later, is kept as a visible conflict with its data."""
    from webapp.sync.models import SyncConflict
    order_id, shipment_id, case_id, warehouse, aftersales = damaged_case
    assert book(warehouse, case_id).status_code == 303
    path = link_path(app, "return_pickup", case_id) + "/collected"
    recorded = (datetime.now(timezone.utc) - timedelta(hours=2)).replace(microsecond=0)
    headers = {"Authorization": "Link", "Idempotency-Key": "ret-1",
               "X-Recorded-At": recorded.isoformat().replace("+00:00", "Z"),
               "Accept": "application/json"}
    first = app.test_client().post(path, data={"cd-note": "2 cartons, no signal"}, csrf=False, headers=headers)
    assert first.status_code == 201 and first.get_json()["status"] == "applied"
    again = app.test_client().post(path, data={"cd-note": "2 cartons, no signal"}, csrf=False, headers=headers)
    assert again.status_code == first.status_code and again.get_json() == first.get_json()
    case = get(app, ReturnCase, case_id)
    assert case.status == "collected"
    assert case.collected_at == recorded  # when it was confirmed at the door, not when it arrived
    late = app.test_client().post(path, data={"cd-note": "from the other phone"}, csrf=False,
                                  headers={**headers, "Idempotency-Key": "ret-2"})
    assert late.status_code == 409 and late.mimetype == "application/problem+json"
    with app.app_context():
        conflicts = db.session.scalars(db.select(SyncConflict)).all()
        assert len(conflicts) == 1 and "from the other phone" in conflicts[0].fields
        assert conflicts[0].endpoint.startswith("shipping.courier_collected") and "steps in order" in conflicts[0].message
