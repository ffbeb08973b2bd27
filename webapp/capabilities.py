"""Capability URLs: routes whose path segment is itself the credential (`/c/<token>`, `/w/<token>`,
`/aftersales/c/<token>`, `/b/<secret>`, a floor phone's one-time `/enrol/<token>`), found from the URL map, and keeping those segments out of
logs, stored rows and other sites' Referer headers.

Whoever reads such a URL can act through it (sign a receipt, report a problem), so the token is
never written anywhere: access logs (gunicorn's and werkzeug's) show `[redacted]` in its place.
"""
import logging
import re

from flask import Flask, has_request_context, request

# The names the routes give their credential segment. A new capability route uses one of them.
CAPABILITY_ARGS = frozenset({"token", "secret"})
REDACTED = "[redacted]"
# What the URL map of this app gives (tests/test_capabilities.py checks that it still does); used
# until an app has been created in this process (gunicorn's master formats no access lines anyway).
DEFAULT_PREFIXES = ("/aftersales/c/", "/stock/l/", "/enrol/", "/b/", "/c/", "/k/", "/o/", "/w/")

_prefixes: set[str] = set()
_pattern: re.Pattern | None = None


def capability_prefixes(app: Flask) -> list[str]:
    """The static path before each route's credential segment, e.g. "/c/" (longest first)."""
    found = set()
    for rule in app.url_map.iter_rules():
        for name in CAPABILITY_ARGS & set(rule.arguments):
            match = re.search(r"<(?:[^<>:]+:)?" + name + ">", rule.rule)
            found.add(rule.rule[:match.start()])
    return sorted(found, key=lambda p: (-len(p), p))


def register_logging(app: Flask) -> None:
    """Learn this app's capability routes (for the log redaction) and filter werkzeug's log."""
    global _pattern
    _prefixes.update(capability_prefixes(app))
    _pattern = _compile(_prefixes)
    werkzeug_log = logging.getLogger("werkzeug")
    if not any(isinstance(f, RedactingFilter) for f in werkzeug_log.filters):
        werkzeug_log.addFilter(RedactingFilter())


def _compile(prefixes) -> re.Pattern:
    # Wherever a prefix appears (a request line, a Referer, a login page's next=%2Fc%2F…), the
    # segment after it goes: a slash may be percent-encoded, and a placeholder of another argument
    # before the token matches one segment. Redacting a look-alike path too costs nothing.
    slash = "(?:/|%2[Ff])"
    segment = "(?:(?!%2[Ff])[^/?#&\\s\"'])+"
    parts = []
    for prefix in sorted(prefixes, key=lambda p: (-len(p), p)):
        pieces = re.split(r"(<[^>]+>|/)", prefix)
        parts.append("".join(segment if piece.startswith("<") else slash if piece == "/" else re.escape(piece)
                             for piece in pieces if piece))
    return re.compile("(" + "|".join(parts) + ")" + segment)


def redact(text):
    """text with every capability token replaced by [redacted] (anything that is not text is kept)."""
    global _pattern
    if not isinstance(text, str) or not text:
        return text
    if _pattern is None:
        _pattern = _compile(_prefixes or DEFAULT_PREFIXES)
    return _pattern.sub(lambda m: m.group(1) + REDACTED, text)


def is_capability_request() -> bool:
    """Whether this request came to a route whose URL carries a credential."""
    if not has_request_context() or request.url_rule is None:
        return False
    return bool(CAPABILITY_ARGS & set(request.url_rule.arguments))


def subject(session, endpoint: str | None, name: str, value: str) -> tuple[str, int | None]:
    """What a capability segment stands for: ("work_order", id) for a label's /w/<token>, ("person",
    id) for a badge's /b/<secret>, ("floor_enrolment", id) for a floor phone's /enrol/<token>, else ("link", AccessLink id); the id is None for a token that does
    not exist (a live, used or expired link all exist)."""
    import hashlib
    if not value or len(value) > 100 or not value.isprintable():
        # No token of ours is that long or holds a control character (PostgreSQL refuses a NUL).
        return "link", None
    from .registry import capability_tokens
    for token in capability_tokens():  # a label's, a badge's, a floor enrolment's (their domains say)
        if token.matches(endpoint or "", name):
            return token.kind, token.find(session, value)
    from .links import AccessLink
    return "link", session.scalar(db_select(AccessLink.id).where(
        AccessLink.token_hash == hashlib.sha256(value.encode()).hexdigest()))


def db_select(*columns):
    """sqlalchemy.select (imported late: this module is imported before the models)."""
    from sqlalchemy import select
    return select(*columns)


class RedactingFilter(logging.Filter):
    """Redact capability tokens from a log record (werkzeug's request lines and anything else)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is left to the handler to report
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


try:
    from gunicorn.glogging import Logger as _GunicornLogger
except ImportError:  # gunicorn is only needed to serve; tests and `flask run` work without it
    _GunicornLogger = None

if _GunicornLogger is not None:
    class GunicornLogger(_GunicornLogger):
        """gunicorn's logger, with capability tokens redacted from every access-log atom (request
        line, path, Referer, headers) and from its error log. `--logger-class
        webapp.capabilities.GunicornLogger` (Makefile, `flask serve-https`, docs/operations.md)."""

        def atoms(self, resp, req, environ, request_time):
            """The access-log fields, redacted."""
            return {key: redact(value) for key, value in super().atoms(resp, req, environ, request_time).items()}

        def setup(self, cfg):
            """gunicorn's handlers, each with the redacting filter."""
            super().setup(cfg)
            for log in (self.error_log, self.access_log):
                if not any(isinstance(f, RedactingFilter) for f in log.filters):
                    log.addFilter(RedactingFilter())
