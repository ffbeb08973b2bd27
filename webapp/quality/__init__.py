"""Quality: inspection plans, incoming / in-process / final inspections that hold what failed, and
first articles (打样 / 首件确认) the customer approves on their phone."""
from flask import Blueprint

from ..registry import Domain, LinkPurpose, PhotoKind, public_names, register
from ..statemachine import N_

bp = Blueprint("quality", __name__)


def _open_first_article(link):
    from .customer_link import open_first_article
    return open_first_article(link)


def _first_article_copy(link):
    from .customer_link import first_article_copy
    return first_article_copy(link)


def _order_of_first_article(article_id: int):
    """The order a first article's photos are evidence for (None when it is gone)."""
    from ..extensions import db
    from ..orders import Order
    from .models import FirstArticle
    article = db.session.get(FirstArticle, article_id)
    return db.session.get(Order, article.order_id) if article is not None else None


def _labels() -> dict:
    from .forms import DISPOSITION_LABELS, RESULT_LABELS, STAGE_LABELS
    return {"inspection_stage": STAGE_LABELS, "inspection_result": RESULT_LABELS,
            "disposition": DISPOSITION_LABELS}

DOMAIN = register(Domain(
    name="quality", labels=_labels,
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
        "inspection.started": N_("Inspection started"),
        "inspection.resolved": N_("Rejected pieces dealt with"),
        "lot.status": N_("Lot status changed"),
    },
    link_purposes=(LinkPurpose("first_article", _open_first_article, managers=("quality.inspect",),
                               copy=_first_article_copy),),
    photo_kinds=(PhotoKind("first_article", "quality.view", _order_of_first_article),),
))


def init_app(app) -> None:
    """Attach the quality pages under /quality."""
    from . import customer_link, models, signals, views  # noqa: F401  (tables, routes, the customer's page, hooks)
    app.register_blueprint(bp, url_prefix="/quality")


_PUBLIC = {
    "Inspection": "models",
    "InspectionPlan": "models",
    "FirstArticle": "models",
    "holds_for_order": "services",
    "first_article_required": "services",
    "first_article_blocks": "services",
    "FIRST_ARTICLE_CHOICES": "forms",
}
__all__ = ["bp", "DOMAIN", "init_app", *_PUBLIC]
__getattr__ = public_names(__name__, _PUBLIC)
