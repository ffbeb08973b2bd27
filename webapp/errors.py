"""Error pages: a clear, translated message and the right status; never a stack trace."""
import logging

from flask import g, make_response, render_template, request
from markupsafe import escape
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from .capabilities import redact
from .htmx import is_partial
from .statemachine import TransitionError
from .uploads import StorageUnavailable

log = logging.getLogger(__name__)


def _messages():
    return {
        400: _("The request could not be understood."),
        403: _("You are not allowed to do this."),
        404: _("This page does not exist, or the link has expired or was withdrawn."),
        405: _("This action is not available here."),
        409: _("This is not possible in the current state."),
        413: _("What was sent is too large. Send smaller files or shorter text."),
        414: _("This address is too long."),
        422: _("Some of what was sent is not valid."),
        429: _("Too many attempts. Wait a while and try again."),
        503: _("The server is busy. Nothing you entered was saved; please try again in a moment."),
        500: _("Something went wrong on our side. Nothing you entered was saved; please try again."),
    }


def render_error(status: int, message: str | None = None):
    """Render the error page (or its fragment for htmx) with status; an offline replay gets
    problem+json whatever failed (the outbox reads JSON, never a page)."""
    g.rollback = True
    if g.get("tx_phase") == "write":
        g.tx_phase = "done"  # the error page only reads: it must not wait for the write lock
    from .extensions import db
    db.session.rollback()  # a failed flush or commit must not break the error page itself
    text = message or _messages().get(status, _messages()[500])
    from .problems import problem, wants_problem_json
    if wants_problem_json():
        return problem(status, _messages().get(status, text), text), status
    template = "errors/_fragment.html" if is_partial() else "errors/error.html"
    try:
        return render_template(template, status=status, message=text), status
    except Exception:  # the error page itself must never fail into a stack trace
        log.exception("error page failed")
        return f"<!doctype html><title>{status}</title><p>{escape(text)}</p>", status


def init_app(app) -> None:
    """Register the handlers."""

    @app.errorhandler(TransitionError)
    def transition_error(error: TransitionError):
        return render_error(error.status, error.translated())

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(400, _("The form expired or was sent from elsewhere. Reload the page and try again."))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code in (301, 302, 303, 307, 308):
            return error
        return render_error(error.code or 500)

    @app.errorhandler(DBAPIError)
    def database_error(error: DBAPIError):
        if is_busy(error):
            # Busy past its timeout (SQLite's lock, a PostgreSQL lock or serialisation wait): nothing was
            # written (the transaction is rolled back); the outbox and the person can simply retry.
            log.warning("database busy on %s %s: %s", request.method, redact(request.path), error.orig)
        elif is_unavailable(error):
            # The database server went away (restarted, not up yet): this request's transaction is
            # gone with its connection; the pool replaces the connection (pool_pre_ping) once it is back.
            log.warning("database unavailable on %s %s: %s", request.method, redact(request.path), error.orig)
            # The error page must not ask the database again (who is logged in, in which language):
            # nobody, in the session's or the browser's language.
            from .extensions import login_manager
            g._login_user = login_manager.anonymous_user()
            g.database_unavailable = True  # and the page's header names no firm (admin.firm_name)
        else:
            return unexpected(error)
        return busy_answer()

    @app.errorhandler(StorageUnavailable)
    def storage_error(error: StorageUnavailable):
        # The disk is full or the upload folder cannot be written: not the sender's fault; nothing was
        # kept (the request does not commit, its files are removed) and the outbox sends it again later.
        log.error("upload folder cannot be written on %s %s: %s", request.method, redact(request.path), error)
        return busy_answer(_("The server cannot store files just now. Nothing you entered was saved; "
                             "please try again later. If this goes on, tell your administrator."))

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        log.exception("unhandled error on %s %s", request.method, redact(request.path))
        return render_error(500)


def busy_answer(message: str | None = None):
    """503 with Retry-After (a page, or problem+json for the outbox, which then tries again later)."""
    response, status = render_error(503, message)
    response = make_response(response, status)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


RETRY_AFTER_SECONDS = 5
BUSY_SIGNS = ("database is locked", "database is busy", "lock timeout", "could not serialize",
              "deadlock detected", "canceling statement due to lock timeout")


def is_busy(error: DBAPIError) -> bool:
    """Whether a database error means 'busy, try again' rather than a fault."""
    text = str(error.orig).lower()
    return any(sign in text for sign in BUSY_SIGNS)


# The server is gone or not taking connections yet (psycopg's and SQLAlchemy's words for it).
UNAVAILABLE_SIGNS = ("connection refused", "could not connect", "connection failed", "server closed the connection",
                     "terminating connection", "the database system is", "connection is closed",
                     "consuming input failed", "no connection to the server", "connection is bad",
                     "connection to server", "connection is lost",
                     "server conn crashed", "connection timeout expired")


def is_unavailable(error: DBAPIError) -> bool:
    """Whether a database error means the server went away or is not up yet (a restart), not a fault
    of the request: its SQLSTATE is a connection exception (08…) or a shutdown (57P01–57P03)."""
    if error.connection_invalidated:
        return True
    state = getattr(error.orig, "sqlstate", None) or ""
    if state.startswith("08") or state in ("57P01", "57P02", "57P03"):
        return True
    text = str(error.orig).lower()
    return any(sign in text for sign in UNAVAILABLE_SIGNS)
