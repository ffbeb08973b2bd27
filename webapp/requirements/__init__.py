"""Stage 1: the customer requirement record (客户需求记录表)."""
from flask import Blueprint

from ..permissions import OFFICE
from ..registry import Domain, LinkPurpose, public_names, register
from ..statemachine import N_
from . import lifecycle

bp = Blueprint("requirements", __name__)


def _labels() -> dict:
    from .forms import PRIORITY_CHOICES
    return {"priority": dict(PRIORITY_CHOICES)}


def _open_confirm_link(link):
    from .customer_link import open_requirement
    return open_requirement(link)


def _requirement_copy(link):
    from .customer_link import requirement_copy
    return requirement_copy(link)


DOMAIN = register(Domain(
    name="requirements", machines=(lifecycle.MACHINE,), labels=_labels,
    actions={"requirement.view": OFFICE, "requirement.create": frozenset({"sales"}),
             "requirement.edit": frozenset({"sales"})},
    state_rules={"requirement.edit": lambda r: r.status in lifecycle.EDITABLE},
    link_purposes=(LinkPurpose("requirement_confirm", _open_confirm_link, copy=_requirement_copy),),
    events={"requirement.created": N_("Requirement written down"),
            "requirement.edited": N_("Requirement edited"),
            "requirement.attachment": N_("File attached"),
            "requirement.link_renewed": N_("New customer link"),
            "requirement.link_revoked": N_("Customer link withdrawn")},
))


def init_app(app) -> None:
    """Attach the requirement pages under /requirements, and the customer's confirm pages to the
    customer links' blueprint (before it is registered: public comes later in webapp.domains())."""
    from . import customer_link, export_views, models, views  # noqa: F401  (routes and tables)
    app.register_blueprint(bp, url_prefix="/requirements")


# What other domains may import from this one: `from ..requirements import <name>` (tests/test_architecture.py
# refuses any other reach into the package).
_PUBLIC = {
    "lifecycle": "lifecycle",
    "Requirement": "models",
    "RequirementRound": "models",
    "register_status": "work",
    "RequirementForm": "forms",  # the API checks a new record with the page's own form
    "services": "services",
}
__all__ = ["bp", "DOMAIN", "init_app", *_PUBLIC]
__getattr__ = public_names(__name__, _PUBLIC)
