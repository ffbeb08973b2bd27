"""Fixtures: a fresh database per test (SQLite, or PostgreSQL via TEST_DATABASE_URL), a client
that sends the CSRF token like a browser form does, and factories for people and customers."""
import os
import re
from decimal import Decimal

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from webapp import create_app
from webapp.auth.models import User
from webapp.customers.models import Customer
from webapp.extensions import db
from webapp.production.models import Product

PASSWORD = "correct horse 1"
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")
TOKEN_PATTERNS = (re.compile(r'"X-CSRFToken": "([^"]+)"'),
                  re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"'))


def pg_url(url: str) -> str:
    """Use psycopg 3 for a plain postgresql:// URL."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


class CsrfClient(FlaskClient):
    """A test client that fills in the CSRF token for POSTs, as the rendered form would."""

    def csrf_token(self) -> str:
        """Fetch a page and read the token the app gave this session."""
        response = self.get("/login", follow_redirects=True)
        for pattern in TOKEN_PATTERNS:
            match = pattern.search(response.get_data(as_text=True))
            if match:
                return match.group(1)
        raise AssertionError("no CSRF token on the page")

    def post(self, *args, csrf: bool = True, **kwargs):
        data = kwargs.get("data")
        if csrf and (data is None or isinstance(data, dict)) and "csrf_token" not in (data or {}):
            kwargs["data"] = {**(data or {}), "csrf_token": self.csrf_token()}
        return super().post(*args, **kwargs)


def database_uri(tmp_path, kind: str | None = None) -> str:
    """This test's database: a file in tmp_path, or the PostgreSQL test database."""
    if kind == "postgres":
        url = os.environ.get("TEST_POSTGRES_URL") or POSTGRES_URL
        if not url:
            pytest.skip("no PostgreSQL: set TEST_POSTGRES_URL")
        return pg_url(url)
    if POSTGRES_URL and kind != "sqlite":
        return pg_url(POSTGRES_URL)
    return "sqlite:///" + str(tmp_path / "test.sqlite3")


@pytest.fixture
def app(tmp_path, request):
    """The app on a fresh, empty database (parametrize indirectly with "sqlite" or "postgres")."""
    uri = database_uri(tmp_path, getattr(request, "param", None))
    is_postgres = uri.startswith("postgresql")
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": uri,
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        "MAIL_FOLDER": str(tmp_path / "mail"),
        "PUBLIC_URL": "https://tracker.example.com",
        "LOGIN_THROTTLE_MAX_FAILURES": 5,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # fast in tests only
    })
    app.test_client_class = CsrfClient
    with app.app_context():
        if is_postgres:
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public;"))
            db.session.commit()
        db.create_all()  # tests only; the app itself is migrated with Alembic
        # The settings row exists in a real install (migrated, then demo or go-live); made here, it is
        # not first written by two concurrent browser requests racing for SQLite's write lock.
        from webapp.admin.models import get_settings
        get_settings()
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        if is_postgres:
            db.drop_all()
        db.engine.dispose()


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


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI a skipped browser or PostgreSQL test is a failure (REQUIRE_BROWSER, REQUIRE_POSTGRES)."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped:
        for marker, variable in (("browser", "REQUIRE_BROWSER"), ("postgres", "REQUIRE_POSTGRES")):
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


# --- the demo firm, shared by the crawl tests (5xx, words; later layout, CSP, permissions) --------

DEMO_PEOPLE = ("admin", "wang.fang", "lucy", "li.qiang", "zhang.wei", "liu.yang", "chen.jing", "zhao.min",
               "sun.lei", "zhou.jie", "wu.ting", "huang.xm", "lin.dw", "ma.driver")
PUBLIC_URL = "https://tracker.example.com"


def make_demo_app(directory, kind: str):
    """An app on a fresh database (kind "sqlite" or "postgres") loaded with the demo firm by
    `flask demo`, exactly as `make run` loads it."""
    uri = database_uri(directory, kind)
    app = create_app({
        "TESTING": True, "SECRET_KEY": "test-secret", "SQLALCHEMY_DATABASE_URI": uri,
        "UPLOAD_FOLDER": str(directory / "uploads"), "MAIL_FOLDER": str(directory / "mail"),
        "PUBLIC_URL": PUBLIC_URL, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    })
    app.test_client_class = CsrfClient
    with app.app_context():
        if uri.startswith("postgresql"):
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public;"))
            db.session.commit()
        db.create_all()
        from webapp.admin.models import get_settings
        get_settings()
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return app


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
