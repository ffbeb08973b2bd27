"""Transactions: when a request takes SQLite's one write lock, and short writes of their own.

SQLite in WAL mode lets many readers and one writer work at once. A read transaction can never be
safely upgraded to a write one (another writer may have committed since its snapshot: SQLITE_BUSY at
once, no waiting), so anything that writes begins with `BEGIN IMMEDIATE` and waits its turn.
"""
from contextlib import contextmanager

from sqlalchemy.orm import Session

from .extensions import db


@contextmanager
def short_write():
    """A separate, short write transaction (its own connection), committed on leaving the block.

    For the few writes a request makes on the side — throttle and rate-limit counters, even during a
    GET — that must hold whatever the request itself then does (an abort, a rollback)."""
    engine = db.engine.execution_options(begin_immediate=True)
    with Session(bind=engine, expire_on_commit=False) as session:
        with session.begin():
            yield session
