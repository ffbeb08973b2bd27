"""HTTPS and what stays private (issue 8, item 15): HSTS and the Secure session cookie over HTTPS
(directly, or through a proxy only when its hops are trusted), plain HTTP on the LAN still logs in,
no shared caching of photos, no-store and no-referrer on every capability route, owner-only files
under instance/."""
import io
import os
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from werkzeug.routing import IntegerConverter

from webapp import create_app, https
from webapp.capabilities import CAPABILITY_ARGS
from webapp.extensions import db

from .conftest import PASSWORD
from .helpers import jpeg_bytes, text_of

BOTH = pytest.mark.parametrize("app", ["sqlite", "postgres"], indirect=True)


def mode_of(path) -> int:
    """The permission bits of path."""
    return stat.S_IMODE(os.stat(path).st_mode)


def session_cookie_header(response) -> str:
    """The Set-Cookie line of the session cookie."""
    lines = [v for v in response.headers.getlist("Set-Cookie") if v.startswith("session=")]
    assert lines, response.headers
    return lines[-1]


def login_response(client, username, **kwargs):
    """POST the real login form (CSRF token fetched over the same scheme)."""
    page = client.get("/login", **kwargs)
    token = text_of(page).split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    return client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token},
                       csrf=False, **kwargs)


@pytest.fixture
def proxied_app(app):
    """The same database served behind one trusted reverse proxy (TRUSTED_PROXIES=1)."""
    other = create_app({**{k: app.config[k] for k in (
        "TESTING", "SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "UPLOAD_FOLDER", "MAIL_FOLDER", "PUBLIC_URL",
        "PASSWORD_HASH_METHOD")}, "TRUSTED_PROXIES": 1})
    other.test_client_class = app.test_client_class
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


@BOTH
def test_plain_http_on_the_lan_still_logs_in(app, make_user):
    """`make run` serves plain HTTP: the session cookie is not Secure (the browser would drop it),
    there is no HSTS, and the login holds."""
    make_user("sales", username="lan")
    client = app.test_client()
    response = login_response(client, "lan")
    assert response.status_code == 303
    assert "Secure" not in session_cookie_header(response)
    assert "Strict-Transport-Security" not in response.headers
    assert client.get("/").status_code == 200


@BOTH
def test_https_login_sets_a_secure_cookie_and_hsts(app, make_user):
    """Over HTTPS the session cookie is Secure (and HttpOnly, SameSite=Lax) and every answer says
    Strict-Transport-Security; the login holds."""
    make_user("sales", username="tls")
    client = app.test_client()
    response = login_response(client, "tls", base_url="https://orders.example.com",
                              headers={"Referer": "https://orders.example.com/login"})
    assert response.status_code == 303
    cookie = session_cookie_header(response)
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert response.headers["Strict-Transport-Security"] == https.HSTS
    home = client.get("/", base_url="https://orders.example.com")
    assert client.get("/").status_code == 302  # the Secure cookie is not sent over plain HTTP
    assert home.status_code == 200 and home.headers["Strict-Transport-Security"] == https.HSTS


def test_forwarded_headers_count_only_through_trusted_proxies(app, proxied_app, make_user):
    """X-Forwarded-Proto: https makes the cookie Secure only when the proxy is trusted; without the
    setting anyone could send the header, so it is ignored (as is X-Forwarded-For)."""
    make_user("sales", username="px")
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.23",
                 "X-Forwarded-Host": "orders.example.com", "Referer": "https://orders.example.com/login"}

    direct = app.test_client()
    response = login_response(direct, "px", headers=forwarded)
    assert response.status_code == 303
    assert "Secure" not in session_cookie_header(response)
    assert "Strict-Transport-Security" not in response.headers

    behind = proxied_app.test_client()
    response = login_response(behind, "px", headers=forwarded)
    assert response.status_code == 303, text_of(response)[:300]
    assert "Secure" in session_cookie_header(response)
    assert response.headers["Strict-Transport-Security"] == https.HSTS
    assert response.headers["Location"] in ("/", "https://orders.example.com/")
    # The trusted proxy's client address is the one throttles count (not the proxy's).
    for _ in range(5):
        behind.post("/login", data={"username": "px", "password": "wrong"}, headers=forwarded)
    assert behind.post("/login", data={"username": "px", "password": PASSWORD},
                       headers=forwarded).status_code == 429
    other_address = {**forwarded, "X-Forwarded-For": "198.51.100.24"}
    assert proxied_app.test_client().post("/login", data={"username": "px", "password": PASSWORD},
                                          headers=other_address).status_code == 303


def test_trusted_proxies_setting_from_the_environment(monkeypatch):
    """TRUSTED_PROXIES=2 in the environment is two hops; PROXY_FIX=1 (the older setting) is one;
    nonsense is refused at start rather than trusting anything."""
    assert https.proxy_hops({"TRUSTED_PROXIES": 2}) == 2
    assert https.proxy_hops({"PROXY_FIX": True}) == 1
    assert https.proxy_hops({}) == 0
    with pytest.raises(ValueError):
        https.proxy_hops({"TRUSTED_PROXIES": "all"})
    monkeypatch.setenv("TRUSTED_PROXIES", "2")
    made = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert made.config["TRUSTED_PROXIES"] == 2
    assert type(made.wsgi_app).__name__ == "ProxyFix" and made.wsgi_app.x_proto == 2


def capability_urls(app):
    """One URL per capability route (a made-up token, 1 for other numbers), with its method."""
    urls = []
    for rule in app.url_map.iter_rules():
        if CAPABILITY_ARGS & set(rule.arguments):
            values = {name: ("N" * 32 if name in CAPABILITY_ARGS else
                             1 if isinstance(rule._converters[name], IntegerConverter) else "start")
                      for name in rule.arguments}
            method = "GET" if "GET" in rule.methods else "POST"
            urls.append((method, rule.build(values, append_unknown=False)[1]))
    return urls


def test_every_capability_route_is_no_store_and_no_referrer(app, make_order, as_user):
    """Every route whose URL carries a token (/c/, /w/, /aftersales/c/, /b/): a live link page, a
    dead one and a post alike are never stored by a cache and never leak their URL as a Referer;
    staff pages keep same-origin."""
    from .test_shipping import link_path
    # Every route is tried with a token that does not exist, all from one address: more than the
    # guessing limit allows now that there are this many routes (/enrol/ joined), and the limit is
    # not what this test is about.
    app.config["RATE_LIMIT_BAD_TOKENS"] = (100, 15 * 60)
    urls = capability_urls(app)
    assert {u.split("/N")[0] for _m, u in urls} >= {"/c", "/w", "/aftersales/c", "/b", "/enrol"}
    worker = as_user("worker")
    for method, url in urls:
        response = worker.open(url, method=method)
        assert response.headers.get("Cache-Control") == "no-store", (url, response.headers)
        assert response.headers.get("Referrer-Policy") == "no-referrer", url

    order_id = make_order("awaiting_countersign")
    live = app.test_client().get(link_path(app, "order_countersign", order_id))
    assert live.status_code == 200
    assert live.headers["Cache-Control"] == "no-store" and live.headers["Referrer-Policy"] == "no-referrer"
    assert worker.get("/").headers["Referrer-Policy"] == "same-origin"


def test_photos_behind_login_are_private(app, as_user):
    """A photo served behind a login may be kept by this browser only, never by a shared cache."""
    from webapp.photos import Photo
    folder = Path(app.config["UPLOAD_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    photo = jpeg_bytes(size=(20, 20))
    (folder / "private-test.jpg").write_bytes(photo)
    with app.app_context():
        photo = Photo(entity_type="sync_conflict", entity_id=1, stored_name="private-test.jpg",
                      content_type="image/jpeg", size=len(photo), sha256="0" * 64)
        db.session.add(photo)
        db.session.commit()
        photo_id = photo.id
    with as_user("operations").get(f"/sync/conflicts/photos/{photo_id}") as response:
        assert response.status_code == 200 and response.mimetype == "image/jpeg"
        assert response.cache_control.private and not response.cache_control.public


@pytest.mark.own_app  # it looks at the database files the app made in tmp_path
def test_files_under_instance_are_owner_only(app, make_order, as_user, tmp_path):
    """The SQLite database with its -wal and -shm, uploaded photos, mail, the secret key and the
    folders are created readable by the server's user only; an older world-readable database is
    tightened on start."""
    from webapp.config import load_secret_key
    from webapp.notify import mail
    from .test_sync import link_replay, packed_shipment_with_courier_link

    # a photo arrives through a courier's link (the real upload path)
    _shipment_id, path = packed_shipment_with_courier_link(app, make_order, as_user)
    answer = link_replay(app, path + "/dispatch", "mode-key-1",
                         {"d-note": "", "d-photos": [(io.BytesIO(jpeg_bytes()), "load.jpg")]})
    assert answer.status_code == 201, text_of(answer)[:300]
    uploads = Path(app.config["UPLOAD_FOLDER"])
    files = [p for p in uploads.iterdir() if p.is_file()]
    assert files
    for item in files:
        assert mode_of(item) == 0o600, item
    assert mode_of(uploads) == 0o700

    with app.app_context():
        mail.queue("someone@example.com", "Subject", "Body with a link")
    mails = list(Path(app.config["MAIL_FOLDER"]).glob("*.eml"))
    assert mails and all(mode_of(m) == 0o600 for m in mails)
    assert mode_of(app.config["MAIL_FOLDER"]) == 0o700

    database = tmp_path / "test.sqlite3"
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        with app.app_context():
            with db.engine.connect() as connection:  # WAL files exist while a connection is open
                connection.exec_driver_sql("SELECT 1")
                for name in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
                    assert mode_of(name) == 0o600, name
    assert mode_of(app.instance_path) == 0o700
    secret_folder = tmp_path / "inst"
    load_secret_key(str(secret_folder))
    assert mode_of(secret_folder / "secret_key") == 0o600

    old = tmp_path / "old.sqlite3"
    old.write_bytes(b"")
    os.chmod(old, 0o644)
    made = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{old}"})
    assert made and mode_of(old) == 0o600


def test_mail_files_older_than_a_week_are_purged(app, tmp_path):
    """Development mail files hold customers' links: a week after they were written they go."""
    from webapp.notify import mail
    folder = Path(app.config["MAIL_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    stale, fresh = folder / "stale.eml", folder / "fresh.eml"
    stale.write_bytes(b"old"), fresh.write_bytes(b"new")
    eight_days_ago = stale.stat().st_mtime - timedelta(days=8).total_seconds()
    os.utime(stale, (eight_days_ago, eight_days_ago))
    with app.app_context():
        mail.queue("someone@example.com", "Subject", "Body")
    assert not stale.exists() and fresh.exists()
    assert len(list(folder.glob("*.eml"))) == 2
