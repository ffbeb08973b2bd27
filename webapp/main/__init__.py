"""Home ("my work"), search and the health check."""
from flask import Blueprint

from ..permissions import OFFICE
from ..registry import Domain, register

bp = Blueprint("main", __name__)

DOMAIN = register(Domain(name="main", actions={"work.view": OFFICE | {"worker", "courier"}}))


def init_app(app) -> None:
    """Attach home, search and the health check."""
    from . import views  # noqa: F401  (routes)
    app.register_blueprint(bp)


# What other domains may import from this one: `from ..main import <name>` (tests/test_architecture.py
# refuses any other reach into the package).
__all__ = ["bp", "DOMAIN", "init_app"]
