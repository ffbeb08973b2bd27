"""The bench's in-process step on one database (DATABASE_URL), in a child process of the run:

    python -m tools.bench.inprocess '{}'                       → {"targets": …}
    python -m tools.bench.inprocess '{"pages": […], "targets": …}' → {"statements": {page: n}}
    python -m tools.bench.inprocess '{"pages": […], "find": true}' → both, in one start of the app
      (pages: [name, login, path or a target's key, kind])

The statements of one request per page are counted with a SQLAlchemy event on the app's engine,
around a test-client request (the production app carries no counter). Prints one JSON line."""
import json
import re
import sys
import time
import uuid

from sqlalchemy import event

from tools.bench import targets as bench_targets

PASSWORD = "demo1234"


def _client(app, username: str | None):
    """A test client, logged in through the form when username is given."""
    client = app.test_client()
    if username:
        page = client.get("/login")
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True)).group(1)
        answer = client.post("/login", data={"csrf_token": token, "username": username, "password": PASSWORD})
        if answer.status_code != 303:
            raise RuntimeError(f"login as {username}: {answer.status_code}")
    return client


def count(app, pages: list, targets: dict) -> dict:
    """{page: SQL statements of one request} (a warm-up request first, as a server's worker is warm)."""
    from webapp.extensions import db
    seen = []
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", lambda *args: seen.append(1))
    device = targets["device"]
    post_headers = {"Authorization": f"Device {device['id']}.{device['secret']}", "X-Actor": str(device["actor"]),
                    "Accept": "application/json", "X-Recorded-At": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    clients, counts = {}, {}
    for name, user, path, kind in pages:
        if path is None:
            continue
        client = clients.setdefault(user, _client(app, user))
        for _warm in range(2):
            seen.clear()
            if kind == "post":
                answer = app.test_client().post(path + "/report", data={"p-good": "1", "p-scrap": "0", "p-note": ""},
                                                headers={**post_headers, "Idempotency-Key": str(uuid.uuid4())})
                expected = 201
            else:
                answer = client.get(path)
                expected = 200
        counts[name] = len(seen) if answer.status_code == expected else None
    return counts


def main() -> None:
    """Targets or statement counts, as one JSON line on stdout."""
    from webapp import create_app
    request = json.loads(sys.argv[1])
    app = create_app()
    if not request:
        with app.app_context(), app.test_request_context():
            print(json.dumps({"targets": bench_targets.find()}))
        return
    if request.get("find"):
        with app.app_context(), app.test_request_context():
            targets = bench_targets.find()
        pages = [(name, user, path if path.startswith("/") else targets.get(path), kind)
                 for name, user, path, kind in request["pages"]]
        print(json.dumps({"targets": targets, "statements": count(app, pages, targets)}))
        return
    print(json.dumps({"statements": count(app, request["pages"], request["targets"])}))


if __name__ == "__main__":
    main()
