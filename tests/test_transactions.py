"""Requests and SQLite's one write lock (issue 8, items 10 and 12): images are prepared before the
transaction, a request that writes nothing never takes the lock, a busy database answers 503 with
Retry-After (problem+json to the outbox), and photos are never dropped silently nor left on disk
by a refused request."""
import gc
import io
import os
import sqlite3
import threading
from decimal import Decimal
from types import SimpleNamespace

import pytest
from PIL import Image

from webapp import transaction, uploads
from webapp.extensions import db
from webapp.orders.models import Payment
from webapp.photos import Photo
from webapp.production.models import ProgressReport, WorkOrder

from .conftest import login
from .helpers import count, jpeg_bytes, text_of
from .test_sync import enrol, is_problem, send


def outbox_of(client):
    """Enrol a logged-in client's outbox: the device credential a replay presents."""
    response = enrol(client)
    assert response.status_code == 200, text_of(response)[:300]
    body = response.get_json()
    return SimpleNamespace(id=body["device"], secret=body["secret"])

BOTH = pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)
# Werkzeug's test client spools a large request body to a temporary file it never closes itself;
# it may be collected during a later test of this module.
LARGE_BODY = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning",
                                        "ignore::ResourceWarning")
pytestmark = LARGE_BODY


@pytest.fixture(autouse=True)
def collect_spooled_bodies():
    """Collect the test client's spooled bodies inside the test that made them (see LARGE_BODY)."""
    yield
    gc.collect()


def camera_jpeg(size=(4000, 3000), seed=0) -> bytes:
    """A 12 MP camera-sized JPEG with detail, about 4 MB like a phone's."""
    noise = Image.effect_noise((size[0] // 4, size[1] // 4), 60 + seed).resize(size).convert("RGB")
    out = io.BytesIO()
    noise.save(out, "JPEG", quality=88)
    return out.getvalue()


@pytest.fixture
def work_order_quantity():
    """This module's work orders have 2,000 pieces to make (see conftest's work_order)."""
    return "2000"


def uploaded_files(app) -> list[str]:
    """The files in the upload folder."""
    folder = app.config["UPLOAD_FOLDER"]
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


def short_busy_timeout(app, milliseconds: int) -> None:
    """Let SQLite writers wait only this long for the lock (new connections take the setting)."""
    app.config["SQLITE_BUSY_TIMEOUT_MS"] = milliseconds
    with app.app_context():
        db.engine.dispose()


def at_once(count: int, send) -> list:
    """Call send(0) … send(count - 1) from as many threads, released together; their answers."""
    barrier, answers = threading.Barrier(count), [None] * count

    def go(index):
        barrier.wait()
        answers[index] = send(index)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    return answers


class Gate:
    """Holds image preparation until released, so that a photo upload is 'slow' for as long as a
    test needs (the real decoding still runs, after the gate)."""

    def __init__(self, monkeypatch):
        self.entered, self.released = threading.Event(), threading.Event()
        real = uploads.reencode_image

        def held(data, *args, **kwargs):
            self.entered.set()
            assert self.released.wait(60), "the test never released the upload"
            return real(data, *args, **kwargs)

        monkeypatch.setattr(uploads, "reencode_image", held)


@LARGE_BODY
@pytest.mark.parametrize("app", BOTH, indirect=True)
def test_small_writes_succeed_while_a_photo_upload_is_in_flight(app, work_order, as_user, make_user,
                                                                monkeypatch):
    """A worker's post with six 12 MP photos is being processed; meanwhile a login, a payment and
    another worker's +10 all succeed at once, because no image work happens inside a transaction."""
    short_busy_timeout(app, 1500)
    wo_id, token, order_id = work_order
    photographer, quick = as_user("worker"), as_user("worker")
    finance = as_user("finance")
    make_user("sales", username="late.sales")
    photos = [camera_jpeg(seed=i) for i in range(6)]
    gate = Gate(monkeypatch)
    answer = {}

    def upload():
        answer["response"] = photographer.post(
            f"/w/{token}/report", content_type="multipart/form-data",
            data={"p-good": "20", "p-scrap": "0", "p-note": "six photos",
                  "p-photos": [(io.BytesIO(data), f"IMG_{i}.jpg") for i, data in enumerate(photos)]})

    thread = threading.Thread(target=upload)
    thread.start()
    try:
        assert gate.entered.wait(30), "the upload never reached its image work"
        fresh = app.test_client()
        assert login(fresh, "late.sales").status_code == 303
        paid = finance.post(f"/orders/{order_id}/payments",
                            data={"kind": "deposit", "amount": "2,260.00", "received_on": "2026-11-20",
                                  "reference": "slip 7"})
        assert paid.status_code == 303, text_of(paid)[:300]
        plus_ten = quick.post(f"/w/{token}/report", data={"p-good": "10", "p-scrap": "0"})
        assert plus_ten.status_code == 303, text_of(plus_ten)[:300]
    finally:
        gate.released.set()
        thread.join(120)
    assert answer["response"].status_code == 303, text_of(answer["response"])[:300]
    with app.app_context():
        assert db.session.get(WorkOrder, wo_id).good == Decimal("30")
        assert db.session.scalar(db.select(Payment.amount)) == Decimal("2260.00")
        assert db.session.scalar(db.select(db.func.count()).select_from(Photo).where(
            Photo.entity_type == "progress")) == 6
    assert len(uploaded_files(app)) == 6


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_a_request_that_writes_nothing_does_not_wait_for_the_lock(app, work_order, as_user):
    """While another writer holds the lock, a form with errors still answers 422 at once, and a page
    loads: they only read. (Before, every POST took the lock at its first query.)"""
    wo_id, token, order_id = work_order
    worker = as_user("worker")
    worker.csrf_token()
    short_busy_timeout(app, 300)
    holder = sqlite3.connect(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"),
                             isolation_level=None, timeout=1)
    holder.execute("BEGIN IMMEDIATE")
    try:
        refused = worker.post(f"/w/{token}/report", data={"p-good": "ten", "p-note": "kept"})
        assert refused.status_code == 422 and 'value="ten"' in text_of(refused)
        assert worker.get(f"/w/{token}").status_code == 200
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_a_busy_database_answers_503_with_retry_after_and_writes_nothing(app, work_order, as_user):
    """A writer that cannot get the lock within the timeout gets 503 + Retry-After (a page for a
    person, problem+json for the outbox), never 500, and nothing of it is written."""
    wo_id, token, order_id = work_order
    worker = as_user("worker")
    device = outbox_of(worker)
    token_for_csrf = worker.csrf_token()
    short_busy_timeout(app, 300)
    holder = sqlite3.connect(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"),
                             isolation_level=None, timeout=1)
    holder.execute("BEGIN IMMEDIATE")
    try:
        busy = worker.post(f"/w/{token}/report", data={"p-good": "10", "csrf_token": token_for_csrf})
        assert busy.status_code == 503 and busy.headers["Retry-After"] == "5"
        assert "try again" in text_of(busy)
        replayed = send(app, f"/w/{token}/report", device, worker.user_id, "busy-key",
                        {"p-good": "4", "p-scrap": "0"})
        is_problem(replayed, 503)
        assert replayed.headers["Retry-After"] == "5"
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert count(app, ProgressReport) == 0
    # The same replay, once the lock is free, lands (its key was not kept by the refusal).
    assert send(app, f"/w/{token}/report", device, worker.user_id, "busy-key",
                {"p-good": "4", "p-scrap": "0"}).status_code == 201


@pytest.mark.parametrize("app", BOTH, indirect=True)
def test_eight_quick_reports_at_once_all_land(app, work_order, as_user):
    """Eight workers press +10 at the same moment: eight 303s and 80 good, on both databases."""
    wo_id, token, order_id = work_order
    workers = [as_user("worker") for _ in range(8)]
    for worker in workers:
        worker.csrf_token()
    answers = at_once(8, lambda i: workers[i].post(f"/w/{token}/report", data={"p-good": "10", "p-scrap": "0"}))
    assert [a.status_code for a in answers] == [303] * 8
    with app.app_context():
        assert db.session.get(WorkOrder, wo_id).good == Decimal("80")


def test_more_photos_than_kept_are_refused_not_dropped(app, work_order, as_user):
    """Eight photos: the report is refused with the limit named and what was typed kept; nothing is
    saved, no file is written. The same from the outbox is a 422 problem with the photo field."""
    wo_id, token, order_id = work_order
    worker = as_user("worker")
    photos = lambda: [(io.BytesIO(jpeg_bytes(size=(60 + i, 40))), f"p{i}.jpg") for i in range(8)]  # noqa: E731
    response = worker.post(f"/w/{token}/report", content_type="multipart/form-data",
                           data={"p-good": "1,500", "p-scrap": "0", "p-note": "eight shots", "p-photos": photos()})
    assert response.status_code == 422
    page = text_of(response)
    assert "At most 6 photos" in page and "8 were chosen" in page and "eight shots" in page
    device = outbox_of(worker)
    body = is_problem(send(app, f"/w/{token}/report", device, worker.user_id, "eight",
                           {"p-good": "5", "p-scrap": "0", "p-photos": photos()}), 422)
    assert "At most 6 photos" in body["errors"]["p-photos"][0]
    assert count(app, ProgressReport) == 0 and count(app, Photo) == 0 and uploaded_files(app) == []
    six = worker.post(f"/w/{token}/report", content_type="multipart/form-data",
                      data={"p-good": "5", "p-scrap": "0", "p-photos": photos()[:6]})
    assert six.status_code == 303 and count(app, Photo) == 6 and len(uploaded_files(app)) == 6


def test_a_refused_request_leaves_no_file_on_disk(app, work_order, as_user):
    """A valid photo next to a fake one: refused, and the valid one was never written either."""
    wo_id, token, order_id = work_order
    worker = as_user("worker")
    response = worker.post(f"/w/{token}/report", content_type="multipart/form-data",
                           data={"p-good": "3", "p-scrap": "0", "p-photos": [
                               (io.BytesIO(jpeg_bytes()), "good.jpg"),
                               (io.BytesIO(b"not an image at all"), "fake.jpg")]})
    assert response.status_code == 422 and "not a readable image" in text_of(response)
    assert uploaded_files(app) == [] and count(app, Photo) == 0


def test_files_written_by_a_request_that_does_not_commit_are_removed(app):
    """Files are written just before the commit; when the request is rolled back instead (an error
    after the write), the machinery removes them again."""
    from werkzeug.datastructures import FileStorage
    with app.test_request_context("/w/x/report", method="POST"):
        stored = uploads.store_image(FileStorage(io.BytesIO(jpeg_bytes()), "a.jpg", name="p-photos"))
        path = uploads.path_of(stored.stored_name)
        assert os.path.exists(path)
        transaction.after_request(app.response_class(status=409))  # not committed
        assert not os.path.exists(path)


@LARGE_BODY
def test_a_camera_photo_is_kept_at_phone_size_with_its_orientation(app, work_order, as_user):
    """A 12 MP photo taken sideways (EXIF orientation 6) is stored upright at 1600 px on its long
    side, without its EXIF."""
    wo_id, token, order_id = work_order
    worker = as_user("worker")
    image = Image.effect_noise((4000, 3000), 50).convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to view
    raw = io.BytesIO()
    image.save(raw, "JPEG", quality=90, exif=exif.tobytes())
    response = worker.post(f"/w/{token}/report", content_type="multipart/form-data",
                           data={"p-good": "1", "p-photos": [(io.BytesIO(raw.getvalue()), "side.jpg")]})
    assert response.status_code == 303
    [name] = uploaded_files(app)
    with Image.open(os.path.join(app.config["UPLOAD_FOLDER"], name)) as kept:
        assert kept.size == (1200, 1600) and not kept.getexif()


@LARGE_BODY
def test_replays_always_get_problem_json(app, work_order, as_user):
    """An outbox replay gets application/problem+json for a body that is too large (413), a route that
    does not exist (404) and a method that is not allowed (405); a browser gets pages for the same."""
    app.config["MAX_CONTENT_LENGTH"] = 200_000
    wo_id, token, order_id = work_order
    worker = as_user("worker")
    device = outbox_of(worker)
    big = {"p-good": "1", "p-photos": [(io.BytesIO(os.urandom(300_000)), "big.jpg")]}
    body = is_problem(send(app, f"/w/{token}/report", device, worker.user_id, "too-big", big), 413)
    assert body["title"]
    is_problem(send(app, "/w/no-such-token/nowhere", device, worker.user_id, "lost", {"p-good": "1"}), 404)
    is_problem(send(app, f"/w/{token}", device, worker.user_id, "wrong-method", {"p-good": "1"}), 405)
    page = worker.post(f"/w/{token}/report", content_type="multipart/form-data",
                       data={"p-good": "1", "p-photos": [(io.BytesIO(os.urandom(300_000)), "big.jpg")]})
    assert page.status_code == 413 and page.mimetype == "text/html"


@LARGE_BODY
@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_twelve_workers_send_four_camera_photos_each_at_once(app, work_order, as_user):
    """Twelve workers each send a report with four 12 MP photos at the same moment (the case that
    gave five 500s): every one is saved, with all 48 photos."""
    wo_id, token, order_id = work_order
    workers = [as_user("worker") for _ in range(12)]
    for worker in workers:
        worker.csrf_token()
    photos = [camera_jpeg(seed=i) for i in range(4)]
    def send_report(index):
        data = {"p-good": "5", "p-scrap": "0", "p-note": f"worker {index}",
                "p-photos": [(io.BytesIO(raw), f"IMG_{index}_{n}.jpg") for n, raw in enumerate(photos)]}
        return workers[index].post(f"/w/{token}/report", data=data, content_type="multipart/form-data")

    answers = at_once(12, send_report)
    assert [a.status_code for a in answers] == [303] * 12
    with app.app_context():
        assert db.session.get(WorkOrder, wo_id).good == Decimal("60")
        assert db.session.scalar(db.select(db.func.count()).select_from(Photo)) == 48


def decode_counter(monkeypatch) -> list:
    """Count the images the server decodes (the real decoding still runs)."""
    calls, real = [], uploads.reencode_image

    def counted(data, *args, **kwargs):
        calls.append(len(data))
        return real(data, *args, **kwargs)

    monkeypatch.setattr(uploads, "reencode_image", counted)
    return calls


def big_png() -> bytes:
    """A 36 MP PNG that compresses to almost nothing: cheap to send, costly to decode."""
    out = io.BytesIO()
    Image.new("RGB", (6000, 6000), (255, 255, 255)).save(out, "PNG")
    return out.getvalue()


@LARGE_BODY
def test_a_stranger_cannot_make_the_server_decode_images(app, work_order, monkeypatch):
    """Images are decoded only once a view got past its guards to a write: a post without a login, to
    an address that does not exist, or refused by its form, decodes nothing."""
    wo_id, token, order_id = work_order
    calls = decode_counter(monkeypatch)
    png = big_png()
    photos = lambda field: {field: [(io.BytesIO(png), f"p{i}.png") for i in range(7)]}  # noqa: E731
    stranger = app.test_client()
    assert stranger.post("/no-such-page", data=photos("file"), csrf=False).status_code == 404
    answer = stranger.post(f"/w/{token}/report", data={"p-good": "1", **photos("p-photos")})
    assert answer.status_code in (302, 303) and "/login" in answer.headers["Location"]
    assert calls == []


def test_a_badge_switch_says_so_once(app, make_user, as_user):
    """What a view flashes before its first write is not shown twice (the read phase's session is
    undone whole, the messages already waiting to be shown included)."""
    import re
    admin = as_user("admin")
    badges = {}
    for username, name in (("lea", "Lea Worker"), ("kim", "Kim Worker")):
        person = make_user("worker", username=username, name=name, employee_no=username, pin="4321")
        page = text_of(admin.post(f"/admin/users/{person}/badge"))
        badges[name] = re.search(r"https://tracker\.example\.com(/b/[A-Za-z0-9_-]+)", page).group(1)
    make_user("worker", username="max")
    phone = app.test_client()
    login(phone, "max")
    token = {"csrf_token": phone.csrf_token(), "pin": "4321"}  # fetched now: fetching it shows a page
    assert phone.post(badges["Lea Worker"], data=token).status_code == 303  # its message waits...
    assert phone.post(badges["Kim Worker"], data=token).status_code == 303  # ...as the next badge is tapped
    page = text_of(phone.get("/"))
    assert page.count("Lea Worker is now using this phone.") == 1
    assert page.count("Kim Worker is now using this phone.") == 1


def test_a_dead_link_replay_sent_twice_gets_its_stored_conflict(app, make_order, as_user):
    """A courier's problem report with a photo, replayed through a replaced link, is kept as a
    conflict (409); sent again (the phone never heard), it gets that stored answer, not 422."""
    from webapp import links as link_module
    from .test_sync import link_replay, packed_shipment_with_courier_link
    shipment_id, path = packed_shipment_with_courier_link(app, make_order, as_user)
    with app.app_context(), app.test_request_context():
        link_module.issue("courier", shipment_id, days=60)
        db.session.commit()
    data = lambda: {"p-note": "box crushed", "p-photos": [(io.BytesIO(jpeg_bytes()), "box.jpg")]}  # noqa: E731
    first = link_replay(app, path + "/problem", "dead-twice", data())
    body = is_problem(first, 409)
    again = link_replay(app, path + "/problem", "dead-twice", data())
    assert again.status_code == 409 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_json()["conflict"] == body["conflict"]


def test_the_cost_sheet_page_writes_nothing(app, make_order, as_user):
    """Looking at the cost sheet reads only: it opens while another writer holds SQLite's lock (the
    freight is brought onto the sheet when a shipment is made, not when someone looks)."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("the write lock is SQLite's")
    from .test_sync import packed_shipment_with_courier_link
    shipment_id, _path = packed_shipment_with_courier_link(app, make_order, as_user)
    with app.app_context():
        from webapp.shipping.models import Shipment
        order_id = db.session.get(Shipment, shipment_id).order_id
    finance = as_user("finance")
    assert finance.get(f"/costing/orders/{order_id}").status_code == 200
    short_busy_timeout(app, 300)
    holder = sqlite3.connect(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"),
                             isolation_level=None, timeout=1)
    holder.execute("BEGIN IMMEDIATE")
    try:
        assert finance.get(f"/costing/orders/{order_id}").status_code == 200
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_log_lines_of_failed_link_requests_carry_no_token(app, make_order, as_user, caplog):
    """A link request that meets a busy database is logged with its token redacted (item 13)."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("made busy with SQLite's lock")
    from .test_sync import link_replay, packed_shipment_with_courier_link
    shipment_id, path = packed_shipment_with_courier_link(app, make_order, as_user)
    token = path.rsplit("/", 1)[-1]
    short_busy_timeout(app, 300)
    holder = sqlite3.connect(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"),
                             isolation_level=None, timeout=1)
    holder.execute("BEGIN IMMEDIATE")
    try:
        is_problem(link_replay(app, path + "/dispatch", "busy-link", {"d-note": "gate 3"}), 503)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "database busy" in logged and "[redacted]" in logged and token not in logged


@LARGE_BODY
def test_a_megabyte_of_text_is_refused_as_too_large_not_as_a_file(app, work_order, as_user):
    """A note of a megabyte is refused (413) with words about what was sent, not about a file, and
    nothing is recorded."""
    wo_id, token, order_id = work_order
    worker = as_user("worker")
    response = worker.post(f"/w/{token}/report", data={"p-good": "1", "p-note": "x" * 1_000_000},
                           content_type="multipart/form-data")  # as the page sends it (it may carry photos)
    assert response.status_code == 413 and "What was sent is too large" in text_of(response)
    assert count(app, ProgressReport) == 0
