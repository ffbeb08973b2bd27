"""Mail through a real SMTP server after the commit; the command-line tasks; the migrations."""
import os
import sqlite3

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from webapp import create_app
from webapp.extensions import db
from webapp.orders.models import Order
from webapp.requirements.models import Requirement

from .helpers import id_from_location, requirement_form


def test_sending_a_requirement_mails_the_customer_after_commit(app, smtp, as_user, make_customer):
    """The customer gets the confirmation link by SMTP; a refused request sends nothing."""
    app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    sales = as_user("sales")
    customer_id = make_customer("ACME")
    req_id = id_from_location(sales.post("/requirements/new", data=requirement_form(customer_id)))
    assert smtp.messages == []
    assert sales.post(f"/requirements/{req_id}/send").status_code == 303
    assert len(smtp.messages) == 1
    message = smtp.messages[0]
    assert message.rcpt_tos == ["buyer@example.com"]
    assert b"https://tracker.example.com/c/" in message.content
    # sending again from a state that does not allow it: 409, nothing sent
    assert sales.post(f"/requirements/{req_id}/send").status_code == 409
    assert len(smtp.messages) == 1


def test_demo_go_live_and_backup(app, tmp_path):
    """flask demo loads every state once; go-live removes it; backup writes a checked copy."""
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "--first-run"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        statuses = set(db.session.scalars(db.select(Order.status)))
        assert {"draft", "in_review", "pending_approval", "awaiting_countersign", "effective",
                "in_production"} <= statuses
        assert {"draft", "sent", "clarification", "confirmed"} <= set(db.session.scalars(db.select(Requirement.status)))
    again = runner.invoke(args=["demo", "--first-run"])
    assert "not loading again" in again.output
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        target = tmp_path / "backup.sqlite3"
        result = runner.invoke(args=["backup", "--to", str(target)])
        assert result.exit_code == 0 and "integrity ok" in result.output
        copy = sqlite3.connect(target)
        assert copy.execute('select count(*) from "order"').fetchone()[0] >= 8
        copy.close()
    result = runner.invoke(args=["go-live", "--yes"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Order)) == 0
        from webapp.auth.models import User
        assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 0
    # and it never comes back on the next start
    assert "not loading again" in runner.invoke(args=["demo", "--first-run"]).output


def test_user_create_command(app):
    """flask user create makes a real login with the given roles."""
    runner = app.test_cli_runner()
    result = runner.invoke(args=["user", "create", "root", "--roles", "admin,manager", "--password", "longenough1"])
    assert result.exit_code == 0, result.output
    bad = runner.invoke(args=["user", "create", "x", "--roles", "wizard", "--password", "longenough1"])
    assert bad.exit_code != 0 and "Unknown roles" in bad.output


# SQLite's reflection skips expression indexes (lower(number) for the search) with a warning: they
# are compared by neither side, the plain indexes and columns still are.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index")
def test_migrations_build_the_same_schema_as_the_models(tmp_path):
    """alembic upgrade head on an empty SQLite file gives exactly the models' schema."""
    path = tmp_path / "migrated.sqlite3"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "x", "TESTING": True})
    with app.app_context():
        from flask_migrate import upgrade
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"render_as_batch": True})
            differences = compare_metadata(context, db.metadata)
        db.engine.dispose()
    assert differences == []


def test_sqlite_pragmas(app):
    """WAL, foreign keys and a busy timeout on every connection."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite only")
    with app.app_context():
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 15000


def test_secret_key_is_generated_once(tmp_path, monkeypatch):
    """Without SECRET_KEY the app writes one to instance/ and reuses it."""
    from webapp.config import load_secret_key
    first = load_secret_key(str(tmp_path))
    assert len(first) == 64 and load_secret_key(str(tmp_path)) == first
    assert oct(os.stat(tmp_path / "secret_key").st_mode & 0o777) == "0o600"
