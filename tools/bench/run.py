"""`make bench`: time the app's pages against a bare Flask baseline, at the demo size and at 100,000
orders, on SQLite (and PostgreSQL when BENCH_POSTGRES_URL names a database whose name holds "bench"),
and write docs/benchmarks.md.

    make bench                              # demo + 100,000 orders, SQLite (+ PostgreSQL if given)
    BENCH_ORDERS=2000 make bench            # a quick run: demo + 2,000 orders
    BENCH_ORDERS=0 BENCH_SECONDS=3 make bench   # demo only, shorter loads

Generated databases are cached under instance/bench/ by size and the generators' source, and brought
to the migration head on each use (`flask db upgrade`: a new index does not cost a new history), so a
second run starts timing at once. Each SQLite run works on a copy of the cached file
(the posts write); PostgreSQL runs reuse their database (the bench's posts add a few thousand rows).

Environment: BENCH_ORDERS (sizes beyond the demo, comma-separated; 0 for none; BENCH_POSTGRES_ORDERS for
PostgreSQL alone), BENCH_SECONDS (per
load, 5, in BENCH_ROUNDS turns of page and baseline, 2), BENCH_CONNECTIONS (8), BENCH_PORT (first of two loopback ports, 8250), BENCH_POSTGRES_URL
and BENCH_POSTGRES_BIG_URL (default: the first's database name + "_big"), BENCH_LIGHTHOUSE=0 to skip
Lighthouse, BENCH_OUTPUT (docs/benchmarks.md), BENCH_ONLY_SIZES (e.g. 100000 or postgres:100000:
only those runs, the others' figures kept from the last run's instance/bench/results.json)."""
import gzip
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import uuid
from html.parser import HTMLParser
from pathlib import Path

import brotli
import requests

from . import report, wrk

ROOT = Path(__file__).resolve().parents[2]
BENCH_DIR = ROOT / "instance" / "bench"
BIN = Path(sys.executable).parent
LIGHTHOUSE_DIR = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "tracker-bench" / "lighthouse"
LIGHTHOUSE_VERSION = "12.8.2"
PASSWORD = "demo1234"
# What makes each size: the demo's generator, and for the large sizes the history's too.
DEMO_SOURCES = ("webapp/demo.py",)
HISTORY_SOURCES = ("webapp/benchdata.py",)

# (name, kind, login, path or a target's key, what the budget calls it). kind: phone / post / office.
PAGES = [
    ("scan landing", "phone", "huang.xm", "/scan"),
    ("worker page", "phone", "huang.xm", "worker_page"),
    ("+1 progress post", "post", None, "worker_page"),
    ("customer tracking", "phone", None, "tracking"),
    ("courier link", "phone", None, "courier"),
    ("My work: admin", "office", "admin", "/"),
    ("My work: sales", "office", "wang.fang", "/"),
    ("My work: operations", "office", "li.qiang", "/"),
    ("My work: production", "office", "zhang.wei", "/"),
    ("My work: warehouse", "office", "liu.yang", "/"),
    ("My work: finance", "office", "chen.jing", "/"),
    ("My work: manager", "office", "zhao.min", "/"),
    ("order list, filtered", "office", "li.qiang", "/orders/?status=in_production"),
    ("order search", "office", "wang.fang", "search"),
    ("order page", "office", "li.qiang", "order_page"),
    ("board", "office", "zhang.wei", "/production/board"),
    ("KPI dashboard", "office", "zhao.min", "/kpi/"),
    ("XLSX export", "office", "zhang.wei", "/production/daily.xlsx"),
]
# Phone pages whose first visit is weighed (and the scan landing page's HTML+CSS on its own).
FIRST_VISIT = [("login", None, "/login"), ("scan landing", "huang.xm", "/scan"),
               ("worker page", "huang.xm", "worker_page"), ("packing", "liu.yang", "packing"),
               ("customer signing", None, "signing"), ("customer tracking", None, "tracking"),
               ("courier link", None, "courier")]
LIGHTHOUSE_PAGES = FIRST_VISIT[:6]
REPLAY_ACTIONS = 500


def log(message: str) -> None:
    """Progress on stderr (the run takes minutes)."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- settings ---------------------------------------------------------------------------------------

def sizes(database: str = "sqlite") -> list:
    """"demo" and the order counts in BENCH_ORDERS (100000 unless set; 0 for none); on PostgreSQL
    BENCH_POSTGRES_ORDERS when set (its large database takes longer to generate)."""
    wanted = os.environ.get("BENCH_ORDERS", "100000")
    if database == "postgres":
        wanted = os.environ.get("BENCH_POSTGRES_ORDERS", wanted)
    return ["demo"] + [int(n) for n in wanted.split(",") if n.strip() and int(n) > 0]


def databases() -> list[str]:
    """sqlite, and postgres when a PostgreSQL URL is given."""
    return ["sqlite"] + (["postgres"] if postgres_url("demo") else [])


def postgres_url(size) -> str | None:
    """The PostgreSQL database for a size: BENCH_POSTGRES_URL for the demo, its name + "_big" (or
    BENCH_POSTGRES_BIG_URL) for the large sizes. Never DATABASE_URL: the bench drops the schema of the
    database it is given, and an operator's shell may hold the firm's own URL there."""
    url = os.environ.get("BENCH_POSTGRES_URL", "")
    if not url.startswith("postgresql"):
        return None
    if size == "demo":
        return url
    if os.environ.get("BENCH_POSTGRES_BIG_URL"):
        return os.environ["BENCH_POSTGRES_BIG_URL"]
    # As text: urlunsplit would drop the empty host of postgresql:///name.
    base, separator, query = url.partition("?")
    return base.rstrip("/") + "_big" + separator + query


def cache_key(size) -> str:
    """Size + the generators' source: a change to either makes a fresh database. Not the migration
    head: a cached database is upgraded to the head when it is used (upgrade_cached)."""
    digest = hashlib.sha256()
    for name in DEMO_SOURCES + (HISTORY_SOURCES if size != "demo" else ()):
        path = ROOT / name
        if path.exists():
            digest.update(path.read_bytes())
    return f"{size}-{digest.hexdigest()[:10]}"


def upgrade_cached(database_url: str) -> None:
    """Bring a cached database to the migration head (migrations made since it was generated)."""
    flask(flask_env(database_url), "db", "upgrade")
    analyze(database_url)


def analyze(database_url: str) -> None:
    """Planner statistics for a PostgreSQL database just filled or migrated: a firm's server has them
    from autovacuum, which a bulk-generated history (or a server with autovacuum off) has not yet had."""
    if not database_url.startswith("postgresql"):
        return
    import psycopg
    with psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as connection:
        connection.execute("ANALYZE")


def flask_env(database_url: str) -> dict:
    """The environment of the app's commands and server for one database."""
    env = dict(os.environ, FLASK_APP="webapp", DATABASE_URL=database_url,
               HUEY_URL="sqlite:///" + str(BENCH_DIR / "huey.sqlite3"), PYTHONDONTWRITEBYTECODE="1")
    env.pop("BENCH_POSTGRES_URL", None)
    return env


# --- databases ----------------------------------------------------------------------------------------

def flask(env: dict, *args: str) -> None:
    """Run a flask command; stop the bench if it fails."""
    log("flask " + " ".join(args))
    done = subprocess.run([str(BIN / "flask"), *args], env=env, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


def has_bench_data_command(env: dict) -> bool:
    """Whether `flask bench-data` exists on this branch (the large size needs it)."""
    done = subprocess.run([str(BIN / "flask"), "bench-data", "--help"], env=env, cwd=ROOT, capture_output=True)
    return done.returncode == 0


def generate(env: dict, size) -> None:
    """Migrate, load the demo firm and, for a large size, the generated history."""
    started = time.monotonic()
    flask(env, "db", "upgrade")
    flask(env, "demo")
    if size != "demo":
        flask(env, "bench-data", "--orders", str(size))
    log(f"generated {size} in {time.monotonic() - started:.0f} s")


def sqlite_database(size) -> tuple[str, float | None]:
    """A working copy of the cached SQLite database for size (generated when missing): its URL and
    the seconds generation took (None when cached)."""
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    cached = BENCH_DIR / f"sqlite-{cache_key(size)}.sqlite3"
    took = None
    if not cached.exists():
        for old in BENCH_DIR.glob(f"sqlite-{size}-*.sqlite3*"):
            old.unlink()
        building = cached.with_suffix(".building")
        for leftover in BENCH_DIR.glob(building.name + "*"):
            leftover.unlink()
        started = time.monotonic()
        generate(flask_env("sqlite:///" + str(building)), size)
        took = time.monotonic() - started
        _copy_sqlite(building, cached)
        for leftover in BENCH_DIR.glob(building.name + "*"):
            leftover.unlink()
    working = BENCH_DIR / f"work-{size}.sqlite3"
    for leftover in BENCH_DIR.glob(working.name + "*"):
        leftover.unlink()
    _copy_sqlite(cached, working)
    if took is None:
        upgrade_cached("sqlite:///" + str(working))
    return "sqlite:///" + str(working), took


def _copy_sqlite(source: Path, target: Path) -> None:
    """Copy a SQLite database consistently (its WAL included) with the backup API."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def postgres_database(size) -> tuple[str, float | None]:
    """The PostgreSQL database for size, regenerated when its marker's key differs."""
    import psycopg
    url = postgres_url(size)
    marker = BENCH_DIR / f"pg-{urllib.parse.urlsplit(url).path.strip('/')}.key"
    key = cache_key(size)
    building = marker.with_suffix(".building")
    deadline = time.monotonic() + 3600
    while building.exists() and time.monotonic() < deadline and not (marker.exists() and marker.read_text() == key):
        log(f"waiting for another run generating {url}")  # two generations into one database would collide
        time.sleep(30)
    if marker.exists() and marker.read_text() == key:
        upgrade_cached(url)
        return url, None
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    building.write_text(str(os.getpid()))
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    name = urllib.parse.urlsplit(plain).path.strip("/")
    if "bench" not in name:
        # Its schema is dropped below: only a database named for the benchmark is ever wiped.
        sys.exit(f"make bench: refusing to empty the database {name!r}; give it a name with 'bench' in it.")
    try:
        psycopg.connect(plain).close()
    except psycopg.OperationalError:
        subprocess.run(["createdb", name], check=True)
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute("DROP SCHEMA public CASCADE")
        connection.execute("CREATE SCHEMA public")
    marker.unlink(missing_ok=True)
    started = time.monotonic()
    try:
        generate(flask_env(url), size)
        analyze(url)
        marker.write_text(key)
    finally:
        building.unlink(missing_ok=True)
    return url, time.monotonic() - started


# --- in-process: targets and statement counts --------------------------------------------------------

def in_process(database_url: str, paths: dict | None) -> dict:
    """In a child process on the database (tools/bench/inprocess.py): find the targets and count the
    SQL statements of one request per page through the test client. Returns {"targets", "statements"}."""
    done = subprocess.run([sys.executable, "-m", "tools.bench.inprocess", json.dumps(paths or {})],
                          env=flask_env(database_url), cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError("in-process step failed:\n" + done.stderr[-4000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- servers ------------------------------------------------------------------------------------------

class Server:
    """gunicorn on loopback as `make run` starts it (2 workers, 4 threads each)."""

    def __init__(self, app: str, port: int, env: dict, serving_config: bool):
        self.url = f"http://127.0.0.1:{port}"
        # No control socket: its default path is one per user, shared with any other gunicorn running.
        command = [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "4",
                   "--no-control-socket"]
        if serving_config:
            command += ["--config", "python:webapp.serving", "--access-logfile", str(BENCH_DIR / "access.log"),
                        "--logger-class", "webapp.capabilities.GunicornLogger"]
        self.log = open(BENCH_DIR / f"gunicorn-{port}.log", "w")
        self.process = subprocess.Popen(command + [app], env=env, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT,
                                        start_new_session=True)

    def wait(self, path: str) -> None:
        """Until path answers (or fail after 60 s)."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log.name}")
            try:
                requests.get(self.url + path, timeout=10)
                return
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.3)
        raise RuntimeError(f"{self.url} did not answer in 60 s")

    def stop(self) -> None:
        """SIGTERM to gunicorn's master (its hooks stop the background worker), then wait."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


def login(base: str, username: str) -> str:
    """Log in through the form; the session cookie's value."""
    client = requests.Session()
    page = client.get(base + "/login", timeout=30)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
    answer = client.post(base + "/login", data={"csrf_token": token, "username": username, "password": PASSWORD},
                         allow_redirects=False, timeout=30)
    if answer.status_code != 303:
        raise RuntimeError(f"login as {username}: {answer.status_code}")
    return client.cookies["session"]


# --- first-visit bytes ----------------------------------------------------------------------------------

class Assets(HTMLParser):
    """The stylesheets and scripts a page loads (what a first visit downloads besides the HTML)."""

    def __init__(self):
        super().__init__()
        self.css, self.js = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        rel = (attrs.get("rel") or "").lower()
        if tag == "link" and attrs.get("href") and ("stylesheet" in rel or
                                                    ("preload" in rel and attrs.get("as") == "style")):
            self.css.append(attrs["href"])
        elif tag == "link" and attrs.get("href") and "modulepreload" in rel:
            self.js.append(attrs["href"])
        elif tag == "script" and attrs.get("src"):
            self.js.append(attrs["src"])


def fetch_raw(base: str, path: str, cookie: str | None) -> tuple[int, bytes, str]:
    """GET as a phone's browser asks (br, gzip): status, the bytes as sent, and their decoded text."""
    parts = urllib.parse.urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    headers = {"Accept-Encoding": "br, gzip", "Accept": "text/html,*/*"}
    if cookie:
        headers["Cookie"] = f"session={cookie}"
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    body = response.read()
    encoding = response.getheader("Content-Encoding", "")
    decoded = brotli.decompress(body) if encoding == "br" else gzip.decompress(body) if encoding == "gzip" else body
    connection.close()
    return response.status, body, decoded.decode("utf-8", "replace")


def first_visit(base: str, path: str, cookie: str | None) -> dict:
    """Bytes a first visit downloads, compressed as sent: the HTML, its CSS and its JS."""
    status, body, text = fetch_raw(base, path, cookie)
    if status != 200:
        return {"status": status}
    assets = Assets()
    assets.feed(text)
    sizes = {"html": len(body), "css": 0, "js": 0, "status": 200}
    for kind, urls in (("css", assets.css), ("js", assets.js)):
        for url in dict.fromkeys(urls):
            if url.startswith(("http:", "https:", "//")):
                continue
            asset_status, asset_body, _ = fetch_raw(base, urllib.parse.urljoin(path, url), None)
            if asset_status == 200:
                sizes[kind] += len(asset_body)
    return sizes


# --- Lighthouse ------------------------------------------------------------------------------------------

def lighthouse_binary() -> Path | None:
    """Lighthouse 12.8.2 in a cache directory outside the repository (installed with npm once)."""
    binary = LIGHTHOUSE_DIR / "node_modules" / ".bin" / "lighthouse"
    if binary.exists():
        return binary
    if not shutil.which("npm"):
        return None
    LIGHTHOUSE_DIR.mkdir(parents=True, exist_ok=True)
    log(f"installing lighthouse@{LIGHTHOUSE_VERSION} into {LIGHTHOUSE_DIR}")
    done = subprocess.run(["npm", "i", "-E", "--no-audit", "--no-fund", "--prefix", str(LIGHTHOUSE_DIR),
                           f"lighthouse@{LIGHTHOUSE_VERSION}"], capture_output=True, text=True)
    return binary if done.returncode == 0 and binary.exists() else None


def lighthouse(binary: Path, url: str, cookie: str | None) -> dict:
    """Lighthouse mobile on one page: performance and accessibility scores (0–100)."""
    output = BENCH_DIR / "lighthouse.json"
    command = [str(binary), url, "--chrome-flags=--headless --no-sandbox --disable-gpu",
               "--only-categories=performance,accessibility", "--form-factor=mobile", "--output=json",
               f"--output-path={output}", "--quiet"]
    if cookie:
        command.append("--extra-headers=" + json.dumps({"Cookie": f"session={cookie}"}))
    env = dict(os.environ, CHROME_PATH=os.environ.get("CHROME_PATH", "/usr/bin/chromium"))
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    if done.returncode != 0 or not output.exists():
        return {"error": (done.stderr or done.stdout)[-300:]}
    result = json.loads(output.read_text())
    output.unlink()
    categories = result["categories"]
    return {"performance": round(100 * (categories["performance"]["score"] or 0)),
            "accessibility": round(100 * (categories["accessibility"]["score"] or 0)),
            "final_url": result.get("finalDisplayedUrl") or result.get("finalUrl")}


# --- the outbox replay ----------------------------------------------------------------------------------

def replay(base: str, path: str, device: dict, actions: int) -> dict:
    """`actions` "+1" reports queued offline on one phone, replayed one after another as the outbox
    drains (one connection, a distinct Idempotency-Key each): seconds and how many were applied."""
    post = {"auth": f"Device {device['id']}.{device['secret']}", "actor": device["actor"]}
    parts = urllib.parse.urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    applied, statuses = 0, {}
    started = time.perf_counter()
    for _ in range(actions):
        connection.request("POST", path, body=wrk.POST_BODY, headers=wrk.post_headers(post, str(uuid.uuid4())))
        response = connection.getresponse()
        response.read()
        statuses[response.status] = statuses.get(response.status, 0) + 1
        applied += response.status == 201
    seconds = time.perf_counter() - started
    connection.close()
    return {"actions": actions, "applied": applied, "seconds": round(seconds, 2), "statuses": statuses}


# --- one database at one size -------------------------------------------------------------------------

def resolve(path: str, targets: dict) -> str | None:
    """A page's path: literal, or a target found in the database (None when the demo has none)."""
    return path if path.startswith("/") else targets.get(path)


def bench_one(database: str, size, port: int, seconds: int, connections: int, with_lighthouse: bool) -> dict:
    """Generate (or reuse) the database, serve it and the bare app, and time every page."""
    url, generated = sqlite_database(size) if database == "sqlite" else postgres_database(size)
    log(f"{database} {size}: {url}")
    found = in_process(url, {"pages": [(name, user, path, kind) for name, kind, user, path in PAGES], "find": True})
    targets, counted = found["targets"], found["statements"]
    paths = {name: resolve(path, targets) for name, _kind, _user, path in PAGES}
    paths.update({name: resolve(path, targets) for name, _user, path in FIRST_VISIT})
    env = flask_env(url)
    app = Server("webapp:create_app()", port, env, serving_config=True)
    bare = Server("tools.bench.bare:create_app()", port + 1, env, serving_config=False)
    result = {"database": database, "size": size, "generated_seconds": generated, "pages": {}, "first_visit": {},
              "lighthouse": {}, "driver": "wrk" if wrk.available() else "python"}
    try:
        app.wait("/healthz")
        bare.wait("/bare")
        cookies = {user: login(app.url, user) for _n, _k, user, _p in PAGES + [("", "", "liu.yang", "")] if user}
        post = {"auth": f"Device {targets['device']['id']}.{targets['device']['secret']}",
                "actor": targets["device"]["actor"]}
        worker_cookie = {"Cookie": f"session={cookies['huang.xm']}"}
        # Page and baseline take turns in short slices (page, baseline, page, baseline …): what else
        # the machine does at a moment falls on both.
        rounds = max(1, int(os.environ.get("BENCH_ROUNDS", "2")))
        slice_seconds = max(1, round(seconds / rounds))
        for name, kind, user, _path in PAGES:
            path = paths[name]
            entry = {"kind": kind, "path": _redacted(path), "statements": counted.get(name)}
            result["pages"][name] = entry
            if path is None:
                entry["error"] = "no such object in this database"
                continue
            headers = {"Accept-Encoding": "br, gzip", "Accept": "text/html,*/*"}
            if user:
                headers["Cookie"] = f"session={cookies[user]}"
            if kind == "post":
                entry["page"], entry["bare"] = alternate(
                    lambda: wrk.drive(app.url + path + "/report", slice_seconds, connections, headers, post=post),
                    lambda: wrk.drive(bare.url + "/bare/post", slice_seconds, connections, headers, post=post), rounds)
            else:
                try:
                    check = requests.get(app.url + path, headers=headers, allow_redirects=False, timeout=60)
                except requests.Timeout:
                    # A page over a minute (the board and KPI pages at 100k, behind what wrk left queued)
                    # is a finding, not the end of the run.
                    entry["error"] = "no answer in 60 s"
                    continue
                entry["status"] = check.status_code
                if check.status_code != 200:
                    entry["error"] = f"answered {check.status_code}"
                    continue
                bare_headers = {**headers, **worker_cookie} if not user else headers
                entry["page"], entry["bare"] = alternate(
                    lambda: wrk.drive(app.url + path, slice_seconds, connections, headers),
                    lambda: wrk.drive(bare.url + "/bare", slice_seconds, connections, bare_headers), rounds)
            log(f"{name}: p50 {entry['page']['p50']:.1f} ms vs bare {entry['bare']['p50']:.1f} ms")
        # A page that had no answer in time leaves requests queued in the workers (the XLSX export at
        # 100k): a fresh server, so the weighing and the replay below time themselves, not the queue.
        app.stop()
        app = Server("webapp:create_app()", port, env, serving_config=True)
        app.wait("/healthz")
        for name, user, _path in FIRST_VISIT:
            if paths[name]:
                try:
                    result["first_visit"][name] = first_visit(app.url, paths[name], cookies.get(user) if user else None)
                except (TimeoutError, OSError) as error:
                    result["first_visit"][name] = {"error": f"no answer: {error}"}
        log(f"replaying {REPLAY_ACTIONS} queued actions")
        result["replay"] = replay(app.url, paths["+1 progress post"] + "/report", targets["device"], REPLAY_ACTIONS)
        if with_lighthouse:
            binary = lighthouse_binary()
            if binary is None:
                result["lighthouse"] = {"skipped": "npm/lighthouse unavailable"}
            for name, user, _path in LIGHTHOUSE_PAGES if binary else []:
                if paths[name]:
                    log(f"lighthouse: {name}")
                    # A fresh login each: Lighthouse's own visit may rotate nothing, but stays apart from wrk's.
                    cookie = login(app.url, user) if user else None
                    result["lighthouse"][name] = lighthouse(binary, app.url + paths[name], cookie)
    finally:
        app.stop()
        bare.stop()
    return result


def alternate(page, bare, rounds: int) -> tuple[dict, dict]:
    """Run page and bare loads in turn `rounds` times; each side's figures combined (wrk.combine)."""
    pages, bares = [], []
    for _round in range(rounds):
        pages.append(page())
        bares.append(bare())
    return wrk.combine(pages), wrk.combine(bares)


def _redacted(path: str | None) -> str | None:
    """A path as shown in the report: capability tokens cut (the report is committed)."""
    if path is None:
        return None
    return re.sub(r"^/(c|w)/[^/?]+", r"/\1/…", path)


def machine() -> dict:
    """The machine the figures come from."""
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    memory = subprocess.run(["free", "-m"], capture_output=True, text=True).stdout
    total = re.search(r"^Mem:\s+(\d+)", memory, re.M)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout
    return {"cpu": model.group(1) if model else "unknown", "cores": os.cpu_count(),
            "memory_mb": int(total.group(1)) if total else None, "python": sys.version.split()[0],
            "sqlite": sqlite3.sqlite_version, "commit": commit.strip(),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "wrk": wrk.available()}


def main() -> None:
    """Every database at every size, then docs/benchmarks.md."""
    seconds = int(os.environ.get("BENCH_SECONDS", "5"))
    connections = int(os.environ.get("BENCH_CONNECTIONS", "8"))
    port = int(os.environ.get("BENCH_PORT", "8250"))
    with_lighthouse = os.environ.get("BENCH_LIGHTHOUSE", "1") != "0"
    output = Path(os.environ.get("BENCH_OUTPUT", ROOT / "docs" / "benchmarks.md"))
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    runs = []
    # BENCH_ONLY_SIZES=100000: time only those sizes, keeping the other sizes' runs from the last
    # results.json (a run stopped midway goes on where it stopped).
    only = [part.strip() for part in os.environ.get("BENCH_ONLY_SIZES", "").split(",") if part.strip()]
    if only and (BENCH_DIR / "results.json").exists():
        runs = [run for run in json.loads((BENCH_DIR / "results.json").read_text())["runs"]
                if not chosen(only, run["database"], run["size"])]
    # The demo size on every database first, then the large ones: a run stopped midway has the demo.
    every_size = list(dict.fromkeys(size for database in databases() for size in sizes(database)))
    for size in every_size:
        for database in databases():
            if size not in sizes(database) or (only and not chosen(only, database, size)):
                continue
            if size != "demo" and not has_bench_data_command(flask_env("sqlite://")):
                log(f"skipping {size} orders: this branch has no `flask bench-data`")
                runs.append({"database": database, "size": size, "skipped": "no `flask bench-data` command"})
                continue
            # Lighthouse looks at the browser's side: once, on the first database at the demo size.
            lighthouse_here = with_lighthouse and database == "sqlite" and size == "demo"
            runs.append(bench_one(database, size, port, seconds, connections, lighthouse_here))
            # Written after each database and size too: a long run stopped midway keeps what it measured.
            write_results({"machine": machine(), "runs": runs, "seconds": seconds, "connections": connections}, output)
    write_results({"machine": machine(), "runs": runs, "seconds": seconds, "connections": connections}, output)
    log(f"wrote {output}")


def chosen(only: list[str], database: str, size) -> bool:
    """Whether BENCH_ONLY_SIZES names this run: its size ("100000") or database and size
    ("postgres:100000")."""
    return str(size) in only or f"{database}:{size}" in only


def write_results(results: dict, output: Path) -> None:
    """instance/bench/results.json and the report."""
    if "postgres" in databases():
        import psycopg
        with psycopg.connect(postgres_url("demo").replace("postgresql+psycopg://", "postgresql://")) as connection:
            results["machine"]["postgres"] = connection.execute("SHOW server_version").fetchone()[0]
    (BENCH_DIR / "results.json").write_text(json.dumps(results, indent=1))
    output.write_text(report.write(results) + report.kept_sections(output))


if __name__ == "__main__":
    main()
