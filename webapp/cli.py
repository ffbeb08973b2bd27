"""Command-line tasks: flask demo, flask bench-data, flask go-live, flask backup, flask user create, flask
purge-personal-data, flask purge-sync-keys."""
import os
import sqlite3
from datetime import datetime, timezone

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from . import retention
from .extensions import db


def init_app(app) -> None:
    """Register the commands."""
    app.cli.add_command(demo_command)
    app.cli.add_command(bench_data_command)
    app.cli.add_command(go_live_command)
    app.cli.add_command(backup_command)
    app.cli.add_command(user_group)
    app.cli.add_command(purge_sync_command)
    app.cli.add_command(purge_personal_command)


@click.command("purge-personal-data")
@with_appcontext
def purge_personal_command():
    """Delete photos and erase signatures older than the firm's retention period (the worker runs
    it daily; run it by hand or from cron where no worker runs)."""
    counts = retention.purge_personal_data()
    click.echo(f"Retention: before {retention.cutoff():%Y-%m-%d}, deleted {counts['photos']} photos "
               f"and erased {counts['signatures']} signatures.")


@click.command("purge-sync-keys")
@click.option("--days", type=int, default=None, help="Keep this many days (at least 30).")
@with_appcontext
def purge_sync_command(days):
    """Forget offline idempotency keys older than the retention (run it monthly from cron)."""
    from .sync.replay import purge_old_records
    count = purge_old_records(days)
    db.session.commit()
    click.echo(f"Forgot {count} idempotency keys.")


@click.command("demo")
@with_appcontext
@click.option("--first-run", is_flag=True, help="Load only if this database never had demo data or users.")
def demo_command(first_run: bool) -> None:
    """Load a realistic demo firm (users for every role, customers, requirements, orders)."""
    from .admin.models import get_settings
    from .auth.models import User
    from .demo import DEMO_PASSWORD, load_demo
    settings = get_settings()
    if first_run and (settings.demo_loaded or db.session.scalar(db.select(db.func.count()).select_from(User))):
        click.echo("Demo data: already loaded earlier (or the firm is live); not loading again.")
        return
    with current_app.test_request_context("/", method="POST", base_url=current_app.config["PUBLIC_URL"] or "http://localhost:8000"):
        load_demo()
        db.session.commit()
    click.echo(f"Demo data loaded. Every demo login uses the password {DEMO_PASSWORD!r}.")


@click.command("bench-data")
@with_appcontext
@click.option("--orders", type=click.IntRange(min=1), default=100_000, show_default=True,
              help="How many orders of history to add.")
@click.option("--seed", type=int, default=17, show_default=True, help="Seed of the random history.")
def bench_data_command(orders: int, seed: int) -> None:
    """Add years of history on top of the demo firm (load it first with flask demo): orders with their
    work orders, progress reports, shipments, payments, stock movements and audit rows, for the benchmark."""
    import time
    from .benchdata import generate
    started = time.monotonic()
    try:
        counts = generate(orders, seed=seed, echo=click.echo)
    except RuntimeError as refusal:  # no demo firm, or a real firm's database: said plainly, no traceback
        raise click.ClickException(str(refusal)) from refusal
    click.echo("Added: " + ", ".join(f"{table} {count}" for table, count in sorted(counts.items())))
    click.echo(f"Took {time.monotonic() - started:.0f} s.")


@click.command("go-live")
@with_appcontext
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def go_live_command(yes: bool) -> None:
    """Remove every demo record and demo login, keeping the settings, to start real work."""
    from .demo import remove_demo
    if not yes:
        click.confirm("This deletes all demo customers, requirements, orders and demo logins. Continue?",
                      abort=True)
    counts = remove_demo()
    db.session.commit()
    click.echo("Demo data removed: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    click.echo("Create your first real login with: flask user create USERNAME --roles admin")


@click.command("backup")
@with_appcontext
@click.option("--to", "target", type=click.Path(dir_okay=False), help="Where to write the copy.")
def backup_command(target: str | None) -> None:
    """Write a consistent copy of the SQLite database (online backup API) and check it."""
    url = db.engine.url
    if url.get_backend_name() != "sqlite":
        raise click.ClickException("This database is not SQLite: use pg_dump for PostgreSQL.")
    source_path = url.database
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    target = target or os.path.join(current_app.instance_path, "backups", f"tracker-{stamp}.sqlite3")
    os.makedirs(os.path.dirname(os.path.abspath(target)), exist_ok=True)
    if os.path.exists(target):
        raise click.ClickException(f"{target} exists already.")
    source = sqlite3.connect(source_path)
    copy = sqlite3.connect(target)
    with copy:
        source.backup(copy)
    source.close()
    result = copy.execute("PRAGMA integrity_check").fetchone()[0]
    tables = copy.execute("SELECT count(*) FROM sqlite_master WHERE type='table'").fetchone()[0]
    copy.close()
    if result != "ok":
        raise click.ClickException(f"The copy failed its integrity check: {result}")
    click.echo(f"Backup written to {target} ({tables} tables, integrity ok).")


user_group = AppGroup("user", help="Manage logins.")


@user_group.command("create")
@click.argument("username")
@click.option("--name", default=None, help="Full name (defaults to the username).")
@click.option("--roles", default="admin", show_default=True, help="Comma-separated roles.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def create_user(username: str, name: str | None, roles: str, password: str) -> None:
    """Create a login."""
    from .auth.models import ROLES, User
    wanted = [r.strip() for r in roles.split(",") if r.strip()]
    unknown = set(wanted) - set(ROLES)
    if unknown:
        raise click.ClickException(f"Unknown roles: {', '.join(sorted(unknown))}. Known: {', '.join(ROLES)}")
    if len(password) < 8:
        raise click.ClickException("The password needs at least 8 characters.")
    if db.session.scalar(db.select(User).where(db.func.lower(User.username) == username.lower())):
        raise click.ClickException(f"{username} exists already.")
    user = User(username=username, name=name or username, password_hash="")
    user.roles = wanted
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    click.echo(f"Created {username} with roles {', '.join(wanted)}.")
