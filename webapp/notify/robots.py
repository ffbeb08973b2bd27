"""The group robot channel: WeChat Work (企业微信) and DingTalk (钉钉) custom group robots.

A robot posts ONE message per event into its group, whatever the number of recipients, rendered by
the event's own message in the robot's language (notify.MESSAGES). Links in that message are the
customer's own capabilities (sign for a delivery, the order page): a group chat and the chat
provider must not hold them, so they are replaced by a note, and the staff page of the shipment,
order, ticket or requirement is added instead.

The documented webhook formats:
- WeCom: POST https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY with
  {"msgtype": "markdown", "markdown": {"content": …}}, content at most 4096 bytes of UTF-8;
- DingTalk: POST https://oapi.dingtalk.com/robot/send?access_token=TOKEN[&timestamp=…&sign=…] with
  {"msgtype": "markdown", "markdown": {"title": …, "text": …}}; with 加签, timestamp is the time in
  ms and sign = urlencode(base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}"))).
Both answer {"errcode": 0, "errmsg": "ok"}; another errcode or an HTTP error is a failure, retried by
the background worker with backoff after the commit, and recorded on the robot.
"""
import base64
import hashlib
import hmac
import json
import logging
import re
import time
import urllib.error
import urllib.parse
import urllib.request

from flask import current_app, g, has_request_context, request
from flask_babel import force_locale
from flask_babel import gettext as _
from werkzeug.routing import BuildError

from .. import background
from ..extensions import db
from ..statemachine import N_
from ..wallclock import utcnow
from . import routing

log = logging.getLogger(__name__)

DOCUMENTED_HOSTS = {"wecom": ("qyapi.weixin.qq.com", "/cgi-bin/webhook/send", "key"),
                    "dingtalk": ("oapi.dingtalk.com", "/robot/send", "access_token")}
# WeCom's documented limit for markdown content; DingTalk's markdown is kept to the same size.
MAX_CONTENT_BYTES = 4096
POST_TIMEOUT_SECONDS = 10
# A post that fails is tried again after 1, 2, 4, 8, 16 and 32 minutes (about an hour in all).
POST_RETRIES = 6
POST_RETRY_DELAY_SECONDS = 60
POST_RETRY_BACKOFF = 2

# The staff page worth linking from a group message: the first of these the event's context has.
STAFF_PAGES = (("shipment", "shipping.detail", "shipment_id"), ("ticket", "aftersales.ticket", "ticket_id"),
               ("order", "orders.detail", "order_id"), ("requirement", "requirements.detail", "req_id"))
URL = re.compile(r"https?://\S+")
# The demo's example robot carries this instead of a group's key: it is never posted to.
PLACEHOLDER_KEY = "YOUR-ROBOT-KEY"


class RobotError(Exception):
    """A robot refused a message or could not be reached (the text says how, without the key)."""


class NoRedirects(urllib.request.HTTPRedirectHandler):
    """A webhook that answers with a redirect has failed: the message is not sent on elsewhere."""

    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirects)


# --- addresses ---------------------------------------------------------------------------------------

def url_problem(kind: str, url: str) -> str | None:
    """Why a webhook address cannot be used for a robot of this kind (translated), or None."""
    try:
        parts = urllib.parse.urlsplit((url or "").strip())
        parts.port  # a port out of range (":99999") or not a number raises here
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        return _("Enter the robot's full webhook address, starting with https://.")
    host, path, key = DOCUMENTED_HOSTS[kind]
    extra = current_app.config.get("CHAT_ROBOT_EXTRA_HOSTS") or ()
    if isinstance(extra, str):  # from the environment
        extra = extra.split(",")
    extra = {h.strip().lower() for h in extra if h.strip()}
    local = parts.hostname.lower() in extra
    documented = f"https://{host}{path}?{key}=…"
    if not local and (parts.hostname.lower() != host or parts.scheme != "https" or parts.port not in (None, 443)):
        return _("A robot of this kind posts only to %(address)s (copy the address from the group's robot settings).",
                 address=documented)
    if not local and parts.path != path:
        return _("A robot of this kind posts only to %(address)s (copy the address from the group's robot settings).",
                 address=documented)
    if not urllib.parse.parse_qs(parts.query).get(key) or PLACEHOLDER_KEY in parts.query:
        return _("The address lacks the robot's %(key)s: copy the whole address from the group's robot settings.",
                 key=key)
    return None


def signed_url(url: str, secret: str, timestamp_ms: int | None = None) -> str:
    """A DingTalk address with its 加签 timestamp and sign (the address itself without a secret)."""
    if not secret:
        return url
    timestamp = str(timestamp_ms if timestamp_ms is not None else int(time.time() * 1000))
    return url + ("&" if "?" in url else "?") + urllib.parse.urlencode(
        {"timestamp": timestamp, "sign": dingtalk_sign(secret, timestamp)})


def dingtalk_sign(secret: str, timestamp: str) -> str:
    """DingTalk's documented signature: base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}"))
    (urlencode() quotes it once, as the documentation's urlencode step)."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}\n{secret}".encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


# --- message bodies --------------------------------------------------------------------------------------

def clip(text: str, limit: int = MAX_CONTENT_BYTES) -> str:
    """Text cut to at most limit bytes of UTF-8, on a character boundary, marked with … when cut."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[:limit - len("…".encode("utf-8"))].decode("utf-8", errors="ignore") + "…"


def markdown(title: str, body: str, link: str | None) -> str:
    """The message as markdown both robots read: the title in bold, the body, the staff page."""
    text = f"**{title}**\n\n{body.strip()}"
    if link:
        label = _("Open in the tracker")
        text += "\n\n" + f"[{label}]({link})"
    return text


def wecom_body(title: str, body: str, link: str | None = None) -> dict:
    """A WeCom robot's markdown message (content at most 4096 bytes)."""
    return {"msgtype": "markdown", "markdown": {"content": clip(markdown(title, body, link))}}


def dingtalk_body(title: str, body: str, link: str | None = None) -> dict:
    """A DingTalk robot's markdown message (the title shows in the chat list)."""
    return {"msgtype": "markdown", "markdown": {"title": clip(title, 200), "text": clip(markdown(title, body, link))}}


def body_for(kind: str, title: str, body: str, link: str | None = None) -> dict:
    """The robot kind's message body."""
    return (wecom_body if kind == "wecom" else dingtalk_body)(title, body, link)


def staff_link(context: dict) -> str | None:
    """The tracker page of what the event is about (for staff: they log in), or None."""
    base = current_app.config.get("PUBLIC_URL") or (request.host_url if has_request_context() else "")
    if not base:
        return None
    for key, endpoint, argument in STAFF_PAGES:
        thing = context.get(key)
        if getattr(thing, "id", None) is None:
            continue
        try:  # from the URL map itself: the worker has no request to build URLs from
            path = current_app.url_map.bind("tracker").build(endpoint, {argument: thing.id})
        except BuildError:  # an app without that page
            continue
        return base.rstrip("/") + path
    return None


def without_customer_links(body: str) -> str:
    """The message with the customer's own links replaced by a note."""
    return URL.sub(_("(the customer's own link, not posted to the group)"), body)


# --- the channel ------------------------------------------------------------------------------------------

def robot_channel(event: str, recipients: list, context: dict, render) -> None:
    """notify()'s robot channel: each enabled robot that posts this event gets one message, in its
    language, queued to leave after the commit."""
    robots = routing.robots_for(event)
    if not robots:
        return
    from . import Recipient, after_commit
    posted = g.setdefault("robot_posts", set())
    for robot in robots:
        notice = render(Recipient(email=None, locale=robot.locale or "zh"))
        with force_locale(robot.locale or "zh"):
            text = without_customer_links(notice.body)
            customer = getattr(context.get("order"), "customer", None)
            if customer is not None:  # the group is staff: whose order it is comes first
                text = _("Customer: %(name)s", name=customer.name) + "\n\n" + text
            body = body_for(robot.kind, notice.subject, text, staff_link(context))
        once = (robot.id, json.dumps(body, sort_keys=True))
        if once in posted:  # the same event announced twice in one request (to two recipients in turn)
            continue
        posted.add(once)
        after_commit(deliver, robot.id, body)


@background.task(retries=POST_RETRIES, retry_delay=POST_RETRY_DELAY_SECONDS, retry_backoff=POST_RETRY_BACKOFF)
def deliver(robot_id: int, body: dict) -> None:
    """The background task: post one message to a robot, recording the outcome on it (a failure raises,
    and the worker tries again later). A robot deleted or switched off meanwhile posts nothing."""
    robot = db.session.get(routing.ChatRobot, robot_id)
    if robot is None or not robot.enabled:
        return
    try:
        post(robot.kind, robot.webhook_url, robot.secret, body)
    except RobotError as error:
        robot.last_failed_at, robot.last_error = utcnow(), str(error)[:300]
        db.session.commit()
        log.warning("robot %s (%s) could not post: %s", robot.id, robot.name, error)
        raise
    robot.last_sent_at, robot.last_error = utcnow(), ""
    db.session.commit()


def post(kind: str, url: str, secret: str, body: dict) -> dict:
    """Post a message to a robot's webhook now; its answer, or RobotError."""
    if PLACEHOLDER_KEY in url:  # the demo's example: no group behind it
        raise RobotError(N_("The address is the demo's placeholder: paste the group's own address."))
    target = signed_url(url, secret) if kind == "dingtalk" else url
    request = urllib.request.Request(target, data=json.dumps(body, ensure_ascii=False).encode("utf-8"),
                                     headers={"Content-Type": "application/json; charset=utf-8"}, method="POST")
    try:
        with OPENER.open(request, timeout=POST_TIMEOUT_SECONDS) as response:
            raw = response.read(65536)
    except urllib.error.HTTPError as error:
        error.close()  # it holds the connection
        raise RobotError(f"HTTP {error.code}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        raise RobotError(f"unreachable: {getattr(error, 'reason', error)}") from None
    try:
        answer = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise RobotError(N_("The robot's answer was not JSON.")) from None
    if not isinstance(answer, dict) or answer.get("errcode") != 0:
        code = answer.get("errcode") if isinstance(answer, dict) else None
        message = answer.get("errmsg") if isinstance(answer, dict) else None
        raise RobotError(f"errcode {code}: {str(message)[:200]}")
    return answer


def send_test(robot) -> None:
    """Post a test message to a robot now (the admin's button); RobotError if it is refused."""
    with force_locale(robot.locale or "zh"):
        title = _("Test message from the order tracker")
        text = _("This group will receive the events ticked for the robot %(name)s.", name=robot.name)
        body = body_for(robot.kind, title, text)
    post(robot.kind, robot.webhook_url, robot.secret, body)
