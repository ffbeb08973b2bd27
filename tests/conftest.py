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


def database_uri(tmp_path) -> str:
    """This test's database: a file in tmp_path, or the PostgreSQL test database."""
    if POSTGRES_URL:
        return pg_url(POSTGRES_URL)
    return "sqlite:///" + str(tmp_path / "test.sqlite3")


@pytest.fixture
def app(tmp_path):
    """The app on a fresh, empty database."""
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_uri(tmp_path),
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        "MAIL_FOLDER": str(tmp_path / "mail"),
        "PUBLIC_URL": "https://tracker.example.com",
        "LOGIN_THROTTLE_MAX_FAILURES": 5,
    })
    app.test_client_class = CsrfClient
    with app.app_context():
        if POSTGRES_URL:
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public;"))
            db.session.commit()
        db.create_all()  # tests only; the app itself is migrated with Alembic
    yield app
    with app.app_context():
        db.session.remove()
        if POSTGRES_URL:
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
