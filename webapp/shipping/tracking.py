"""Carrier tracking: a small adapter interface for carriers whose tracking can be queried, one adapter
shaped like 快递100 (Kuaidi100)'s real-time query API, and the worker's poll of shipments on the way.

Manual updates (the courier's link, staff) stay the default: an adapter works only when the firm's
account with the service is configured (KUAIDI100_KEY and KUAIDI100_CUSTOMER, webapp/config.py), and
only for shipments whose carrier has a code the adapter knows. The carrier is picked by a code string
("SF", "ZTO"): the code of the shipment's carrier record (the firm's list of carriers), else read from
the free-text carrier of a shipment made before carriers were records.

快递100's query: POST application/x-www-form-urlencoded with customer, param (JSON {"com", "num"})
and sign = MD5(param + key + customer), upper-case hex; the answer is JSON with status "200" and
data [{time, ftime, context, status, location}], newest first, or {result: false, returnCode,
message} when it cannot answer.
"""
import hashlib
import json
import logging
import socket
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from flask import current_app

from .. import background
from ..extensions import db
from . import transit
from .models import Shipment

log = logging.getLogger(__name__)

# Carrier codes the firm writes (or the carriers list will hold) → names a free-text carrier may use.
CARRIER_NAMES = {
    "SF": ("顺丰", "SF EXPRESS", "SHUNFENG"),
    "ZTO": ("中通", "ZTO EXPRESS", "ZHONGTONG"),
    "YTO": ("圆通", "YTO EXPRESS", "YUANTONG"),
    "STO": ("申通", "STO EXPRESS", "SHENTONG"),
    "YD": ("韵达", "YUNDA"),
    "JD": ("京东", "JD LOGISTICS", "JINGDONG"),
    "EMS": ("邮政", "EMS", "CHINA POST"),
    "DBL": ("德邦", "DEPPON"),
    "JT": ("极兔", "J&T"),
}
CHINA = ZoneInfo("Asia/Shanghai")  # the times 快递100 gives are China's, without a zone


def carrier_code(carrier: str) -> str | None:
    """The carrier code a free-text carrier names ("顺丰速运" → "SF", "sf" → "SF"), or None."""
    text = " ".join((carrier or "").split()).upper()
    if not text:
        return None
    if text in CARRIER_NAMES:
        return text
    for code, names in CARRIER_NAMES.items():
        if text.startswith(code + " ") or any(name in text for name in names):
            return code
    return None


@dataclass(frozen=True)
class CarrierEvent:
    """One event as a carrier's tracking service tells it."""

    occurred_at: datetime  # aware, UTC
    kind: str  # models.EVENT_KINDS
    place: str
    text: str

    @property
    def key(self) -> str:
        """What makes it the same event when it is polled again: its time and its words."""
        digest = hashlib.sha256(f"{self.occurred_at.isoformat()}|{self.text}".encode()).hexdigest()
        return "carrier:" + digest[:40]


class TrackingError(Exception):
    """The tracking service could not answer (its error, a timeout, an answer we cannot read)."""


class TrackingAdapter(Protocol):
    """A carrier tracking service."""

    name: str

    def configured(self) -> bool:
        """Whether the firm's account is set up (else the adapter is off)."""

    def supports(self, code: str) -> bool:
        """Whether the service tracks the carrier with this code."""

    def query(self, code: str, number: str) -> list[CarrierEvent]:
        """The carrier's events for a tracking number, oldest first (TrackingError if it cannot say)."""


# Kuaidi100's company codes, and its words for where a parcel stands (its `status` per event).
KUAIDI100_COMPANIES = {"SF": "shunfeng", "ZTO": "zhongtong", "YTO": "yuantong", "STO": "shentong",
                       "YD": "yunda", "JD": "jd", "EMS": "ems", "DBL": "debangwuliu", "JT": "jtexpress"}
KUAIDI100_KINDS = {"揽收": "picked_up", "在途": "in_transit", "派件": "in_transit", "转投": "in_transit",
                   "清关": "in_transit", "签收": "delivered", "疑难": "attempt_failed", "拒签": "attempt_failed",
                   "退签": "attempt_failed", "退回": "attempt_failed"}


class Kuaidi100:
    """快递100's real-time query (实时快递查询)."""

    name = "kuaidi100"

    def __init__(self, url: str, key: str | None, customer: str | None, timeout: float):
        self.url, self.key, self.customer, self.timeout = url, key or "", customer or "", timeout

    @classmethod
    def from_config(cls, config) -> "Kuaidi100":
        """The adapter with the firm's account from the app's configuration."""
        return cls(config.get("KUAIDI100_URL") or "", config.get("KUAIDI100_KEY"),
                   config.get("KUAIDI100_CUSTOMER"), float(config.get("TRACKING_TIMEOUT_SECONDS") or 10))

    def configured(self) -> bool:
        """Key, customer id and URL are all set."""
        return bool(self.url and self.key and self.customer)

    def supports(self, code: str) -> bool:
        """Kuaidi100 knows the carrier code."""
        return code in KUAIDI100_COMPANIES

    def sign(self, param: str) -> str:
        """MD5(param + key + customer), upper-case hex."""
        return hashlib.md5((param + self.key + self.customer).encode()).hexdigest().upper()

    def query(self, code: str, number: str) -> list[CarrierEvent]:
        """Ask for a tracking number's events (oldest first); TrackingError on any failure."""
        param = json.dumps({"com": KUAIDI100_COMPANIES[code], "num": number, "resultv2": "1"},
                           ensure_ascii=False, separators=(",", ":"))
        body = urllib.parse.urlencode({"customer": self.customer, "sign": self.sign(param), "param": param}).encode()
        request = urllib.request.Request(self.url, data=body, method="POST",
                                         headers={"Content-Type": "application/x-www-form-urlencoded"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (configured URL)
                raw = response.read(2_000_000)
        except urllib.error.HTTPError as error:
            raise TrackingError(f"HTTP {error.code}") from error
        except (urllib.error.URLError, socket.timeout, TimeoutError, OSError) as error:
            raise TrackingError(f"no answer: {error}") from error
        try:
            answer = json.loads(raw)
        except ValueError as error:
            raise TrackingError("an answer that is not JSON") from error
        if not isinstance(answer, dict):
            raise TrackingError("an answer that is not a JSON object")
        if answer.get("result") is False or str(answer.get("status", "")) != "200":
            raise TrackingError(f"{answer.get('returnCode', answer.get('status', '?'))}: {answer.get('message', '')}")
        return sorted((self._event(item) for item in answer.get("data") or [] if isinstance(item, dict)),
                      key=lambda e: e.occurred_at)

    @staticmethod
    def _event(item: dict) -> CarrierEvent:
        stamp = str(item.get("ftime") or item.get("time") or "")
        try:
            occurred = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA)
        except ValueError as error:
            raise TrackingError(f"an event time we cannot read: {stamp[:40]!r}") from error
        return CarrierEvent(occurred_at=occurred.astimezone(ZoneInfo("UTC")),
                            kind=KUAIDI100_KINDS.get(str(item.get("status") or ""), "in_transit"),
                            place=str(item.get("location") or item.get("areaName") or "")[:200],
                            text=str(item.get("context") or "")[:2000])


def adapters() -> list:
    """The tracking adapters the firm configured (none by default: manual updates)."""
    found = [Kuaidi100.from_config(current_app.config)]
    return [adapter for adapter in found if adapter.configured()]


def shipment_carrier_code(shipment: Shipment) -> str | None:
    """The code of the carrier a shipment goes with: the firm's carrier record's (its list of carriers),
    else read from the typed carrier name of a shipment made before carriers were records."""
    row = shipment.carrier_row
    if row is not None and row.code:
        return row.code.upper()
    return carrier_code(shipment.carrier)


def adapter_for(shipment: Shipment):
    """The configured adapter that tracks this shipment's carrier, or None."""
    code = shipment_carrier_code(shipment)
    if code is None or not shipment.tracking_no:
        return None
    return next((adapter for adapter in adapters() if adapter.supports(code)), None)


def poll_shipment(shipment: Shipment, adapter) -> int:
    """Ask the carrier about one shipment and store its events not stored yet; how many were new."""
    found = adapter.query(shipment_carrier_code(shipment), shipment.tracking_no)
    new = 0
    for item in found:
        _event, created = transit.add_event(shipment, item.kind, "carrier", occurred_at=item.occurred_at,
                                            reason="other" if item.kind == "attempt_failed" else "",
                                            place=item.place, note=item.text, dedupe_key=item.key)
        new += created
    return new


def poll_in_transit() -> dict:
    """Poll every shipment on the way whose carrier has a configured adapter, committing each on its
    own: one carrier's error or timeout leaves the others' events stored. {"new": n, "failed": n}."""
    if not adapters():
        return {"new": 0, "failed": 0}
    ids = db.session.scalars(db.select(Shipment.id).where(Shipment.status == "dispatched", Shipment.tracking_no != "")
                             .order_by(Shipment.id)).all()
    new = failed = 0
    for shipment_id in ids:
        shipment = db.session.get(Shipment, shipment_id)
        adapter = adapter_for(shipment)
        if adapter is None:
            continue
        try:
            new += poll_shipment(shipment, adapter)
            db.session.commit()
        except TrackingError as error:
            db.session.rollback()
            failed += 1
            log.warning("tracking %s (%s): %s", shipment.number, adapter.name, error)
    return {"new": new, "failed": failed}


@background.periodic(background.crontab(minute="*/30"))
def poll_carriers() -> None:
    """The worker asks the carriers' tracking services about shipments on the way, every half hour."""
    result = poll_in_transit()
    db.session.commit()
    log.info("carrier tracking: %(new)s new events, %(failed)s shipments not answered", result)
