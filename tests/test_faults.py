"""Faults (issue 17): a gunicorn worker killed (SIGKILL) in the middle of a progress post and of a
customer's receipt signing, then the phone's retry with the same Idempotency-Key → exactly one effect;
the database locked past its timeout → 503 with Retry-After, a translated page and nothing written;
the disk full or the upload folder read-only during a photo upload → a clear translated error and no
orphan row or file. On SQLite and PostgreSQL. (A PostgreSQL restart under load: test_faults_restart.py.)"""
import gc
import io
import os
import signal
import sqlite3
import subprocess
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from PIL import Image

from tools.live_server import Gunicorn, request
from webapp.audit import AuditEvent
from webapp.auth.models import DeviceSession, User
from webapp.extensions import db
from webapp.photos import Photo
from webapp.production.models import ProgressReport, WorkOrder
from webapp.shipping.models import DeliveryReceipt, Shipment, ShipmentLine
from webapp.sync.models import IdempotencyRecord

from .conftest import login, new_test_app
from .helpers import SIGNATURE, count, text_of
from .test_sync import enrol, is_problem, link_replay, packed_shipment_with_courier_link, send, stamp
from .test_shipping import link_path

BOTH = pytest.mark.parametrize("app", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
                               indirect=True)
# Werkzeug's test client spools a large request body (a photo) to a temporary file it never closes
# itself: collected inside the test that made it (as tests/test_transactions.py does).
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning", "ignore::ResourceWarning")
BUSY_ZH = "服务器正忙，您填写的内容未保存，请稍后重试。"
STORAGE_ZH = "服务器暂时无法保存文件，您填写的内容未保存，请稍后重试。如果一直如此，请告知管理员。"


@pytest.fixture(autouse=True)
def collect_spooled_bodies():
    yield
    gc.collect()


# --- a worker killed in the middle of a write --------------------------------------------------------

class Phone:
    """A worker's phone whose outbox is enrolled: it replays entries to the live server like outbox.js."""

    def __init__(self, app, client):
        body = enrol(client).get_json()
        self.device, self.secret, self.actor = body["device"], body["secret"], client.user_id

    def headers(self, key: str) -> dict:
        """What the outbox sends with an entry."""
        return {"Authorization": f"Device {self.device}.{self.secret}", "Idempotency-Key": key,
                "X-Actor": str(self.actor), "X-Recorded-At": stamp(time_now()), "Accept": "application/json"}


def rows(app, model, *where) -> int:
    """How many rows of model match where."""
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(model).where(*where))


def time_now():
    from webapp.wallclock import utcnow
    return utcnow()


def receipt_fields(app, shipment_id: int) -> dict:
    """The customer's receipt form, every line received in full and in good order, signed."""
    with app.app_context():
        lines = db.session.scalars(db.select(ShipmentLine).where(ShipmentLine.shipment_id == shipment_id)).all()
        fields = {"name": "Ann Buyer", "consent": "y", "strokes": SIGNATURE}
        for line in lines:
            fields.update({f"line-{line.id}-qty": str(line.quantity.normalize()), f"line-{line.id}-condition": "ok",
                           f"line-{line.id}-note": ""})
    return fields


def dispatched_with_receipt_link(app, make_order, as_user) -> tuple[int, str]:
    """A shipment the courier picked up, and the customer's receipt link (path)."""
    shipment_id, courier_path = packed_shipment_with_courier_link(app, make_order, as_user)
    assert link_replay(app, courier_path + "/dispatch", f"pickup-{shipment_id}", {"d-note": ""}).status_code == 201
    return shipment_id, link_path(app, "delivery_receipt", shipment_id)


def kill_mid_request(server: Gunicorn, fault_dir: Path, point: str, path: str, data: dict, headers: dict,
                     committed_check) -> None:
    """Send the request paused at point, check the database there (committed_check), SIGKILL the worker
    holding it, and see the phone's send fail as a dropped connection (never an answer)."""
    outcome = {}

    def send_it():
        try:
            outcome["answer"] = request("127.0.0.1", server.port, "POST", path, data,
                                        {**headers, "X-Fault-Pause": point}, timeout=90)
        except OSError as error:
            outcome["error"] = error

    thread = threading.Thread(target=send_it)
    thread.start()
    marker = None
    for _ in range(1200):  # the request reaches the point within a minute at most
        found = [p for p in fault_dir.iterdir() if p.name.startswith(point + ".")]
        if found:
            marker = found[0]
            break
        time.sleep(0.05)
    assert marker is not None, server.log_path.read_text()[-2000:]
    pid = int(marker.name.split(".")[1])
    assert pid in server.workers()
    committed_check()
    os.kill(pid, signal.SIGKILL)
    thread.join(timeout=60)
    marker.unlink(missing_ok=True)
    assert "error" in outcome, outcome  # the phone heard nothing: its outbox keeps the entry and retries


@pytest.fixture
def fault_dir(tmp_path):
    folder = tmp_path / "fault-points"
    folder.mkdir()
    return folder


@BOTH
def test_a_worker_killed_mid_post_or_signing_then_the_retry_applies_exactly_once(
        app, work_order, make_order, as_user, tmp_path, fault_dir):
    """gunicorn as `make run` serves it; a worker is SIGKILLed while a progress post and while a
    customer's receipt signing are in the middle of their transaction (written, not committed) and
    right after their commit (the answer not sent). Each time the phone heard nothing and sends the
    entry again with the same Idempotency-Key: the database holds exactly one report or receipt."""
    if os.environ.get("TEST_DATABASE_URL") and app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("the SQLite case runs in the SQLite run of the suite (CI's `make test` step), not again")
    worker = as_user("worker")
    phone = Phone(app, worker)
    receipts = [dispatched_with_receipt_link(app, make_order, as_user) for _ in range(2)]
    # Two workers, as `make run` has: the retry is served by the other one while the killed one is replaced.
    server = Gunicorn(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "server", workers=2,
                      env={"TRACKER_FAULT_DIR": str(fault_dir)})
    try:
        report_path = f"/w/{work_order.token}/report"
        progress_events = rows(app, AuditEvent, AuditEvent.action == "work_order.progress")
        for point, good in (("before_commit", "7"), ("after_commit", "11")):
            key, fields = f"kill-report-{point}", {"p-good": good, "p-scrap": "0", "p-note": f"killed {point}"}

            def reports_committed(expected=0 if point == "before_commit" else 1, note=fields["p-note"]):
                assert rows(app, ProgressReport, ProgressReport.note == note) == expected
            kill_mid_request(server, fault_dir, point, report_path, fields, phone.headers(key), reports_committed)
            status, headers, body = request("127.0.0.1", server.port, "POST", report_path, fields, phone.headers(key))
            assert status == 201, body[:500]
            assert (headers.get("idempotent-replayed") == "true") == (point == "after_commit")
            again = request("127.0.0.1", server.port, "POST", report_path, fields, phone.headers(key))
            assert again[0] == 201 and again[1]["idempotent-replayed"] == "true"
            assert rows(app, ProgressReport, ProgressReport.note == fields["p-note"]) == 1
            assert rows(app, IdempotencyRecord, IdempotencyRecord.key == key) == 1
        with app.app_context():
            assert str(db.session.get(WorkOrder, work_order.id).good.normalize()) == "18"
            assert rows(app, AuditEvent, AuditEvent.action == "work_order.progress") == progress_events + 2

        link_headers = lambda key: {"Authorization": "Link", "Idempotency-Key": key,  # noqa: E731
                                    "X-Recorded-At": stamp(time_now()), "Accept": "application/json"}
        for point, (shipment_id, path) in zip(("before_commit", "after_commit"), receipts):
            key, fields = f"kill-receipt-{point}", receipt_fields(app, shipment_id)

            def receipt_committed(expected=0 if point == "before_commit" else 1, shipment_id=shipment_id):
                assert rows(app, DeliveryReceipt, DeliveryReceipt.shipment_id == shipment_id) == expected
            kill_mid_request(server, fault_dir, point, path + "/receipt", fields, link_headers(key), receipt_committed)
            status, headers, body = request("127.0.0.1", server.port, "POST", path + "/receipt", fields,
                                            link_headers(key))
            assert status == 201, body[:500]
            assert (headers.get("idempotent-replayed") == "true") == (point == "after_commit")
            assert rows(app, DeliveryReceipt, DeliveryReceipt.shipment_id == shipment_id) == 1
            with app.app_context():
                assert db.session.get(Shipment, shipment_id).status == "delivered"
    finally:
        server.stop()
    assert "Traceback" not in server.log_path.read_text()


# --- the database locked past its timeout ----------------------------------------------------------

@contextmanager
def database_locked(app, row):
    """Hold what a worker's post needs, from another connection: SQLite's one write lock; on
    PostgreSQL the row given (a select of one id)."""
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite"):
        holder = sqlite3.connect(uri.removeprefix("sqlite:///"), isolation_level=None, timeout=1)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    with app.app_context():
        with db.engine.connect() as connection:
            connection.execute(row.with_for_update())
            try:
                yield
            finally:
                connection.rollback()


@BOTH
def test_a_locked_database_answers_503_with_retry_after_in_the_workers_language_and_writes_nothing(
        app, work_order, make_user, tmp_path):
    """The lock is held past the timeout (300 ms here): the worker's post gets 503 with Retry-After and
    the busy page in Chinese, the outbox's replay a 503 problem+json; no report, audit row or photo is
    left. Once the lock is free the outbox's retry with the same key lands once."""
    impatient = new_test_app(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path, SQLITE_BUSY_TIMEOUT_MS=300,
                             POSTGRES_LOCK_TIMEOUT_MS=300)
    try:
        user_id = make_user("worker", username="wang", locale="zh")
        worker = impatient.test_client()
        assert login(worker, "wang").status_code == 303
        worker.user_id = user_id
        phone = Phone(impatient, worker)
        path = f"/w/{work_order.token}/report"
        events_before = count(app, AuditEvent)
        # PostgreSQL: the row of the worker's login session, which a form post updates last, just before
        # its commit (its report and audit row are written by then) …
        with database_locked(app, db.select(DeviceSession.id).where(DeviceSession.user_id == user_id)):
            busy = worker.post(path, data={"p-good": "10", "p-scrap": "0", "p-note": "held"})
            assert busy.status_code == 503 and busy.headers["Retry-After"] == "5"
            assert BUSY_ZH in text_of(busy) and "Traceback" not in text_of(busy)
        # … and the work order's row, which a replay locks first.
        with database_locked(app, db.select(WorkOrder.id).where(WorkOrder.id == work_order.id)):
            replay = send(impatient, path, SimpleDevice(phone), user_id, "locked-key", {"p-good": "4", "p-scrap": "0"},
                          **{"Accept-Language": "zh-CN,zh;q=0.9"})
            is_problem(replay, 503)
            assert replay.headers["Retry-After"] == "5" and BUSY_ZH in replay.get_json()["detail"]
        assert count(app, ProgressReport) == 0 and count(app, AuditEvent) == events_before
        assert count(app, IdempotencyRecord) == 0
        for _ in range(2):
            assert send(impatient, path, SimpleDevice(phone), user_id, "locked-key",
                        {"p-good": "4", "p-scrap": "0"}).status_code == 201
        assert count(app, ProgressReport) == 1
    finally:
        with impatient.app_context():
            db.session.remove()
            db.engine.dispose()


class SimpleDevice:
    """The credential test_sync.send() takes."""

    def __init__(self, phone: Phone):
        self.id, self.secret = phone.device, phone.secret


# --- the disk full, the upload folder read-only ------------------------------------------------------

@contextmanager
def small_disk(folder: Path, size: str = "64k"):
    """A tiny tmpfs mounted on folder (a real ENOSPC); needs root and permission to mount."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(folder)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def photo_of(side: int = 500) -> bytes:
    """A photo with detail: far more than 64 KB however it is re-encoded (and less than the 500 KB the
    test client would spool to a temporary file)."""
    noise = Image.effect_noise((side, side), 80).convert("RGB")
    out = io.BytesIO()
    noise.save(out, "JPEG", quality=95)
    return out.getvalue()


def files_in(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


@BOTH
def test_a_full_disk_or_read_only_upload_folder_refuses_the_photo_clearly_and_keeps_nothing(
        app, work_order, make_user, tmp_path):
    """The upload folder is a 64 KB tmpfs: a report with a photo gets 503, Retry-After and the
    translated message (page and problem+json), no report, no photo row, no file or half file. The
    same with the folder remounted read-only. Freed, the outbox's retry lands once."""
    disk = tmp_path / "small-disk"
    with small_disk(disk):
        app.config["UPLOAD_FOLDER"] = str(disk / "uploads")  # its thumbnails go beside it, in disk/thumbs
        user_id = make_user("worker", username="li", locale="zh")
        worker = app.test_client()
        assert login(worker, "li").status_code == 303
        worker.user_id = user_id
        device = SimpleDevice(Phone(app, worker))
        path = f"/w/{work_order.token}/report"
        photo = photo_of()
        with_photo = lambda: {"p-good": "3", "p-scrap": "0", "p-note": "photo",  # noqa: E731
                              "p-photos": [(io.BytesIO(photo), "shot.jpg")]}
        for state in ("full", "read-only"):
            if state == "read-only":
                subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
            page = worker.post(path, content_type="multipart/form-data", data=with_photo())
            assert page.status_code == 503 and page.headers["Retry-After"], state
            assert STORAGE_ZH in text_of(page) and "Traceback" not in text_of(page)
            replay = send(app, path, device, user_id, "photo-key", with_photo())
            assert is_problem(replay, 503)["detail"] == STORAGE_ZH and replay.headers["Retry-After"]
            assert count(app, ProgressReport) == 0 and count(app, Photo) == 0, state
            assert count(app, IdempotencyRecord) == 0
            assert files_in(disk) == [], (state, files_in(disk))
        subprocess.run(["mount", "-o", "remount,rw,size=16m", str(disk)], check=True)
        for _ in range(2):
            assert send(app, path, device, user_id, "photo-key", with_photo()).status_code == 201
        assert count(app, ProgressReport) == 1 and count(app, Photo) == 1
        with app.app_context():
            stored = db.session.scalar(db.select(Photo.stored_name))
        assert files_in(disk) == [f"thumbs/{stored.rsplit('.', 1)[0]}.jpg", f"uploads/{stored}"]


# --- found by the soak: two shipments of one order signed for at the same moment ---------------------

@BOTH
def test_two_shipments_of_one_order_signed_at_the_same_moment_both_land(app, make_order, as_user):
    """The customer's two links, sent from two phones' outboxes at once: both receipts are stored (201,
    never a 500 over the follow-up call both would plan), one follow-up call, the order delivered."""
    from webapp.aftersales.models import FollowUp
    from webapp.orders.models import Order, OrderLine
    from .test_shipping import new_shipment, packed
    order_id = make_order("ready_to_ship", quantity="20")
    with app.app_context():
        line_id = db.session.scalar(db.select(OrderLine.id).where(OrderLine.order_id == order_id))
    warehouse = as_user("warehouse")
    paths = []
    for _ in range(2):
        assert new_shipment(warehouse, order_id, line_id, "10").status_code == 303
        with app.app_context():
            shipment_id = db.session.scalar(db.select(Shipment.id).order_by(Shipment.id.desc()))
        packed(app, warehouse, shipment_id)
        assert warehouse.post(f"/shipping/{shipment_id}/dispatch", data={"note": ""}).status_code == 303
        paths.append((shipment_id, link_path(app, "delivery_receipt", shipment_id)))
    barrier, answers = threading.Barrier(2), [None, None]

    def sign(index):
        shipment_id, path = paths[index]
        fields = receipt_fields(app, shipment_id)
        barrier.wait()
        answers[index] = link_replay(app, path + "/receipt", f"both-{index}", fields).status_code

    threads = [threading.Thread(target=sign, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert answers == [201, 201]
    assert count(app, DeliveryReceipt) == 2 and count(app, FollowUp) == 1
    with app.app_context():
        assert db.session.get(Order, order_id).status == "delivered"
