"""Past one machine (issue 17): two gunicorn instances, A and B, on different ports, sharing one
PostgreSQL, one Redis (Huey's queue) and one S3-compatible store (moto's server) — the settings
docs/operations.md gives for several app servers. Over real HTTP:

- an offline replay sent to A and then, with the same Idempotency-Key, to B has one effect, and B's
  answer is the stored replay; the same key with other content is refused on either;
- a photo that replay carried, uploaded through A, is served by B (and the thumbnail too);
- orders approved at the same time on A and B get unique, gapless numbers;
- failed logins spread over A and B are counted together: the sixth try is refused on either;
- a mail job queued by A in Redis is done by a Huey consumer running beside them.

In CI (.ci/run sets REQUIRE_TWO_SERVERS in the PostgreSQL step) a skip here is a failure."""
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from datetime import datetime, timezone
from pathlib import Path

import pytest
import redis
import requests
from sqlalchemy import make_url

from webapp.extensions import db
from webapp.orders.models import Order
from webapp.photos import Photo
from webapp.shipping.models import Shipment

from .conftest import PASSWORD, new_bucket, spare_port
from .helpers import jpeg_bytes
from .test_requirements import new_requirement
from .test_sync import packed_shipment_with_courier_link, stamp

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.two_servers, pytest.mark.slow, pytest.mark.xdist_group("two-servers")]
APPROVALS = 12


def wait_until(check, what: str, seconds: float = 120, process=None, log: Path | None = None):
    """Poll check() until it is true; fail (with the log) past the deadline or if process died."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if check():
                return
        except (OSError, requests.RequestException):
            pass
        if (process is not None and process.poll() is not None) or time.monotonic() > deadline:
            raise AssertionError(f"{what} did not come up" + (f":\n{log.read_text()[-3000:]}" if log else ""))
        time.sleep(0.2)


class Cluster:
    """Redis, the S3 server's bucket, two gunicorns and a Huey consumer, all on loopback."""

    def __init__(self, stack: ExitStack, tmp: Path, database_url: str, moto_endpoint: str, smtp_port: int):
        self.stack, self.tmp = stack, tmp
        redis_port = spare_port("TEST_REDIS_PORTS")
        self.start("redis", ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no"],
                   lambda: redis.Redis(port=redis_port, socket_timeout=5).ping())
        self.bucket = new_bucket(moto_endpoint)
        self.env = {**os.environ,
                    "DATABASE_URL": database_url, "SECRET_KEY": "two-servers-secret",
                    "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
                    "STORAGE_URL": f"s3://{self.bucket}?endpoint={moto_endpoint}&region=us-east-1",
                    "MAIL_BACKEND": "smtp", "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(smtp_port),
                    "PUBLIC_URL": "https://tracker.example.com", "LOCAL_CA": "0"}
        # Both servers (one worker each, with threads: two processes are what matters here) and the
        # consumer start together; each app takes seconds to build on a busy machine.
        self.urls, waiting = [], []
        for name in ("a", "b"):
            port = spare_port()
            url = f"http://127.0.0.1:{port}"
            waiting.append(self.start(f"gunicorn-{name}", [
                sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
                "--threads", "8", "webapp:create_app()"],
                lambda url=url: requests.get(url + "/healthz", timeout=5).status_code == 200, wait=False))
            self.urls.append(url)
        self.start("huey", [sys.executable, "-m", "huey.bin.huey_consumer", "webapp.worker.huey",
                            "-k", "thread", "-w", "1", "--no-periodic"], None)
        for name, process, log, ready in waiting:
            wait_until(ready, name, process=process, log=log)

    def start(self, name: str, argv: list[str], ready, wait: bool = True):
        """Start a process (stopped when the test ends) and wait until ready() says it serves."""
        log = self.tmp / f"{name}.log"
        with open(log, "w") as out:
            process = subprocess.Popen(argv, cwd=ROOT, env=getattr(self, "env", os.environ), stdout=out,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        self.stack.callback(stop, process)
        if ready is not None and wait:
            wait_until(ready, name, process=process, log=log)
        return name, process, log, ready


def stop(process) -> None:
    """Stop a process this test started (its own session: gunicorn's workers go with it)."""
    if process.poll() is None:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()


def csrf_of(session: requests.Session, url: str) -> str:
    """The CSRF token a page gives this session."""
    page = session.get(url, timeout=30)
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def log_in(url: str, username: str, password: str = PASSWORD) -> requests.Session:
    """A browser session logged in through the login form on url."""
    session = requests.Session()
    response = session.post(url + "/login", data={"username": username, "password": password,
                                                  "csrf_token": csrf_of(session, url + "/login")},
                            allow_redirects=False, timeout=30)
    assert response.status_code == 303, (url, response.status_code, response.text[:300])
    return session


def replay(url: str, path: str, key: str, note: str, photo: bytes) -> requests.Response:
    """A courier's queued dispatch replayed from the phone's outbox: the link is its credential."""
    return requests.post(url + path + "/dispatch", data={"d-note": note},
                         files={"d-photos": ("load.jpg", photo, "image/jpeg")}, timeout=60,
                         headers={"Authorization": "Link", "Idempotency-Key": key, "Accept": "application/json",
                                  "X-Recorded-At": stamp(datetime.now(timezone.utc))})


@pytest.mark.parametrize("app", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_two_app_servers_share_postgresql_redis_and_s3(app, make_order, make_user, as_user, make_customer,
                                                       moto_s3, smtp, tmp_path):
    """See the module's docstring: each part over HTTP, alternating between A and B."""
    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed (.ci/run installs it)")
    shipment_id, courier_path = packed_shipment_with_courier_link(app, make_order, as_user)
    order_ids = [make_order("pending_approval", customer="TWO", finance_approval=False, reviews_required="")
                 for _ in range(APPROVALS)]
    make_user("manager", username="boss")
    make_user("production", username="super")
    make_user("sales", username="victim")
    sales = as_user("sales", username="seller")
    requirement_id = new_requirement(sales, make_customer("MAIL"), contact_email="two-servers@example.com")
    database_url = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).render_as_string(hide_password=False)

    with ExitStack() as stack:
        a, b = Cluster(stack, tmp_path, database_url, moto_s3, smtp.port).urls

        # An offline replay: A applies it, B answers the same key with the stored response.
        photo = jpeg_bytes()
        first = replay(a, courier_path, "two-servers-1", "gate 3", photo)
        assert first.status_code == 201 and first.json()["status"] == "applied", first.text[:300]
        again = replay(b, courier_path, "two-servers-1", "gate 3", photo)
        assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true", again.text[:300]
        assert again.json() == first.json()
        changed = replay(b, courier_path, "two-servers-1", "gate 4", photo)
        assert changed.status_code == 422  # the same key with other content
        with app.app_context():
            shipment = db.session.get(Shipment, shipment_id)
            assert shipment.status == "dispatched" and shipment.dispatch_note == "gate 3"
            photos = db.session.scalars(db.select(Photo)).all()
            assert len(photos) == 1

        # The photo, uploaded through A, is served by B (and A) to staff, from the shared bucket.
        supervisor = log_in(a, "super")  # one login: the session cookie is signed with the shared key
        on_b = supervisor.get(f"{b}/photos/{photos[0].id}", timeout=30)
        assert on_b.status_code == 200 and on_b.headers["Content-Type"] == "image/jpeg"
        assert on_b.content == supervisor.get(f"{a}/photos/{photos[0].id}", timeout=30).content
        assert supervisor.get(f"{b}/photos/{photos[0].id}/small", timeout=30).status_code == 200
        assert requests.get(f"{b}/photos/{photos[0].id}", allow_redirects=False, timeout=30).status_code == 302

        # Orders approved at once, half on A and half on B: unique, gapless numbers.
        managers = [log_in(a, "boss"), log_in(b, "boss")]
        tokens = [csrf_of(m, f"{a if i == 0 else b}/orders/{order_ids[0]}") for i, m in enumerate(managers)]
        barrier, statuses = threading.Barrier(APPROVALS), [None] * APPROVALS

        def approve(index):
            side = index % 2
            barrier.wait()
            statuses[index] = managers[side].post(
                f"{(a, b)[side]}/orders/{order_ids[index]}/decide", allow_redirects=False, timeout=120,
                data={"role": "manager", "decision": "approve", "csrf_token": tokens[side]}).status_code

        threads = [threading.Thread(target=approve, args=(i,)) for i in range(APPROVALS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=180)
        assert statuses == [303] * APPROVALS
        with app.app_context():
            numbers = sorted(db.session.scalars(db.select(Order.number).where(Order.id.in_(order_ids))))
        month = numbers[0][:6]
        assert numbers == [f"{month}-TWO-{n:03d}" for n in range(1, APPROVALS + 1)]

        # Failed logins spread over A and B count together: then even the right password is refused.
        guesser = requests.Session()
        for n in range(5):
            url = (a, b)[n % 2]
            wrong = guesser.post(url + "/login", data={"username": "victim", "password": "wrong guess",
                                                       "csrf_token": csrf_of(guesser, url + "/login")}, timeout=30)
            assert wrong.status_code == 422
        for url in (a, b):
            refused = guesser.post(url + "/login", data={"username": "victim", "password": PASSWORD,
                                                         "csrf_token": csrf_of(guesser, url + "/login")}, timeout=30)
            assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0

        # A mail job queued by A in Redis, done by the consumer: the customer gets the link by SMTP.
        seller = log_in(a, "seller")
        sent = seller.post(f"{a}/requirements/{requirement_id}/send", allow_redirects=False, timeout=30,
                           data={"csrf_token": csrf_of(seller, f"{a}/requirements/{requirement_id}")})
        assert sent.status_code == 303
        wait_until(lambda: any("two-servers@example.com" in m.rcpt_tos for m in smtp.messages),
                   "the mail sent by the Huey consumer", log=tmp_path / "huey.log")
