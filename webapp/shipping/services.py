"""What happens to shipments. Every status change goes through lifecycle.MACHINE."""
import json
from decimal import Decimal

from flask_babel import gettext as _

from .. import audit, clocks, links, signals
from ..extensions import db
from ..notify import Recipient, notify
from ..orders import lifecycle as order_lifecycle
from ..fingerprints import canonical_json, sha256_of
from ..photos import save_photos
from ..production import take_from_stock
from ..quality import holds_for_order
from ..stock import ledger, products
from ..signatures import parse_strokes, render_svg
from ..statemachine import N_, TransitionError
from ..wallclock import utcnow
from ..workflow import transition
from . import lifecycle, notices, returns  # noqa: F401  (notices: the messages notify() sends)
from .models import DeliveryReceipt, ReceiptLine, ReturnCase, Shipment, ShipmentLine

RECEIPT_CONSENT_VERSION = "2026-11"


def open_quantities(order) -> dict[int, Decimal]:
    """Per order line, the quantity not yet in any shipment."""
    remaining = {line.id: line.quantity for line in order.lines}
    for shipment in order.shipments:
        if shipment.return_case_id is not None:
            continue  # a return case's replacement ships again what was already shipped
        for sline in shipment.lines:
            remaining[sline.order_line_id] -= sline.quantity
    return remaining


def line_sources(order) -> dict[int, dict]:
    """Per order line, where its goods come from and how much of it may ship now.

    A line with work orders is made to order: it ships only what passed QC (the good quantity of
    its done work orders) less what every shipment of the order already holds of it. A line
    without work orders whose line names a product is taken from stock: up to the product's on-hand
    quantity. A line with neither cannot ship. Nothing ships beyond what is still to ship.
    Returns {line_id: {"source": "made" | "stock" | None, "passed", "shipped", "on_hand", "limit"}}.
    """
    remaining = open_quantities(order)
    out = {}
    for line in order.lines:
        work_orders = [w for w in order.work_orders if w.order_line_id == line.id]
        shipped_made = sum((sline.quantity for shipment in order.shipments for sline in shipment.lines
                            if sline.order_line_id == line.id and not sline.from_stock
                            and shipment.return_case_id is None), Decimal("0"))
        row = {"source": None, "passed": None, "shipped": shipped_made, "on_hand": None, "limit": Decimal("0")}
        if work_orders:
            passed = sum((w.good for w in work_orders if w.status == "done"), Decimal("0"))
            row.update(source="made", passed=passed, limit=max(passed - shipped_made, Decimal("0")))
        elif line.product is not None:
            row.update(source="stock", on_hand=line.product.on_hand, limit=max(line.product.on_hand, Decimal("0")))
        row["limit"] = min(row["limit"], max(remaining[line.id], Decimal("0")))
        out[line.id] = row
    return out


def create_shipment(order, user, quantities: dict[int, Decimal], batches: dict[int, str], method: str,
                    carrier: str, tracking_no: str, eta, cost: Decimal, carrier_id: int | None = None,
                    vehicle_id: int | None = None) -> Shipment:
    """A new shipment with some quantity of some lines (partial deliveries are normal).

    Made-to-order lines ship only what passed QC; lines from stock take their quantity out of
    stock here (production.stock.take_from_stock), when the goods are picked for packing."""
    if order.status not in order_lifecycle.SHIPPABLE:
        raise TransitionError(409, N_("This order cannot ship in its current state."))
    if order.kind == "project":
        raise TransitionError(409, N_("A service project is delivered by the customer's acceptance, not shipped."))
    if holds_for_order(order.id):
        raise TransitionError(409, N_("A failed inspection of this order is not resolved yet: packing waits for it."))
    remaining = open_quantities(order)
    sources = line_sources(order)
    chosen = {line_id: qty for line_id, qty in quantities.items() if qty and qty > 0}
    if not chosen:
        raise TransitionError(409, N_("Put at least one line with a quantity in the shipment."))
    for line_id, qty in chosen.items():
        if line_id not in remaining or qty > remaining[line_id]:
            raise TransitionError(409, N_("A line has more than is still to ship."))
        if sources[line_id]["source"] is None:
            raise TransitionError(409, N_("A line has no work order and no product in stock to ship from."))
        if sources[line_id]["source"] == "made" and qty > sources[line_id]["limit"]:
            raise TransitionError(409, N_("A line has more than has passed QC and is not yet shipped."))
    shipment = Shipment(order=order, number=f"{order.number}-S{len(order.shipments) + 1}", method=method,
                        carrier=carrier, tracking_no=tracking_no, eta=eta, cost=cost or Decimal("0"),
                        created_by_id=user.id, carrier_id=carrier_id, vehicle_id=vehicle_id)
    shipment.lines = [ShipmentLine(order_line_id=line_id, quantity=qty, batch=batches.get(line_id, ""),
                                   from_stock=sources[line_id]["source"] == "stock")
                      for line_id, qty in chosen.items()]
    db.session.add(shipment)
    db.session.flush()
    lines = {line.id: line for line in order.lines}
    for sline in shipment.lines:
        if sline.from_stock:
            take_from_stock(lines[sline.order_line_id].product, sline.quantity, "shipment", shipment.number, user,
                            doc_id=shipment.id)
        else:
            _ship_made_goods(order, lines[sline.order_line_id], sline, shipment, user)
    links.issue("courier", shipment.id, days=60)
    signals.shipment_created.send(order)  # the cost sheet's logistics actual is its freight
    audit.record("shipment.created", order, actor=user, entity_type="order",
                 after={"shipment": shipment.number,
                        "lines": {str(k): str(v) for k, v in chosen.items()},
                        "from_stock": [str(sline.order_line_id) for sline in shipment.lines if sline.from_stock]})
    return shipment


def _ship_made_goods(order, line, sline: ShipmentLine, shipment: Shipment, user) -> None:
    """Made-to-order goods leave their work orders' finished-goods lots (the batch is the lot): the
    ledger then traces a lot to the shipment. Work orders done before the ledger made no lot; their
    goods ship as before."""
    made = products.made_lots([w.id for w in order.work_orders if w.order_line_id == line.id])
    if not made or line.product is None:
        return
    moves = products.take_product(line.product, sline.quantity, ledger.Doc("shipment", shipment.id, shipment.number),
                                  user, lots=made)
    if not sline.batch:
        sline.batch = ", ".join(dict.fromkeys(m.lot.code for m in moves))[:60]


def check_line(shipment: Shipment, line: ShipmentLine, batch: str, user) -> None:
    """Tick a packing-list line off (by tap or scan), recording the batch."""
    if shipment.status != "packing":
        raise TransitionError(409, N_("This shipment is not in a state that allows this."))
    line.batch = batch or line.batch
    line.checked_at, line.checked_by_id = utcnow(), user.id
    audit.record("shipment.line_checked", shipment, actor=user,
                 after={"model": line.order_line.model, "quantity": str(line.quantity), "batch": line.batch})


def pack(shipment: Shipment, user) -> str:
    """All lines checked: the shipment is packed (a counted mismatch needs a supervisor's override)."""
    from .packing import guard_close
    guard_close(shipment)
    status = transition(shipment, lifecycle.MACHINE, "pack", user)
    shipment.packed_at = utcnow()
    return status


def dispatch(shipment: Shipment, files, note: str, user=None, courier_link=None) -> str:
    """The courier (or the warehouse) confirms pickup with photos; the customer gets the receipt link.
    Refused (409) while another domain holds it (receivables: 款到发货 for an overdue customer)."""
    for _receiver, held in signals.shipment_dispatching.send(shipment) if shipment.status == "packed" else ():
        if held:
            message, params = held
            raise TransitionError(409, message, **params)
    if courier_link is not None:
        status = transition(shipment, lifecycle.MACHINE, "dispatch", roles={"courier"}, actor_kind="link",
                            actor_label="courier", note=note or None)
    else:
        status = transition(shipment, lifecycle.MACHINE, "dispatch", user, note=note or None)
    shipment.dispatched_at, shipment.dispatch_note = utcnow(), note
    save_photos(files, "dispatch", shipment.id, user)
    order = shipment.order
    link = links.issue("delivery_receipt", shipment.id, days=30)
    notify("shipment.dispatched", [Recipient.customer_of(order)], order=order, shipment=shipment, link=link)
    db.session.flush()
    if order.status in order_lifecycle.MACHINE.transitions["ship"].sources and order.all_dispatched:
        transition(order, order_lifecycle.MACHINE, "ship", roles={"system"}, actor_kind="system",
                   detail={"shipments": len(order.shipments)})
    return status


def report_problem(shipment: Shipment, note: str, files, courier_link=None, user=None) -> None:
    """The courier reports a problem on the way (with photos)."""
    event = audit.record("shipment.problem", shipment, actor=user,
                         actor_kind="link" if courier_link is not None else None,
                         actor_label="courier" if courier_link is not None else None, note=note)
    db.session.flush()
    save_photos(files, "shipment_problem", event.id, user)


def delivery_note(shipment: Shipment) -> dict:
    """The delivery note the customer signs: what was shipped (no prices)."""
    return {
        "shipment": shipment.number,
        "order": shipment.order.number,
        "customer_po": shipment.order.customer_po,
        "lines": [{"model": line.order_line.model, "customer_part_no": line.order_line.customer_part_no,
                   "quantity": f"{line.quantity:.3f}", "unit": line.order_line.unit, "batch": line.batch}
                  for line in shipment.lines],
    }


def receipt_consent_text() -> str:
    """What the customer agrees to when signing for a delivery."""
    from ..firm import get_settings
    return _("I confirm the quantities and conditions above for this delivery. The firm keeps my name, "
             "signature or stamped note, photos, the time, my IP address and device type as proof of "
             "delivery for %(years)s years, and uses them for no other purpose.",
             years=get_settings().retention_years)


def sign_receipt(shipment: Shipment, link, lines: list[dict], signer_name: str, relation: str,
                 strokes_raw: str | None, stamped_files, photo_files, ip: str, user_agent: str,
                 taken_on: str = "customer", signed_at=None):
    """Store the customer's receipt; damage or a shortfall opens a return case with a 24 h clock
    (from signed_at, the phone's clock, when it was signed without signal)."""
    lifecycle.MACHINE.check(shipment, "deliver", {"customer"})
    if shipment.receipt is not None:
        raise TransitionError(409, N_("This delivery has already been signed for."))
    # Two shipments of one order signed for at the same moment (PostgreSQL locks rows, not the
    # database): the second waits here for the first, so it sees the follow-up the first planned and
    # whether the order is now delivered in full (the soak found both writing the follow-up: a 500).
    order_model = type(shipment.order)
    db.session.execute(db.select(order_model.id).where(order_model.id == shipment.order_id).with_for_update())
    note = delivery_note(shipment)
    receipt = DeliveryReceipt(shipment=shipment, signer_name=signer_name, signer_relation=relation,
                              consent_text=receipt_consent_text(), consent_version=RECEIPT_CONSENT_VERSION,
                              note_json=canonical_json(note), note_sha256=sha256_of(note), taken_on=taken_on,
                              ip_address=ip[:64], user_agent=user_agent[:300])
    if signed_at is not None:
        receipt.signed_at = signed_at
    if strokes_raw:
        strokes = parse_strokes(strokes_raw)
        receipt.strokes_json, receipt.signature_svg = json.dumps(strokes), render_svg(strokes)
    db.session.add(receipt)
    db.session.flush()
    if not strokes_raw:
        stamped = save_photos(stamped_files, "stamped_note", receipt.id, limit=1)
        receipt.stamped_photo_id = stamped[0].id
    save_photos(photo_files, "receipt", receipt.id)
    problems = []
    for entry in lines:
        sline = entry["line"]
        line = ReceiptLine(shipment_line=sline, received_qty=entry["received"], condition=entry["condition"],
                           note=entry["note"])
        receipt.lines.append(line)
        if is_problem(line):
            problems.append(problem_text(line))
    receipt.has_exception = bool(problems)
    db.session.flush()
    transition(shipment, lifecycle.MACHINE, "deliver", roles={"customer"}, actor_kind="link",
               actor_label=signer_name, detail={"sha256": receipt.note_sha256, "taken_on": taken_on})
    shipment.delivered_at = utcnow()
    if shipment.return_case_id is not None:
        returns.replacement_delivered(shipment)  # the exchange is done
    if link is not None:
        link.used_at = utcnow()
    order = shipment.order
    if problems:
        case = ReturnCase(shipment=shipment, order=order, reason="; ".join(problems),
                          due_at=clocks.RETURN_START.due(receipt.signed_at))
        db.session.add(case)
        audit.record("return.opened", order, actor_kind="link", actor_label=signer_name,
                     entity_type="order", after={"shipment": shipment.number, "reason": case.reason})
    signals.receipt_signed.send(order, signed_at=receipt.signed_at)  # after-sales plans its follow-up
    db.session.flush()
    if order.status == "shipped" and order.all_delivered:
        transition(order, order_lifecycle.MACHINE, "deliver", roles={"system"}, actor_kind="system")
        signals.order_delivered.send(order)  # after-sales sends the survey
    signals.receipt_recorded.send(receipt)  # the customer's PDF copy goes by mail, made after the commit
    return receipt


def receipt_thanks(shipment: Shipment) -> str:
    """What the customer reads after signing: thanks, or an apology with the return promise (its
    time from clocks.RETURN_START, so the words match the due time staff see)."""
    if shipment.receipt is not None and shipment.receipt.has_exception:
        return _("We are sorry about the problem. Our after-sales team starts a return or exchange within %(rule)s.",
                 rule=clocks.RETURN_START.rule())
    return _("Your receipt of shipment %(number)s is recorded.", number=shipment.number)


def is_problem(line: ReceiptLine) -> bool:
    """Damage, a missing line or a shortfall."""
    return line.condition != "ok" or line.received_qty < line.shipment_line.quantity


def problem_text(line: ReceiptLine) -> str:
    """One receipt line's problem in words, in the current language: the condition's label, never
    its key ("GEAR-45: Damaged 58/60", "GEAR-45：破损 58/60")."""
    from ..labels import label
    from ..templating import quantity
    text = _("%(model)s: %(condition)s %(received)s/%(shipped)s", model=line.shipment_line.order_line.model,
             condition=label(line.condition, "condition"), received=quantity(line.received_qty),
             shipped=quantity(line.shipment_line.quantity))
    return f"{text} {line.note}".strip()


def return_reason(case: ReturnCase) -> str:
    """What went wrong, in the reader's language, from the signed receipt (case.reason keeps the
    words stored when it opened, in the signer's language)."""
    from ..templating import list_in_words
    receipt = case.shipment.receipt
    problems = [problem_text(line) for line in receipt.lines if is_problem(line)] if receipt else []
    return list_in_words(problems) if problems else case.reason


def start_return(case: ReturnCase, user, action: str) -> None:
    """Someone takes the return case on: the 24 h clock stops."""
    transition(case, lifecycle.RETURN_CASE, "start", user, note=action)
    case.started_at, case.started_by_id, case.action = utcnow(), user.id, action
    returns.after_start(case, user)  # the next step and its clock
    audit.record("return.started", case.order, actor=user, entity_type="order", note=action,
                 after={"late": case.started_at > case.due_at})


def close_return(case: ReturnCase, user, outcome: str, note: str) -> None:
    """The return case is settled with an outcome and a note (403 wrong role, 409 already closed);
    with the order's last blocker settled the satisfaction survey goes out."""
    if case.status == "closed":
        raise TransitionError(409, N_("This return case is already closed."))
    if outcome not in lifecycle.RETURN_OUTCOMES:
        raise TransitionError(409, N_("Choose how the return case ended."))
    transition(case, lifecycle.RETURN_CASE, "close", user, note=note, detail={"outcome": outcome})
    case.closed_at, case.closed_by_id, case.outcome, case.close_note = utcnow(), user.id, outcome, note
    audit.record("return.closed", case.order, actor=user, entity_type="order", note=note,
                 after={"shipment": case.shipment.number, "outcome": outcome})
    db.session.flush()
    signals.return_case_closed.send(case.order)  # the survey may go now


def customer_returns(order_id: int) -> list[dict]:
    """The order's return cases as the customer sees them: where each stands in words (an outcome once
    closed), its latest replacement, the reason of a refusal; no costs, credits or internal notes."""
    from flask_babel import gettext
    rows = []
    for case in db.session.scalars(db.select(ReturnCase).where(ReturnCase.order_id == order_id)
                                   .order_by(ReturnCase.id)).all():
        if case.status == "closed":
            state = gettext(lifecycle.RETURN_OUTCOMES.get(case.outcome) or lifecycle.RETURN_LABELS["closed"])
        else:
            state = gettext(lifecycle.RETURN_LABELS[case.status])
        pickup = case.pickups[-1] if case.pickups and case.status == "collecting" else None
        rows.append({"case": case, "state": state, "pickup": pickup,
                     "replacement": case.replacements[-1] if case.replacements else None})
    return rows
