"""The six KPIs over a span of days, measured by the KPI dashboard's own definitions (docs/kpis.md)."""
from datetime import timedelta
from decimal import Decimal

from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import Schema, fields, validate

from ...i18n import firm_today
from ...kpi import BadFilter, customer_filter, measures_between
from ...permissions import can, require
from ..core import operation, validation_problem
from ..schemas import Day, DecimalString

DEFAULT_DAYS = 30
MAX_DAYS = 3 * 366  # three years: the dashboard's longest trend is twelve years of facts read at once


class KpiQuery(Schema):
    """The span (firm-local days, both included) and the customer."""

    date_from = Day(data_key="from", metadata={"description": "First day; 29 days before `to` when left out."})
    date_to = Day(data_key="to", metadata={"description": "Last day; today (the firm's) when left out."})
    customer_id = fields.Integer(validate=validate.Range(1, 2**31 - 1))


class ProductCostOut(Schema):
    """One product's marginal cost over the span."""

    product_id = fields.Integer()
    product = fields.String()
    units = DecimalString()
    cost = DecimalString()
    unit_cost = DecimalString(allow_none=True)


class KpiOut(Schema):
    """One KPI: numerator / denominator = value (null: no data in the span, which is not zero)."""

    key = fields.String(required=True, metadata={"description": "response, on-time, satisfaction, cost, waste "
                                                               "or marginal."})
    title = fields.String()
    numerator = DecimalString()
    denominator = DecimalString()
    value = DecimalString(allow_none=True, metadata={"description": "A rate as a fraction (0.9512), a score out of "
                                                                    "5, or money per unit (marginal, per product)."})
    extra = fields.Dict(metadata={"description": "What the dashboard says besides (e.g. surveys, orders over budget)."})
    products = fields.List(fields.Nested(ProductCostOut), metadata={"description": "marginal: per product."})


class KpisOut(Schema):
    """The KPIs the token's owner may see for the span (cost KPIs only for who may see costs)."""

    date_from = Day(data_key="from")
    date_to = Day(data_key="to")
    customer_id = fields.Integer(allow_none=True)
    kpis = fields.List(fields.Nested(KpiOut))


def _plain(value):
    """An extra figure as JSON carries it exactly (decimals as strings)."""
    return str(value) if isinstance(value, Decimal) else value


@operation("GET", "/kpis", tag="KPIs", summary="Get the six KPIs over a span", query=KpiQuery, response=KpisOut)
def get_kpis(query):
    """The KPIs over the days from `from` to `to` (default: the last 30 days), for every customer the
    token's owner may see or one of them; the same permission and definitions as the KPI dashboard."""
    require("kpi.view")
    last = query.get("date_to") or firm_today()
    first = query.get("date_from") or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise validation_problem({"from": [_("“from” is after “to”.")]}, 400, "bad-request")
    if (last - first).days >= MAX_DAYS:
        raise validation_problem({"from": [_("Ask for at most %(n)s days at once.", n=MAX_DAYS)]}, 400, "bad-request")
    try:
        customer, customers = customer_filter(query.get("customer_id"))
    except BadFilter as error:
        raise validation_problem({"customer_id": [str(error)]}, 400, "bad-request") from None
    rows = []
    costs = can(current_user, "costsheet.view")  # the dashboard's sees_costs()
    for kpi, measure, products in measures_between(first, last, customers):
        extra = {name: _plain(value) for name, value in measure.extra.items()}
        if kpi.key == "waste" and not costs:  # the material lost is money: scrap in pieces only, as on the page
            extra = {}
        rows.append({"key": kpi.key, "title": str(kpi.title), "numerator": measure.numerator,
                     "denominator": measure.denominator, "value": measure.value, "extra": extra,
                     "products": products})
    return {"date_from": first, "date_to": last, "customer_id": customer.id if customer else None,
            "kpis": rows}
