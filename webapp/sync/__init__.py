"""Offline sync: devices, idempotent replays of the outbox, conflicts."""
from flask import Blueprint

from ..registry import Domain, PhotoKind, register

bp = Blueprint("sync", __name__)

DOMAIN = register(Domain(
    name="sync", actions={"sync.conflicts": frozenset({"operations", "production", "warehouse", "manager", "admin"})},
    # Photos kept with an offline action that could not be applied: for whoever settles conflicts.
    photo_kinds=(PhotoKind("sync_conflict", "sync.conflicts"),),
))


def init_app(app) -> None:
    """Attach the outbox's enrolment, replay and conflict pages."""
    from . import models, views  # noqa: F401  (routes and tables)
    app.register_blueprint(bp)
