"""Transactions: one commit per request at the edge, and when a request takes SQLite's write lock.

SQLite in WAL mode lets many readers and one writer work at once. The writer holds the lock from
its first write to its commit, and a read transaction can never be safely upgraded to a write one
(another writer may have committed since its snapshot: SQLITE_BUSY at once, no waiting). So an
unsafe request (POST, PUT, PATCH, DELETE) runs in phases (docs/architecture.md, the request path):

1. *Read phase*: the view runs in an ordinary read transaction. A view that ends without writing
   (a form with errors, a refusal, a 404) answers from here and never touches the lock. At the first
   write (a flush, an INSERT/UPDATE/DELETE) the phase stops: its transaction is rolled back and
   whatever the view had put in `g`, the session cookie and the mail queue is undone.
2. *Preparation*, outside any transaction, once the view got past its guards to a write: the
   uploaded files are read, and images decoded, checked and re-encoded
   (`uploads.prepare_request_files`). Seconds of image work never hold the lock, and nobody who may
   not post there can make the server decode anything.
3. *Write phase*: `BEGIN IMMEDIATE`, then the view runs again from the start, so every guard
   (the login, the permission, the object's state) is reloaded and checked again under the lock.
   The expensive parts are not repeated: prepared images and password checks are kept in `memo()`.

On PostgreSQL, which locks rows rather than the database, a request without images runs its view
once; one with images goes through the same phases, so no row lock is held while they decode. Either way the request commits once, right after its view, before the response
leaves, and mail and webhooks are handed to the background worker only after that commit. A database that stays busy past its timeout gives
503 with Retry-After (errors.py); the outbox retries by itself.
"""
import copy
from contextlib import contextmanager

from flask import Flask, current_app, g, has_request_context, request, session
from sqlalchemy import event
from sqlalchemy.orm import Session

from . import faults
from .extensions import db
# The request-long memo and written files (their home was here; they are read by name from here too).
from .request_scope import discard_written_files, memo, note_written_file  # noqa: F401

UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# Statements a read phase may run; anything else is a write and ends the phase.
READ_STATEMENTS = ("SELECT", "PRAGMA", "BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK", "WITH", "EXPLAIN",
                   "SHOW")


class NeedsWriteLock(BaseException):
    """Raised at the first write of a read phase. A BaseException, so that a view's own
    `except Exception` cannot swallow it."""


class TrackerApp(Flask):
    """Flask with the request phases above around each unsafe request's view."""

    def preprocess_request(self):
        """Before the request hooks run: an unsafe request only reads until its write phase."""
        if request.method in UNSAFE_METHODS:
            g.tx_phase = "prepare"
        return super().preprocess_request()

    def dispatch_request(self):
        """Run the view: plainly for safe methods, in phases (then commit) for unsafe ones."""
        if request.method not in UNSAFE_METHODS:
            return super().dispatch_request()
        from . import uploads
        g.tx_memo, g.tx_phase = {}, "read"
        # On PostgreSQL (row locks, no database-wide lock) a request without images runs its view
        # once; with images it goes through the phases too, so no row stays locked while they decode.
        if db.engine.dialect.name == "sqlite" or uploads.has_images():
            response = _read_phase(self)
            if response is not None:
                return response
            # The view got past its guards (login, permission, state) to its first write: only now
            # are the uploaded images decoded — never for a stranger's post — and before the lock.
            g.tx_phase = "prepare"
            uploads.prepare_request_files()
            db.session.rollback()  # whatever the preparation read (the user's language) ends here
        g.tx_phase = "write"
        return _finish(self, super().dispatch_request())


def _read_phase(app: TrackerApp):
    """Run the view without the write lock; its response if it wrote nothing, else None after
    undoing everything it did (the write phase then runs it again)."""
    kept_g = dict(vars(g))
    kept_session, session_was_modified = copy.deepcopy(dict(session)), session.modified
    try:
        rv = Flask.dispatch_request(app)
        db.session.flush()  # changes made but not yet flushed are writes too
    except NeedsWriteLock:
        pass
    else:
        db.session.rollback()  # ends the read transaction; nothing was written
        g.tx_phase = "done"
        return rv
    db.session.rollback()
    discard_written_files()
    # Undo what the view did to g (caches of the user and the device, replay flags, queued mail) and
    # to the session cookie (a login, a switch, flashed messages), values as well as names.
    for name in set(vars(g)) - set(kept_g):
        delattr(g, name)
    for name, value in kept_g.items():
        setattr(g, name, value)
    if dict(session) != kept_session:
        session.clear()
        session.update(kept_session)
    session.modified = session_was_modified
    return None


def _finish(app: TrackerApp, rv):
    """Commit the write phase at the edge (unless the view refused), then send its mail."""
    from . import notify
    from . import webhooks
    from .notify import mail
    response = app.make_response(rv)
    if response.status_code < 500 and not g.get("rollback"):
        device = g.get("login_session")
        if device is not None:
            from .wallclock import utcnow
            device.last_seen_at = utcnow()
        db.session.flush()  # what commit() would flush first; written, not yet committed, at the fault point
        faults.pause_at("before_commit")  # the fault tests kill the worker here (webapp/faults.py)
        db.session.commit()
        g.tx_committed, g.tx_phase = True, "done"
        faults.pause_at("after_commit")
        g.pop("written_files", None)  # they belong to committed rows now
        mail.flush()
        notify.flush()
        webhooks.flush()
    return response


def after_request(response):
    """An unsafe request that did not commit (an error page, a refusal) leaves nothing behind."""
    if request.method in UNSAFE_METHODS and not g.get("tx_committed"):
        from . import notify
        from . import webhooks
        from .notify import mail
        db.session.rollback()
        discard_written_files()
        mail.discard()
        notify.discard()
        webhooks.discard()
    return response


def teardown_request(error):
    """An exception that escaped everything must not leave files of rows that never were."""
    if error is not None:
        discard_written_files()


def _in_read_phase() -> bool:
    return has_request_context() and g.get("tx_phase") in ("prepare", "read")


def _begin_immediate(connection) -> bool:
    """Whether a transaction beginning now must take the write lock at once."""
    if connection.get_execution_options().get("begin_immediate"):
        return True
    if not has_request_context():
        return False
    phase = g.get("tx_phase")
    if phase is None:  # a request context outside dispatch (tests, CLI helpers): by its method
        return request.method in UNSAFE_METHODS
    return phase == "write"  # "prepare" and "read" only read


_session_hooks = []


def init_app(app: Flask) -> None:
    """Hook the phases into the session (once per process) and the app's engine."""
    app.after_request(after_request)
    app.teardown_request(teardown_request)
    if not _session_hooks:
        _session_hooks.append(True)

        @event.listens_for(db.session, "before_flush")
        def before_flush(session, _context, _instances):
            if _in_read_phase() and (session.new or session.deleted
                                     or any(session.is_modified(obj) for obj in session.dirty)):
                raise NeedsWriteLock()

        @event.listens_for(db.session, "do_orm_execute")
        def before_orm_statement(state):
            if _in_read_phase() and (state.is_insert or state.is_update or state.is_delete):
                raise NeedsWriteLock()

    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "before_cursor_execute")
    def before_statement(conn, _cursor, statement, _parameters, _context, _executemany):
        # A safety net below the ORM: statements executed as text or without the session that write.
        # short_write()'s own connection is a write transaction already.
        if (_in_read_phase() and not conn.get_execution_options().get("begin_immediate")
                and statement.lstrip().split(None, 1)[0].upper() not in READ_STATEMENTS):
            raise NeedsWriteLock()

    if engine.dialect.name == "sqlite":
        _sqlite_rules(engine)


def _sqlite_rules(engine) -> None:
    """WAL, busy timeout and foreign keys; writers begin IMMEDIATE, readers do not."""

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the driver, decide when a transaction begins.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(current_busy_timeout_ms())}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _begin_immediate(connection) else "BEGIN")


def current_busy_timeout_ms() -> int:
    """How long a writer waits for SQLite's lock before the request answers 503."""
    try:
        return int(current_app.config["SQLITE_BUSY_TIMEOUT_MS"])
    except RuntimeError:  # no app context (a connection opened by a bare engine)
        return 15000


@contextmanager
def short_write():
    """A separate, short write transaction (its own connection), committed on leaving the block.

    For the few writes a request makes on the side — throttle and rate-limit counters, even during a
    GET — that must hold whatever the request itself then does (an abort, a rollback)."""
    engine = db.engine.execution_options(begin_immediate=True)
    with Session(bind=engine, expire_on_commit=False) as side:
        with side.begin():
            yield side
