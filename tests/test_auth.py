"""Logins, device sessions and their revocation, throttling, the worker switch."""
from webapp.audit import AuditEvent
from webapp.auth.models import DeviceSession, LoginFailure, User
from webapp.extensions import db

from .conftest import PASSWORD, login
from .helpers import text_of


def _username(app, user_id):
    with app.app_context():
        return db.session.get(User, user_id).username


def test_login_and_wrong_password(app, client, make_user):
    """A wrong password is a 422 with a message and the username kept; the right one logs in."""
    make_user("sales", username="amy")
    response = client.post("/login", data={"username": "amy", "password": "nope"})
    assert response.status_code == 422
    assert "Wrong username or password" in text_of(response) and 'value="amy"' in text_of(response)
    assert login(client, "amy").status_code == 303
    assert client.get("/").status_code == 200


def test_anonymous_is_sent_to_login(client):
    """Staff pages need a login."""
    response = client.get("/orders/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_throttle_holds_in_the_database(app, make_user):
    """After five failures the username is refused even with the right password, from any
    client (the counter is in the database, so it holds across gunicorn workers)."""
    make_user("sales", username="bob")
    for _ in range(5):
        app.test_client().post("/login", data={"username": "bob", "password": "wrong"})
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(LoginFailure)) >= 5
    response = app.test_client().post("/login", data={"username": "bob", "password": PASSWORD})
    assert response.status_code == 429 and "Too many failed attempts" in text_of(response)


def test_a_stranger_cannot_lock_a_colleague_out_and_guessing_stays_stopped(app, make_user):
    """Five wrong passwords for carol from a stranger's address throttle that address for carol
    (429 with Retry-After, even with the right password), while carol from her own address still logs
    in; an address trying many names is stopped by the wider per-address limit."""
    make_user("sales", username="carol")
    stranger = {"REMOTE_ADDR": "203.0.113.66"}
    for _ in range(5):
        response = app.test_client().post("/login", data={"username": "carol", "password": "guess"},
                                          environ_base=stranger)
        assert response.status_code == 422
    refused = app.test_client().post("/login", data={"username": "Carol", "password": PASSWORD},
                                     environ_base=stranger)
    assert refused.status_code == 429 and "Too many failed attempts" in text_of(refused)
    assert int(refused.headers["Retry-After"]) > 0
    colleague = app.test_client()
    assert colleague.post("/login", data={"username": "carol", "password": PASSWORD},
                          environ_base={"REMOTE_ADDR": "198.51.100.7"}).status_code == 303
    assert colleague.get("/", environ_base={"REMOTE_ADDR": "198.51.100.7"}).status_code == 200

    # Guessing many names from one address: 50 failures (10 x 5) stop that address for every name.
    for n in range(45):
        app.test_client().post("/login", data={"username": f"name{n}", "password": "guess"},
                               environ_base=stranger)
    make_user("sales", username="dora")
    blocked = app.test_client().post("/login", data={"username": "dora", "password": PASSWORD},
                                     environ_base=stranger)
    assert blocked.status_code == 429
    assert app.test_client().post("/login", data={"username": "dora", "password": PASSWORD},
                                  environ_base={"REMOTE_ADDR": "198.51.100.8"}).status_code == 303


def test_logout_ends_this_device_only(app, make_user):
    """Logging out on the phone leaves the laptop logged in."""
    make_user("sales", username="cat")
    phone, laptop = app.test_client(), app.test_client()
    login(phone, "cat"), login(laptop, "cat")
    assert phone.post("/logout").status_code == 303
    assert phone.get("/").status_code == 302
    assert laptop.get("/").status_code == 200


def test_logout_everywhere(app, make_user):
    """Log out everywhere ends every device of the person."""
    make_user("sales", username="dan")
    phone, laptop = app.test_client(), app.test_client()
    login(phone, "dan"), login(laptop, "dan")
    phone.post("/logout-everywhere")
    assert laptop.get("/").status_code == 302
    assert phone.get("/").status_code == 302


def test_password_change_ends_the_other_devices(app, make_user):
    """Changing the password keeps this device and ends the others."""
    make_user("sales", username="eve")
    phone, laptop = app.test_client(), app.test_client()
    login(phone, "eve"), login(laptop, "eve")
    bad = phone.post("/account", data={"current": PASSWORD, "new": "short", "confirm": "short"})
    assert bad.status_code == 422
    response = phone.post("/account", data={"current": PASSWORD, "new": "a much longer one", "confirm": "a much longer one"})
    assert response.status_code == 303
    assert phone.get("/").status_code == 200
    assert laptop.get("/").status_code == 302
    assert login(app.test_client(), "eve", "a much longer one").status_code == 303


def test_admin_revokes_a_lost_phone(app, make_user, as_user):
    """An admin ends one device session; that phone is logged out, the others not."""
    make_user("worker", username="fay")
    phone, tablet = app.test_client(), app.test_client()
    login(phone, "fay"), login(tablet, "fay")
    with app.app_context():
        devices = db.session.scalars(db.select(DeviceSession).join(User, User.id == DeviceSession.user_id)
                                     .where(User.username == "fay").order_by(DeviceSession.id)).all()
        first = devices[0].id
    admin = as_user("admin")
    assert admin.post(f"/admin/devices/{first}/revoke").status_code == 303
    assert phone.get("/").status_code == 302
    assert tablet.get("/").status_code == 200


def test_session_survives_a_network_change(app, make_user):
    """Session protection is 'basic': a new address (Wi-Fi to 4G) keeps the login."""
    make_user("worker", username="gus")
    client = app.test_client()
    login(client, "gus")
    response = client.get("/", environ_base={"REMOTE_ADDR": "10.1.2.3"},
                          headers={"User-Agent": "Mozilla/5.0 (Linux; Android 14)"})
    assert response.status_code == 200


def test_worker_switch_by_pin_records_actions_under_that_person(app, make_user):
    """On a shared phone, a second worker switches in by number and PIN; later actions are theirs."""
    make_user("worker", username="hal", employee_no="W1", pin="1111")
    second = make_user("worker", username="ivy", employee_no="W2", pin="2222", name="Ivy")
    phone = app.test_client()
    login(phone, "hal")
    wrong = phone.post("/switch", data={"employee_no": "W2", "pin": "9999"})
    assert wrong.status_code == 422 and 'value="W2"' in text_of(wrong)
    assert phone.post("/switch", data={"employee_no": "W2", "pin": "2222"}).status_code == 303
    assert "Ivy" in text_of(phone.get("/"))
    with app.app_context():
        switch = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "auth.switch"))
        assert switch.actor_user_id == second
        device = db.session.get(DeviceSession, switch.actor_device_id)
        assert device.user_id == second and device.login_user.username == "hal"


def test_a_request_made_before_a_switch_does_not_log_the_phone_out(app, make_user):
    """A request the phone sent before a switch (a page the service worker was keeping) that the server
    answers after it carries the cookie of the person before. It is answered for the phone's active
    person, without a cookie of its own: refused, it flashed "Please log in" into the old cookie and
    that answer, landing last, put the old cookie back and logged the phone out (a browser test saw it)."""
    make_user("worker", username="hal", employee_no="W1", pin="1111")
    make_user("worker", username="ivy", employee_no="W2", pin="2222", name="Ivy")
    phone = app.test_client()
    login(phone, "hal")
    assert phone.get("/").status_code == 200  # the welcome read: the cookie as the phone then holds it
    before = phone.get_cookie("session").value
    assert phone.post("/switch", data={"employee_no": "W2", "pin": "2222"}).status_code == 303
    late = app.test_client()
    late.set_cookie("session", before)
    answer = late.get("/")
    assert answer.status_code == 200 and "Ivy" in text_of(answer)
    assert "Set-Cookie" not in answer.headers
    assert "Ivy" in text_of(phone.get("/"))
    # Even the old cookie itself, put back, is the phone of the person switched in.
    phone.set_cookie("session", before)
    assert "Ivy" in text_of(phone.get("/"))


def test_pin_guessing_is_throttled(app, make_user):
    """Five wrong PINs lock switching to that employee number for a while."""
    make_user("worker", username="jon", employee_no="W3", pin="3333")
    make_user("worker", username="kim")
    phone = app.test_client()
    login(phone, "kim")
    for _ in range(5):
        phone.post("/switch", data={"employee_no": "W3", "pin": "0000"})
    response = phone.post("/switch", data={"employee_no": "W3", "pin": "3333"})
    assert response.status_code == 429


def test_badge_switch(app, make_user, as_user):
    """A badge QR switches a logged-in phone to its worker with their PIN (a badge alone does not);
    a new badge voids the old."""
    worker = make_user("worker", username="lea", name="Lea", employee_no="W7", pin="7777")
    admin = as_user("admin")
    page = text_of(admin.post(f"/admin/users/{worker}/badge"))
    import re
    url = re.search(r"https://tracker\.example\.com(/b/[A-Za-z0-9_-]+)", page).group(1)
    make_user("worker", username="max")
    phone = app.test_client()
    login(phone, "max")
    page = text_of(phone.get(url))
    assert "Lea" in page and 'inputmode="numeric"' in page
    assert phone.post(url).status_code == 422  # no PIN
    wrong = phone.post(url, data={"pin": "1111"})
    assert wrong.status_code == 422 and "Wrong PIN." in text_of(wrong)
    assert "Lea" not in text_of(phone.get("/")).split("<main", 1)[0]
    assert phone.post(url, data={"pin": "7777"}).status_code == 303
    assert "Lea" in text_of(phone.get("/"))
    admin.post(f"/admin/users/{worker}/badge")
    assert phone.get(url).status_code == 404
    # an unknown badge, and a badge on a phone that is not logged in
    assert phone.get("/b/nonsense").status_code == 404


def test_deactivated_user_cannot_log_in(app, make_user):
    """An inactive login is refused like a wrong password."""
    make_user("sales", username="ned", active=False)
    assert app.test_client().post("/login", data={"username": "ned", "password": PASSWORD}).status_code == 422


def test_open_redirect_is_refused(app, make_user):
    """?next= only follows paths on this site."""
    make_user("sales", username="olga")
    client = app.test_client()
    response = client.post("/login?next=https://evil.example.com/", data={"username": "olga", "password": PASSWORD})
    assert response.headers["Location"] == "/"
