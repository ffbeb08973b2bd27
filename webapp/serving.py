"""gunicorn hooks for `make run`: the background worker starts with the server and stops with it.

    gunicorn --bind ... --config python:webapp.serving "webapp:create_app()"

The worker is a child process of gunicorn's master: started once the master is ready (when_ready),
stopped when it exits (on_exit), and on Linux also killed by the kernel if the master dies without
running its hooks (PR_SET_PDEATHSIG), so no orphan keeps sending mail. Production does not use this
file: there the worker is its own service (docs/operations.md).
"""
import ctypes
import signal
import subprocess
import sys

# huey_consumer, run by this Python (the project's .venv) whatever the PATH says.
WORKER_COMMAND = [sys.executable, "-m", "huey.bin.huey_consumer", "webapp.worker.huey",
                  "--worker-type", "thread", "--workers", "2"]
STOP_TIMEOUT_SECONDS = 10
_worker: subprocess.Popen | None = None


def _die_with_parent() -> None:
    """In the child before exec: ask Linux to send SIGTERM when the parent (gunicorn's master) dies."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except OSError:  # not Linux (macOS): on_exit still stops the worker
        pass


def when_ready(server) -> None:
    """gunicorn's master is listening: start the background worker beside it."""
    global _worker
    _worker = subprocess.Popen(WORKER_COMMAND, preexec_fn=_die_with_parent)
    server.log.info("Background worker started (pid %s): huey_consumer %s", _worker.pid,
                    " ".join(WORKER_COMMAND[3:]))


def on_exit(server) -> None:
    """gunicorn is stopping: stop the worker too (SIGINT lets it finish the task in hand)."""
    if _worker is None or _worker.poll() is not None:
        return
    _worker.send_signal(signal.SIGINT)
    try:
        _worker.wait(STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        _worker.kill()
        _worker.wait()
    server.log.info("Background worker stopped")
