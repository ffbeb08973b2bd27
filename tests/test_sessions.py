"""Sessions and credentials under attack, on SQLite and PostgreSQL: the login cookie's flags, a copied
cookie that dies with its session (logout, log out everywhere, a password change), idle and absolute
timeouts checked on the server, login throttling that holds across two app processes sharing one
database, and tokens that are kept only as hashes and whose wrong, expired and revoked forms answer
alike."""
import re
from datetime import timedelta

import pytest
import time_machine
from http.cookies import SimpleCookie

from webapp import links
from webapp.auth import DeviceSession, User
from webapp.extensions import db
from webapp.wallclock import utcnow

from .api_helpers import ApiClient, make_token
from .conftest import PASSWORD, login, new_test_app
from .test_capability_tokens import every_stored_text

BOTH = pytest.mark.parametrize("app", ["sqlite", "postgres"], indirect=True)


def session_cookie(response) -> SimpleCookie:
    """The session cookie a response sets, parsed with its attributes."""
    header = next(value for value in response.headers.getlist("Set-Cookie") if value.startswith("session="))
    cookie = SimpleCookie()
    cookie.load(header)
    return cookie, header


def copy_of(app, client):
    """Another browser holding the same cookies as client (a copied or stolen cookie)."""
    thief = app.test_client()
    for cookie in client._cookies.values():
        thief.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)
    return thief


def logged_in(client) -> bool:
    """Whether client's session still opens a staff page (else it is sent to the login page)."""
    response = client.get("/")
    assert response.status_code in (200, 302), response.status_code
    return response.status_code == 200


@BOTH
def test_login_cookie_is_httponly_samesite_and_secure_over_https(app, make_user):
    """Over HTTPS (PUBLIC_URL is https in the tests) the login cookie is Secure, HttpOnly and
    SameSite=Lax; over plain HTTP on the LAN it is HttpOnly and SameSite=Lax but not Secure (a browser
    would not send it back there)."""
    make_user("sales", username="flags")
    secure = app.test_client()
    response = secure.post("/login", data={"username": "flags", "password": PASSWORD}, base_url="https://localhost",
                           headers={"Referer": "https://localhost/login"})
    assert response.status_code == 303
    cookie, header = session_cookie(response)
    morsel = cookie["session"]
    assert morsel["secure"] and morsel["httponly"] and morsel["samesite"] == "Lax", header
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    plain = app.test_client()
    response = login(plain, "flags")
    cookie, header = session_cookie(response)
    assert cookie["session"]["httponly"] and cookie["session"]["samesite"] == "Lax" and not cookie["session"]["secure"]


@BOTH
def test_a_copied_cookie_dies_with_its_session(app, make_user):
    """The session lives on the server: a copy of a browser's cookie stops working when that browser
    logs out; "log out everywhere" ends every other browser and every copy; a password change ends
    every other browser of the person (and their copies) and keeps the one that changed it."""
    make_user("sales", username="cookie")
    phone, laptop = app.test_client(), app.test_client()
    login(phone, "cookie"), login(laptop, "cookie")
    phone_copy = copy_of(app, phone)
    assert logged_in(phone_copy)
    assert phone.post("/logout").status_code == 303
    assert not logged_in(phone_copy)  # the cookie is intact, its session is not
    assert logged_in(laptop)           # plain logout ends this browser only (DESIGN §4)

    laptop_copy, tablet = copy_of(app, laptop), app.test_client()
    login(tablet, "cookie")
    assert tablet.post("/logout-everywhere").status_code == 303
    assert not logged_in(laptop) and not logged_in(laptop_copy) and not logged_in(tablet)

    desk, home = app.test_client(), app.test_client()
    login(desk, "cookie"), login(home, "cookie")
    home_copy = copy_of(app, home)
    changed = desk.post("/account", data={"current": PASSWORD, "new": "another long secret",
                                          "confirm": "another long secret"})
    assert changed.status_code == 303
    assert logged_in(desk) and not logged_in(home) and not logged_in(home_copy)
    with app.app_context():
        reasons = sorted(db.session.scalars(db.select(DeviceSession.revoked_reason)).all(), key=str)
    assert reasons.count("password_change") == 1 and reasons.count("logout_everywhere") == 2


@BOTH
def test_idle_and_absolute_timeouts_end_the_session_on_the_server(app, make_user):
    """A login unused for SESSION_IDLE_MINUTES ends (its session revoked as expired_idle), one in
    use keeps going until SESSION_ABSOLUTE_DAYS after the login (expired_absolute); the cookie itself is
    still intact each time, only the server says no."""
    app.config.update(SESSION_IDLE_MINUTES=60, SESSION_ABSOLUTE_DAYS=1)
    make_user("sales", username="clock")
    start = utcnow()
    with time_machine.travel(start, tick=False) as clock:
        idle = app.test_client()
        login(idle, "clock")
        clock.move_to(start + timedelta(minutes=59))
        assert logged_in(idle)  # used at 59 minutes: the idle clock starts again
        clock.move_to(start + timedelta(minutes=59 + 59))
        assert logged_in(idle)
        clock.move_to(start + timedelta(minutes=59 + 59 + 61))
        assert not logged_in(idle)
        clock.move_to(start + timedelta(minutes=59 + 59 + 62))
        assert not logged_in(idle)  # ended for good, not revived

        busy = app.test_client()
        begun = start + timedelta(minutes=200)
        clock.move_to(begun)
        login(busy, "clock")
        for minutes in range(50, 24 * 60, 50):  # used every 50 minutes, all day long
            clock.move_to(begun + timedelta(minutes=minutes))
            assert logged_in(busy), minutes
        clock.move_to(begun + timedelta(days=1, minutes=10))
        assert not logged_in(busy)
    with app.app_context():
        reasons = sorted(r for r in db.session.scalars(db.select(DeviceSession.revoked_reason)) if r)
    assert reasons == ["expired_absolute", "expired_idle"]


@BOTH
def test_login_throttling_holds_across_two_app_processes(app, make_user, tmp_path):
    """Two app instances on one database (two gunicorn workers, or two servers behind a proxy): the
    failures counted by one refuse the next attempt on the other, even with the right password."""
    make_user("sales", username="shared")
    other = new_test_app(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "other")
    try:
        for index in range(app.config["LOGIN_THROTTLE_MAX_FAILURES"]):
            instance = app if index % 2 == 0 else other
            response = instance.test_client().post("/login", data={"username": "shared", "password": "guess"})
            assert response.status_code == 422
        for instance in (app, other):
            refused = instance.test_client().post("/login", data={"username": "shared", "password": PASSWORD})
            assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    finally:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


def _page_text(response) -> str:
    """A page's text without what differs per request (request id, CSRF token, nonces)."""
    body = response.get_data(as_text=True)
    body = re.sub(r'"X-CSRFToken": "[^"]*"', '"X-CSRFToken": ""', body)
    body = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+\d:]*", "(time)", body)  # when it was rendered
    return re.sub(r'(name="csrf-token" content|value|nonce)="[^"]*"', r'\1=""', body)


@BOTH
def test_tokens_are_stored_hashed_and_a_wrong_one_looks_like_a_dead_one(app, make_order, make_user, as_user):
    """No raw API token, customer link token, badge or session secret is in any row; an API token that
    never existed, one that expired and one that was revoked get the same 401 and body; a customer link
    likewise the same 404 page whether unknown, expired or revoked."""
    order_id = make_order("awaiting_countersign")
    owner = make_user("sales", username="integrator")
    live, expired, revoked = (make_token(app, owner, "read") for _ in range(3))
    browser = as_user("worker", username="badge.holder")
    with app.app_context(), app.test_request_context("/"):
        badge = db.session.get(User, browser.user_id).new_badge()
        link = links.current("order_countersign", order_id)
        link_token = link.token
        dead_expired = links.issue("order_service", order_id)
        dead_expired.expires_at = utcnow() - timedelta(seconds=1)
        expired_token = dead_expired.token
        from webapp.api.models import ApiToken
        tokens = {t.secret_hash: t for t in db.session.scalars(db.select(ApiToken))}
        from webapp.auth import hash_secret
        tokens[hash_secret(expired)].expires_at = utcnow() - timedelta(seconds=1)
        tokens[hash_secret(revoked)].revoked_at = utcnow()
        db.session.commit()
    with app.app_context(), app.test_request_context("/"):
        revoked_link = links.issue("survey", order_id)
        revoked_token = revoked_link.token
        links.revoke_all("survey", order_id)
        db.session.commit()
    session_secret = browser.get_cookie("session").value
    stored = every_stored_text(app)
    for secret in (live, expired, revoked, link_token, expired_token, revoked_token, badge):
        assert secret not in stored
    assert session_secret not in stored

    assert ApiClient(app, live).get("/api/v1/orders").status_code == 200
    answers = [ApiClient(app, value).get("/api/v1/orders") for value in
               ("trk_" + "x" * 43, expired, revoked, live[:-1] + ("A" if live[-1] != "A" else "B"))]
    assert {a.status_code for a in answers} == {401}
    assert len({a.get_data() for a in answers}) == 1
    assert len({a.headers["WWW-Authenticate"] for a in answers}) == 1

    assert app.test_client().get(f"/c/{link_token}").status_code == 200
    pages = [app.test_client().get(f"/c/{value}", environ_base={"REMOTE_ADDR": f"198.51.100.{n}"})
             for n, value in enumerate(("A" * 32, expired_token, revoked_token), start=1)]
    assert {p.status_code for p in pages} == {404}
    assert len({_page_text(p) for p in pages}) == 1
