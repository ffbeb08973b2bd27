"""gunicorn serving the app as `make run` does (its command line read from the Makefile), on a loopback
port, for the fault tests (tests/test_faults.py) and the soak (tools/soak.py); and a small HTTP client
that tells a dropped connection (a killed worker) from an answer."""
import ast
import http.client
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_run_argv(port: int, workers: int, config: dict) -> list[str]:
    """`make run`'s gunicorn command (Makefile), bound to 127.0.0.1:port with this many workers, the
    app made with config (gunicorn calls the factory with literal arguments)."""
    line = next(l for l in (ROOT / "Makefile").read_text().splitlines() if "gunicorn --bind" in l)
    argv = shlex.split(line.strip())
    assert argv[0] == "$(BIN)/gunicorn", argv
    argv = [sys.executable, "-m", "gunicorn"] + [f"127.0.0.1:{port}" if a == "0.0.0.0:8000" else a for a in argv[1:]]
    argv[argv.index("--workers") + 1] = str(workers)
    assert argv[-1] == "webapp:create_app()", argv
    argv[-1] = f"webapp:create_app({config!r})"
    ast.literal_eval(repr(config))  # only literals reach gunicorn's factory call
    return argv


class Gunicorn:
    """gunicorn on a loopback port over the database at url; stop() ends it and its background worker."""

    def __init__(self, url: str, folder: Path, workers: int = 1, port: int | None = None,
                 env: dict | None = None, config: dict | None = None):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.log_path = self.folder / "gunicorn.log"
        config = {"UPLOAD_FOLDER": str(self.folder / "uploads"), "MAIL_FOLDER": str(self.folder / "mail"),
                  **(config or {})}
        environment = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "test-secret", "MAIL_BACKEND": "file",
                       "HUEY_URL": f"sqlite:///{self.folder / 'huey.sqlite3'}", **(env or {})}
        with open(self.log_path, "a") as log:
            self.process = subprocess.Popen(make_run_argv(self.port, workers, config), cwd=ROOT, env=environment,
                                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_ready()

    def wait_ready(self, timeout: float = 90) -> None:
        """Wait until a worker answers /healthz."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                status, _headers, _body = request("127.0.0.1", self.port, "GET", "/healthz", timeout=5)
                if status == 200:
                    return
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start:\n" + self.log_path.read_text()[-3000:])
            time.sleep(0.2)

    def workers(self) -> list[int]:
        """The pids of gunicorn's workers (the master's children, the background worker left out)."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            if parent == self.process.pid and b"huey" not in cmdline:
                found.append(int(entry.name))
        return sorted(found)

    def stop(self) -> None:
        """SIGTERM to gunicorn's process group (its workers and the background worker), then wait."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
            except ProcessLookupError:
                pass


def request(host: str, port: int, method: str, path: str, data: dict | None = None,
            headers: dict | None = None, timeout: float = 60) -> tuple[int, dict, bytes]:
    """One HTTP request: (status, headers, body). A connection dropped before the answer (the worker
    was killed) raises OSError (http.client's RemoteDisconnected is one), as a phone's fetch rejects."""
    body = urllib.parse.urlencode(data or {}, doseq=True).encode() if method != "GET" else None
    sent = dict(headers or {})
    if body is not None:
        sent.setdefault("Content-Type", "application/x-www-form-urlencoded")
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    except http.client.HTTPException as error:  # a half answer from a dying worker
        raise ConnectionError(str(error)) from error
    finally:
        connection.close()
