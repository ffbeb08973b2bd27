"""A return or exchange case run to its end: the goods collected and inspected on arrival, then
replaced, repaired, credited or refused; each step with its owner and due time (clocks.py), overdue
steps escalated (tasks.py); the case's costs recorded for the cost sheet.

Every status change goes through lifecycle.RETURN_CASE."""
from datetime import date, datetime, time
from decimal import Decimal

from .. import audit, clocks, links, signals
from ..extensions import db
from ..photos import save_photos
from ..production import take_from_stock
from ..statemachine import N_, TransitionError
from ..wallclock import utcnow
from ..workflow import transition
from . import carriers, lifecycle
from .models import COST_KINDS, CONDITIONS, Pickup, ReturnCase, ReturnCost, ReturnCredit, Shipment, ShipmentLine

RETURN_PICKUP_LINK_DAYS = 30


def _step(case: ReturnCase, clock: clocks.Clock | None, owner_id: int | None, start: datetime | None = None) -> None:
    """The case's next step: who does it and by when (none once closed); a new step may escalate again."""
    case.step_owner_id = owner_id
    case.step_due_at = clock.due(start or utcnow()) if clock is not None else None
    case.escalated_at = None


def after_start(case: ReturnCase, user) -> None:
    """Started: whoever started it answers for the case; the goods are to be collected (or the case
    decided) within clocks.RETURN_COLLECT."""
    case.owner_id = case.owner_id or user.id
    _step(case, clocks.RETURN_COLLECT, case.owner_id, case.started_at)


def _close(case: ReturnCase, user, outcome: str, note: str, *, event_actor=None) -> None:
    """Record how the case ended, and let the order's survey go if this was the last thing open."""
    case.closed_at, case.outcome, case.close_note = utcnow(), outcome, note
    case.closed_by_id = user.id if user is not None else None
    _step(case, None, None)
    audit.record("return.closed", case.order, actor=user, actor_kind=None if user else "system",
                 entity_type="order", note=note or None,
                 after={"shipment": case.shipment.number, "outcome": outcome})
    db.session.flush()
    signals.return_case_closed.send(case.order)


def shipped_lines(case: ReturnCase) -> list[ShipmentLine]:
    """The lines of the shipment the case is about."""
    return list(case.shipment.lines)


def problem_lines(case: ReturnCase) -> list[dict]:
    """What the customer found wrong, per line: model, unit and how many are affected (damaged lines
    whole, a shortfall its missing quantity); no prices (the courier sees this)."""
    receipt = case.shipment.receipt
    rows = []
    for rline in (receipt.lines if receipt else []):
        sline = rline.shipment_line
        shipped = sline.quantity
        affected = shipped if rline.condition != "ok" else shipped - rline.received_qty
        if affected > 0:
            rows.append({"line": sline, "model": sline.order_line.model, "unit": sline.order_line.unit,
                         "quantity": affected, "condition": rline.condition, "note": rline.note})
    return rows


# --- collection --------------------------------------------------------------------------------

def book_collection(case: ReturnCase, user, on_date: date, window_from: time, window_to: time, *,
                    carrier=None, vehicle=None, tracking_no: str = "", note: str = "") -> Pickup:
    """Book the collection of the goods at the customer: a pickup with its window and a courier link
    (the return's courier sees what to collect and where, never prices)."""
    carriers.check_window(on_date, window_from, window_to)
    transition(case, lifecycle.RETURN_CASE, "book_collection", user,
               detail={"on": on_date.isoformat(), "tracking_no": tracking_no})
    pickup = carriers.book_pickup(user, on_date, window_from, window_to, case=case, carrier=carrier,
                                  vehicle=vehicle, tracking_no=tracking_no, note=note)
    links.issue("return_pickup", case.id, days=RETURN_PICKUP_LINK_DAYS)
    # The clock of the collection keeps running from the start; whoever booked it sees it through.
    case.step_owner_id = user.id
    return pickup


def collection(case: ReturnCase) -> Pickup | None:
    """The case's latest collection."""
    return case.pickups[-1] if case.pickups else None


def collect(case: ReturnCase, note: str, user=None, courier_link=None, at: datetime | None = None) -> None:
    """The goods were collected at the customer (the courier on their link, or staff; at: the phone's
    clock when it was confirmed without signal); inspection on arrival is due within
    clocks.RETURN_INSPECT, by whoever booked the collection."""
    if courier_link is not None:
        transition(case, lifecycle.RETURN_CASE, "collect", roles={"courier"}, actor_kind="link",
                   actor_label="courier", note=note or None)
    else:
        transition(case, lifecycle.RETURN_CASE, "collect", user, note=note or None)
    case.collected_at = at or utcnow()
    pickup = collection(case)
    if pickup is not None:
        pickup.done_at = case.collected_at
    _step(case, clocks.RETURN_INSPECT, pickup.booked_by_id if pickup else case.owner_id, case.collected_at)


# --- inspection --------------------------------------------------------------------------------

def inspect(case: ReturnCase, user, received_qty: Decimal, condition: str, findings: str, files) -> None:
    """The goods arrived and were inspected: how many, their condition, what was found, photos; the
    decision is due within clocks.RETURN_DECIDE, by the case's owner."""
    if condition not in CONDITIONS:
        raise TransitionError(409, N_("Choose a condition."))
    transition(case, lifecycle.RETURN_CASE, "inspect", user, note=findings or None,
               detail={"received_qty": str(received_qty), "condition": condition})
    case.inspected_at, case.inspected_by_id = utcnow(), user.id
    case.received_qty, case.received_condition, case.findings = received_qty, condition, findings
    save_photos(files, "return_inspection", case.id, user)
    _step(case, clocks.RETURN_DECIDE, case.owner_id or user.id, case.inspected_at)


# --- outcomes ----------------------------------------------------------------------------------

def create_replacement(case: ReturnCase, user, quantities: dict[int, Decimal], *, carrier=None, vehicle=None,
                       typed_carrier: str = "", tracking_no: str = "", eta: date | None = None,
                       cost: Decimal = Decimal("0")) -> Shipment:
    """A replacement shipment for the case: lines of the shipment the case is about, at most what that
    shipment held of each; taken from stock where the line names a product in stock (else made again,
    outside the ledger). It then goes through packing, the courier and the customer's receipt like any
    shipment; the customer's signature on it closes the case as replaced."""
    lines = {sline.order_line_id: sline for sline in shipped_lines(case)}
    chosen = {line_id: qty for line_id, qty in quantities.items() if qty and qty > 0}
    if not chosen:
        raise TransitionError(409, N_("Put at least one line with a quantity in the shipment."))
    for line_id, qty in chosen.items():
        if line_id not in lines:
            raise TransitionError(409, N_("A replacement holds only lines of the shipment the case is about."))
        if qty > lines[line_id].quantity:
            raise TransitionError(409, N_("A replacement line cannot hold more than was shipped."))
    transition(case, lifecycle.RETURN_CASE, "replace", user,
               detail={"lines": {str(k): str(v) for k, v in chosen.items()}})
    order = case.order
    shipment = Shipment(order=order, number=f"{case.shipment.number}-R{len(case.replacements) + 1}",
                        method=case.shipment.method,
                        carrier=carriers.carrier_text(carrier, vehicle, typed_carrier)[:100],
                        carrier_id=carrier.id if carrier else None, vehicle_id=vehicle.id if vehicle else None,
                        tracking_no=tracking_no[:100], eta=eta, cost=cost or Decimal("0"),
                        created_by_id=user.id, return_case_id=case.id)
    db.session.add(shipment)
    for line_id, qty in chosen.items():
        product = lines[line_id].order_line.product
        from_stock = product is not None and product.on_hand >= qty
        shipment.lines.append(ShipmentLine(order_line_id=line_id, quantity=qty, batch="", from_stock=from_stock))
    db.session.flush()
    for sline in shipment.lines:
        if sline.from_stock:
            take_from_stock(sline.order_line.product, sline.quantity, "shipment", shipment.number, user,
                            doc_id=shipment.id)
    links.issue("courier", shipment.id, days=60)
    signals.shipment_created.send(order)  # its freight is the order's logistics too
    audit.record("shipment.created", order, actor=user, entity_type="order",
                 after={"shipment": shipment.number, "replaces_for_case": case.id,
                        "lines": {str(k): str(v) for k, v in chosen.items()}})
    _step(case, clocks.RETURN_REPLACE, user.id)
    return shipment


def link_replacement(case: ReturnCase, shipment: Shipment, user) -> None:
    """Name a shipment already made for the order as the case's replacement (e.g. resent with the next
    batch). Only a shipment of the same order, not the one the case is about, not yet delivered and
    not another case's."""
    if shipment.order_id != case.order_id:
        raise TransitionError(409, N_("That shipment belongs to another order."))
    if shipment.id == case.shipment_id or shipment.return_case_id is not None:
        raise TransitionError(409, N_("That shipment cannot be this case's replacement."))
    if shipment.status in lifecycle.DELIVERED:
        raise TransitionError(409, N_("That shipment is already delivered."))
    transition(case, lifecycle.RETURN_CASE, "replace", user, detail={"linked": shipment.number})
    shipment.return_case_id = case.id
    _step(case, clocks.RETURN_REPLACE, user.id)


def replacement_delivered(shipment: Shipment) -> None:
    """The customer signed for a replacement: its case closes as replaced (a replacement that arrived
    damaged has opened its own case already)."""
    case = db.session.get(ReturnCase, shipment.return_case_id)
    if case is None or case.status != "replacing":
        return
    transition(case, lifecycle.RETURN_CASE, "replaced", roles={"system"}, actor_kind="system",
               detail={"shipment": shipment.number})
    _close(case, None, "replaced", shipment.number)


def repair(case: ReturnCase, user, note: str) -> None:
    """The goods were repaired (and go back to the customer)."""
    transition(case, lifecycle.RETURN_CASE, "repair", user, note=note)
    _close(case, user, "repaired", note)


def credit_limit(order) -> Decimal:
    """How much more may be credited on the order: what was paid or ordered (whichever is more) less
    the credits already recorded."""
    credited = db.session.scalar(db.select(db.func.sum(ReturnCredit.amount)).where(ReturnCredit.order_id == order.id))
    return max(max(order.paid, order.total) - (credited or Decimal("0")), Decimal("0"))


def credit(case: ReturnCase, user, amount: Decimal, note: str) -> ReturnCredit:
    """Credit the customer on the order (the money issue nets it in the balance); never more than
    credit_limit()."""
    lifecycle.RETURN_CASE.check(case, "credit", user.roles)
    if amount is None or amount <= 0:
        raise TransitionError(409, N_("Enter the amount to credit."))
    left = credit_limit(case.order)
    if amount > left:
        from ..templating import money
        raise TransitionError(409, N_("A credit cannot be larger than what was paid or ordered; at most %(left)s "
                                      "is left to credit on this order."), left=money(left, case.order.currency))
    transition(case, lifecycle.RETURN_CASE, "credit", user, note=note, detail={"amount": str(amount)})
    row = ReturnCredit(case=case, order_id=case.order_id, amount=amount, note=note, created_by_id=user.id)
    db.session.add(row)
    _close(case, user, "credited", note)
    return row


def refuse(case: ReturnCase, user, reason: str) -> None:
    """Refuse the return with a reason the customer reads on their after-sales page."""
    transition(case, lifecycle.RETURN_CASE, "refuse", user, note=reason)
    case.customer_reason = reason
    _close(case, user, "refused", reason)


# --- costs -------------------------------------------------------------------------------------

def add_cost(case: ReturnCase, user, kind: str, amount: Decimal, note: str) -> ReturnCost:
    """Record what the case cost the firm (freight, scrap, rework); also after it closed (invoices come late)."""
    if kind not in COST_KINDS:
        raise TransitionError(409, N_("Choose what the cost was for."))
    if amount is None or amount <= 0:
        raise TransitionError(409, N_("Enter the amount."))
    row = ReturnCost(case=case, order_id=case.order_id, kind=kind, amount=amount, note=note, created_by_id=user.id)
    db.session.add(row)
    audit.record("return.cost", case.order, actor=user, entity_type="order", note=note or None,
                 after={"case": case.id, "kind": kind, "amount": str(amount)})
    return row


def return_costs(order_id: int) -> dict[str, Decimal]:
    """What the order's return cases cost, per kind (freight, scrap, rework), summed in SQL; the cost
    sheet reads it (costing stands above shipping)."""
    rows = db.session.execute(db.select(ReturnCost.kind, db.func.sum(ReturnCost.amount))
                              .where(ReturnCost.order_id == order_id).group_by(ReturnCost.kind)).all()
    found = dict(rows)
    return {kind: found.get(kind) or Decimal("0") for kind in COST_KINDS}


def return_cost_rows(order_id: int) -> list[ReturnCost]:
    """Each cost recorded on the order's return cases, oldest first (the cost sheet's drill-down)."""
    return list(db.session.scalars(db.select(ReturnCost).where(ReturnCost.order_id == order_id)
                                   .order_by(ReturnCost.created_at, ReturnCost.id)))


def return_credit_rows(order_id: int) -> list[ReturnCredit]:
    """Each credit the order's return cases gave, oldest first."""
    return list(db.session.scalars(db.select(ReturnCredit).where(ReturnCredit.order_id == order_id)
                                   .order_by(ReturnCredit.created_at, ReturnCredit.id)))


def credits_on(order_id: int) -> Decimal:
    """The credits recorded on the order by its return cases."""
    total = db.session.scalar(db.select(db.func.sum(ReturnCredit.amount)).where(ReturnCredit.order_id == order_id))
    return total or Decimal("0")


# --- escalation --------------------------------------------------------------------------------

def step_due(case: ReturnCase) -> datetime | None:
    """When the case's current step is due (an unstarted case: its 24 h start)."""
    if case.status == "closed":
        return None
    return case.step_due_at or case.due_at


def overdue(now: datetime | None = None) -> list[ReturnCase]:
    """Open cases whose current step is past due and not yet escalated for it."""
    now = now or utcnow()
    due = db.func.coalesce(ReturnCase.step_due_at, ReturnCase.due_at)
    return db.session.scalars(db.select(ReturnCase).where(
        ReturnCase.status != "closed", due < now, ReturnCase.escalated_at.is_(None))
        .order_by(due, ReturnCase.id)).all()
