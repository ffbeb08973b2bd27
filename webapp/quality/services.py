"""What quality does: pick the plan for a stage, start an inspection (a received lot, a work order,
a first article), record what the sample showed, decide, and deal with what failed; first articles
the customer approves through a link. Every change is audited; a failure holds what it inspected
(the lot is blocked, the order's packing waits: holds_for_order) until its rejected quantity has been
dispositioned."""
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext
from sqlalchemy import or_

from .. import audit, links, signals
from ..auth import User
from ..customers import Customer
from ..extensions import db
from ..numbering import next_yearly_number
from ..firm import get_settings
from ..forms import NumberError, parse_decimal
from ..notify import Recipient, notify
from ..orders import Order, OrderLine
from ..production import WorkOrder
from ..production import services as floor
from ..statemachine import N_, TransitionError
from ..stock import Lot, ledger
from ..wallclock import utcnow
from . import notices  # noqa: F401  (the messages notify() sends)
from .models import DISPOSITIONS, FirstArticle, Inspection, InspectionPlan, InspectionValue
from .sampling import SamplingError, sample_for

# What may happen to the rejected pieces, by what was inspected.
LOT_DISPOSITIONS = ("scrap", "return", "use_as_is")
WORK_ORDER_DISPOSITIONS = ("rework", "scrap")
DECISIONS = ("pass", "conditional", "fail")
WORK_ORDER_STAGES = ("in_process", "final")
# How long a first article's customer link stays open (days).
FIRST_ARTICLE_LINK_DAYS = 14
MOST_DEFECTS = 1_000_000
MOST_VALUE = Decimal("1000000000")
FIRST_ARTICLE_MESSAGE = N_("The customer has not approved a first article yet: mass production waits.")


# --- Plans and numbers ----------------------------------------------------------------------------

def pick_plan(stage: str, *, product_id: int | None = None, material_id: int | None = None,
              customer_id: int | None = None) -> InspectionPlan | None:
    """The plan for a stage: the customer's own (for this product or material, else for all of
    theirs) first, then the product's or material's, else None (a plain pass/fail with a count)."""
    thing = []
    if product_id is not None:
        thing.append(InspectionPlan.product_id == product_id)
    if material_id is not None:
        thing.append(InspectionPlan.material_id == material_id)
    plans = db.session.scalars(db.select(InspectionPlan).where(
        InspectionPlan.stage == stage, InspectionPlan.active.is_(True),
        or_(InspectionPlan.customer_id.is_(None), InspectionPlan.customer_id == customer_id)
        if customer_id is not None else InspectionPlan.customer_id.is_(None),
    ).order_by(InspectionPlan.id)).all()

    def rank(plan):
        for_thing = (plan.product_id is not None and plan.product_id == product_id) or (
            plan.material_id is not None and plan.material_id == material_id)
        general = plan.product_id is None and plan.material_id is None
        if plan.customer_id is not None:
            return 0 if for_thing else (1 if general else None)
        return 2 if for_thing else None  # a plan for no customer and no product fits nothing
    ranked = sorted(((rank(p), p.id, p) for p in plans if rank(p) is not None), key=lambda r: r[:2])
    return ranked[0][2] if ranked else None


def _next_number() -> str:
    """QC-<year>-<nnnn>: the next free inspection number of this year (webapp/numbering.py)."""
    return next_yearly_number(Inspection.number, "QC", utcnow().year)


def _sample(inspection: Inspection, plan, lot_size: Decimal) -> None:
    try:
        found = sample_for(plan, lot_size)
    except SamplingError as error:
        raise TransitionError(409, str(error)) from None
    inspection.sample_size, inspection.accept_number = found.size, found.accept


def describe_sample(inspection: Inspection):
    """How the sample size was found (for the inspect page), or None for an inspection with no plan."""
    try:
        return sample_for(inspection.plan, inspection.lot_size) if inspection.lot_size > 0 else None
    except SamplingError:
        return None


def _new(stage: str, plan, lot_size: Decimal, user, **where) -> Inspection:
    inspection = Inspection(number=_next_number(), stage=stage, plan=plan, lot_size=lot_size,
                            inspector_id=user.id, **where)
    _sample(inspection, plan, lot_size)
    db.session.add(inspection)
    db.session.flush()
    for item in (plan.items if plan is not None else []):
        db.session.add(InspectionValue(inspection=inspection, item_id=item.id, name=item.name, ok=True))
    db.session.flush()
    return inspection


def _pending(**where) -> Inspection | None:
    return db.session.scalars(db.select(Inspection).filter_by(result="pending", **where)
                              .order_by(Inspection.id.desc()).limit(1)).first()


# --- Starting --------------------------------------------------------------------------------------

def start_incoming(lot: Lot, user) -> Inspection:
    """The incoming inspection of a received lot waiting in quarantine (the one already started, if
    there is one)."""
    if lot.status != "quarantine":
        raise TransitionError(409, N_("This lot is not waiting for incoming inspection."))
    started = _pending(lot_id=lot.id, stage="incoming")
    if started is not None:
        return started
    material = lot.material
    size = lot.on_hand
    if size <= 0:
        raise TransitionError(409, N_("This lot has nothing in stock to inspect."))
    plan = pick_plan("incoming", material_id=material.id, product_id=material.product_id,
                     customer_id=material.customer_id)
    inspection = _new("incoming", plan, size, user, lot_id=lot.id)
    audit.record("inspection.started", inspection, actor=user, entity_type="inspection",
                 after={"number": inspection.number, "lot": lot.code, "sample": inspection.sample_size})
    return inspection


def start_work_order(work_order: WorkOrder, stage: str, user) -> Inspection:
    """An in-process or final inspection of a work order (final: when it waits for QC)."""
    if stage not in WORK_ORDER_STAGES:
        raise TransitionError(409, N_("Choose in-process or final inspection."))
    if stage == "final" and work_order.status != "qc":
        raise TransitionError(409, N_("The work order is not waiting for final inspection."))
    if stage == "in_process" and work_order.status not in ("in_progress", "materials_ready", "planned"):
        raise TransitionError(409, N_("In-process inspection is for work in progress."))
    started = _pending(work_order_id=work_order.id, stage=stage)
    if started is not None:
        return started
    size = work_order.good if stage == "final" else max(work_order.good, Decimal("1"))
    if size <= 0:
        raise TransitionError(409, N_("There are no good pieces to inspect yet."))
    order = work_order.order  # None: a stocking instruction (the product's plan applies)
    plan = pick_plan(stage, product_id=work_order.item.product_id, customer_id=order.customer_id if order else None)
    inspection = _new(stage, plan, size, user, work_order_id=work_order.id, order_id=order.id if order else None)
    audit.record("inspection.started", inspection, actor=user, entity_type="inspection",
                 after={"number": inspection.number, "work_order": work_order.number,
                        "sample": inspection.sample_size})
    return inspection


def start_first_article(work_order: WorkOrder, user, kind: str = "first_piece", note: str = "") -> FirstArticle:
    """A first article (or sample) of a work order: its inspection, to send to the customer later
    (the one not yet decided by the customer, if there is one)."""
    if kind not in ("first_piece", "sample"):
        raise TransitionError(409, N_("Choose a first piece or a sample."))
    if work_order.status == "done":
        raise TransitionError(409, N_("This work order is done."))
    open_one = db.session.scalars(db.select(FirstArticle).where(
        FirstArticle.work_order_id == work_order.id, FirstArticle.status.in_(("waiting", "sent")))
        .order_by(FirstArticle.id.desc()).limit(1)).first()
    if open_one is not None:
        return open_one
    if work_order.order is None:
        raise TransitionError(409, N_("A stocking instruction has no customer to approve a first article."))
    order = work_order.order
    plan = pick_plan("first_article", product_id=work_order.line.product_id, customer_id=order.customer_id)
    inspection = _new("first_article", plan, Decimal("1"), user, work_order_id=work_order.id, order_id=order.id)
    article = FirstArticle(order_id=order.id, work_order_id=work_order.id, inspection_id=inspection.id,
                           kind=kind, note=note, created_by_id=user.id)
    db.session.add(article)
    db.session.flush()
    audit.record("inspection.started", inspection, actor=user, entity_type="inspection",
                 after={"number": inspection.number, "work_order": work_order.number, "first_article": article.id})
    return article


# --- Recording and deciding ------------------------------------------------------------------------

@dataclass
class Reading:
    """What the inspector entered for one item: a number (measured items) or ok / not ok."""

    value: str = ""
    ok: bool | None = None
    note: str = ""


class ReadingErrors(Exception):
    """Values that are not numbers: {value row id: message}; nothing was kept."""

    def __init__(self, errors: dict[int, str]):
        super().__init__("readings")
        self.errors = errors


def parse_reading(text: str) -> Decimal:
    """A measured value as typed in the reader's locale ("12.5", "１２．５", "-0.02"), or NumberError."""
    return parse_decimal(text, places=6, minimum=-MOST_VALUE, maximum=MOST_VALUE)


def _check_pending(inspection: Inspection) -> None:
    if inspection.result != "pending":
        raise TransitionError(409, N_("This inspection is already decided."))


def record(inspection: Inspection, user, readings: dict[int, Reading], defects: int) -> None:
    """Keep the values per plan item (a measured one is ok when within its limits) and the number
    of defective pieces in the sample; nothing is kept when one value is not a number."""
    _check_pending(inspection)
    if not isinstance(defects, int) or not 0 <= defects <= min(inspection.sample_size or MOST_DEFECTS,
                                                                MOST_DEFECTS):
        raise TransitionError(422, N_("Defective pieces: between zero and the sample size."))
    parsed, errors = {}, {}
    for row in inspection.values:
        reading = readings.get(row.id)
        if reading is None:
            continue
        item = row.item
        if item is not None and item.measured:
            if reading.value.strip():
                try:
                    number = parse_reading(reading.value)
                except NumberError as error:
                    errors[row.id] = str(error)
                    continue
                parsed[row.id] = (number, item.within(number), reading.note)
            else:
                parsed[row.id] = (None, True, reading.note)
        else:
            parsed[row.id] = (None, reading.ok is not False, reading.note)
    if errors:
        raise ReadingErrors(errors)
    for row in inspection.values:
        if row.id in parsed:
            row.value, row.ok, row.note = parsed[row.id][0], parsed[row.id][1], parsed[row.id][2][:2000]
    inspection.defects = defects


def out_of_limits(inspection: Inspection) -> list[InspectionValue]:
    """The items recorded as not ok."""
    return [v for v in inspection.values if not v.ok]


def decide(inspection: Inspection, result: str, user, note: str = "") -> Inspection:
    """Pass, conditional (released with a note: counts as a pass) or fail. A pass is refused when
    the sample has more defective pieces than the plan accepts or an item is out of its limits."""
    _check_pending(inspection)
    if result not in DECISIONS:
        raise TransitionError(422, N_("Choose pass, conditional release or fail."))
    note = (note or "").strip()
    if result == "pass" and (inspection.defects > inspection.accept_number or out_of_limits(inspection)):
        raise TransitionError(409, N_("The sample has more defects than the plan accepts: fail it or release "
                                      "it conditionally with a note."))
    if result == "conditional" and not note:
        raise TransitionError(422, N_("Say why it is released conditionally."))
    if result == "fail" and inspection.work_order_id is not None \
            and _locked_work_order(inspection.work_order_id).status == "done":
        # Its pieces passed QC after this inspection began: they are a finished-goods lot now and may
        # have shipped, so failing them here would leave fewer good pieces than were shipped.
        raise TransitionError(409, N_("The work order has passed QC since this inspection began: release "
                                      "it conditionally with a note and deal with the goods in stock."))
    inspection.result, inspection.note = result, note[:4000]
    inspection.decided_at = utcnow()
    inspection.inspector_id = user.id
    passed = result != "fail"
    if inspection.stage == "incoming":
        _set_lot(inspection.lot, "available" if passed else "blocked", user)
    elif inspection.stage == "final" and passed:
        work_order = _locked_work_order(inspection.work_order_id)
        if work_order.status == "qc":
            floor.move(work_order, "pass_qc", user, note=note or None)
    elif inspection.stage == "first_article" and not passed:
        # failed in our own hands: it never goes to the customer; the next one is a new first article
        article = db.session.scalar(db.select(FirstArticle).where(FirstArticle.inspection_id == inspection.id))
        if article is not None and article.status == "waiting":
            article.status = "rejected"
    _audit_decision(inspection, user)
    return inspection


def _set_lot(lot: Lot, status: str, user) -> None:
    before = lot.status
    if before == status:
        return
    lot.status = status
    audit.record("lot.status", lot, actor=user, entity_type="lot", before={"status": before},
                 after={"status": status})
    db.session.flush()  # written before anyone hears of it (SQLite's read phase stops here: transaction.py)
    signals.lot_status_changed.send(lot, status=status, before=before, user=user)


def _audit_decision(inspection: Inspection, user) -> None:
    action = "inspection.failed" if inspection.result == "fail" else "inspection.passed"
    after = {"number": inspection.number, "result": inspection.result, "stage": inspection.stage,
             "sample": inspection.sample_size, "defects": inspection.defects}
    audit.record(action, inspection, actor=user, entity_type="inspection", after=after, note=inspection.note or None)
    if inspection.order_id is not None:  # on the order's timeline too
        order = db.session.get(Order, inspection.order_id)
        audit.record(action, order, actor=user, entity_type="order", after=after, note=inspection.note or None)


def dispose(inspection: Inspection, user, quantity: Decimal, disposition: str, reason: str) -> Inspection:
    """Deal with a failure's rejected quantity, which resolves it: a lot's pieces are scrapped (a
    stock movement and a cost), returned to the supplier (taken out of stock) or used as they are
    (the lot released); a work order's go to rework or scrap (production.services.fail_qc). What
    remains of a lot after scrap or return was sorted out and is released."""
    if inspection.result != "fail":
        raise TransitionError(409, N_("Only a failed inspection has rejected pieces to deal with."))
    if inspection.resolved_at is not None:
        raise TransitionError(409, N_("The rejected pieces of this inspection were already dealt with."))
    reason = (reason or "").strip()
    if not reason:
        raise TransitionError(422, N_("Give a reason for what happens to the rejected pieces."))
    if not isinstance(quantity, Decimal) or not quantity.is_finite() or quantity <= 0:
        raise TransitionError(422, N_("Enter a rejected quantity above zero."))
    if inspection.stage == "incoming":
        _dispose_lot(inspection, user, quantity, disposition, reason)
    else:
        _dispose_work_order(inspection, user, quantity, disposition, reason)
    inspection.rejected_qty, inspection.disposition = quantity, disposition
    inspection.resolution, inspection.resolved_at = reason[:4000], utcnow()
    after = {"number": inspection.number, "rejected": str(quantity), "disposition": disposition}
    audit.record("inspection.resolved", inspection, actor=user, entity_type="inspection", after=after, note=reason)
    if inspection.order_id is not None:
        audit.record("inspection.resolved", db.session.get(Order, inspection.order_id), actor=user,
                     entity_type="order", after=after, note=reason)
    return inspection


def _dispose_lot(inspection: Inspection, user, quantity: Decimal, disposition: str, reason: str) -> None:
    if disposition not in LOT_DISPOSITIONS:
        raise TransitionError(422, N_("Choose scrap, return to the supplier or use as is."))
    lot = db.session.get(Lot, inspection.lot_id)
    if lot is None:
        raise TransitionError(404, N_("This lot does not exist."))
    db.session.refresh(lot)
    if quantity > lot.on_hand:
        raise TransitionError(409, N_("That is more than the lot has: %(available)s."),
                              available=_plain(lot.on_hand))
    doc = ledger.Doc("inspection", inspection.id, inspection.number)
    if disposition in ("scrap", "return"):
        left = quantity
        for balance in sorted((b for b in lot.balances if b.on_hand > 0), key=lambda b: (-b.on_hand, b.id)):
            take = min(left, balance.on_hand)
            if disposition == "scrap":
                ledger.post("scrap", lot, balance.location, take, doc=doc, reason=reason, user=user)
            else:
                ledger.post("adjust", lot, balance.location, -take, doc=doc,
                            reason=gettext("Returned to the supplier: %(reason)s", reason=reason)[:500],
                            user=user)
            left -= take
            if left <= 0:
                break
        db.session.refresh(lot)
        if lot.on_hand > 0:
            _set_lot(lot, "available", user)  # the rest was sorted: the rejected pieces are out
    else:
        _set_lot(lot, "available", user)


def _dispose_work_order(inspection: Inspection, user, quantity: Decimal, disposition: str, reason: str) -> None:
    if disposition not in WORK_ORDER_DISPOSITIONS:
        raise TransitionError(422, N_("Choose rework or scrap for the rejected pieces."))
    work_order = _locked_work_order(inspection.work_order_id)
    if quantity > work_order.good:
        raise TransitionError(409, N_("Reject more than zero and at most the good quantity."))
    if work_order.status == "qc":
        floor.fail_qc(work_order, user, quantity, disposition, reason)
    else:  # found in process: the pieces stop counting as good all the same, the work goes on
        floor.reject_pieces(work_order, user, quantity, disposition, reason)


def _locked_work_order(work_order_id: int) -> WorkOrder:
    """The work order re-read under a row lock (PostgreSQL): the floor's own QC button and an
    inspection's decision at once are served one after the other, never both."""
    return db.session.scalars(db.select(WorkOrder).where(WorkOrder.id == work_order_id).with_for_update()
                              .execution_options(populate_existing=True)).one()


def _plain(value: Decimal) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def holds_for_order(order_id: int) -> list[Inspection]:
    """The failed in-process and final inspections of the order's work orders not resolved yet:
    packing waits for them."""
    return list(db.session.scalars(db.select(Inspection).join(WorkOrder, WorkOrder.id == Inspection.work_order_id)
                                   .where(WorkOrder.order_id == order_id, Inspection.result == "fail",
                                          Inspection.resolved_at.is_(None),
                                          Inspection.stage.in_(WORK_ORDER_STAGES))
                                   .order_by(Inspection.id)))


# --- First articles --------------------------------------------------------------------------------

def first_article_required(work_order: WorkOrder) -> bool:
    """Whether the firm setting asks a first article of this work order: never, always, or "new":
    a product this customer did not have on an earlier order."""
    if work_order.order is None:  # made for stock: no customer approves a first article
        return False
    setting = get_settings().first_article
    if setting == "always":
        return True
    if setting != "new":
        return False
    order = work_order.order
    line = work_order.line
    lines = OrderLine
    same = (lines.product_id == line.product_id) if line.product_id is not None else (lines.model == line.model)
    earlier = db.session.scalar(db.select(db.func.count()).select_from(lines)
                                .join(Order, Order.id == lines.order_id)
                                .where(Order.customer_id == order.customer_id, Order.id != order.id,
                                       Order.created_at <= order.created_at,
                                       Order.status.notin_(("draft", "cancelled")), same))
    return not earlier


def first_article_approved(work_order: WorkOrder) -> bool:
    """Whether the customer approved a first article of this work order's order line."""
    return db.session.scalar(db.select(db.func.count()).select_from(FirstArticle)
                             .join(WorkOrder, WorkOrder.id == FirstArticle.work_order_id)
                             .where(FirstArticle.status == "approved",
                                    WorkOrder.order_line_id == work_order.order_line_id)) > 0


def first_article_blocks(work_order: WorkOrder) -> str | None:
    """The message id saying mass production must wait (a first article is required and not
    approved by the customer), or None."""
    if first_article_required(work_order) and not first_article_approved(work_order):
        return FIRST_ARTICLE_MESSAGE
    return None


def send_first_article(article: FirstArticle, user, days: int = FIRST_ARTICLE_LINK_DAYS) -> links.AccessLink:
    """Send a first article whose inspection passed to the customer: a new link (an earlier one is
    withdrawn), mailed to the customer's contact."""
    if article.status not in ("waiting", "sent"):
        raise TransitionError(409, N_("The customer has already decided on this first article."))
    if article.inspection is None or article.inspection.result not in ("pass", "conditional"):
        raise TransitionError(409, N_("Pass the first article's inspection before sending it to the customer."))
    link = links.issue("first_article", article.id, days=days)
    article.status = "sent"
    order = article.order
    audit.record("first_article.sent", order, actor=user, entity_type="order",
                 after={"first_article": article.id, "inspection": article.inspection.number})
    customer = db.session.get(Customer, order.customer_id)
    contact = (order.requirement.contact_email if getattr(order, "requirement", None) else "") or customer.contact_email
    if contact:
        notify("first_article.sent", [Recipient(email=contact, locale=customer.locale or "zh", name=customer.name)],
               order=order, article=article, link=link)
    return link


class AlreadyDecided(Exception):
    """The customer (or a second tap) answers a first article already decided."""


def answer_first_article(article: FirstArticle, link: links.AccessLink, approved: bool, name: str,
                         comment: str) -> None:
    """The customer's decision through their link: once (a second answer raises AlreadyDecided and
    changes nothing). Staff are told; the order's timeline shows it."""
    if article.status != "sent" or link.used_at is not None:
        raise AlreadyDecided()
    now = utcnow()
    article.status = "approved" if approved else "rejected"
    article.decided_by_name, article.customer_comment = name[:100], comment[:4000]
    article.decided_at = link.used_at = now
    order = article.order
    audit.record("first_article.approved" if approved else "first_article.rejected", order, actor_kind="link",
                 actor_label=name[:200], entity_type="order", note=comment or None,
                 after={"first_article": article.id, "name": name[:100]})
    staff = {u.id: u for u in (order.sales_rep, db.session.get(User, article.created_by_id)) if u}
    notify("first_article.answered", [Recipient.user(u) for u in staff.values()], order=order, article=article)
