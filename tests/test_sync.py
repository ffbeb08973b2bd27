"""The offline outbox's server side (DESIGN.md §5.7): enrolling a phone, replays with a device
credential and an Idempotency-Key, stored answers, conflicts, revocation, the manifest of pages kept
offline, key retention, and the service worker and web app manifest."""
import hashlib
import io
import json
import re
import threading
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace

import pytest
import time_machine

from webapp.auth.models import User, hash_secret
from webapp.db_types import utcnow
from webapp.extensions import db
from webapp.photos import Photo
from webapp.production.models import Anomaly, ProgressReport, WorkOrder
from webapp.sync import replay as replay_module
from webapp.sync.models import IdempotencyRecord, SyncConflict, SyncDevice, SyncDeviceMember

from .helpers import count, get, jpeg_bytes, text_of

PIN = "2468"


def stamp(moment: datetime) -> str:
    """A phone's clock as the outbox sends it (ISO 8601, UTC, with Z)."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def is_problem(response, status: int) -> dict:
    """Assert response is problem+json with status and return its body."""
    assert response.status_code == status, (response.status_code, text_of(response)[:500])
    assert response.mimetype == "application/problem+json", response.mimetype
    body = response.get_json()
    assert body["status"] == status and body["title"]
    return body


def enrol(client, device=None):
    """POST /sync/enrol as the page does: CSRF in a header, the credential if the phone has one."""
    headers = {"X-CSRFToken": client.csrf_token()}
    if device is not None:
        headers["Authorization"] = f"Device {device.id}.{device.secret}"
    return client.post("/sync/enrol", csrf=False, headers=headers)


def send(app, path, device, actor_id, key, data, recorded_at=None, **headers):
    """Replay one outbox entry from a fresh client: no session cookie, no CSRF token."""
    client = app.test_client()
    sent = {"Authorization": f"Device {device.id}.{device.secret}", "Idempotency-Key": key,
            "X-Actor": str(actor_id), "X-Recorded-At": stamp(recorded_at or utcnow()),
            "Accept": "application/json"}
    sent.update(headers)
    sent = {k: v for k, v in sent.items() if v is not None}
    assert client.get_cookie("session") is None
    response = client.post(path, data=data, csrf=False, headers=sent)
    response.client = client
    return response


def send_at_once(app, phone, path, key, copies, data) -> list:
    """Replay one entry from `copies` threads released together (each its own client, no cookie);
    returns their answers in order, or the exception a thread met (an exception in the app is the
    failure under test)."""
    barrier = threading.Barrier(copies)
    answers = [None] * copies
    clients = [app.test_client() for _ in range(copies)]
    headers = {"Authorization": f"Device {phone.id}.{phone.secret}", "Idempotency-Key": key,
               "X-Actor": str(phone.worker_id), "X-Recorded-At": stamp(utcnow())}

    def go(index):
        barrier.wait()
        try:
            answers[index] = clients[index].post(path, csrf=False, headers=headers, data=data())
        except Exception as error:  # noqa: BLE001 -- reported as the answer, so the test shows it
            answers[index] = error

    threads = [threading.Thread(target=go, args=(i,)) for i in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return answers


def report_data(good="5", scrap="0", note="", photo: bytes | None = None, filename="shot.jpg") -> dict:
    """The progress form's fields as the outbox stored them (a fresh file object each time)."""
    data = {"p-good": good, "p-scrap": scrap, "p-note": note}
    if photo is not None:
        data["p-photos"] = [(io.BytesIO(photo), filename)]
    return data


@pytest.fixture
def phone(app, as_user):
    """A worker logged in on a phone whose outbox is enrolled: the client, the worker and the credential."""
    client = as_user("worker", name="Wu Worker")
    response = enrol(client)
    assert response.status_code == 200, text_of(response)[:500]
    body = response.get_json()
    return SimpleNamespace(client=client, worker_id=client.user_id, id=body["device"], secret=body["secret"])


def switch_in(app, phone, make_user, name="Li Worker", employee_no="E2") -> int:
    """Hand the phone to a second worker (employee number + PIN) and enrol them on its outbox."""
    person_id = make_user("worker", name=name, employee_no=employee_no, pin=PIN)
    response = phone.client.post("/switch", data={"employee_no": employee_no, "pin": PIN})
    assert response.status_code == 303, text_of(response)[:500]
    assert enrol(phone.client, phone).status_code == 200
    return person_id


def good_of(app, work_order_id: int) -> str:
    """The good pieces counted on a work order, as text ("5")."""
    with app.app_context():
        return str(db.session.get(WorkOrder, work_order_id).good.normalize())


def reports(app) -> list[ProgressReport]:
    """Every progress report, oldest first, detached."""
    with app.app_context():
        rows = db.session.scalars(db.select(ProgressReport).order_by(ProgressReport.id)).all()
        db.session.expunge_all()
        return rows


# --- 1. enrolling ------------------------------------------------------------------------------

def test_enrol_gives_the_secret_once_and_adds_the_switched_worker(app, as_user, make_user):
    """The first enrol returns a device id and secret; a later one with it adds the person switched in."""
    worker = as_user("worker", name="Wu Worker")
    make_user("worker", name="Li Worker", employee_no="E2", pin=PIN)
    first = enrol(worker)
    assert first.status_code == 200 and first.is_json
    body = first.get_json()
    secret = body["secret"]
    assert len(secret) >= 32 and body["user"]["id"] == worker.user_id
    assert [m["id"] for m in body["members"]] == [worker.user_id]
    with app.app_context():
        device = db.session.get(SyncDevice, body["device"])
        assert device.secret_hash == hash_secret(secret) and secret not in device.secret_hash  # only the hash kept

    assert worker.post("/switch", data={"employee_no": "E2", "pin": PIN}).status_code == 303
    second = enrol(worker, SimpleNamespace(id=body["device"], secret=secret))
    assert second.status_code == 200
    again = second.get_json()
    assert "secret" not in again and again["device"] == body["device"]
    with app.app_context():
        li = db.session.scalar(db.select(User).where(User.employee_no == "E2"))
        assert again["user"] == {"id": li.id, "name": "Li Worker"}
        assert {m["id"] for m in again["members"]} == {worker.user_id, li.id}
        assert {m["name"] for m in again["members"]} == {"Wu Worker", "Li Worker"}
    assert count(app, SyncDevice) == 1


def test_enrol_needs_a_login_and_the_csrf_token(app, as_user):
    """Without a login the enrol is sent to the login page (or 401); without the CSRF header it is 400."""
    stranger = app.test_client()
    response = stranger.post("/sync/enrol", csrf=False, headers={"X-CSRFToken": stranger.csrf_token()})
    assert response.status_code in (302, 401)
    if response.status_code == 302:
        assert "/login" in response.headers["Location"]
    worker = as_user("worker")
    assert worker.post("/sync/enrol", csrf=False).status_code == 400
    assert count(app, SyncDevice) == 0


# --- 2. a replay lands without a session ---------------------------------------------------------

def test_replay_without_cookie_lands_under_the_actor_at_the_phone_time(app, phone, work_order, make_user):
    """A cookie-less, token-less replay is applied (201 JSON), under X-Actor, timed by X-Recorded-At,
    with its photo stored."""
    li = switch_in(app, phone, make_user)
    recorded = utcnow().replace(microsecond=0) - timedelta(hours=3)
    photo = jpeg_bytes()
    response = send(app, f"/w/{work_order.token}/report", phone, li, "key-landing-1",
                    report_data("7", "1", "made offline", photo), recorded_at=recorded)
    assert response.status_code == 201, text_of(response)[:500]
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["status"] == "applied" and "Location" not in response.headers
    # The replay acted for X-Actor in that request only: it logged nobody in.
    after = response.client.get(f"/w/{work_order.token}")
    assert after.status_code == 302 and "/login" in after.headers["Location"]
    [row] = reports(app)
    assert body["id"] == row.id
    assert row.worker_id == li and row.worker_id != phone.worker_id
    assert row.occurred_at == recorded and row.received_at > recorded
    assert row.good_qty == Decimal("7") and row.scrap_qty == Decimal("1") and row.note == "made offline"
    with app.app_context():
        stored = db.session.scalars(db.select(Photo).where(Photo.entity_type == "progress")).all()
        assert [p.entity_id for p in stored] == [row.id]
        record = db.session.scalar(db.select(IdempotencyRecord))
        assert record.key == "key-landing-1" and record.actor_id == li and record.device_id == phone.id
    image = phone.client.get(f"/production/photos/{stored[0].id}")
    assert image.status_code == 200 and image.mimetype == "image/jpeg"
    image.close()


def test_a_phone_clock_in_the_future_is_not_believed(app, phone, work_order):
    """X-Recorded-At a day ahead is ignored: the report is timed when it arrived."""
    before = utcnow()
    response = send(app, f"/w/{work_order.token}/report", phone, phone.worker_id, "key-future",
                    report_data("1"), recorded_at=before + timedelta(days=1))
    assert response.status_code == 201
    [row] = reports(app)
    assert before - timedelta(seconds=1) <= row.occurred_at <= utcnow()


def test_anomaly_replay_lands_as_json_with_the_phone_time(app, phone, work_order):
    """A replayed anomaly is applied (201 JSON) at the phone's time with its photo and blocks the job;
    a worker's new date is refused 422 with the field named as posted."""
    path = f"/w/{work_order.token}/anomaly"
    recorded = utcnow().replace(microsecond=0) - timedelta(minutes=40)
    data = {"a-kind": "equipment_failure", "a-severity": "blocking", "a-note": "spindle broke",
            "a-photos": [(io.BytesIO(jpeg_bytes()), "spindle.jpg")]}
    response = send(app, path, phone, phone.worker_id, "key-anomaly", data, recorded_at=recorded)
    assert response.status_code == 201 and response.get_json()["status"] == "applied"
    with app.app_context():
        item = db.session.get(Anomaly, response.get_json()["id"])
        assert item.reported_at == recorded and item.reported_by_id == phone.worker_id
        assert item.work_order.status == "blocked"
        assert db.session.scalar(db.select(Photo.entity_id).where(Photo.entity_type == "anomaly")) == item.id
    body = is_problem(send(app, path, phone, phone.worker_id, "key-anomaly-eta",
                           {"a-kind": "equipment_failure", "a-severity": "minor", "a-note": "late",
                            "a-new_eta": "2027-01-20", "a-eta_reason": "x"}), 422)
    assert body["errors"].get("a-new_eta")
    assert count(app, Anomaly) == 1


# --- 3. idempotency ------------------------------------------------------------------------------

def test_same_key_five_times_records_once_and_answers_the_same(app, phone, work_order):
    """Five sends of one entry give one report and one photo; every answer is the same, repeats say so."""
    photo = jpeg_bytes()
    answers = [send(app, f"/w/{work_order.token}/report", phone, phone.worker_id, "key-five",
                    report_data("5", photo=photo)) for _ in range(5)]
    assert [a.status_code for a in answers] == [201] * 5
    assert len({a.get_data() for a in answers}) == 1
    assert answers[0].get_json()["status"] == "applied"
    assert "Idempotent-Replayed" not in answers[0].headers
    assert [a.headers.get("Idempotent-Replayed") for a in answers[1:]] == ["true"] * 4
    assert len(reports(app)) == 1 and count(app, Photo) == 1 and count(app, IdempotencyRecord) == 1
    assert good_of(app, work_order.id) == "5"


def test_same_key_with_other_fields_or_another_photo_is_refused(app, phone, work_order):
    """The same key with a different count or a different photo is 422 and records nothing new."""
    path = f"/w/{work_order.token}/report"
    photo = jpeg_bytes()
    assert send(app, path, phone, phone.worker_id, "key-reused", report_data("5", photo=photo)).status_code == 201
    is_problem(send(app, path, phone, phone.worker_id, "key-reused", report_data("6", photo=photo)), 422)
    other = jpeg_bytes(colour=(30, 200, 30))
    assert hashlib.sha256(other).hexdigest() != hashlib.sha256(photo).hexdigest()
    is_problem(send(app, path, phone, phone.worker_id, "key-reused", report_data("5", photo=other)), 422)
    is_problem(send(app, path, phone, phone.worker_id, "key-reused", report_data("5")), 422)  # photo left out
    assert len(reports(app)) == 1 and count(app, Photo) == 1
    assert good_of(app, work_order.id) == "5"


# --- 4. concurrent replays -----------------------------------------------------------------------

@pytest.mark.parametrize("app", [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
], indirect=True)
def test_five_concurrent_sends_of_one_key_have_one_effect(app, phone, work_order):
    """Five threads send the same entry at once: one report, every answer the stored 201."""
    copies = 5
    answers = send_at_once(app, phone, f"/w/{work_order.token}/report", "key-race", copies,
                           lambda: report_data("4", note="race"))
    # SQLite serialises the writers (BEGIN IMMEDIATE); on PostgreSQL they queue on the device row and
    # a late one that still collides on the key's unique index answers the stored response. Either way
    # no sender has to be told "sent twice at once".
    assert [getattr(a, "status_code", a) for a in answers] == [201] * copies, answers
    assert len({a.get_data() for a in answers}) == 1
    assert sorted(a.headers.get("Idempotent-Replayed", "") for a in answers) == [""] + ["true"] * (copies - 1)
    assert len(reports(app)) == 1 and count(app, IdempotencyRecord) == 1
    assert good_of(app, work_order.id) == "4"


@pytest.mark.parametrize("app", [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
], indirect=True)
def test_five_concurrent_sends_of_one_conflicting_key_keep_one_conflict(app, phone, work_order, as_user):
    """Five threads send the same entry for a finished work order at once: one conflict, every answer
    the same 409 (none a 500)."""
    token = work_order.token
    assert phone.client.post(f"/w/{token}/report", data={"p-good": "100"}).status_code == 303
    assert phone.client.post(f"/w/{token}/do/finish").status_code == 303
    assert as_user("qc").post(f"/w/{token}/do/pass_qc").status_code == 303
    copies = 5
    answers = send_at_once(app, phone, f"/w/{token}/report", "key-race-conflict", copies,
                           lambda: report_data("2", note="too late"))
    assert [getattr(a, "status_code", a) for a in answers] == [409] * copies
    assert len({a.get_data() for a in answers}) == 1
    assert count(app, SyncConflict) == 1 and count(app, IdempotencyRecord) == 1 and len(reports(app)) == 1


# --- 5. expired session --------------------------------------------------------------------------

def test_replay_lands_after_the_session_and_csrf_token_expired(app, phone, work_order):
    """A month later the cookie session is gone (login page, CSRF refused) but the device's replay lands."""
    lifetime = app.permanent_session_lifetime
    recorded = utcnow().replace(microsecond=0)
    old_token = phone.client.csrf_token()
    assert phone.client.get(f"/w/{work_order.token}").status_code == 200
    with time_machine.travel(datetime.now(timezone.utc) + lifetime + timedelta(days=1), tick=True):
        page = phone.client.get(f"/w/{work_order.token}")
        assert page.status_code == 302 and "/login" in page.headers["Location"]
        live = phone.client.post(f"/w/{work_order.token}/report", csrf=False,
                                 data={"p-good": "3", "csrf_token": old_token})
        assert live.status_code == 400  # the form's token died with the session
        assert reports(app) == []
        response = send(app, f"/w/{work_order.token}/report", phone, phone.worker_id, "key-late",
                        report_data("3", note="written before the session ended"), recorded_at=recorded)
        assert response.status_code == 201, text_of(response)[:500]
        assert response.get_json()["status"] == "applied"
    [row] = reports(app)
    assert row.worker_id == phone.worker_id and row.occurred_at == recorded


# --- 6. who may replay ---------------------------------------------------------------------------

def test_revoked_device_is_refused(app, phone, work_order, as_user):
    """After an admin revokes the phone its replays are 403 device_revoked and record nothing."""
    admin = as_user("admin")
    assert admin.post(f"/sync/devices/{phone.id}/revoke").status_code == 303
    with app.app_context():
        assert db.session.get(SyncDevice, phone.id).revoked_at is not None
    body = is_problem(send(app, f"/w/{work_order.token}/report", phone, phone.worker_id, "key-revoked",
                           report_data("2")), 403)
    assert body["reason"] == "device_revoked"
    assert is_problem(enrol(phone.client, phone), 403)["reason"] == "device_revoked"  # no re-enrolling it
    assert reports(app) == [] and count(app, IdempotencyRecord) == 0


def test_unknown_credential_missing_key_and_strangers_are_refused(app, phone, work_order, make_user):
    """A wrong secret is 401, a person never on the phone is 403 actor_not_enrolled, no key is 400."""
    path = f"/w/{work_order.token}/report"
    wrong = SimpleNamespace(id=phone.id, secret="not" + phone.secret)
    is_problem(send(app, path, wrong, phone.worker_id, "key-wrong", report_data("2")), 401)
    garbled = SimpleNamespace(id="abc", secret="x")
    is_problem(send(app, path, garbled, phone.worker_id, "key-bad", report_data("2")), 401)
    stranger = make_user("worker", name="Never Here", employee_no="E9", pin=PIN)
    body = is_problem(send(app, path, phone, stranger, "key-stranger", report_data("2")), 403)
    assert body["reason"] == "actor_not_enrolled"
    assert is_problem(send(app, path, phone, 999999, "key-nobody", report_data("2")), 403)["reason"] \
        == "actor_not_enrolled"
    is_problem(send(app, path, phone, phone.worker_id, None, report_data("2")), 400)
    is_problem(send(app, path, phone, phone.worker_id, "   ", report_data("2")), 400)
    assert reports(app) == [] and count(app, IdempotencyRecord) == 0


def test_deactivated_member_may_no_longer_replay(app, phone, work_order):
    """A person enrolled on the phone but since deactivated cannot record through it."""
    with app.app_context():
        db.session.get(User, phone.worker_id).active = False
        db.session.commit()
    body = is_problem(send(app, f"/w/{work_order.token}/report", phone, phone.worker_id, "key-gone",
                           report_data("2")), 403)
    assert body["reason"] == "actor_not_enrolled" and reports(app) == []


# --- 7. conflicts --------------------------------------------------------------------------------

def test_replay_to_a_finished_work_order_becomes_a_conflict(app, phone, work_order, as_user):
    """A report arriving after the work order is done is kept as a conflict (409), answered the same
    on repeat, listed for operations who can settle it; workers cannot see the list."""
    worker, token = phone.client, work_order.token
    assert worker.post(f"/w/{token}/report", data={"p-good": "100"}).status_code == 303
    assert worker.post(f"/w/{token}/do/finish").status_code == 303
    assert as_user("qc").post(f"/w/{token}/do/pass_qc").status_code == 303
    assert get(app, WorkOrder, work_order.id).status == "done"

    photo = jpeg_bytes()
    recorded = utcnow().replace(microsecond=0) - timedelta(hours=5)
    first = send(app, f"/w/{token}/report", phone, phone.worker_id, "key-conflict",
                 report_data("3", "1", "late batch", photo, filename="late.jpg"), recorded_at=recorded)
    body = is_problem(first, 409)
    assert isinstance(body["conflict"], int)
    with app.app_context():  # no progress photo; the photo is kept with the conflict instead
        kept = db.session.scalars(db.select(Photo)).all()
        assert len(reports(app)) == 1 and [(p.entity_type, p.entity_id) for p in kept] == [
            ("sync_conflict", body["conflict"])]
        kept_id = kept[0].id
    with app.app_context():
        conflict = db.session.get(SyncConflict, body["conflict"])
        assert conflict.key == "key-conflict"
        assert conflict.endpoint == f"production.report work_order={work_order.id}"  # never the token
        assert conflict.actor_id == phone.worker_id and conflict.device_id == phone.id
        assert conflict.recorded_at == recorded and conflict.resolved_at is None
        fields = json.loads(conflict.fields)
        assert fields == {"p-good": ["3"], "p-scrap": ["1"], "p-note": ["late batch"]}
        assert json.loads(conflict.files) == [{"field": "p-photos", "filename": "late.jpg",
                                               "sha256": hashlib.sha256(photo).hexdigest()}]

    again = send(app, f"/w/{token}/report", phone, phone.worker_id, "key-conflict",
                 report_data("3", "1", "late batch", photo, filename="late.jpg"), recorded_at=recorded)
    assert again.status_code == 409 and again.get_data() == first.get_data()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert count(app, SyncConflict) == 1 and len(reports(app)) == 1

    assert worker.get("/sync/conflicts").status_code == 403
    assert worker.post(f"/sync/conflicts/{body['conflict']}/resolve").status_code == 403
    operations = as_user("operations")
    page = operations.get("/sync/conflicts")
    assert page.status_code == 200
    text = text_of(page)
    assert "late batch" in text and "Wu Worker" in text and "late.jpg" in text
    assert f"production.report work_order={work_order.id}" in text and token not in text
    assert f"/sync/conflicts/photos/{kept_id}" in text
    shown = operations.get(f"/sync/conflicts/photos/{kept_id}")
    assert shown.status_code == 200 and shown.mimetype == "image/jpeg"
    shown.close()
    assert worker.get(f"/sync/conflicts/photos/{kept_id}").status_code == 403
    assert operations.post(f"/sync/conflicts/{body['conflict']}/resolve").status_code == 303
    settled = get(app, SyncConflict, body["conflict"])
    assert settled.resolved_at is not None and settled.resolved_by_id == operations.user_id
    assert "Settled" in text_of(operations.get("/sync/conflicts"))


# --- 8. invalid replays --------------------------------------------------------------------------

def test_invalid_replay_is_422_and_keeps_no_key(app, phone, work_order):
    """p-good=abc is 422 with the field's error, nothing recorded, and the key is not spent."""
    path = f"/w/{work_order.token}/report"
    body = is_problem(send(app, path, phone, phone.worker_id, "key-typo", report_data("abc", note="keep")), 422)
    assert body["errors"].get("p-good"), body  # keyed by the field's name in the form, as the outbox stored it
    assert body["detail"]
    assert reports(app) == [] and count(app, IdempotencyRecord) == 0
    # The person corrects it; the outbox sends it again under a new key, and it lands.
    fixed = send(app, path, phone, phone.worker_id, "key-typo-fixed", report_data("8", note="keep"))
    assert fixed.status_code == 201
    assert len(reports(app)) == 1
    # Even the old key was not spent by the refused attempt.
    assert send(app, path, phone, phone.worker_id, "key-typo", report_data("1")).status_code == 201
    assert len(reports(app)) == 2


def test_fake_image_in_a_replay_is_422_and_records_nothing(app, phone, work_order):
    """Text bytes named .jpg are refused with a message about the photo; no report, no photo."""
    data = {"p-good": "2", "p-photos": [(io.BytesIO(b"this is not a jpeg at all"), "x.jpg")]}
    body = is_problem(send(app, f"/w/{work_order.token}/report", phone, phone.worker_id, "key-fake", data), 422)
    assert body["errors"].get("p-photos") and "image" in body["detail"]
    assert reports(app) == [] and count(app, Photo) == 0 and count(app, IdempotencyRecord) == 0


# --- 9. plain form posts -------------------------------------------------------------------------

def test_plain_form_post_still_redirects_and_still_needs_csrf(app, phone, work_order):
    """With the session and CSRF token the report redirects 303 with a flash; without the token it is 400."""
    token = work_order.token
    response = phone.client.post(f"/w/{token}/report", data={"p-good": "5", "p-scrap": "0"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/w/{token}")
    assert "Saved: 5 good, 0 scrap." in text_of(phone.client.get(response.headers["Location"]))
    refused = phone.client.post(f"/w/{token}/report", csrf=False, data={"p-good": "5"})
    assert refused.status_code == 400
    assert len(reports(app)) == 1


# --- 10. the manifest of pages kept offline -----------------------------------------------------

def test_manifest_lists_my_open_work_orders_and_is_capped(app, phone, make_order, make_user):
    """The manifest names the worker's open work orders, the outbox and the switch page; not others'
    work, not finished work; with the credential also the other people on the phone; never more than
    the cap."""
    other = make_user("worker", name="Other")
    tokens = {}
    for name in ("mine1", "mine2", "other", "done"):
        order_id = make_order("in_production")
        with app.app_context():
            row = db.session.scalar(db.select(WorkOrder).where(WorkOrder.order_id == order_id))
            row.owner_id = other if name == "other" else phone.worker_id
            if name == "done":
                row.status = "done"  # set directly: only the manifest's filter is under test here
            tokens[name] = row.token
            db.session.commit()
    urls = phone.client.get("/sync/manifest").get_json()["urls"]
    assert "/outbox" in urls and "/switch" in urls
    assert f"/w/{tokens['mine1']}" in urls and f"/w/{tokens['mine2']}" in urls
    assert f"/w/{tokens['other']}" not in urls and f"/w/{tokens['done']}" not in urls

    with app.app_context():
        db.session.add(SyncDeviceMember(device_id=phone.id, user_id=other))
        db.session.commit()
    with_device = phone.client.get("/sync/manifest",
                                   headers={"Authorization": f"Device {phone.id}.{phone.secret}"}).get_json()["urls"]
    assert f"/w/{tokens['other']}" in with_device and f"/w/{tokens['done']}" not in with_device

    app.config["SYNC_MANIFEST_CAP"] = 5
    capped = phone.client.get("/sync/manifest").get_json()["urls"]
    assert len(capped) == 5 and "/outbox" in capped and "/switch" in capped
    assert app.test_client().get("/sync/manifest").status_code in (302, 401)


# --- 11. key retention ---------------------------------------------------------------------------

def test_purge_keeps_keys_younger_than_thirty_days(app):
    """Asked to purge after one day, keys of 10 days stay and only those past 30 days go; the default
    retention (45 days) keeps a 40-day-old key."""
    now = utcnow()

    def add(key, days):
        db.session.add(IdempotencyRecord(key=key, fingerprint="f" * 64, endpoint="/x", status_code=201,
                                         content_type="application/json", body="{}",
                                         created_at=now - timedelta(days=days)))

    with app.app_context():
        for key, days in (("k10", 10), ("k29", 29), ("k31", 31), ("k40", 40)):
            add(key, days)
        db.session.commit()
        assert replay_module.purge_old_records(days=1) == 2
        db.session.commit()
        assert sorted(db.session.scalars(db.select(IdempotencyRecord.key))) == ["k10", "k29"]
        add("k40", 40)
        add("k50", 50)
        db.session.commit()
        assert replay_module.purge_old_records() == 1
        db.session.commit()
        assert sorted(db.session.scalars(db.select(IdempotencyRecord.key))) == ["k10", "k29", "k40"]


# --- 12. service worker, manifest, offline pages ------------------------------------------------

def test_service_worker_is_fresh_javascript_with_working_shell_urls(app):
    """/sw.js is JavaScript, never cached, carries its settings, and every shell URL answers 200."""
    client = app.test_client()
    response = client.get("/sw.js")
    assert response.status_code == 200 and response.mimetype in ("text/javascript", "application/javascript")
    assert response.headers["Cache-Control"] == "no-cache"
    source = text_of(response)
    assert "/*SETTINGS*/" not in source
    match = re.search(r"var SETTINGS = (\{.*?\});\n", source)
    assert match, source[:500]
    settings = json.loads(match.group(1))
    assert settings["version"] and settings["offline"] == "/offline" and settings["manifest"] == "/sync/manifest"
    assert set(settings["pages"]) == {"/offline", "/outbox"}
    pages = [url for variants in settings["pages"].values() for url in variants.values()]
    for url in settings["shell"] + pages + settings["lazy"] + [settings["store"]]:
        answer = client.get(url)
        assert answer.status_code == 200, url
        answer.close()


def worker_settings(response) -> dict:
    """The settings the server wrote into /sw.js."""
    return json.loads(re.search(r"var SETTINGS = (\{.*?\});\n", text_of(response)).group(1))


def test_the_worker_keeps_its_pages_in_every_language(app, as_user):
    """One service worker for every language: it fetches the offline and outbox pages (without cookies)
    in each language, each under its own URL, and its version does not depend on the language; the
    page registers /sw.js without ?lang= and names its person's language for the worker."""
    client = app.test_client()  # a browser that asks for no language: English
    settings = worker_settings(client.get("/sw.js"))
    assert settings["pages"] == {"/offline": {"en": "/offline?lang=en", "zh": "/offline?lang=zh"},
                                 "/outbox": {"en": "/outbox?lang=en", "zh": "/outbox?lang=zh"}}
    assert settings["defaultLanguage"] == app.config["LANGUAGES"][0] == "en"
    assert "-" not in settings["version"]
    # Old registrations (/sw.js?lang=…) and other browsers' languages get the very same worker.
    for other in (client.get("/sw.js?lang=zh"), client.get("/sw.js?lang=xx"),
                  client.get("/sw.js", headers={"Accept-Language": "zh-CN"})):
        assert worker_settings(other) == settings
    assert "无信号" in text_of(client.get("/offline?lang=zh")) and "No signal" in text_of(client.get("/offline"))
    assert "No signal" in text_of(client.get("/offline?lang=en", headers={"Accept-Language": "zh-CN"}))
    assert "待发送" in text_of(client.get("/outbox?lang=zh"))
    # The page registers the one worker and names the person's language, whatever the browser's.
    worker = as_user("worker")
    worker.post("/lang/zh", data={"next": "/"})
    config = json.loads(re.search(r'id="app-config">(.*?)</script>', text_of(worker.get("/"))).group(1))
    assert config["swUrl"] == "/sw.js" and config["lang"] == "zh"
    assert worker_settings(worker.get("/sw.js")) == settings


def test_web_app_manifest_is_installable(app):
    """The manifest has the right type, a name, icons incl. a maskable one, start_url, scope / and standalone."""
    client = app.test_client()
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200 and response.mimetype == "application/manifest+json"
    data = json.loads(text_of(response))
    assert data["name"] and data["start_url"] and data["scope"] == "/" and data["display"] == "standalone"
    assert any(icon.get("purpose") == "maskable" for icon in data["icons"])
    assert any(icon["sizes"] == "512x512" for icon in data["icons"])
    for icon in data["icons"]:
        answer = client.get(icon["src"])
        assert answer.status_code == 200 and answer.mimetype == "image/png", icon["src"]
        answer.close()


def test_offline_and_outbox_pages_open_without_login(app):
    """The offline page and the outbox page answer 200 to someone not logged in."""
    client = app.test_client()
    assert client.get("/offline").status_code == 200
    assert client.get("/outbox").status_code == 200


# --- courier and customer links; ending a person's logins -------------------------------------------

def packed_shipment_with_courier_link(app, make_order, as_user):
    """A packed shipment of an order whose work passed QC, and its courier link's path."""
    from .test_shipping import link_path, new_shipment, packed
    from webapp.orders.models import OrderLine
    from webapp.shipping.models import Shipment
    order_id = make_order("ready_to_ship")
    with app.app_context():
        line_id = db.session.scalar(db.select(OrderLine.id).where(OrderLine.order_id == order_id))
    warehouse = as_user("warehouse")
    assert new_shipment(warehouse, order_id, line_id, "10").status_code == 303
    with app.app_context():
        shipment_id = db.session.scalar(db.select(Shipment.id).where(Shipment.order_id == order_id))
    packed(app, warehouse, shipment_id)
    return shipment_id, link_path(app, "courier", shipment_id)


def link_replay(app, path, key, data):
    """Replay a courier or customer entry: `Authorization: Link`, no cookie, no CSRF token."""
    client = app.test_client()
    return client.post(path, data=data, csrf=False, headers={
        "Authorization": "Link", "Idempotency-Key": key, "X-Recorded-At": stamp(utcnow()),
        "Accept": "application/json"})


def test_courier_pickup_replays_once_through_the_link(app, make_order, as_user):
    """The courier confirmed pickup without signal: the replay lands once with the link as its only
    credential (no cookie, no CSRF token), and a repeat gets the stored answer."""
    from webapp.shipping.models import Shipment
    shipment_id, path = packed_shipment_with_courier_link(app, make_order, as_user)
    data = lambda: {"d-note": "gate 3", "d-photos": [(io.BytesIO(jpeg_bytes()), "load.jpg")]}  # noqa: E731
    first = link_replay(app, path + "/dispatch", "courier-key-1", data())
    assert first.status_code == 201, text_of(first)[:300]
    assert first.get_json()["status"] == "applied"
    again = link_replay(app, path + "/dispatch", "courier-key-1", data())
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    with app.app_context():
        shipment = db.session.get(Shipment, shipment_id)
        assert shipment.status == "dispatched" and shipment.dispatch_note == "gate 3"
        assert count(app, Photo) == 1
    # An Authorization header that is neither Device nor Link is no replay: CSRF applies as usual.
    plain = app.test_client().post(path + "/problem", data={"p-note": "x"}, csrf=False,
                                   headers={"Authorization": "Basic dXNlcjpwdw=="})
    assert plain.status_code == 400


def test_a_replay_through_a_replaced_link_is_a_conflict_not_a_404(app, make_order, as_user):
    """The warehouse issued a new courier code while the courier's phone still held an entry for the
    old one: the entry is kept as a conflict with its data (the courier cannot record it again)."""
    from webapp import links
    shipment_id, path = packed_shipment_with_courier_link(app, make_order, as_user)
    with app.app_context(), app.test_request_context():
        links.issue("courier", shipment_id, days=60)
        db.session.commit()
    answer = link_replay(app, path + "/problem", "courier-key-2", {"p-note": "box crushed"})
    body = is_problem(answer, 409)
    assert body["conflict"]
    with app.app_context():
        conflict = db.session.get(SyncConflict, body["conflict"])
        assert json.loads(conflict.fields) == {"p-note": ["box crushed"]} and conflict.device_id is None
    # A token that never existed stays a plain 404.
    assert link_replay(app, "/c/" + "N" * 32 + "/problem", "courier-key-3", {"p-note": "x"}).status_code == 404


def test_log_out_everywhere_ends_what_the_phone_may_record_for_that_person(app, phone, work_order):
    """After "log out everywhere" (a lost phone) the phone's credential may no longer act for that
    person: the replay is refused (and stays on the phone); logging in there again re-enrols them."""
    assert phone.client.post("/logout-everywhere").status_code == 303
    refused = send(app, f"/w/{work_order.token}/report", phone, phone.worker_id, "after-logout-1", report_data())
    assert is_problem(refused, 403)["reason"] == "actor_not_enrolled"
    assert reports(app) == []
    client = app.test_client()
    with app.app_context():
        username = db.session.get(User, phone.worker_id).username
    from .conftest import login
    assert login(client, username).status_code == 303
    assert enrol(client, phone).status_code == 200
    landed = send(app, f"/w/{work_order.token}/report", phone, phone.worker_id, "after-logout-2", report_data())
    assert landed.status_code == 201


def test_keys_belong_to_their_phone_so_two_phones_may_use_the_same_key(app, phone, work_order, as_user):
    """Idempotency keys, and the conflicts kept under them, are unique per credential: another phone's
    entry under the same key is its own action (applied, or kept as its own conflict), not a repeat."""
    other_client = as_user("worker", name="Other Worker")
    enrolled = enrol(other_client).get_json()
    other = SimpleNamespace(client=other_client, worker_id=other_client.user_id, id=enrolled["device"],
                            secret=enrolled["secret"])
    path = f"/w/{work_order.token}/report"
    assert send(app, path, phone, phone.worker_id, "shared-key", report_data("60")).status_code == 201
    assert send(app, path, other, other.worker_id, "shared-key", report_data("40")).status_code == 201
    assert Decimal(good_of(app, work_order.id)) == 100 and count(app, IdempotencyRecord) == 2
    assert phone.client.post(f"/w/{work_order.token}/do/finish").status_code == 303
    assert as_user("qc").post(f"/w/{work_order.token}/do/pass_qc").status_code == 303
    first = is_problem(send(app, path, phone, phone.worker_id, "late-key", report_data("1")), 409)
    second = is_problem(send(app, path, other, other.worker_id, "late-key", report_data("2")), 409)
    assert first["conflict"] != second["conflict"] and count(app, SyncConflict) == 2
