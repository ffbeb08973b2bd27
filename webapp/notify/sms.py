"""The SMS channel for customers: Alibaba Cloud SMS (阿里云短信服务), its SendSms operation.

Off unless SMS_PROVIDER = "aliyun" with the account's AccessKey, an approved sign name (签名) and an
approved template (模板) per event in SMS_TEMPLATES; Chinese carriers deliver only approved
templates, so the text is the template's and this channel fills in its variables: ${order},
${shipment}, ${ticket}, … (the numbers of the event's records) and ${date} (a new delivery date).

The documented request (RPC style, API version 2017-05-25): the common parameters (AccessKeyId,
Action=SendSms, Format=JSON, RegionId, SignatureMethod=HMAC-SHA1, SignatureNonce, SignatureVersion=1.0,
Timestamp in ISO 8601 UTC, Version) and the operation's (PhoneNumbers, SignName, TemplateCode,
TemplateParam as a JSON string), signed: sort them by name, percent-encode names and values (RFC 3986:
space %20, * %2A, ~ kept), join as a query string, StringToSign = METHOD&%2F&percentEncode(query),
Signature = base64(HMAC-SHA1(AccessKeySecret + "&", StringToSign)). It answers {"Code": "OK", …}.
Sent after the commit by the background worker; a failure the provider may get over (throttling, a
network error) is retried, a refusal of the request itself (isv.* codes) is logged and dropped.
"""
import base64
import hashlib
import hmac
import json
import logging
import re
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import date, datetime, timezone

from flask import current_app

from .. import background
from . import routing

log = logging.getLogger(__name__)
API_VERSION = "2017-05-25"
TIMEOUT_SECONDS = 10
# Alibaba Cloud limits a template variable's value (35 characters for most kinds).
MAX_PARAM_CHARS = 35
PHONE = re.compile(r"^\+?\d{6,20}$")
# Refusals that a retry does not cure, except throttling.
RETRYABLE_CODES = {"isv.BUSINESS_LIMIT_CONTROL", "isp.SYSTEM_ERROR", "Throttling", "ServiceUnavailable"}


class SmsError(Exception):
    """The provider could not be reached or refused the message."""


def configured() -> bool:
    """Whether SMS is switched on with what Alibaba Cloud needs."""
    config = current_app.config
    return config.get("SMS_PROVIDER") == "aliyun" and all(
        config.get(key) for key in ("ALIYUN_SMS_ACCESS_KEY_ID", "ALIYUN_SMS_ACCESS_KEY_SECRET", "ALIYUN_SMS_SIGN_NAME"))


def templates() -> dict[str, str]:
    """The approved template code of each event that goes out by SMS."""
    raw = current_app.config.get("SMS_TEMPLATES") or {}
    if isinstance(raw, str):  # from the environment: "shipment.dispatched=SMS_1,order.eta_changed=SMS_2"
        raw = dict(part.split("=", 1) for part in raw.split(",") if "=" in part)
    return {event.strip(): code.strip() for event, code in raw.items() if code and code.strip()}


def phone_number(value: str | None) -> str | None:
    """A phone number as the provider takes it (digits, a leading +), or None."""
    cleaned = re.sub(r"[\s\-()]", "", value or "")
    return cleaned if PHONE.match(cleaned) else None


def template_params(context: dict) -> dict[str, str]:
    """The template's variables: the number of each record of the event, and a new date."""
    params = {}
    for key, value in context.items():
        number = getattr(value, "number", None)
        if isinstance(number, str) and number:
            params[key] = number[:MAX_PARAM_CHARS]
        elif isinstance(value, date) and not isinstance(value, datetime):
            params["date"] = value.isoformat()
    return params


def sms_channel(event: str, recipients: list, context: dict, render) -> None:
    """notify()'s SMS channel: customers with a phone get the event's template, after the commit."""
    if not configured() or not routing.sms_on(event):
        return
    code = templates().get(event)
    if not code:
        return
    from . import after_commit
    params = template_params(context)
    for phone in dict.fromkeys(phone_number(r.phone) for r in recipients if getattr(r, "phone", None)):
        if phone:
            after_commit(deliver, phone, code, params)


def percent_encode(value: str) -> str:
    """Alibaba Cloud's percent-encoding (RFC 3986: A-Z a-z 0-9 - _ . ~ kept, space as %20)."""
    return urllib.parse.quote(value, safe="-_.~")


def signature(params: dict[str, str], secret: str, method: str = "POST") -> str:
    """The documented RPC signature of a request's parameters."""
    query = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()))
    to_sign = f"{method}&{percent_encode('/')}&{percent_encode(query)}"
    digest = hmac.new((secret + "&").encode("utf-8"), to_sign.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def request_params(phone: str, template_code: str, params: dict) -> dict[str, str]:
    """SendSms's parameters with their signature."""
    config = current_app.config
    fields = {
        "AccessKeyId": config["ALIYUN_SMS_ACCESS_KEY_ID"], "Action": "SendSms", "Format": "JSON",
        "RegionId": config.get("ALIYUN_SMS_REGION") or "cn-hangzhou",
        "SignatureMethod": "HMAC-SHA1", "SignatureNonce": uuid.uuid4().hex, "SignatureVersion": "1.0",
        "Timestamp": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "Version": API_VERSION,
        "PhoneNumbers": phone, "SignName": config["ALIYUN_SMS_SIGN_NAME"], "TemplateCode": template_code,
        "TemplateParam": json.dumps(params, ensure_ascii=False, separators=(",", ":")),
    }
    fields["Signature"] = signature(fields, config["ALIYUN_SMS_ACCESS_KEY_SECRET"])
    return fields


@background.task(retries=4, retry_delay=120, retry_backoff=2)
def deliver(phone: str, template_code: str, params: dict) -> None:
    """The background task: send one SMS (a failure that may pass raises, and the worker tries again)."""
    if not configured():
        return
    body = urllib.parse.urlencode(request_params(phone, template_code, params), quote_via=urllib.parse.quote)
    request = urllib.request.Request(current_app.config.get("ALIYUN_SMS_URL") or "https://dysmsapi.aliyuncs.com/",
                                     data=body.encode("ascii"), method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            answer = json.loads(response.read(65536).decode("utf-8"))
    except urllib.error.HTTPError as error:
        with error:  # it holds the connection; Alibaba Cloud answers refusals with a JSON body too
            try:
                answer = json.loads(error.read(65536).decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                raise SmsError(f"HTTP {error.code}") from None
    except (urllib.error.URLError, TimeoutError, OSError, ValueError, UnicodeDecodeError) as error:
        raise SmsError(f"unreachable or unreadable: {error}") from None
    code = answer.get("Code") if isinstance(answer, dict) else None
    if code == "OK":
        return
    if code in RETRYABLE_CODES:
        raise SmsError(f"{code}: {answer.get('Message')}")
    # The request itself was refused (a bad number, template or sign): retrying would not help.
    log.error("SMS to …%s with %s refused: %s %s", phone[-4:], template_code, code,
              answer.get("Message") if isinstance(answer, dict) else answer)
