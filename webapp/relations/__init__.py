"""The customer page (客户关系): one customer whole — what is open with them now, their on-time record
and satisfaction trend (the KPIs' own definitions), the money and their history. Read only."""
from flask import Blueprint

from ..registry import Domain, public_names, register

bp = Blueprint("relations", __name__)

# No actions of its own: the page is for whoever may see the customer ("customer.view", with the
# sales reps' scope), and its money for whoever may see prices ("order.prices").
DOMAIN = register(Domain(name="relations"))


def init_app(app) -> None:
    """Attach the customer page (/customers/<id>/overview)."""
    from . import views  # noqa: F401  (routes)
    app.register_blueprint(bp)


# What other domains may import from this one: nothing but the blueprint (it reads, no one reads it).
_PUBLIC: dict[str, str] = {}
__all__ = ["bp", "DOMAIN", "init_app", *_PUBLIC]
__getattr__ = public_names(__name__, _PUBLIC)
