"""Customers and the product catalogue."""
from flask import Blueprint

from ..permissions import OFFICE
from ..registry import Domain, public_names, register

bp = Blueprint("customers", __name__)



def _visible(user, obj) -> bool:
    from .scope import visible  # the tables: imported when the app is made, not with the package
    return visible(user, obj)


def _scope(user, customer_id_column):
    from .scope import scope_customers
    return scope_customers(user, customer_id_column)


# Sales reps may be limited to their own customers (a firm setting): the loader, lists and My work
# ask these (webapp/customers/scope.py).
DOMAIN = register(Domain(name="customers", actions={
    "customer.view": OFFICE,
    "customer.manage": frozenset({"sales", "manager", "admin"}),
    "product.manage": frozenset({"warehouse", "production", "manager", "admin"}),
}, visible=_visible, scope=_scope))


def init_app(app) -> None:
    """Attach the customer and catalogue pages under /customers."""
    from . import models, views  # noqa: F401  (routes and tables)
    app.register_blueprint(bp, url_prefix="/customers")


# What other domains may import from this one: `from ..customers import <name>` (tests/test_architecture.py
# refuses any other reach into the package).
_PUBLIC = {
    "Customer": "models",
    "Product": "models",
    "is_scoped": "scope",
    "scope_customers": "scope",
    "visible": "scope",
}
__all__ = ["bp", "DOMAIN", "init_app", *_PUBLIC]
__getattr__ = public_names(__name__, _PUBLIC)
