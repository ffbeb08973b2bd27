"""Staff sign-in through WeChat Work (企业微信) or DingTalk (钉钉): their documented OAuth flows, and
the admin's links between a person and their account there (docs/sign_in.md).

The flow: the login page's button leads to the provider's authorize page with a random `state` kept
in this browser's session (single use, expiring in minutes); the provider sends the browser back
with a one-time code; the server exchanges the code for the account's id at the provider's API
(outside any write transaction: a slow provider never holds the database) and the person linked to
that id by an admin is signed in with the same device session as a password login. Nobody is made
from a provider's answer: an id nobody linked signs nobody in.

WeCom (企业内部自建应用, 企业微信 Web 登录): authorize at
``login.work.weixin.qq.com/wwlogin/sso/login?login_type=CorpApp&appid&agentid&redirect_uri&state``
(inside the WeCom app: ``open.weixin.qq.com/connect/oauth2/authorize ... #wechat_redirect``), back
with ``code`` and ``state``; ``GET qyapi.weixin.qq.com/cgi-bin/gettoken?corpid&corpsecret`` gives the
app's access_token (kept until shortly before it expires), ``GET /cgi-bin/auth/getuserinfo?
access_token&code`` the member's ``userid``.

DingTalk (企业内部应用, 登录第三方网站): authorize at ``login.dingtalk.com/oauth2/auth?redirect_uri
&response_type=code&client_id&scope=openid&state&prompt=consent``, back with ``authCode`` (or
``error``) and ``state``; ``POST api.dingtalk.com/v1.0/oauth2/userAccessToken`` {clientId,
clientSecret, code, grantType: authorization_code} gives the user's accessToken, and ``GET
/v1.0/contact/users/me`` with header ``x-acs-dingtalk-access-token`` their ``unionId``.
"""
import hashlib
import json
import re
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l

from .. import audit
from ..extensions import db
from ..wallclock import utcnow
from .models import EXTERNAL_PROVIDERS, ExternalIdentity, User

PROVIDER_LABELS = {"wecom": _l("WeCom"), "dingtalk": _l("DingTalk")}
# What the provider calls the id an admin types in (shown beside the field).
ID_LABELS = {"wecom": _l("WeCom userid"), "dingtalk": _l("DingTalk unionId")}
# A WeCom userid is 1–64 letters, digits and _-@. ; a DingTalk unionId is letters and digits. One rule
# for both keeps typing mistakes (spaces, a pasted line break) out without refusing a real id.
EXTERNAL_ID = re.compile(r"[A-Za-z0-9_.@+=\-]{1,128}\Z")
# WeCom's answers when the app's access_token is no longer good: fetch a new one and ask again.
WECOM_TOKEN_ERRORS = {40014, 42001}


class ProviderError(Exception):
    """The provider could not say who this is. status: 400 the provider refused (a bad or used code),
    502 its answer made no sense, 503 it could not be reached in time."""

    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status, self.detail = status, detail


@dataclass(frozen=True)
class Provider:
    """One configured sign-in provider."""

    name: str

    @property
    def label(self):
        """The provider's name in the interface language."""
        return PROVIDER_LABELS[self.name]


def _config(key: str):
    """One of the app's settings."""
    return current_app.config.get(key)


def is_configured(name: str) -> bool:
    """Whether the deployment set the provider's app up (ids and secret in config)."""
    if name == "wecom":
        return bool(_config("WECOM_CORP_ID") and _config("WECOM_AGENT_ID") and _config("WECOM_SECRET"))
    if name == "dingtalk":
        return bool(_config("DINGTALK_CLIENT_ID") and _config("DINGTALK_CLIENT_SECRET"))
    return False


def configured(user_agent: str = "") -> list[Provider]:
    """The configured providers, the one whose app this browser is inside first (its button is the
    one the person means to press): WeCom's in-app browser says "wxwork", DingTalk's "DingTalk"."""
    found = [Provider(name) for name in EXTERNAL_PROVIDERS if is_configured(name)]
    inside = in_app_of(user_agent)
    return sorted(found, key=lambda provider: provider.name != inside)


def in_app_of(user_agent: str) -> str | None:
    """The provider whose in-app browser sent this user agent, if any."""
    agent = (user_agent or "").lower()
    if "wxwork" in agent:
        return "wecom"
    if "dingtalk" in agent:
        return "dingtalk"
    return None


def authorize_url(name: str, redirect_uri: str, state: str, user_agent: str = "", lang: str = "zh") -> str:
    """Where the browser goes to sign in at the provider."""
    if name == "wecom":
        if in_app_of(user_agent) == "wecom":
            # Inside the WeCom app the member is known already: its OAuth link signs in without a scan.
            query = urllib.parse.urlencode({
                "appid": _config("WECOM_CORP_ID"), "redirect_uri": redirect_uri, "response_type": "code",
                "scope": "snsapi_base", "state": state, "agentid": _config("WECOM_AGENT_ID")})
            return f"{_config('WECOM_OAUTH_URL')}?{query}#wechat_redirect"
        query = urllib.parse.urlencode({
            "login_type": "CorpApp", "appid": _config("WECOM_CORP_ID"), "agentid": _config("WECOM_AGENT_ID"),
            "redirect_uri": redirect_uri, "state": state, "lang": "zh" if lang == "zh" else "en"})
        return f"{_config('WECOM_LOGIN_URL')}?{query}"
    query = urllib.parse.urlencode({
        "redirect_uri": redirect_uri, "response_type": "code", "client_id": _config("DINGTALK_CLIENT_ID"),
        "scope": "openid", "state": state, "prompt": "consent"})
    return f"{_config('DINGTALK_LOGIN_URL')}?{query}"


def code_of(name: str, args) -> str | None:
    """The one-time code in the provider's redirect back (DingTalk names it authCode)."""
    if name == "dingtalk":
        return args.get("authCode") or args.get("code")
    return args.get("code")


def account_id(name: str, code: str) -> str:
    """Exchange the code for the account's id at the provider (WeCom userid, DingTalk unionId)."""
    return _wecom_userid(code) if name == "wecom" else _dingtalk_union_id(code)


# --- talking to the providers ------------------------------------------------------------------------

def _call(url: str, *, body: dict | None = None, headers: dict | None = None) -> tuple[int, dict]:
    """One JSON request; (HTTP status, parsed answer). Unreachable or slow: 503; not JSON: 502."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if body is not None else "GET",
                                     headers={"Accept": "application/json", **(headers or {}),
                                              **({"Content-Type": "application/json"} if data else {})})
    timeout = float(_config("EXTERNAL_LOGIN_TIMEOUT_SECONDS"))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (configured URL)
            status, raw = response.status, response.read(256 * 1024)
    except urllib.error.HTTPError as error:  # 4xx/5xx: DingTalk says why in a JSON body
        status, raw = error.code, error.read(256 * 1024)
    except (urllib.error.URLError, socket.timeout, TimeoutError, OSError) as error:
        raise ProviderError(503, f"unreachable: {error}") from error
    try:
        answer = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise ProviderError(502, f"HTTP {status}, not JSON") from error
    if not isinstance(answer, dict):
        raise ProviderError(502, f"HTTP {status}, not a JSON object")
    if status >= 500:
        raise ProviderError(502, f"HTTP {status}: {str(answer)[:200]}")
    return status, answer


# The WeCom app's access_token, per app (API base, corp id, secret), until a few minutes before it
# expires: WeCom asks apps to keep it rather than fetch one per call (gettoken is rate limited).
_wecom_tokens: dict[str, tuple[str, float]] = {}
_wecom_lock = threading.Lock()


def _wecom_key() -> str:
    """Which WeCom app a cached token is for (the secret only as a hash)."""
    secret = hashlib.sha256(str(_config("WECOM_SECRET")).encode()).hexdigest()
    return f"{_config('WECOM_API_URL')}|{_config('WECOM_CORP_ID')}|{secret}"


def _wecom_token(fresh: bool = False) -> str:
    """The WeCom app's access_token, from the cache unless fresh or expired."""
    key = _wecom_key()
    with _wecom_lock:
        cached = _wecom_tokens.get(key)
        if cached and not fresh and cached[1] > time.monotonic():
            return cached[0]
        query = urllib.parse.urlencode({"corpid": _config("WECOM_CORP_ID"), "corpsecret": _config("WECOM_SECRET")})
        _status, answer = _call(f"{_config('WECOM_API_URL')}/cgi-bin/gettoken?{query}")
        token = answer.get("access_token")
        if answer.get("errcode", 0) != 0 or not isinstance(token, str) or not token:
            # A wrong corp id or secret is the deployment's mistake, not the person's: the provider
            # answered, but not with anything we can use.
            raise ProviderError(502, f"gettoken errcode {answer.get('errcode')}: {answer.get('errmsg')}")
        lifetime = answer.get("expires_in") if isinstance(answer.get("expires_in"), int) else 7200
        _wecom_tokens[key] = (token, time.monotonic() + max(60, lifetime - 300))
        return token


def forget_tokens() -> None:
    """Drop the cached WeCom access_tokens (tests, a changed secret)."""
    with _wecom_lock:
        _wecom_tokens.clear()


def _wecom_userid(code: str) -> str:
    """WeCom: the member's userid for a login code (the app's token renewed once if WeCom says so)."""
    for attempt in (0, 1):
        query = urllib.parse.urlencode({"access_token": _wecom_token(fresh=attempt == 1), "code": code})
        _status, answer = _call(f"{_config('WECOM_API_URL')}/cgi-bin/auth/getuserinfo?{query}")
        errcode = answer.get("errcode", 0)
        if errcode in WECOM_TOKEN_ERRORS and attempt == 0:
            continue
        if errcode != 0:
            raise ProviderError(400, f"getuserinfo errcode {errcode}: {answer.get('errmsg')}")
        userid = answer.get("userid")
        if not isinstance(userid, str) or not userid:
            # Not a member of the firm's WeCom (an outsider has only an openid): nobody to sign in.
            raise ProviderError(400, "not a member (no userid)")
        return userid
    raise ProviderError(502, "access_token refused twice")


def _dingtalk_union_id(code: str) -> str:
    """DingTalk: the person's unionId for a login code (their user access token, then users/me)."""
    base = _config("DINGTALK_API_URL")
    status, answer = _call(f"{base}/v1.0/oauth2/userAccessToken", body={
        "clientId": _config("DINGTALK_CLIENT_ID"), "clientSecret": _config("DINGTALK_CLIENT_SECRET"),
        "code": code, "grantType": "authorization_code"})
    token = answer.get("accessToken")
    if status != 200 or not isinstance(token, str) or not token:
        raise ProviderError(400, f"userAccessToken HTTP {status}: {answer.get('code')} {answer.get('message')}")
    status, answer = _call(f"{base}/v1.0/contact/users/me", headers={"x-acs-dingtalk-access-token": token})
    union_id = answer.get("unionId")
    if status != 200 or not isinstance(union_id, str) or not union_id:
        raise ProviderError(502, f"users/me HTTP {status}: {answer.get('code')} {answer.get('message')}")
    return union_id


# --- links between people and their accounts ---------------------------------------------------------

def person_of(name: str, external_id: str) -> tuple[ExternalIdentity | None, User | None]:
    """The link for this account and its person (None, None when nobody linked it)."""
    identity = db.session.scalar(db.select(ExternalIdentity).where(
        ExternalIdentity.provider == name, ExternalIdentity.external_id == external_id))
    return identity, (identity.user if identity is not None else None)


def identities_of(user: User) -> list[ExternalIdentity]:
    """The person's linked accounts, in the providers' order."""
    rows = db.session.scalars(db.select(ExternalIdentity).where(ExternalIdentity.user_id == user.id)).all()
    return sorted(rows, key=lambda row: EXTERNAL_PROVIDERS.index(row.provider))


def link(user: User, name: str, external_id: str, actor: User) -> ExternalIdentity:
    """Link the person to their account at the provider, and audit it (the caller checked that the
    account and the person's slot for the provider are free)."""
    identity = ExternalIdentity(user=user, provider=name, external_id=external_id, linked_by=actor)
    db.session.add(identity)
    db.session.flush()
    audit.record("auth.external_linked", user, actor=actor, after={"provider": name, "external_id": external_id})
    return identity


def unlink(identity: ExternalIdentity, actor: User) -> None:
    """Remove a link (the person signs in with a password or another provider), and audit it."""
    audit.record("auth.external_unlinked", identity.user, actor=actor,
                 before={"provider": identity.provider, "external_id": identity.external_id})
    db.session.delete(identity)


def note_sign_in(identity: ExternalIdentity) -> None:
    """Record a sign-in through the provider (the login itself is audited by sessions.start)."""
    identity.last_sign_in_at = utcnow()
    audit.record("auth.external_sign_in", identity.user, actor=identity.user,
                 after={"provider": identity.provider, "external_id": identity.external_id})
