"""Fixtures: one app per database kind for this pytest process (or xdist worker), its database reset
to a freshly made one before every test; a client that sends the CSRF token like a browser form does;
and factories for people, customers, products, orders and work orders.

How a test is isolated (see docs/decisions.md, "How the suite isolates tests"): building an app and
its schema costs far more than most tests (templates are compiled per app), so each worker builds one
app per database kind once. Before each test its database is put back to what it was right after
``create_all()``: on SQLite the database file is replaced by a copy of a template file made then; on
PostgreSQL every table is truncated (identities restarted). The app's config is restored after each
test, so a test may still change it. A rolled-back outer transaction is not used: the app opens
connections of its own (``transaction.short_write`` for counters, threads in the concurrency tests,
the live server of the browser tests), which would not see the test's uncommitted rows.
"""
import os
import re
import shutil
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

import pytest
from flask import Flask
from flask.ctx import RequestContext
from flask.testing import EnvironBuilder, FlaskClient
from flask_wtf.csrf import generate_csrf
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from webapp import create_app
from webapp.auth.models import User
from webapp.customers.models import Customer
from webapp.extensions import db
from webapp.production.models import Product

PASSWORD = "correct horse 1"
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")
# "gw0", "gw1", … under pytest-xdist (each worker has databases of its own); "" in a plain run.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
BROWSER_TESTS = Path(__file__).parent / "browser"
TEST_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret",
    "PUBLIC_URL": "https://tracker.example.com",
    "LOGIN_THROTTLE_MAX_FAILURES": 5,
    "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # fast in tests only
    # Tests move the clock months back and forth (time-machine) around one login: a week's idle limit
    # would end it. tests/test_sessions.py sets the limits it tests.
    "SESSION_IDLE_MINUTES": 10 * 365 * 24 * 60,
    "SESSION_ABSOLUTE_DAYS": 10 * 365,
}


def pg_url(url: str) -> str:
    """Use psycopg 3 for a plain postgresql:// URL."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


class CsrfClient(FlaskClient):
    """A test client that fills in the CSRF token for POSTs, as the rendered form would."""

    def csrf_token(self) -> str:
        """The token a page would give this client's session, made without a request: Flask-WTF's own
        generate_csrf() on the client's session (it stores the session's raw token on first use)."""
        with self.session_transaction() as session:
            # A fresh app context: generate_csrf() caches its token in g, which must not be another
            # client's (a test may post from inside its own app context).
            environ = EnvironBuilder(self.application).get_environ()
            context = RequestContext(self.application, environ, session=session)
            with self.application.app_context(), context:
                return generate_csrf()

    def post(self, *args, csrf: bool = True, **kwargs):
        data = kwargs.get("data")
        if csrf and (data is None or isinstance(data, dict)) and "csrf_token" not in (data or {}):
            kwargs["data"] = {**(data or {}), "csrf_token": self.csrf_token()}
        return super().post(*args, **kwargs)


_worker_databases: dict[str, str] = {}


def worker_database(url: str, suffix: str = "") -> str:
    """This worker's own PostgreSQL database next to url's (name + "_gw0" under xdist, + suffix),
    created when missing; url itself in a plain run without suffix."""
    base = make_url(pg_url(url))
    name = base.database + (f"_{WORKER}" if WORKER else "") + suffix
    if name == base.database:
        return pg_url(url)
    key = f"{url}|{name}"
    if key not in _worker_databases:
        engine = create_engine(base, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            if not connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}):
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        _worker_databases[key] = base.set(database=name).render_as_string(hide_password=False)
    return _worker_databases[key]


def database_uri(directory, kind: str | None = None, suffix: str = "") -> str:
    """A database for an app: an SQLite file in directory, or this worker's PostgreSQL test database
    (kind "postgres", or any kind but "sqlite" when TEST_DATABASE_URL is set)."""
    if kind == "postgres":
        url = os.environ.get("TEST_POSTGRES_URL") or POSTGRES_URL
        if not url:
            pytest.skip("no PostgreSQL: set TEST_POSTGRES_URL")
        return worker_database(url, suffix)
    if POSTGRES_URL and kind != "sqlite":
        return worker_database(POSTGRES_URL, suffix)
    return "sqlite:///" + str(Path(directory) / "test.sqlite3")


def new_test_app(uri: str, directory, **config) -> Flask:
    """An app on uri with the tests' config; its uploads and mail under directory."""
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": uri, "UPLOAD_FOLDER": str(Path(directory) / "uploads"),
                      "MAIL_FOLDER": str(Path(directory) / "mail"), **config})
    app.test_client_class = CsrfClient
    return app


def create_schema(app: Flask) -> None:
    """An empty schema made from the models (tests only; the app itself is migrated with Alembic)."""
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public;"))
            db.session.commit()
        db.create_all()
        write_settings_row()
        db.session.remove()


def write_settings_row() -> None:
    """The settings row exists in a real install (migrated, then demo or go-live); made here, it is not
    first written by two concurrent browser requests racing for SQLite's write lock."""
    from webapp.admin.models import get_settings
    from webapp.costing.models import ensure_builtin_causes
    get_settings()
    ensure_builtin_causes()  # the migration makes them in a real install
    db.session.commit()


class SharedApp:
    """One app on one test database for this process, reset to an empty schema before each test."""

    def __init__(self, uri: str | None, directory: Path):
        self.directory = directory
        self.sqlite_file = None if uri else directory / "test.sqlite3"
        self.app = new_test_app(uri or f"sqlite:///{self.sqlite_file}", directory)
        create_schema(self.app)
        with self.app.app_context():
            self.tables = sorted(db.metadata.tables)
            db.engine.dispose()  # SQLite: the last connection closes, folding the WAL into the file
        if self.sqlite_file:
            self.template = directory / "template.sqlite3"
            shutil.copyfile(self.sqlite_file, self.template)

    def reset(self) -> None:
        """Put the database back to what create_schema() left, and forget the background tasks an
        earlier test left scheduled (a retry of its mail or robot post) in the shared app's Huey."""
        huey = self.app.extensions.get("huey")
        if huey is not None:
            huey.flush()
        with self.app.app_context():
            db.session.remove()
            if self.sqlite_file:
                self._copy_template()
            else:
                self._truncate()

    def _copy_template(self) -> None:
        """SQLite: no connection stays open on the old file, which a copy of the template replaces."""
        db.engine.dispose()
        for stale in ("-wal", "-shm", "-journal"):
            Path(f"{self.sqlite_file}{stale}").unlink(missing_ok=True)
        fresh = self.directory / "fresh.sqlite3"
        shutil.copyfile(self.template, fresh)
        os.replace(fresh, self.sqlite_file)

    def _truncate(self) -> None:
        """PostgreSQL: empty every table and restart its ids; a test that dropped or migrated the
        schema (the migration tests) gets it made again."""
        with db.engine.begin() as connection:
            connection.execute(text("SET LOCAL lock_timeout = '20s'"))  # a stuck connection fails loudly
            present = sorted(connection.scalars(text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")))
            if present == self.tables:
                connection.execute(text("TRUNCATE " + ", ".join(f'"{name}"' for name in self.tables)
                                        + " RESTART IDENTITY CASCADE"))
        if present != self.tables:
            create_schema(self.app)
        else:
            write_settings_row()
            db.session.remove()

    def close(self) -> None:
        """Close the app's connections."""
        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(scope="session")
def shared_apps(tmp_path_factory):
    """This process's apps, one per test database (built on first use)."""
    apps: dict[str, SharedApp] = {}
    yield apps
    for shared in apps.values():
        shared.close()


@pytest.fixture
def app(request, tmp_path, shared_apps, tmp_path_factory):
    """The app on a fresh, empty database (parametrize indirectly with "sqlite" or "postgres").

    The app is shared by the tests of this process; its database is reset before the test and what
    the test changes on the app itself (config, attributes such as a wrapped wsgi_app) is put back
    after it. A test that changes the app's structure (adds a route) is marked ``own_app`` and gets
    an app of its own."""
    kind = getattr(request, "param", None)
    uri = database_uri(tmp_path, kind)
    if request.node.get_closest_marker("own_app"):
        yield from own_app(uri, tmp_path, shared_apps)
        return
    key = "sqlite" if uri.startswith("sqlite") else uri
    if key not in shared_apps:
        shared_apps[key] = SharedApp(None if key == "sqlite" else uri, tmp_path_factory.mktemp("shared-app"))
    shared = shared_apps[key]
    app = shared.app
    kept_config, kept_attributes = dict(app.config), dict(vars(app))
    app.config.update(UPLOAD_FOLDER=str(tmp_path / "uploads"), MAIL_FOLDER=str(tmp_path / "mail"))
    shared.reset()
    yield app
    with app.app_context():
        db.session.remove()
    app.config.clear()
    app.config.update(kept_config)
    for name in set(vars(app)) - set(kept_attributes):
        delattr(app, name)
    for name, value in kept_attributes.items():
        if getattr(app, name, None) is not value:
            setattr(app, name, value)


def own_app(uri: str, tmp_path, shared_apps):
    """An app built for this test alone: on SQLite a file of its own, on PostgreSQL the worker's
    database (whose shared app is reset before its next test)."""
    app = new_test_app(uri, tmp_path)
    create_schema(app)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if uri in shared_apps:
        shared_apps[uri].tables = ["(rebuild)"]  # its schema is made again before the next test


@pytest.fixture
def client(app):
    """A browser-like client."""
    return app.test_client()


@pytest.fixture
def make_user(app):
    """Create a user: make_user("sales", "finance", username="x")."""
    counter = {"n": 0}

    def make(*roles, username=None, name=None, pin=None, employee_no=None, **extra):
        counter["n"] += 1
        with app.app_context():
            user = User(username=username or f"user{counter['n']}", name=name or f"User {counter['n']}",
                        employee_no=employee_no, password_hash="",
                        email=f"{username or 'user' + str(counter['n'])}@example.com", **extra)
            user.roles = roles or ("sales",)
            user.set_password(PASSWORD)
            user.set_pin(pin)
            db.session.add(user)
            db.session.commit()
            return user.id
    return make


@pytest.fixture
def make_customer(app):
    """Create a customer: make_customer(abbreviation="ACME")."""
    def make(abbreviation="ACME", name=None, **extra):
        with app.app_context():
            customer = Customer(name=name or f"{abbreviation} Ltd", abbreviation=abbreviation,
                                contact_name="Ann", contact_email=f"buyer@{abbreviation.lower()}.example.com",
                                locale=extra.pop("locale", "en"), **extra)
            db.session.add(customer)
            db.session.commit()
            return customer.id
    return make


@pytest.fixture
def make_product(app):
    """Create a product with stock."""
    def make(model="BRK-1", on_hand="100", price="10.00"):
        with app.app_context():
            product = Product(model=model, name=f"Product {model}", unit="pcs",
                              list_price=Decimal(price), on_hand=Decimal(on_hand))
            db.session.add(product)
            db.session.commit()
            return product.id
    return make


def login(client, username: str, password: str = PASSWORD):
    """Log the client in through the real login form."""
    return client.post("/login", data={"username": username, "password": password})


@pytest.fixture
def as_user(app, make_user):
    """A logged-in client for a new user with roles: as_user("finance")."""
    def make(*roles, **kwargs):
        user_id = make_user(*roles, **kwargs)
        client = app.test_client()
        with app.app_context():
            username = db.session.get(User, user_id).username
        response = login(client, username)
        assert response.status_code == 303, response.get_data(as_text=True)[:500]
        client.user_id = user_id
        return client
    return make


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """The longest tests (marked ``slow``) first, the rest in their order: pytest-xdist hands tests out
    as workers free up, so a long test handed out last would run alone while the other core idles."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def pytest_itemcollected(item):
    """Under pytest-xdist (--dist loadgroup) a module's demo-firm tests stay together, so that the firm
    is loaded once per module. The browser tests are not grouped: each worker starts a Chromium of its
    own, so they run on both cores (one group of them was the longest path through the suite).
    (Done as each test is collected: xdist reads the groups in its own collection hook.)"""
    if not item.config.pluginmanager.hasplugin("xdist"):
        return
    if "demo_app" in getattr(item, "fixturenames", ()):
        item.add_marker(pytest.mark.xdist_group(f"demo-{item.path.stem}"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI a skipped browser, PostgreSQL or two-server test is a failure (REQUIRE_BROWSER,
    REQUIRE_POSTGRES, REQUIRE_TWO_SERVERS)."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped:
        for marker, variable in (("browser", "REQUIRE_BROWSER"), ("postgres", "REQUIRE_POSTGRES"),
                                 ("two_servers", "REQUIRE_TWO_SERVERS")):
            if item.get_closest_marker(marker) and os.environ.get(variable):
                report.outcome = "failed"
                report.longrepr = f"{marker} test skipped although {variable} is set: {report.longrepr}"


@pytest.fixture
def make_order(app, make_user, make_customer, make_product):
    """Build an order in a given state through the real services:
    make_order("pending_approval", prepayment_pct="30") -> order id; "ready_to_ship" has every work
    order made and passed by QC."""
    from webapp.orders import services
    from webapp.orders.models import Order
    from webapp import links
    from .helpers import SIGNATURE

    people = {}

    def person(role):
        return db.session.get(User, people[role])

    def make(state="draft", customer="ORD", quantity="100", price="10.00", prepayment_pct="0",
             delivery_date=None, description="", **settings_overrides):
        from datetime import date, timedelta
        from webapp.admin.models import get_settings
        from webapp.orders.models import OrderLine
        with app.app_context():
            customer_row = db.session.scalar(db.select(Customer).where(Customer.abbreviation == customer))
        customer_id = customer_row.id if customer_row else make_customer(customer)
        for role in ("sales", "production", "finance", "warehouse", "manager", "operations", "qc"):
            if role not in people:  # made before the write transaction below begins
                people[role] = make_user(role, username=f"{role}-maker")
        with app.app_context(), app.test_request_context("/", method="POST"):
            settings = get_settings()
            for key, value in settings_overrides.items():
                setattr(settings, key, value)
            sales = person("sales")
            order = Order(customer_id=customer_id, sales_rep_id=sales.id, currency="CNY",
                          tax_rate=Decimal("13"), prepayment_pct=Decimal(prepayment_pct),
                          delivery_date=delivery_date or date.today() + timedelta(days=30))
            order.lines = [OrderLine(position=1, model="BRK-1", description=description,
                                     quantity=Decimal(quantity), unit="pcs",
                                     unit_price=Decimal(price),
                                     unit_price_incl=(Decimal(price) * Decimal("1.13")).quantize(Decimal("0.01")))]
            db.session.add(order)
            db.session.flush()
            order.customer = db.session.get(Customer, customer_id)
            services.recalculate(order)
            steps = ["in_review", "pending_approval", "awaiting_countersign", "effective", "in_production",
                     "ready_to_ship"]
            target = steps.index(state) if state in steps else -1
            if target >= 0:
                services.submit(order, sales)
            if target >= 1:
                for department in order.settings.get("reviews", []):
                    if department == "finance":
                        for category in ("material", "labour", "overhead", "logistics", "aftersales"):
                            setattr(order, f"budget_{category}", Decimal("100"))
                    services.review(order, department, "agree", "", person(department))
            if target >= 2:
                for role in order.required_approvals():
                    services.decide(order, role, "approve", "", person(role))
            if target >= 3:
                link = links.current("order_countersign", order.id)
                services.countersign(order, link, "Ann", "", SIGNATURE, "127.0.0.1", "test")
            if target >= 4:
                if not order.prepayment_satisfied:
                    services.override_prepayment(order, "test", person("finance"))
                services.simple_transition(order, "start_production", person("operations"))
            if target >= 5:  # every work order made in full and passed by QC, so every line may ship
                from webapp.production import services as floor
                for work_order in order.work_orders:
                    floor.report(work_order, person("production"), work_order.remaining, Decimal("0"), "", [])
                    floor.move(work_order, "finish", person("production"))
                    floor.move(work_order, "pass_qc", person("qc"))
            assert state in ("draft",) or order.status == state, (state, order.status)
            db.session.commit()
            return order.id
    return make


class WorkOrderRef(NamedTuple):
    """A work order made for a test: its id, its worker link's token and its order's id."""
    id: int
    token: str
    order_id: int


@pytest.fixture
def work_order_quantity() -> str:
    """How many pieces work_order's order line asks for (a module overrides this fixture for more)."""
    return "100"


@pytest.fixture
def work_order(app, make_order, work_order_quantity) -> WorkOrderRef:
    """An order released to production and its first work order: (id, token, order_id), also by name."""
    from webapp.production.models import WorkOrder
    order_id = make_order("in_production", quantity=work_order_quantity)
    with app.app_context():
        row = db.session.scalar(db.select(WorkOrder).where(WorkOrder.order_id == order_id).order_by(WorkOrder.id))
        return WorkOrderRef(row.id, row.token, order_id)


# --- the demo firm, shared by the crawl tests (5xx, words; later layout, CSP, permissions) --------

DEMO_PEOPLE = ("admin", "wang.fang", "lucy", "li.qiang", "zhang.wei", "liu.yang", "chen.jing", "zhao.min",
               "sun.lei", "zhou.jie", "wu.ting", "huang.xm", "lin.dw", "ma.driver")
PUBLIC_URL = "https://tracker.example.com"


# This worker's first demo firm of each database kind, kept for the next demo app to copy (loading the
# demo takes seconds, and five modules each want a firm of their own to change): the folder holding its
# uploads (and, on SQLite, its database file), and on PostgreSQL the name of a template database.
_demo_templates: dict[str, tuple[Path, str]] = {}


def make_demo_app(directory, kind: str):
    """An app on a fresh database (kind "sqlite" or "postgres") loaded with the demo firm by
    `flask demo`, exactly as `make run` loads it. On PostgreSQL it has a database of its own (the
    worker's test database + "_demo"), apart from the shared test app's. The first demo firm of this
    worker and kind is loaded so; later ones are copies of it (as if `make run` were restarted): a file
    copy on SQLite, CREATE DATABASE … TEMPLATE on PostgreSQL."""
    directory = Path(directory)
    uri = database_uri(directory, kind, suffix="_demo")
    postgres = uri.startswith("postgresql")
    kind = "postgres" if postgres else "sqlite"
    database_file = directory / "test.sqlite3"
    copied = kind in _demo_templates
    if copied:
        folder, template_database = _demo_templates[kind]
        if postgres:
            clone_postgres(uri, template_database)
        else:
            copy_sqlite(folder / "test.sqlite3", database_file)
        if (folder / "uploads").exists():
            shutil.copytree(folder / "uploads", directory / "uploads")
    app = create_app({
        "TESTING": True, "SECRET_KEY": "test-secret", "SQLALCHEMY_DATABASE_URI": uri,
        "UPLOAD_FOLDER": str(directory / "uploads"), "MAIL_FOLDER": str(directory / "mail"),
        "PUBLIC_URL": PUBLIC_URL, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    })
    app.test_client_class = CsrfClient
    if copied:
        return app
    with app.app_context():
        if postgres:
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public;"))
            db.session.commit()
        db.create_all()
        from webapp.admin.models import get_settings
        get_settings()
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    folder = directory.parent / f"demo-template-{kind}-{WORKER or 'main'}"
    folder.mkdir(exist_ok=True)
    with app.app_context():  # no connection may stay open on a database that is copied
        db.session.remove()
        db.engine.dispose()
    if postgres:
        template_database = make_url(uri).database + "_template"
        clone_postgres(uri, template_database, reverse=True)
    else:
        template_database = ""
        copy_sqlite(database_file, folder / "test.sqlite3")
    if (directory / "uploads").exists():
        shutil.copytree(directory / "uploads", folder / "uploads")
    _demo_templates[kind] = (folder, template_database)
    return app


def clone_postgres(uri: str, template: str, reverse: bool = False) -> None:
    """Make uri's database a copy of the database named template (reverse: make template a copy of
    uri's), replacing what was there; neither may have a connection open."""
    url = make_url(uri)
    target, source = (template, url.database) if reverse else (url.database, template)
    engine = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{target}" TEMPLATE "{source}"'))
    engine.dispose()


def copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of an SQLite database (its write-ahead log included), by SQLite's backup API."""
    import sqlite3
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def dispose_demo_app(app) -> None:
    """Close the demo app's connections (and empty the PostgreSQL schema)."""
    with app.app_context():
        db.session.remove()
        if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
            db.drop_all()
        db.engine.dispose()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def demo_app(request, tmp_path_factory):
    """The demo firm, loaded once per test module and database (SQLite and PostgreSQL)."""
    app = make_demo_app(tmp_path_factory.mktemp(f"demo-{request.param}"), request.param)
    yield app
    dispose_demo_app(app)


def demo_login(app, username: str, locale: str | None = None):
    """A client logged in as a demo person through the login form (password demo1234); with
    locale, the person's language is set first (as they would on their account page)."""
    from webapp.demo import DEMO_PASSWORD
    if locale:
        with app.app_context():
            db.session.scalar(db.select(User).where(User.username == username)).locale = locale
            db.session.commit()
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 303, (username, response.status_code)
    return client


# --- a real SMTP server (mail after the commit, the background worker's delivery) ------------------

class Inbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self):
        self.messages = []
        self.port = None

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


def free_port() -> int:
    """A loopback port nobody listens on (yet)."""
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp():
    """A real SMTP server on a free loopback port: .port, and .messages as they arrive."""
    from aiosmtpd.controller import Controller
    inbox = Inbox()
    inbox.port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    yield inbox
    controller.stop()


def empty_database(app) -> None:
    """Drop every table, so that the migrations start from nothing (a migration test's start)."""
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public;"))
            db.session.commit()
        else:
            db.session.remove()
            db.drop_all()


def spare_port(variable: str = "TEST_PORTS") -> int:
    """A free loopback port: from the range in the environment variable (e.g. TEST_PORTS=8500-8549,
    where the machine is shared and each user has a range), else any the system hands out."""
    import socket
    span = os.environ.get(variable) or os.environ.get("TEST_PORTS")
    if not span:
        return free_port()
    first, last = (int(p) for p in span.split("-"))
    for port in range(first, last + 1):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {span}")


@pytest.fixture(scope="session")
def moto_s3():
    """A local S3-compatible server (moto's server mode) on a loopback port: its endpoint URL. The
    credentials are moto's dummies, given to boto3 through the environment as in production."""
    from moto.server import ThreadedMotoServer
    port = spare_port("TEST_MOTO_PORTS")
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def new_bucket(endpoint: str) -> str:
    """A fresh bucket on the S3 server at endpoint: its name."""
    import uuid

    import boto3
    name = f"tracker-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket=name)
    return name
