"""The OpenAPI 3.1 document (/api/v1/openapi.json), made with apispec from the operations the code
declares (core.OPERATIONS) and their marshmallow schemas, and its reference page (/api/v1/docs),
drawn by the server: the usual interactive viewers inject inline styles and scripts that the
strict CSP refuses (docs/decisions.md)."""
import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import current_app, jsonify, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from . import bp
from .core import MAX_BODY_BYTES, OPERATIONS, PROBLEM_TYPES, Operation
from .schemas import DecimalString, Problem

API_VERSION = "1.0.0"
# The sections' names on the reference page, in the reader's language (the document keeps its tags).
TAG_LABELS = {"Customers": _l("Customers"), "Products": _l("Products"), "Requirements": _l("Requirements"),
              "Orders": _l("Orders"), "Production": _l("Production"), "Stock": _l("Stock"),
              "Shipments": _l("Shipments"), "Returns": _l("Returns"), "Tickets": _l("Tickets"),
              "Money": _l("Money"), "KPIs": _l("KPIs")}
# The errors every operation may answer, besides its own (Operation.errors).
COMMON_ERRORS = (400, 401, 403, 404, 422, 503)
WRITE_ERRORS = (409, 413, 415)
_ERROR_WORDS = {
    400: "A query parameter is not valid, or the body is not JSON (bad-request).",
    401: "No live token (invalid-token).",
    403: "The token's owner may not do this, or the token only reads (forbidden, insufficient-scope).",
    404: "No such object, or it is outside what the owner may see (not-found).",
    405: "The path's id is no id at all (0, or beyond the range): the router finds only the path's other "
         "methods (method-not-allowed).",
    409: "The object's state does not allow it (state-conflict, with allowed_transitions) or it is a "
         "duplicate (conflict).",
    413: f"The body is larger than {MAX_BODY_BYTES // 1024} KB (payload-too-large).",
    415: "The body is not application/json (unsupported-media-type).",
    422: "A field is missing, unknown or not valid (validation-error, errors per field), or the "
         "Idempotency-Key was used with another body (idempotency-key-reused).",
    503: "The server is busy; nothing was saved (unavailable).",
}


def openapi_path(rule: str) -> str:
    """Flask's `/orders/<int:order_id>` as OpenAPI's `/api/v1/orders/{order_id}`."""
    return "/api/v1" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)


def _operation_object(op: Operation) -> dict:
    """The OpenAPI operation object of one declared operation."""
    out: dict = {"operationId": op.endpoint.removeprefix("api."), "tags": [op.tag], "summary": op.summary,
                 "description": op.description, "responses": {}}
    parameters = [{"in": "path", "name": name, "required": True,
                   "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}}
                  for name in re.findall(r"<int:(\w+)>", op.rule)]
    parameters += [{"in": "path", "name": name, "required": True, "schema": {"type": "string", "maxLength": 200}}
                   for name in re.findall(r"<(?!int:)(?:\w+:)?(\w+)>", op.rule)]
    if op.query is not None:
        parameters.append({"in": "query", "schema": op.query})
    if op.writes:
        parameters.append({"in": "header", "name": "Idempotency-Key", "required": False,
                           "description": "Makes a retry safe: the same key and body get the stored answer "
                                          "(header Idempotent-Replayed: true); the same key with another body "
                                          "is refused (422). Keys are per token.",
                           "schema": {"type": "string", "minLength": 1, "maxLength": 64,
                                      "pattern": "^[\\x21-\\x7e]+$"}})
    if parameters:
        out["parameters"] = parameters
    if op.body is not None:
        out["requestBody"] = {"required": True, "content": {"application/json": {"schema": op.body}}}
    if op.response is not None:
        if op.many and op.query is not None and "limit" in op.query._declared_fields:
            schema = {"type": "object", "required": ["data", "next_cursor"], "properties": {
                "data": {"type": "array", "items": op.response},
                "next_cursor": {"type": ["string", "null"],
                                "description": "Pass as `cursor` for the next page; null on the last."}}}
        elif op.many:
            schema = {"type": "array", "items": op.response}
        else:
            schema = op.response
        out["responses"][str(op.status)] = {"description": "OK" if op.status == 200 else "Created",
                                            "content": {"application/json": {"schema": schema}}}
    else:
        out["responses"][str(op.status)] = {"description": "OK"}
    codes = set(COMMON_ERRORS) | set(op.errors) | (set(WRITE_ERRORS) if op.writes else set())
    if op.writes and "<int:" in op.rule:  # IdConverter refuses 0: a write's path then matches only a GET
        codes.add(405)
    for code in sorted(codes):
        out["responses"][str(code)] = {"description": _ERROR_WORDS.get(code, ""),
                                       "content": {"application/problem+json": {"schema": "Problem"}}}
    return out


def build_spec() -> dict:
    """The whole document, as a dict."""
    plugin = MarshmallowPlugin()
    spec = APISpec(
        title="Order-lifecycle tracker API", version=API_VERSION, openapi_version="3.1.0",
        plugins=[plugin],
        info={"description": "Customers, orders, production, stock, shipping, after-sales and money of one firm. "
                             "Authenticate with a personal API token (account page): "
                             "`Authorization: Bearer trk_…`. A token acts with its owner's roles and scope. "
                             "Lists page with `cursor`/`next_cursor`. Errors are application/problem+json "
                             "with a stable `type`."},
        servers=[{"url": current_app.config.get("PUBLIC_URL") or "/"}],
        security=[{"bearerAuth": []}],
    )
    # Decimals travel as strings ("1234.50"): exact, where a JSON number may be read as a binary float.
    plugin.map_to_openapi_type(DecimalString, "string", "decimal")
    spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer",
                                                   "description": "A personal API token (trk_…)."})
    spec.components.schema("Problem", schema=Problem)
    by_path: dict[str, dict] = {}
    for op in OPERATIONS:
        by_path.setdefault(openapi_path(op.rule), {})[op.method.lower()] = _operation_object(op)
    for path, operations in by_path.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


_SPEC_CACHE: dict[int, dict] = {}


def cached_spec() -> dict:
    """The document, built once per app (the operations do not change while it runs)."""
    key = id(current_app._get_current_object())
    if key not in _SPEC_CACHE:
        _SPEC_CACHE[key] = build_spec()
    return _SPEC_CACHE[key]


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 document of this API (no token needed: it holds no data)."""
    response = jsonify(cached_spec())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def _schema_rows(schema: dict, components: dict, depth: int = 0) -> list[dict]:
    """A schema's fields as rows for the reference page (nested objects indented once)."""
    if "$ref" in schema:
        schema = components.get(schema["$ref"].rsplit("/", 1)[-1], {})
    if schema.get("type") == "array" or "items" in schema:
        schema = schema.get("items", {})
        if "$ref" in schema:
            schema = components.get(schema["$ref"].rsplit("/", 1)[-1], {})
    rows = []
    required = set(schema.get("required", []))
    for name, prop in (schema.get("properties") or {}).items():
        ref = prop.get("$ref") or (prop.get("items") or {}).get("$ref")
        kind = prop.get("type", "object" if ref else "")
        if isinstance(kind, list):
            kind = " | ".join(kind)
        if ref:
            kind = f"{kind} of {ref.rsplit('/', 1)[-1]}" if kind else ref.rsplit("/", 1)[-1]
        rows.append({"name": name, "type": kind, "format": prop.get("format", ""), "required": name in required,
                     "enum": prop.get("enum") or (prop.get("items") or {}).get("enum") or [],
                     "description": prop.get("description", ""), "depth": depth})
        if ref and depth == 0:
            rows += _schema_rows({"$ref": ref}, components, depth + 1)
    return rows


@bp.get("/docs")
def reference():
    """The API reference, drawn by the server from the same document (no script, no inline style)."""
    document = cached_spec()
    components = document.get("components", {}).get("schemas", {})
    groups: dict[str, list] = {}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            body = (operation.get("requestBody") or {}).get("content", {}).get("application/json", {}).get("schema")
            ok = next((r for code, r in operation["responses"].items() if code.startswith("2")), {})
            answer = (ok.get("content") or {}).get("application/json", {}).get("schema")
            groups.setdefault(operation["tags"][0], []).append({
                "method": method.upper(), "path": path, "id": operation["operationId"],
                "summary": operation["summary"], "description": operation.get("description", ""),
                "parameters": [p for p in operation.get("parameters", [])],
                "body": _schema_rows(body, components) if body else [],
                "answer": _schema_rows(answer, components) if answer else [],
                "statuses": sorted(operation["responses"]),
            })
    # The sections in the order the business runs (the document's own order is by path).
    groups = {tag: groups[tag] for tag in sorted(groups, key=lambda t: list(TAG_LABELS).index(t)
                                                 if t in TAG_LABELS else len(TAG_LABELS))}
    return render_template("api/reference.html", groups=groups, document=document, tag_labels=TAG_LABELS,
                           problem_types=PROBLEM_TYPES,
                           openapi_url=url_for("api.openapi"), title=_("API reference"))


@bp.get("/problems/<kind>")
def problem_types(kind: str):
    """What a problem type means: the reference page's list, at the type's own address."""
    from flask import redirect
    return redirect(url_for("api.reference", _anchor=f"problem-{kind}"))
