"""Faults (issue 17): PostgreSQL restarted under load. A throwaway cluster (initdb + pg_ctl on a spare
port) serves gunicorn as `make run` runs it while phones post progress through their outboxes; the
server is restarted (pg_ctl restart -m fast) in the middle: the requests caught by it fail cleanly
(503 with Retry-After, never a 500 or a dropped connection), the app recovers by itself (every request
begun after the restart succeeds: pool_pre_ping), and each outbox entry, retried with its key, is in
the database exactly once."""
import glob
import os
import shutil
import subprocess
import tempfile
import threading
import time
from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine, text

from tools.live_server import Gunicorn, free_port, request
from webapp.extensions import db
from webapp.production.models import ProgressReport, WorkOrder
from webapp.sync.models import IdempotencyRecord

from .conftest import create_schema, new_test_app
from .test_faults import Phone

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
# This project's machines give helpers ports 55450-55459 for a throwaway cluster; elsewhere any free one.
SPARE_PORTS = range(55450, 55460)
PHONES = 4


def spare_port() -> int:
    """A free port from SPARE_PORTS, else any free one."""
    import socket
    for port in SPARE_PORTS:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    return free_port()


def as_postgres(argv: list[str]) -> list[str]:
    """initdb and pg_ctl refuse to run as root: as the postgres user then."""
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@pytest.fixture(scope="module")
def cluster():
    """A PostgreSQL cluster of this module's own, listening on a socket in its data folder. Like every
    [postgres] test it runs where PostgreSQL tests are asked for (TEST_POSTGRES_URL: CI's PostgreSQL step)."""
    if not os.environ.get("TEST_POSTGRES_URL"):
        pytest.skip("PostgreSQL tests not asked for: set TEST_POSTGRES_URL")
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    pg_ctl = found[-1] if found else shutil.which("pg_ctl")
    if not pg_ctl:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl)")
    bindir = os.path.dirname(pg_ctl)
    data = tempfile.mkdtemp(prefix="faults-pg-")
    if os.geteuid() == 0:
        shutil.chown(data, "postgres")
    port = spare_port()
    subprocess.run(as_postgres([f"{bindir}/initdb", "--no-sync", "-A", "trust", "-U", "postgres", "-D", data]),
                   check=True, stdout=subprocess.DEVNULL)
    options = f"-p {port} -k {data} -c listen_addresses=''"

    def ctl(*args):
        subprocess.run(as_postgres([pg_ctl, "-w", "-t", "60", "-D", data, "-o", options, "-l", f"{data}/log", *args]),
                       check=True, stdout=subprocess.DEVNULL)
    ctl("start")
    try:
        admin = create_engine(f"postgresql+psycopg://postgres@/postgres?host={data}&port={port}",
                              isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("CREATE DATABASE faults"))
        admin.dispose()
        yield SimpleNamespace(url=f"postgresql+psycopg://postgres@/faults?host={data}&port={port}", ctl=ctl)
    finally:
        subprocess.run(as_postgres([pg_ctl, "-D", data, "-m", "immediate", "stop"]), stdout=subprocess.DEVNULL)
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture
def app(cluster, tmp_path):
    """The app on the throwaway cluster (instead of the suite's shared test database)."""
    app = new_test_app(cluster.url, tmp_path)
    create_schema(app)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_postgres_restarted_under_load_fails_cleanly_and_recovers_by_itself(app, cluster, work_order, as_user,
                                                                            tmp_path):
    """Four phones post progress without pause through two gunicorn workers; PostgreSQL restarts under
    them. Every answer is 201 or 503 with Retry-After (no 500, no dropped connection, no trace in the
    log); every request begun after the restart succeeds; the reports counted in the database are
    exactly the entries the phones saw acknowledged."""
    phones = [Phone(app, as_user("worker")) for _ in range(PHONES)]
    server = Gunicorn(cluster.url, tmp_path / "server", workers=2)
    path = f"/w/{work_order.token}/report"
    stop = threading.Event()
    answers, acknowledged, lock = [], [], threading.Lock()

    def phone_loop(index: int):
        number = 0
        while not stop.is_set():
            key = f"phone{index}-{number}"
            started = time.monotonic()
            try:
                status, headers, _body = request("127.0.0.1", server.port, "POST", path,
                                                 {"p-good": "1", "p-scrap": "0", "p-note": key},
                                                 phones[index].headers(key), timeout=60)
            except OSError as error:
                status, headers = repr(error), {}
            with lock:
                answers.append((started, status, headers.get("retry-after"), time.monotonic()))
                if status == 201:
                    acknowledged.append(key)
            if status == 201:
                number += 1
            elif status == 503:
                time.sleep(0.1)  # the outbox waits before it sends the same entry again
            else:
                return  # anything else fails the test below

    threads = [threading.Thread(target=phone_loop, args=(i,)) for i in range(PHONES)]
    try:
        for thread in threads:
            thread.start()
        running = lambda: any(thread.is_alive() for thread in threads)  # noqa: E731
        wait_for(lambda: len(acknowledged) >= 20 or not running(), "the phones' first reports")
        restart_began = time.monotonic()
        cluster.ctl("-m", "fast", "restart")
        restarted = time.monotonic()
        wait_for(lambda: sum(1 for a in answers if a[0] > restarted and a[1] == 201) >= 20 or not running(),
                 "reports after the restart")
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
        server.stop()
    log = server.log_path.read_text()
    statuses = [answer[1] for answer in answers]
    assert set(statuses) <= {201, 503}, ([s for s in statuses if s not in (201, 503)][:5], trace_of(log))
    assert all(retry for _started, status, retry, _ended in answers if status == 503)
    caught = [a for a in answers if a[1] == 503]
    assert caught, "no request was caught by the restart"
    # Only requests the restart caught failed: none ended before it began, none began after it ended.
    assert all(ended > restart_began and started < restarted for started, _status, _retry, ended in caught)
    # (The background worker's own tasks may log a trace while the server is down; they run again.)
    assert "unhandled error" not in log and "Exception on" not in log, trace_of(log)
    with app.app_context():
        notes = db.session.scalars(db.select(ProgressReport.note)).all()
        assert sorted(notes) == sorted(acknowledged)  # none lost, none twice
        assert db.session.get(WorkOrder, work_order.id).good == len(acknowledged)
        assert db.session.scalar(db.select(db.func.count()).select_from(IdempotencyRecord)) == len(acknowledged)



def test_the_busy_page_while_postgres_is_down_is_whole_and_asks_it_nothing(app, cluster, as_user):
    """While the database is down a person's page answers 503 with the whole friendly page (the app's
    name in its header, the translated message, the stylesheet), not the bare fallback of an error page
    that failed by asking the database again; once it is back, the same page opens by itself."""
    client = as_user("sales")
    assert client.get("/orders/").status_code == 200
    cluster.ctl("-m", "fast", "stop")
    try:
        down = client.get("/orders/", headers={"Accept-Language": "zh-CN"})
    finally:
        cluster.ctl("start")
    body = down.get_data(as_text=True)
    assert down.status_code == 503 and down.headers["Retry-After"]
    assert "stylesheet" in body and "订单跟踪" in body, body[:300]
    assert client.get("/orders/").status_code == 200

def wait_for(condition, what: str, seconds: float = 120) -> None:
    """Poll condition until it holds (fail with what after seconds: a hang, not a speed limit)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"waited {seconds} s for {what}"
        time.sleep(0.05)


def trace_of(log: str) -> str:
    """The first trace in a gunicorn log, the app's own frames and the errors."""
    lines = log.splitlines()
    start = next((i for i, line in enumerate(lines) if "unhandled error" in line or "Exception on" in line), None)
    if start is None:
        return ""
    return "\n".join(line for line in lines[start:start + 400]
                     if "webapp/" in line or "Error" in line or "During handling" in line)[:6000]
