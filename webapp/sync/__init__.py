"""Offline sync: devices, idempotent replays of the outbox, conflicts."""
from flask import Blueprint

from ..registry import Domain, PhotoKind, public_names, register

bp = Blueprint("sync", __name__)

DOMAIN = register(Domain(
    name="sync", actions={"sync.conflicts": frozenset({"operations", "production", "warehouse", "manager", "admin"})},
    # Photos kept with an offline action that could not be applied: for whoever settles conflicts.
    photo_kinds=(PhotoKind("sync_conflict", "sync.conflicts"),),
))


def init_app(app) -> None:
    """Attach the outbox's enrolment, replay and conflict pages."""
    from . import models, signals, views  # noqa: F401  (routes, tables, what it does when sessions end)
    app.register_blueprint(bp)


# What other domains may import from this one: `from ..sync import <name>` (tests/test_architecture.py
# refuses any other reach into the package).
_PUBLIC = {
    "replay": "replay",
    "offline_capable": "replay",
    "Applied": "outcomes",
    "Conflict": "outcomes",
    "Invalid": "outcomes",
    "Refused": "outcomes",
    "Stop": "outcomes",
}
__all__ = ["bp", "DOMAIN", "init_app", *_PUBLIC]
__getattr__ = public_names(__name__, _PUBLIC)
