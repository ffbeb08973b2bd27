"""Sending webhooks: signed, at least once, retried with backoff, every try recorded.

A delivery is tried at once after the commit that enqueued it (a background task), and after a
failure again on the schedule RETRY_DELAYS. What is due is found in the database by a sweep every
minute (a periodic task), so nothing depends on a task surviving in the queue: a worker that
restarts, or a receiver that was down for a day, loses nothing. A try first claims the delivery
(moves its next_attempt_at forward by LEASE in one UPDATE), so two workers never send it at once;
a worker that dies mid-try leaves the claim to expire and the sweep tries again.

Signature (Standard Webhooks, https://www.standardwebhooks.com): the headers webhook-id (the
event's id, the same on every try), webhook-timestamp (Unix seconds of this try) and
webhook-signature = "v1," + base64(HMAC-SHA256(key, "<id>.<timestamp>.<body>")), key being the
base64-decoded part of the endpoint's secret after "whsec_". docs/webhooks.md shows how to check it.
"""
import base64
import hashlib
import hmac
import http.client
import logging
import socket
import ssl
import time
from datetime import timedelta

from cryptography.fernet import InvalidToken
from sqlalchemy import select, update

from .. import background
from ..extensions import db
from ..statemachine import N_
from ..wallclock import utcnow
from . import keys, targets
from .events import PENDING_KEY, pending_delivery_ids
from .models import WebhookDelivery, WebhookEndpoint, WebhookEvent

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10
# After the 1st, 2nd... failure, wait this long; the last delay repeats until GIVE_UP_AFTER_TRIES.
# 1 min, 5 min, 30 min, 2 h, 6 h, then every 6 h: a receiver down for up to three days gets
# everything within six hours of coming back (and at once, when another delivery to it succeeds).
RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
                timedelta(hours=6))
GIVE_UP_AFTER_TRIES = 16  # about 3 days after the first failure
LEASE = timedelta(minutes=2)  # longer than one try can take
SWEEP_BATCH = 200
SWEEP_BUDGET_SECONDS = 50  # the sweep runs every minute
ANSWER_KEPT = 1000  # characters of the receiver's answer kept for the admin page
USER_AGENT = "order-tracker-webhooks/1"


def retry_delay(failed_tries: int) -> timedelta | None:
    """How long to wait after so many failures in a row; None: give up."""
    if failed_tries >= GIVE_UP_AFTER_TRIES:
        return None
    return RETRY_DELAYS[min(failed_tries, len(RETRY_DELAYS)) - 1]


def sign(secret: str, event_id: str, timestamp: int, body: bytes) -> str:
    """The webhook-signature header's value for this body."""
    signed = f"{event_id}.{timestamp}.".encode() + body
    digest = hmac.new(keys.key_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection to the address that was checked, whatever the host resolves to now."""

    def __init__(self, target: targets.Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self):
        """Connect to the checked address."""
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """An HTTPS connection to the checked address, verifying the certificate for the host name."""

    def __init__(self, target: targets.Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout, context=ssl.create_default_context())
        self._address = target.address

    def connect(self):
        """Connect to the checked address, then TLS with the URL's host name."""
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url: str, allow_private: bool, headers: dict, body: bytes) -> tuple[int | None, str, str]:
    """POST body to url (checked again, never following a redirect): (HTTP status or None, the
    answer's start, an error or "")."""
    try:
        target = targets.check(url, allow_private)
    except targets.TargetRefused as refused:
        return None, "", refused.message
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(target, TIMEOUT_SECONDS)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        answer = response.read(ANSWER_KEPT * 4).decode("utf-8", "replace")[:ANSWER_KEPT]
        return response.status, answer, ""
    except (OSError, http.client.HTTPException, ssl.SSLError) as error:
        return None, "", (type(error).__name__ + ": " + str(error))[:300]
    finally:
        connection.close()


def _begin_write() -> None:
    """End whatever the session was reading and begin a write transaction (on SQLite with the write
    lock at once: a read that turns into a write fails when another writer committed meanwhile)."""
    db.session.commit()
    db.session.connection(execution_options={"begin_immediate": True})


def attempt(delivery_id: int) -> str | None:
    """Try one delivery if it is pending and due (claiming it first); its new status, or None when
    it was not due, already delivered or claimed by another worker. Commits."""
    _begin_write()
    now = utcnow()
    claimed = db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.status == "pending",
               WebhookDelivery.next_attempt_at <= now)
        .values(next_attempt_at=now + LEASE)).rowcount
    db.session.commit()
    if not claimed:
        return None
    delivery = db.session.get(WebhookDelivery, delivery_id)
    endpoint, event = delivery.endpoint, delivery.event
    if not endpoint.active:  # disabled meanwhile: it waits, untried, until enabled again
        db.session.rollback()
        _begin_write()
        db.session.execute(update(WebhookDelivery).where(WebhookDelivery.id == delivery_id)
                           .values(next_attempt_at=now))
        db.session.commit()
        return None
    url, allow_private, event_id, body = endpoint.url, endpoint.allow_private, event.uuid, event.payload.encode()
    try:
        secret = keys.unseal(endpoint.secret_encrypted)
    except InvalidToken:  # sealed under another SECRET_KEY: nothing can be signed until it is renewed
        db.session.rollback()
        return record(delivery_id, None, "",
                      N_("The endpoint's secret cannot be read (SECRET_KEY changed?): give it a new secret."))
    db.session.rollback()  # no transaction stays open while the receiver answers
    timestamp = int(now.timestamp())
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, "webhook-id": event_id,
               "webhook-timestamp": str(timestamp), "webhook-signature": sign(secret, event_id, timestamp, body)}
    status, answer, error = post(url, allow_private, headers, body)
    return record(delivery_id, status, answer, error)


def record(delivery_id: int, status: int | None, answer: str, error: str) -> str:
    """Write down a try's outcome and when to try again; commits."""
    _begin_write()
    now = utcnow()
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None:  # its endpoint was deleted while the receiver answered
        db.session.rollback()
        return "gone"
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.last_status_code, delivery.last_response = status, answer
    if status is not None and 200 <= status < 300:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = "delivered", now, None
        delivery.last_error, delivery.failed_tries = "", 0
        # The receiver is back: what waits for it in backoff goes at the next sweep, not hours later.
        db.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == delivery.endpoint_id, WebhookDelivery.status == "pending",
                   WebhookDelivery.failed_tries > 0, WebhookDelivery.next_attempt_at > now + LEASE)
            .values(next_attempt_at=now))
    else:
        delivery.last_error = error or f"HTTP {status}"
        delivery.failed_tries += 1
        delay = retry_delay(delivery.failed_tries)
        if delay is None:
            delivery.status, delivery.next_attempt_at = "failed", None
        else:
            delivery.next_attempt_at = now + delay
    result = delivery.status
    db.session.commit()
    return result


def due_ids(limit: int = SWEEP_BATCH) -> list[int]:
    """The pending deliveries due now to active endpoints, oldest due first."""
    return db.session.scalars(
        select(WebhookDelivery.id).join(WebhookEndpoint)
        .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= utcnow(),
               WebhookEndpoint.active.is_(True))
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id).limit(limit)).all()


def sweep() -> int:
    """Try every due delivery (within the time budget); return how many were tried."""
    started, tried = time.monotonic(), 0
    for delivery_id in due_ids():
        if time.monotonic() - started > SWEEP_BUDGET_SECONDS:
            break
        if attempt(delivery_id) is not None:
            tried += 1
    return tried


@background.task()
def deliver(delivery_id: int) -> None:
    """The background task: try one delivery now (a failure is rescheduled in the database)."""
    attempt(delivery_id)


@background.periodic(background.crontab())  # every minute
def sweep_due_deliveries() -> None:
    """The worker tries what is due: retries, and deliveries whose first task was lost."""
    tried = sweep()
    if tried:
        log.info("tried %s webhook deliveries", tried)


def resend(delivery: WebhookDelivery) -> None:
    """Send a delivery again as soon as the request commits (a new round of the retry schedule)."""
    delivery.status, delivery.next_attempt_at, delivery.failed_tries = "pending", utcnow(), 0
    db.session.info.setdefault(PENDING_KEY, []).append(delivery)


def flush() -> None:
    """After the commit: hand the deliveries the transaction enqueued to the worker."""
    for delivery_id in pending_delivery_ids(db.session):
        try:
            deliver.enqueue(delivery_id)
        except Exception:  # the change is committed; the sweep sends it within a minute
            log.exception("could not queue webhook delivery %s", delivery_id)


def discard() -> None:
    """The transaction was rolled back: nothing to send."""
    db.session.info.pop(PENDING_KEY, None)


