"""What happens to a quotation (报价): its cost estimate per category from the BOM, the routing and
the rates (and the firm's overhead rule), the prices from the target margin, and its acceptance,
which makes the draft order with the quotation's prices and the estimate as its budget. Every
status change goes through quote_lifecycle.MACHINE."""
import json
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from .. import audit
from ..db_types import money
from ..extensions import db
from ..i18n import firm_today
from ..numbering import next_yearly_number
from ..statemachine import N_, TransitionError
from ..wallclock import utcnow
from ..workflow import transition
from . import quote_lifecycle as lifecycle
from .quote_models import Quote, QuoteCost, QuoteLine

CATEGORIES = ("material", "labour", "overhead", "logistics", "aftersales")
# The categories the app computes; logistics and after-sales are the user's estimates (0 until typed).
COMPUTED = ("material", "labour", "overhead")
SIXTY = Decimal("60")


@dataclass
class Estimate:
    """One category as computed: its amount, what it came from, what was missing."""

    amount: Decimal = Decimal("0")
    detail: list = field(default_factory=list)
    missing: list = field(default_factory=list)

    def lack(self, message: str, **params) -> None:
        """Name something the computation could not find (an English message id and its values)."""
        entry = [message, {k: str(v) for k, v in params.items()}]
        if entry not in self.missing:
            self.missing.append(entry)


def material_rate(material, depth: int = 0) -> tuple[Decimal | None, str]:
    """What one stock unit of a material costs for an estimate, and where that comes from: the
    moving average of the firm's own stock, else the last price paid; customer-supplied material
    (客供料) costs the firm nothing; a sub-assembly made here with none of these costs its own BOM
    and routing; None when nothing is known."""
    if material.customer_id is not None:
        return Decimal("0"), "customer_supplied"
    if material.avg_cost > 0:  # the moving average, or its last value when the stock ran out
        return Decimal(material.avg_cost), "moving_average"
    if material.last_cost > 0:
        return Decimal(material.last_cost), "last_price"
    if material.product_id is not None and depth < MAX_LEVELS:
        made = made_unit_cost(material.product_id, depth + 1)
        if made is not None:
            return made, "made_here"
    return None, "missing"


MAX_LEVELS = 10  # deeper than any real product (stock.bom refuses loops)


def made_unit_cost(product_id: int, depth: int) -> Decimal | None:
    """What one unit of a sub-assembly made here costs, from its own BOM and routing (material and
    labour; its overhead is carried by the product it goes into); None when anything is unknown."""
    from ..production import routing
    from ..stock import bom as boms
    version = boms.current_bom(product_id)
    steps = routing.routing_of(product_id)
    if version is None or not version.lines or not steps:
        return None
    total = Decimal("0")
    for line in version.lines:
        rate, _source = material_rate(line.material, depth)
        if rate is None:
            return None
        total += line.need_for(Decimal("1")) * rate
    for step in steps:
        if step.piece_rate is not None:
            total += Decimal(step.piece_rate)
        elif step.work_centre is not None and step.work_centre.hourly_rate > 0 and not step.outsourced:
            total += Decimal(step.minutes_per_piece) * Decimal(step.work_centre.hourly_rate) / SIXTY
        else:
            return None
    return total.quantize(Decimal("0.000001"))


def _fmt(value: Decimal) -> str:
    """A decimal as stored in the detail rows (no exponent, trailing zeros dropped)."""
    text = format(Decimal(value).normalize(), "f")
    return text


def compute(quote: Quote, typed: dict[str, Decimal | None] | None = None) -> tuple[dict[str, Estimate], dict[int, Decimal]]:
    """The estimate per category for the quotation's lines, and each line's direct cost (material
    and labour, what the indirect costs are shared by). typed: the user's values per category, which
    the overhead's direct-cost base uses where the computation lacked something."""
    from ..production import routing
    from ..stock import bom as boms
    from .overhead import estimate as overhead_estimate
    from .overhead import rules as overhead_rules
    typed = typed or {}
    material, labour, overhead = Estimate(), Estimate(), Estimate()
    direct: dict[int, Decimal] = {}
    machine_minutes = labour_minutes = Decimal("0")
    hours_known = True
    for line in quote.lines:
        product, quantity = line.product, Decimal(line.quantity)
        line_direct = Decimal("0")
        version = boms.current_bom(product.id)
        if version is None or not version.lines:
            material.lack(N_("%(model)s has no bill of materials: its material cost is unknown."), model=product.model)
        else:
            for bom_line in version.lines:
                need = bom_line.need_for(quantity)
                rate, source = material_rate(bom_line.material)
                row = {"line": line.position, "model": product.model, "what": f"{bom_line.material.code} {bom_line.material.name}",
                       "per": _fmt(bom_line.quantity_per), "scrap": _fmt(bom_line.scrap_percent),
                       "quantity": _fmt(need), "unit": bom_line.material.stock_unit, "source": source,
                       "rate": None if rate is None else _fmt(rate), "amount": None}
                if rate is None:
                    material.lack(N_("%(material)s has no cost: none of it is valued in stock and no price was paid yet."),
                                  material=row["what"])
                else:
                    amount = money(need * rate)
                    row["amount"] = str(amount)
                    material.amount += amount
                    line_direct += amount
                material.detail.append(row)
        steps = routing.routing_of(product.id)
        if not steps:
            labour.lack(N_("%(model)s has no routing: its labour and hours are unknown."), model=product.model)
            hours_known = False
        for step in steps:
            minutes = Decimal(step.minutes_per_piece) * quantity
            centre = step.work_centre
            row = {"line": line.position, "model": product.model, "what": f"{step.position}. {step.name}",
                   "centre": centre.name if centre is not None else "", "minutes": _fmt(step.minutes_per_piece),
                   "quantity": _fmt(quantity), "source": "", "rate": None, "amount": None}
            if not step.outsourced:
                labour_minutes += minutes
                if centre is not None:
                    machine_minutes += minutes
            if step.piece_rate is not None:
                amount = money(Decimal(step.piece_rate) * quantity)
                row.update(source="outsourced" if step.outsourced else "piece_rate", rate=_fmt(step.piece_rate))
            elif centre is not None and centre.hourly_rate > 0 and not step.outsourced:
                amount = money(minutes * Decimal(centre.hourly_rate) / SIXTY)
                row.update(source="hourly_rate", rate=_fmt(centre.hourly_rate))
            elif step.outsourced:
                labour.lack(N_("The outsourced step “%(step)s” of %(model)s has no price per piece."),
                            step=step.name, model=product.model)
                labour.detail.append(row)
                continue
            else:
                labour.lack(N_("Step “%(step)s” of %(model)s has neither a piece rate nor a work-centre hourly rate."),
                            step=step.name, model=product.model)
                labour.detail.append(row)
                continue
            row["amount"] = str(amount)
            labour.amount += amount
            line_direct += amount
            labour.detail.append(row)
        direct[line.id if line.id is not None else -line.position] = line_direct
    machine_hours, labour_hours = machine_minutes / SIXTY, labour_minutes / SIXTY
    # The direct-cost base of the overhead: what counts for material and labour (typed or computed).
    base = []
    for key, computed in (("material", material), ("labour", labour)):
        base.append(typed.get(key) if typed.get(key) is not None else (None if computed.missing else computed.amount))
    if not overhead_rules():
        overhead.lack(N_("The firm has no overhead rule yet: set one, or type the overhead by hand."))
    elif not hours_known:
        overhead.lack(N_("The hours are unknown without a routing, so the overhead cannot be computed."))
    elif None in base:
        overhead.lack(N_("The overhead needs the direct material and direct labour first."))
    else:
        direct_cost = base[0] + base[1]
        overhead.amount = money(overhead_estimate(machine_hours.quantize(Decimal("0.0001")),
                                                  labour_hours.quantize(Decimal("0.0001")), direct_cost))
        overhead.detail.append({"machine_hours": _fmt(machine_hours.quantize(Decimal("0.01"))),
                                "labour_hours": _fmt(labour_hours.quantize(Decimal("0.01"))),
                                "direct_cost": str(money(direct_cost)), "amount": str(overhead.amount)})
    return ({"material": material, "labour": labour, "overhead": overhead,
             "logistics": Estimate(), "aftersales": Estimate()}, direct)


def price_from_margin(unit_cost: Decimal, margin_pct: Decimal) -> Decimal:
    """The unit price whose gross margin on the price is margin_pct: cost / (1 − margin)."""
    return money(unit_cost / (1 - Decimal(margin_pct) / 100))


def reprice(quote: Quote, direct: dict[int, Decimal]) -> None:
    """Each line's unit cost (its share of the whole estimate, shared by direct cost, or by quantity
    when no direct cost is known) and its price: typed, else from the target margin."""
    total = quote.cost_total
    keys = [line.id if line.id is not None else -line.position for line in quote.lines]
    weights = [direct.get(k, Decimal("0")) for k in keys]
    if sum(weights) <= 0:
        weights = [Decimal(line.quantity) for line in quote.lines]
    whole = sum(weights)
    for line, weight in zip(quote.lines, weights):
        unit_cost = None
        if total is not None and whole > 0 and line.quantity:
            unit_cost = total * weight / whole / Decimal(line.quantity)
        line.unit_cost = None if unit_cost is None else money(unit_cost)
        if line.typed_price is not None:
            line.unit_price = line.typed_price
        elif unit_cost is not None and quote.target_margin is not None:
            line.unit_price = price_from_margin(unit_cost, quote.target_margin)
        else:
            line.unit_price = None


def estimate(quote: Quote) -> None:
    """Compute the estimate again from today's BOMs, routings and rates (a draft only: a sent
    quotation keeps the numbers it was sent with), keeping what the user typed, and reprice."""
    if quote.status not in lifecycle.EDITABLE:
        raise TransitionError(409, N_("Only a draft quotation is estimated again."))
    typed = {c.category: c.typed for c in quote.costs}
    db.session.flush()  # the lines' ids, by which the direct costs are kept
    found, direct = compute(quote, typed)
    costs = quote.cost_by
    for position, category in enumerate(CATEGORIES, start=1):
        cost = costs.get(category)
        if cost is None:
            cost = QuoteCost(position=position, category=category)
            quote.costs.append(cost)
        result = found[category]
        cost.computed = money(result.amount)
        cost.missing_json = json.dumps(result.missing, ensure_ascii=False)
        cost.detail_json = json.dumps(result.detail, ensure_ascii=False)
    quote.estimated_at = utcnow()
    reprice(quote, direct)


def new_quote(customer, user, requirement=None) -> Quote:
    """An unsaved draft with the customer's currency, the firm's tax rate, thirty days' validity,
    and from a requirement its product, quantity and unit."""
    from datetime import timedelta

    from ..customers import Product
    from ..firm import get_settings
    quote = Quote(customer=customer, requirement=requirement, sales_rep_id=user.id, status="draft",
                  currency=customer.currency or "CNY", tax_rate=get_settings().tax_rate,
                  valid_until=firm_today() + timedelta(days=30), target_margin=Decimal("25"))
    if requirement is not None:
        quote.currency = requirement.currency or quote.currency
        product = db.session.get(Product, requirement.product_id) if requirement.product_id else None
        if product is not None:
            quote.lines = [QuoteLine(position=1, product=product, quantity=requirement.quantity,
                                     unit=requirement.unit, description=(requirement.product or "")[:200])]
    return quote


@dataclass(frozen=True)
class LineInput:
    """One line as typed: a product of the catalogue, its quantity and unit, a typed price or None."""

    product_id: int
    quantity: Decimal
    unit: str
    description: str = ""
    typed_price: Decimal | None = None


def save(quote: Quote, header: dict, lines: list[LineInput], typed: dict[str, Decimal | None],
         notes: dict[str, str], user) -> Quote:
    """Create or change a draft quotation from its form, estimate it again and audit it."""
    if quote.id is not None and quote.status not in lifecycle.EDITABLE:
        raise TransitionError(409, N_("Only a draft quotation may be changed."))
    before = None if quote.id is None else terms(quote)
    for name, value in header.items():
        setattr(quote, name, value)
    quote.lines = [QuoteLine(position=i, product_id=li.product_id, quantity=li.quantity, unit=li.unit,
                             description=li.description, typed_price=li.typed_price)
                   for i, li in enumerate(lines, start=1)]
    if quote.id is None:
        quote.number = next_yearly_number(Quote.number, "QT", firm_today().year)
        db.session.add(quote)
    db.session.flush()
    for line in quote.lines:
        db.session.refresh(line, ["product"])
    costs = quote.cost_by
    for position, category in enumerate(CATEGORIES, start=1):
        cost = costs.get(category)
        if cost is None:
            cost = QuoteCost(position=position, category=category)
            quote.costs.append(cost)
        cost.typed = typed.get(category)
        cost.note = (notes.get(category) or "").strip()[:500]
    estimate(quote)
    db.session.flush()
    audit.record("quote.saved" if before is not None else "quote.created", quote, actor=user,
                 before=before, after=terms(quote))
    return quote


def terms(quote: Quote) -> dict:
    """What the audit trail keeps of a quotation: its lines, prices and estimate."""
    return {
        "number": quote.number, "currency": quote.currency, "tax_rate": str(quote.tax_rate),
        "valid_until": quote.valid_until.isoformat() if quote.valid_until else None,
        "target_margin": None if quote.target_margin is None else str(quote.target_margin),
        "lines": [{"product_id": line.product_id, "quantity": str(line.quantity), "unit": line.unit,
                   "unit_price": None if line.unit_price is None else str(line.unit_price),
                   "typed_price": None if line.typed_price is None else str(line.typed_price)}
                  for line in quote.lines],
        "estimate": {c.category: {"computed": str(c.computed), "typed": None if c.typed is None else str(c.typed),
                                  "missing": len(c.missing)} for c in quote.costs},
    }


def send_problems(quote: Quote) -> list[tuple[str, dict]]:
    """What keeps the quotation from going out: no line, a category with something missing that
    was not typed by hand, a line without a price (English message ids with their values)."""
    problems: list[tuple[str, dict]] = []
    if not quote.lines:
        problems.append((N_("Add at least one line."), {}))
    for cost in quote.costs:
        if cost.typed is None:
            problems.extend(cost.missing)
    for line in quote.lines:
        if line.unit_price is None:
            problems.append((N_("Line %(n)s has no price: type one or set the target margin."), {"n": str(line.position)}))
    return problems


def send(quote: Quote, user) -> str:
    """Mark the quotation as sent to the customer; refused (409) with the first problem while any
    remains (the page lists them all)."""
    checked = lifecycle.MACHINE.check(quote, "send", user.roles)
    problems = send_problems(quote)
    if problems:
        message, params = problems[0]
        raise TransitionError(409, message, **params)
    quote.sent_at = utcnow()
    return transition(quote, lifecycle.MACHINE, "send", user, checked=checked)


def decide(quote: Quote, name: str, user, note: str = "") -> str:
    """Record the customer's rejection, mark as expired, cancel, or take back to draft to revise."""
    checked = lifecycle.MACHINE.check(quote, name, user.roles)
    if name in ("reject", "expire", "cancel"):
        quote.decided_at, quote.decided_by_id, quote.decision_note = utcnow(), user.id, note
    return transition(quote, lifecycle.MACHINE, name, user, note=note or None, checked=checked)


def accept(quote: Quote, user, note: str = ""):
    """Record the customer's acceptance (who, when, note) and make the draft order: the quotation's
    lines at its unit prices, its currency and tax, and the estimate per category as the order's
    cost budget (finance may still change it in review). One order per quotation: the row is
    locked by the loader, a second acceptance finds it accepted (409)."""
    from ..orders import OrderLine, new_order, recalculate
    checked = lifecycle.MACHINE.check(quote, "accept", user.roles, context={"today": firm_today()})
    if quote.order_id is not None:
        raise TransitionError(409, N_("This quotation already became an order."))
    order = new_order(quote.customer, user, quote.requirement)
    order.currency, order.tax_rate = quote.currency, quote.tax_rate
    requirement = quote.requirement
    order.lines = [OrderLine(
        position=line.position, product_id=line.product_id, model=line.product.model,
        description=(line.description or line.product.name)[:200],
        customer_part_no=(requirement.customer_part_no or "") if requirement and line.position == 1 else "",
        drawing_rev=(requirement.drawing_rev or "") if requirement and line.position == 1 else "",
        quantity=line.quantity, unit=line.unit, unit_price=line.unit_price,
        unit_price_incl=line.unit_price_incl) for line in quote.lines]
    recalculate(order)
    costs = quote.cost_by
    for category in CATEGORIES:
        setattr(order, f"budget_{category}", costs[category].value if category in costs else Decimal("0"))
    db.session.add(order)
    db.session.flush()
    source = f"{quote.number}"
    audit.record("order.created", order, actor=user, after=order.terms(), note=source)
    audit.record("order.budget", order, actor=user, note=source,
                 after={c: str(v) for c, v in order.budget.items()})
    quote.order_id = order.id
    quote.decided_at, quote.decided_by_id, quote.decision_note = utcnow(), user.id, note
    transition(quote, lifecycle.MACHINE, "accept", user, note=note or None, checked=checked,
               detail={"order_id": order.id})
    return order


def expiring(days: int = 3):
    """Sent quotations whose validity ends within days (or has ended): sales should chase them."""
    from datetime import timedelta
    return db.select(Quote).where(Quote.status == "sent", Quote.valid_until.is_not(None),
                                  Quote.valid_until <= firm_today() + timedelta(days=days))


def rate(value: Decimal | None) -> Decimal | None:
    """A fraction as a percentage rounded to 0.1 (for the page)."""
    return None if value is None else (value * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def quotes_of_requirement(requirement) -> list[Quote]:
    """The quotations made from a requirement, newest first."""
    return list(db.session.scalars(db.select(Quote).where(Quote.requirement_id == requirement.id)
                                   .order_by(Quote.id.desc())))


def quote_of_order(order) -> Quote | None:
    """The accepted quotation an order was made from, if any."""
    return db.session.scalar(db.select(Quote).where(Quote.order_id == order.id))
