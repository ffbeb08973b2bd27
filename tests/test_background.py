"""The shared infrastructure: background tasks (Huey, inline in tests and in a real worker process),
notify() fanning an event out to its channels, and the one clock (wallclock)."""
import email
import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from email import policy
from pathlib import Path

import pytest

from webapp import background, notify, wallclock
from webapp.i18n import firm_today
from webapp.customers.models import Customer
from webapp.extensions import db
from webapp.notify import mail

from .conftest import free_port
from .helpers import id_from_location, requirement_form

ROOT = Path(__file__).resolve().parent.parent


def eml_files(app) -> list[email.message.EmailMessage]:
    """The development mail files written so far, parsed."""
    folder = Path(app.config["MAIL_FOLDER"])
    return [email.message_from_bytes(path.read_bytes(), policy=policy.default)
            for path in sorted(folder.glob("*.eml"))] if folder.exists() else []


# --- background tasks ------------------------------------------------------------------------------

def record_in_file(path: str, text: str) -> None:
    """A test task: append text to a file (module-level, so it pickles)."""
    with open(path, "a") as fh:
        fh.write(text)


def test_a_task_runs_inline_in_immediate_mode(app, tmp_path):
    """Tests run tasks when they are queued (HUEY_IMMEDIATE follows TESTING), in the app's context;
    an argument that could not travel to a real worker is refused here too."""
    huey = app.extensions["huey"]
    assert huey.immediate
    declared = background.BackgroundTask("tests.record_in_file", record_in_file)
    background.register(app, declared)
    target = tmp_path / "ran.txt"
    with app.app_context():
        declared.enqueue(str(target), "ran once")
        assert target.read_text() == "ran once"
        with pytest.raises(Exception):
            declared.enqueue(str(target), lambda: "a closure does not pickle")
    assert target.read_text() == "ran once"


def test_every_declared_task_is_registered_with_its_queue_name(app):
    """The mail task and the nightly purge are on the app's Huey under module.function names."""
    names = set(app.extensions["huey_tasks"])
    assert {"webapp.notify.mail.deliver", "webapp.sync.replay.purge_old_records_nightly"} <= names
    registered = {name for name in app.extensions["huey"]._registry._registry}
    assert "webapp.notify.mail.deliver" in registered


def test_mail_that_cannot_leave_is_retried_later_with_backoff(app):
    """With the mail server away the task fails and is scheduled again a minute later, with the
    delay doubling for the next try; the business request is not affected."""
    app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port())
    huey = app.extensions["huey"]
    before = datetime.now(timezone.utc).replace(tzinfo=None)
    with app.app_context():
        mail.queue("buyer@example.com", "Subject", "Body")
    scheduled = huey.scheduled()
    assert len(scheduled) == 1
    retry = scheduled[0]
    assert retry.retries == mail.SEND_RETRIES - 1
    assert retry.retry_delay == mail.SEND_RETRY_DELAY_SECONDS * mail.SEND_RETRY_BACKOFF
    wait = (retry.eta - before).total_seconds()
    assert mail.SEND_RETRY_DELAY_SECONDS - 5 < wait < mail.SEND_RETRY_DELAY_SECONDS + 30


def test_the_worker_process_delivers_mail_a_request_queued(app, smtp, as_user, make_customer, tmp_path):
    """Not immediate: a request queues the customer's mail in a SQLite queue file and nothing is
    sent; `huey_consumer webapp.worker.huey`, started as its own process, sends it by SMTP."""
    queue_file = tmp_path / "huey.sqlite3"
    saved = dict(app.extensions)
    app.config.update(HUEY_IMMEDIATE=False, HUEY_URL=f"sqlite:///{queue_file}")
    background.init_app(app)
    worker = None
    try:
        assert not app.extensions["huey"].immediate
        sales = as_user("sales")
        customer_id = make_customer("ACME")
        req_id = id_from_location(sales.post("/requirements/new", data=requirement_form(customer_id)))
        assert sales.post(f"/requirements/{req_id}/send").status_code == 303
        assert len(app.extensions["huey"]) == 1  # queued, not sent
        assert smtp.messages == []
        assert oct(os.stat(queue_file).st_mode & 0o777) == "0o600"  # it holds the customer's link

        env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
               "SECRET_KEY": "test-secret", "HUEY_URL": f"sqlite:///{queue_file}",
               "MAIL_BACKEND": "smtp", "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(smtp.port)}
        worker = subprocess.Popen(
            [sys.executable, "-m", "huey.bin.huey_consumer", "webapp.worker.huey", "--workers", "1",
             "--worker-type", "thread", "--no-periodic"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while not smtp.messages and worker.poll() is None and time.monotonic() < deadline:
            time.sleep(0.3)
        assert len(smtp.messages) == 1, worker.poll()
        message = smtp.messages[0]
        assert message.rcpt_tos == ["buyer@example.com"]
        assert b"https://tracker.example.com/c/" in message.content
        assert len(app.extensions["huey"]) == 0  # taken off the queue
    finally:
        if worker is not None:
            worker.send_signal(signal.SIGINT)  # the consumer's graceful stop
            try:
                output = worker.communicate(timeout=30)[0].decode(errors="replace")
            except subprocess.TimeoutExpired:
                worker.kill()
                output = worker.communicate()[0].decode(errors="replace")
        app.extensions.clear()
        app.extensions.update(saved)
    assert "Executing webapp.notify.mail.deliver" in output, output[-2000:]


def test_the_queue_is_redis_where_configured(tmp_path):
    """HUEY_URL or REDIS_URL with redis:// gives a Redis queue (nothing connects until a task is
    queued); unset, a SQLite file in instance/; an unknown scheme is refused at start."""
    from flask import Flask
    from huey import RedisHuey, SqliteHuey

    def huey_for(**config):
        bare = Flask(__name__, instance_path=str(tmp_path))
        bare.config.update(HUEY_IMMEDIATE=False, **config)
        return background.make_huey(bare)

    for key in ("HUEY_URL", "REDIS_URL"):
        huey = huey_for(**{key: "redis://127.0.0.1:6399/3"})
        assert isinstance(huey, RedisHuey) and not huey.immediate
        assert huey.storage.conn.connection_pool.connection_kwargs["db"] == 3
    huey = huey_for()
    assert isinstance(huey, SqliteHuey) and huey.storage.filename == str(tmp_path / "huey.sqlite3")
    with pytest.raises(ValueError):
        huey_for(HUEY_URL="amqp://127.0.0.1/")


# --- notify ------------------------------------------------------------------------------------------

@pytest.fixture
def toy_event():
    """A toy event with its message, and a second channel that records what it is given."""
    from flask_babel import gettext as _
    received = []

    @notify.message("test.survey_reminder")
    def render(number):
        return notify.Notice(_("Order %(number)s: how did we do?", number=number), f"Body of {number}")

    notify.register_channel("recorder", lambda event, recipients, context, render_for: received.append(
        (event, recipients, context, [render_for(r).subject for r in recipients])))
    yield received
    notify.unregister_channel("recorder")
    notify.MESSAGES.pop("test.survey_reminder", None)


def test_notify_fans_an_event_out_to_every_channel(app, toy_event):
    """Each channel gets the event, its recipients and its context; the e-mail channel mails each
    recipient with an address, in that recipient's language, after the commit."""
    zh = notify.Recipient("kehu@example.cn", "zh")
    en = notify.Recipient("buyer@example.com", "en")
    nobody = notify.Recipient(None, "en")  # no address: channels that need one skip them
    with app.app_context(), app.test_request_context("/", method="POST"):
        notify.notify("test.survey_reminder", [zh, en, nobody], number="202611-ACME-001")
        assert eml_files(app) == []  # not before the commit
        mail.flush()
    assert toy_event == [("test.survey_reminder", [zh, en, nobody], {"number": "202611-ACME-001"},
                          ["订单 202611-ACME-001：请评价我们的服务", "Order 202611-ACME-001: how did we do?",
                           "Order 202611-ACME-001: how did we do?"])]
    sent = {message["To"]: message for message in eml_files(app)}
    assert set(sent) == {"kehu@example.cn", "buyer@example.com"}
    assert sent["kehu@example.cn"]["Subject"] == "订单 202611-ACME-001：请评价我们的服务"
    assert sent["buyer@example.com"].get_content().strip() == "Body of 202611-ACME-001"


def test_notify_refuses_an_event_without_a_message(app):
    """A misspelt event name fails loudly instead of telling nobody."""
    with app.app_context(), app.test_request_context("/", method="POST"):
        with pytest.raises(KeyError):
            notify.notify("requirement.snet", [notify.Recipient("a@example.com")])


def test_no_domain_sends_mail_itself():
    """Only the notify package touches mail (and transaction.py, which releases it after the commit)."""
    offenders = []
    for path in (ROOT / "webapp").rglob("*.py"):
        relative = path.relative_to(ROOT / "webapp").as_posix()
        if relative.startswith("notify/") or relative in ("transaction.py", "__init__.py"):
            continue
        text = path.read_text()
        if (re.search(r"\bmail\.(queue|send|deliver)\b", text) or "smtplib" in text
                or re.search(r"from \.+notify(\.mail)? import[^\n]*\bmail\b", text)):
            offenders.append(relative)
    assert offenders == []


# --- the one clock -----------------------------------------------------------------------------------

def test_the_clock_can_be_frozen_and_moved(app):
    """wallclock.frozen stops "now" (model defaults and the firm's today follow it);
    running_from moves it and lets it run; outside them it is the real time again."""
    moment = datetime(2026, 3, 1, 17, 30, tzinfo=timezone.utc)  # already 2 March in Shanghai
    with app.app_context():
        with wallclock.frozen(moment):
            assert wallclock.utcnow() == moment
            time.sleep(0.01)
            assert wallclock.utcnow() == moment
            assert firm_today().isoformat() == "2026-03-02"
            customer = Customer(name="Frozen Ltd", abbreviation="FRZ", contact_name="Ann",
                                contact_email="a@frz.example.com", locale="en")
            db.session.add(customer)
            db.session.commit()
            assert customer.created_at == moment
        with wallclock.running_from(moment):
            first = wallclock.utcnow()
            time.sleep(0.02)
            assert moment <= first < wallclock.utcnow() < moment + timedelta(seconds=5)
        assert abs(wallclock.utcnow() - datetime.now(timezone.utc)) < timedelta(seconds=5)
        with pytest.raises(ValueError):
            with wallclock.frozen(datetime(2026, 3, 1)):
                pass
