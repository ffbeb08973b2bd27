"""Capability tokens are never stored or logged (issue 8, item 13): idempotency records and conflicts
keep the endpoint's name and the object, the migration rewrites rows stored before, a replay in
flight across the upgrade still matches its record, and gunicorn's and werkzeug's access logs show
[redacted] where a token was."""
import hashlib
import io
import json
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import text

from webapp import capabilities, links
from webapp.extensions import db
from webapp.sync.models import IdempotencyRecord, SyncConflict

from .conftest import empty_database
from .helpers import jpeg_bytes, text_of
from .test_sync import (is_problem, link_replay, packed_shipment_with_courier_link, phone,  # noqa: F401 -- fixtures
                        report_data, send)

ROOT = Path(__file__).resolve().parents[1]
BOTH = pytest.mark.parametrize("app", ["sqlite", "postgres"], indirect=True)


def every_stored_text(app) -> str:
    """Every value of every row of every table, as one text (to look for a token anywhere)."""
    chunks = []
    with app.app_context():
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(table.select()):
                chunks.append(" ".join(str(value) for value in row))
    return "\n".join(chunks)


def legacy_fingerprint(path: str, fields: dict, files: dict) -> str:
    """The fingerprint as stored before the upgrade: SHA-256 over the path, fields and files."""
    material = json.dumps({"path": path, "fields": fields, "files": files}, sort_keys=True)
    return hashlib.sha256(material.encode()).hexdigest()


@BOTH
def test_no_token_in_any_row_or_the_conflicts_page_after_link_replays(app, make_order, as_user):
    """A courier's pickup replayed through the link (stored answer) and a late problem report through
    the replaced link (a conflict with a photo): no row anywhere holds the token; the record and the
    conflict name the endpoint and the link; the office's conflict list shows no token."""
    shipment_id, path = packed_shipment_with_courier_link(app, make_order, as_user)
    token = path.rsplit("/", 1)[1]
    with app.app_context():
        link_id = links.find(token).id
    applied = link_replay(app, path + "/dispatch", "cap-key-1",
                          {"d-note": "gate 3", "d-photos": [(io.BytesIO(jpeg_bytes()), "load.jpg")]})
    assert applied.status_code == 201, text_of(applied)[:300]
    with app.app_context(), app.test_request_context():
        links.issue("courier", shipment_id, days=60)  # the office replaced the courier's link
        db.session.commit()
    late = link_replay(app, path + "/problem", "cap-key-2",
                       {"p-note": f"see https://tracker.example.com/c/{token}/receipt",
                        "p-photos": [(io.BytesIO(jpeg_bytes()), "crushed.jpg")]})
    conflict_id = is_problem(late, 409)["conflict"]

    with app.app_context():
        record = db.session.scalar(db.select(IdempotencyRecord).where(IdempotencyRecord.key == "cap-key-1"))
        assert record.endpoint == f"shipping.courier_dispatch link={link_id}"
        conflict = db.session.get(SyncConflict, conflict_id)
        assert conflict.endpoint == f"shipping.courier_problem link={link_id}" and conflict.link_id == link_id
        assert "[redacted]" in conflict.fields  # a link typed into a note is kept without its token
    assert token not in every_stored_text(app)

    page = as_user("operations").get("/sync/conflicts")
    assert page.status_code == 200
    assert token not in text_of(page) and f"shipping.courier_problem link={link_id}" in text_of(page)


def test_work_order_replays_store_the_work_order_not_its_label_token(app, phone, work_order):
    """A device replay to /w/<token>/report keeps "production.report work_order=<id>"."""
    answer = send(app, f"/w/{work_order.token}/report", phone, phone.worker_id, "wo-key-1", report_data("2"))
    assert answer.status_code == 201, text_of(answer)[:300]
    with app.app_context():
        record = db.session.scalar(db.select(IdempotencyRecord).where(IdempotencyRecord.key == "wo-key-1"))
        assert record.endpoint == f"production.report work_order={work_order.id}"
        assert work_order.token not in record.endpoint + record.body


@BOTH
def test_a_replay_stored_before_the_upgrade_is_answered_from_its_record(app, make_order, as_user):
    """A record stored by the old code (the path, and a fingerprint over the path): the phone's
    repeat of that key after the upgrade gets the stored answer, not 422; a different action under
    the same key is still refused."""
    _shipment_id, path = packed_shipment_with_courier_link(app, make_order, as_user)
    photo = jpeg_bytes()
    data = lambda: {"d-note": "gate 3", "d-photos": [(io.BytesIO(photo), "load.jpg")]}  # noqa: E731
    first = link_replay(app, path + "/dispatch", "old-key-1", data())
    assert first.status_code == 201
    with app.app_context():  # make the row exactly what the old code stored
        record = db.session.scalar(db.select(IdempotencyRecord).where(IdempotencyRecord.key == "old-key-1"))
        record.endpoint = path + "/dispatch"
        record.fingerprint = legacy_fingerprint(path + "/dispatch", {"d-note": ["gate 3"]},
                                                {"d-photos": [hashlib.sha256(photo).hexdigest()]})
        db.session.commit()
    again = link_replay(app, path + "/dispatch", "old-key-1", data())
    assert again.status_code == 201, text_of(again)[:300]
    assert again.headers["Idempotent-Replayed"] == "true" and again.get_data() == first.get_data()
    other = link_replay(app, path + "/dispatch", "old-key-1",
                        {"d-note": "gate 4", "d-photos": [(io.BytesIO(photo), "load.jpg")]})
    assert is_problem(other, 422)


@BOTH
def test_the_migration_rewrites_rows_stored_with_tokens(app):
    """Rows stored before the upgrade with /c/, /aftersales/c/ and /w/ paths are rewritten to the
    endpoint and the object (the link found by its token's SHA-256; an unknown token as "?"); a
    conflict gets its link; a path without a token is left alone."""
    from flask_migrate import upgrade
    empty_database(app)
    with app.app_context(), app.test_request_context():
        upgrade(revision="f2a295529976")
        nonce = "ab" * 16
        token = links._token_for(nonce)
        connection = db.session.connection()
        connection.execute(text(
            "INSERT INTO access_link (id, purpose, object_id, nonce, token_hash, created_at, expires_at) "
            "VALUES (7, 'courier', 1, :n, :h, :t, :t)"),
            {"n": nonce, "h": hashlib.sha256(token.encode()).hexdigest(), "t": "2026-11-01 00:00:00.000000"})
        rows = [("idempotency_record", 1, f"/c/{token}/dispatch"),
                ("idempotency_record", 2, f"/aftersales/c/{token}/tickets/3/reply"),
                ("idempotency_record", 3, "/c/NoSuchTokenNoSuchTokenNoSuch/receipt"),
                ("idempotency_record", 4, "/scan/resolve"),
                ("sync_conflict", 1, f"/c/{token}/problem")]
        for table, row_id, endpoint in rows:
            if table == "idempotency_record":
                connection.execute(text(
                    "INSERT INTO idempotency_record (id, key, fingerprint, endpoint, status_code, content_type, "
                    "body, created_at) VALUES (:i, :k, :f, :e, 201, 'application/json', '{}', :t)"),
                    {"i": row_id, "k": f"k{row_id}", "f": "0" * 64, "e": endpoint, "t": "2026-11-01 00:00:00.000000"})
            else:
                scanned = json.dumps({"code": [f"https://tracker.example.com/c/{token}"], "note": ["ok"]})
                connection.execute(text(
                    "INSERT INTO sync_conflict (id, key, endpoint, fields, files, message, created_at) "
                    "VALUES (:i, 'c1', :e, :fields, '[]', 'late', :t)"),
                    {"i": row_id, "e": endpoint, "fields": scanned, "t": "2026-11-01 00:00:00.000000"})
        db.session.commit()
        upgrade()
        stored = dict(db.session.execute(text("SELECT id, endpoint FROM idempotency_record")).all())
        conflict = db.session.execute(text("SELECT endpoint, link_id FROM sync_conflict")).one()
        kept_fields = json.loads(db.session.scalar(text("SELECT fields FROM sync_conflict")))
        fingerprints = {f for (f,) in db.session.execute(text("SELECT fingerprint FROM idempotency_record"))}
        db.session.remove()
    assert stored == {1: "shipping.courier_dispatch link=7", 2: "aftersales.customer_reply link=7 ticket_id=3",
                      3: "shipping.sign link=?", 4: "/scan/resolve"}
    assert tuple(conflict) == ("shipping.courier_problem link=7", 7)
    # a link scanned into the conflict's fields before the upgrade keeps no token either
    assert kept_fields == {"code": ["https://tracker.example.com/c/[redacted]"], "note": ["ok"]}
    assert fingerprints == {"0" * 64}  # fingerprints stay: the replay code accepts the old form


def test_the_migration_describes_label_paths_without_their_token():
    """/w/<token>/… paths become the work order; an unforeseen path under a token prefix is redacted."""
    from importlib import import_module
    migration = import_module("webapp.migrations.versions.b3d7a41c9e02_no_capability_tokens_in_stored_rows")
    find_link = {"T1": 4}.get
    find_work_order = {"W1": 9}.get
    assert migration.describe("/w/W1/do/finish", find_link, find_work_order) == (
        "production.move work_order=9 name=finish", None)
    assert migration.describe("/w/W1/report", find_link, find_work_order) == ("production.report work_order=9", None)
    assert migration.describe("/c/T1/sign", find_link, find_work_order) == ("public.countersign link=4", 4)
    assert migration.describe("/c/T1/odd/thing", find_link, find_work_order) == ("/c/[redacted]/odd/thing", None)
    assert migration.describe("/orders/5/payments", find_link, find_work_order) is None


def test_redaction_covers_every_token_route_of_the_url_map(app):
    """The prefixes come from the URL map (every route with a token or secret segment), and the
    built-in default agrees with it."""
    prefixes = capabilities.capability_prefixes(app)
    assert set(prefixes) == set(capabilities.DEFAULT_PREFIXES)
    for rule in app.url_map.iter_rules():
        if capabilities.CAPABILITY_ARGS & set(rule.arguments):
            url = re.sub(r"<(?:[^<>:]+:)?(\w+)>", lambda m: "SeCrEt-ToKeN_1" if m.group(1) in
                         capabilities.CAPABILITY_ARGS else "5", rule.rule)
            line = f'127.0.0.1 - - "POST {url}?x=1 HTTP/1.1" 303 - "https://h.example.com{url}"'
            assert "SeCrEt-ToKeN_1" not in capabilities.redact(line), url
            # a login page's next= carries the path percent-encoded
            login = f'"GET /login?next={urllib.parse.quote(url, safe="")} HTTP/1.1" 200'
            assert "SeCrEt-ToKeN_1" not in capabilities.redact(login), login


def test_werkzeug_request_log_has_no_token(app, make_order, caplog):
    """The development server (werkzeug) logs the request line without the token."""
    from werkzeug.serving import make_server
    order_id = make_order("awaiting_countersign")
    with app.app_context(), app.test_request_context():
        token = links.current("order_countersign", order_id).token
    # Alembic's logging setup (a migration test earlier in this process) disables existing loggers.
    logging.getLogger("werkzeug").disabled = False
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            with opener.open(f"http://127.0.0.1:{server.server_port}/c/{token}", timeout=10) as response:
                assert response.status == 200
            deadline = time.monotonic() + 5
            while not any("/c/" in r.getMessage() for r in caplog.records) and time.monotonic() < deadline:
                time.sleep(0.05)
    finally:
        server.shutdown()
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert any("/c/[redacted]" in line for line in lines), lines
    assert not any(token in line for line in lines)


def test_gunicorn_access_log_of_make_run_has_no_token(app, make_order, tmp_path):
    """gunicorn started exactly as `make run` starts it (its command line read from the Makefile):
    the access log shows /c/[redacted] and /w/[redacted], never the token (request line and Referer)."""
    order_id = make_order("awaiting_countersign")
    with app.app_context(), app.test_request_context():
        token = links.current("order_countersign", order_id).token
    line = next(l for l in (ROOT / "Makefile").read_text().splitlines() if "gunicorn --bind" in l)
    argv = line.strip().split()
    assert argv[0] == "$(BIN)/gunicorn"
    with __import__("socket").socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    argv = [sys.executable, "-m", "gunicorn"] + [
        f"127.0.0.1:{port}" if a == "0.0.0.0:8000" else a.strip('"') for a in argv[1:]]
    argv[argv.index("--workers") + 1] = "1"
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "SECRET_KEY": "test-secret",
           "MAIL_BACKEND": "file", "HUEY_URL": f"sqlite:///{tmp_path / 'huey.sqlite3'}"}
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    try:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        deadline = time.monotonic() + 60
        while True:
            try:
                request = urllib.request.Request(f"http://127.0.0.1:{port}/c/{token}",
                                                 headers={"Referer": f"http://127.0.0.1:{port}/c/{token}"})
                with opener.open(request, timeout=10) as response:
                    assert response.status == 200
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(log_path.read_text()[-3000:])
                time.sleep(0.3)
        try:
            opener.open(f"http://127.0.0.1:{port}/w/AnotherSecretLabelToken", timeout=10)
        except urllib.error.HTTPError:
            pass  # a login redirect or 404: only the log line matters
        replay = urllib.request.Request(
            f"http://127.0.0.1:{port}/c/{token}/problem", data=b"p-note=late", method="POST",
            headers={"Authorization": "Link", "Idempotency-Key": "gunicorn-1",
                     "Content-Type": "application/x-www-form-urlencoded"})
        try:
            opener.open(replay, timeout=10)
        except urllib.error.HTTPError:
            pass  # not a courier link: 404 as problem+json; the log line is what matters
        deadline = time.monotonic() + 10
        while "POST /c/" not in log_path.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    logged = log_path.read_text()
    assert "GET /c/[redacted] HTTP/1.1" in logged and "GET /w/[redacted] HTTP/1.1" in logged, logged[-2000:]
    assert "POST /c/[redacted]/problem HTTP/1.1" in logged
    assert token not in logged and "AnotherSecretLabelToken" not in logged
