"""Answers kept per process for pages that read much to show little (the KPI dashboard's cards, the
board's order of every open work order): a repeat view answers without reading it all again, and
any change to what the answer is made of shows on the next view.

A kept answer is used only while its version still holds:
- this process's count of writes to the tables the facts read (every INSERT, UPDATE or DELETE the
  app's engines send to them, and the commit that follows: an ORM change, a bulk insert or a
  direct UPDATE alike);
- the last id of the history's busiest tables and of the audit trail, read in one statement: the
  other worker processes' new reports, moves, receipts and audited changes;
- at most a minute on the app's clock since the answer was begun (and never a clock moved back):
  what is "due" and "today" moves with time, and a change another process made without a new
  row (an edit it did not audit) shows within the minute.
"""
import re
import threading
from collections import OrderedDict
from datetime import timedelta

from flask import current_app
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from .extensions import db
from .wallclock import utcnow

# The tables the KPI facts (kpi/measures.py) and the board (production/board.py) are read from: a
# write to any of them changes the version.
FACT_TABLES = frozenset({
    "firm_settings", "calendar_day", "bom_line", "stock_move", "work_order", "progress_report", "qc_rejection",
    "work_order_operation", "outsource_transfer", "work_centre", "survey", "cost_sheet", "cost_line",
    "requirement", "requirement_round", "order", "order_line", "order_version", "shipment_line", "receipt_line",
    "delivery_receipt", "customer", "product"})
# Last ids read for the other processes' changes: the tables that grow with every day's work, and
# the audit trail that most changes of state leave.
LAST_IDS = ("audit_event", "progress_report", "stock_move", "receipt_line", "work_order", "qc_rejection",
            "cost_line", "survey", "requirement_round", "order_version")
FRESH = timedelta(minutes=1)
KEPT = 64  # answers per process and kind (periods × filters × languages), the least recently used dropped

_WRITE = re.compile(r'\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.I)
_TRUNCATE = re.compile(r"\s*TRUNCATE\b", re.I)
_lock = threading.Lock()
_writes = 0


def _bump() -> None:
    global _writes
    with _lock:
        _writes += 1


@event.listens_for(Engine, "after_cursor_execute")
def _on_execute(conn, _cursor, statement, _parameters, _context, _executemany):
    """Count a write to a fact table, and remember on the connection to count its commit too (a view
    that read before the commit must not keep its answer past it)."""
    match = _WRITE.match(statement)
    if match and match.group(1).lower() in FACT_TABLES or _TRUNCATE.match(statement):
        _bump()
        conn.info["kpi_fact_write"] = True


@event.listens_for(Engine, "engine_disposed")
def _on_dispose(_engine):
    """Connections closed: the database may be another from now on (a restored file, a test's reset)."""
    _bump()


@event.listens_for(Engine, "commit")
def _on_commit(conn):
    """Count the commit of a transaction that wrote to a fact table."""
    if conn.info.pop("kpi_fact_write", False):
        _bump()


@event.listens_for(Engine, "rollback")
def _on_rollback(conn):
    """Forget the mark of a transaction that wrote nothing lasting. A connection the database dropped
    (a restart) is left alone: touching it raises, and the rollback that follows the failure, the
    error page's own, would fail with it (a 500 instead of the 503 the outbox retries)."""
    if not conn.invalidated:
        conn.info.pop("kpi_fact_write", None)


def version() -> tuple:
    """What a kept answer must still match: this process's writes and the last ids (read before the
    answer is made, so that a write while it is made shows on the next view)."""
    written = _writes
    last = db.session.execute(text("SELECT " + ", ".join(
        f'(SELECT max(id) FROM "{table}")' for table in LAST_IDS))).one()
    return written, tuple(last)


def _store(kind: str) -> OrderedDict:
    """This app's kept answers of a kind (a test's app never sees another's)."""
    return current_app.extensions.setdefault(kind, OrderedDict())


def get(kind: str, key: tuple, current: tuple):
    """The answer of kind kept for key at version current, or None."""
    store, now = _store(kind), utcnow()
    with _lock:
        kept = store.get(key)
        if kept is None or kept[0] != current or not kept[1] <= now < kept[1] + FRESH:
            return None
        store.move_to_end(key)
        return kept[2]


def put(kind: str, key: tuple, current: tuple, begun, value) -> None:
    """Keep value of kind for key at version current, both read when making value was begun."""
    store = _store(kind)
    with _lock:
        store[key] = (current, begun, value)
        store.move_to_end(key)
        while len(store) > KEPT:
            store.popitem(last=False)
