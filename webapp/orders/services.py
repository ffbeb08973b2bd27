"""What happens to an order. Views stay thin; every status change goes through lifecycle.MACHINE."""
import json
from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.dialects import postgresql, sqlite

from .. import audit, links, signals
from ..db_types import money
from ..firm import get_settings
from ..extensions import db
from ..fingerprints import canonical_json, sha256_of
from ..i18n import firm_today
from ..notify import Recipient, notify
from ..customers import Product
from ..signatures import parse_strokes, render_svg
from ..statemachine import N_, TransitionError
from ..wallclock import utcnow
from ..workflow import transition
from . import lifecycle, notices  # noqa: F401  (notices: the messages notify() sends)
from .models import (BUDGET_CATEGORIES, Approval, Countersignature, FeasibilityReview, Order,
                     OrderAmendment, OrderLine, OrderNumberCounter, OrderVersion, Payment)

CONSENT_VERSION = "2026-11"
HEADER_FIELDS = ("customer_po", "currency", "tax_rate", "prepayment_pct", "credit_days", "credit_basis", "exchange_rate",
                 "delivery_date", "delivery_method", "delivery_place", "breach_liability", "notes")


# --- terms -------------------------------------------------------------------------------------

def apply_form(order: Order, form) -> None:
    """Copy the terms and lines from an OrderForm onto the order and recompute its totals."""
    for name in HEADER_FIELDS:
        value = getattr(form, name).data
        if name == "credit_days":
            value = value or 0
        if name == "prepayment_pct":
            value = value if value is not None else Decimal("0")
        if name == "exchange_rate":
            value = value or Decimal("1")
        if name == "credit_basis":
            value = value or order.credit_basis or "net"
        setattr(order, name, value if value is not None else ("" if name in (
            "customer_po", "delivery_place", "breach_liability", "notes") else None))
    lines = []
    for entry in form.lines.entries:
        line_form = entry.form
        if line_form.is_blank():
            continue
        excl, incl = line_prices(line_form.unit_price.data, line_form.unit_price_incl.data,
                                 order.tax_rate)
        product = db.session.scalar(db.select(Product).where(Product.model == line_form.model.data.strip()))
        lines.append(OrderLine(
            position=len(lines) + 1, product_id=product.id if product else None,
            customer_part_no=line_form.customer_part_no.data or "",
            model=line_form.model.data.strip(), description=line_form.description.data or "",
            drawing_rev=line_form.drawing_rev.data or "", quantity=line_form.quantity.data,
            unit=line_form.unit.data.strip(), unit_price=excl, unit_price_incl=incl))
    order.lines = lines
    recalculate(order)


def line_prices(excl: Decimal | None, incl: Decimal | None, tax_rate: Decimal) -> tuple[Decimal, Decimal]:
    """Both unit prices from whichever was given (without tax wins when both are)."""
    factor = 1 + Decimal(tax_rate) / 100
    if excl is not None:
        return money(excl), money(excl * factor)
    return money(incl / factor), money(incl)


def recalculate(order: Order) -> None:
    """Totals from the lines: amounts without tax, tax, and the total."""
    order.total_excl = sum((line.amount for line in order.lines), Decimal("0"))
    order.total = sum((line.amount_incl for line in order.lines), Decimal("0"))
    order.total_tax = order.total - order.total_excl


def new_order(customer, user, requirement=None) -> Order:
    """A draft order with the customer's and the firm's defaults."""
    settings = get_settings()
    with force_locale(customer.locale or "zh"):  # the terms are in the customer's language
        liability = _("Late delivery: %(rate)s of the order value per week, at most %(cap)s.",
                      rate="0.5%", cap="5%")
    order = Order(customer=customer, requirement=requirement, sales_rep_id=user.id,
                  currency=customer.currency, tax_rate=settings.tax_rate,
                  prepayment_pct=customer.prepayment_pct, credit_days=customer.credit_days,
                  credit_basis=customer.credit_basis or "net",
                  delivery_place=customer.address, delivery_method="delivery",
                  breach_liability=liability)
    if requirement is not None:
        order.delivery_date = requirement.expected_date
        product = db.session.get(Product, requirement.product_id) if requirement.product_id else None
        price = product.list_price if product else Decimal("0")
        description, overflow = line_description(requirement.product, requirement.specs)
        if overflow:  # nothing the customer asked for is lost: specs too long for the line go in the notes
            order.notes = _("Specifications (from the requirement): %(specs)s", specs=overflow)
        order.lines = [OrderLine(position=1, product_id=product.id if product else None,
                                 customer_part_no=requirement.customer_part_no or "",
                                 model=product.model if product else requirement.product[:60],
                                 description=description, drawing_rev=requirement.drawing_rev or "",
                                 quantity=requirement.quantity, unit=requirement.unit,
                                 unit_price=price, unit_price_incl=money(price * (1 + order.tax_rate / 100)))]
        recalculate(order)
    return order


DESCRIPTION_MAX = 200  # OrderLine.description


def create_order(customer, requirement, form, user) -> Order:
    """Save a new draft order for customer (from requirement, if any) from its form, and audit it."""
    # The customer's way of counting credit days (月结 or net) unless the form chose one.
    order = Order(customer=customer, requirement=requirement, sales_rep_id=user.id,
                  credit_basis=customer.credit_basis or "net")
    db.session.add(order)
    apply_form(order, form)
    db.session.flush()
    audit.record("order.created", order, actor=user, after=order.terms())
    return order


def edit_order(order: Order, form, user) -> None:
    """Save a draft order's changed terms and lines from its form, and audit them."""
    before = order.terms()
    apply_form(order, form)
    db.session.flush()
    audit.record("order.edited", order, actor=user, before=before, after=order.terms())


def renew_countersign_link(order: Order, user, *, revoke: bool = False) -> None:
    """Replace the countersignature link with a new one sent to the customer, or withdraw it."""
    links.renew("order_countersign", order, user, event="order", revoke=revoke, send=send_countersign_link)


def line_description(product: str, specs: str) -> tuple[str, str]:
    """An order line's description from a requirement: its product and its specifications on one
    line ("Steel bracket — 2 mm, zinc plated"), and the specifications that do not fit ("" if all do)."""
    product = " ".join((product or "").split())
    specs = " ".join((specs or "").split())
    joined = f"{product} — {specs}" if product and specs else (product or specs)
    if len(joined) <= DESCRIPTION_MAX:
        return joined, ""
    return product[:DESCRIPTION_MAX], specs


# --- review ------------------------------------------------------------------------------------

def submit(order: Order, user, snapshot: dict | None = None, roles=None) -> str:
    """Submit a draft for feasibility review under the settings in force now (or the snapshot given:
    a retail sale keeps the firm's retail settings, FirmSettings.retail_snapshot). roles: the role it is
    done in when not the user's own (the going-live import enters signed orders for sales)."""
    firm_currency = get_settings().currency
    if order.currency != firm_currency and order.exchange_rate == 1:
        # A rate left at its default would count the order's money as the firm's own currency.
        raise TransitionError(409, N_("Enter the order's exchange rate before submitting: it is not in the firm's currency."))
    order.settings_snapshot = json.dumps(snapshot if snapshot is not None else get_settings().snapshot())
    status = transition(order, lifecycle.MACHINE, "submit", user, roles=roles, detail={"round": order.review_round})
    _after_move(order, user)
    return status


submit_order = submit  # the name other domains import (orders/__init__.py: _PUBLIC)


def set_budget(order: Order, form, user) -> None:
    """Finance sets the cost budget per category."""
    before = {c: str(v) if v is not None else None for c, v in order.budget.items()}
    for category in BUDGET_CATEGORIES:
        setattr(order, f"budget_{category}", getattr(form, f"budget_{category}").data)
    audit.record("order.budget", order, actor=user, before=before,
                 after={c: str(v) for c, v in order.budget.items()})


def review(order: Order, department: str, verdict: str, note: str, user) -> str:
    """Record a department's sign-off; the last clearing one sends the order on to approval."""
    if department not in user.roles:
        raise TransitionError(403, N_("Your role may not do this to an order."))
    lifecycle.MACHINE.check(order, "review", {department})
    if department not in order.settings.get("reviews", []):
        raise TransitionError(409, N_("This order does not need that sign-off."))
    if department == "finance" and verdict == "agree" and order.budget_total is None:
        raise TransitionError(409, N_("Finance must set the cost budget before approval."))
    lifecycle.MACHINE.check(order, "review", {department})
    if department in order.current_reviews():
        raise TransitionError(409, N_("This department has already signed off in this round."))
    db.session.add(FeasibilityReview(order=order, round=order.review_round, department=department,
                                     verdict=verdict, note=note, reviewer_id=user.id))
    db.session.flush()
    status = transition(order, lifecycle.MACHINE, "review", user, roles={department}, note=note,
                        detail={"department": department, "verdict": verdict})
    _after_move(order, user)
    return status


def override_concern(order: Order, department: str, reason: str, user) -> str:
    """The manager lets an order past a department's concern, with a reason."""
    current = order.current_reviews().get(department)
    if current is None or current.verdict != "concern" or current.override_reason:
        raise TransitionError(409, N_("There is no open concern to override."))
    move = lifecycle.MACHINE.check(order, "override_concern", user.roles)
    current.override_reason, current.overridden_by_id, current.overridden_at = reason, user.id, utcnow()
    db.session.flush()
    status = transition(order, lifecycle.MACHINE, "override_concern", user, note=reason,
                        detail={"department": department}, checked=move)
    _after_move(order, user)
    return status


def revise(order: Order, user, reason: str = "") -> str:
    """Take the order back to draft to change it; a new review round starts when resubmitted."""
    status = transition(order, lifecycle.MACHINE, "revise", user, note=reason)
    order.review_round += 1
    return status


# --- approval and numbering ----------------------------------------------------------------------

def decide(order: Order, role: str, decision: str, note: str, user) -> str:
    """An approver approves or rejects the order in one of the roles they hold."""
    if role not in user.roles or role not in ("manager", "finance"):
        raise TransitionError(403, N_("Your role may not do this to an order."))
    lifecycle.MACHINE.check(order, "approve" if decision == "approve" else "reject", {role})
    if role not in order.required_approvals():
        raise TransitionError(409, N_("This order does not need that approval."))
    if role in order.current_approvals():
        raise TransitionError(409, N_("This approval was already given."))
    if decision == "reject" and not note.strip():
        raise TransitionError(409, N_("Give a reason for rejecting."))
    db.session.add(Approval(order=order, round=order.review_round, role=role, decision=decision,
                            note=note, user_id=user.id))
    db.session.flush()
    if decision == "reject":
        status = transition(order, lifecycle.MACHINE, "reject", user, roles={role}, note=note,
                            detail={"role": role})
        order.review_round += 1
        return status
    status = transition(order, lifecycle.MACHINE, "approve", user, roles={role}, note=note,
                        detail={"role": role})
    _after_move(order, user)
    return status


def _after_move(order: Order, user) -> None:
    """Side effects of arriving in a status: number, frozen version, customer link."""
    if order.status in lifecycle.APPROVED and order.approved_at is None:
        order.approved_at = utcnow()
    if order.status == "awaiting_countersign" or (
            order.status in lifecycle.SIGNED and order.number is None):
        if order.number is None:
            assign_number(order)
        freeze_version(order)
    if order.status == "awaiting_countersign":
        send_countersign_link(order)
    elif order.status in lifecycle.SIGNED:
        freeze_version(order)


def assign_number(order: Order) -> str:
    """Give the order its number YYYYMM-ABBR-NNN: per customer per month in the firm's time
    zone, gapless (the counter rolls back with the transaction) and never reused."""
    settings = order.settings or get_settings().snapshot()
    now = utcnow().astimezone(ZoneInfo(settings.get("timezone", "Asia/Shanghai")))
    period = now.strftime("%Y%m")
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(OrderNumberCounter).values(customer_id=order.customer_id, period=period, last=1)
    statement = statement.on_conflict_do_update(
        index_elements=["customer_id", "period"],
        set_={"last": OrderNumberCounter.last + 1},
    ).returning(OrderNumberCounter.last)
    serial = db.session.execute(statement).scalar_one()
    pattern = settings.get("number_pattern") or "{yyyy}{mm}-{abbr}-{seq:03d}"
    order.number = pattern.format(yyyy=now.strftime("%Y"), mm=now.strftime("%m"),
                                  abbr=order.customer.abbreviation, seq=serial)
    audit.record("order.numbered", order, after={"number": order.number})
    return order.number


def freeze_version(order: Order) -> OrderVersion:
    """Keep (or refresh, while unsigned) the frozen copy of the current version's terms."""
    terms = order.terms()
    row = db.session.scalar(db.select(OrderVersion).where(
        OrderVersion.order_id == order.id, OrderVersion.version == order.version))
    if row is None:
        row = OrderVersion(order_id=order.id, version=order.version)
        db.session.add(row)
    if order.signed_version != order.version:
        row.terms_json, row.sha256 = canonical_json(terms), sha256_of(terms)
    db.session.flush()
    return row


def send_countersign_link(order: Order) -> links.AccessLink:
    """Issue the countersignature link and e-mail it to the customer's contact."""
    link = links.issue("order_countersign", order.id)
    notify("order.countersign_requested", [Recipient.customer_of(order)], order=order, link=link)
    return link


# --- the customer's signature ------------------------------------------------------------------

def consent_text() -> str:
    """The sentence the customer agrees to when countersigning (in the current language)."""
    return _("I have read the order terms above and agree to them. My typed name and the signature "
             "I draw here sign this order electronically. The firm keeps my name, signature, the time, "
             "my IP address and device type with the signed terms as proof of this agreement for "
             "%(years)s years, and uses them for no other purpose.", years=get_settings().retention_years)


def countersign(order: Order, link: links.AccessLink, name: str, title: str, strokes_raw: str,
                ip: str, user_agent: str) -> Countersignature:
    """Store the customer's signature over the frozen terms; the order becomes effective."""
    version = db.session.scalar(db.select(OrderVersion).where(
        OrderVersion.order_id == order.id, OrderVersion.version == order.version))
    strokes = parse_strokes(strokes_raw)
    signature = Countersignature(
        order_id=order.id, version=order.version, terms_json=version.terms_json,
        terms_sha256=version.sha256, signer_name=name, signer_title=title,
        consent_text=consent_text(), consent_version=CONSENT_VERSION,
        strokes_json=json.dumps(strokes), signature_svg=render_svg(strokes),
        ip_address=ip[:64], user_agent=user_agent[:300], link_id=link.id)
    db.session.add(signature)
    order.signed_version = order.version
    transition(order, lifecycle.MACHINE, "countersign", roles={"customer"}, actor_kind="link",
               actor_label=name, detail={"version": order.version, "sha256": version.sha256})
    order.resume_status = None
    link.used_at = utcnow()
    # The customer's PDF copy goes by mail, made after the commit (documents/copies.py).
    signals.order_countersigned.send(order, signature=signature, link=link)
    notify("order.countersigned", [Recipient.user(order.sales_rep)], order=order, name=name)
    return signature


# --- amendments --------------------------------------------------------------------------------

class NothingChanged(Exception):
    """An amendment that changes nothing (the form is shown again)."""


def amend(order: Order, form, reason: str, user) -> OrderAmendment:
    """Change an approved order: keep the old version, apply the new terms, and send the order
    back through review, approval or signature as its settings require."""
    move = lifecycle.MACHINE.check(order, "amend", user.roles)
    before = order.terms()
    was = order.status
    money_basis = (order.currency, order.exchange_rate)
    apply_form(order, form)
    if (order.currency, order.exchange_rate) != money_basis:
        # Invoices, payments, statements and vouchers already count in this currency at this rate.
        raise TransitionError(409, N_("The currency and exchange rate are fixed when the order is made: "
                                      "amend the prices instead."))
    db.session.flush()
    after = order.terms()
    changes = diff_terms(before, after)
    if not changes:
        raise NothingChanged()
    links.revoke_all("order_countersign", order.id)  # a signature link for the old terms is void
    order.version += 1
    order.review_round += 1
    order.resume_status = "in_production" if was == "in_production" else None
    amendment = OrderAmendment(order_id=order.id, from_version=order.version - 1,
                               to_version=order.version, reason=reason,
                               changes_json=canonical_json(changes), requested_by_id=user.id)
    db.session.add(amendment)
    transition(order, lifecycle.MACHINE, "amend", user, note=reason,
               detail={"version": order.version, "changes": len(changes)}, checked=move)
    _after_move(order, user)
    return amendment


def diff_terms(before: dict, after: dict) -> list[dict]:
    """The fields that differ between two sets of terms (lines compared by position)."""
    changes = []
    for key in sorted(set(before) | set(after)):
        if key in ("version", "lines"):
            continue
        if before.get(key) != after.get(key):
            changes.append({"field": key, "before": before.get(key), "after": after.get(key)})
    old_lines, new_lines = before.get("lines", []), after.get("lines", [])
    for index in range(max(len(old_lines), len(new_lines))):
        old = old_lines[index] if index < len(old_lines) else {}
        new = new_lines[index] if index < len(new_lines) else {}
        for key in sorted(set(old) | set(new)):
            if old.get(key) != new.get(key):
                changes.append({"field": f"line {index + 1} {key}", "before": old.get(key),
                                "after": new.get(key)})
    return changes


# --- money and production ----------------------------------------------------------------------

def record_payment(order: Order, kind: str, amount: Decimal, received_on: date, reference: str, user) -> Payment:
    """Finance records money received."""
    payment = Payment(order=order, kind=kind, amount=amount, received_on=received_on,
                      reference=reference, recorded_by_id=user.id)
    db.session.add(payment)
    db.session.flush()
    audit.record("order.payment", order, actor=user,
                 after={"kind": kind, "amount": str(amount), "received_on": received_on.isoformat(),
                        "paid": str(order.paid)})
    return payment


def override_prepayment(order: Order, reason: str, user) -> None:
    """Finance lets production start before the prepayment arrives, with a reason."""
    move = lifecycle.MACHINE.check(order, "override_prepayment", user.roles)
    order.prepayment_override = reason
    transition(order, lifecycle.MACHINE, "override_prepayment", user, note=reason, checked=move)


def simple_transition(order: Order, name: str, user, reason: str = "") -> str:
    """Transitions with no side effects beyond the status (start production, hold, resume, cancel)."""
    if name == "hold":
        lifecycle.MACHINE.check(order, "hold", user.roles)
        order.hold_from = order.status
    status = transition(order, lifecycle.MACHINE, name, user, note=reason or None)
    if name == "start_production":
        signals.order_released.send(order, user=user)  # production makes the work orders
    if name == "resume":
        order.hold_from = None
    if name in ("cancel", "discard"):
        links.revoke_all("order_countersign", order.id)
    return status


# --- feasibility views -------------------------------------------------------------------------



def weekly_load(order: Order, weeks: int = 6) -> list[dict]:
    """Committed quantity per week around the order's delivery week, against weekly capacity."""
    capacity = get_settings().weekly_capacity
    anchor = order.delivery_date or firm_today()
    start = anchor - timedelta(days=anchor.weekday()) - timedelta(weeks=weeks // 2)
    end = start + timedelta(weeks=weeks)
    # One aggregate over the active orders due in the window (index order_status_delivery_date):
    # per delivery date, the quantity of the other orders and of this one.
    this = Order.id == order.id
    rows = db.session.execute(
        db.select(Order.delivery_date, db.func.sum(OrderLine.quantity).filter(~this),
                  db.func.sum(OrderLine.quantity).filter(this))
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(Order.status.in_(lifecycle.ACTIVE), Order.delivery_date >= start, Order.delivery_date < end)
        .group_by(Order.delivery_date)).all()
    buckets = []
    for index in range(weeks):
        week_start = start + timedelta(weeks=index)
        committed, this_order = Decimal("0"), Decimal("0")
        for delivery, others_sum, this_sum in rows:
            if week_start <= delivery < week_start + timedelta(weeks=1):
                committed += Decimal(others_sum or 0)
                this_order += Decimal(this_sum or 0)
        buckets.append({"week": week_start, "committed": committed, "this_order": this_order,
                        "capacity": capacity, "over": committed + this_order > capacity,
                        "is_delivery_week": week_start <= anchor < week_start + timedelta(weeks=1)})
    return buckets


def stock_check(order: Order) -> dict:
    """The warehouse's feasibility check, from the ledger: per line, the product's own stock against
    the quantity; for what must be made, its bill of materials through every level (sub-assemblies
    from their stock first) against available stock and open purchase orders, per material."""
    from collections import defaultdict

    from ..i18n import firm_today
    from ..purchasing import services as purchasing
    from ..stock import Material, bom, ledger
    lines, needs = [], defaultdict(Decimal)
    for line in order.lines:
        product = line.product
        if product is None:
            lines.append({"line": line, "on_hand": None, "short": None, "bom": False})
            continue
        # A product whose stock the ledger has not taken over yet keeps its figure (a page reads, never writes).
        own = bom.material_of(product)
        free = max(ledger.available(own.id), Decimal("0")) if own is not None else product.on_hand
        short = max(line.quantity - free, Decimal("0"))
        has_bom = bom.current_bom(product.id) is not None
        lines.append({"line": line, "on_hand": free, "short": short, "bom": has_bom})
        if short > 0 and has_bom:
            for material_id, need in bom.explode(product.id, short, ledger.available).items():
                needs[material_id] += need
    today, rows = firm_today(), []
    for material_id, need in needs.items():
        supply = purchasing.open_supply(material_id, today)
        available = ledger.available(material_id)
        incoming = sum((s.outstanding for s in supply), Decimal("0"))
        rows.append({"material": db.session.get(Material, material_id), "need": need, "available": available,
                     "incoming": incoming, "late": any(s.late for s in supply),
                     "short": max(need - max(available, Decimal("0")) - incoming, Decimal("0"))})
    rows.sort(key=lambda row: row["material"].code)
    return {"lines": lines, "materials": rows}
