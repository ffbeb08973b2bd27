"""Column types that keep money, quantities and times exact on SQLite and PostgreSQL alike.

SQLite stores NUMERIC as floating point, so money is kept as integer minor units (fen, cents)
and quantities as integer thousandths; SQL sums over them are exact on both databases.
SQLite also returns naive datetimes, so times are stored as naive UTC and returned aware.
"""
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import BigInteger, DateTime
from sqlalchemy.types import TypeDecorator


class ScaledDecimal(TypeDecorator):
    """A Decimal stored as an integer number of 1/scale units."""

    impl = BigInteger
    cache_ok = True
    scale = 100
    places = Decimal("0.01")

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        value = Decimal(value).quantize(self.places, rounding=ROUND_HALF_UP)
        return int(value * self.scale)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return (Decimal(int(value)) / self.scale).quantize(self.places)


class Money(ScaledDecimal):
    """Money in minor units (two decimals)."""

    cache_ok = True


class Quantity(ScaledDecimal):
    """A quantity in thousandths of its unit."""

    cache_ok = True
    scale = 1000
    places = Decimal("0.001")


class Percent(ScaledDecimal):
    """A percentage with two decimals (13.00 means 13 %)."""

    cache_ok = True


class UTCDateTime(TypeDecorator):
    """An aware datetime, stored as naive UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


# How far the clock of this thread (or task) is moved from the real time: None, not moved. Only the
# demo loader moves it (clock_at), to build the demo firm's history through the real services; a
# ContextVar, so the requests other threads serve meanwhile keep the real time. Tests move time
# with time-machine, which this honours as well (it patches datetime.now).
_clock_offset: ContextVar[timedelta | None] = ContextVar("clock_offset", default=None)


def utcnow() -> datetime:
    """Return the current time, aware, in UTC: the one clock every service and default reads."""
    now = datetime.now(timezone.utc)
    offset = _clock_offset.get()
    return now if offset is None else now + offset


@contextmanager
def clock_at(moment: datetime):
    """Within the block, utcnow() (and so i18n.firm_today()) starts from moment and runs on at the
    real pace, in this thread only. moment is an aware datetime."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to clock_at")
    token = _clock_offset.set(moment - datetime.now(timezone.utc))
    try:
        yield
    finally:
        _clock_offset.reset(token)


def money(value) -> Decimal:
    """Round a value to two decimals, half up, as money is."""
    return Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
