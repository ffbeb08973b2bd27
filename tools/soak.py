"""The soak (`make soak`, issue 17): simulated phones write through gunicorn for a while, a worker is
killed (SIGKILL) twice, and what the database holds is counted against what the phones were told.

    python tools/soak.py                      # SQLite, 50 phones, 10 minutes
    SOAK_SECONDS=60 SOAK_PHONES=10 python tools/soak.py
    SOAK_DATABASE_URL=postgresql:///soak python tools/soak.py   # PostgreSQL: that database is emptied

Each phone is a worker's outbox (a device credential) on a work order of its own: it posts progress
reports, scans a product code, and now and then a customer signs for a delivery on it (a receipt
through the customer's link). Every write carries an Idempotency-Key; a phone sends the same entry
again, as outbox.js does, until the server answers it (a dropped connection, 5xx or 429 → again after a
short wait). gunicorn runs as `make run` runs it (2 workers × 4 threads, the background worker beside
it), behind a proxy as far as it knows (each phone has its own address). Passes when there was no 5xx
answer (a killed worker's requests get no answer: they are counted apart), no other refusal, and the
database holds each acknowledged write exactly once. Prints a JSON summary; with --report, writes the
"## Soak" section of docs/benchmarks.md (one row per database).
"""
import argparse
import json
import os
import platform
import random
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools.live_server import Gunicorn, request  # noqa: E402

SIGNATURE = json.dumps([{"points": [{"x": 10 + i * 4, "y": 40 + (i % 7) * 3, "time": i, "pressure": 0.5}
                                    for i in range(30)]}])
PASSWORD = "soak phone 1"


def build(url: str, phones: int, receipts: int, folder: Path) -> dict:
    """An empty schema on url and what the phones act on: per phone a worker, its device credential and
    a stocking work order; `receipts` dispatched shipments of one piece with the customer's link."""
    from sqlalchemy import text
    from webapp import create_app, links
    from webapp.admin.models import get_settings
    from webapp.auth.models import User
    from webapp.costing.models import ensure_builtin_causes
    from webapp.customers.models import Customer
    from webapp.extensions import db
    from webapp.orders import services as orders
    from webapp.orders.models import Order, OrderLine
    from webapp.production import services as floor
    from webapp.production.models import Product
    from webapp.shipping import services as shipping
    from webapp.sync import replay

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "soak", "UPLOAD_FOLDER": str(folder / "uploads"),
                      "MAIL_FOLDER": str(folder / "mail"), "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                      "HUEY_IMMEDIATE": False, "HUEY_URL": f"sqlite:///{folder / 'setup-huey.sqlite3'}"})
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            if "soak" not in (db.engine.url.database or ""):
                # Its schema is dropped next: only a database named for the soak is ever wiped.
                raise SystemExit(f"soak: refusing to empty the database {db.engine.url.database!r}; "
                                 "give it a name with 'soak' in it.")
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public;"))
            db.session.commit()
        db.create_all()
        get_settings()
        ensure_builtin_causes()
        db.session.commit()
    plan = {"phones": [], "receipts": []}
    with app.app_context(), app.test_request_context("/", method="POST"):
        people = {}
        for role in ("sales", "production", "finance", "warehouse", "manager", "operations", "qc"):
            user = User(username=f"soak-{role}", name=f"Soak {role}", password_hash="", email=f"{role}@soak.example.com")
            user.roles = (role,)
            user.set_password(PASSWORD)
            db.session.add(user)
            people[role] = user
        product = Product(model="SOAK-1", name="Soak bracket", unit="pcs", list_price=Decimal("10"), barcode="6901234567892",
                          on_hand=Decimal("0"))
        customer = Customer(name="Soak Ltd", abbreviation="SOAK", contact_name="Ann", locale="en",
                            contact_email="buyer@soak.example.com")
        db.session.add_all([product, customer])
        db.session.flush()
        for index in range(phones):
            worker = User(username=f"phone{index}", name=f"Phone {index}", password_hash="",
                          email=f"phone{index}@soak.example.com")
            worker.roles = ("worker",)
            worker.set_password(PASSWORD)
            db.session.add(worker)
            db.session.flush()
            device, secret = replay.new_device(worker, f"soak phone {index}")
            replay.enrol(device, worker)
            work_order = floor.create_stocking(product, Decimal("100000"), None, f"soak {index}", people["production"])
            plan["phones"].append({"actor": worker.id, "device": device.id, "secret": secret,
                                   "token": work_order.token, "work_order": work_order.id})
        if receipts:
            order = Order(customer_id=customer.id, sales_rep_id=people["sales"].id, currency="CNY",
                          tax_rate=Decimal("13"), prepayment_pct=Decimal("0"),
                          delivery_date=date.today() + timedelta(days=30))
            order.lines = [OrderLine(position=1, model="SOAK-1", quantity=Decimal(receipts), unit="pcs",
                                     unit_price=Decimal("10"), unit_price_incl=Decimal("11.30"))]
            db.session.add(order)
            db.session.flush()
            order.customer = customer
            orders.recalculate(order)
            orders.submit(order, people["sales"])
            for department in order.settings.get("reviews", []):
                if department == "finance":
                    for category in ("material", "labour", "overhead", "logistics", "aftersales"):
                        setattr(order, f"budget_{category}", Decimal("100"))
                orders.review(order, department, "agree", "", people[department])
            for role in order.required_approvals():
                orders.decide(order, role, "approve", "", people[role])
            orders.countersign(order, links.current("order_countersign", order.id), "Ann", "", SIGNATURE,
                               "127.0.0.1", "soak")
            if not order.prepayment_satisfied:
                orders.override_prepayment(order, "soak", people["finance"])
            orders.simple_transition(order, "start_production", people["operations"])
            for work_order in order.work_orders:
                floor.report(work_order, people["production"], work_order.remaining, Decimal("0"), "", [])
                floor.move(work_order, "finish", people["production"])
                floor.move(work_order, "pass_qc", people["qc"])
            line = order.lines[0]
            for number in range(receipts):
                shipment = shipping.create_shipment(order, people["warehouse"], {line.id: Decimal("1")},
                                                    {line.id: f"B{number}"}, "delivery", "SF", f"SF{number:06d}",
                                                    date.today() + timedelta(days=2), Decimal("0"))
                for sline in shipment.lines:
                    shipping.check_line(shipment, sline, sline.batch, people["warehouse"])
                shipping.pack(shipment, people["warehouse"])
                shipping.dispatch(shipment, [], "", courier_link=links.current("courier", shipment.id))
                plan["receipts"].append({"shipment": shipment.id, "token": links.current("delivery_receipt", shipment.id).token,
                                         "line": shipment.lines[0].id})
        db.session.commit()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return plan


class Tally:
    """What the phones saw, shared by their threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.statuses = Counter()
        self.dropped = 0  # connections that ended without an answer (a killed worker)
        self.requests = 0
        self.acknowledged = {"report": [], "scan": [], "receipt": []}
        self.refused = []  # (status, body) of 4xx other than 429: a bug in the soak or the app
        self.slowest = 0.0
        self.server_errors = []  # (status, kind, body) of the first 5xx answers

    def saw(self, status, seconds: float, kind: str = "", body: bytes = b"") -> None:
        with self.lock:
            if status is not None and status >= 500 and len(self.server_errors) < 10:
                self.server_errors.append((status, kind, body[:300].decode(errors="replace")))
            self.requests += 1
            self.slowest = max(self.slowest, seconds)
            if status is None:
                self.dropped += 1
            else:
                self.statuses[status] += 1


def phone(index: int, port: int, plan: dict, receipts: list, tally: Tally, deadline: float, stop: threading.Event,
          seed: int) -> None:
    """One phone: record an entry, send it until the server answers it, think, again until the deadline."""
    rng = random.Random(seed * 1000 + index)
    me = plan["phones"][index]
    address = f"10.{index // 250}.{index % 250}.{rng.randint(1, 250)}"
    number = 0
    while time.monotonic() < deadline and not stop.is_set():
        number += 1
        key = f"p{index}-{number}"
        roll = rng.random()
        if receipts and roll < 0.08:
            receipt = receipts.pop()
            kind, path = "receipt", f"/c/{receipt['token']}/receipt"
            fields = {f"line-{receipt['line']}-qty": "1", f"line-{receipt['line']}-condition": "ok",
                      f"line-{receipt['line']}-note": "", "name": f"Customer {index}", "consent": "y",
                      "strokes": SIGNATURE}
            headers = {"Authorization": "Link"}
        elif roll < 0.25:
            kind, path, fields = "scan", "/scan/resolve", {"code": "6901234567892"}
            headers = {"Authorization": f"Device {me['device']}.{me['secret']}", "X-Actor": str(me["actor"])}
        else:
            kind, path = "report", f"/w/{me['token']}/report"
            fields = {"p-good": "1", "p-scrap": "0", "p-note": key}
            headers = {"Authorization": f"Device {me['device']}.{me['secret']}", "X-Actor": str(me["actor"])}
        headers.update({"Idempotency-Key": key, "Accept": "application/json", "X-Forwarded-For": address,
                        "X-Recorded-At": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")})
        attempt = 0
        while True:  # the outbox: the same entry until it is answered
            attempt += 1
            started = time.monotonic()
            try:
                status, _headers, body = request("127.0.0.1", port, "POST", path, fields,
                                                 {**headers, "X-Attempt": str(attempt)}, timeout=120)
            except OSError:
                status, body = None, b""
            tally.saw(status, time.monotonic() - started, kind, body)
            if status is not None and 200 <= status < 300:
                with tally.lock:
                    tally.acknowledged[kind].append(key if kind != "receipt" else receipt["shipment"])
                break
            if status is not None and 400 <= status < 500 and status != 429:
                with tally.lock:
                    tally.refused.append((status, kind, body[:300].decode(errors="replace")))
                break
            if attempt > 200:
                with tally.lock:
                    tally.refused.append(("gave up", kind, key))
                break
            time.sleep(min(5.0, 0.5 * attempt))  # outbox.js waits longer each time
        time.sleep(rng.uniform(0.5, 1.5))  # the person works between two taps


def count_database(url: str, plan: dict, tally: Tally) -> dict:
    """Each acknowledged write looked up in the database: lost (not there) and duplicated (twice)."""
    from webapp import create_app
    from webapp.extensions import db
    from webapp.production.models import ProgressReport
    from webapp.shipping.models import DeliveryReceipt
    from webapp.sync.models import IdempotencyRecord

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "soak"})
    with app.app_context():
        report_work_orders = [p["work_order"] for p in plan["phones"]]
        notes = Counter(db.session.scalars(db.select(ProgressReport.note).where(
            ProgressReport.work_order_id.in_(report_work_orders))))
        signed = Counter(db.session.scalars(db.select(DeliveryReceipt.shipment_id)))
        scan_keys = Counter(db.session.scalars(db.select(IdempotencyRecord.key).where(
            IdempotencyRecord.endpoint.like("scan.resolve%"))))
        records = db.session.scalar(db.select(db.func.count()).select_from(IdempotencyRecord))
        db.session.remove()
        db.engine.dispose()
    sent = tally.acknowledged
    result = {}
    for kind, found in (("report", notes), ("scan", scan_keys), ("receipt", signed)):
        acked = Counter(sent[kind])
        result[kind] = {"acknowledged": len(sent[kind]), "in_database": sum(found.values()),
                        "lost": sum(1 for k in acked if found[k] == 0),
                        "duplicated": sum(found[k] - 1 for k in found if found[k] > 1),
                        "unacknowledged_in_database": sum(1 for k in found if k not in acked)}
    result["idempotency_records"] = records
    return result


def soak(url: str, phones: int, seconds: float, kills: int, folder: Path, seed: int = 1) -> dict:
    """Build, serve, run the phones, kill workers, count; the summary."""
    receipts_wanted = max(phones, int(phones * seconds / 60 * 0.1))
    started = time.monotonic()
    plan = build(url, phones, receipts_wanted, folder)
    setup_seconds = time.monotonic() - started
    server = Gunicorn(url, folder / "server", workers=2, env={"TRUSTED_PROXIES": "1"})
    tally, stop, killed = Tally(), threading.Event(), []
    receipts = list(plan["receipts"])
    random.Random(seed).shuffle(receipts)
    try:
        began = time.monotonic()
        deadline = began + seconds
        threads = [threading.Thread(target=phone, args=(i, server.port, plan, receipts, tally, deadline, stop, seed),
                                    daemon=True) for i in range(phones)]
        for thread in threads:
            thread.start()
        for number in range(1, kills + 1):
            moment = began + seconds * number / (kills + 1)
            while time.monotonic() < moment:
                time.sleep(0.2)
            workers = server.workers()
            if workers:
                victim = random.Random(seed + number).choice(workers)
                os.kill(victim, signal.SIGKILL)
                killed.append(victim)
        for thread in threads:
            thread.join(timeout=seconds + 600)
        ran = time.monotonic() - began
    finally:
        stop.set()
        server.stop()
    log = server.log_path.read_text()
    counts = count_database(url, plan, tally)
    five_xx = sum(n for status, n in tally.statuses.items() if status >= 500)
    lost = sum(counts[k]["lost"] for k in ("report", "scan", "receipt"))
    duplicated = sum(counts[k]["duplicated"] + counts[k]["unacknowledged_in_database"]
                     for k in ("report", "scan", "receipt"))
    acknowledged = sum(len(v) for v in tally.acknowledged.values())
    summary = {
        "database": "PostgreSQL" if url.startswith("postgresql") else "SQLite",
        "phones": phones, "seconds": seconds, "ran_seconds": round(ran, 1), "setup_seconds": round(setup_seconds, 1),
        "requests": tally.requests, "statuses": {str(k): v for k, v in sorted(tally.statuses.items())},
        "dropped_by_kills": tally.dropped, "kills": len(killed), "killed_pids": killed,
        "worker_respawns_logged": log.count("was sent SIGKILL"),
        "five_xx": five_xx, "five_xx_answers": tally.server_errors, "refused": tally.refused[:10], "refused_count": len(tally.refused),
        "acknowledged": acknowledged, "counts": counts, "lost": lost, "duplicated": duplicated,
        "slowest_request_seconds": round(tally.slowest, 2),
        "unhandled_errors_logged": log.count("unhandled error") + log.count("Exception on"),
        "first_trace": first_trace(log),
    }
    summary["passed"] = (five_xx == 0 and not tally.refused and lost == 0 and duplicated == 0
                         and len(killed) == kills and acknowledged > 0
                         and counts["idempotency_records"] == acknowledged
                         and summary["unhandled_errors_logged"] == 0)
    return summary


def first_trace(log: str) -> str:
    """The app's frames and the errors of the first unhandled error in the gunicorn log ('' if none)."""
    lines = log.splitlines()
    start = next((i for i, line in enumerate(lines) if "unhandled error" in line or "Exception on" in line), None)
    if start is None:
        return ""
    kept = [line.strip() for line in lines[start:start + 300]
            if "webapp/" in line or "Error" in line or "During handling" in line or line.startswith(("psycopg", "sqlalchemy"))]
    return "\n".join(kept)[:5000]


def write_report(path: Path, summary: dict) -> None:
    """Put this run's row in the '## Soak' section of docs/benchmarks.md (one row per database)."""
    heading = "## Soak"
    intro = ("`make soak` (tools/soak.py): simulated phones (worker outboxes with Idempotency-Keys, retrying "
             "like outbox.js) post progress reports, scan a product code and sign deliveries through the "
             "customer's link, through gunicorn as `make run` serves it (2 workers × 4 threads), with a worker "
             "killed (SIGKILL) twice. Writes are counted from the database against what the phones were told. "
             "Requests dropped by a kill get no answer (the phone sends the entry again); they are not 5xx. Each phone "
             "waits 0.5–1.5 s between two actions; the slowest request includes its wait in SQLite's writer queue "
             "and for a replacement worker. The machine's 2 cores were shared with other work during these runs.")
    header = ("| database | date | machine | phones | minutes | requests | 2xx | 5xx | other refusals | dropped by kills "
              "| kills | reports / scans / receipts acknowledged | lost | duplicated | slowest request | result |")
    rule = "|" + "---|" * (header.count("|") - 1)
    statuses = summary["statuses"]
    two_xx = sum(v for k, v in statuses.items() if k.startswith("2"))
    counts = summary["counts"]
    row = (f"| {summary['database']} | {date.today().isoformat()} | {platform.machine()}, {os.cpu_count()} cores "
           f"| {summary['phones']} | {summary['seconds'] / 60:g} | {summary['requests']} | {two_xx} | {summary['five_xx']} "
           f"| {summary['refused_count']} | {summary['dropped_by_kills']} | {summary['kills']} "
           f"| {counts['report']['acknowledged']} / {counts['scan']['acknowledged']} / {counts['receipt']['acknowledged']} "
           f"| {summary['lost']} | {summary['duplicated']} | {summary['slowest_request_seconds']} s "
           f"| {'pass' if summary['passed'] else 'FAIL'} |")
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    rows = {}
    if heading in text:
        before, _, rest = text.partition(heading)
        section, marker, after = rest.partition("\n## ")
        after = marker + after if marker else ""
        for line in section.splitlines():
            if line.startswith("| ") and not line.startswith("| database"):
                rows[line.split("|")[1].strip()] = line
    else:
        before, after = text.rstrip("\n") + "\n\n", ""
    rows[summary["database"]] = row
    body = "\n".join([heading, "", intro, "", header, rule, *[rows[k] for k in sorted(rows)], ""])
    path.write_text(before + body + ("\n" + after.lstrip("\n") if after else ""))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=int(os.environ.get("SOAK_PHONES", 50)))
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("SOAK_SECONDS", 600)))
    parser.add_argument("--kills", type=int, default=2)
    parser.add_argument("--database-url", default=os.environ.get("SOAK_DATABASE_URL", ""),
                        help="PostgreSQL database to use (it is emptied); SQLite in a temporary folder when unset")
    parser.add_argument("--report", default=os.environ.get("SOAK_REPORT", ""),
                        help="docs/benchmarks.md to write the '## Soak' row into (none when unset)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="soak-") as scratch:
        folder = Path(scratch)
        url = args.database_url or f"sqlite:///{folder / 'soak.sqlite3'}"
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://"):]
        summary = soak(url, args.phones, args.seconds, args.kills, folder)
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    if args.report:
        write_report(Path(args.report), summary)
    return 0 if summary["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
