"""The customer links' pages (no account): GET /c/<token> opens what the link's purpose registered
(webapp/registry.py), a used link its read-only copy (copies.py); and the links' QR images for staff.
A shared service: it imports no domain. The domains add their link routes to its blueprint."""
from flask import Blueprint

from ..registry import Domain, register

bp = Blueprint("public", __name__)

DOMAIN = register(Domain(name="public", actions={"link.manage": frozenset({"sales", "manager"})}))


def init_app(app) -> None:
    """Attach the customer links' pages (the domains added theirs to the blueprint already)."""
    from . import views  # noqa: F401  (routes)
    app.register_blueprint(bp)
