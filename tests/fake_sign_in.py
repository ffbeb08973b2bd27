"""A fake WeChat Work and DingTalk on 127.0.0.1 (a threaded http.server on a free port): their authorize
pages (which send the browser straight back with a code, as after a scan), and the token and user-info
endpoints of their documented sign-in flows, with the answers the tests choose."""
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

CORP_ID, AGENT_ID, CORP_SECRET = "ww0123456789abcdef", "1000002", "wecom-secret"
CLIENT_ID, CLIENT_SECRET = "dingtestclient", "dingtalk-secret"


class FakeProviders(BaseHTTPRequestHandler):
    """Both providers' endpoints; the state lives on the class (one server per test)."""

    wecom_codes: dict = {}      # one-time code → userid
    dingtalk_codes: dict = {}   # one-time authCode → unionId
    next_code: str | None = None  # what the authorize pages hand back (browser tests)
    wecom_token = "wecom-token-1"
    token_calls = 0
    expire_token_once = False   # the next getuserinfo answers 42001 (token expired)
    status = 200                # 500: the provider breaks
    garbage = False             # the provider answers with something that is not JSON
    delay = 0.0
    seen: list = []

    def _send(self, payload, status=None):
        raw = b"<html>oops</html>" if self.garbage else json.dumps(payload, ensure_ascii=False).encode()
        try:
            self.send_response(status or type(self).status)
            self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the app gave up waiting (the timeout tests): nobody is listening any more

    def _back(self, query):
        """An authorize page: straight back to redirect_uri with the code (WeCom: code, DingTalk: authCode)."""
        code_name = "authCode" if self.path.startswith("/oauth2/auth") else "code"
        target = query["redirect_uri"] + "?" + urllib.parse.urlencode(
            {code_name: type(self).next_code, "state": query["state"]})
        self.send_response(302)
        self.send_header("Location", target)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):  # noqa: N802 (http.server's name)
        cls = type(self)
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        cls.seen.append(("GET", url.path, query, {k.lower(): v for k, v in self.headers.items()}))
        if url.path in ("/wwlogin/sso/login", "/connect/oauth2/authorize", "/oauth2/auth"):
            return self._back(query)
        if self.delay:
            time.sleep(self.delay)
        if url.path == "/cgi-bin/gettoken":
            cls.token_calls += 1
            if query.get("corpid") != CORP_ID or query.get("corpsecret") != CORP_SECRET:
                return self._send({"errcode": 40001, "errmsg": "invalid credential"})
            cls.wecom_token = f"wecom-token-{cls.token_calls}"
            return self._send({"errcode": 0, "errmsg": "ok", "access_token": cls.wecom_token, "expires_in": 7200})
        if url.path == "/cgi-bin/auth/getuserinfo":
            if cls.expire_token_once:
                cls.expire_token_once = False
                return self._send({"errcode": 42001, "errmsg": "access_token expired"})
            if query.get("access_token") != cls.wecom_token:
                return self._send({"errcode": 40014, "errmsg": "invalid access_token"})
            userid = cls.wecom_codes.pop(query.get("code"), None)  # a code is used once
            if userid is None:
                return self._send({"errcode": 40029, "errmsg": "invalid code"})
            if userid.startswith("openid:"):  # not a member of the firm: an openid only
                return self._send({"errcode": 0, "errmsg": "ok", "openid": userid[7:]})
            return self._send({"errcode": 0, "errmsg": "ok", "userid": userid, "user_ticket": "ticket"})
        if url.path == "/v1.0/contact/users/me":
            token = self.headers.get("x-acs-dingtalk-access-token") or ""
            if not token.startswith("user-token:"):
                return self._send({"code": "InvalidAuthentication", "message": "bad token"}, 401)
            return self._send({"nick": "Ding", "unionId": token[len("user-token:"):], "openId": "open1",
                               "mobile": "13800000000", "stateCode": "86"})
        return self._send({"errcode": 404}, 404)

    def do_POST(self):  # noqa: N802
        cls = type(self)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
        cls.seen.append(("POST", self.path, body, {k.lower(): v for k, v in self.headers.items()}))
        if self.delay:
            time.sleep(self.delay)
        if self.path == "/v1.0/oauth2/userAccessToken":
            if (body.get("clientId"), body.get("clientSecret"), body.get("grantType")) != (
                    CLIENT_ID, CLIENT_SECRET, "authorization_code"):
                return self._send({"code": "invalidClientIdOrSecret", "message": "bad client"}, 400)
            union_id = cls.dingtalk_codes.pop(body.get("code"), None)
            if union_id is None:
                return self._send({"code": "invalidAuthCode", "message": "不合法的临时授权码"}, 400)
            return self._send({"accessToken": f"user-token:{union_id}", "refreshToken": "r", "expireIn": 7200,
                               "corpId": "ding-corp"})
        return self._send({"code": "NotFound"}, 404)

    def log_message(self, *args):
        pass


def configure(app, base: str) -> None:
    """Point the app's WeCom and DingTalk settings at the fake at base."""
    app.config.update(
        WECOM_CORP_ID=CORP_ID, WECOM_AGENT_ID=AGENT_ID, WECOM_SECRET=CORP_SECRET,
        WECOM_LOGIN_URL=f"{base}/wwlogin/sso/login", WECOM_OAUTH_URL=f"{base}/connect/oauth2/authorize",
        WECOM_API_URL=base, DINGTALK_CLIENT_ID=CLIENT_ID, DINGTALK_CLIENT_SECRET=CLIENT_SECRET,
        DINGTALK_LOGIN_URL=f"{base}/oauth2/auth", DINGTALK_API_URL=base, EXTERNAL_LOGIN_TIMEOUT_SECONDS=2)


@pytest.fixture
def providers(app):
    """The fake providers on a free port, and the app configured to use them."""
    from webapp.auth import external
    FakeProviders.wecom_codes, FakeProviders.dingtalk_codes, FakeProviders.seen = {}, {}, []
    FakeProviders.next_code, FakeProviders.token_calls, FakeProviders.expire_token_once = None, 0, False
    FakeProviders.status, FakeProviders.garbage, FakeProviders.delay = 200, False, 0.0
    external.forget_tokens()
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeProviders)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    FakeProviders.base = f"http://127.0.0.1:{server.server_port}"
    configure(app, FakeProviders.base)
    yield FakeProviders
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
    external.forget_tokens()
