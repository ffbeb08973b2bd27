"""Retail orders (零售业): a quick order form for stock items at the shop counter or for an online
shop, delivery to an address or pickup at a store, shipped from stock with the same receipt and
after-sales; and an import of online-shop orders from a CSV file (docs/retail-import.md)."""
from flask import Blueprint

from ..registry import Domain, public_names, register
from ..statemachine import N_

bp = Blueprint("retail", __name__)

DOMAIN = register(Domain(
    name="retail",
    actions={"retail.create": frozenset({"sales"}),
             "retail.view": frozenset({"sales", "warehouse", "operations", "manager", "aftersales", "finance"})},
    events={"retail.created": N_("Retail order entered"), "retail.imported": N_("Online-shop order imported")},
))


def init_app(app) -> None:
    """Attach the retail pages."""
    from . import models, views  # noqa: F401  (routes, tables)
    app.register_blueprint(bp)


_PUBLIC = {"RetailOrder": "models", "services": "services"}
__all__ = ["bp", "DOMAIN", "init_app", *_PUBLIC]
__getattr__ = public_names(__name__, _PUBLIC)
