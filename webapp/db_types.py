"""Column types that keep money, quantities and times exact on SQLite and PostgreSQL alike.

SQLite stores NUMERIC as floating point, so money is kept as integer minor units (fen, cents)
and quantities as integer thousandths; SQL sums over them are exact on both databases.
SQLite also returns naive datetimes, so times are stored as naive UTC and returned aware.
"""
from datetime import timezone
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import BigInteger, DateTime
from sqlalchemy.types import TypeDecorator

from . import wallclock


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


class Fine(ScaledDecimal):
    """A quantity per unit or a unit cost in millionths (a BOM line of 0.0042 kg, ¥0.0125 a piece):
    money and order quantities are too coarse for them (docs/decisions.md)."""

    cache_ok = True
    scale = 1_000_000
    places = Decimal("0.000001")


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


# The one clock lives in wallclock.py; these names stay for the column defaults and older imports.
utcnow = wallclock.utcnow
clock_at = wallclock.running_from


def money(value) -> Decimal:
    """Round a value to two decimals, half up, as money is."""
    return Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
