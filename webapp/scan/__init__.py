"""The in-app scanner: continuous scanning for packing, and for installed apps."""
from flask import Blueprint

bp = Blueprint("scan", __name__)


def init_app(app) -> None:
    """Attach the scanner pages."""
    from . import views  # noqa: F401  (routes)
    app.register_blueprint(bp)


# What other domains may import from this one: `from ..scan import <name>` (tests/test_architecture.py
# refuses any other reach into the package).
__all__ = ["bp", "init_app"]
