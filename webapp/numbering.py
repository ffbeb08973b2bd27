"""Yearly document numbers (PO-2026-0001, QC-2026-0001, ST-…, OS-…): the year's highest plus one,
taken so that two documents made at once never get one number."""
import zlib

from .extensions import db


def next_yearly_number(column, prefix: str, year: int, width: int = 4) -> str:
    """<prefix>-<year>-<serial>: the next free number of the year in column (a model's number
    column). Writers are serialised: SQLite's writing requests are one at a time already; PostgreSQL
    takes a transaction-level advisory lock per prefix (released at the commit)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(db.text("SELECT pg_advisory_xact_lock(:key)"), {"key": zlib.crc32(prefix.encode())})
    stem = f"{prefix}-{year}-"
    numbers = db.session.scalars(db.select(column).where(column.like(stem + "%"))).all()
    serials = [int(n[len(stem):]) for n in numbers if n[len(stem):].isascii() and n[len(stem):].isdigit()]
    return f"{stem}{max(serials, default=0) + 1:0{width}d}"
