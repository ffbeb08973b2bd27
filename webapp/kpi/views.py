"""The KPI dashboard (/kpi/), one drill-down list per KPI with its XLSX and CSV, the lists across
orders (late, over budget) and a late order's delay causes. Read only: GET everywhere."""
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Callable

from flask import abort, request, url_for
from flask_babel import format_decimal, format_percent, get_locale
from flask_babel import gettext as _
from flask_babel import pgettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from .. import kept, spreadsheets
from ..costing import cause_totals
from ..customers import Customer, Product, is_scoped, scope_customers
from ..extensions import db
from ..htmx import render
from ..i18n import firm_today
from ..loading import load
from ..wallclock import utcnow
from ..orders import Order
from ..permissions import can, require
from ..production import Anomaly, WorkOrder
from ..shipping import DeliveryReceipt, ReceiptLine, Shipment, ShipmentEvent, ShipmentLine, transit
from . import bp, measures
from .chart import Point, bars
from .periods import KIND_LABELS, KINDS, BadPeriod, Period, parse, trend, window

# Query values are ids and period keys: anything longer is not one of ours.
MAX_PARAM = 40


@dataclass(frozen=True)
class Kpi:
    """One KPI: its key in URLs, its name, how its facts are read and measured."""

    key: str
    title: str
    facts: Callable
    measure: Callable
    by_date: bool = False  # facts read by firm-local dates (the promised date), not instants


KPIS = {k.key: k for k in (
    Kpi("response", _l("Requirement response timeliness (需求响应及时率)"), measures.response_facts,
        measures.response_measure),
    Kpi("on-time", _l("On-time delivery (交付准时率)"), measures.delivery_facts, measures.delivery_measure, True),
    Kpi("satisfaction", _l("Customer satisfaction (客户满意度)"), measures.survey_facts, measures.survey_measure),
    Kpi("cost", _l("Order cost deviation (订单成本偏差率)"), measures.cost_facts, measures.cost_measure),
    Kpi("waste", _l("Waste (资源浪费率)"), measures.work_facts, measures.waste_measure),
    Kpi("marginal", _l("Marginal cost per unit (边际成本)"), measures.work_facts, measures.marginal_measure),
)}


# KPIs and lists made of what orders cost: only for who may see costs (costing's "costsheet.view":
# finance, the manager and the roles the firm allows).
COST_KEYS = frozenset({"cost", "marginal", "over-budget", "causes"})


def sees_costs() -> bool:
    """Whether the current user may see cost data."""
    return can(current_user, "costsheet.view")


class BadFilter(ValueError):
    """A filter value that names nothing (a customer that does not exist or is not the user's)."""


@dataclass
class Filters:
    """What the request asks for: the period, the customers in scope and the product of the cost chart."""

    period: Period
    customer: Customer | None
    customers: list[int] | None  # None: every customer
    product_id: int | None

    def args(self, **extra) -> dict:
        """The query string that keeps these filters on a link."""
        out = {"period": self.period.kind, "at": self.period.key}
        if self.customer is not None:
            out["customer"] = self.customer.id
        if self.product_id is not None:
            out["product"] = self.product_id
        out.update(extra)
        return out


def _int_param(name: str) -> int | None:
    """A positive id from the query string, None when absent; BadFilter when it is not one."""
    text = (request.args.get(name) or "").strip()
    if not text:
        return None
    if len(text) > MAX_PARAM or not text.isascii() or not text.isdigit() or int(text) == 0 or int(text) > 2**31 - 1:
        raise BadFilter(_("“%(value)s” is not a valid choice.", value=text[:MAX_PARAM]))
    return int(text)


def filters() -> Filters:
    """The filters of this request (BadPeriod or BadFilter with a message)."""
    for name in ("period", "at", "customer", "product"):
        if len(request.args.get(name) or "") > MAX_PARAM or "\x00" in (request.args.get(name) or ""):
            raise BadFilter(_("The filter is too long or holds characters it may not."))
    period = parse(request.args.get("period"), request.args.get("at"))
    customer, customers = customer_filter(_int_param("customer"))
    return Filters(period, customer, customers, _int_param("product"))


def customer_filter(customer_id: int | None) -> tuple[Customer | None, list[int] | None]:
    """The customer asked for and the customers whose figures count (None: every customer); a sales
    rep who sees only their own customers sees only their figures. BadFilter for a customer that
    does not exist or is not theirs."""
    customer = None
    own = None
    if is_scoped(current_user):
        own = list(db.session.scalars(db.select(Customer.id).where(scope_customers(current_user, Customer.id))))
    if customer_id is not None:
        customer = db.session.get(Customer, customer_id)
        if customer is None or (own is not None and customer_id not in own):
            raise BadFilter(_("There is no such customer."))
    return customer, ([customer.id] if customer is not None else own)


def bad_request(message: str):
    """The dashboard's form with the message, answered 400 (never a 500)."""
    return render("kpi/dashboard.html", status_code=400, problem=message, cards=[], kinds=_kind_choices(),
                  customers=_customer_choices(), f=None, args=dict(request.args))


def _kind_choices():
    return [(k, KIND_LABELS[k]) for k in KINDS]


def _customer_choices():
    return db.session.execute(db.select(Customer.id, Customer.name).where(scope_customers(current_user, Customer.id))
                              .order_by(Customer.name)).all()


def read_facts(kpi: Kpi, first: Period, last: Period, f: Filters) -> list:
    """kpi's facts from the start of first to the end of last, for f's customers."""
    if kpi.by_date:
        return kpi.facts(first.first, last.last, f.customers)
    return kpi.facts(first.start, last.end, f.customers)


# --- how numbers read ---------------------------------------------------------------------------

def pct(value) -> str:
    """A rate in the user's locale to 0.1 % ("—" when there is none)."""
    return "—" if value is None else format_percent(value, "#,##0.0%")


def num(value, places: int = 2) -> str:
    """A number in the user's locale (grouped, up to places decimals)."""
    if value is None:
        return "—"
    return format_decimal(value, "#,##0" + ("." + "#" * places if places else ""))


def score(value) -> str:
    """A mean score, two decimals (4.00)."""
    return "—" if value is None else format_decimal(value, "#,##0.00")


def yuan(value) -> str:
    """An amount of money, two decimals."""
    return "—" if value is None else "¥" + format_decimal(value, "#,##0.00")


def headline(key: str, m: measures.Measure, f: Filters, product: str = "") -> tuple[str, str]:
    """The big number and what it counts, in words."""
    if m.value is None and key != "marginal" or key == "marginal" and m.denominator == 0:
        return "", _("No data in this period.")
    if key == "response":
        return pct(m.value), _("%(num)s of %(den)s requirement records sent to the customer within 24 working hours "
                               "of being taken down.", num=num(m.numerator, 0), den=num(m.denominator, 0))
    if key == "on-time":
        return pct(m.value), _("%(num)s of %(den)s order lines due delivered whole by the originally promised date.",
                               num=num(m.numerator, 0), den=num(m.denominator, 0))
    if key == "satisfaction":
        return (_("%(score)s / 5", score=score(m.value)),
                _("Mean of %(den)s ratings from %(surveys)s surveys (sum %(num)s); %(satisfied)s of the surveys "
                  "average 4 or more.", den=num(m.denominator, 0), surveys=m.extra["surveys"],
                  num=num(m.numerator, 0), satisfied=pct(m.extra["satisfied"])))
    if key == "cost":
        return pct(m.value), _("Deviation %(num)s (actual against budget, either way) of a budget of %(den)s over "
                               "%(orders)s finalised cost sheets; %(over)s orders over budget (%(share)s).",
                               num=yuan(m.numerator), den=yuan(m.denominator), orders=m.extra["orders"],
                               over=m.extra["over"], share=pct(m.extra["over_share"]))
    if key == "waste" and not sees_costs():
        return pct(m.value), _("%(num)s pieces scrapped of %(den)s made.", num=num(m.numerator, 3),
                               den=num(m.denominator, 3))
    if key == "waste":
        return pct(m.value), _("%(num)s pieces scrapped of %(den)s made; material lost %(rate)s (%(lost)s of %(issued)s "
                               "issued beyond what the good pieces hold by the BOM).", num=num(m.numerator, 3),
                               den=num(m.denominator, 3), rate=pct(m.extra["material_rate"]),
                               lost=yuan(m.extra["lost"]), issued=yuan(m.extra["issued"]))
    return (yuan(m.value) if m.value is not None else "—",
            _("%(product)s: variable cost %(num)s (material, labour, outsourcing) over %(den)s good pieces.",
              product=product, num=yuan(m.numerator), den=num(m.denominator, 3)))


def chart_text(key: str, value) -> str:
    """A chart point's value in words."""
    if value is None:
        return _("no data")
    if key == "satisfaction":
        return score(value)
    if key == "marginal":
        return yuan(value)
    return pct(value)


def card(kpi: Kpi, f: Filters, facts: list, periods: list[Period], products: dict) -> dict:
    """One KPI's card: the chosen period's number and words, its trend chart and values."""
    product = ""
    buckets = measures.per_period(facts, periods)
    if kpi.key == "marginal":
        chosen = f.product_id
        rows = measures.by_product(buckets[f.period]) or measures.by_product(facts)
        if chosen is None and rows:
            chosen = rows[0]["product_id"]
        product = products.get(chosen, "")
        measure = lambda subset: measures.marginal_measure(subset, chosen) if chosen else measures.Measure(  # noqa: E731
            Decimal(0), Decimal(0), None)
    else:
        measure = kpi.measure
    values = [(p, measure(buckets[p])) for p in periods]
    current = values[-1][1]
    big, words = headline(kpi.key, current, f, product)
    points = [Point(p.short, m.value, chart_text(kpi.key, m.value), p == f.period) for p, m in values]
    title = _("%(kpi)s, the last %(count)d periods", kpi=kpi.title, count=len(periods))
    if kpi.key == "marginal" and product:
        title = _("%(kpi)s of %(product)s, the last %(count)d periods", kpi=kpi.title, product=product,
                  count=len(periods))
    desc = pgettext("list separator", "; ").join(
        _("%(label)s: %(value)s", label=p.key, value=pt.text) for p, pt in zip(periods, points))
    return {"kpi": kpi, "big": big, "words": words, "measure": current, "chart": bars(points, title, desc, f"c-{kpi.key}"),
            "rows": [(p.key, pt.text) for p, pt in zip(periods, points)], "title": title,
            "product": product, "product_rows": (measures.by_product(buckets[f.period])
                                                 if kpi.key == "marginal" else [])}


@bp.get("/kpi/")
@login_required
def dashboard():
    """The six KPIs for a period (this month unless chosen) and a customer, with their trends."""
    require("kpi.view")
    try:
        f = filters()
    except (BadPeriod, BadFilter) as problem:
        return bad_request(str(problem))
    costs = sees_costs()
    # A repeat view of the same period, filters and language is answered from the cards kept by
    # this process while nothing they are made of changed (kept.py says how that is known).
    key = (f.period, f.customer.id if f.customer else None, tuple(sorted(f.customers)) if f.customers is not None else None,
           f.product_id, costs, str(get_locale()))
    version, begun = kept.version(), utcnow()
    cards = kept.get("kpi_cards", key, version)
    if cards is None:
        cards = dashboard_cards(f, costs)
        kept.put("kpi_cards", key, version, begun, cards)
    return render("kpi/dashboard.html", cards=cards, f=f, kinds=_kind_choices(), customers=_customer_choices(),
                  problem=None, args=f.args(), pct=pct, yuan=yuan, num=num, costs=costs)


def dashboard_cards(f: Filters, costs: bool) -> list[dict]:
    """The dashboard's cards for the filters: each KPI the user may see over the trend's periods."""
    periods = trend(f.period)
    products = {pid: f"{model} {name}" for pid, model, name in db.session.execute(
        db.select(Product.id, Product.model, Product.name)).all()}
    cards, work = [], None
    for kpi in KPIS.values():
        if kpi.key in COST_KEYS and not costs:
            continue
        if kpi.facts is measures.work_facts:
            work = work if work is not None else read_facts(kpi, periods[0], periods[-1], f)
            facts = work
        else:
            facts = read_facts(kpi, periods[0], periods[-1], f)
        cards.append(card(kpi, f, facts, periods, products))
    return cards


def measures_between(first: date, last: date, customers: list[int] | None) -> list[tuple[Kpi, measures.Measure, list]]:
    """Each KPI the current user may see, measured over the firm-local days first to last (both
    included) for customers (None: all), as (KPI, measure, per-product rows of the marginal cost)."""
    start, end = window(first, last)
    out, work = [], None
    for kpi in KPIS.values():
        if kpi.key in COST_KEYS and not sees_costs():
            continue
        if kpi.facts is measures.work_facts:
            work = work if work is not None else kpi.facts(start, end, customers)
            facts = work
        else:
            facts = kpi.facts(first, last, customers) if kpi.by_date else kpi.facts(start, end, customers)
        if kpi.key == "marginal":
            out.append((kpi, measures.marginal_measure(facts), measures.by_product(facts)))
        else:
            out.append((kpi, kpi.measure(facts), []))
    return out


# --- drill-down lists ---------------------------------------------------------------------------

def _order_link(order_id, number):
    return (number or _("Order #%(id)s", id=order_id), url_for("orders.detail", order_id=order_id) if order_id else None)


def _work_link(fact):
    """A work order's number, linked to its order's production plan (a stocking one has no order)."""
    return (fact.number, url_for("production.plan", order_id=fact.order_id) if fact.order_id else None)


def table(key: str, facts: list, only: str | None = None) -> tuple[list[str], list[list], list[list]]:
    """A KPI's facts as a table: headers, the raw rows (for XLSX and CSV), and the rows as shown
    (each cell text and an optional link)."""
    if key == "response":
        headers = [_("Requirement"), _("Customer"), _("Product"), _("Taken down"), _("Due by"), _("First sent"),
                   _("On time")]
        raw = [[f"#{x.requirement_id}", x.customer, x.product, x.created_at, x.due_at, x.sent_at,
                _("yes") if x.on_time else _("no")] for x in facts]
        links = [[(f"#{x.requirement_id}", url_for("requirements.detail", req_id=x.requirement_id))] for x in facts]
    elif key in ("on-time", "late"):
        if key == "late":
            facts = [x for x in facts if not x.on_time]
        headers = [_("Order"), _("Customer"), _("Line"), _("Quantity"), _("Promised (original)"), _("Promised now"),
                   _("Delivered whole"), _("Days late"), _("Delay causes")]
        raw = [[x.order_number or f"#{x.order_id}", x.customer, x.line, x.quantity, x.promised, x.current,
                x.delivered_on, x.days_late, ""] for x in facts]
        links = [[_order_link(x.order_id, x.order_number)] + [None] * 7
                 + [(_("causes"), url_for("kpi.delays", order_id=x.order_id)) if not x.on_time else None]
                 for x in facts]
    elif key == "satisfaction":
        headers = [_("Order"), _("Customer"), _("Requirement response"), _("Delivery timeliness"),
                   _("Service quality"), _("Mean"), _("Suggestions")]
        raw = [[x.order_number or f"#{x.order_id}", x.customer, x.requirement_response, x.delivery_timeliness,
                x.service_quality, x.average, x.suggestions] for x in facts]
        links = [[_order_link(x.order_id, x.order_number)] for x in facts]
    elif key in ("cost", "over-budget"):
        if key == "over-budget":
            facts = sorted((x for x in facts if x.over), key=lambda x: -x.variance)
        headers = [_("Order"), _("Customer"), _("Budget"), _("Actual"), _("Variance"), _("Variance rate")]
        raw = [[x.order_number or f"#{x.order_id}", x.customer, x.budget, x.actual, x.variance, x.rate]
               for x in facts]
        links = [[(x.order_number or f"#{x.order_id}", url_for("costing.sheet", order_id=x.order_id))] for x in facts]
    elif key == "waste":
        headers = [_("Work order"), _("Order"), _("Product"), _("Good"), _("Scrap"), _("Scrap rate"),
                   _("Material issued"), _("Material by the BOM"), _("Material lost")]
        raw = [[x.number, x.order_number or "", x.product, x.good, x.scrap, measures.ratio(x.scrap, x.good + x.scrap),
                x.issued_value, x.standard_value, x.issued_value - x.standard_value] for x in facts]
        links = [[_work_link(x), _order_link(x.order_id, x.order_number) if x.order_id else None] for x in facts]
    else:  # marginal
        headers = [_("Work order"), _("Product"), _("Good"), _("Direct material"), _("Direct labour"),
                   _("Outsourced operations"), _("Variable cost"), _("Per unit")]
        raw = [[x.number, x.product, x.good, x.material, x.labour, x.outsourced, x.variable,
                measures.ratio(x.variable, x.good, measures.FEN)] for x in facts if x.product_id is not None]
        links = [[_work_link(x)] for x in facts if x.product_id is not None]
    return headers, raw, links


RATE_COLUMNS = {"cost": {5}, "over-budget": {5}, "waste": {5}}
TITLES = {"late": _l("Late order lines"), "over-budget": _l("Orders over budget")}
SOURCES = {"late": "on-time", "over-budget": "cost"}


def shown(key: str, raw: list[list], links: list[list]) -> list[list[tuple[str, str | None]]]:
    """The rows as the page shows them: each cell's text in the user's locale and its link."""
    out = []
    for row, row_links in zip(raw, links):
        cells = []
        for index, value in enumerate(row):
            link = row_links[index] if index < len(row_links) else None
            if link is not None:
                cells.append(link)
                continue
            if value is None or value == "":
                text = "—" if value is None else ""
            elif index in RATE_COLUMNS.get(key, ()):
                text = pct(value)
            elif isinstance(value, date):  # a date or a time: the template formats it in the firm's zone
                cells.append(("", None, value))
                continue
            elif isinstance(value, Decimal | int) and not isinstance(value, bool):
                text = num(value, 3)
            else:
                text = str(value)
            cells.append((text, None))
        out.append(cells)
    return out


@bp.get("/kpi/<key>")
@login_required
def drill(key: str):
    """The records behind a KPI's number for the period (and customer), as a page, XLSX or CSV."""
    require("kpi.view")
    if key not in KPIS and key not in SOURCES:
        abort(404)
    if key in COST_KEYS and not sees_costs():
        abort(403)
    try:
        f = filters()
    except (BadPeriod, BadFilter) as problem:
        return bad_request(str(problem))
    kpi = KPIS[SOURCES.get(key, key)]
    facts = read_facts(kpi, f.period, f.period, f)
    if key == "marginal" and f.product_id is not None:
        facts = [x for x in facts if x.product_id == f.product_id]
    headers, raw, links = table(key, facts)
    if key == "waste" and not sees_costs():  # the pieces, not what the material cost
        headers, raw = headers[:6], [row[:6] for row in raw]
    title = str(TITLES.get(key, kpi.title))
    fmt = request.args.get("format", "")
    name = f"{title} {f.period.key}" + (f" {f.customer.abbreviation}" if f.customer else "")
    if fmt == "xlsx":
        formats = {i: "0.0%" for i in RATE_COLUMNS.get(key, ())}
        return spreadsheets.xlsx_response(spreadsheets.workbook(title, headers, raw, number_formats=formats),
                                          f"{name}.xlsx")
    if fmt == "csv":
        return spreadsheets.csv_response(headers, raw, f"{name}.csv")
    if fmt:
        return bad_request(_("Choose a download as XLSX or CSV."))
    return render("kpi/drill.html", key=key, kpi=kpi, title=title, f=f, headers=headers,
                  rows=shown(key, raw, links), args=f.args(), measure=kpi.measure(facts) if key != "marginal" else None)


def causes_of(f: Filters) -> list[dict]:
    """The causes that cost most in the period, for the customers in scope (costing.cause_totals)."""
    if f.customers is None:
        totals = cause_totals(f.period.first, f.period.last)
    else:  # one customer, or a sales rep's own: their totals added up per cause
        totals = [t for cid in f.customers for t in cause_totals(f.period.first, f.period.last, customer_id=cid)]
    merged: dict[int, dict] = {}
    for t in totals:
        row = merged.setdefault(t.cause.id, {"cause": t.cause, "amount": Decimal("0"), "orders": 0, "lines": 0})
        row["amount"] += t.amount
        row["orders"] += t.orders
        row["lines"] += t.lines
    return sorted(merged.values(), key=lambda r: (-r["amount"], r["cause"].position, r["cause"].id))


@bp.get("/kpi/causes")
@login_required
def causes():
    """The causes of cost variances that cost most in the period, across orders (XLSX and CSV too)."""
    require("kpi.view")
    if not sees_costs():
        abort(403)
    try:
        f = filters()
    except (BadPeriod, BadFilter) as problem:
        return bad_request(str(problem))
    rows = causes_of(f)
    headers = [_("Cause"), _("Amount"), _("Orders"), _("Cost lines")]
    raw = [[r["cause"].label, r["amount"], r["orders"], r["lines"]] for r in rows]
    title = _("Causes that cost most")
    name = f"{title} {f.period.key}" + (f" {f.customer.abbreviation}" if f.customer else "")
    fmt = request.args.get("format", "")
    if fmt == "xlsx":
        return spreadsheets.xlsx_response(spreadsheets.workbook(title, headers, raw,
                                                                number_formats={1: spreadsheets.MONEY_FORMAT}),
                                          f"{name}.xlsx")
    if fmt == "csv":
        return spreadsheets.csv_response(headers, raw, f"{name}.csv")
    if fmt:
        return bad_request(_("Choose a download as XLSX or CSV."))
    shown_rows = [[(str(r[0]), None), (yuan(r[1]), None), (num(r[2], 0), None), (num(r[3], 0), None)] for r in raw]
    return render("kpi/drill.html", key="causes", kpi=KPIS["cost"], title=title, f=f, headers=headers,
                  rows=shown_rows, args=f.args(), measure=None)


@bp.get("/kpi/orders/<int:order_id>/delays")
@login_required
def delays(order_id: int):
    """Why an order was late: its work orders' anomalies (with their effect on the date), the
    amendments that moved the date, and failed delivery attempts."""
    order = load(Order, order_id, "kpi.view")
    anomalies = db.session.execute(
        db.select(Anomaly, WorkOrder.number).join(WorkOrder, WorkOrder.id == Anomaly.work_order_id)
        .where(WorkOrder.order_id == order.id).order_by(Anomaly.reported_at)).all()
    attempts = db.session.execute(
        db.select(ShipmentEvent, Shipment.number).join(Shipment, Shipment.id == ShipmentEvent.shipment_id)
        .where(Shipment.order_id == order.id, ShipmentEvent.kind == "attempt_failed")
        .order_by(ShipmentEvent.occurred_at)).all()
    # Goods signed for as damaged or short do not count as delivered: the customer still waits for them.
    refused = db.session.execute(
        db.select(ReceiptLine, Shipment.number, DeliveryReceipt.signed_at)
        .join(DeliveryReceipt, DeliveryReceipt.id == ReceiptLine.receipt_id)
        .join(ShipmentLine, ShipmentLine.id == ReceiptLine.shipment_line_id)
        .join(Shipment, Shipment.id == ShipmentLine.shipment_id)
        .where(Shipment.order_id == order.id, ReceiptLine.condition != "ok")
        .order_by(DeliveryReceipt.signed_at)).all()
    original = measures.original_dates([order.id]).get(order.id, order.delivery_date)
    delivered = [x for x in measures.delivery_facts(original, original, [order.customer_id])
                 if x.order_id == order.id] if original else []
    return render("kpi/delays.html", order=order, anomalies=anomalies, attempts=attempts, original=original,
                  lines=delivered, reasons=transit.REASON_LABELS, today=firm_today(), refused=refused)
