"""What lives for one request across the phases of transaction.py (a request's view may run twice:
a read phase, then again under the write lock): a memo of what was costly to compute once, and the
files the request wrote, removed when it does not commit. Below both transaction.py and uploads.py,
so that neither imports the other to reach them."""
import logging

from flask import g, has_request_context

from . import storage

log = logging.getLogger(__name__)


def memo() -> dict:
    """A dict that lives for this request across its phases: what was costly to compute once
    (decoded images, password checks) is not computed again under the write lock."""
    if not has_request_context():
        return {}
    if "tx_memo" not in g:
        g.tx_memo = {}
    return g.tx_memo


def note_written_file(key: str) -> None:
    """Remember a file (its storage key) written for this request, to remove it if the request does
    not commit."""
    if has_request_context():
        g.setdefault("written_files", []).append(key)


def discard_written_files() -> None:
    """Remove the files this request wrote (its transaction is being rolled back)."""
    for key in g.pop("written_files", []) if has_request_context() else []:
        try:
            storage.current().delete(key)
        except Exception:  # noqa: BLE001 - one file that cannot be removed must not keep the others
            log.warning("could not remove %s after a rolled-back request", key, exc_info=True)
