"""Going live: the documented Excel templates a firm fills with what it has (customers, products,
materials, BOMs, stock on hand with lots, open orders), and their import — every row checked, the
problems listed per sheet, row and cell, nothing saved until the whole file is clean; a dry run first
(docs/import.md)."""
from flask import Blueprint

from ..registry import Domain, public_names, register
from ..statemachine import N_

bp = Blueprint("golive", __name__)

DOMAIN = register(Domain(
    name="golive",
    actions={"golive.import": frozenset({"admin", "operations"})},
    events={"golive.imported": N_("Going-live data imported")},
))


def init_app(app) -> None:
    """Attach the import pages under /golive."""
    from . import views  # noqa: F401  (routes)
    app.register_blueprint(bp, url_prefix="/golive")


_PUBLIC = {"importer": "importer", "sheets": "sheets"}
__all__ = ["bp", "DOMAIN", "init_app", *_PUBLIC]
__getattr__ = public_names(__name__, _PUBLIC)
