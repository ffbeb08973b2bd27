"""Quality: inspection plans, incoming / in-process / final inspections that hold what failed, and
first articles (打样 / 首件确认) the customer approves on their phone."""
from flask import Blueprint

from ..registry import Domain, public_names, register
from ..statemachine import N_

bp = Blueprint("quality", __name__)

DOMAIN = register(Domain(
    name="quality",
    actions={
        "quality.view": frozenset({"qc", "production", "warehouse", "operations", "manager", "sales", "admin",
                                   "purchasing"}),
        "quality.inspect": frozenset({"qc"}),
        "quality.plan": frozenset({"qc", "manager"}),
    },
    events={
        "inspection.passed": N_("Inspection passed"),
        "inspection.failed": N_("Inspection failed"),
        "first_article.sent": N_("First article sent to the customer"),
        "first_article.approved": N_("Customer approved the first article"),
        "first_article.rejected": N_("Customer rejected the first article"),
    },
))


def init_app(app) -> None:
    """Attach the quality pages under /quality."""
    from . import models  # noqa: F401  (tables)
    try:
        from . import views  # noqa: F401
    except ImportError:  # pragma: no cover  (views come with the pages)
        pass
    app.register_blueprint(bp, url_prefix="/quality")


_PUBLIC = {
    "Inspection": "models",
    "InspectionPlan": "models",
    "FirstArticle": "models",
}
__all__ = ["bp", "DOMAIN", "init_app", *_PUBLIC]
__getattr__ = public_names(__name__, _PUBLIC)
