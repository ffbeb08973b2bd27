"""Customers and the product catalogue."""
from flask import Blueprint

from ..permissions import OFFICE
from ..registry import Domain, register

bp = Blueprint("customers", __name__)

DOMAIN = register(Domain(name="customers", actions={
    "customer.view": OFFICE,
    "customer.manage": frozenset({"sales", "manager", "admin"}),
    "product.manage": frozenset({"warehouse", "production", "manager", "admin"}),
}))


def init_app(app) -> None:
    """Attach the customer and catalogue pages under /customers."""
    from . import models, views  # noqa: F401  (routes and tables)
    app.register_blueprint(bp, url_prefix="/customers")
