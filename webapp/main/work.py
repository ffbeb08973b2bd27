"""'My work': what waits for an action the user's roles may take, line-stopping trouble first,
then oldest first. Each item says what is due, on which order (its number) for which customer,
and by when."""
from dataclasses import dataclass
from datetime import date, datetime

from flask import url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy.orm import joinedload, selectinload

from .. import clocks
from ..admin.forms import ROLE_LABELS
from ..extensions import db
from ..i18n import firm_today
from ..permissions import can
from ..wallclock import utcnow
from ..orders.models import Order
from ..requirements.models import Requirement

# How an item's date reads: a clock that runs out (a deadline), or the date the work is planned for
# or the order must be delivered by.
DUE_DEADLINE, DUE_PLANNED, DUE_DELIVERY, DUE_ETA = "deadline", "planned", "delivery", "eta"


@dataclass
class WorkItem:
    """One thing to do."""

    title: str
    subject: str
    url: str
    since: datetime
    kind: str
    customer: str = ""
    due: date | datetime | None = None
    due_kind: str = ""
    blocking: bool = False
    detail: str = ""

    @property
    def overdue(self) -> bool:
        """The deadline or date has passed (dates count from the firm's today)."""
        if self.due is None:
            return False
        if isinstance(self.due, datetime):
            return self.due < utcnow()
        return self.due < firm_today()


def _orders(*statuses):
    return db.session.scalars(
        db.select(Order).where(Order.status.in_(statuses))
        .options(joinedload(Order.customer), selectinload(Order.reviews),
                 selectinload(Order.approvals), selectinload(Order.payments), selectinload(Order.lines))
        .order_by(Order.updated_at).limit(200)).all()


def order_ref(order: Order) -> str:
    """How a person finds the order: its number; before approval gives it one, the customer's PO
    number or the first line (never the database id, which means nothing to anyone)."""
    if order.number:
        return order.number
    if order.customer_po:
        return _("PO %(po)s", po=order.customer_po)
    if order.lines:
        model, more = order.lines[0].model, len(order.lines) - 1
        if not more:
            return _("%(model)s, not numbered yet", model=model)
        # one message, so a language can put the words in its own order
        return ngettext("%(model)s and %(num)d more line, not numbered yet",
                        "%(model)s and %(num)d more lines, not numbered yet", more, model=model)
    return _("Order not numbered yet")


def _order_item(title: str, order: Order, url: str, since: datetime, kind: str = "act", **extra) -> WorkItem:
    """An item about an order: its number, its customer and its delivery date unless told otherwise."""
    if "due" not in extra:  # the date the customer now expects: a new ETA told to them, else the agreed one
        extra["due"] = order.revised_date or order.delivery_date
        extra["due_kind"] = DUE_ETA if order.revised_date else DUE_DELIVERY
    return WorkItem(title, order_ref(order), url, since, kind, customer=order.customer.name, **extra)


def _numbered_under(number: str, order: Order) -> str:
    """A work order's or shipment's number, with its order's unless the number already carries it."""
    if order.number and number.startswith(order.number):
        return number
    return f"{number} · {order_ref(order)}"


def _work_order_ref(work_order) -> str:
    """How the floor names a work order: its number, which carries the order's."""
    return _numbered_under(work_order.number, work_order.order)


def _next_milestone(work_order) -> date | None:
    """The planned date of the work order's next milestone not yet reached."""
    if not work_order.actual_materials and work_order.planned_materials:
        return work_order.planned_materials
    if not work_order.actual_start and work_order.planned_start:
        return work_order.planned_start
    if not work_order.actual_qc:
        return work_order.planned_qc
    return None


def items_for(user) -> list[WorkItem]:
    """Collect the work items for user's roles: line-stopping anomalies first, then oldest first."""
    roles = user.roles
    items: list[WorkItem] = []
    if "sales" in roles:
        has_order = (db.select(Order.id).where(Order.requirement_id == Requirement.id,
                                               Order.status != "cancelled").exists())
        reqs = db.session.scalars(
            db.select(Requirement).where(
                Requirement.status.in_(("draft", "clarification", "sent")),
            ).options(joinedload(Requirement.customer)).order_by(Requirement.updated_at).limit(200)).all()
        reqs += db.session.scalars(
            db.select(Requirement).where(Requirement.status == "confirmed", ~has_order)
            .options(joinedload(Requirement.customer)).order_by(Requirement.updated_at).limit(200)).all()
        titles = {"draft": _("Complete and send the requirement"),
                  "clarification": _("Customer asked for clarification"),
                  "sent": _("Waiting for the customer to confirm"),
                  "confirmed": _("Prepare the order")}
        for r in reqs:
            items.append(WorkItem(titles[r.status], r.product, url_for("requirements.detail", req_id=r.id),
                                  r.updated_at, "wait" if r.status == "sent" else "act",
                                  customer=r.customer.name, due=r.expected_date, due_kind=DUE_DELIVERY))
        for o in _orders("draft", "awaiting_countersign"):
            title = (_("Complete and submit the order") if o.status == "draft"
                     else _("Waiting for the customer's countersignature"))
            items.append(_order_item(title, o, url_for("orders.detail", order_id=o.id), o.updated_at,
                                     "act" if o.status == "draft" else "wait"))
    review_departments = [d for d in ("production", "finance", "warehouse") if d in roles]
    if review_departments or "manager" in roles:
        for o in _orders("in_review"):
            current = o.current_reviews()
            for d in review_departments:
                if d in o.settings.get("reviews", []) and d not in current:
                    items.append(_order_item(_("Feasibility sign-off needed (%(dept)s)", dept=ROLE_LABELS[d]),
                                             o, url_for("orders.detail", order_id=o.id), o.updated_at))
            if "manager" in roles and any(r.verdict == "concern" and not r.override_reason
                                          for r in current.values()):
                items.append(_order_item(_("A concern blocks this order"), o,
                                         url_for("orders.detail", order_id=o.id), o.updated_at))
    approver_roles = [r for r in ("manager", "finance") if r in roles]
    if approver_roles:
        for o in _orders("pending_approval"):
            given = o.current_approvals()
            for role in approver_roles:
                if role in o.required_approvals() and role not in given:
                    items.append(_order_item(_("Approval needed (%(role)s)", role=ROLE_LABELS[role]), o,
                                             url_for("orders.detail", order_id=o.id), o.updated_at))
    if "finance" in roles or "operations" in roles or "production" in roles:
        for o in _orders("effective"):
            if not o.prepayment_satisfied and "finance" in roles:
                items.append(_order_item(_("Record the prepayment"), o,
                                         url_for("orders.detail", order_id=o.id), o.updated_at))
            if o.prepayment_satisfied and roles & {"operations", "production"}:
                items.append(_order_item(_("Release to production"), o,
                                         url_for("orders.detail", order_id=o.id), o.updated_at))
    if roles & {"worker", "production", "qc"}:
        from ..production.models import Anomaly, WorkOrder
        work_orders = db.session.scalars(
            db.select(WorkOrder).where(WorkOrder.status != "done")
            .options(joinedload(WorkOrder.line), joinedload(WorkOrder.order).joinedload(Order.customer))
            .order_by(WorkOrder.created_at).limit(200)).all()
        for w in work_orders:
            subject = _work_order_ref(w)
            url = url_for("production.floor", token=w.token)
            common = {"customer": w.order.customer.name, "detail": w.line.model}
            if w.owner_id == user.id and w.status in ("planned", "materials_ready", "in_progress", "blocked"):
                items.append(WorkItem(_("Your work order"), subject, url, w.created_at, "act",
                                      due=_next_milestone(w), due_kind=DUE_PLANNED,
                                      blocking=w.status == "blocked", **common))
            if "qc" in roles and w.status == "qc":
                items.append(WorkItem(_("QC inspection waiting"), subject, url, w.actual_qc or w.created_at, "act",
                                      due=w.planned_qc, due_kind=DUE_PLANNED, **common))
        if "production" in roles:
            anomalies = db.session.scalars(
                db.select(Anomaly).where(Anomaly.resolved_at.is_(None))
                .options(joinedload(Anomaly.work_order).joinedload(WorkOrder.order).joinedload(Order.customer))
                .order_by(Anomaly.reported_at).limit(200))
            for a in anomalies:
                w = a.work_order
                blocking = a.severity == "blocking"
                items.append(WorkItem(
                    _("Anomaly to resolve"), _work_order_ref(w), url_for("production.floor", token=w.token),
                    a.reported_at, "act", customer=w.order.customer.name, blocking=blocking, detail=a.note[:80],
                    due=a.new_eta or w.order.revised_date or w.order.delivery_date,
                    due_kind=DUE_ETA if a.new_eta or w.order.revised_date else DUE_DELIVERY))
    if roles & {"warehouse", "operations"}:
        from ..shipping.models import Shipment
        for o in _orders("ready_to_ship"):
            items.append(_order_item(_("Ready to ship"), o, url_for("shipping.order_shipments", order_id=o.id),
                                     o.updated_at))
        for s in db.session.scalars(db.select(Shipment).where(Shipment.status == "packing")
                                    .options(joinedload(Shipment.order).joinedload(Order.customer))
                                    .order_by(Shipment.created_at).limit(200)):
            items.append(WorkItem(_("Pack and check the packing list"), _numbered_under(s.number, s.order),
                                  url_for("shipping.detail", shipment_id=s.id), s.created_at, "act",
                                  customer=s.order.customer.name, due=s.eta or s.order.delivery_date,
                                  due_kind=DUE_ETA if s.eta else DUE_DELIVERY))
    if roles & {"aftersales", "sales", "manager"}:
        from ..aftersales.models import FollowUp, Ticket
        from ..shipping.models import ReturnCase
        from ..shipping.services import return_reason
        cases = db.session.execute(
            db.select(ReturnCase, Order).join(Order, Order.id == ReturnCase.order_id)
            .where(ReturnCase.status == "open").options(joinedload(Order.customer))
            .order_by(ReturnCase.due_at).limit(200)).all()
        for case, order in cases:
            items.append(_order_item(_("Start the return within %(rule)s", rule=clocks.RETURN_START.rule()), order,
                                     url_for("shipping.detail", shipment_id=case.shipment_id), case.opened_at,
                                     due=case.due_at, due_kind=DUE_DEADLINE, detail=return_reason(case)[:80]))
        for ticket in db.session.scalars(db.select(Ticket).where(Ticket.status == "open")
                                         .options(joinedload(Ticket.order).joinedload(Order.customer))
                                         .order_by(Ticket.first_response_due_at).limit(200)):
            items.append(_order_item(_("Answer the ticket"), ticket.order,
                                     url_for("aftersales.ticket", ticket_id=ticket.id), ticket.opened_at,
                                     due=ticket.first_response_due_at, due_kind=DUE_DEADLINE,
                                     detail=ticket.subject))
        for follow in db.session.scalars(db.select(FollowUp).where(FollowUp.status == "open")
                                         .options(joinedload(FollowUp.order).joinedload(Order.customer))
                                         .order_by(FollowUp.due_at).limit(200)):
            if "sales" in roles and follow.assignee_id != user.id and not roles & {"aftersales", "manager"}:
                continue
            items.append(_order_item(_("Follow-up call"), follow.order,
                                     url_for("aftersales.order", order_id=follow.order_id), follow.created_at,
                                     due=follow.due_at, due_kind=DUE_DEADLINE))
    if roles & {"finance", "manager"}:
        for o in _orders("delivered"):
            items.append(_order_item(_("Cost and close the order"), o, url_for("costing.sheet", order_id=o.id),
                                     o.updated_at, due=None, due_kind=""))
    if can(user, "sync.conflicts"):
        from ..sync.models import SyncConflict
        first, count = db.session.execute(db.select(db.func.min(SyncConflict.created_at), db.func.count())
                                          .where(SyncConflict.resolved_at.is_(None))).one()
        if count:
            items.append(WorkItem(_("Offline actions that could not be applied"),
                                  _("%(n)s to settle", n=count), url_for("sync.conflicts"), first, "act"))
    items.sort(key=lambda item: (not item.blocking, item.since))
    return items
