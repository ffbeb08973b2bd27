"""Packing by counted scans: an item's barcode counts one, a carton's label counts its content; each
count fills a packing-list line and records the lot it came from (the stock ledger's lots this
shipment took). A wrong item, a wrong lot, a carton scanned twice or too many are refused at once
with a message; the list closes with a mismatch only when a supervisor overrides it with a reason.

A carton label's QR is an absolute URL under PUBLIC_URL: /k/<token>?n=<count>&lot=<lot>&s=<signature>.
The token is the carton's secret (as a lot label's); the count and lot ride along so that a person
(or a phone without signal) reads them from the code, and the HMAC under the app's secret key binds
them to the token: a label whose count or lot was changed is refused as not genuine."""
import base64
import hashlib
import hmac
import json
import re
import secrets
from collections import defaultdict
from decimal import Decimal
from urllib.parse import parse_qs, quote, urlsplit

from flask import current_app
from flask_babel import gettext as _

from .. import audit, links
from ..extensions import db
from ..statemachine import N_, TransitionError
from ..stock import Lot, StockMove
from ..stock import products as stock_products
from ..templating import quantity as shown
from ..wallclock import utcnow
from .models import Shipment, ShipmentLine
from .packing_models import Carton, PackingOverride, PackScan

CARTON_PATH = re.compile(r"/k/([A-Za-z0-9_-]{16,40})$")
SUPERVISORS = frozenset({"operations", "manager"})


class PackingProblem(Exception):
    """A scan that cannot count; message is already translated, status the HTTP status."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


# --- carton labels --------------------------------------------------------------------------------

def _signature(token: str, count: str, lot: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, f"carton|{token}|{count}|{lot}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:12]).decode().rstrip("=")


def _count_text(carton: Carton) -> str:
    """The count as the label carries it: a plain number without trailing zeros."""
    text = f"{carton.quantity:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def carton_url(carton: Carton) -> str:
    """What the carton label's QR carries: its token, count and lot, signed."""
    count, lot = _count_text(carton), carton.lot.code if carton.lot else ""
    signature = _signature(carton.token, count, lot)
    return links.absolute(f"/k/{carton.token}?n={count}&lot={quote(lot, safe='')}&s={signature}")


def carton_label(carton: Carton) -> tuple[str, list[str]]:
    """(QR URL, lines) for the carton's label: the number first (it prints across the bottom), then
    the product, count and lot, the order, weight and dimensions."""
    lines = [carton.number]
    if carton.product is not None:
        lines.append(f"{carton.product.model} × {shown(carton.quantity)} {carton.product.unit}")
    elif carton.contents:
        lines.append(carton.contents)
    if carton.lot is not None:
        lines.append(_("Lot %(code)s", code=carton.lot.code))
    if carton.order is not None:
        lines.append(carton.order.number or "")
    if carton.weight_kg is not None:
        lines.append(_("%(kg)s kg", kg=shown(carton.weight_kg)) + (
            f" · {shown(carton.length_cm)}×{shown(carton.width_cm)}×{shown(carton.height_cm)} cm"
            if carton.length_cm and carton.width_cm and carton.height_cm else ""))
    return carton_url(carton), lines


def is_carton_code(code: str) -> bool:
    """Whether a scanned code is a carton label's URL (of any host: the server decides if it is ours)."""
    parts = urlsplit(code)
    return parts.scheme in ("http", "https") and CARTON_PATH.search(parts.path) is not None


def carton_from_code(code: str, lock: bool = False) -> Carton:
    """The carton a label's code names, its signature and payload checked; PackingProblem otherwise
    (an unknown token reads as unknown, a changed count or lot as not genuine)."""
    parts = urlsplit(code)
    match = CARTON_PATH.search(parts.path)
    if match is None:
        raise PackingProblem(404, _("Unknown code: %(code)s", code=code[:80]))
    query = parse_qs(parts.query, keep_blank_values=True)
    count, lot, signature = (query.get(name, [""])[0] for name in ("n", "lot", "s"))
    genuine = hmac.compare_digest(signature.encode(), _signature(match.group(1), count, lot).encode())
    token = match.group(1)
    query = db.select(Carton).where(Carton.token == token)
    if lock:  # two tablets scanning this carton at once: the second waits and sees it packed
        query = query.with_for_update().execution_options(populate_existing=True)
    carton = db.session.scalar(query)
    if carton is None:
        raise PackingProblem(404, _("This carton label is not known here: it was not printed by this firm."))
    if not genuine or count != _count_text(carton) or lot != (carton.lot.code if carton.lot else ""):
        raise PackingProblem(409, _("Carton %(number)s: this label is not genuine (its count or lot does not match "
                                    "what was printed). Put the carton aside and tell a supervisor.",
                                    number=carton.number))
    return carton


def make_cartons(order, product, lot: Lot | None, per_carton: Decimal, count: int, user, *, weight_kg=None,
                 dims=(None, None, None), prefix: str = "") -> list[Carton]:
    """count labelled cartons of per_carton of product from lot, made for order (numbered
    <prefix>-C01…; the prefix defaults to the order's number)."""
    if count < 1 or count > 200 or per_carton <= 0:
        raise TransitionError(409, N_("Make between 1 and 200 cartons of more than zero each."))
    prefix = prefix or (order.number if order is not None else "CTN")
    taken = db.session.scalar(db.select(db.func.count()).select_from(Carton).where(
        Carton.number.like(f"{prefix}-C%")))
    made = []
    for index in range(count):
        carton = Carton(token=secrets.token_urlsafe(18), number=f"{prefix}-C{taken + index + 1:02d}",
                        order=order, product=product, lot=lot, quantity=per_carton, weight_kg=weight_kg,
                        length_cm=dims[0], width_cm=dims[1], height_cm=dims[2],
                        contents=f"{product.model} × {shown(per_carton)} {product.unit}",
                        created_by_id=getattr(user, "id", None))
        db.session.add(carton)
        made.append(carton)
    db.session.flush()
    audit.record("carton.made", order, actor=user, entity_type="order",
                 after={"cartons": [c.number for c in made], "lot": lot.code if lot else "",
                        "each": str(per_carton), "model": product.model})
    return made


def shipment_cartons(shipment: Shipment) -> list[Carton]:
    """The cartons packed in the shipment, then those made for it still to pack, by number."""
    return list(db.session.scalars(db.select(Carton).where(db.or_(
        Carton.shipment_id == shipment.id,
        db.and_(Carton.shipment_id.is_(None), Carton.order_id == shipment.order_id)))
        .order_by(Carton.number, Carton.id)))


def set_carton_size(carton: Carton, weight_kg, length_cm, width_cm, height_cm, contents: str, user) -> None:
    """Record a carton's weight (kg), dimensions (cm) and contents as weighed and measured."""
    carton.weight_kg, carton.length_cm, carton.width_cm, carton.height_cm = weight_kg, length_cm, width_cm, height_cm
    carton.contents = contents[:500]
    audit.record("carton.measured", carton, actor=user, entity_type="carton",
                 after={"number": carton.number, "kg": str(weight_kg), "cm": [str(length_cm), str(width_cm),
                                                                                  str(height_cm)]})


# --- what the shipment took, and what is counted -----------------------------------------------

def packed(shipment: Shipment) -> dict[int, Decimal]:
    """What is counted per packing-list line."""
    rows = db.session.execute(db.select(PackScan.shipment_line_id, db.func.sum(PackScan.quantity))
                              .where(PackScan.shipment_id == shipment.id).group_by(PackScan.shipment_line_id))
    return {line_id: Decimal(total or 0) for line_id, total in rows}


def taken_lots(shipment: Shipment, material_id: int) -> dict[int, Decimal]:
    """The lots the shipment took out of stock for the material (the ledger's ship movements)."""
    rows = db.session.execute(db.select(StockMove.lot_id, db.func.sum(StockMove.quantity)).where(
        StockMove.doc_type == "shipment", StockMove.doc_id == shipment.id, StockMove.kind == "ship",
        StockMove.material_id == material_id).group_by(StockMove.lot_id))
    return {lot_id: -Decimal(total or 0) for lot_id, total in rows}


def _packed_lots(shipment: Shipment) -> dict[int, Decimal]:
    rows = db.session.execute(db.select(PackScan.lot_id, db.func.sum(PackScan.quantity))
                              .where(PackScan.shipment_id == shipment.id, PackScan.lot_id.is_not(None))
                              .group_by(PackScan.lot_id))
    return {lot_id: Decimal(total or 0) for lot_id, total in rows}


def lines_for(shipment: Shipment, product) -> list[ShipmentLine]:
    """The packing-list lines of shipment for product (order lines made before products were linked
    carry only the model)."""
    return [line for line in shipment.lines
            if line.order_line.product_id == product.id
            or (line.order_line.product_id is None and line.order_line.model == product.model)]


def _line_with_room(shipment: Shipment, product, wanted: Decimal) -> ShipmentLine:
    lines = lines_for(shipment, product)
    if not lines:
        raise PackingProblem(409, _("Wrong item: %(model)s is not on this packing list.", model=product.model))
    counted = packed(shipment)
    for line in lines:
        if counted.get(line.id, Decimal("0")) + wanted <= line.quantity:
            return line
    left = sum((line.quantity - counted.get(line.id, Decimal("0")) for line in lines), Decimal("0"))
    raise PackingProblem(409, _("Too many: this adds %(n)s but only %(left)s of %(model)s are still to pack.",
                                n=shown(wanted), left=shown(max(left, Decimal("0"))), model=product.model))


def _check_lot(shipment: Shipment, product, lot: Lot, wanted: Decimal) -> None:
    """A lot may be packed when it is released and is one this shipment took from stock (up to what it
    took); for a shipment that took nothing from the ledger, when the lot has stock."""
    if lot.status != "available":
        raise PackingProblem(409, _("Wrong lot: lot %(lot)s is not released (waiting for inspection or blocked).",
                                    lot=lot.code))
    material = stock_products.material_for_product(product)
    if lot.material_id != material.id:
        raise PackingProblem(409, _("Wrong lot: lot %(lot)s is not a lot of %(model)s.", lot=lot.code,
                                    model=product.model))
    taken = taken_lots(shipment, material.id)
    if not taken:
        if lot.on_hand <= 0:
            raise PackingProblem(409, _("Wrong lot: lot %(lot)s has no stock.", lot=lot.code))
        return
    if lot.id not in taken:
        codes = ", ".join(db.session.scalars(db.select(Lot.code).where(Lot.id.in_(taken)).order_by(Lot.code)))
        raise PackingProblem(409, _("Wrong lot: lot %(lot)s is not in the stock taken for this shipment "
                                    "(lots %(lots)s).", lot=lot.code, lots=codes))
    if _packed_lots(shipment).get(lot.id, Decimal("0")) + wanted > taken[lot.id]:
        raise PackingProblem(409, _("Too many of lot %(lot)s: this shipment took %(n)s of it.", lot=lot.code,
                                    n=shown(taken[lot.id])))


def _next_lot(shipment: Shipment, product) -> Lot | None:
    """The lot an item scanned by its maker's barcode came from: the first lot this shipment took
    that is not all counted yet (first in, first out), None when it took none from the ledger."""
    material = stock_products.material_for_product(product)
    taken = taken_lots(shipment, material.id)
    counted = _packed_lots(shipment)
    for lot_id in sorted(taken):
        if counted.get(lot_id, Decimal("0")) < taken[lot_id]:
            return db.session.get(Lot, lot_id)
    return None


def _count(shipment: Shipment, line: ShipmentLine, quantity: Decimal, lot: Lot | None, user, carton=None) -> dict:
    scan = PackScan(shipment_id=shipment.id, shipment_line_id=line.id, carton=carton, lot=lot, quantity=quantity,
                    kind="carton" if carton is not None else "item", user_id=user.id, at=utcnow())
    db.session.add(scan)
    if carton is not None:
        carton.shipment_id, carton.packed_at, carton.packed_by_id = shipment.id, utcnow(), user.id
    db.session.flush()
    total = packed(shipment).get(line.id, Decimal("0"))
    lots = list(dict.fromkeys(db.session.scalars(
        db.select(Lot.code).join(PackScan, PackScan.lot_id == Lot.id).where(PackScan.shipment_line_id == line.id)
        .order_by(PackScan.id))))
    if lots:
        line.batch = ", ".join(lots)[:60]
    if total == line.quantity and line.checked_at is None:
        line.checked_at, line.checked_by_id = utcnow(), user.id
    audit.record("shipment.counted", shipment, actor=user,
                 after={"model": line.order_line.model, "quantity": str(quantity), "lot": lot.code if lot else "",
                        "carton": carton.number if carton is not None else "", "counted": str(total),
                        "of": str(line.quantity)})
    return {"line": line, "counted": total, "lot": lot}


def _packing(shipment: Shipment) -> None:
    if shipment.status != "packing":
        raise PackingProblem(409, _("This shipment is not in a state that allows this."))


def count_item(shipment: Shipment, product, user) -> dict:
    """One item scanned by its maker's barcode: one more of its line, from the next lot to count."""
    _packing(shipment)
    line = _line_with_room(shipment, product, Decimal("1"))
    return _count(shipment, line, Decimal("1"), _next_lot(shipment, product), user)


def count_carton(shipment: Shipment, carton: Carton, user) -> dict:
    """A carton scanned by its label: its whole count, from its lot, once."""
    _packing(shipment)
    if carton.shipment_id == shipment.id:
        raise PackingProblem(409, _("Carton %(number)s was already counted in this shipment: scanned twice.",
                                    number=carton.number))
    if carton.shipment_id is not None:
        raise PackingProblem(409, _("Carton %(number)s is already packed in shipment %(other)s.",
                                    number=carton.number, other=carton.shipment.number))
    if carton.order_id is not None and carton.order_id != shipment.order_id:
        raise PackingProblem(409, _("Wrong item: carton %(number)s was packed for order %(order)s, not this one.",
                                    number=carton.number, order=carton.order.number))
    if carton.product is None or carton.quantity <= 0:
        raise PackingProblem(409, _("Carton %(number)s has no counted content to pack.", number=carton.number))
    line = _line_with_room(shipment, carton.product, carton.quantity)
    if carton.lot is not None:
        _check_lot(shipment, carton.product, carton.lot, carton.quantity)
    return _count(shipment, line, carton.quantity, carton.lot, user, carton=carton)


def progress_of(shipment: Shipment) -> dict[int, dict]:
    """Per line: counted, ordered and whether it is ticked (for the scanner page's rows)."""
    counted = packed(shipment)
    return {line.id: {"counted": counted.get(line.id, Decimal("0")), "quantity": line.quantity,
                      "checked": line.checked_at is not None} for line in shipment.lines}


# --- closing the packing list ---------------------------------------------------------------------

def mismatches(shipment: Shipment, unchecked: bool = True) -> list[dict]:
    """The lines whose count differs from the list (counting began on them) and, with unchecked, the
    lines not ticked off. A line ticked by a tap without counting is taken as checked."""
    counted = packed(shipment)
    out = []
    for line in shipment.lines:
        got = counted.get(line.id, Decimal("0"))
        if (got and got != line.quantity) or (unchecked and line.checked_at is None):
            out.append({"line": line.id, "model": line.order_line.model, "counted": str(got),
                        "quantity": str(line.quantity)})
    return out


def override_of(shipment: Shipment) -> PackingOverride | None:
    """The supervisor's override of the shipment's mismatch, if any."""
    return db.session.scalar(db.select(PackingOverride).where(PackingOverride.shipment_id == shipment.id))


def guard_close(shipment: Shipment) -> None:
    """Refuse (409) to close a packing list whose counts do not match, unless a supervisor overrode it."""
    if mismatches(shipment, unchecked=False) and override_of(shipment) is None:
        raise TransitionError(409, N_("What was counted does not match the packing list. Count again, or a "
                                      "supervisor closes it with a reason."))


def override(shipment: Shipment, user, reason: str) -> PackingOverride:
    """A supervisor closes a packing list that does not match what was counted, with a reason: the
    lines left are ticked off under their name, the mismatch is kept with the reason."""
    from ..permissions import can
    if not can(user, "packing.override"):
        raise TransitionError(403, N_("Only a supervisor may close a packing list that does not match."))
    if shipment.status != "packing":
        raise TransitionError(409, N_("This shipment is not in a state that allows this."))
    reason = (reason or "").replace("\x00", "").strip()
    if not reason:
        raise TransitionError(422, N_("Say why the packing list is closed as it is."))
    found = mismatches(shipment)
    if not found:
        raise TransitionError(409, N_("The packing list matches what was counted: close it as usual."))
    if override_of(shipment) is not None:
        raise TransitionError(409, N_("This packing list was already closed by a supervisor."))
    record = PackingOverride(shipment_id=shipment.id, user_id=user.id, reason=reason[:2000],
                             mismatch_json=json.dumps(found, ensure_ascii=False))
    db.session.add(record)
    for line in shipment.lines:
        if line.checked_at is None:
            line.checked_at, line.checked_by_id = utcnow(), user.id
    audit.record("shipment.packing_override", shipment, actor=user, note=reason, after={"mismatch": found})
    db.session.flush()
    return record


def mismatch_rows(record: PackingOverride) -> list[dict]:
    """The mismatch an override closed, as kept."""
    return json.loads(record.mismatch_json or "[]")


def lots_by_line(shipment: Shipment) -> dict[int, list[tuple[str, Decimal]]]:
    """Per line, each lot counted and how many of it."""
    rows = db.session.execute(db.select(PackScan.shipment_line_id, Lot.code, db.func.sum(PackScan.quantity))
                              .join(Lot, Lot.id == PackScan.lot_id).where(PackScan.shipment_id == shipment.id)
                              .group_by(PackScan.shipment_line_id, Lot.code).order_by(Lot.code))
    out: dict[int, list] = defaultdict(list)
    for line_id, code, total in rows:
        out[line_id].append((code, Decimal(total or 0)))
    return dict(out)
