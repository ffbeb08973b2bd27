"""Hostile input, handled once for every route (issue 8, item 11; docs/decisions.md).

- Text: every form value, query parameter, uploaded file's name and JSON string loses its C0 control characters (NUL and
  friends, DEL; tab, newline and carriage return stay) and lone surrogates when the request parses
  it, so no view, form or database driver ever sees them (PostgreSQL refuses NUL in text).
- Headers: a control character in any header is invalid HTTP; the request is refused (400).
- Query parameters longer than a URL can sensibly be, and addresses over 8 KB, are refused (414).
- Route parameters: `<int:…>` only matches ASCII digits in 1..2**31-1 (ids are PostgreSQL int4), and a
  plain `<name>` segment only matches up to 200 characters without control characters; anything
  else is a 404 before any query runs.
- Integers read from query parameters and headers go through `row_id` / `bounded_int` / `year`.
- Right-to-left text is stored as typed; where a page shows a value that opens a bidi override or
  isolate and never closes it (U+202E…), the closing marks are added after it, so it cannot turn
  the rest of the line around (`close_bidi`, Jinja's finalize for every `{{ … }}`).
"""
import re
import unicodedata

from flask import Flask, Request, request
from werkzeug.datastructures import FileStorage, ImmutableMultiDict, MultiDict
from werkzeug.routing import BaseConverter, IntegerConverter, ValidationError

ID_MAX = 2**31 - 1  # every id column is Integer: int4 on PostgreSQL
YEAR_MIN, YEAR_MAX = 2000, 2100  # the working calendar and reports: wide of any real use
SEGMENT_MAX = 200  # a token, a transition name, a language code: far below this
QUERY_VALUE_MAX = 2000  # a real link never comes near it (servers cap the request line near 8 KB)

# C0 controls but tab, newline and carriage return; DEL; UTF-16 surrogates (only a JSON escape can
# make one, and no database or encoder accepts it).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_HEADER_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f]")  # HTTP allows only tab among controls
_DIGITS = re.compile(r"[0-9]{1,19}")
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
_EMBEDDINGS, _POP_EMBEDDING = "\u202a\u202b\u202d\u202e", "\u202c"  # LRE RLE LRO RLO, PDF
_ISOLATES, _POP_ISOLATE = "\u2066\u2067\u2068", "\u2069"  # LRI RLI FSI, PDI


def clean_text(value: str) -> str:
    """value without the control characters no person types (see the module docstring)."""
    return _CONTROL.sub("", value)


def close_bidi(value):
    """A shown value with its unclosed bidi overrides and isolates closed at its end (what was typed
    stays stored as it was; only its effect on the text around it ends)."""
    if not isinstance(value, str) or not _BIDI.search(value):
        return value
    opened = []  # the open embeddings/overrides ("E") and isolates ("I"), innermost last
    for char in value:
        if char in _EMBEDDINGS:
            opened.append("E")
        elif char in _ISOLATES:
            opened.append("I")
        elif char == _POP_EMBEDDING and opened and opened[-1] == "E":
            opened.pop()
        elif char == _POP_ISOLATE and "I" in opened:
            # closing an isolate also closes the embeddings opened inside it
            del opened[len(opened) - 1 - opened[::-1].index("I"):]
    return value + "".join(_POP_EMBEDDING if kind == "E" else _POP_ISOLATE for kind in reversed(opened))


def _clean(value):
    """Strings cleaned, containers walked, an upload's file name cleaned, anything else as it is."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, FileStorage):
        if value.filename:  # kept as the attachment's name
            value.filename = clean_text(value.filename)
        return value
    if isinstance(value, list):
        return [_clean(item) for item in value]
    if isinstance(value, dict):
        return {_clean(key): _clean(item) for key, item in value.items()}
    return value


class CleanMultiDict(ImmutableMultiDict):
    """The request's args, form and files: keys and text values without control characters."""

    def __init__(self, mapping=None):
        pairs = MultiDict(mapping).items(multi=True) if mapping is not None else ()
        super().__init__([(clean_text(key), _clean(value)) for key, value in pairs])


class InputRequest(Request):
    """Flask's request, with every parsed text value cleaned (one place for every view and form)."""

    parameter_storage_class = CleanMultiDict

    def get_json(self, *args, **kwargs):
        """The JSON body with its strings cleaned like form values."""
        return _clean(super().get_json(*args, **kwargs))


def bounded_int(raw, minimum: int = 1, maximum: int = ID_MAX) -> int:
    """An integer typed or sent as text ("12", full-width "１２"), within bounds; else ValueError.
    Usable as `request.args.get(name, type=…)`, which turns the ValueError into the default."""
    if isinstance(raw, int):
        value = raw
    else:
        text = unicodedata.normalize("NFKC", str(raw or "")[:100]).strip()
        if not _DIGITS.fullmatch(text):  # also keeps int() away from a megabyte of digits
            raise ValueError("not a whole number")
        value = int(text)
    if not minimum <= value <= maximum:
        raise ValueError("out of range")
    return value


def row_id(raw) -> int:
    """A row id (1..2**31-1) from a query parameter or a header; ValueError otherwise."""
    return bounded_int(raw, 1, ID_MAX)


def year(raw) -> int:
    """A calendar year the app can show (2000..2100); ValueError otherwise."""
    return bounded_int(raw, YEAR_MIN, YEAR_MAX)


def optional_row_id(raw) -> int | None:
    """row_id, or None where raw is missing or no valid id (a header that may be absent)."""
    try:
        return row_id(raw)
    except ValueError:
        return None


class IdConverter(IntegerConverter):
    """`<int:…>` for row ids: ASCII digits, 1..2**31-1; anything else does not match (404). A kind
    of werkzeug's IntegerConverter, so that what asks for one (url building, tools) still finds it."""

    regex = r"[0-9]{1,10}"
    weight = 50  # as werkzeug's own number converters: a literal segment wins over a number

    def __init__(self, url_map, *args, **kwargs):
        BaseConverter.__init__(self, url_map)

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= ID_MAX:
            raise ValidationError()
        return number

    def to_url(self, value) -> str:
        return str(int(value))


class SegmentConverter(BaseConverter):
    """A plain `<name>` path segment: 1..200 characters, no slash, no control characters."""

    regex = "[^/\x00-\x1f\x7f]{1,%d}" % SEGMENT_MAX


# The longest path and query string answered (characters): nginx's default request-line buffer (8 KB);
# gunicorn (`make run`) refuses a request line over 4 KB before the app sees it.
MAX_URI_LENGTH = 8190
URI_TOO_LONG = "webapp.uri_too_long"


class RefuseLongAddresses:
    """WSGI middleware: a path and query over MAX_URI_LENGTH is answered 414 without routing or decoding
    it (building request.url from a megabyte address took tens of milliseconds, several times a
    request). The request goes on as one for "/", marked, so that check_request answers it with the
    app's own error page."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if len(environ.get("PATH_INFO", "")) + len(environ.get("QUERY_STRING", "")) > MAX_URI_LENGTH:
            environ = {**environ, "PATH_INFO": "/", "QUERY_STRING": "", URI_TOO_LONG: True}
        return self.wsgi_app(environ, start_response)


def check_request():
    """Refuse what cannot be cleaned without changing its meaning: headers with control characters
    and oversized query parameters. Runs before every view."""
    # The error page, or problem+json for an outbox replay, with the status's own message.
    from .errors import render_error
    if request.environ.get(URI_TOO_LONG):
        return render_error(414)
    for name, value in request.headers.items():
        if _HEADER_CONTROL.search(name) or _HEADER_CONTROL.search(value):
            return render_error(400)
    for key, value in request.args.items(multi=True):
        if len(key) > QUERY_VALUE_MAX or len(value) > QUERY_VALUE_MAX:
            return render_error(414)
    return None


def init_app(app: Flask) -> None:
    """Install the cleaning request class, the bounded converters and the header check. Call it
    before the blueprints are registered (routes are compiled with the converters they find)."""
    app.request_class = InputRequest
    app.wsgi_app = RefuseLongAddresses(app.wsgi_app)
    app.url_map.converters["int"] = IdConverter
    app.url_map.converters["default"] = SegmentConverter
    app.url_map.converters["string"] = SegmentConverter
    app.before_request_funcs.setdefault(None, []).insert(0, check_request)
    app.jinja_env.finalize = close_bidi
