"""Operations (docs/operations.md): the health check a monitor polls, and the restore drills — a
backup restored into a fresh database that the app then opens and reads, with `flask backup` on
SQLite and with pg_dump/pg_restore on PostgreSQL."""
import shutil
import subprocess
import uuid

import pytest
from sqlalchemy import create_engine, make_url, text

from webapp.extensions import db
from webapp.orders.models import Order

from .conftest import login, new_test_app
from .helpers import text_of


def dispose(app) -> None:
    """Close an extra app's connections."""
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def order_page_of(app, username: str, order_id: int) -> str:
    """The order's page as its salesperson sees it, logged in through the form on app."""
    client = app.test_client()
    assert login(client, username).status_code == 303
    response = client.get(f"/orders/{order_id}")
    assert response.status_code == 200
    return text_of(response)


def an_order(app, make_order, make_user) -> tuple[int, str, str]:
    """An effective order (countersigned, with its number): id, number and a user who may see it."""
    order_id = make_order("effective", quantity="2000")
    make_user("admin", username="drill")
    with app.app_context():
        return order_id, db.session.get(Order, order_id).number, "drill"


@pytest.mark.parametrize("app", ["sqlite", "postgres"], indirect=True)
def test_healthz_answers_quickly_and_says_nothing(app, tmp_path):
    """200 with no data for anyone while the database answers (no cache keeps it); an app whose
    database is gone answers 503 with Retry-After, not a 500."""
    response = app.test_client().get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"
    down = new_test_app("postgresql+psycopg://nobody@127.0.0.1:1/gone", tmp_path)
    try:
        failed = down.test_client().get("/healthz")
        assert failed.status_code == 503 and failed.json == {"status": "unavailable"}
        assert failed.headers["Retry-After"] == "10"
    finally:
        dispose(down)


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_restore_drill_sqlite(app, make_order, make_user, tmp_path):
    """`flask backup` writes a checked copy (PRAGMA integrity_check) while the app runs; restored as a
    new database file (the copy put in place of tracker.sqlite3), a fresh app opens it and the order is
    there, on its page, with its number and quantity."""
    order_id, number, username = an_order(app, make_order, make_user)
    target = tmp_path / "backups" / "tracker-copy.sqlite3"
    result = app.test_cli_runner().invoke(args=["backup", "--to", str(target)])
    assert result.exit_code == 0 and "integrity ok" in result.output, result.output
    again = app.test_cli_runner().invoke(args=["backup", "--to", str(target)])
    assert again.exit_code != 0 and "exists already" in again.output  # never overwrites a backup

    restored_dir = tmp_path / "restored"
    restored_dir.mkdir()
    shutil.copyfile(target, restored_dir / "tracker.sqlite3")
    restored = new_test_app(f"sqlite:///{restored_dir / 'tracker.sqlite3'}", restored_dir)
    try:
        page = order_page_of(restored, username, order_id)
        assert number in page and "2,000" in page
    finally:
        dispose(restored)


@pytest.mark.parametrize("app", ["postgres"], indirect=True)
def test_restore_drill_postgres(app, make_order, make_user, tmp_path):
    """pg_dump (custom format) of the live database, pg_restore into a database made fresh for it; a
    fresh app opens the restored database and the order is there. `flask backup` refuses PostgreSQL and
    says to use pg_dump."""
    order_id, number, username = an_order(app, make_order, make_user)
    refused = app.test_cli_runner().invoke(args=["backup"])
    assert refused.exit_code != 0 and "pg_dump" in refused.output
    live = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    libpq = live.set(drivername="postgresql").render_as_string(hide_password=False)
    dump = tmp_path / "tracker.dump"
    subprocess.run(["pg_dump", "--format=custom", "--file", str(dump), libpq], check=True, timeout=120)

    fresh = f"{live.database}_restore_{uuid.uuid4().hex[:6]}"
    admin = create_engine(live.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{fresh}"'))
    restored = None
    try:
        target = live.set(database=fresh)
        subprocess.run(["pg_restore", "--no-owner", "--single-transaction", "--exit-on-error", "--dbname",
                        target.set(drivername="postgresql").render_as_string(hide_password=False), str(dump)],
                       check=True, timeout=120)
        restored = new_test_app(target.render_as_string(hide_password=False), tmp_path / "restored")
        page = order_page_of(restored, username, order_id)
        assert number in page and "2,000" in page
    finally:
        if restored is not None:
            dispose(restored)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{fresh}" WITH (FORCE)'))
        admin.dispose()
