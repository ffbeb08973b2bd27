"""The benchmark's bare baseline: the least a Flask page or write can cost on the same database.

    gunicorn ... "tools.bench.bare:create_app()"     (DATABASE_URL as for the app under test)

- GET /bare: loads the app's signed session cookie (same secret key), runs one indexed query (the
  device session named in the cookie, by primary key) and renders a tiny template.
- POST /bare/post: in one write transaction (BEGIN IMMEDIATE on SQLite, as the app's write phase),
  inserts the rows a progress post writes — a progress report, an audit event, an idempotency record
  under the request's Idempotency-Key — after stamping the phone's last-seen time, each row copied from
  the latest of its table when the worker first posts (the run makes one real post before it starts this server).

Nothing of the app is imported but its secret key's file: this is what the page would cost without
the app's own work (permissions, forms, templates, the transaction phases)."""
import os
from datetime import datetime, timezone

from flask import Flask, abort, render_template_string, request
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import MetaData, Table, create_engine, event, insert, select, update

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PAGE = "<!doctype html><title>bare</title><p>{{ label }} {{ user_id }}</p>"
# The tables a progress post writes a row into (see the run's statement capture).
POST_TABLES = ("progress_report", "audit_event", "idempotency_record")


def _engine(url: str):
    """An engine set up as the app's: on SQLite WAL, a busy timeout, and BEGIN IMMEDIATE for writes."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"timeout": 15, "isolation_level": None})

    @event.listens_for(engine, "connect")
    def _pragmas(connection, _record):
        cursor = connection.cursor()
        for pragma in ("journal_mode=WAL", "busy_timeout=15000", "foreign_keys=ON", "synchronous=NORMAL"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE" if connection.info.get("write") else "BEGIN")

    return engine


def create_app() -> Flask:
    """The bare app on DATABASE_URL."""
    app = Flask(__name__)
    with open(os.path.join(ROOT, "instance", "secret_key")) as handle:
        app.secret_key = handle.read().strip()
    engine = _engine(os.environ["DATABASE_URL"])
    meta = MetaData()
    tables = {name: Table(name, meta, autoload_with=engine) for name in (*POST_TABLES, "device_session", "sync_device")}
    cookies = SecureCookieSessionInterface()
    templates: dict = {}  # table → the row each insert copies, read once per worker process

    def template(connection, name: str) -> dict:
        if name not in templates:
            table = tables[name]
            latest = connection.execute(select(table).order_by(table.c.id.desc()).limit(1)).mappings().first()
            templates[name] = {column: value for column, value in latest.items() if column != "id"}
        return templates[name]

    @app.get("/bare")
    def page():
        """One indexed query and a tiny template, with the session loaded."""
        session = cookies.open_session(app, request)
        device = tables["device_session"]
        with engine.connect() as connection:
            row = connection.execute(select(device.c.label, device.c.user_id)
                                     .where(device.c.id == int(session.get("dsid", 1)))).first()
        if row is None:
            abort(404)
        return render_template_string(PAGE, label=row.label, user_id=row.user_id)

    @app.post("/bare/post")
    def post():
        """Insert the rows of one progress post in one write transaction."""
        key = request.headers.get("Idempotency-Key") or abort(400)
        device_id = int(request.headers.get("Authorization", "Device 1.x").split()[-1].split(".")[0])
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        with engine.connect() as connection:
            connection.info["write"] = True
            with connection.begin():
                # The phone's row first, as the app does: rows inserted first would take key-share locks
                # on it, and two posts' updates then deadlock on PostgreSQL.
                sync_device = tables["sync_device"]
                connection.execute(update(sync_device).where(sync_device.c.id == device_id).values(last_seen_at=now))
                for name in POST_TABLES:
                    row = dict(template(connection, name))
                    if name == "idempotency_record":
                        row["key"] = key
                    connection.execute(insert(tables[name]).values(**row))
            connection.info["write"] = False
        return {"status": "applied"}, 201

    return app
