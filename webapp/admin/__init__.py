"""Admin pages: users and roles, devices, firm settings, working calendar."""
from flask import Blueprint, g
from flask_babel import gettext as _

from ..registry import Domain, register

bp = Blueprint("admin", __name__)



def firm_name() -> str:
    """The firm's name from its settings (every page's header); the app's own name while the database
    is unreachable (the 503 page must not ask it: errors.py)."""
    if g.get("database_unavailable"):
        return _("Order tracker")
    from .models import get_settings
    return get_settings().firm_name


DOMAIN = register(Domain(name="admin", actions={"admin.manage": frozenset({"admin"})},
                         template_globals={"firm_name": firm_name}))


def init_app(app) -> None:
    """Attach the admin pages and the firm's seal under /admin."""
    from . import models, notifications, seal, views, webhooks  # noqa: F401  (routes and tables)
    app.register_blueprint(bp, url_prefix="/admin")


# What other domains may import from this one: `from ..admin import <name>` (tests/test_architecture.py
# refuses any other reach into the package).
__all__ = ["bp", "DOMAIN", "init_app", "firm_name"]
