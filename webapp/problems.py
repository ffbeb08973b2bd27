"""Answers for the phone's outbox instead of pages: RFC 9457 problem+json, and whether this request
is one that wants it. Error pages, input checks and rate limits ask here before any view runs
(the replay machinery itself is sync/replay.py)."""
from flask import g, has_request_context, jsonify, request


def problem(status: int, title: str, detail: str = "", **extra):
    """An RFC 9457 problem+json response."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail or title, **extra}
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def wants_problem_json() -> bool:
    """Whether this request came from the outbox (also before the view knew: a 413 or a CSRF
    failure is raised first), so that every answer to it is problem+json."""
    if g.get("replay"):
        return True
    if not has_request_context():
        return False
    authorization = (request.headers.get("Authorization") or "").strip()
    return authorization.startswith("Device ") or authorization == "Link"
