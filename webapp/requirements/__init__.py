"""Stage 1: the customer requirement record (客户需求记录表)."""
from flask import Blueprint

from ..permissions import OFFICE
from ..registry import Domain, LinkPurpose, register
from ..statemachine import N_
from . import lifecycle

bp = Blueprint("requirements", __name__)


def _labels() -> dict:
    from .forms import PRIORITY_CHOICES
    return {"priority": dict(PRIORITY_CHOICES)}


def _open_confirm_link(link):
    from ..public.views import open_requirement
    return open_requirement(link)


DOMAIN = register(Domain(
    name="requirements", machines=(lifecycle.MACHINE,), labels=_labels,
    actions={"requirement.view": OFFICE, "requirement.create": frozenset({"sales"}),
             "requirement.edit": frozenset({"sales"})},
    state_rules={"requirement.edit": lambda r: r.status in lifecycle.EDITABLE},
    link_purposes=(LinkPurpose("requirement_confirm", _open_confirm_link),),
    events={"requirement.created": N_("Requirement written down"),
            "requirement.edited": N_("Requirement edited"),
            "requirement.attachment": N_("File attached"),
            "requirement.link_renewed": N_("New customer link"),
            "requirement.link_revoked": N_("Customer link withdrawn")},
))


def init_app(app) -> None:
    """Attach the requirement pages under /requirements."""
    from . import models, views  # noqa: F401  (routes and tables)
    app.register_blueprint(bp, url_prefix="/requirements")
