"""Staff sign-in with WeChat Work (企业微信) or DingTalk (钉钉) against a fake provider on 127.0.0.1:
the whole flow through the test client, the admin's links, and every way it is refused."""
import socket
import urllib.parse

import pytest

from webapp.audit import AuditEvent
from webapp.auth.models import DeviceSession, ExternalIdentity, User
from webapp.extensions import db

from .fake_sign_in import AGENT_ID, CLIENT_ID, CORP_ID, providers  # noqa: F401  (fixture)
from .helpers import text_of

BOTH = pytest.mark.parametrize("app", ["sqlite", "postgres"], indirect=True)
WXWORK_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
             "Mobile/15E148 wxwork/4.1.22 MicroMessenger/7.0.1 Language/zh ColorScheme/Light")
DINGTALK_UA = ("Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0 "
               "Mobile Safari/537.36 AliApp(DingTalk/7.0.40) com.alibaba.android.rimet/0 Channel/1 language/zh-Hans-CN")


def link(admin, user_id: int, provider: str, account: str):
    """The admin links a person's account on their user page."""
    return admin.post(f"/admin/users/{user_id}/identities", data={"provider": provider, "external_id": account})


def start(client, provider: str, next_path: str | None = None, **kwargs) -> dict:
    """Press the provider's button: the redirect to its authorize page, parsed."""
    url = f"/login/{provider}" + (f"?next={urllib.parse.quote(next_path)}" if next_path else "")
    response = client.get(url, **kwargs)
    assert response.status_code == 302, response.status_code
    location = urllib.parse.urlsplit(response.headers["Location"])
    return {"url": response.headers["Location"], "path": location.path,
            **dict(urllib.parse.parse_qsl(location.query))}


def callback(client, provider: str, **args):
    """The provider sends the browser back."""
    return client.get(f"/login/{provider}/callback?" + urllib.parse.urlencode(args))


def sign_in(client, provider: str, code: str, next_path: str | None = None):
    """The whole flow: start, come back with code, and the page's POST; the final response."""
    authorize = start(client, provider, next_path)
    code_name = "authCode" if provider == "dingtalk" else "code"
    page = callback(client, provider, **{code_name: code, "state": authorize["state"]})
    assert page.status_code == 200, text_of(page)[:500]
    assert "data-autosubmit" in text_of(page)
    return client.post(f"/login/{provider}/finish")


def who(client) -> str | None:
    """The name of the person this client is logged in as (None when it is not)."""
    response = client.get("/account")
    if response.status_code != 200:
        return None
    return text_of(response).split("<h1>", 1)[1].split("</h1>", 1)[0]


def audit_actions(app, prefix="auth.external") -> list[str]:
    """The audit actions recorded so far that start with prefix, oldest first."""
    with app.app_context():
        return db.session.scalars(db.select(AuditEvent.action).where(AuditEvent.action.startswith(prefix))
                                  .order_by(AuditEvent.id)).all()


@BOTH
def test_wecom_sign_in_logs_in_the_linked_person_and_follows_next(app, providers, as_user, make_user, client):
    """Button → WeCom's authorize page (documented parameters) → back with code and state → the linked
    person is logged in with a device session, on the page they were going to; the token is reused."""
    admin = as_user("admin")
    person_id = make_user("sales", username="li", name="Li Lei")
    assert link(admin, person_id, "wecom", " LiLei ").status_code == 303  # typed with spaces around it
    providers.wecom_codes["CODE1"] = "LiLei"

    login_page = text_of(client.get("/login?next=/orders/"))
    assert 'href="/login/wecom?next=/orders/"' in login_page and 'href="/login/dingtalk?next=/orders/"' in login_page

    authorize = start(client, "wecom", "/orders/")
    assert authorize["path"] == "/wwlogin/sso/login"
    assert (authorize["login_type"], authorize["appid"], authorize["agentid"]) == ("CorpApp", CORP_ID, AGENT_ID)
    assert authorize["redirect_uri"] == "https://tracker.example.com/login/wecom/callback"
    assert len(authorize["state"]) >= 32
    page = callback(client, "wecom", code="CODE1", state=authorize["state"])
    assert page.status_code == 200 and "Li Lei" in text_of(page)
    assert who(client) is None  # nothing is signed in (or written) by the GET back from WeCom
    finished = client.post("/login/wecom/finish")
    assert finished.status_code == 303 and finished.headers["Location"] == "/orders/"
    assert who(client) == "Li Lei"
    with app.app_context():
        device = db.session.scalar(db.select(DeviceSession).where(DeviceSession.user_id == person_id))
        assert device is not None and device.revoked_at is None
        assert db.session.scalar(db.select(ExternalIdentity.last_sign_in_at)) is not None
    assert audit_actions(app) == ["auth.external_linked", "auth.external_sign_in"]
    assert "auth.login" in audit_actions(app, "auth.login")

    # A second sign-in elsewhere reuses WeCom's access_token (fetched once, kept until it expires).
    providers.wecom_codes["CODE2"] = "LiLei"
    other = app.test_client()
    assert sign_in(other, "wecom", "CODE2").status_code == 303 and who(other) == "Li Lei"
    assert providers.token_calls == 1


@BOTH
def test_dingtalk_sign_in_exchanges_the_auth_code_for_the_union_id(app, providers, as_user, make_user, client):
    """DingTalk: authorize with client_id and scope openid; back with authCode; userAccessToken then
    users/me with the user's token in x-acs-dingtalk-access-token → the linked person."""
    admin = as_user("admin")
    person_id = make_user("warehouse", username="wang", name="Wang Fang")
    assert link(admin, person_id, "dingtalk", "unionIdWang123").status_code == 303
    providers.dingtalk_codes["AUTH1"] = "unionIdWang123"
    authorize = start(client, "dingtalk")
    assert authorize["path"] == "/oauth2/auth"
    assert (authorize["client_id"], authorize["response_type"], authorize["scope"], authorize["prompt"]) == (
        CLIENT_ID, "code", "openid", "consent")
    assert authorize["redirect_uri"] == "https://tracker.example.com/login/dingtalk/callback"
    assert callback(client, "dingtalk", authCode="AUTH1", state=authorize["state"]).status_code == 200
    finished = client.post("/login/dingtalk/finish")
    assert finished.status_code == 303 and finished.headers["Location"] == "/"
    assert who(client) == "Wang Fang"
    token_call = next(seen for seen in providers.seen if seen[1] == "/v1.0/oauth2/userAccessToken")
    assert token_call[2] == {"clientId": CLIENT_ID, "clientSecret": "dingtalk-secret", "code": "AUTH1",
                             "grantType": "authorization_code"}
    me_call = next(seen for seen in providers.seen if seen[1] == "/v1.0/contact/users/me")
    assert me_call[3]["x-acs-dingtalk-access-token"] == "user-token:unionIdWang123"


@BOTH
def test_an_unknown_account_and_a_deactivated_person_are_refused(app, providers, as_user, make_user, client):
    """An account nobody linked signs nobody in (403, ask the admin, nobody is made); a deactivated
    person's linked account neither."""
    providers.wecom_codes["C1"] = "Stranger"
    authorize = start(client, "wecom")
    page = callback(client, "wecom", code="C1", state=authorize["state"])
    assert page.status_code == 403
    assert "Ask your administrator" in text_of(page) and "Stranger" in text_of(page)
    assert 'name="password"' in text_of(page)  # the password form is still there
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 0
        assert db.session.scalar(db.select(db.func.count()).select_from(DeviceSession)) == 0

    admin = as_user("admin")
    person_id = make_user("sales", username="gone")
    link(admin, person_id, "wecom", "Gone")
    with app.app_context():
        db.session.get(User, person_id).active = False
        db.session.commit()
    providers.wecom_codes["C2"] = "Gone"
    authorize = start(client, "wecom")
    page = callback(client, "wecom", code="C2", state=authorize["state"])
    assert page.status_code == 403 and "deactivated" in text_of(page)
    assert who(client) is None

    # A WeCom user outside the firm (an openid, no userid) is not anyone here either.
    providers.wecom_codes["C3"] = "openid:o-outsider"
    authorize = start(client, "wecom")
    assert callback(client, "wecom", code="C3", state=authorize["state"]).status_code == 400


def test_a_person_deactivated_between_callback_and_finish_is_refused(app, providers, as_user, make_user, client):
    """The finish checks the link and the person again."""
    admin = as_user("admin")
    person_id = make_user("sales", username="late")
    link(admin, person_id, "wecom", "Late")
    providers.wecom_codes["C"] = "Late"
    authorize = start(client, "wecom")
    assert callback(client, "wecom", code="C", state=authorize["state"]).status_code == 200
    with app.app_context():
        db.session.get(User, person_id).active = False
        db.session.commit()
    assert client.post("/login/wecom/finish").status_code == 403
    assert who(client) is None


@BOTH
def test_a_bad_missing_or_replayed_state_is_refused(app, providers, as_user, make_user, client):
    """The state is this browser's, used once and short-lived: anything else is a 400 on the login
    page, never a login and never a 500."""
    admin = as_user("admin")
    person_id = make_user("sales", username="li", name="Li Lei")
    link(admin, person_id, "wecom", "LiLei")
    for code in ("A", "B", "C", "D", "E"):
        providers.wecom_codes[code] = "LiLei"

    # No flow started in this browser (another browser's state, a forged callback).
    other = app.test_client()
    other_state = start(other, "wecom")["state"]
    response = callback(client, "wecom", code="A", state=other_state)
    assert response.status_code == 400 and "Start it again" in text_of(response)
    # Wrong state: refused, and the flow is used up (the right state no longer works either).
    authorize = start(client, "wecom")
    assert callback(client, "wecom", code="A", state="not-the-state").status_code == 400
    assert callback(client, "wecom", code="A", state=authorize["state"]).status_code == 400
    # No state at all.
    start(client, "wecom")
    assert callback(client, "wecom", code="A").status_code == 400
    # A state started for the other provider.
    authorize = start(client, "dingtalk")
    assert callback(client, "wecom", code="A", state=authorize["state"]).status_code == 400
    # Expired: older than EXTERNAL_LOGIN_STATE_MINUTES.
    app.config["EXTERNAL_LOGIN_STATE_MINUTES"] = 0
    authorize = start(client, "wecom")
    assert callback(client, "wecom", code="A", state=authorize["state"]).status_code == 400
    app.config["EXTERNAL_LOGIN_STATE_MINUTES"] = 10
    # Replayed: the callback URL of a finished sign-in, sent again (a browser's back button, an attacker).
    authorize = start(client, "wecom")
    assert callback(client, "wecom", code="B", state=authorize["state"]).status_code == 200
    assert client.post("/login/wecom/finish").status_code == 303
    client.post("/logout")
    replay = callback(client, "wecom", code="C", state=authorize["state"])
    assert replay.status_code == 400
    # The finish without a verified account (posted twice, or never called back).
    assert client.post("/login/wecom/finish").status_code == 400
    assert who(client) is None
    assert audit_actions(app, "auth.external_sign_in") == ["auth.external_sign_in"]


@BOTH
def test_provider_errors_are_messages_not_500s(app, providers, as_user, make_user, client):
    """Cancelled at the provider, a code it refuses, a broken answer, a 500, a timeout, the provider
    down: each a translated message on the login page with its status."""
    def attempt(provider="wecom", **args):
        authorize = start(client, provider)
        return callback(client, provider, state=authorize["state"], **args)

    cancelled = attempt("dingtalk", error="access_denied")
    assert cancelled.status_code == 400 and "cancelled or refused" in text_of(cancelled)
    assert attempt("wecom").status_code == 400  # WeCom sends no code when the member refuses
    assert attempt("wecom", code="x" * 600).status_code == 400  # longer than any code WeCom issues
    assert not [seen for seen in providers.seen if seen[1] == "/cgi-bin/auth/getuserinfo"]  # none was asked
    refused = attempt("wecom", code="never-issued")
    assert refused.status_code == 400 and "did not accept" in text_of(refused)
    assert attempt("dingtalk", authCode="never-issued").status_code == 400

    providers.garbage = True
    broken = attempt("dingtalk", authCode="x")
    assert broken.status_code == 502 and "cannot use" in text_of(broken)
    providers.garbage, providers.status = False, 500
    assert attempt("wecom", code="x").status_code == 502
    providers.status = 200

    providers.delay, app.config["EXTERNAL_LOGIN_TIMEOUT_SECONDS"] = 1.0, 0.2
    slow = attempt("wecom", code="x")
    assert slow.status_code == 503 and "cannot be reached" in text_of(slow) and slow.headers["Retry-After"]
    providers.delay = 0.0

    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    app.config.update(WECOM_API_URL=f"http://127.0.0.1:{port}", DINGTALK_API_URL=f"http://127.0.0.1:{port}")
    assert attempt("wecom", code="x").status_code == 503
    assert attempt("dingtalk", authCode="x").status_code == 503
    assert who(client) is None


def test_an_expired_wecom_token_is_renewed_once(app, providers, as_user, make_user, client):
    """WeCom says the kept access_token expired (42001): a new one is fetched and the code asked again."""
    admin = as_user("admin")
    link(admin, make_user("sales", username="li", name="Li Lei"), "wecom", "LiLei")
    providers.wecom_codes["C1"], providers.wecom_codes["C2"] = "LiLei", "LiLei"
    assert sign_in(client, "wecom", "C1").status_code == 303
    providers.expire_token_once = True
    other = app.test_client()
    assert sign_in(other, "wecom", "C2").status_code == 303 and who(other) == "Li Lei"
    assert providers.token_calls == 2


def test_a_wrong_wecom_secret_is_the_deployments_error(app, providers, client):
    """gettoken refuses the corp secret: 502 (nothing the person can fix), no 500."""
    app.config["WECOM_SECRET"] = "wrong"
    authorize = start(client, "wecom")
    assert callback(client, "wecom", code="x", state=authorize["state"]).status_code == 502


@BOTH
def test_only_an_admin_links_and_an_account_links_one_person(app, providers, as_user, make_user, client):
    """Linking is the admin's (403 for others, login for strangers); one account is one person's, and a
    person has one account per provider; the typed id is checked; unlinking stops the sign-in."""
    admin = as_user("admin")
    first, second = make_user("sales", username="a", name="Person A"), make_user("sales", username="b")
    assert link(as_user("sales"), first, "wecom", "PersonA").status_code == 403
    assert link(as_user("manager"), first, "wecom", "PersonA").status_code == 403
    assert link(client, first, "wecom", "PersonA").status_code == 302  # not logged in: to the login page
    assert link(admin, first, "wecom", "PersonA").status_code == 303

    taken = link(admin, second, "wecom", "PersonA")
    assert taken.status_code == 422 and "Person A" in text_of(taken) and "linked to" in text_of(taken)
    twice = link(admin, first, "wecom", "AnotherId")
    assert twice.status_code == 422 and "unlink it first" in text_of(twice)
    assert link(admin, second, "dingtalk", "PersonA").status_code == 303  # the same id at another provider
    for bad in ("", "has space", "x" * 129, "semi;colon"):
        response = link(admin, second, "wecom", bad)
        assert response.status_code == 422, bad
    assert link(admin, second, "github", "x").status_code == 422
    assert link(admin, 999, "wecom", "Nobody").status_code == 404

    with app.app_context():  # the database holds the rule too, whatever a view forgets
        from sqlalchemy.exc import IntegrityError
        db.session.add(ExternalIdentity(provider="wecom", external_id="PersonA", user_id=second))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        identity_id = db.session.scalar(db.select(ExternalIdentity.id).where(
            ExternalIdentity.user_id == first, ExternalIdentity.provider == "wecom"))

    page = text_of(admin.get(f"/admin/users/{first}"))
    assert "PersonA" in page and f"/identities/{identity_id}/unlink" in page
    assert as_user("sales").post(f"/admin/users/{first}/identities/{identity_id}/unlink").status_code == 403
    assert admin.post(f"/admin/users/{second}/identities/{identity_id}/unlink").status_code == 404
    assert admin.post(f"/admin/users/{first}/identities/{identity_id}/unlink").status_code == 303
    with app.app_context():
        assert db.session.get(ExternalIdentity, identity_id) is None
    assert audit_actions(app) == ["auth.external_linked", "auth.external_linked", "auth.external_unlinked"]

    providers.wecom_codes["C"] = "PersonA"
    authorize = start(client, "wecom")
    assert callback(client, "wecom", code="C", state=authorize["state"]).status_code == 403


def test_buttons_only_for_configured_providers_and_the_in_app_one_first(app, providers, client):
    """A button per configured provider; inside WeCom's or DingTalk's app its own comes first (and WeCom's
    in-app sign-in uses its OAuth link, no scan); unconfigured, no button and its routes are 404."""
    plain = text_of(client.get("/login"))
    assert plain.index("/login/wecom") < plain.index("/login/dingtalk")
    in_dingtalk = text_of(client.get("/login", headers={"User-Agent": DINGTALK_UA}))
    assert in_dingtalk.index("/login/dingtalk") < in_dingtalk.index("/login/wecom")
    in_wecom = text_of(client.get("/login", headers={"User-Agent": WXWORK_UA}))
    assert in_wecom.index("/login/wecom") < in_wecom.index("/login/dingtalk")
    authorize = start(client, "wecom", headers={"User-Agent": WXWORK_UA})
    assert authorize["path"] == "/connect/oauth2/authorize" and authorize["url"].endswith("#wechat_redirect")
    assert (authorize["appid"], authorize["agentid"], authorize["scope"]) == (CORP_ID, AGENT_ID, "snsapi_base")

    client.post("/lang/zh")
    chinese = text_of(client.get("/login"))
    assert "企业微信登录" in chinese and "钉钉登录" in chinese

    app.config.update(DINGTALK_CLIENT_SECRET=None)
    page = text_of(client.get("/login"))
    assert "/login/wecom" in page and "/login/dingtalk" not in page
    assert client.get("/login/dingtalk").status_code == 404
    assert client.get("/login/dingtalk/callback?authCode=x&state=y").status_code == 404
    assert client.get("/login/nowhere").status_code == 404
    app.config.update(WECOM_SECRET="")
    assert "/login/wecom" not in text_of(client.get("/login"))


def test_a_person_links_their_own_account_from_their_account_page(app, providers, as_user, make_user):
    """Logged in, a person proves their WeCom account at WeCom and links it to themselves; an account
    someone else has stays theirs."""
    me = as_user("sales", name="Me Myself")
    assert "Link my WeCom account" in text_of(me.get("/account"))
    response = me.post("/account/link/wecom")
    assert response.status_code == 303
    state = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(response.headers["Location"]).query))["state"]
    providers.wecom_codes["C"] = "MeOnWeCom"
    page = callback(me, "wecom", code="C", state=state)
    assert page.status_code == 200 and "MeOnWeCom" in text_of(page) and "data-autosubmit" not in text_of(page)
    assert me.post("/login/wecom/finish").status_code == 303
    with app.app_context():
        row = db.session.scalar(db.select(ExternalIdentity))
        assert (row.user_id, row.external_id, row.linked_by_id) == (me.user_id, "MeOnWeCom", me.user_id)
    assert "Link my WeCom account" not in text_of(me.get("/account"))

    other = as_user("sales")
    response = other.post("/account/link/wecom")
    state = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(response.headers["Location"]).query))["state"]
    providers.wecom_codes["D"] = "MeOnWeCom"
    assert as_user("worker").post("/account/link/nowhere").status_code == 404
    taken = callback(other, "wecom", code="D", state=state)
    assert taken.status_code == 303 and "linked to another user" in text_of(other.get("/account"))
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(ExternalIdentity)) == 1
