"""The in-app scanner: continuous scanning for packing, and for installed apps."""
from flask import Blueprint

bp = Blueprint("scan", __name__)


def init_app(app) -> None:
    """Attach the scanner pages."""
    from . import views  # noqa: F401  (routes)
    app.register_blueprint(bp)
