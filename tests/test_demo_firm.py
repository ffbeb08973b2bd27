"""The demo firm has lived through all six stages (webapp/demo.py), as dated history built through
the services on the one movable clock (db_types.clock_at), on SQLite and PostgreSQL."""
import threading
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from webapp import clocks
from webapp.aftersales.models import FollowUp, Survey, Ticket
from webapp.audit import AuditEvent
from webapp.costing.models import CostSheet
from webapp.customers.models import Customer
from webapp.db_types import clock_at, utcnow
from webapp.extensions import db
from webapp.orders import lifecycle as order_lifecycle
from webapp.orders.models import Order, OrderLine
from webapp.photos import Photo
from webapp.production import lifecycle as work_lifecycle
from webapp.production.models import QcRejection, WorkOrder
from webapp.requirements import lifecycle as requirement_lifecycle
from webapp.requirements.models import Requirement
from webapp.shipping import lifecycle as shipping_lifecycle
from webapp.shipping.models import ReturnCase, Shipment

from .conftest import demo_login


def statuses(model) -> set[str]:
    return set(db.session.scalars(db.select(model.status)))


def test_every_state_of_every_stage_has_a_record(demo_app):
    with demo_app.app_context():
        assert statuses(Order) == set(order_lifecycle.STATES)
        assert statuses(Requirement) == set(requirement_lifecycle.STATES)
        assert statuses(WorkOrder) == set(work_lifecycle.STATES)
        assert statuses(Shipment) == set(shipping_lifecycle.STATES)
        assert statuses(ReturnCase) >= {"open", "closed"}
        assert statuses(Ticket) == {"open", "answered", "resolved"}
        assert statuses(Survey) == {"sent", "answered"}
        assert statuses(FollowUp) == {"open", "done"}


def test_quantities_in_the_thousands_for_chinese_and_english_customers(demo_app):
    with demo_app.app_context():
        assert db.session.scalar(db.select(db.func.max(OrderLine.quantity))) >= Decimal("5000")
        big = db.session.scalar(db.select(db.func.count()).select_from(OrderLine)
                                .where(OrderLine.quantity >= Decimal("1000")))
        assert big >= 15
        assert set(db.session.scalars(db.select(Customer.locale))) == {"zh", "en"}


def test_a_late_order_with_a_blocking_anomaly_its_photos_and_a_new_eta(demo_app):
    from webapp.i18n import firm_today
    with demo_app.app_context(), demo_app.test_request_context():
        today = firm_today()
        late = db.session.scalars(db.select(Order).where(Order.status == "in_production",
                                                         Order.delivery_date < today)).all()
        assert len(late) == 1
        order = late[0]
        assert order.revised_date is not None and order.revised_date > today
        job = next(w for w in order.work_orders if w.status == "blocked")
        blocking = [a for a in job.anomalies if a.severity == "blocking" and a.resolved_at is None]
        assert len(blocking) == 1 and blocking[0].new_eta == order.revised_date and blocking[0].eta_reason
        photos = db.session.scalars(db.select(Photo).where(Photo.entity_type == "anomaly",
                                                           Photo.entity_id == blocking[0].id)).all()
        assert photos and all(p.content_type == "image/jpeg" for p in photos)
        path = demo_app.config["UPLOAD_FOLDER"] + "/" + photos[0].stored_name
        with open(path, "rb") as fh:
            assert fh.read(3) == b"\xff\xd8\xff"  # a JPEG, re-encoded by the photo path
        events = {e.action for e in db.session.scalars(db.select(AuditEvent).where(
            AuditEvent.entity_type == "order", AuditEvent.entity_id == order.id))}
        assert "order.eta_changed" in events


def test_a_partial_shipment_signed_for_while_the_rest_is_made(demo_app):
    with demo_app.app_context():
        partial = [s for s in db.session.scalars(db.select(Shipment).where(Shipment.status == "delivered"))
                   if s.order.status == "in_production" and not s.order.all_dispatched]
        assert partial
        assert any(line.from_stock for s in partial for line in s.lines)  # taken from stock


def test_a_delivery_signed_with_one_damaged_line_and_its_open_return_case(demo_app):
    with demo_app.app_context():
        cases = db.session.scalars(db.select(ReturnCase).where(ReturnCase.status == "open")).all()
        assert len(cases) == 1
        shipment = cases[0].shipment
        assert shipment.status == "delivered_with_exception"
        conditions = [line.condition for line in shipment.receipt.lines]
        assert len(conditions) >= 2 and conditions.count("damaged") == 1 and conditions.count("ok") == len(conditions) - 1
        assert shipment.receipt.strokes_json and shipment.receipt.signature_svg.startswith("<svg")
        assert db.session.scalar(db.select(db.func.count()).select_from(Photo).where(
            Photo.entity_type == "receipt", Photo.entity_id == shipment.receipt.id)) >= 1
        assert cases[0].order.status == "delivered"
        assert cases[0].due_at == clocks.RETURN_START.due(shipment.receipt.signed_at)  # 24 working hours


def test_a_closed_return_case_and_closed_orders(demo_app):
    with demo_app.app_context():
        closed_cases = db.session.scalars(db.select(ReturnCase).where(ReturnCase.status == "closed")).all()
        # issue 13: an exchange run to the replacement signed for, a credit, a refusal
        assert {case.outcome for case in closed_cases} == {"replaced", "credited", "refused"}
        assert all(case.started_at < case.closed_at for case in closed_cases)
        exchange = next(case for case in closed_cases if case.outcome == "replaced")
        assert exchange.order.status == "closed" and exchange.collected_at and exchange.inspected_at
        assert [s.status for s in exchange.replacements] == ["delivered"] and exchange.costs
        refused = next(case for case in closed_cases if case.outcome == "refused")
        assert refused.customer_reason
        closed = db.session.scalars(db.select(Order).where(Order.status == "closed")).all()
        assert len(closed) >= 3
        assert any(o.close_override for o in closed) and any(not o.close_override for o in closed)


def test_follow_ups_done_and_overdue_tickets_open_and_resolved_surveys_answered(demo_app):
    with demo_app.app_context():
        now = utcnow()
        follow_ups = db.session.scalars(db.select(FollowUp)).all()
        assert any(f.status == "done" and f.done_at is not None for f in follow_ups)
        assert any(f.status == "open" and f.due_at < now for f in follow_ups)  # overdue
        tickets = db.session.scalars(db.select(Ticket)).all()
        assert any(t.status == "open" and t.first_response_at is None for t in tickets)
        assert any(t.status == "resolved" and t.resolved_at is not None for t in tickets)
        answered = db.session.scalars(db.select(Survey).where(Survey.status == "answered")).all()
        assert len(answered) >= 2 and all(s.average is not None for s in answered)


def test_finalised_cost_sheets_with_variances(demo_app):
    with demo_app.app_context():
        sheets = db.session.scalars(db.select(CostSheet).where(CostSheet.finalised_at.is_not(None))).all()
        assert len(sheets) >= 3
        assert all(sheet.variance != 0 for sheet in sheets)
        assert any(sheet.variance > 0 for sheet in sheets) and any(sheet.variance < 0 for sheet in sheets)
        assert any(line.causes for sheet in sheets for line in sheet.lines)  # cause codes, with notes
        assert db.session.scalar(db.select(db.func.count()).select_from(QcRejection)) >= 1


def test_the_audit_trail_is_by_different_people_over_past_weeks_and_in_order(demo_app):
    with demo_app.app_context():
        now = utcnow()
        events = db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.id)).all()
        assert len({e.actor_user_id for e in events if e.actor_user_id}) >= 10
        assert {e.actor_kind for e in events} >= {"user", "link", "system"}
        times = [e.at for e in events]
        assert min(times) < now - timedelta(weeks=8) and max(times) < now
        weeks = {(now - t).days // 7 for t in times}
        assert len(weeks) >= 8  # spread over the weeks, not loaded in one instant
        # Steps ran in the order of their times: the trail is in time order, as a real one is.
        assert times == sorted(times)
        # Dated history: orders were created weeks apart, and the order numbers carry their months.
        created = sorted(db.session.scalars(db.select(Order.created_at)))
        assert created[-1] - created[0] > timedelta(weeks=6)
        numbers = set(db.session.scalars(db.select(Order.number).where(Order.number.is_not(None))))
        assert len({n.split("-")[0] for n in numbers}) >= 2


def test_customer_links_the_demo_shows_are_live(demo_app):
    from webapp import links
    with demo_app.app_context(), demo_app.test_request_context():
        waiting = db.session.scalar(db.select(Order).where(Order.status == "awaiting_countersign"))
        assert links.current("order_countersign", waiting.id) is not None
        on_the_way = db.session.scalar(db.select(Shipment).where(Shipment.status == "dispatched"))
        assert links.current("delivery_receipt", on_the_way.id) is not None
        packed = db.session.scalar(db.select(Shipment).where(Shipment.status == "packed"))
        assert links.current("courier", packed.id) is not None


def test_the_late_order_and_the_damaged_delivery_open_in_chinese(demo_app):
    """The pages a visitor opens first: the late order, and the damaged delivery naming its damage."""
    from webapp.i18n import firm_today
    client = demo_login(demo_app, "zhao.min", locale="zh")
    with demo_app.app_context(), demo_app.test_request_context():
        order_id = db.session.scalar(db.select(Order.id).where(Order.status == "in_production",
                                                               Order.delivery_date < firm_today()))
        shipment_id = db.session.scalar(db.select(ReturnCase.shipment_id).where(ReturnCase.status == "open"))
    assert client.get(f"/orders/{order_id}").status_code == 200
    page = client.get(f"/shipping/{shipment_id}").get_data(as_text=True)
    assert "破损" in page and "12 件齿面磕伤" in page
    assert client.get("/").status_code == 200


def test_loading_twice_with_first_run_loads_once(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo", "--first-run"]).exit_code == 0
    with app.app_context():
        counts = {model.__name__: db.session.scalar(db.select(db.func.count()).select_from(model))
                  for model in (Order, Requirement, AuditEvent, Shipment, Photo)}
    again = runner.invoke(args=["demo", "--first-run"])
    assert again.exit_code == 0 and "not loading again" in again.output
    with app.app_context():
        assert counts == {model.__name__: db.session.scalar(db.select(db.func.count()).select_from(model))
                          for model in (Order, Requirement, AuditEvent, Shipment, Photo)}


def test_the_clock_moves_for_this_thread_only_and_comes_back(app):
    from webapp.i18n import firm_today
    moment = datetime(2026, 3, 2, 1, 30, tzinfo=timezone.utc)  # 09:30 in Shanghai
    seen = {}
    with app.app_context():
        with clock_at(moment):
            inside, today = utcnow(), firm_today()
            other = threading.Thread(target=lambda: seen.setdefault("other", utcnow()))
            other.start()
            other.join()
        after = utcnow()
    assert timedelta(0) <= inside - moment < timedelta(seconds=5)
    assert str(today) == "2026-03-02"
    assert abs(seen["other"] - datetime.now(timezone.utc)) < timedelta(seconds=5)  # other threads: real time
    assert abs(after - datetime.now(timezone.utc)) < timedelta(seconds=5)
    with pytest.raises(ValueError):
        with clock_at(datetime(2026, 3, 2)):
            pass


def test_the_clock_follows_time_machine_in_tests(app):
    import time_machine
    with time_machine.travel(datetime(2025, 7, 1, 12, tzinfo=timezone.utc), tick=False):
        assert utcnow() == datetime(2025, 7, 1, 12, tzinfo=timezone.utc)


def test_carriers_with_records_a_vehicle_and_a_booked_pickup(demo_app):
    """Issue 13: the carriers' list, each with a record from the history's deliveries; an own vehicle
    driven by the courier; the packed shipment's pickup booked."""
    from webapp.shipping import carriers
    from webapp.shipping.models import Carrier, Pickup, Vehicle
    with demo_app.app_context():
        listed = {c.name: c for c in db.session.scalars(db.select(Carrier))}
        assert listed["顺丰速运 SF Express"].code == "SF"
        records = carriers.records()
        assert sum(r.delivered for r in records.values()) >= 8
        assert any(r.damaged for r in records.values()) and any(r.on_time for r in records.values())
        assert any(v.driver is not None and "courier" in v.driver.roles for v in db.session.scalars(db.select(Vehicle)))
        booked = db.session.scalars(db.select(Pickup).where(Pickup.done_at.is_(None))).all()
        assert len(booked) == 1 and booked[0].shipment.status == "packed"


def test_phone_pages_fit_a_first_visit(demo_app):
    """The demo firm's phone pages ship at most 60 KB on a first visit, the scan landing page's HTML
    and CSS at most 14 KB (tests/test_static_delivery.py weighs them; -s prints the table)."""
    from .test_static_delivery import check_first_visits
    check_first_visits(demo_app)
