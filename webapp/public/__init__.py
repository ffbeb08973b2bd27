"""Pages for customers on links (no account) and link QR images for staff."""
from flask import Blueprint

from ..registry import Domain, register

bp = Blueprint("public", __name__)

DOMAIN = register(Domain(name="public", actions={"link.manage": frozenset({"sales", "manager"})}))


def init_app(app) -> None:
    """Attach the customer's link pages and their PDF copies."""
    from . import pdf_copy, views  # noqa: F401  (routes)
    app.register_blueprint(bp)
