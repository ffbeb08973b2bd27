"""How every API operation runs: the bearer token, the token's scope, the query and JSON body read
through the operation's schemas, Idempotency-Key on writes (the outbox's own store), problem+json
errors with a stable type, and cursor pages. Operations declare themselves with `operation(...)`;
the OpenAPI document (spec.py) is made from the same declarations, so it says what the code does."""
import functools
import inspect
import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, g, jsonify, request
from flask_login import current_user
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, validate

from .. import permissions
from ..auth import hash_secret
from ..extensions import db
from ..paging import keyset_page
from ..problems import PROBLEM_BASE, problem
from ..statemachine import TransitionError
from ..sync import replay
from ..transaction import short_write
from ..wallclock import utcnow
from . import bp
from .models import ApiToken

TOKEN_PREFIX = "trk_"
MAX_BODY_BYTES = 64 * 1024  # an order of a few hundred lines; drawings and photos are not sent here
PAGE_DEFAULT, PAGE_MAX = 50, 200
# Endpoints anyone may open: the document and its reference page hold no data.
PUBLIC_ENDPOINTS = frozenset({"api.openapi", "api.reference", "api.problem_types"})
# How often a token's "last used" is written (a busy integration must not write on every read).
LAST_USED_EVERY = timedelta(minutes=5)


class ApiError(Exception):
    """An answer other than success, raised by an operation: status, stable type, words, extras."""

    def __init__(self, status: int, kind: str, title: str, detail: str = "", **extra):
        super().__init__(title)
        self.status, self.kind, self.title, self.detail, self.extra = status, kind, title, detail, extra

    def response(self):
        """The problem+json answer."""
        return problem(self.status, self.title, self.detail or self.title, type=PROBLEM_BASE + self.kind,
                       **self.extra)


# The stable problem types beyond one per status (problems.STATUS_TYPES): the reference page lists them.
PROBLEM_TYPES = {
    "invalid-token": _l("The token is missing, unknown, expired or revoked."),
    "insufficient-scope": _l("The token may only read; this operation writes."),
    "forbidden": _l("The token's owner may not do this."),
    "not-found": _l("No such object, or it is outside what the token's owner may see."),
    "validation-error": _l("A field is missing, unknown or not valid: see errors."),
    "bad-request": _l("A query parameter is not valid, or the body is not JSON."),
    "unsupported-media-type": _l("The body must be application/json."),
    "payload-too-large": _l("The body is larger than the API takes."),
    "state-conflict": _l("The object's state does not allow this now: see allowed_transitions."),
    "conflict": _l("The request conflicts with what is recorded (e.g. a duplicate)."),
    "idempotency-key-reused": _l("The Idempotency-Key was already used with a different body."),
    "unavailable": _l("The server is busy; nothing was saved; try again."),
    "server-error": _l("Something went wrong on the server; nothing was saved."),
}

# marshmallow's own messages, in the reader's language (the rest pass as marshmallow words them).
_FIELD_MESSAGES = {
    "Missing data for required field.": _l("This field is required."),
    "Unknown field.": _l("Unknown field."),
    "Field may not be null.": _l("This field may not be null."),
    "Not a valid integer.": _l("Not a valid integer."),
    "Not a valid string.": _l("Not a valid string."),
    "Not a valid number.": _l("Not a valid number."),
    "Not a valid date.": _l("Not a valid date (YYYY-MM-DD)."),
    "Not a valid datetime.": _l("Not a valid date and time (ISO 8601)."),
    "Not a valid boolean.": _l("Not a valid boolean."),
    "Not a valid list.": _l("Not a valid list."),
    "Invalid input type.": _l("Invalid input type."),
    "Not a valid mapping type.": _l("Not an object."),
    "Invalid value.": _l("Invalid value."),
    "Shorter than minimum length 1.": _l("May not be empty."),
}


def _translated(messages):
    """marshmallow's error messages (nested dicts and lists) in the reader's language."""
    if isinstance(messages, dict):
        return {str(key): _translated(value) for key, value in messages.items()}
    if isinstance(messages, list):
        return [_translated(value) for value in messages]
    if isinstance(messages, str):
        known = _FIELD_MESSAGES.get(messages)
        if known is not None:
            return str(known)
        if messages.startswith("Must be one of:"):
            return _("Must be one of: %(choices)s", choices=messages.partition(":")[2].strip().rstrip("."))
        return messages
    return messages


def _flat(errors, prefix: str = ""):
    """(dotted field path, its messages) for nested marshmallow errors: items.0.quantity."""
    for name, value in errors.items():
        path = f"{prefix}{name}"
        if isinstance(value, dict):
            yield from _flat(value, f"{path}.")
        else:
            yield path, " ".join(map(str, value)) if isinstance(value, list) else str(value)


def validation_problem(messages, status: int = 422, kind: str = "validation-error") -> ApiError:
    """The error for input that does not pass a schema: the messages per field."""
    errors = _translated(messages)
    detail = "; ".join(f"{path}: {text}" for path, text in _flat(errors)) if isinstance(errors, dict) else str(errors)
    title = _("Some of what was sent is not valid.") if status == 422 else _("A query parameter is not valid.")
    return ApiError(status, kind, title, detail[:2000], errors=errors)


@dataclass
class Operation:
    """One API operation as the code runs it and the document describes it."""

    method: str
    rule: str  # Flask's rule, under /api/v1
    endpoint: str
    tag: str
    summary: str
    description: str = ""
    query: type[Schema] | None = None
    body: type[Schema] | None = None
    response: type[Schema] | None = None
    many: bool = False
    status: int = 200
    writes: bool = False
    errors: tuple[int, ...] = ()


OPERATIONS: list[Operation] = []


def _bad_token():
    response = ApiError(401, "invalid-token", _("Not authenticated"),
                        _("Send a live API token as 'Authorization: Bearer <token>'. Make one on your account page.")
                        ).response()
    response.headers["WWW-Authenticate"] = 'Bearer realm="api", error="invalid_token"'
    return response


def token_of(header: str | None) -> ApiToken | None:
    """The live token an `Authorization: Bearer trk_…` header names, or None."""
    scheme, _space, value = (header or "").strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value.startswith(TOKEN_PREFIX) or len(value) > 100:
        return None
    token = db.session.scalar(db.select(ApiToken).where(ApiToken.secret_hash == hash_secret(value)))
    if token is None or not token.live(utcnow()) or not token.user.active:
        return None
    return token


@bp.before_request
def authenticate():
    """Every API request but the document's carries a live token; its owner is the request's user
    (a session cookie counts for nothing here); a read-only token only reads."""
    g.api = True
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    token = token_of(request.headers.get("Authorization"))
    if token is None:
        return _bad_token()
    # Flask-Login's current_user for this request is the token's owner, whatever cookie came along.
    g._login_user = token.user
    g.api_token = token
    if request.method not in ("GET", "HEAD", "OPTIONS") and not token.may_write:
        return ApiError(403, "insufficient-scope", _("This token may only read"),
                        _("Make a token with read and write access to change anything.")).response()
    if token.last_used_at is None or utcnow() - token.last_used_at > LAST_USED_EVERY:
        with short_write() as side:  # its own short transaction: a GET commits nothing
            side.execute(db.update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=utcnow()))
    return None


def subject(machine_name: str, obj) -> None:
    """Name the object a write acts on and its state machine, so that a 409 says its state and the
    transitions that state allows the token's owner now."""
    g.api_subject = (machine_name, obj)


def _state_of_subject() -> dict:
    """The state and allowed transitions of the write's subject (for a 409's body), if it named one."""
    machine_name, obj = g.get("api_subject") or (None, None)
    if obj is None:
        return {"allowed_transitions": []}
    machine = permissions.MACHINES[machine_name]
    # The moves the state's table offers the owner's roles from here (a move's own guard, e.g. "packed
    # in full", is answered when it is tried: it names what is missing).
    roles = set(current_user.roles)
    allowed = [t.name for t in machine.transitions.values() if obj.status in t.sources and roles & t.roles]
    return {"state": obj.status, "allowed_transitions": allowed}


def _fail(response):
    """Nothing of a refused request is kept (the commit at the edge is skipped: transaction.py).
    A write refused while a concurrent send of its Idempotency-Key was being applied (it waited for
    that one's lock, then found its work done: a duplicate) answers what that send stored instead."""
    db.session.rollback()
    g.rollback = True
    pending = g.pop("api_idempotency", None)
    if pending is not None:
        credential, key, print_ = pending
        stored = replay.stored_answer(credential, key, (print_,))
        if stored is not None:
            return stored
    return response


def _read_query(op: Operation) -> dict:
    if op.query is None:
        if request.args:
            raise validation_problem({name: ["Unknown field."] for name in request.args}, 400, "bad-request")
        return {}
    schema = op.query()
    raw = {}
    for name in request.args:
        values = request.args.getlist(name)
        # A list parameter given once (?status=draft) is still a list; any other given twice is refused.
        many = isinstance(schema.fields.get(name), fields.List)
        raw[name] = values if many or len(values) > 1 else values[0]
    try:
        return schema.load(raw)
    except ValidationError as error:
        raise validation_problem(error.messages, 400, "bad-request") from None


def _read_body(op: Operation) -> dict:
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise ApiError(413, "payload-too-large", _("The body is too large"),
                       _("Send at most %(n)s KB.", n=MAX_BODY_BYTES // 1024))
    if request.mimetype != "application/json":
        raise ApiError(415, "unsupported-media-type", _("Send JSON"), _("The body must be application/json."))
    raw = request.get_data(cache=True)
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(413, "payload-too-large", _("The body is too large"),
                       _("Send at most %(n)s KB.", n=MAX_BODY_BYTES // 1024))
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # nested thousands deep: no object a client means (and no parser's stack)
        data = None
    if data is None:
        raise ApiError(400, "bad-request", _("The body is not JSON"), _("Send one JSON object."))
    if not isinstance(data, dict):
        raise validation_problem({"_schema": ["Invalid input type."]})
    try:
        return op.body().load(data)
    except ValidationError as error:
        raise validation_problem(error.messages) from None


def _fingerprint(described_action: str, body) -> str:
    """SHA-256 over the operation and the parsed JSON body (key order and spacing do not matter)."""
    material = json.dumps({"action": described_action, "body": request.get_json(silent=True)}, sort_keys=True,
                          ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(material.encode()).hexdigest()


_KEY = re.compile(r"[\x21-\x7e]{1,64}")


def _run(op: Operation, view, kwargs):
    query = _read_query(op)
    body = _read_body(op) if op.body is not None else None
    if not op.writes:
        return view(**kwargs, **({"query": query} if op.query else {}))
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return _answer(op, view(**kwargs, **({"query": query} if op.query else {}),
                                **({"body": body} if op.body else {})))
    if not _KEY.fullmatch(key):
        raise ApiError(400, "bad-request", _("Idempotency-Key not valid"),
                       _("Send 1 to 64 printable ASCII characters, e.g. a UUID."))
    credential = f"token:{g.api_token.id}"
    described_action, _link = replay.action()
    print_ = _fingerprint(described_action, body)
    stored = replay.stored_answer(credential, key, (print_,))
    if stored is not None:
        return stored if stored.status_code < 400 else _fail(stored)
    g.api_idempotency = (credential, key, print_)
    response = current_app.make_response(_answer(op, view(**kwargs, **({"query": query} if op.query else {}),
                                                              **({"body": body} if op.body else {}))))
    if response.status_code >= 300:
        return _fail(response)
    return replay.remember(credential, key, print_, described_action, response, actor_id=g.api_token.user_id)


def _answer(op: Operation, result):
    """The JSON answer of an operation's result: a dumped object, a page of them, or a response."""
    if isinstance(result, current_app.response_class):
        return result
    if isinstance(result, Page):
        body = {"data": op.response(many=True).dump(result.rows), "next_cursor": result.next_cursor}
    elif op.response is not None:
        body = op.response(many=op.many).dump(result)
    else:
        body = result
    response = jsonify(body)
    response.status_code = op.status
    return response


def operation(method: str, rule: str, *, tag: str, summary: str, description: str = "", query=None, body=None,
              response=None, many: bool = False, status: int | None = None, errors: tuple[int, ...] = ()):
    """Declare an API operation: route it under /api/v1, read and check its input, and describe it in
    the OpenAPI document. The view gets the URL values, `query=` and `body=` (loaded dicts) and
    returns an object the response schema dumps, a Page, or a response of its own."""
    def decorator(view):
        writes = method != "GET"
        op = Operation(method=method, rule=rule, endpoint=f"api.{view.__name__}", tag=tag, summary=summary,
                       description=description or inspect.cleandoc(view.__doc__ or ""), query=query, body=body,
                       response=response, many=many, status=status or (201 if method == "POST" else 200),
                       writes=writes, errors=errors)

        @functools.wraps(view)
        def wrapper(**kwargs):
            try:
                result = _run(op, view, kwargs)
            except ApiError as error:
                return _fail(error.response())
            except TransitionError as error:
                # The state as recorded, not as the refused work left it (a report starts the job, then
                # finds too many pieces): nothing of it is kept.
                db.session.rollback()
                extra = _state_of_subject() if error.status == 409 else {}
                return _fail(ApiError(error.status, "state-conflict" if error.status == 409 else
                                      {403: "forbidden", 404: "not-found", 422: "validation-error"}.get(
                                          error.status, "bad-request"),
                                      error.translated(), error.translated(), **extra).response())
            return _answer(op, result)
        bp.add_url_rule(rule, endpoint=view.__name__, view_func=wrapper, methods=[method])
        OPERATIONS.append(op)
        return wrapper
    return decorator


@dataclass
class Page:
    """One page of a list operation and the cursor of the next (None on the last page)."""

    rows: list
    next_cursor: str | None


def page_of(query, model, sort_columns: dict, args: dict) -> Page:
    """The page of query the arguments ask for: sorted by args["sort"] (a name of sort_columns, "-"
    before it for descending; then by id), `limit` rows after `cursor`."""
    sort = args.get("sort") or next(iter(sort_columns))
    descending = sort.startswith("-")
    key = sort_columns[sort.lstrip("-")]
    page = keyset_page(query, model, key, descending=descending, size=args.get("limit") or PAGE_DEFAULT,
                       nulls_last=True, param="cursor")
    return Page(page.rows, str(page.next_after) if page.next_after is not None else None)


class ListQuery(Schema):
    """What every list takes: a page size, the cursor of the page before, and a sort."""

    limit = fields.Integer(load_default=PAGE_DEFAULT, validate=validate.Range(1, PAGE_MAX),
                           metadata={"description": "Rows per page (1–200)."})
    cursor = fields.String(validate=validate.Regexp(r"^[1-9][0-9]{0,8}$|^[12][0-9]{9}$"),
                           metadata={"description": "next_cursor of the page before (opaque)."})


def sort_field(names: list[str]):
    """A `sort` query field taking each name, ascending or with "-" descending."""
    return fields.String(validate=validate.OneOf([*names, *[f"-{n}" for n in names]]),
                         metadata={"description": "Sort by this field; '-' before it sorts descending. Ties by id."})


def new_token_secret() -> str:
    """A new token: the prefix and 256 random bits."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)
