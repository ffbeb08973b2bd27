"""'My work': what waits for an action the user's roles may take, oldest first."""
from dataclasses import dataclass
from datetime import datetime

from flask import url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload, selectinload

from ..admin.forms import ROLE_LABELS
from ..extensions import db
from ..permissions import can
from ..orders.models import Order
from ..requirements.models import Requirement


@dataclass
class WorkItem:
    """One thing to do."""

    title: str
    subject: str
    url: str
    since: datetime
    kind: str


def _orders(*statuses):
    return db.session.scalars(
        db.select(Order).where(Order.status.in_(statuses))
        .options(joinedload(Order.customer), selectinload(Order.reviews),
                 selectinload(Order.approvals), selectinload(Order.payments))
        .order_by(Order.updated_at).limit(200)).all()


def _order_subject(order: Order) -> str:
    return f"{order.number or _('Order #%(id)s', id=order.id)} · {order.customer.name}"


def items_for(user) -> list[WorkItem]:
    """Collect the work items for user's roles."""
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
            items.append(WorkItem(titles[r.status], f"{r.customer.name} · {r.product}",
                                  url_for("requirements.detail", req_id=r.id), r.updated_at,
                                  "wait" if r.status == "sent" else "act"))
        for o in _orders("draft", "awaiting_countersign"):
            title = (_("Complete and submit the order") if o.status == "draft"
                     else _("Waiting for the customer's countersignature"))
            items.append(WorkItem(title, _order_subject(o), url_for("orders.detail", order_id=o.id),
                                  o.updated_at, "act" if o.status == "draft" else "wait"))
    review_departments = [d for d in ("production", "finance", "warehouse") if d in roles]
    if review_departments or "manager" in roles:
        for o in _orders("in_review"):
            current = o.current_reviews()
            for d in review_departments:
                if d in o.settings.get("reviews", []) and d not in current:
                    items.append(WorkItem(_("Feasibility sign-off needed (%(dept)s)", dept=ROLE_LABELS[d]),
                                          _order_subject(o), url_for("orders.detail", order_id=o.id),
                                          o.updated_at, "act"))
            if "manager" in roles and any(r.verdict == "concern" and not r.override_reason
                                          for r in current.values()):
                items.append(WorkItem(_("A concern blocks this order"), _order_subject(o),
                                      url_for("orders.detail", order_id=o.id), o.updated_at, "act"))
    approver_roles = [r for r in ("manager", "finance") if r in roles]
    if approver_roles:
        for o in _orders("pending_approval"):
            given = o.current_approvals()
            for role in approver_roles:
                if role in o.required_approvals() and role not in given:
                    items.append(WorkItem(_("Approval needed (%(role)s)", role=ROLE_LABELS[role]),
                                          _order_subject(o), url_for("orders.detail", order_id=o.id),
                                          o.updated_at, "act"))
    if "finance" in roles or "operations" in roles or "production" in roles:
        for o in _orders("effective"):
            if not o.prepayment_satisfied and "finance" in roles:
                items.append(WorkItem(_("Record the prepayment"), _order_subject(o),
                                      url_for("orders.detail", order_id=o.id), o.updated_at, "act"))
            if o.prepayment_satisfied and roles & {"operations", "production"}:
                items.append(WorkItem(_("Release to production"), _order_subject(o),
                                      url_for("orders.detail", order_id=o.id), o.updated_at, "act"))
    if roles & {"worker", "production", "qc"}:
        from ..production.models import Anomaly, WorkOrder
        work_orders = db.session.scalars(
            db.select(WorkOrder).where(WorkOrder.status != "done")
            .options(joinedload(WorkOrder.line)).order_by(WorkOrder.created_at).limit(200)).all()
        for w in work_orders:
            subject = f"{w.number} · {w.line.model}"
            url = url_for("production.floor", token=w.token)
            if w.owner_id == user.id and w.status in ("planned", "materials_ready", "in_progress"):
                items.append(WorkItem(_("Your work order"), subject, url, w.created_at, "act"))
            if "qc" in roles and w.status == "qc":
                items.append(WorkItem(_("QC inspection waiting"), subject, url, w.actual_qc or w.created_at, "act"))
        if "production" in roles:
            for a in db.session.scalars(db.select(Anomaly).where(Anomaly.resolved_at.is_(None))
                                        .options(joinedload(Anomaly.work_order)).order_by(Anomaly.reported_at)):
                items.append(WorkItem(_("Anomaly to resolve"), f"{a.work_order.number} · {a.note[:60]}",
                                      url_for("production.floor", token=a.work_order.token), a.reported_at, "act"))
    if roles & {"warehouse", "operations"}:
        from ..shipping.models import Shipment
        for o in _orders("ready_to_ship"):
            items.append(WorkItem(_("Ready to ship"), _order_subject(o),
                                  url_for("shipping.order_shipments", order_id=o.id), o.updated_at, "act"))
        for s in db.session.scalars(db.select(Shipment).where(Shipment.status == "packing")
                                    .order_by(Shipment.created_at).limit(200)):
            items.append(WorkItem(_("Pack and check the packing list"), s.number,
                                  url_for("shipping.detail", shipment_id=s.id), s.created_at, "act"))
    if roles & {"aftersales", "sales", "manager"}:
        from ..aftersales.models import FollowUp, Ticket
        from ..shipping.models import ReturnCase
        from ..shipping.services import return_reason
        for case in db.session.scalars(db.select(ReturnCase).where(ReturnCase.status == "open")
                                       .order_by(ReturnCase.due_at).limit(200)):
            items.append(WorkItem(_("Start the return within 24 h (by %(when)s)", when=format_datetime(case.due_at, "short")),
                                  return_reason(case)[:80], url_for("shipping.detail", shipment_id=case.shipment_id),
                                  case.opened_at, "act"))
        for ticket in db.session.scalars(db.select(Ticket).where(Ticket.status == "open")
                                         .order_by(Ticket.first_response_due_at).limit(200)):
            items.append(WorkItem(_("Answer the ticket by %(when)s", when=format_datetime(ticket.first_response_due_at, "short")),
                                  ticket.subject, url_for("aftersales.ticket", ticket_id=ticket.id),
                                  ticket.opened_at, "act"))
        for follow in db.session.scalars(db.select(FollowUp).where(FollowUp.status == "open")
                                         .order_by(FollowUp.due_at).limit(200)):
            if "sales" in roles and follow.assignee_id != user.id and not roles & {"aftersales", "manager"}:
                continue
            items.append(WorkItem(_("Follow-up call due %(when)s", when=format_datetime(follow.due_at, "short")),
                                  _("Order #%(id)s", id=follow.order_id),
                                  url_for("aftersales.order", order_id=follow.order_id), follow.created_at, "act"))
    if roles & {"finance", "manager"}:
        for o in _orders("delivered"):
            items.append(WorkItem(_("Cost and close the order"), _order_subject(o),
                                  url_for("costing.sheet", order_id=o.id), o.updated_at, "act"))
    if can(user, "sync.conflicts"):
        from ..sync.models import SyncConflict
        first, count = db.session.execute(db.select(db.func.min(SyncConflict.created_at), db.func.count())
                                          .where(SyncConflict.resolved_at.is_(None))).one()
        if count:
            items.append(WorkItem(_("Offline actions that could not be applied"),
                                  _("%(n)s to settle", n=count), url_for("sync.conflicts"), first, "act"))
    items.sort(key=lambda item: item.since)
    return items
