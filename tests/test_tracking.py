"""Issue 13, tracking: transit events from the courier's link (offline replays stored once, out of
order by the phone's time, never on another shipment), from staff, and from a carrier tracking adapter
shaped like 快递100's query, polled against a real local HTTP server (its error answers, timeouts)."""
import hashlib
import json
import threading
import time
import urllib.parse
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from webapp import links
from webapp.extensions import db
from webapp.shipping.models import Shipment, ShipmentEvent
from webapp.shipping import tracking

from .helpers import SIGNATURE, get, text_of
from .test_shipping import link_path, new_shipment, packed

BOTH = pytest.mark.parametrize("app", ["sqlite", "postgres"], indirect=True)


def dispatch_one(app, make_order, as_user, note: str = "") -> tuple[int, int, str]:
    """An order made and passed by QC whose one shipment (SF Express SF123) was packed and dispatched by
    the courier with note: (order id, shipment id, courier link path)."""
    from webapp.orders.models import OrderLine
    order_id = make_order("ready_to_ship")
    with app.app_context():
        line_id = db.session.scalar(db.select(OrderLine.id).where(OrderLine.order_id == order_id))
    warehouse = as_user("warehouse")
    assert new_shipment(warehouse, order_id, line_id, "100").status_code == 303
    with app.app_context():
        shipment_id = db.session.scalar(db.select(Shipment.id).where(Shipment.order_id == order_id))
    packed(app, warehouse, shipment_id)
    courier = link_path(app, "courier", shipment_id)
    assert app.test_client().post(courier + "/dispatch", data={"d-note": note}).status_code == 303
    return order_id, shipment_id, courier


@pytest.fixture
def dispatched(app, make_order, as_user):
    """A shipment of SF Express SF123 on the way (the courier confirmed pickup): (order id, shipment id,
    courier link path)."""
    return dispatch_one(app, make_order, as_user)


def events(app, shipment_id):
    with app.app_context():
        return [(e.kind, e.reason, e.source, e.occurred_at) for e in db.session.scalars(
            db.select(ShipmentEvent).where(ShipmentEvent.shipment_id == shipment_id).order_by(ShipmentEvent.id))]


def replay(client, path, fields, key, recorded_at=None):
    headers = {"Authorization": "Link", "Idempotency-Key": key, "Accept": "application/json"}
    if recorded_at:
        headers["X-Recorded-At"] = recorded_at
    return client.post(path, data=fields, headers=headers)


@BOTH
def test_courier_buttons_add_events_and_a_failed_attempt_needs_its_reason(app, dispatched):
    """One tap per event; a failed attempt without a reason is refused with the form kept; the page
    shows the events, no prices."""
    _order_id, shipment_id, courier = dispatched
    phone = app.test_client()
    page = text_of(phone.get(courier))
    assert "In transit" in page and "Delivery attempt failed" in page and "¥" not in page
    assert phone.post(courier + "/events", data={"e-kind": "picked_up", "e-place": "Shenzhen"}).status_code == 303
    refused = phone.post(courier + "/events", data={"e-kind": "attempt_failed", "e-note": "gate shut"})
    assert refused.status_code == 422 and "Choose why the delivery attempt failed" in text_of(refused)
    assert "gate shut" in text_of(refused)
    assert phone.post(courier + "/events", data={"e-kind": "attempt_failed", "e-reason": "nobody_home",
                                                 "e-note": "gate shut"}).status_code == 303
    for bad in ("shipped", "", "x" * 300, "\x00"):
        assert phone.post(courier + "/events", data={"e-kind": bad}).status_code == 422, bad
    assert phone.post(courier + "/events", data={"e-kind": "attempt_failed", "e-reason": "bribed"}).status_code == 422
    kinds = [(k, r, s) for k, r, s, _at in events(app, shipment_id)]
    assert kinds == [("picked_up", "", "courier"), ("attempt_failed", "nobody_home", "courier")]
    page = text_of(phone.get(courier))
    assert "Nobody there to receive it" in page and "Shenzhen" in page


@BOTH
def test_a_replayed_event_is_stored_once_and_late_ones_keep_the_phone_time(app, dispatched):
    """The outbox sends an entry twice (no answer the first time): one event. Entries recorded
    offline arrive in the wrong order: each keeps the time the phone recorded it."""
    _order_id, shipment_id, courier = dispatched
    phone = app.test_client()
    earlier = (datetime.now(timezone.utc) - timedelta(hours=3)).replace(microsecond=0)
    later = earlier + timedelta(hours=1)
    first = replay(phone, courier + "/events", {"e-kind": "in_transit"}, "ev-2", later.isoformat())
    again = replay(phone, courier + "/events", {"e-kind": "in_transit"}, "ev-2", later.isoformat())
    assert first.status_code == 201 and again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert replay(phone, courier + "/events", {"e-kind": "picked_up"}, "ev-1", earlier.isoformat()).status_code == 201
    stored = events(app, shipment_id)
    assert [k for k, *_ in stored] == ["in_transit", "picked_up"]
    assert stored[0][3] == later and stored[1][3] == earlier
    with app.app_context(), app.test_request_context():
        from webapp.shipping.transit import events_of
        assert [e.kind for e in events_of([shipment_id])[shipment_id]] == ["picked_up", "in_transit"]
    # the same form posted twice without JavaScript (its nonce): one event
    phone.post(courier + "/events", data={"e-kind": "delivered", "e-nonce": "n1"})
    phone.post(courier + "/events", data={"e-kind": "delivered", "e-nonce": "n1"})
    assert [k for k, *_ in events(app, shipment_id)].count("delivered") == 1


@BOTH
def test_a_courier_cannot_put_an_event_on_another_shipment(app, dispatched, make_order, as_user):
    """The shipment is the link's: a shipment id in the form is ignored; a customer's receipt link
    or an unknown token cannot post events; before pickup an event is refused (a replay: a conflict)."""
    _order_id, shipment_id, courier = dispatched
    phone = app.test_client()
    assert phone.post(courier + "/events", data={"e-kind": "in_transit", "shipment_id": "999",
                                                 "e-shipment": str(shipment_id + 1)}).status_code == 303
    assert len(events(app, shipment_id)) == 1
    receipt = link_path(app, "delivery_receipt", shipment_id)
    assert phone.post(receipt + "/events", data={"e-kind": "delivered"}).status_code == 404
    assert phone.post("/c/" + "A" * 32 + "/events", data={"e-kind": "delivered"}).status_code == 404
    assert phone.post("/c/99999999999999999999/events", data={"e-kind": "delivered"}).status_code == 404
    with app.app_context():
        db.session.get(Shipment, shipment_id).status = "packed"
        db.session.commit()
    assert phone.post(courier + "/events", data={"e-kind": "in_transit"}).status_code == 409
    late = replay(phone, courier + "/events", {"e-kind": "in_transit"}, "late-1")
    assert late.status_code == 409 and late.headers["Content-Type"].startswith("application/problem+json")
    assert len(events(app, shipment_id)) == 1


def test_staff_add_an_event_on_the_shipment_page(app, dispatched, as_user):
    """The warehouse adds what the carrier said on the phone, with its local time; other roles cannot."""
    _order_id, shipment_id, _courier = dispatched
    warehouse = as_user("warehouse")
    page = text_of(warehouse.get(f"/shipping/{shipment_id}"))
    assert "Transit events" in page and "Add a transit event" in page
    bad = warehouse.post(f"/shipping/{shipment_id}/events", data={"e-kind": "attempt_failed", "e-place": "Pudong"})
    assert bad.status_code == 422 and 'value="Pudong"' in text_of(bad)
    ok = warehouse.post(f"/shipping/{shipment_id}/events", data={
        "e-kind": "attempt_failed", "e-reason": "address_wrong", "e-occurred_at": "2026-01-05T09:30"})
    assert ok.status_code == 303
    future = warehouse.post(f"/shipping/{shipment_id}/events", data={"e-kind": "in_transit",
                                                                      "e-occurred_at": "2999-01-01T00:00"})
    assert future.status_code == 422
    stored = events(app, shipment_id)
    assert stored[0][:3] == ("attempt_failed", "address_wrong", "staff")
    assert as_user("sales").post(f"/shipping/{shipment_id}/events", data={"e-kind": "in_transit"}).status_code == 403


# --- the carrier adapter, against a real local HTTP server --------------------------------------------

class FakeKuaidi100(BaseHTTPRequestHandler):
    """快递100's query as a local server: checks the sign, answers what the test set."""

    key, customer = "testkey", "CUST01"
    answer: dict | None = None
    delay = 0.0
    status = 200
    seen: list = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        form = dict(urllib.parse.parse_qsl(body))
        type(self).seen.append(form)
        if self.delay:
            time.sleep(self.delay)
        sign = hashlib.md5((form["param"] + self.key + form["customer"]).encode()).hexdigest().upper()
        if sign != form.get("sign"):
            payload = {"result": False, "returnCode": "503", "message": "验证签名失败"}
        else:
            payload = self.answer
        raw = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args):
        pass


@pytest.fixture
def kuaidi(app):
    """The fake server on a free port, and the app configured to use it."""
    FakeKuaidi100.answer, FakeKuaidi100.delay, FakeKuaidi100.status, FakeKuaidi100.seen = None, 0.0, 200, []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeKuaidi100)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config.update(KUAIDI100_URL=f"http://127.0.0.1:{server.server_port}/poll/query.do",
                      KUAIDI100_KEY="testkey", KUAIDI100_CUSTOMER="CUST01", TRACKING_TIMEOUT_SECONDS=1)
    yield FakeKuaidi100
    server.shutdown()
    server.server_close()


ANSWER = {"message": "ok", "nu": "SF123", "ischeck": "0", "com": "shunfeng", "status": "200", "state": "0",
          "data": [
              {"time": "2026-11-28 18:02:11", "ftime": "2026-11-28 18:02:11", "context": "派件不成功：收件人不在",
               "status": "疑难", "location": "上海"},
              {"time": "2026-11-28 08:10:00", "ftime": "2026-11-28 08:10:00", "context": "快件到达【上海浦东集散中心】",
               "status": "在途", "location": "上海"},
              {"time": "2026-11-27 16:00:00", "ftime": "2026-11-27 16:00:00", "context": "顺丰速运 已收取快件",
               "status": "揽收", "location": "深圳"},
          ]}


def test_carrier_codes_from_free_text():
    """The free-text carrier names a code the adapters know ("顺丰速运" → SF)."""
    assert tracking.carrier_code("SF Express") == "SF"
    assert tracking.carrier_code("顺丰速运") == "SF"
    assert tracking.carrier_code(" zto ") == "ZTO"
    assert tracking.carrier_code("中通快递") == "ZTO"
    assert tracking.carrier_code("our own truck") is None
    assert tracking.carrier_code("") is None


@BOTH
def test_polling_stores_each_carrier_event_once(app, dispatched, kuaidi, smtp):
    """The worker's poll asks the fake 快递100 with a valid sign and the company code; its three events
    are stored once, even when polled again; the failed delivery tells the customer once."""
    order_id, shipment_id, _courier = dispatched
    app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    kuaidi.answer = ANSWER
    with app.app_context():
        assert tracking.poll_in_transit() == {"new": 3, "failed": 0}
        db.session.commit()
        assert tracking.poll_in_transit() == {"new": 0, "failed": 0}
        db.session.commit()
    sent = kuaidi.seen[0]
    assert json.loads(sent["param"])["com"] == "shunfeng" and json.loads(sent["param"])["num"] == "SF123"
    stored = events(app, shipment_id)
    assert [(k, s) for k, _r, s, _at in stored] == [("picked_up", "carrier"), ("in_transit", "carrier"),
                                                    ("attempt_failed", "carrier")]
    assert stored[0][3] == datetime(2026, 11, 27, 8, 0, tzinfo=timezone.utc)  # 16:00 in China
    assert len(smtp.messages) == 1  # the failed attempt, once (the dispatch mail went before the server)
    assert b"SF123" in smtp.messages[0].content or "-S1" in smtp.messages[0].content.decode("utf-8", "replace")


@pytest.mark.parametrize("answer, status, delay", [
    ({"result": False, "returnCode": "500", "message": "查询无结果，请隔段时间再查"}, 200, 0),
    ({"result": False, "returnCode": "601", "message": "POLL:KEY已过期"}, 200, 0),
    (b"<html>busy</html>", 502, 0),
    (b"not json", 200, 0),
    ({"status": "200", "data": [{"ftime": "yesterday", "context": "?"}]}, 200, 0),
    (ANSWER, 200, 2.5),  # slower than the timeout
])
def test_carrier_errors_and_timeouts_store_nothing_and_keep_polling(app, dispatched, kuaidi, answer, status, delay):
    """An error answer, an HTTP error, an answer that is not JSON, an unreadable time or a timeout: the
    shipment is skipped (nothing stored, nothing raised), the next poll works again."""
    _order_id, shipment_id, _courier = dispatched
    kuaidi.answer, kuaidi.status, kuaidi.delay = answer, status, delay
    with app.app_context():
        assert tracking.poll_in_transit() == {"new": 0, "failed": 1}
        db.session.commit()
    assert events(app, shipment_id) == []
    kuaidi.answer, kuaidi.status, kuaidi.delay = ANSWER, 200, 0
    with app.app_context():
        assert tracking.poll_in_transit()["new"] == 3


def test_a_wrong_key_is_the_services_sign_error(app, dispatched, kuaidi):
    """The sign is made with the configured key: a wrong one gets 快递100's 503 answer, stored as nothing."""
    app.config.update(KUAIDI100_KEY="wrong")
    kuaidi.answer = ANSWER
    with app.app_context():
        adapter = tracking.Kuaidi100.from_config(app.config)
        with pytest.raises(tracking.TrackingError, match="503"):
            adapter.query("SF", "SF123")


def test_tracking_is_off_unless_configured(app, dispatched, kuaidi):
    """Without the account's key no adapter runs and nothing is asked."""
    app.config.update(KUAIDI100_KEY=None)
    with app.app_context():
        assert tracking.adapters() == []
        assert tracking.poll_in_transit() == {"new": 0, "failed": 0}
    assert kuaidi.seen == []


def test_the_poll_is_a_periodic_task_of_the_worker(app):
    """Declared with the worker's schedule, registered on the app's Huey."""
    assert "webapp.shipping.tracking.poll_carriers" in app.extensions["huey_tasks"]


@BOTH
def test_the_same_event_form_sent_from_two_phones_at_once_is_one_event(app, dispatched, make_user):
    """A double submit of one staff form (its nonce) arriving at the same moment: one row, no 500."""
    from .helpers import at_once
    _order_id, shipment_id, _courier = dispatched
    make_user("warehouse", username="wh-a")
    make_user("warehouse", username="wh-b")
    form = {"e-kind": "in_transit", "e-nonce": "same-form", "e-place": "Hangzhou"}
    statuses = at_once(app, ["wh-a", "wh-b"], [(f"/shipping/{shipment_id}/events", form)] * 2)
    assert statuses == [303, 303]
    assert [k for k, *_ in events(app, shipment_id)] == ["in_transit"]


def test_the_carrier_record_names_the_adapter_before_the_typed_name(app, dispatched, kuaidi):
    """A shipment whose carrier is the firm's record coded SF is asked of 快递100 as shunfeng even when
    its typed name says nothing a code can be read from; without a record the typed name decides."""
    from webapp.shipping.models import Carrier
    _order_id, shipment_id, _courier = dispatched
    kuaidi.answer = ANSWER
    with app.app_context():
        shipment = db.session.get(Shipment, shipment_id)
        shipment.carrier = "我们常用的快递"
        assert tracking.adapter_for(shipment) is None  # the typed name alone: no code
        carrier = Carrier(name="顺丰（月结）", code="sf")
        db.session.add(carrier)
        db.session.flush()
        shipment.carrier_id = carrier.id
        db.session.commit()
        assert tracking.shipment_carrier_code(db.session.get(Shipment, shipment_id)) == "SF"
        assert tracking.poll_in_transit() == {"new": 3, "failed": 0}
    assert json.loads(kuaidi.seen[-1]["param"])["com"] == "shunfeng"
