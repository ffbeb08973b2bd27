"""Rate limits on capability routes (/c/, /w/, /aftersales/c/, /b/), counted in the database so
that they hold across gunicorn workers and on PostgreSQL.

- Guessing: an address that sent too many tokens that do not exist is refused on every capability
  route for a while (429 with Retry-After).
- Writes: posts through one link, and posts to capability routes from one address, are limited per
  hour, generously: one phone draining 500 queued actions through a link stays well inside.
- Conflicts: a used, replaced or expired link takes only a few late actions per hour as conflicts
  (replay.py); each keeps at most photos.MAX_PHOTOS photos.

Counters are fixed windows, one row per key and window, bumped with an upsert. They are written in
`transaction.short_write()`, their own short write transaction, before the request's own work
begins: they hold whatever the request then does (a 404 rolls its own work back, not the count).
"""
import math

from flask import current_app, g, request
from flask_babel import gettext as _
from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from . import capabilities
from .extensions import db
from .transaction import short_write
from .wallclock import utcnow

UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


class RateCounter(db.Model):
    """How many times key was counted in the fixed window starting at window_start (Unix seconds)."""

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True, index=True)
    count: Mapped[int] = mapped_column(default=0)


def _window(seconds: int, now: float | None = None) -> tuple[int, int]:
    """(start of the current window, seconds until it ends)."""
    now = utcnow().timestamp() if now is None else now  # the one clock: tests can freeze it
    start = int(now // seconds * seconds)
    return start, max(1, math.ceil(start + seconds - now))


def current(key: str, limit: int, seconds: int, session: Session | None = None) -> int | None:
    """Seconds to wait if key has reached limit in this window, else None (reads only; in session
    when given, else in a short one of its own)."""
    start, left = _window(seconds)
    query = db.select(RateCounter.count).where(RateCounter.key == key, RateCounter.window_start == start)
    if session is None:
        with Session(bind=db.engine) as own:
            count = own.scalar(query) or 0
    else:
        count = session.scalar(query) or 0
    return left if count >= limit else None


def hit(key: str, limit: int, seconds: int) -> int | None:
    """Count one more for key; seconds to wait if that goes over limit, else None."""
    start, left = _window(seconds)
    with short_write() as session:
        count = _bump(session, key, start)
        if count == 1:  # a new window for this key: forget windows over a day old, now and then
            session.execute(db.delete(RateCounter).where(RateCounter.window_start < start - 86400))
    return left if count > limit else None


def _bump(session, key: str, start: int) -> int:
    """INSERT … ON CONFLICT DO UPDATE SET count = count + 1 RETURNING count (SQLite and PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(RateCounter).values(key=key, window_start=start, count=1)
    statement = statement.on_conflict_do_update(
        index_elements=[RateCounter.key, RateCounter.window_start],
        set_={"count": RateCounter.count + 1}).returning(RateCounter.count)
    return session.execute(statement).scalar_one()


def _limit(name: str) -> tuple[int, int]:
    """(how many, per how many seconds) from the config."""
    count, seconds = current_app.config[name]
    return int(count), int(seconds)


def too_many(retry_after: int):
    """429 with Retry-After: problem+json for an outbox replay (it tries again later), else the
    translated error page."""
    message = _("Too many attempts. Wait a while and try again.")
    authorization = (request.headers.get("Authorization") or "").strip()
    if authorization == "Link" or authorization.startswith("Device "):
        from .problems import problem
        response = problem(429, message, message, retry_after=retry_after)
    else:
        from .errors import render_error
        response = current_app.make_response(render_error(429, message))
    response.headers["Retry-After"] = str(retry_after)
    g.rollback = True
    return response


def guard_capability_route():
    """before_request: refuse an address that guesses tokens, count what it sends, and limit the
    posts through one link and from one address."""
    if not capabilities.is_capability_request():
        return None
    address = request.remote_addr or "?"
    bad_tokens = _limit("RATE_LIMIT_BAD_TOKENS")
    name = next(iter(capabilities.CAPABILITY_ARGS & set(request.view_args or {})))
    # Both reads in one short transaction of their own (one connection and BEGIN, not two per request).
    with Session(bind=db.engine) as session:
        wait = current(f"bad-token:{address}", *bad_tokens, session=session)
        if wait:
            return too_many(wait)
        kind, object_id = capabilities.subject(session, request.endpoint, name, str(request.view_args[name]))
    if object_id is None:
        # Unknown token: the view answers its 404; the address is counted (and refused once over).
        wait = hit(f"bad-token:{address}", *bad_tokens)
        return too_many(wait) if wait else None
    if request.method in UNSAFE_METHODS and kind == "link":
        # Only links without a login are limited per link: a worker's label page needs a login, and
        # its posts (the floor's most frequent write) are not made to take the write lock twice.
        for key, limit in ((f"post:{kind}:{object_id}", "RATE_LIMIT_POSTS_PER_LINK"),
                           (f"post:{address}", "RATE_LIMIT_POSTS_PER_ADDRESS")):
            wait = hit(key, *_limit(limit))
            if wait:
                return too_many(wait)
    return None


def init_app(app) -> None:
    """Run the guard before every other request hook: it writes its counters in its own short
    transaction, which must not wait for a write lock this request already holds (SQLite)."""
    app.before_request_funcs.setdefault(None, []).insert(0, guard_capability_route)
