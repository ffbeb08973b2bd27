"""Stocktaking (盘点): a count of one location. Starting it takes every lot with stock there as the
expected quantity; the counter types (or scans) the counts, adds lots found that were not on the
sheet and gives a reason for each difference, then submits; another person approves, and each
difference is posted as one "count" movement of the ledger.

A lot whose balance changed since the count started (something was received, issued or moved
meanwhile) would be corrected against a number nobody counted: the post is refused naming the
lot, and the sheet goes back for a recount of it.
"""
from decimal import Decimal


from .. import audit
from ..extensions import db
from ..numbering import next_yearly_number
from ..statemachine import N_, TransitionError
from ..wallclock import utcnow
from . import ledger
from .models import Location, Lot, StockBalance, Stocktake, StocktakeLine


def plain(value: Decimal) -> str:
    """A quantity without trailing zeros (0.0042, 12), for a message or an input."""
    text = f"{Decimal(value):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def next_number() -> str:
    """ST-<yyyy>-<nnnn>: the next number of this year (webapp/numbering.py)."""
    return next_yearly_number(Stocktake.number, "ST", utcnow().year)


def balance_of(lot_id: int, location_id: int) -> Decimal:
    """What the lot has in the location now (0 when it never had anything there)."""
    value = db.session.scalar(db.select(StockBalance.on_hand).where(
        StockBalance.lot_id == lot_id, StockBalance.location_id == location_id))
    return Decimal(value or 0)


def start(location: Location, user) -> Stocktake:
    """Open a count of location: one line per lot with stock there, expected = its balance now."""
    if not location.active:
        raise TransitionError(409, N_("This location is no longer in use."))
    stocktake = Stocktake(number=next_number(), location_id=location.id, status="counting",
                          created_by_id=user.id, created_at=utcnow())
    balances = db.session.scalars(
        db.select(StockBalance).join(Lot, Lot.id == StockBalance.lot_id)
        .where(StockBalance.location_id == location.id, StockBalance.on_hand > 0)
        .order_by(StockBalance.material_id, Lot.code)).all()
    stocktake.lines = [StocktakeLine(lot_id=b.lot_id, expected=b.on_hand) for b in balances]
    db.session.add(stocktake)
    db.session.flush()
    audit.record("stocktake.started", stocktake, actor=user, entity_type="stocktake",
                 after={"number": stocktake.number, "location": location.code, "lines": len(stocktake.lines)})
    return stocktake


def _must_count(stocktake: Stocktake) -> None:
    if stocktake.status != "counting":
        raise TransitionError(409, N_("This stocktake was submitted; its counts can no longer change."))


def add_lot(stocktake: Stocktake, lot: Lot, user) -> StocktakeLine:
    """A lot found on the shelf that is not on the sheet (expected: what the ledger has there now)."""
    _must_count(stocktake)
    line = next((line for line in stocktake.lines if line.lot_id == lot.id), None)
    if line is not None:
        return line
    line = StocktakeLine(lot_id=lot.id, expected=balance_of(lot.id, stocktake.location_id))
    stocktake.lines.append(line)
    db.session.flush()
    return line


def record(stocktake: Stocktake, counts: dict[int, tuple[Decimal | None, str]], user) -> None:
    """Keep the typed counts and reasons by line id (None: not counted yet)."""
    _must_count(stocktake)
    for line in stocktake.lines:
        if line.id in counts:
            counted, reason = counts[line.id]
            if counted != line.counted:
                line.counted_by_id = user.id
            line.counted, line.reason = counted, reason[:1000]


def problems(stocktake: Stocktake) -> list[tuple[StocktakeLine, str]]:
    """What stands before submitting or posting: a line not counted, a difference without its reason."""
    out = []
    for line in stocktake.lines:
        if line.counted is None:
            out.append((line, N_("Not counted yet.")))
        elif line.difference and not line.reason.strip():
            out.append((line, N_("Give the reason for the difference.")))
    return out


def submit(stocktake: Stocktake, user) -> None:
    """Hand the counted sheet over for approval: every line counted, every difference explained."""
    _must_count(stocktake)
    if not stocktake.lines:
        raise TransitionError(409, N_("There is nothing on this count sheet; add the lots found."))
    if problems(stocktake):
        raise TransitionError(409, N_("Count every lot and give a reason for each difference first."))
    stocktake.status = "submitted"
    audit.record("stocktake.submitted", stocktake, actor=user, entity_type="stocktake",
                 after={"number": stocktake.number, "differences": len(differences(stocktake))})


def differences(stocktake: Stocktake) -> list[StocktakeLine]:
    """The lines whose count differs from what was expected."""
    return [line for line in stocktake.lines if line.difference]


def moved(stocktake: Stocktake) -> list[StocktakeLine]:
    """The lines whose lot's balance here is no longer what it was when the count started."""
    return [line for line in stocktake.lines if balance_of(line.lot_id, stocktake.location_id) != line.expected]


def post(stocktake: Stocktake, user) -> list:
    """Approve the submitted count and post each difference as one "count" movement. Refused when it
    is not waiting for approval (posted already: nothing twice), when the approver counted it, and
    when a lot moved since the count started (named: it must be counted again)."""
    if stocktake.status == "posted":
        raise TransitionError(409, N_("This stocktake is already posted; nothing was posted again."))
    if stocktake.status != "submitted":
        raise TransitionError(409, N_("This stocktake has not been submitted yet."))
    counters = {stocktake.created_by_id} | {line.counted_by_id for line in stocktake.lines}
    if user.id in counters:
        raise TransitionError(409, N_("Someone other than the counter must approve a stocktake."))
    if problems(stocktake):
        raise TransitionError(409, N_("Count every lot and give a reason for each difference first."))
    location = db.session.get(Location, stocktake.location_id)
    moves = []
    for line in stocktake.lines:
        lot = line.lot
        ledger.lock_material(lot.material_id)  # the balance read below is the one the movement changes
        now = balance_of(lot.id, location.id)
        if now != line.expected:
            raise TransitionError(409, N_("Lot %(lot)s of %(material)s changed since the count started "
                                          "(now %(now)s, expected %(expected)s): count it again."),
                                  lot=lot.code, material=lot.material.code, now=plain(now),
                                  expected=plain(line.expected))
        if line.difference:
            moves.append(ledger.post("count", lot, location, line.difference,
                                     doc=ledger.Doc("stocktake", stocktake.id, stocktake.number),
                                     reason=line.reason.strip(), user=user))
    stocktake.status, stocktake.approved_by_id, stocktake.posted_at = "posted", user.id, utcnow()
    audit.record("stocktake.posted", stocktake, actor=user, entity_type="stocktake",
                 after={"number": stocktake.number, "movements": len(moves)})
    return moves


def reopen(stocktake: Stocktake, user) -> list[StocktakeLine]:
    """Send a submitted count back for a recount: the lots that moved since it started take what the
    ledger has now as expected, and their counts are cleared (the others keep theirs)."""
    if stocktake.status != "submitted":
        raise TransitionError(409, N_("Only a submitted stocktake can go back for a recount."))
    changed = moved(stocktake)
    for line in changed:
        line.expected = balance_of(line.lot_id, stocktake.location_id)
        line.counted, line.counted_by_id = None, None
    stocktake.status = "counting"
    audit.record("stocktake.reopened", stocktake, actor=user, entity_type="stocktake",
                 after={"number": stocktake.number, "recount": [line.lot.code for line in changed]})
    return changed
