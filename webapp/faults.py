"""Fault points for the fault tests (tests/test_faults.py): a request stops at a named point of its
transaction so that the test can kill the process serving it there (SIGKILL), as a crash would.

Off unless the environment names a folder in TRACKER_FAULT_DIR when the process starts (the fault
tests start gunicorn so; nothing else sets it). Then a request that carries `X-Fault-Pause: <point>`
writes `<folder>/<point>.<pid>` on reaching that point and waits there until the file is removed or
a minute has passed. The points: "before_commit" (the request's rows are written in its open
transaction, not committed) and "after_commit" (committed, the answer not yet sent).
"""
import os
import time

from flask import has_request_context, request

FAULT_DIR = os.environ.get("TRACKER_FAULT_DIR") or None
POINTS = ("before_commit", "after_commit")
MAX_PAUSE_SECONDS = 60


def pause_at(point: str) -> None:
    """Stop here while a fault test asks for it (nothing at all in a normal deployment)."""
    if FAULT_DIR is None or not has_request_context() or request.headers.get("X-Fault-Pause") != point:
        return
    if request.remote_addr not in ("127.0.0.1", "::1"):
        return  # were the variable ever left set on a server, no one from outside could hold a worker
    marker = os.path.join(FAULT_DIR, f"{point}.{os.getpid()}")
    with open(marker, "w") as fh:
        fh.write(request.path)
    deadline = time.monotonic() + MAX_PAUSE_SECONDS
    while os.path.exists(marker) and time.monotonic() < deadline:
        time.sleep(0.05)  # waiting to be killed: the test's SIGKILL ends this process here
