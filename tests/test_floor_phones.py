"""Floor phones: a supervisor's one-time code (digits or QR) makes a shared phone a revocable floor
device that opens only the switch screen and worker pages; a worker switches in by employee number
or badge, always with the PIN."""
import hashlib
import re
from datetime import timedelta

import pytest
import time_machine

from webapp import capabilities
from webapp.auth.models import DeviceSession, FloorEnrolment, User
from webapp.db_types import utcnow
from webapp.extensions import db
from webapp.production.models import WorkOrder

from .conftest import login
from .helpers import text_of

CODE = re.compile(r'<p class="code"[^>]*>(\d{4} \d{4})</p>')
QR_URL = re.compile(r"https://tracker\.example\.com(/enrol/[A-Za-z0-9_-]+)")


def issue_code(supervisor, label="Floor phone 3") -> tuple[str, str]:
    """The supervisor shows a code: (the 8 digits as typed, the QR's path)."""
    response = supervisor.post("/floor-phones", data={"label": label})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    page = text_of(response)
    assert "<svg" in page
    return CODE.search(page).group(1).replace(" ", ""), QR_URL.search(page).group(1)


def floor_phone_of(app, label="Floor phone 3") -> DeviceSession:
    """The floor device named label, read fresh."""
    with app.app_context():
        device = db.session.scalar(db.select(DeviceSession).where(DeviceSession.label == label))
        db.session.expunge_all()
        return device


@pytest.fixture
def floor(app, make_order, make_user, as_user):
    """A work order, a production supervisor, a worker with a PIN, and a phone enrolled by code."""
    order_id = make_order("in_production")
    with app.app_context():
        token = db.session.scalar(db.select(WorkOrder.token).where(WorkOrder.order_id == order_id))
    make_user("worker", username="huang", name="Huang Worker", employee_no="1001", pin="1234")
    supervisor = as_user("production", username="zhang", name="Zhang Supervisor", employee_no="P1", pin="9999")
    code, _qr = issue_code(supervisor)
    phone = app.test_client()
    assert phone.post("/enrol", data={"code": code}).status_code == 303
    return {"phone": phone, "supervisor": supervisor, "label_path": f"/w/{token}", "order_id": order_id}


def test_a_code_is_stored_hashed_and_enrols_one_phone_only(app, make_user, as_user):
    """The code and the QR token are stored only as hashes; the code makes one floor phone, and the
    same code again (another phone, or the same one replaying) is refused with a translated reason."""
    supervisor = as_user("production", name="Zhang Supervisor")
    code, qr_path = issue_code(supervisor, "车间手机 3")
    with app.app_context():
        row = db.session.scalar(db.select(FloorEnrolment))
        stored = " ".join(str(value) for value in vars(row).values())
        assert code not in stored and qr_path.rsplit("/", 1)[1] not in stored
        assert row.code_hash != hashlib.sha256(code.encode()).hexdigest()  # keyed, not a bare hash
        assert row.token_hash == hashlib.sha256(qr_path.rsplit("/", 1)[1].encode()).hexdigest()
        assert row.expires_at - row.created_at == timedelta(minutes=10)

    phone = app.test_client()
    answer = phone.post("/enrol?next=/production/", data={"code": f"{code[:4]} {code[4:]}"})
    assert answer.status_code == 303 and answer.headers["Location"].startswith("/switch")
    device = floor_phone_of(app, "车间手机 3")
    assert device.kind == "floor" and device.user_id is None and device.revoked_at is None
    assert device.login_user_id == supervisor.user_id

    again = app.test_client().post("/enrol", data={"code": code})
    assert again.status_code == 422 and "already used" in text_of(again)
    chinese = app.test_client()
    chinese.post("/lang/zh", data={"next": "/enrol"})
    refused = chinese.post("/enrol", data={"code": code})
    assert refused.status_code == 422 and "此代码已用过" in text_of(refused)
    # the QR of the used code says so too, and changes nothing
    assert app.test_client().get(qr_path).status_code == 410
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(DeviceSession)
                                 .where(DeviceSession.kind == "floor")) == 1


def test_a_code_expires_in_minutes_and_wrong_codes_say_why(app, as_user):
    """After FLOOR_ENROL_MINUTES neither the digits nor the QR enrol a phone; a code that is not 8
    digits, or no code of ours, is told apart."""
    supervisor = as_user("admin")
    code, qr_path = issue_code(supervisor)
    phone = app.test_client()
    short = phone.post("/enrol", data={"code": "1234"})
    assert short.status_code == 422 and "8 digits" in text_of(short)
    wrong = "00000000" if code != "00000000" else "11111111"
    unknown = phone.post("/enrol", data={"code": wrong})
    assert unknown.status_code == 422 and "no such code" in text_of(unknown)
    with time_machine.travel(utcnow() + timedelta(minutes=11), tick=False):
        late = phone.post("/enrol", data={"code": code})
        assert late.status_code == 422 and "expired" in text_of(late)
        assert phone.get(qr_path).status_code == 410
        assert phone.post(qr_path).status_code == 410
    assert floor_phone_of(app) is None


def test_a_new_code_replaces_the_supervisors_unused_one(app, as_user):
    """The code on the supervisor's screen is the one that works: an older unused one stops."""
    supervisor = as_user("production")
    first, _ = issue_code(supervisor, "Phone A")
    second, _ = issue_code(supervisor, "Phone B")
    assert app.test_client().post("/enrol", data={"code": first}).status_code == 422
    assert app.test_client().post("/enrol", data={"code": second}).status_code == 303


def test_the_qr_enrols_with_one_tap_and_a_get_changes_nothing(app, as_user):
    """Opening the QR shows what will happen (a chat app's preview uses nothing); the tap enrols."""
    supervisor = as_user("production", name="Zhang Supervisor")
    _code, qr_path = issue_code(supervisor)
    phone = app.test_client()
    page = phone.get(qr_path)
    assert page.status_code == 200 and "Floor phone 3" in text_of(page) and "Zhang Supervisor" in text_of(page)
    assert floor_phone_of(app) is None
    assert phone.post(qr_path).status_code == 303
    assert floor_phone_of(app).kind == "floor"
    assert app.test_client().get("/enrol/not-a-code-of-ours").status_code == 404


def test_only_supervisors_enrol_and_lock_out_floor_phones(app, as_user, floor):
    """Production and admin show codes; sales and workers do not, nor lock a phone out."""
    assert as_user("sales").get("/floor-phones").status_code == 403
    worker = as_user("worker")
    assert worker.post("/floor-phones", data={"label": "x"}).status_code == 403
    device = floor_phone_of(app)
    assert worker.post(f"/floor-phones/{device.id}/revoke").status_code == 403
    listing = text_of(floor["supervisor"].get("/floor-phones"))
    assert "Floor phone 3" in listing and "Lock this phone out" in listing


def test_a_label_scanned_on_a_floor_phone_asks_who_then_opens_the_work(app, floor):
    """Nobody switched in: every page but the switch screen leads there; after the PIN switch the
    scanned label's page opens."""
    phone, label = floor["phone"], floor["label_path"]
    for path in ("/", "/orders/", "/customers/", "/admin/", "/production/", "/account"):
        answer = phone.get(path)
        assert answer.status_code == 302 and answer.headers["Location"] == "/switch", path
    answer = phone.get(label)
    assert answer.headers["Location"] == "/switch"
    # where it was going is kept in the session without the label's token (a credential: never stored)
    cookie = phone.get_cookie(app.config.get("SESSION_COOKIE_NAME") or "session")
    with app.app_context():
        stored = app.session_interface.get_signing_serializer(app).loads(cookie.value)
    assert label.split("/w/")[1] not in repr(stored) and stored.get("floor_next")
    page = text_of(phone.get("/switch"))
    assert "Floor phone 3" in page and "Nobody is switched in" in page
    assert 'inputmode="numeric"' in page and 'autocomplete="off"' in page and 'pattern="[0-9]*"' in page
    wrong = phone.post("/switch", data={"employee_no": "1001", "pin": "0000"})
    assert wrong.status_code == 422
    switched = phone.post("/switch", data={"employee_no": "1001", "pin": "1234"})
    assert switched.status_code == 303 and switched.headers["Location"] == label
    work = phone.get(label)
    assert work.status_code == 200 and "Huang Worker" in text_of(work)
    # the worker's own pages, but no office page, and no office tab in the menu
    home = text_of(phone.get("/"))
    assert 'href="/orders/"' not in home and "Done: hand the phone back" in home


def test_office_pages_are_refused_on_a_floor_phone_whoever_switched_in(app, floor):
    """A production supervisor switching in by PIN on a floor phone still sees worker pages only."""
    phone = floor["phone"]
    assert phone.post("/switch", data={"employee_no": "P1", "pin": "9999"}).status_code == 303
    for path in (f"/production/orders/{floor['order_id']}", f"/orders/{floor['order_id']}", "/floor-phones",
                 "/admin/", "/account"):
        answer = phone.get(path)
        assert answer.status_code == 302 and answer.headers["Location"] == "/switch", path
    assert "worker pages only" in text_of(phone.get("/switch"))
    assert phone.get(floor["label_path"]).status_code == 200
    refused = phone.post("/logout-everywhere")
    assert refused.status_code == 303 and refused.headers["Location"] == "/switch"
    assert floor_phone_of(app).revoked_at is None


def test_a_badge_on_a_floor_phone_needs_the_pin(app, floor, as_user):
    """The badge QR holds a random token (only its hash is stored) and names the worker; without the
    right PIN nobody switches in."""
    admin = as_user("admin")
    with app.app_context():
        worker_id = db.session.scalar(db.select(User.id).where(User.username == "huang"))
    badge = re.search(r"https://tracker\.example\.com(/b/[A-Za-z0-9_-]+)",
                      text_of(admin.post(f"/admin/users/{worker_id}/badge"))).group(1)
    assert len(badge.rsplit("/", 1)[1]) >= 32
    with app.app_context():
        assert db.session.get(User, worker_id).badge_hash == hashlib.sha256(badge.rsplit("/", 1)[1].encode()).hexdigest()
    phone = floor["phone"]
    phone.get(floor["label_path"])  # scanned a label first: after the switch it opens
    page = phone.get(badge)
    assert page.status_code == 200 and 'inputmode="numeric"' in text_of(page)
    assert phone.post(badge).status_code == 422
    assert phone.post(badge, data={"pin": "4321"}).status_code == 422
    assert phone.get("/").headers["Location"] == "/switch"  # still nobody
    switched = phone.post(badge, data={"pin": "1234"})
    assert switched.status_code == 303 and switched.headers["Location"] == floor["label_path"]
    assert floor_phone_of(app).user_id == worker_id


def test_a_locked_out_floor_phone_is_back_at_the_login_page(app, floor):
    """Revoked from the supervisor's page: its next request is the login page (with the way back in)."""
    phone = floor["phone"]
    assert phone.post("/switch", data={"employee_no": "1001", "pin": "1234"}).status_code == 303
    device = floor_phone_of(app)
    assert floor["supervisor"].post(f"/floor-phones/{device.id}/revoke").status_code == 303
    answer = phone.get(floor["label_path"])
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/login")
    login_page = text_of(phone.get(answer.headers["Location"]))
    assert "Floor phone? Enter the enrolment code" in login_page
    assert floor_phone_of(app).revoked_reason == "floor_revoked"


def test_handing_back_and_idling_switch_the_worker_out_not_the_phone(app, floor):
    """"Done" and FLOOR_IDLE_MINUTES without use end the worker's turn; the phone stays enrolled.
    The supervisor changing their password leaves the floor phones they enrolled alone."""
    phone = floor["phone"]
    assert phone.post("/switch", data={"employee_no": "1001", "pin": "1234"}).status_code == 303
    handed = phone.post("/logout")
    assert handed.status_code == 303 and handed.headers["Location"] == "/switch"
    device = floor_phone_of(app)
    assert device.user_id is None and device.revoked_at is None
    assert phone.get("/").headers["Location"] == "/switch"

    assert phone.post("/switch", data={"employee_no": "1001", "pin": "1234"}).status_code == 303
    assert phone.get(floor["label_path"]).status_code == 200
    with time_machine.travel(utcnow() + timedelta(minutes=20), tick=False):
        assert phone.get(floor["label_path"]).status_code == 200  # still within the idle time
    with time_machine.travel(utcnow() + timedelta(minutes=51), tick=False):
        assert phone.get(floor["label_path"]).headers["Location"] == "/switch"
        assert "was handed back" in text_of(phone.get("/switch"))
    assert floor_phone_of(app).user_id is None
    with app.app_context():  # both ends of a turn are in the audit trail, the idle one too
        from webapp.audit import AuditEvent
        reasons = [event.after_data.get("reason") for event in db.session.scalars(
            db.select(AuditEvent).where(AuditEvent.action == "auth.switch_out").order_by(AuditEvent.id))]
    assert reasons == ["handed_back", "idle"], reasons

    supervisor = floor["supervisor"]
    supervisor.post("/account", data={"current": "correct horse 1", "new": "a new password 2",
                                      "confirm": "a new password 2"})
    assert floor_phone_of(app).revoked_at is None


def test_enrolment_attempts_are_rate_limited(app, as_user):
    """Guessing codes from one address stops after RATE_LIMIT_FLOOR_ENROL tries (429, Retry-After),
    the right code included."""
    app.config["RATE_LIMIT_FLOOR_ENROL"] = (3, 900)
    code, _ = issue_code(as_user("production"))
    phone = app.test_client()
    wrong = "00000000" if code != "00000000" else "11111111"
    for _ in range(3):
        assert phone.post("/enrol", data={"code": wrong}).status_code == 422
    stopped = phone.post("/enrol", data={"code": code})
    assert stopped.status_code == 429 and int(stopped.headers["Retry-After"]) > 0
    assert "Too many attempts" in text_of(stopped)
    assert floor_phone_of(app) is None


def test_a_successful_enrolment_counts_once(app, as_user):
    """The view runs twice on SQLite (read, then write phase): the attempt is counted once."""
    app.config["RATE_LIMIT_FLOOR_ENROL"] = (2, 900)
    supervisor = as_user("production")
    first, _ = issue_code(supervisor, "A")
    assert app.test_client().post("/enrol", data={"code": first}).status_code == 303
    second, _ = issue_code(supervisor, "B")
    assert app.test_client().post("/enrol", data={"code": second}).status_code == 303


def test_the_enrolment_token_is_kept_out_of_logs(app):
    """/enrol/<token> is a capability route: redacted in access logs, no-store, no Referer."""
    assert capabilities.redact("GET /enrol/AbCdEf123_-x HTTP/1.1") == "GET /enrol/[redacted] HTTP/1.1"
    assert capabilities.redact("/login?next=%2Fenrol%2FAbC") == "/login?next=%2Fenrol%2F[redacted]"


def test_number_fields_open_the_numeric_keypad(app, as_user):
    """The enrolment code, employee numbers and PINs, wherever they are typed."""
    enrol = text_of(app.test_client().get("/enrol"))
    assert re.search(r'<input[^>]*autocomplete="one-time-code"[^>]*inputmode="numeric"', enrol) or \
        re.search(r'<input[^>]*inputmode="numeric"[^>]*autocomplete="one-time-code"', enrol)
    admin = as_user("admin")
    form = text_of(admin.get("/admin/users/new"))
    for name in ("employee_no", "pin"):
        tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', form).group(0)
        assert 'inputmode="numeric"' in tag, name
    login_page = text_of(app.test_client().get("/login"))
    assert 'href="/enrol"' in login_page


def test_the_scanner_of_a_floor_phone_with_nobody_on_it_opens_badges_and_labels_only(app, floor, make_product):
    """The in-app scanner works before anyone switched in (an installed app on an iPhone cannot hand
    a camera-app scan back), but only this app's own links come out of it."""
    phone = floor["phone"]
    assert phone.get("/scan").status_code == 200
    go = phone.post("/scan/resolve", data={"code": f"https://tracker.example.com{floor['label_path']}"},
                    headers={"Accept": "application/json"})
    assert go.status_code == 200 and go.get_json() == {"action": "go", "url": floor["label_path"]}
    product_id = make_product(model="BRK-9")
    with app.app_context():
        from webapp.production.models import Product
        db.session.get(Product, product_id).barcode = "4006381333931"
        db.session.commit()
    product = phone.post("/scan/resolve", data={"code": "4006381333931"}, headers={"Accept": "application/json"})
    assert product.status_code == 403 and "Switch in first" in product.get_json()["message"]
    assert app.test_client().get("/scan").status_code == 302  # a phone that is nothing of ours: log in


def test_the_admin_device_list_shows_and_ends_a_floor_phone(app, floor, as_user):
    """On the admin's list of logged-in devices a floor phone with nobody on it says so, and its
    "Log out" locks it out."""
    admin = as_user("admin")
    page = text_of(admin.get("/admin/"))
    assert "nobody switched in" in page and "Floor phone, enrolled by Zhang Supervisor" in page
    device = floor_phone_of(app)
    ended = admin.post(f"/admin/devices/{device.id}/revoke")
    assert ended.status_code == 303 and ended.headers["Location"] == "/admin/"
    assert floor_phone_of(app).revoked_at is not None
    assert floor["phone"].get("/").headers["Location"].startswith("/login")


def test_one_revoke_view_behind_both_pages(app, floor, as_user, make_user):
    """The admin's list and the supervisor's floor phones end a session through one view with one
    audit action: the admin any login session by either address, the supervisor floor phones only
    (another person's login session is not theirs to know of: 404, and it stays live)."""
    from webapp.audit import AuditEvent
    make_user("sales", username="sue")
    laptop = app.test_client()
    assert login(laptop, "sue").status_code == 303
    with app.app_context():
        personal = db.session.scalar(db.select(DeviceSession.id).join(User, User.id == DeviceSession.user_id)
                                     .where(User.username == "sue"))
    supervisor = floor["supervisor"]
    assert supervisor.post(f"/floor-phones/{personal}/revoke").status_code == 404
    assert supervisor.post(f"/admin/devices/{personal}/revoke").status_code == 404
    assert laptop.get("/").status_code == 200
    admin = as_user("admin")
    ended = admin.post(f"/floor-phones/{personal}/revoke")
    assert ended.status_code == 303 and ended.headers["Location"] == "/floor-phones"
    assert laptop.get("/").status_code == 302
    device = floor_phone_of(app)
    locked = supervisor.post(f"/floor-phones/{device.id}/revoke")
    assert locked.status_code == 303 and locked.headers["Location"] == "/floor-phones"
    assert supervisor.post(f"/floor-phones/{device.id}/revoke").status_code == 303  # once: no second event
    with app.app_context():
        events = db.session.scalars(db.select(AuditEvent).where(AuditEvent.entity_type == "device_session",
                                                                AuditEvent.action.like("%revoke%"))).all()
        assert sorted((e.entity_id, e.action) for e in events) == sorted([(personal, "device.revoked"),
                                                                          (device.id, "device.revoked")])


@pytest.mark.parametrize("app", [pytest.param("sqlite", id="sqlite"),
                                 pytest.param("postgres", id="postgres", marks=pytest.mark.postgres)],
                         indirect=True)
def test_one_code_used_by_two_phones_at_the_same_moment_enrols_one(app, as_user):
    """Two fresh phones send the same code at once, one typed and one by its QR: exactly one becomes
    a floor phone, the other is told the code is used (nothing half-made)."""
    import threading
    supervisor = as_user("production", name="Zhang Supervisor")
    code, qr_path = issue_code(supervisor, "车间手机 7")
    phones = [app.test_client(), app.test_client()]
    tokens = [phone.csrf_token() for phone in phones]
    posts = [("/enrol", {"code": code}), (qr_path, {})]
    barrier, statuses = threading.Barrier(2), [None, None]

    def send(index):
        path, data = posts[index]
        barrier.wait()
        statuses[index] = phones[index].post(path, csrf=False, data={**data, "csrf_token": tokens[index]}).status_code

    threads = [threading.Thread(target=send, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses)[0] == 303 and sorted(statuses)[1] in (409, 410, 422), statuses
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(DeviceSession)
                                 .where(DeviceSession.kind == "floor")) == 1
        assert db.session.scalar(db.select(FloorEnrolment.used_at)) is not None
