"""The six KPIs of the template (需求响应及时率, 交付准时率, 客户满意度, 订单成本偏差率, 资源浪费率,
边际成本) per period and customer, with trend charts and the orders behind each number."""
from flask import Blueprint

from ..registry import Domain, public_names, register

bp = Blueprint("kpi", __name__)

DOMAIN = register(Domain(
    name="kpi",
    # Costs and every customer's figures: the office roles that steer the firm (not the floor,
    # not the warehouse).
    actions={"kpi.view": frozenset({"manager", "finance", "operations", "sales", "admin"})},
))


def init_app(app) -> None:
    """Attach the KPI dashboard and its drill-down lists."""
    from . import views  # noqa: F401  (routes)
    app.register_blueprint(bp)


# What other domains may import from this one: the definitions the customer page reads for one
# customer (on-time delivery, satisfaction) and the chart that draws them.
_PUBLIC = {
    "delivery_facts": "measures",
    "delivery_measure": "measures",
    "survey_facts": "measures",
    "survey_measure": "measures",
    "Point": "chart",
    "bars": "chart",
    "month_periods": "periods",
    "measures_between": "views",
    "customer_filter": "views",
    "BadFilter": "views",
}
__all__ = ["bp", "DOMAIN", "init_app", *_PUBLIC]
__getattr__ = public_names(__name__, _PUBLIC)
