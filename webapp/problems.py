"""Answers for the phone's outbox and the JSON API instead of pages: RFC 9457 problem+json, and
whether this request is one that wants it. Error pages, input checks and rate limits ask here before
any view runs (the replay machinery itself is sync/replay.py, the API's in api/)."""
from flask import g, has_request_context, jsonify, request

# Every problem has a stable type, one per kind of error (the API's reference page lists them): a
# receiver branches on the type, never on the words, which follow the user's language.
PROBLEM_BASE = "/api/v1/problems/"
STATUS_TYPES = {
    400: "bad-request", 401: "unauthorized", 403: "forbidden", 404: "not-found", 405: "method-not-allowed",
    406: "not-acceptable", 409: "conflict", 413: "payload-too-large", 414: "uri-too-long",
    415: "unsupported-media-type", 422: "validation-error", 429: "too-many-requests", 500: "server-error",
    502: "bad-gateway", 503: "unavailable",
}


def problem_type(status: int) -> str:
    """The stable type of a problem with this status (more specific types are passed by their callers)."""
    return PROBLEM_BASE + STATUS_TYPES.get(status, "server-error" if status >= 500 else "bad-request")


def problem(status: int, title: str, detail: str = "", **extra):
    """An RFC 9457 problem+json response."""
    body = {"type": problem_type(status), "title": title, "status": status, "detail": detail or title, **extra}
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def is_api_request() -> bool:
    """Whether this request is to the JSON API (/api/…): every answer to it is JSON."""
    return has_request_context() and (request.path == "/api" or request.path.startswith("/api/"))


def wants_problem_json() -> bool:
    """Whether this request came from the outbox (also before the view knew: a 413 or a CSRF
    failure is raised first) or to the API, so that every answer to it is problem+json."""
    if g.get("replay"):
        return True
    if not has_request_context():
        return False
    if is_api_request():
        return True
    authorization = (request.headers.get("Authorization") or "").strip()
    return authorization.startswith("Device ") or authorization == "Link"
