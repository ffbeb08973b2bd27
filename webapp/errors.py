"""Error pages: a clear, translated message and the right status; never a stack trace."""
import logging

from flask import g, make_response, render_template, request
from markupsafe import escape
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from .capabilities import redact
from .htmx import is_partial
from .statemachine import TransitionError

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

    @app.errorhandler(OperationalError)
    def database_error(error: OperationalError):
        if not is_busy(error):
            return unexpected(error)
        # Busy past its timeout (SQLite's lock, a PostgreSQL lock or serialisation wait): nothing was
        # written (the transaction is rolled back); the outbox and the person can simply retry.
        log.warning("database busy on %s %s: %s", request.method, redact(request.path), error.orig)
        response, status = render_error(503)
        response = make_response(response, status)
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        log.exception("unhandled error on %s %s", request.method, redact(request.path))
        return render_error(500)


BUSY_SIGNS = ("database is locked", "database is busy", "lock timeout", "could not serialize",
              "deadlock detected", "canceling statement due to lock timeout")


def is_busy(error: OperationalError) -> bool:
    """Whether a database error means 'busy, try again' rather than a fault."""
    text = str(error.orig).lower()
    return any(sign in text for sign in BUSY_SIGNS)
