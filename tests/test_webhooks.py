"""Outgoing webhooks: events enqueued in the change's own transaction, delivered to a real receiver
on 127.0.0.1 with a signature the receiver checks, retried on the schedule through failures, a
timeout and a day of downtime, and delivered once; private targets refused; the admin pages."""
import base64
import hashlib
import hmac
import json
import re
import threading
import time
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from webapp import webhooks
from webapp.auth.models import User
from webapp.extensions import db
from webapp.wallclock import frozen, utcnow
from webapp.webhooks import WebhookDelivery, WebhookEndpoint, WebhookEvent, delivery, endpoints, targets

from .helpers import text_of

BOTH = pytest.mark.parametrize("app", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
                               indirect=True)


class Receiver:
    """A webhook receiver on 127.0.0.1: answers each POST with the next planned status (then 200),
    sleeps first when asked, records every request; stop() and start() take it down and back up on
    the same port."""

    def __init__(self):
        self.requests, self.plan, self.sleep = [], [], 0.0
        self.port, self.server = 0, None
        self.start()

    def start(self):
        """Listen (again) on the same port."""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.sleep:
                    time.sleep(receiver.sleep)
                status = receiver.plan.pop(0) if receiver.plan else 200
                receiver.requests.append({"headers": {k.lower(): v for k, v in self.headers.items()},
                                          "body": body, "status": status})
                answer = f"answered {status}".encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except OSError:  # the sender gave up (timeout)
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        """Go down: connections are refused."""
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def delivered(self) -> list[dict]:
        """The requests answered with a 2xx."""
        return [r for r in self.requests if 200 <= r["status"] < 300]


@pytest.fixture
def receiver():
    found = Receiver()
    yield found
    found.sleep = 0
    try:
        found.stop()
    except OSError:
        pass


def verify(request: dict, secret: str) -> dict:
    """Check a request's signature as a receiver would (docs/webhooks.md); the parsed body."""
    headers, body = request["headers"], request["body"]
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    given = [part.split(",", 1)[1] for part in headers["webhook-signature"].split() if part.startswith("v1,")]
    assert any(hmac.compare_digest(expected, signature) for signature in given), "bad signature"
    payload = json.loads(body)
    assert payload["id"] == headers["webhook-id"]
    return payload


def add_endpoint(app, url, events, allow_private=True) -> tuple[int, str]:
    """An endpoint made by an admin through the service; (its id, its secret)."""
    with app.app_context():
        admin = db.session.scalar(db.select(User).where(User.username == "hook-admin"))
        if admin is None:
            admin = User(username="hook-admin", name="Hook Admin", password_hash="")
            admin.roles = ("admin",)
            db.session.add(admin)
            db.session.flush()
        endpoint, secret = endpoints.create(url, events, "ERP", allow_private, admin)
        db.session.commit()
        return endpoint.id, secret


def emit_committed(app, event_type="order.effective", object_id=7, flush=True) -> str | None:
    """An event emitted and committed (as a change would); its id (None: no endpoint wanted it).
    flush: hand it to the worker."""
    with app.app_context():
        event = webhooks.emit(event_type, "order", object_id, number=f"N-{object_id}")
        db.session.commit()
        event_id = event.uuid if event is not None else None
        if flush:
            webhooks.flush()
        return event_id


def deliveries(app) -> list[tuple]:
    with app.app_context():
        return [(d.status, d.attempts, d.failed_tries) for d in
                db.session.scalars(db.select(WebhookDelivery).order_by(WebhookDelivery.id))]


def next_due(app):
    with app.app_context():
        return db.session.scalar(db.select(db.func.min(WebhookDelivery.next_attempt_at))
                                 .where(WebhookDelivery.status == "pending"))


def sweep_at(app, moment) -> int:
    with app.app_context(), frozen(moment):
        return webhooks.sweep()


@BOTH
def test_an_order_made_effective_reaches_the_receiver_signed(app, make_order, receiver):
    """An order countersigned (effective) becomes one order.effective event in that transaction;
    the sweep sends it; the receiver checks the signature and reads the order's number and API URL."""
    _id, secret = add_endpoint(app, receiver.url, ["order.effective", "shipment.dispatched"])
    order_id = make_order("effective")
    with app.app_context():
        events = db.session.scalars(db.select(WebhookEvent)).all()
        assert [(e.type, e.object_id) for e in events] == [("order.effective", order_id)]
        number = db.session.scalar(db.text('select number from "order" where id = :id'), {"id": order_id})
    assert deliveries(app) == [("pending", 0, 0)]
    assert sweep_at(app, utcnow()) == 1
    [request] = receiver.requests
    payload = verify(request, secret)
    assert payload["type"] == "order.effective" and payload["created"].endswith("Z")
    data = payload["data"]
    assert data["object"] == "order" and data["id"] == order_id and data["number"] == number
    assert data["url"] == f"https://tracker.example.com/api/v1/orders/{order_id}"
    assert data["customer"]["url"].startswith("https://tracker.example.com/api/v1/customers/")
    assert "total" not in json.dumps(data)  # no prices in an order.effective event
    assert request["headers"]["content-type"] == "application/json"
    assert deliveries(app) == [("delivered", 1, 0)]
    assert sweep_at(app, utcnow() + timedelta(days=1)) == 0  # delivered once


@BOTH
def test_a_receiver_answering_500_is_retried_with_the_same_event_id_and_gets_it_once(app, receiver):
    """500 at once after the commit, nothing before its retry time, then 200: two tries, one event
    id, each signed, one delivery."""
    _id, secret = add_endpoint(app, receiver.url, ["order.effective"])
    receiver.plan = [500]
    start = utcnow()
    with frozen(start):
        event_id = emit_committed(app)  # the task runs inline (immediate mode)
    assert [r["status"] for r in receiver.requests] == [500]
    assert deliveries(app) == [("pending", 1, 1)]
    with app.app_context():
        failed = db.session.scalar(db.select(WebhookDelivery))
        assert failed.last_status_code == 500 and failed.last_response == "answered 500"
        assert failed.next_attempt_at == start + timedelta(minutes=1)
    assert sweep_at(app, start + timedelta(seconds=30)) == 0
    assert sweep_at(app, start + timedelta(minutes=1)) == 1
    assert [r["status"] for r in receiver.requests] == [500, 200]
    assert {verify(r, secret)["id"] for r in receiver.requests} == {event_id}
    assert receiver.requests[0]["body"] == receiver.requests[1]["body"]
    assert deliveries(app) == [("delivered", 2, 0)]


@BOTH
def test_a_receiver_that_times_out_is_tried_again_later(app, receiver, monkeypatch):
    """A receiver slower than the timeout: the try is recorded as failed (timed out) and planned again."""
    monkeypatch.setattr(delivery, "TIMEOUT_SECONDS", 0.3)
    add_endpoint(app, receiver.url, ["order.effective"])
    receiver.sleep = 1.0
    emit_committed(app)
    with app.app_context():
        found = db.session.scalar(db.select(WebhookDelivery))
        assert found.status == "pending" and found.attempts == 1 and found.last_status_code is None
        assert "timed out" in found.last_error
        assert found.next_attempt_at > utcnow()


@BOTH
def test_a_receiver_down_for_a_day_gets_everything_once_back(app, receiver):
    """Three events while the receiver is down (connection refused) for a day of sweeps; it comes
    back: each event arrives exactly once, the other two at the first sweep after one succeeds."""
    _id, secret = add_endpoint(app, receiver.url, ["order.effective"])
    receiver.stop()
    start = utcnow()
    with frozen(start):
        ids = [emit_committed(app, object_id=n) for n in (1, 2, 3)]
    moment = start
    while True:
        moment = next_due(app)
        if moment > start + timedelta(days=1):
            break
        sweep_at(app, moment)
    states = deliveries(app)
    assert all(status == "pending" and tries >= 6 for status, tries, _f in states), states
    receiver.start()
    sweep_at(app, moment)  # the next planned try, at most six hours after it came back
    sweep_at(app, moment + timedelta(minutes=1))
    assert sorted(verify(r, secret)["id"] for r in receiver.requests) == sorted(ids)
    assert [status for status, _t, _f in deliveries(app)] == ["delivered"] * 3
    sweep_at(app, moment + timedelta(days=2))
    assert len(receiver.requests) == 3


def test_the_retry_schedule_spans_about_three_days():
    """1 min, 5 min, 30 min, 2 h, then every 6 h; given up after about three days."""
    delays = []
    tries = 1
    while (delay := delivery.retry_delay(tries)) is not None:
        delays.append(delay)
        tries += 1
    assert delays[:5] == [timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
                          timedelta(hours=6)]
    assert timedelta(days=2, hours=18) < sum(delays, timedelta()) < timedelta(days=3, hours=12)


@BOTH
def test_a_rolled_back_change_enqueues_nothing(app, make_order, receiver):
    """The order countersigned, flushed, then rolled back: no event, no delivery, nothing sent.
    Done again and committed: exactly one event."""
    from webapp import links
    from webapp.orders import Order, services
    from .helpers import SIGNATURE
    add_endpoint(app, receiver.url, ["order.effective"])
    order_id = make_order("awaiting_countersign")
    for commit in (False, True):
        with app.app_context(), app.test_request_context("/", method="POST"):
            order = db.session.get(Order, order_id)
            services.countersign(order, links.current("order_countersign", order.id), "Ann", "", SIGNATURE,
                                 "127.0.0.1", "test")
            db.session.flush()
            assert db.session.scalar(db.select(db.func.count(WebhookEvent.id))) == 1  # same transaction
            if commit:
                db.session.commit()
            else:
                db.session.rollback()
            webhooks.flush()
        with app.app_context():
            assert db.session.scalar(db.select(db.func.count(WebhookEvent.id))) == (1 if commit else 0)
            assert db.session.scalar(db.select(db.func.count(WebhookDelivery.id))) == (1 if commit else 0)
    assert len(receiver.requests) == 1


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/x", "http://localhost/x", "http://10.1.2.3/",
                                 "http://192.168.1.20/", "http://169.254.169.254/latest/meta-data",
                                 "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://100.64.0.1/",
                                 "http://0.0.0.0/",
                                 # IPv6 around an IPv4 address: NAT64 (a translating network reaches the
                                 # cloud's metadata address through it), 6to4, IPv4-compatible, -translated
                                 "http://[64:ff9b::a9fe:a9fe]/", "http://[64:ff9b:1::a00:1]/",
                                 "http://[2002:7f00:1::]/", "http://[::127.0.0.1]/", "http://[::ffff:0:7f00:1]/"])
def test_private_and_local_targets_are_refused(url):
    """Loopback, private, link-local, shared and unspecified addresses, IPv6, IPv4-mapped and IPv4
    wrapped in IPv6 too."""
    with pytest.raises(targets.TargetRefused):
        targets.check(url)
    assert targets.check(url, allow_private=True).address


def test_a_host_resolving_to_one_private_address_among_public_ones_is_refused():
    """Every address the host resolves to is checked (a fake resolver: no network)."""
    def resolve(host, port, type=0):
        return [(2, 1, 6, "", ("93.184.216.34", port)), (2, 1, 6, "", ("10.0.0.8", port))]
    with pytest.raises(targets.TargetRefused):
        targets.check("https://hooks.example.com/x", resolve=resolve)

    def public(host, port, type=0):
        return [(2, 1, 6, "", ("93.184.216.34", port))]
    found = targets.check("https://hooks.example.com:8443/x?a=1", resolve=public)
    assert (found.address, found.port, found.path) == ("93.184.216.34", 8443, "/x?a=1")


@pytest.mark.parametrize("url", ["ftp://example.com/x", "file:///etc/passwd", "https://user:pw@example.com/",
                                 "http://", "not a url", "http://example.com:99999/"])
def test_other_schemes_and_malformed_urls_are_refused(url):
    """Only http and https, without credentials in the URL."""
    with pytest.raises(targets.TargetRefused):
        targets.check(url, resolve=lambda *a, **k: [(2, 1, 6, "", ("93.184.216.34", 80))])


@BOTH
def test_the_admin_page_refuses_a_private_target_unless_allowed_and_shows_the_secret_once(app, as_user, receiver):
    """A loopback URL is refused with a message (422) until the admin allows private addresses;
    then the secret is shown once (201, not cached) and never again; it is stored encrypted."""
    admin = as_user("admin")
    form = {"url": receiver.url, "description": "ERP", "events": ["order.effective", "ticket.opened"]}
    refused = admin.post("/admin/webhooks/new", data=form)
    assert refused.status_code == 422
    assert "local or private network address" in text_of(refused)
    assert admin.post("/admin/webhooks/new", data={**form, "events": []}).status_code == 422
    assert admin.post("/admin/webhooks/new", data={**form, "url": "ftp://x"}).status_code == 422
    made = admin.post("/admin/webhooks/new", data={**form, "allow_private": "y"})
    assert made.status_code == 201 and made.headers["Cache-Control"] == "no-store"
    secret = re.search(r"whsec_[A-Za-z0-9+/=]+", text_of(made)).group(0)
    with app.app_context():
        endpoint = db.session.scalar(db.select(WebhookEndpoint))
        assert secret not in endpoint.secret_encrypted and endpoint.event_types == ["order.effective", "ticket.opened"]
        endpoint_id = endpoint.id
    for page in ("/admin/webhooks", f"/admin/webhooks/{endpoint_id}"):
        assert secret not in admin.get(page).get_data(as_text=True)
    # The test event, signed with the secret shown; then sent again with the same id.
    assert admin.post(f"/admin/webhooks/{endpoint_id}/test").status_code == 303
    [first] = receiver.requests
    assert verify(first, secret)["type"] == "webhook.test"
    with app.app_context():
        delivery_id = db.session.scalar(db.select(WebhookDelivery.id))
    page = admin.get(f"/admin/webhooks/{endpoint_id}").get_data(as_text=True)
    assert "answered 200" in page and "webhook.test" in page
    assert admin.post(f"/admin/webhooks/deliveries/{delivery_id}/resend").status_code == 303
    assert len(receiver.requests) == 2
    assert receiver.requests[1]["headers"]["webhook-id"] == first["headers"]["webhook-id"]
    # A new secret: shown once; the next delivery is signed with it, the old one no longer fits.
    rotated = admin.post(f"/admin/webhooks/{endpoint_id}/rotate")
    new_secret = re.search(r"whsec_[A-Za-z0-9+/=]+", text_of(rotated)).group(0)
    assert new_secret != secret
    admin.post(f"/admin/webhooks/deliveries/{delivery_id}/resend")
    verify(receiver.requests[2], new_secret)
    with pytest.raises(AssertionError):
        verify(receiver.requests[2], secret)


@BOTH
def test_a_target_checked_again_at_delivery(app, receiver):
    """An endpoint saved with private addresses allowed, then no longer allowed: the delivery is
    refused before any connection, recorded with the reason and retried later."""
    endpoint_id, _secret = add_endpoint(app, receiver.url, ["order.effective"])
    with app.app_context():
        db.session.get(WebhookEndpoint, endpoint_id).allow_private = False
        db.session.commit()
    emit_committed(app)
    assert receiver.requests == []
    with app.app_context():
        found = db.session.scalar(db.select(WebhookDelivery))
        assert found.status == "pending" and "private network" in found.last_error


@BOTH
def test_disable_enable_and_delete(app, as_user, receiver):
    """A disabled endpoint's events wait untried (none is lost: also those that happen while it is
    off); enabled, they go; deleted, its deliveries go with it."""
    admin = as_user("admin")
    endpoint_id, _secret = add_endpoint(app, receiver.url, ["order.effective"])
    assert admin.post(f"/admin/webhooks/{endpoint_id}/active").status_code == 303
    while_off = emit_committed(app)  # enqueued for the disabled endpoint, not sent
    assert while_off is not None
    with app.app_context():
        db.session.get(WebhookEndpoint, endpoint_id).active = True
        event = webhooks.emit("order.effective", "order", 8)
        db.session.get(WebhookEndpoint, endpoint_id).active = False
        db.session.commit()
        event_id = event.uuid
        webhooks.flush()
    assert receiver.requests == [] and deliveries(app) == [("pending", 0, 0), ("pending", 0, 0)]
    assert admin.post(f"/admin/webhooks/{endpoint_id}/active").status_code == 303
    sweep_at(app, utcnow())
    assert len(receiver.requests) == 2
    assert {r["headers"]["webhook-id"] for r in receiver.requests} == {while_off, event_id}
    assert admin.post(f"/admin/webhooks/{endpoint_id}/delete").status_code == 303
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(WebhookDelivery.id))) == 0


@BOTH
def test_only_the_admin_manages_webhooks(app, as_user, client):
    """Every webhook page and action answers 403 to other roles; a stranger is sent to log in."""
    endpoint_id, _secret = add_endpoint(app, "http://127.0.0.1:9/x", ["order.effective"])
    pages = ["/admin/webhooks", "/admin/webhooks/new", f"/admin/webhooks/{endpoint_id}"]
    actions = [f"/admin/webhooks/{endpoint_id}/{name}" for name in ("active", "rotate", "delete", "test")]
    actions += ["/admin/webhooks/deliveries/1/resend", "/admin/webhooks/new", f"/admin/webhooks/{endpoint_id}"]
    for role in ("manager", "finance", "sales"):
        person = as_user(role)
        assert {person.get(page).status_code for page in pages} == {403}
        assert {person.post(url, data={"url": "https://example.com/"}).status_code for url in actions} == {403}
    assert client.get("/admin/webhooks").status_code in (302, 303)
    with app.app_context():
        assert db.session.get(WebhookEndpoint, endpoint_id).active


@BOTH
def test_an_anomaly_with_a_new_eta_is_two_events(app, work_order, make_user, receiver):
    """A production anomaly that moves the order's date: anomaly.raised and order.eta_changed."""
    from webapp.production import services as floor
    from webapp.production.models import WorkOrder
    _id, secret = add_endpoint(app, receiver.url, ["anomaly.raised", "order.eta_changed"])
    worker = make_user("production")
    with app.app_context(), app.test_request_context("/", method="POST"):
        floor.raise_anomaly(db.session.get(WorkOrder, work_order.id), db.session.get(User, worker), "material",
                            "minor", "Steel late", "", date(2027, 3, 1), "Supplier late", [])
        db.session.commit()
        webhooks.flush()
    by_type = {p["type"]: p["data"] for p in (verify(r, secret) for r in receiver.requests)}
    assert set(by_type) == {"anomaly.raised", "order.eta_changed"}
    assert by_type["anomaly.raised"]["work_order"]["id"] == work_order.id
    assert by_type["anomaly.raised"]["order"]["id"] == work_order.order_id
    assert by_type["order.eta_changed"]["delivery_date"] == "2027-03-01"
    assert by_type["order.eta_changed"]["reason"] == "Supplier late"


@BOTH
def test_an_invoice_falls_overdue_once(app, make_order, receiver):
    """The daily reminder run: invoice.overdue on the first overdue day only, not at 30 days."""
    from .test_receivables import _invoice
    _id, secret = add_endpoint(app, receiver.url, ["invoice.overdue"])
    order_id = make_order("ready_to_ship", customer="ACME")
    _invoice(app, order_id, "R-1", "300", date(2026, 11, 10), date(2026, 12, 10))
    with app.app_context():
        daily = app.extensions["huey_tasks"]["webapp.receivables.tasks.remind_customers_daily"]
        for day in (date(2026, 12, 6), date(2026, 12, 11), date(2026, 12, 12), date(2027, 1, 9)):
            with frozen(datetime(day.year, day.month, day.day, 1, tzinfo=UTC)):
                daily()
    [request] = receiver.requests
    data = verify(request, secret)["data"]
    assert data["object"] == "invoice" and data["number"] == "R-1" and data["due_on"] == "2026-12-10"
    assert data["outstanding"] == "300.00" and data["days_overdue"] == 1


@BOTH
def test_the_customer_and_staff_steps_each_send_their_event_after_their_request(app, as_user, make_customer,
                                                                                make_order, receiver):
    """Through the real pages, each request's event leaves once its transaction committed: a
    requirement confirmed on the customer's link; a shipment dispatched, then signed for with damage
    (delivered, and a return opened); a ticket opened and answered. Each once, each signed."""
    from webapp.orders.models import OrderLine
    from .test_aftersales import open_ticket_as
    from .test_requirements import sent_requirement
    from .test_shipping import signed_with_damage
    _id, secret = add_endpoint(app, receiver.url, list(webhooks.EVENT_TYPES))
    requirement_id, link = sent_requirement(app, as_user("sales"), make_customer("ACME"))
    assert receiver.requests == []  # sending it to the customer is no event
    assert app.test_client().post(link + "/confirm", data={"confirm-name": "Ann"}).status_code == 303
    [confirmed] = [verify(r, secret) for r in receiver.requests]
    assert confirmed["type"] == "requirement.confirmed" and confirmed["data"]["id"] == requirement_id
    order_id = make_order("ready_to_ship", quantity="1200", customer="ORD")
    with app.app_context():
        line_id = db.session.scalar(db.select(OrderLine.id).where(OrderLine.order_id == order_id))
    receiver.requests.clear()
    sweep_at(app, utcnow())  # make_order's own events (order.effective), sent by the sweep
    assert [verify(r, secret)["type"] for r in receiver.requests] == ["order.effective"]
    receiver.requests.clear()
    shipment_id, case_id = signed_with_damage(app, as_user("warehouse"), order_id, line_id)
    sales = as_user("sales")
    ticket_id = open_ticket_as(sales, order_id)
    assert as_user("aftersales").post(f"/aftersales/tickets/{ticket_id}/respond",
                                      data={"m-body": "New parts tomorrow."}).status_code == 303
    got = [verify(r, secret) for r in receiver.requests]
    assert [(p["type"], p["data"]["id"]) for p in got] == [
        ("shipment.dispatched", shipment_id), ("shipment.delivered", shipment_id), ("return.opened", case_id),
        ("ticket.opened", ticket_id), ("ticket.answered", ticket_id)]
    by_type = {p["type"]: p["data"] for p in got}
    assert by_type["shipment.delivered"]["status"] == "delivered_with_exception"
    assert by_type["return.opened"]["shipment"]["id"] == shipment_id
    assert by_type["return.opened"]["url"] == f"https://tracker.example.com/api/v1/returns/{case_id}"
    assert by_type["ticket.answered"]["order"]["id"] == order_id
    assert len({p["id"] for p in got}) == 5
    assert sweep_at(app, utcnow() + timedelta(days=4)) == 0  # nothing left to send


@BOTH
def test_a_delivery_whose_task_was_lost_goes_with_the_sweep(app, receiver):
    """Committed but never handed to the worker (it restarted, the queue was lost): the sweep sends it."""
    _id, secret = add_endpoint(app, receiver.url, ["order.effective"])
    event_id = emit_committed(app, flush=False)
    assert receiver.requests == []
    sweep_at(app, utcnow())
    assert [verify(r, secret)["id"] for r in receiver.requests] == [event_id]


@BOTH
def test_editing_an_endpoint_checks_the_url_again_and_unknown_ids_are_404(app, as_user, receiver):
    """The edit form refuses a loopback URL once private addresses are unticked (422, the endpoint
    unchanged), and no event at all; it saves a change; unknown endpoints and deliveries are 404."""
    admin = as_user("admin")
    endpoint_id, _secret = add_endpoint(app, receiver.url, ["order.effective"])
    page = f"/admin/webhooks/{endpoint_id}"
    form = {"url": "http://127.0.0.1:8080/other", "description": "Shop", "events": ["ticket.opened"]}
    refused = admin.post(page, data=form)
    assert refused.status_code == 422 and "local or private network address" in text_of(refused)
    assert 'value="http://127.0.0.1:8080/other"' in text_of(refused)  # what was typed is shown back
    assert admin.post(page, data={**form, "allow_private": "y", "events": []}).status_code == 422
    with app.app_context():
        endpoint = db.session.get(WebhookEndpoint, endpoint_id)
        assert (endpoint.url, endpoint.event_types) == (receiver.url, ["order.effective"])
    assert admin.post(page, data={**form, "allow_private": "y"}).status_code == 303
    with app.app_context():
        endpoint = db.session.get(WebhookEndpoint, endpoint_id)
        assert (endpoint.url, endpoint.event_types, endpoint.description) == (
            "http://127.0.0.1:8080/other", ["ticket.opened"], "Shop")
    assert admin.get("/admin/webhooks/999").status_code == 404
    assert admin.post("/admin/webhooks/999/rotate").status_code == 404
    assert admin.post("/admin/webhooks/deliveries/999/resend").status_code == 404


@pytest.mark.slow
def test_the_worker_process_sends_what_a_request_queued(app, as_user, receiver, tmp_path):
    """Not immediate: the admin's test event waits in a SQLite queue file, nothing sent; the real
    worker process (`huey_consumer webapp.worker.huey`) sends it, signed, and marks it delivered."""
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    from webapp import background
    queue_file = tmp_path / "huey.sqlite3"
    saved = dict(app.extensions)
    app.config.update(HUEY_IMMEDIATE=False, HUEY_URL=f"sqlite:///{queue_file}")
    background.init_app(app)
    worker = None
    try:
        admin = as_user("admin")
        endpoint_id, secret = add_endpoint(app, receiver.url, ["order.effective"])
        assert admin.post(f"/admin/webhooks/{endpoint_id}/test").status_code == 303
        assert len(app.extensions["huey"]) == 1 and receiver.requests == []
        env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "SECRET_KEY": "test-secret",
               "HUEY_URL": f"sqlite:///{queue_file}"}
        worker = subprocess.Popen(
            [sys.executable, "-m", "huey.bin.huey_consumer", "webapp.worker.huey", "--workers", "1",
             "--worker-type", "thread", "--no-periodic"],
            cwd=Path(__file__).resolve().parent.parent, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while not receiver.requests and worker.poll() is None and time.monotonic() < deadline:
            time.sleep(0.3)
        [request] = receiver.requests
        assert verify(request, secret)["type"] == "webhook.test"
        deadline = time.monotonic() + 30
        while deliveries(app) != [("delivered", 1, 0)] and time.monotonic() < deadline:
            time.sleep(0.3)
        assert deliveries(app) == [("delivered", 1, 0)]
    finally:
        if worker is not None:
            worker.send_signal(signal.SIGINT)  # the consumer's graceful stop
            try:
                worker.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.communicate()
        app.extensions.clear()
        app.extensions.update(saved)


def test_a_secret_sealed_under_another_secret_key_is_reported_not_sent(app, receiver):
    """SECRET_KEY changed after the endpoint was made: the try is recorded with the reason, nothing
    unsigned leaves, and it is planned again (renewing the secret mends it)."""
    add_endpoint(app, receiver.url, ["order.effective"])
    app.config["SECRET_KEY"] = "another-secret"
    emit_committed(app)
    assert receiver.requests == []
    with app.app_context():
        found = db.session.scalar(db.select(WebhookDelivery))
        assert found.status == "pending" and "secret cannot be read" in found.last_error


@BOTH
def test_a_receiver_that_timed_out_gets_the_event_once_it_answers_in_time(app, receiver, monkeypatch):
    """After a timed-out try the next one, when due, delivers: every try carries the same event id, and
    the delivery ends delivered with the attempts counted."""
    monkeypatch.setattr(delivery, "TIMEOUT_SECONDS", 0.3)
    add_endpoint(app, receiver.url, ["order.effective"])
    receiver.sleep = 1.0
    event_id = emit_committed(app)
    receiver.sleep = 0.0
    assert sweep_at(app, next_due(app)) == 1
    assert [(status, attempts) for status, attempts, _failed in deliveries(app)] == [("delivered", 2)]
    assert {r["headers"]["webhook-id"] for r in receiver.requests} == {event_id}
    assert len(receiver.delivered()) == 1


@BOTH
def test_four_workers_trying_one_delivery_at_once_send_it_once(app, receiver):
    """Workers that pick the same due delivery at the same moment: one claims it, the others find it
    claimed; the receiver gets one request."""
    add_endpoint(app, receiver.url, ["order.effective"])
    emit_committed(app, flush=False)
    with app.app_context():
        delivery_id = db.session.scalar(db.select(WebhookDelivery.id))
    barrier, outcomes = threading.Barrier(4), []

    def work():
        with app.app_context():
            barrier.wait()
            try:
                outcomes.append(delivery.attempt(delivery_id))
            finally:
                db.session.remove()
    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes, key=lambda outcome: outcome is None) == ["delivered", None, None, None]
    assert len(receiver.requests) == 1
    assert deliveries(app) == [("delivered", 1, 0)]


@BOTH
def test_a_retail_order_sent_twice_through_the_api_is_one_event(app, receiver, make_user, make_product):
    """An online shop retries its order with the same Idempotency-Key: one order, one order.effective
    event, one request at the receiver."""
    from .api_helpers import ApiClient, make_token
    add_endpoint(app, receiver.url, ["order.effective"])
    product_id = make_product(on_hand="5000")
    shop = ApiClient(app, make_token(app, make_user("sales")))
    body = {"customer": {"name": "林梅", "phone": "13800000000", "address": "苏州市星湖街 1 号"},
            "items": [{"product_id": product_id, "quantity": "2000"}], "shop_order_no": "TB-77"}
    for _try in range(2):
        assert shop.post("/api/v1/retail-orders", json=body, headers={"Idempotency-Key": "tb-77"}).status_code == 201
    with app.app_context():
        assert [e.type for e in db.session.scalars(db.select(WebhookEvent))] == ["order.effective"]
    # sent right after the first request's commit; the sweep finds nothing left to send
    assert len(receiver.delivered()) == 1 and sweep_at(app, utcnow()) == 0 and len(receiver.requests) == 1
