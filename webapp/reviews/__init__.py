"""Review and improvement (复盘): a review meeting of an order or a period, its attendees and
findings, and its improvement actions (改进措施) tracked to done, reminded by the background worker,
each naming the cost causes it addresses so that the next period shows whether they went down."""
from flask import Blueprint

from ..permissions import OFFICE
from ..registry import Domain, public_names, register
from ..statemachine import N_
from . import lifecycle

bp = Blueprint("reviews", __name__)


def may_update_action(user, action=None) -> bool:
    """An improvement action is updated by its owner or by the review's editors (without an action:
    whether the roles alone may, so that a stranger to the action is told 403, not 409)."""
    if user.roles & lifecycle.EDITORS:
        return True
    return action is not None and action.owner_id == user.id


def may_view_action(user, action=None) -> bool:
    """An improvement action is read by whoever reads reviews, and by its owner."""
    if user.roles & lifecycle.READERS:
        return True
    return action is not None and action.owner_id == user.id


def _labels() -> dict:
    from .forms import KIND_LABELS, PERIOD_LABELS
    return {"review_kind": KIND_LABELS, "review_period": PERIOD_LABELS}


DOMAIN = register(Domain(
    name="reviews", machines=(lifecycle.MACHINE,), labels=_labels,
    actions={"review.view": lifecycle.READERS, "review.edit": lifecycle.EDITORS,
             # My work's "my improvement actions": anyone on the staff may own one.
             "action.mine": OFFICE},
    checks={"action.update": may_update_action, "action.view": may_view_action},
    events={"review.created": N_("Review recorded"), "review.updated": N_("Review changed"),
            "improvement.created": N_("Improvement action added"),
            "improvement.updated": N_("Improvement action changed"),
            "improvement.reminded": N_("Owner reminded")},
))


def init_app(app) -> None:
    """Attach the review pages, the My work items and the daily reminder."""
    from . import models, tasks, views, work  # noqa: F401  (tables, the periodic task, routes, My work)
    app.register_blueprint(bp)


# What other domains may import from this one: `from ..reviews import <name>`.
_PUBLIC = {"Review": "models", "ImprovementAction": "models", "cause_trend": "services",
           "overdue_actions": "services"}
__all__ = ["bp", "DOMAIN", "init_app", "lifecycle", *_PUBLIC]
__getattr__ = public_names(__name__, _PUBLIC)
