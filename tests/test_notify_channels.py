"""Notification channels (issue 16): WeCom and DingTalk group robots and Alibaba Cloud SMS, each
against a local fake receiver on 127.0.0.1 that the test starts; which event goes through which
channel (the admin's page); failures retried by the background worker; the demo firm's robot."""
import base64
import hashlib
import hmac
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from webapp import notify
from webapp.extensions import db
from webapp.notify import robots, routing, sms
from webapp.orders.models import OrderLine
from webapp.shipping.models import Shipment

from .helpers import text_of
from .test_shipping import new_shipment, packed

BOTH = pytest.mark.parametrize("app", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
                               indirect=True)
OK = (200, {"errcode": 0, "errmsg": "ok"})


class FakeReceiver:
    """A local HTTP server that records each POST (path, query, headers, body) and answers with the next
    of its prepared answers (the last one repeats)."""

    def __init__(self, answers=(OK,)):
        self.requests: list[dict] = []
        self.answers = list(answers)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802  (http.server's name)
                length = int(self.headers.get("Content-Length") or 0)
                parts = urllib.parse.urlsplit(self.path)
                receiver.requests.append({"path": parts.path, "query": parts.query, "raw": self.rfile.read(length),
                                          "content_type": self.headers.get("Content-Type", "")})
                status, answer = receiver.answers.pop(0) if len(receiver.answers) > 1 else receiver.answers[0]
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        """An address on this receiver."""
        return f"http://127.0.0.1:{self.port}{path}"

    def bodies(self) -> list[dict]:
        """The JSON bodies received."""
        return [json.loads(r["raw"].decode("utf-8")) for r in self.requests]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(app):
    """A fake robot (or SMS) endpoint on 127.0.0.1, allowed as a robot host for this test."""
    fake = FakeReceiver()
    app.config["CHAT_ROBOT_EXTRA_HOSTS"] = ("127.0.0.1",)
    yield fake
    fake.close()


def add_robot(app, receiver, *events, kind="wecom", secret="", name="Shipping group", locale="zh") -> int:
    """A switched-on robot posting the events to the fake receiver."""
    path = "/cgi-bin/webhook/send?key=test-key" if kind == "wecom" else "/robot/send?access_token=test-token"
    with app.app_context():
        robot = routing.ChatRobot(name=name, kind=kind, webhook_url=receiver.url(path), secret=secret,
                                  locale=locale, enabled=True)
        db.session.add(robot)
        db.session.flush()
        db.session.add_all(routing.RobotEvent(robot_id=robot.id, event=event) for event in events)
        db.session.commit()
        return robot.id


def dispatched_shipment(app, make_order, as_user, customer_phone=""):
    """Pack a shipment of a ready order and dispatch it through the normal page; its id and number."""
    order_id = make_order("ready_to_ship", quantity="2400")
    with app.app_context():
        line_id = db.session.scalar(db.select(OrderLine.id).where(OrderLine.order_id == order_id))
        if customer_phone:
            from webapp.orders.models import Order
            db.session.get(Order, order_id).customer.contact_phone = customer_phone
            db.session.commit()
    warehouse = as_user("warehouse")
    assert new_shipment(warehouse, order_id, line_id, "1,200").status_code == 303
    with app.app_context():
        shipment_id, number = db.session.execute(db.select(Shipment.id, Shipment.number)).one()
    packed(app, warehouse, shipment_id)
    assert warehouse.post(f"/shipping/{shipment_id}/dispatch", data={"note": ""}).status_code == 303
    return shipment_id, number


def committed() -> None:
    """What the transaction layer does after a commit: hand the queued mail and posts to the worker."""
    from webapp.notify import mail
    mail.flush()
    notify.flush()


def mail_subjects(app) -> list[str]:
    """The subjects of the development mail written so far."""
    import email
    import email.policy
    from pathlib import Path
    folder = Path(app.config["MAIL_FOLDER"])
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)["Subject"]
            for p in folder.glob("*.eml")] if folder.exists() else []


# --- the documented message formats -----------------------------------------------------------------------

def test_wecom_markdown_body_has_the_documented_keys_and_stays_within_4096_bytes(app):
    """{"msgtype": "markdown", "markdown": {"content": …}}; a long Chinese text is cut on a character
    boundary to at most 4096 bytes of UTF-8."""
    with app.test_request_context():
        body = robots.wecom_body("发货通知", "货物已发出。" * 2000, "https://tracker.example.com/shipping/1")
    assert set(body) == {"msgtype", "markdown"} and body["msgtype"] == "markdown"
    assert set(body["markdown"]) == {"content"}
    content = body["markdown"]["content"]
    assert len(content.encode("utf-8")) <= 4096 and content.startswith("**发货通知**") and content.endswith("…")
    content.encode("utf-8").decode("utf-8")  # valid UTF-8: no character cut in half
    with app.test_request_context():
        short = robots.wecom_body("发货通知", "货物已发出。", "https://tracker.example.com/shipping/1")
    assert "](https://tracker.example.com/shipping/1)" in short["markdown"]["content"]


def test_dingtalk_markdown_body_and_its_signature_match_the_documentation(app):
    """{"msgtype": "markdown", "markdown": {"title", "text"}}; 加签 adds timestamp (ms) and
    sign = urlencode(base64(HMAC-SHA256(secret, timestamp + "\\n" + secret))) to the address."""
    with app.test_request_context():
        body = robots.dingtalk_body("Shipment S-1 is on its way", "x" * 10000)
    assert body["msgtype"] == "markdown" and set(body["markdown"]) == {"title", "text"}
    assert body["markdown"]["title"] == "Shipment S-1 is on its way"
    assert len(body["markdown"]["text"].encode("utf-8")) <= 4096
    secret, timestamp = "SECabc123+/=", 1764460800123
    url = robots.signed_url("https://oapi.dingtalk.com/robot/send?access_token=T", secret, timestamp)
    query = urllib.parse.urlsplit(url).query
    raw = dict(pair.split("=", 1) for pair in query.split("&"))
    expected = base64.b64encode(hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest())
    assert raw["access_token"] == "T" and raw["timestamp"] == str(timestamp)
    assert raw["sign"] == urllib.parse.quote_plus(expected.decode())  # the documented urlencode, once


# --- "order shipped" in a group ---------------------------------------------------------------------------

@BOTH
def test_a_wecom_robot_receives_order_shipped_when_a_shipment_is_dispatched(app, receiver, make_order, as_user):
    """The normal dispatch posts one markdown message into the group, in Chinese, with the shipment's
    staff page and without the customer's own signing link; the customer's mail still leaves."""
    robot_id = add_robot(app, receiver, "shipment.dispatched")
    shipment_id, number = dispatched_shipment(app, make_order, as_user)
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    assert request["path"] == "/cgi-bin/webhook/send" and request["query"] == "key=test-key"
    assert request["content_type"].startswith("application/json")
    body = receiver.bodies()[0]
    assert body["msgtype"] == "markdown"
    content = body["markdown"]["content"]
    assert f"发货单 {number}" in content or number in content
    assert "已发出" in content or "在路上" in content, content
    assert f"https://tracker.example.com/shipping/{shipment_id}" in content
    assert "/c/" not in content  # the customer's link to sign stays out of the group
    assert "客户：ORD Ltd" in content and "[在订单跟踪系统中打开](" in content
    assert any(number in subject for subject in mail_subjects(app))
    with app.app_context():
        assert db.session.get(routing.ChatRobot, robot_id).last_sent_at is not None


@BOTH
def test_a_dingtalk_robot_signs_each_post(app, receiver, make_order, as_user):
    """A signed DingTalk robot's post carries timestamp and sign; recomputed from the secret they match."""
    secret = "SEC" + "d" * 61
    add_robot(app, receiver, "shipment.dispatched", kind="dingtalk", secret=secret, locale="en")
    _shipment_id, number = dispatched_shipment(app, make_order, as_user)
    assert len(receiver.requests) == 1
    query = urllib.parse.parse_qs(receiver.requests[0]["query"])
    assert receiver.requests[0]["path"] == "/robot/send" and query["access_token"] == ["test-token"]
    timestamp = query["timestamp"][0]
    expected = base64.b64encode(hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest())
    assert query["sign"] == [expected.decode()]
    body = receiver.bodies()[0]
    assert body["msgtype"] == "markdown"
    assert body["markdown"]["title"] == f"Shipment {number} is on its way"
    assert number in body["markdown"]["text"]


# --- routing ----------------------------------------------------------------------------------------------

def ping(**context) -> notify.Notice:
    """A test event's message."""
    return notify.Notice("Ping", "Pong")


@BOTH
def test_one_post_per_event_however_many_recipients_and_no_mail_when_email_is_off(app, receiver, monkeypatch):
    """An event whose e-mail the admin turned off sends no mail; a robot ticked for it posts once,
    though the event has three recipients; a robot not ticked and a switched-off robot post nothing."""
    monkeypatch.setitem(notify.MESSAGES, "test.ping", ping)
    add_robot(app, receiver, "test.ping")
    add_robot(app, receiver, "shipment.dispatched", name="Other group")
    off = add_robot(app, receiver, "test.ping", name="Switched off")
    with app.app_context():
        db.session.get(routing.ChatRobot, off).enabled = False
        routing.save_routes(email=set(), sms=set(), robots={}, events=["test.ping"])
        db.session.commit()
    with app.test_request_context():
        notify.notify("test.ping", [notify.Recipient(f"person{i}@example.com") for i in range(3)])
        committed()
    assert len(receiver.requests) == 1
    assert "Pong" in receiver.bodies()[0]["markdown"]["content"]
    assert mail_subjects(app) == []


@BOTH
def test_email_stays_on_by_default_and_robots_post_nothing_unticked(app, receiver, monkeypatch):
    """Nothing chosen: today's behaviour, every recipient mailed, no robot posting."""
    monkeypatch.setitem(notify.MESSAGES, "test.ping", ping)
    add_robot(app, receiver)
    with app.test_request_context():
        notify.notify("test.ping", [notify.Recipient(f"person{i}@example.com") for i in range(2)])
        committed()
    assert receiver.requests == [] and mail_subjects(app) == ["Ping", "Ping"]


@BOTH
def test_a_rolled_back_request_posts_nothing(app, receiver, monkeypatch):
    """What a request queued for a robot is forgotten when its transaction is rolled back."""
    monkeypatch.setitem(notify.MESSAGES, "test.ping", ping)
    add_robot(app, receiver, "test.ping")
    with app.test_request_context():
        notify.notify("test.ping", [])
        notify.discard()
        committed()
    assert receiver.requests == []


@BOTH
@pytest.mark.parametrize("failure", [(200, {"errcode": 93000, "errmsg": "invalid webhook url"}),
                                     (500, {"error": "down"})])
def test_a_refused_post_is_recorded_and_retried_later_with_backoff(app, receiver, monkeypatch, failure):
    """A non-zero errcode or an HTTP error fails the task: the robot shows the failure, the worker tries
    again a minute later (the delay doubling), and the retry delivers it."""
    monkeypatch.setitem(notify.MESSAGES, "test.ping", ping)
    receiver.answers = [failure, OK]
    robot_id = add_robot(app, receiver, "test.ping")
    huey = app.extensions["huey"]
    with app.test_request_context():
        notify.notify("test.ping", [])
        committed()
    assert len(receiver.requests) == 1
    with app.app_context():
        robot = db.session.get(routing.ChatRobot, robot_id)
        assert robot.last_failed_at is not None and robot.last_sent_at is None
        assert ("93000" in robot.last_error) if failure[0] == 200 else ("HTTP 500" in robot.last_error)
        assert "test-key" not in robot.last_error
    scheduled = huey.scheduled()
    assert len(scheduled) == 1
    assert scheduled[0].retries == robots.POST_RETRIES - 1
    assert scheduled[0].retry_delay == robots.POST_RETRY_DELAY_SECONDS * robots.POST_RETRY_BACKOFF
    for due in huey.read_schedule(scheduled[0].eta):  # the worker's clock a minute on
        huey.execute(due, timestamp=due.eta)
    assert huey.scheduled() == []
    assert len(receiver.requests) == 2 and receiver.bodies()[0] == receiver.bodies()[1]
    with app.app_context():
        robot = db.session.get(routing.ChatRobot, robot_id)
        assert robot.last_sent_at is not None and robot.last_error == ""


def test_every_event_has_a_label_for_the_admin_page(app):
    """The admin page names each event in words (a new event needs its label)."""
    assert set(notify.MESSAGES) - set(routing.EVENT_LABELS) == set()


# --- SMS --------------------------------------------------------------------------------------------------

def sms_config(app, receiver, **extra):
    """Alibaba Cloud SMS pointed at the fake receiver."""
    app.config.update(SMS_PROVIDER="aliyun", ALIYUN_SMS_URL=receiver.url("/"), ALIYUN_SMS_ACCESS_KEY_ID="testid",
                      ALIYUN_SMS_ACCESS_KEY_SECRET="testsecret", ALIYUN_SMS_SIGN_NAME="演示制造",
                      SMS_TEMPLATES={"shipment.dispatched": "SMS_123456"}, **extra)


@BOTH
def test_sms_is_off_by_default(app, receiver, make_order, as_user):
    """Without SMS_PROVIDER no text leaves, even for a customer with a mobile number."""
    dispatched_shipment(app, make_order, as_user, customer_phone="139 0000 1234")
    assert receiver.requests == []


@BOTH
def test_sms_sends_the_documented_signed_sendsms_request(app, receiver, make_order, as_user):
    """Switched on: the customer's mobile gets the event's template through SendSms, with the common
    parameters and a signature that the test recomputes from the parameters and the secret."""
    receiver.answers = [(200, {"Code": "OK", "Message": "OK", "BizId": "1", "RequestId": "R"})]
    sms_config(app, receiver)
    _shipment_id, number = dispatched_shipment(app, make_order, as_user, customer_phone="139-0000 1234")
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    assert request["content_type"] == "application/x-www-form-urlencoded"
    params = dict(urllib.parse.parse_qsl(request["raw"].decode("ascii"), keep_blank_values=True))
    assert {k: params[k] for k in ("Action", "Version", "Format", "SignatureMethod", "SignatureVersion",
                                    "PhoneNumbers", "SignName", "TemplateCode", "AccessKeyId", "RegionId")} == {
        "Action": "SendSms", "Version": "2017-05-25", "Format": "JSON", "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0", "PhoneNumbers": "13900001234", "SignName": "演示制造",
        "TemplateCode": "SMS_123456", "AccessKeyId": "testid", "RegionId": "cn-hangzhou"}
    assert json.loads(params["TemplateParam"])["shipment"] == number
    assert params["SignatureNonce"] and params["Timestamp"].endswith("Z")

    def encode(value):  # the documented percent-encoding, written out here independently
        return urllib.parse.quote(value, safe="~").replace("%7E", "~")
    unsigned = {k: v for k, v in params.items() if k != "Signature"}
    query = "&".join(f"{encode(k)}={encode(v)}" for k, v in sorted(unsigned.items()))
    to_sign = "POST&%2F&" + encode(query)
    expected = base64.b64encode(hmac.new(b"testsecret&", to_sign.encode(), hashlib.sha1).digest()).decode()
    assert params["Signature"] == expected


@BOTH
def test_sms_throttled_is_retried_and_a_refused_number_is_dropped(app, receiver):
    """Throttling (isv.BUSINESS_LIMIT_CONTROL) is tried again later; a refusal of the request itself
    (a bad number) is logged, not retried."""
    sms_config(app, receiver)
    huey = app.extensions["huey"]
    receiver.answers = [(200, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "limit"}),
                        (200, {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "bad"})]
    with app.app_context():
        sms.deliver.enqueue("13900001234", "SMS_1", {})
        assert len(huey.scheduled()) == 1
        sms.deliver.enqueue("1", "SMS_1", {})
        assert len(huey.scheduled()) == 1
    assert len(receiver.requests) == 2


# --- the admin pages --------------------------------------------------------------------------------------

ADMIN_ROUTES = [("get", "/admin/notifications"), ("post", "/admin/notifications"),
                ("get", "/admin/notifications/robots/new"), ("post", "/admin/notifications/robots/new"),
                ("get", "/admin/notifications/robots/{id}"), ("post", "/admin/notifications/robots/{id}/test"),
                ("post", "/admin/notifications/robots/{id}/delete")]


@BOTH
@pytest.mark.parametrize("role", ["sales", "manager", "warehouse", "finance"])
def test_the_notification_pages_are_for_the_admin_only(app, receiver, as_user, role):
    """Everyone else gets 403 on every page and action; the robot is left as it was."""
    robot_id = add_robot(app, receiver, "shipment.dispatched")
    client = as_user(role)
    for method, path in ADMIN_ROUTES:
        response = getattr(client, method)(path.format(id=robot_id), **({"data": {}} if method == "post" else {}))
        assert response.status_code == 403, (role, method, path)
    assert receiver.requests == []
    with app.app_context():
        assert db.session.get(routing.ChatRobot, robot_id) is not None


def robot_form(**fields):
    """The robot form as posted."""
    return {"name": "发货群", "kind": "wecom", "webhook_url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc",
            "locale": "zh", "enabled": "y", **fields}


@BOTH
@pytest.mark.parametrize("fields, message", [
    ({"webhook_url": "not an address"}, "请输入机器人的完整 Webhook 地址"),
    ({"webhook_url": "https://evil.example.com/cgi-bin/webhook/send?key=abc"}, "只能发送到"),
    ({"webhook_url": "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc"}, "只能发送到"),
    ({"webhook_url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"}, "缺少机器人的 key"),
    ({"webhook_url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=YOUR-ROBOT-KEY"}, "缺少机器人的 key"),
    ({"kind": "dingtalk", "webhook_url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc"}, "只能发送到"),
    ({"webhook_url": "http://127.0.0.1:9/cgi-bin/webhook/send?key=abc"}, "只能发送到"),
    ({"webhook_url": "https://qyapi.weixin.qq.com:99999/cgi-bin/webhook/send?key=a"}, "请输入机器人的完整 Webhook 地址"),
    ({"kind": "dingtalk", "webhook_url": "https://oapi.dingtalk.com/robot/send?access_token=t", "signed": "y"},
     "请填写签名密钥"),
    ({"kind": "dingtalk", "webhook_url": "https://oapi.dingtalk.com/robot/send?access_token=t", "signed": "y",
      "secret": "abc"}, "以 SEC 开头"),
])
def test_bad_robot_input_gets_a_translated_message_and_422(app, as_user, fields, message):
    """A bad address, a host that is not the kind's, plain HTTP, a missing key, a signing robot without
    its secret: 422 in Chinese with what was typed kept, and nothing stored."""
    admin = as_user("admin", locale="zh")
    response = admin.post("/admin/notifications/robots/new", data=robot_form(**fields))
    assert response.status_code == 422
    page = text_of(response)
    assert message in page, page[page.find("error"):][:800]
    assert "发货群" in page  # what was typed is shown back
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(routing.ChatRobot)) == 0


@BOTH
def test_the_admin_adds_a_robot_ticks_events_and_sends_a_test_message(app, receiver, as_user):
    """The admin adds a robot (the fake receiver allowed by config), ticks "order shipped" for it and
    turns one event's e-mail off; the test button posts at once and says how it went."""
    admin = as_user("admin", locale="zh")
    url = receiver.url("/robot/send?access_token=tok-secret-0042")
    response = admin.post("/admin/notifications/robots/new", data=robot_form(
        kind="dingtalk", webhook_url=url, signed="y", secret="SECsecret"))
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/notifications")
    with app.app_context():
        robot = db.session.scalar(db.select(routing.ChatRobot))
        robot_id = robot.id
        assert (robot.kind, robot.secret, robot.enabled, robot.webhook_url) == ("dingtalk", "SECsecret", True, url)
    page = text_of(admin.get("/admin/notifications"))
    assert f'value="robot-{robot_id}:shipment.dispatched"' in page
    assert 'value="email:shipment.dispatched" checked' in page  # e-mail on by default
    assert "tok-secret" not in page and "SECsecret" not in page  # the robot's key and secret are not shown
    routes = [f"robot-{robot_id}:shipment.dispatched"] + [f"email:{e}" for e in notify.MESSAGES
                                                          if e != "order.eta_changed"]
    assert admin.post("/admin/notifications", data={"route": routes}).status_code == 303
    with app.app_context():
        assert routing.robot_events(robot_id) == {"shipment.dispatched"}
        assert not routing.email_on("order.eta_changed") and routing.email_on("shipment.dispatched")
    response = admin.post(f"/admin/notifications/robots/{robot_id}/test")
    assert response.status_code == 303
    assert len(receiver.requests) == 1 and receiver.bodies()[0]["msgtype"] == "markdown"
    assert "测试消息已发送" in text_of(admin.get(f"/admin/notifications/robots/{robot_id}"))
    receiver.answers = [(200, {"errcode": 310000, "errmsg": "sign not match"})]
    admin.post(f"/admin/notifications/robots/{robot_id}/test")
    assert "sign not match" in text_of(admin.get(f"/admin/notifications/robots/{robot_id}"))
    # editing without a secret keeps the stored one
    response = admin.post(f"/admin/notifications/robots/{robot_id}", data=robot_form(
        kind="dingtalk", webhook_url=url, signed="y", name="新名字"))
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(routing.ChatRobot, robot_id).secret == "SECsecret"
    assert admin.post(f"/admin/notifications/robots/{robot_id}/delete").status_code == 303
    with app.app_context():
        assert db.session.get(routing.ChatRobot, robot_id) is None and routing.robot_events(robot_id) == set()


# --- the demo firm ----------------------------------------------------------------------------------------

def test_the_demo_firms_group_robot_receives_order_shipped(demo_app):
    """The demo firm comes with a switched-off WeCom robot for its shipping group; pointed at a (fake)
    group and switched on, it receives "order shipped" when the warehouse dispatches the packed shipment."""
    from webapp.demo import DEMO_ROBOT_NAME

    from .conftest import demo_login
    fake = FakeReceiver()
    demo_app.config["CHAT_ROBOT_EXTRA_HOSTS"] = ("127.0.0.1",)
    try:
        with demo_app.app_context():
            robot = db.session.scalar(db.select(routing.ChatRobot).where(routing.ChatRobot.name == DEMO_ROBOT_NAME))
            assert robot is not None and not robot.enabled and "shipment.dispatched" in routing.robot_events(robot.id)
            robot_id = robot.id
            with pytest.raises(robots.RobotError, match="placeholder"):  # refused before any network
                robots.send_test(robot)
            shipment_id, number = db.session.execute(db.select(Shipment.id, Shipment.number).where(
                Shipment.status == "packed").order_by(Shipment.id)).first()
        admin = demo_login(demo_app, "admin")
        response = admin.post(f"/admin/notifications/robots/{robot_id}", data={
            "name": DEMO_ROBOT_NAME, "kind": "wecom", "locale": "zh", "enabled": "y",
            "webhook_url": fake.url("/cgi-bin/webhook/send?key=demo-group")})
        assert response.status_code == 303
        warehouse = demo_login(demo_app, "liu.yang")
        response = warehouse.post(f"/shipping/{shipment_id}/dispatch", data={"note": ""})
        assert response.status_code == 303, text_of(response)[:500]
        assert len(fake.requests) == 1
        content = fake.bodies()[0]["markdown"]["content"]
        assert number in content and f"/shipping/{shipment_id}" in content
    finally:
        fake.close()


@BOTH
def test_every_message_to_a_customer_carries_the_contacts_phone(app, make_order):
    """The countersignature request, the acceptance request, dispatch, ETA and after-sales messages all
    address the customer through one rule (the requirement's contact first, else the customer's own),
    e-mail and phone alike: SMS needs the phone."""
    order_id = make_order("effective", customer="PHN")
    with app.app_context():
        from webapp.orders import Order
        order = db.session.get(Order, order_id)
        order.customer.contact_phone = "13900001111"
        recipient = notify.Recipient.customer_of(order)
        assert (recipient.email, recipient.phone) == (order.customer.contact_email, "13900001111")
        assert order.requirement is None  # made without one: the customer's own contact
        db.session.rollback()


def test_a_refused_test_message_reads_in_the_admins_language(app, as_user):
    """The admin presses "send a test message" on a robot still holding the demo's placeholder
    address: refused before any network, and the message says so in Chinese on the robot's page."""
    with app.app_context():
        robot = routing.ChatRobot(name="发货群", kind="wecom", locale="zh", enabled=False,
                                  webhook_url=f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={robots.PLACEHOLDER_KEY}")
        db.session.add(robot)
        db.session.commit()
        robot_id = robot.id
    admin = as_user("admin", locale="zh")
    response = admin.post(f"/admin/notifications/robots/{robot_id}/test")
    assert response.status_code == 303
    assert "这是演示用的占位地址" in text_of(admin.get(response.headers["Location"]))
