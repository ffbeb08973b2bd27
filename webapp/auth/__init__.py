"""Logins, device sessions and the worker switch on shared phones."""
from flask import Blueprint

from ..registry import Domain, register

bp = Blueprint("auth", __name__)


def _labels() -> dict:
    from .roles import ROLE_LABELS
    return {"role": ROLE_LABELS}


DOMAIN = register(Domain(
    name="auth", labels=_labels,
    # Make a shared phone a floor device with a one-time code, and lock one out (auth/floor.py).
    actions={"floor.enrol": frozenset({"production", "admin"})},
))


def init_app(app) -> None:
    """Attach the login, device and floor-phone pages."""
    from . import models, sessions, views  # noqa: F401  (routes, tables, the session loader)
    app.register_blueprint(bp)
