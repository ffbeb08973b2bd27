"""The installable app: manifest, service worker, offline page, the outbox page."""
from flask import Blueprint, g

bp = Blueprint("pwa", __name__)


def keep_offline() -> None:
    """Mark this page as worth keeping on the phone for use without signal (a visited work order,
    a courier's shipment); the service worker keeps only pages so marked or listed by the sync
    manifest."""
    g.offline_keep = True


def init_app(app) -> None:
    """Attach the manifest, the service worker and the offline pages."""
    from . import views  # noqa: F401  (routes)
    app.register_blueprint(bp)


# What other domains may import from this one: `from ..pwa import <name>` (tests/test_architecture.py
# refuses any other reach into the package).
__all__ = ["bp", "init_app", "keep_offline"]
