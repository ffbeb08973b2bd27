"""What time it is: the one clock every service, model default and message takes the time from.

Not to be confused with clocks.py, which says how long the firm's promises run (3 working days
for the follow-up call, ...): this module only answers "now" and "today", and lets a block of code
move or stop that answer. It sits at the bottom of the package (it imports nothing of the app at
module level) so models can use it for their column defaults.

Infrastructure that must agree with the operating system keeps the real time on purpose:
certificates (tls.py), rate-limit windows (ratelimit.py), the age of development mail files and
backup file names.
"""
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta, timezone

# How this thread's (or task's) clock differs from the real time: None, the real time; a timedelta,
# moved by that much and running on (the demo loader builds the demo firm's history through the real
# services this way); a datetime, stopped at that instant (tests). A ContextVar, so the requests other
# threads serve meanwhile keep the real time. Tests also move time with time-machine, which this
# honours as well (it patches datetime.now).
_shift: ContextVar[timedelta | datetime | None] = ContextVar("wallclock_shift", default=None)


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    shift = _shift.get()
    if isinstance(shift, datetime):
        return shift
    now = datetime.now(timezone.utc)
    return now if shift is None else now + shift


@contextmanager
def running_from(moment: datetime) -> Iterator[None]:
    """Within the block, utcnow() starts from moment and runs on at the real pace, in this thread
    only. moment is an aware datetime."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to running_from")
    token = _shift.set(moment - datetime.now(timezone.utc))
    try:
        yield
    finally:
        _shift.reset(token)


@contextmanager
def frozen(moment: datetime) -> Iterator[None]:
    """Within the block, utcnow() answers moment (aware) and stands still, in this thread only."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to frozen")
    token = _shift.set(moment.astimezone(timezone.utc))
    try:
        yield
    finally:
        _shift.reset(token)
